"""What is done with a queue: labelling, progress, agreement, the preference verdict,
export, and the labels put to work (judge calibration, new suite cases)."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from ._scores import PREFERENCE, Score, from_spec
from .agreement import AgreementFigure, Preference, agreement

if TYPE_CHECKING:
    from ..store import Store
    from ..suite_cases import ToCases

COMMENT_MAX = 4000
CORRECTION_MAX = 20_000
REVIEWER_MAX = 200


def queue(store: Store, ref: str) -> dict[str, Any]:
    """A queue by name (or `#id`), with its score; a missing one is a UserError."""
    text = str(ref).strip()
    found = store.reviews.queue(int(text[1:])) if text[1:].isdigit() and text[0] == "#" else None
    found = found or store.reviews.queue(text)
    if found is None:
        raise UserError(
            f"no review queue '{ref}'", field="queue", hint="see: prompteur review list"
        )
    return found


def score_of(q: dict[str, Any]) -> Score:
    return from_spec(q["spec"])


def label(
    store: Store,
    q: dict[str, Any],
    position: int,
    reviewer: str,
    *,
    value: Any = None,
    comment: str | None = None,
    correction: str | None = None,
    skipped: bool = False,
) -> dict[str, Any]:
    """Store one reviewer's label; the value is checked against the queue's score (a skip
    needs none). Comments and corrections are bounded."""
    if not reviewer or len(reviewer) > REVIEWER_MAX:
        raise UserError("a label needs a reviewer name (1 to 200 characters)", field="reviewer")
    if comment is not None and len(comment) > COMMENT_MAX:
        raise UserError(f"a comment holds at most {COMMENT_MAX} characters", field="comment")
    if correction is not None and len(correction) > CORRECTION_MAX:
        raise UserError(
            f"a correction holds at most {CORRECTION_MAX} characters", field="correction"
        )
    if skipped:
        value = None
    elif value is None:
        raise UserError("a label needs a value (or skip the item)", field="value")
    else:
        value = score_of(q).parse(value)
    return store.reviews.label(
        q["id"],
        position,
        reviewer,
        value=value,
        comment=comment or None,
        correction=correction or None,
        skipped=skipped,
    )


def progress(store: Store, q: dict[str, Any]) -> dict[str, Any]:
    p = store.reviews.progress(q["id"])
    p["name"] = q["name"]
    p["reviewers_wanted"] = q["reviewers"]
    return p


def _by_item(rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = defaultdict(dict)
    for r in rows:
        if not r["skipped"] and r["value"] is not None:
            out[r["position"]][r["reviewer"]] = r["value"]
    return out


def agreement_of(store: Store, q: dict[str, Any], *, seed: int = 0) -> AgreementFigure:
    """Agreement between the queue's reviewers (kappa for two, alpha for more)."""
    score = score_of(q)
    labels = _by_item(store.reviews.votes(q["id"]))
    return agreement(labels, "interval" if score.level == "interval" else "nominal", seed=seed)


def disagreements(store: Store, q: dict[str, Any]) -> list[dict[str, Any]]:
    """The items whose reviewers gave different labels, with each reviewer's label."""
    rows = store.reviews.votes(q["id"])
    labels = _by_item(rows)
    first = {r["position"]: r for r in rows}
    out = []
    for position, by in sorted(labels.items()):
        if len(set(map(json.dumps, by.values()))) > 1:
            item = first[position]
            out.append(
                {
                    "position": position,
                    "case_id": item["case_id"],
                    "output": item["output"],
                    "labels": dict(sorted(by.items())),
                }
            )
    return out


def revealed(row: dict[str, Any]) -> str | None:
    """A preference label in the variants' terms: the screen's a/b mapped through the order
    the item was shown in ("a" = variant a)."""
    value = row["value"]
    if value in ("a", "b"):
        return row["sides"][0 if value == "a" else 1]
    return value


def preference_of(store: Store, q: dict[str, Any]) -> Preference:
    """Every vote of a preference queue, revealed: variant a's wins, b's wins, ties."""
    if q["kind"] != "preference":
        raise UserError(f"'{q['name']}' is not a preference queue", field="queue")
    votes = Counter(
        revealed(r)
        for r in store.reviews.votes(q["id"])
        if not r["skipped"] and r["value"] is not None
    )
    names = q["spec"]["variants"]
    return Preference(names["a"], names["b"], votes["a"], votes["b"], votes["tie"])


EXPORT_FIELDS = (
    "queue",
    "position",
    "case_id",
    "reviewer",
    "value",
    "skipped",
    "comment",
    "correction",
    "updated_at",
    "prompt",
    "version",
    "model",
    "inputs",
    "expected",
    "output",
    "shown",
)


def export_rows(store: Store, q: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per label; a preference label says which variant was shown first (`shown`)
    and its value is revealed (a = variant a)."""
    out = []
    for r in store.reviews.labels(q["id"]):
        row = {k: r.get(k) for k in EXPORT_FIELDS if k in r}
        row["queue"] = q["name"]
        row["updated_at"] = r["updated_at"].isoformat()
        if q["kind"] == "preference":
            row["value"] = revealed(r) if not r["skipped"] else None
            row["shown"] = r["sides"]
            row["output"] = None
        out.append(row)
    return out


def export_text(store: Store, q: dict[str, Any], fmt: str) -> str:
    rows = export_rows(store, q)
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows)
    if fmt != "csv":
        raise UserError(f"unknown format '{fmt}'", field="format", hint="jsonl or csv")
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=EXPORT_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for r in rows:
        writer.writerow(
            {
                k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v
                for k, v in r.items()
            }
        )
    return buf.getvalue()


def human_verdicts(store: Store, q: dict[str, Any]) -> list[tuple[int, str, bool]]:
    """(position, output, verdict) per item of a pass/fail queue, the majority of its
    reviewers (items without one, or tied, are left out): what a judge is calibrated on."""
    score = score_of(q)
    if score.kind != "pass_fail":
        raise UserError(
            f"queue '{q['name']}' is scored '{score.name}' ({score.kind}); calibrating a judge "
            "needs pass/fail labels",
            field="--from-queue",
        )
    rows = store.reviews.votes(q["id"])
    outputs = {r["position"]: r["output"] for r in rows}
    out = []
    for position, by in sorted(_by_item(rows).items()):
        votes = Counter(bool(v) for v in by.values())
        if votes[True] != votes[False] and outputs.get(position):
            out.append((position, outputs[position], votes[True] > votes[False]))
    return out


TO_CASES = ("failures", "corrections")
NEGATIVE_BELOW = 0.5  # an end user's feedback score under it is negative


def _negative_feedback(item: dict[str, Any], below: float) -> bool:
    feedback = (item.get("verdict") or {}).get("feedback") or {}
    score = feedback.get("score")
    return isinstance(score, int | float) and score < below


def _all_items(store: Store, queue_id: int) -> Iterator[dict[str, Any]]:
    offset = 0
    while True:
        page = store.reviews.items(queue_id, offset=offset, limit=500)
        yield from page
        if len(page) < 500:
            return
        offset += len(page)


def cases_from_queue(
    store: Store,
    q: dict[str, Any],
    *,
    only: str = "failures",
    positions: Collection[int] | None = None,
) -> list[dict[str, Any]]:
    """Suite cases from a queue's items: `failures` (a reviewer failed it or wrote a
    correction, or an end user's feedback on it was negative and no reviewer passed it) or
    `corrections` (only items with a correction); `positions` keeps these items only. A
    correction becomes the case's `expected`; otherwise the case's own expected value is
    kept."""
    if only not in TO_CASES:
        raise UserError(f"unknown choice '{only}'", field="only", hint="failures or corrections")
    if score_of(q).kind == PREFERENCE:
        raise UserError("a preference queue has no failures to turn into cases", field="queue")
    chosen: dict[int, dict[str, Any]] = {}

    def case_of(row: dict[str, Any], why: str | None = None) -> dict[str, Any]:
        case = chosen.get(row["position"])
        if case is None:
            case = {"id": f"review-{q['id']}-{row['position']}", "inputs": row["inputs"]}
            if row["expected"] is not None:
                case["expected"] = row["expected"]
            case["tags"] = ["from-review"]
            note = f"from review queue {q['name']} item {row['position']}"
            if row["case_id"]:
                note += f" (case {row['case_id']})"
            case["description"] = note + f"; bad output: {(row['output'] or '')[:200]!r}"
            chosen[row["position"]] = case
        if why:
            case["description"] += f"; {why[:200]}"
        return case

    passed: set[int] = set()
    for r in store.reviews.labels(q["id"]):
        if r["skipped"] or (positions is not None and r["position"] not in positions):
            continue
        passed |= {r["position"]} if r["value"] is True else set()
        failed = r["value"] is False
        if not (r["correction"] or (only == "failures" and failed)):
            continue
        case = case_of(r, f"{r['reviewer']}: {r['comment']}" if r["comment"] else None)
        if r["correction"]:
            case["expected"] = r["correction"]
    if only == "failures" and q["source"] == "traces":
        below = float((q["spec"] or {}).get("below", NEGATIVE_BELOW))
        for item in _all_items(store, q["id"]):
            at = item["position"]
            if positions is not None and at not in positions:
                continue
            if at not in chosen and at not in passed and _negative_feedback(item, below):
                comment = item["verdict"]["feedback"].get("comment")
                case_of(item, "negative user feedback" + (f": {comment}" if comment else ""))
    return [chosen[p] for p in sorted(chosen)]


def to_cases(
    store: Store,
    q: dict[str, Any],
    suite: Path,
    *,
    only: str = "failures",
    positions: Collection[int] | None = None,
) -> ToCases:
    """A queue's reviewed failures (or corrections only) appended to a suite file as cases,
    those already in it left out: what `prompteur review to-cases` and the queue page's
    button do (the page names the suite among the project's, never by a path)."""
    from ..suite_cases import append_cases

    return append_cases(suite, cases_from_queue(store, q, only=only, positions=positions))


def summary(store: Store, q: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    """What a queue's page, route and command show: the queue, its score, progress, the
    agreement between its reviewers, and for a preference queue its verdict."""
    keys = ("id", "name", "kind", "score", "source", "ref", "selection", "blind", "reviewers")
    out = {k: q[k] for k in keys}
    out["created_at"] = q["created_at"]
    out["created_by"] = q["created_by"]
    out["score_definition"] = score_of(q).to_dict()
    out["progress"] = progress(store, q)
    figure = agreement_of(store, q)
    out["agreement"] = {**figure.to_dict(), "words": figure.words(lang)}
    if q["kind"] == "preference":
        out["preference"] = _preference_shown(preference_of(store, q), lang)
    return out


def _preference_shown(pref: Preference, lang: str) -> dict[str, Any]:
    return {**pref.to_dict(), "words": pref.words(lang)}


def run_preferences(store: Store, run_id: str, lang: str = "en") -> list[dict[str, Any]]:
    """The blind A/B verdicts of the preference queues made from this run (either variant),
    oldest first: each queue's name, its votes and its sentence in `lang` — what a run's
    page, its HTML report and `prompteur show` print beside the automatic comparison."""
    return [
        {"queue": q["name"], **_preference_shown(preference_of(store, q), lang)}
        for q in store.reviews.preference_queues(run_id)
    ]
