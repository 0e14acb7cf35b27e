"""Judges you can trust: `prompteur judge calibrate` grades outputs humans already labelled,
with the same judge and rubric a `rubric` check (or the ethics probe) uses, and measures how
well the two agree. The result is stored; every report of a run that used that judge shows it.

Labels are a CSV file with a header: `output` (the text judged) and `label` (the human
verdict: pass/fail, yes/no, 1/0, true/false, oui/non), optionally `id` and `input`.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from .agreement import Agreement, agreement, best_threshold, ranking_auc
from .storage import plain

if TYPE_CHECKING:
    from ..models import Model
    from ..store import Store

PASS_WORDS = {"pass", "passed", "1", "yes", "y", "true", "oui", "ok", "good", "p"}
FAIL_WORDS = {"fail", "failed", "0", "no", "n", "false", "non", "ko", "bad", "f"}
MIN_LABELS = 30  # fewer and the kappa interval is too wide to say much


@dataclass(frozen=True)
class Label:
    line: int
    output: str
    human: bool
    id: str = ""


def read_labels(path: str | Path) -> list[Label]:
    """The labelled outputs; a bad row names its line and column."""
    path = Path(path)
    try:
        fh = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise UserError("labels file not found", file=path, field="--labels") from None
    rows = []
    with fh:
        try:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            for column in ("output", "label"):
                if column not in header:
                    raise UserError(
                        f"missing column '{column}'",
                        file=path,
                        line=1,
                        field=column,
                        hint="the header needs output,label (and may have id, input)",
                    )
            for row in reader:
                line = reader.line_num
                if None in row:
                    raise UserError("more cells than header columns", file=path, line=line)
                word = (row.get("label") or "").strip().lower()
                if word in PASS_WORDS:
                    human = True
                elif word in FAIL_WORDS:
                    human = False
                else:
                    raise UserError(
                        f"{row.get('label')!r} is not a label",
                        file=path,
                        line=line,
                        field="label",
                        hint="use pass/fail, yes/no, 1/0, true/false or oui/non",
                    )
                output = row.get("output")
                if output is None or not output.strip():
                    raise UserError("empty output", file=path, line=line, field="output")
                rows.append(Label(line, output, human, (row.get("id") or "").strip()))
        except UnicodeDecodeError:
            raise UserError("not valid UTF-8 text", file=path) from None
        except csv.Error as exc:
            raise UserError(f"malformed CSV: {exc}", file=path) from None
    if not rows:
        raise UserError("no labelled output", file=path, hint="one row per output, under a header")
    return rows


def rubric_text(rubric: str) -> str:
    """The rubric as written, or the contents of the file it names."""
    path = Path(rubric)
    if len(rubric) < 300 and "\n" not in rubric and path.is_file():
        return path.read_text(encoding="utf-8").strip()
    if not rubric.strip():
        raise UserError("the rubric is empty", field="--rubric")
    return rubric.strip()


def rubric_hash(rubric: str) -> str:
    return hashlib.sha256(" ".join(rubric.split()).encode()).hexdigest()


@dataclass
class Calibration:
    judge: str
    rubric: str
    labels: str
    threshold: float
    agreement: Agreement
    items: list[dict[str, Any]] = field(default_factory=list)
    unreadable: int = 0
    failed_calls: int = 0

    @property
    def disagreements(self) -> list[dict[str, Any]]:
        return [i for i in self.items if i.get("judge_pass") is not None and i["agree"] is False]

    @property
    def scores(self) -> list[tuple[bool, float]]:
        return [(i["human_pass"], i["judge_score"]) for i in self.items if "judge_score" in i]

    def to_dict(self) -> dict[str, Any]:
        best = best_threshold(self.scores)
        return {
            "auc": ranking_auc(self.scores),
            "best_threshold": {"threshold": best[0], "kappa": best[1]} if best else None,
            "judge": self.judge,
            "rubric": self.rubric,
            "labels": self.labels,
            "threshold": self.threshold,
            "agreement": self.agreement.to_dict(),
            "words": self.agreement.words(),
            "unreadable": self.unreadable,
            "failed_calls": self.failed_calls,
            "items": self.items,
        }


async def calibrate(
    judge: Model,
    judge_id: str,
    rubric: str,
    labels: list[Label],
    *,
    labels_name: str = "",
    threshold: float = 0.5,
    concurrency: int = 8,
) -> Calibration:
    """Grade every labelled output with the judge, as the `rubric` check does (an answer the
    judge's reply cannot be read from counts as a fail, as it does in a check)."""
    from ..checks._judge import UnparseableVerdict, grade

    gate = asyncio.Semaphore(concurrency)
    unreadable = failed = 0

    async def one(label: Label) -> dict[str, Any]:
        nonlocal unreadable, failed
        item: dict[str, Any] = {"line": label.line, "id": label.id, "output": label.output}
        item["human_pass"] = label.human
        async with gate:
            try:
                v = await grade(judge, rubric, label.output)
                item.update(judge_score=v.score, reason=v.reason)
            except UnparseableVerdict as exc:
                unreadable += 1
                item.update(judge_score=0.0, reason=str(exc))
            except Exception as exc:  # a failed call is left out, and counted
                failed += 1
                item.update(judge_pass=None, error=f"{type(exc).__name__}: {exc}", agree=None)
                return item
        item["judge_pass"] = item["judge_score"] >= threshold
        item["agree"] = item["judge_pass"] == label.human
        return item

    items = list(await asyncio.gather(*(one(x) for x in labels)))
    pairs = [(i["human_pass"], i["judge_pass"]) for i in items if i.get("judge_pass") is not None]
    if not pairs:
        first = next((i["error"] for i in items if i.get("error")), "no verdict")
        raise UserError(f"the judge gave no verdict: {first}", field="--judge")
    return Calibration(
        judge_id,
        rubric,
        labels_name,
        threshold,
        agreement(pairs),
        items,
        unreadable,
        failed,
    )


# ---- the store -----------------------------------------------------------------------------


def save(store: Store, cal: Calibration) -> int:
    a = cal.agreement
    return store.probes.save_calibration(
        judge=cal.judge,
        rubric=cal.rubric,
        rubric_hash=rubric_hash(cal.rubric),
        labels=cal.labels[:1000],
        n=a.n,
        accuracy=a.accuracy.estimate,
        kappa=_finite(a.kappa.estimate),
        kappa_low=_finite(a.kappa.low),
        kappa_high=_finite(a.kappa.high),
        metrics=plain(json.loads(json.dumps(cal.to_dict(), default=str))),
    )


def _finite(x: float) -> float | None:
    return None if x != x else x  # NaN is not portable across databases


def calibrations(store: Store, judge: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Stored calibrations, newest first."""
    return [
        {
            "id": r["id"],
            "judge": r["judge"],
            "rubric": r["rubric"],
            "rubric_hash": r["rubric_hash"],
            "labels": r["labels"],
            "n": r["n"],
            "accuracy": r["accuracy"],
            "kappa": r["kappa"],
            "kappa_low": r["kappa_low"],
            "kappa_high": r["kappa_high"],
            "words": r["metrics"].get("words", ""),
            "low": r["metrics"].get("agreement", {}).get("low", True),
            "created_at": r["created_at"].isoformat(),
        }
        for r in store.probes.calibrations(judge, limit)
    ]


def note_for(
    store: Store, judge: str, rubric: str | None, *, how: str | None = None
) -> dict[str, Any]:
    """What is known of a judge's agreement with people on a rubric, in words for reports.
    `how` is the option that names the rubric to `judge calibrate` (default: --rubric TEXT)."""
    from ..checks._judge import is_base_model

    rows = calibrations(store, judge)
    same = [r for r in rows if rubric is not None and r["rubric_hash"] == rubric_hash(rubric)]
    shown = f" · rubric {_short(rubric)!r}" if rubric and how is None else ""
    if same:
        r = same[0]
        text = f"judge {judge}{shown}: {r['words']} (calibrated {r['created_at'][:10]})"
        return {"judge": judge, "rubric": rubric, "calibrated": True, "low": r["low"], "text": text}
    how = how or (
        "--rubric RUBRIC" if rubric is None else f"--rubric {json.dumps(_short(rubric, 60))}"
    )
    hint = f"prompteur judge calibrate --judge {judge} {how} --labels LABELS.csv"
    if rows:
        text = (
            f"judge {judge}{shown}: calibrated only on another rubric "
            f"({_short(rows[0]['rubric'], 60)!r}: {rows[0]['words']}); calibrate it on this "
            f"one: {hint}"
        )
    else:
        text = f"judge {judge}{shown}: not calibrated against human labels ({hint})"
    if is_base_model(judge):
        text += "; it is the embedded 270M base model, whose verdicts are close to chance"
    return {"judge": judge, "rubric": rubric, "calibrated": False, "low": True, "text": text}


def _short(text: str | None, limit: int = 80) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
