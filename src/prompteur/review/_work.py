"""What is done with a queue: labelling, progress, agreement, the preference verdict,
export, and the labels put to work (judge calibration, new suite cases)."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from ._scores import PREFERENCE, Score, from_spec
from .agreement import AgreementFigure, Preference, agreement

if TYPE_CHECKING:
    from ..store import Store

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


def cases_from_queue(
    store: Store, q: dict[str, Any], *, only: str = "failures"
) -> list[dict[str, Any]]:
    """Suite cases from a queue's reviewed items: `failures` (a reviewer failed it or wrote
    a correction) or `corrections` (only items with a correction). A correction becomes the
    case's `expected`; otherwise the case's own expected value is kept."""
    if score_of(q).kind == PREFERENCE:
        raise UserError("a preference queue has no failures to turn into cases", field="queue")
    chosen: dict[int, dict[str, Any]] = {}
    for r in store.reviews.labels(q["id"]):
        if r["skipped"]:
            continue
        failed = r["value"] is False
        if not (r["correction"] or (only == "failures" and failed)):
            continue
        case = chosen.get(r["position"])
        if case is None:
            case = {"id": f"review-{q['id']}-{r['position']}", "inputs": r["inputs"]}
            if r["expected"] is not None:
                case["expected"] = r["expected"]
            case["tags"] = ["from-review"]
            note = f"from review queue {q['name']} item {r['position']}"
            if r["case_id"]:
                note += f" (case {r['case_id']})"
            case["description"] = note + f"; bad output: {(r['output'] or '')[:200]!r}"
            chosen[r["position"]] = case
        if r["correction"]:
            case["expected"] = r["correction"]
        if r["comment"]:
            case["description"] += f"; {r['reviewer']}: {r['comment'][:200]}"
    return [chosen[p] for p in sorted(chosen)]


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
        pref = preference_of(store, q)
        out["preference"] = {**pref.to_dict(), "words": pref.words(lang)}
    return out
