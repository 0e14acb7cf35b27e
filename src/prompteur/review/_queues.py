"""Making review queues: from a run's results, from production traces, and blind pairwise
preference queues over two variants of the same cases. Items are copies of what they show,
chosen once (a seeded sample is the same sample every time)."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from ._scores import PREFERENCE_SCORE, Score

if TYPE_CHECKING:
    from ..store import Store

RUN_SELECTIONS = ("all", "failures", "disagreement", "judge-disagreement", "sample")
TRACE_SELECTIONS = ("sample", "low-score", "negative-feedback")
JUDGE_CHECKS = {"rubric", "factuality", "pairwise"}
MAX_ITEMS = 10_000
NAME_MAX = 100
_COLUMNS = (
    "id",
    "prompt",
    "version",
    "model",
    "case_id",
    "repeat",
    "inputs",
    "expected",
    "output",
    "passed",
    "score",
    "checks",
    "error",
)


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > NAME_MAX or any(ord(c) < 32 for c in name) or "/" in name:
        raise UserError("a queue name is 1 to 100 printable characters, without '/'", field="name")
    return name


def _run_results(store: Store, run_id: str) -> Iterator[dict[str, Any]]:
    offset = 0
    while True:
        _, rows = store.pages.results(run_id, _COLUMNS, offset, 1000)
        yield from rows
        if len(rows) < 1000:
            return
        offset += len(rows)


def _is_judge(check: dict[str, Any]) -> bool:
    name = str(check.get("name") or "")
    return name.removeprefix("not-") in JUDGE_CHECKS


def _verdicts(row: dict[str, Any]) -> list[bool]:
    return [bool(c.get("passed")) for c in row.get("checks") or []]


def _selected(row: dict[str, Any], selection: str) -> bool:
    if selection == "failures":
        return row.get("passed") is False or row.get("error") is not None
    if selection == "disagreement":
        verdicts = _verdicts(row)
        return True in verdicts and False in verdicts
    if selection == "judge-disagreement":
        checks = row.get("checks") or []
        judged = [bool(c.get("passed")) for c in checks if _is_judge(c)]
        rest = [bool(c.get("passed")) for c in checks if not _is_judge(c)]
        return bool(judged and rest) and all(judged) != all(rest)
    return True


def _sample(rows: list[Any], size: int | None, seed: int) -> list[Any]:
    if size is None or size >= len(rows):
        return rows
    chosen = sorted(random.Random(seed).sample(range(len(rows)), size))
    return [rows[i] for i in chosen]


def _item_of_result(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "result_id": row["id"],
        "case_id": row["case_id"],
        "prompt": row["prompt"],
        "version": row["version"],
        "model": row["model"],
        "inputs": row["inputs"],
        "expected": row["expected"],
        "output": row["output"] if row["output"] is not None else row.get("error"),
        "verdict": {"passed": row["passed"], "score": row["score"], "checks": row["checks"]},
    }


def _store_queue(
    store: Store,
    *,
    name: str,
    kind: str,
    score: Score,
    source: str,
    ref: str | None,
    selection: str,
    blind: bool,
    reviewers: int,
    spec: dict[str, Any],
    items: list[dict[str, Any]],
    created_by: str | None,
) -> dict[str, Any]:
    if not items:
        raise UserError("nothing to review: the selection is empty", field="select")
    if len(items) > MAX_ITEMS:
        raise UserError(
            f"{len(items)} items: a queue holds at most {MAX_ITEMS}",
            field="size",
            hint="take a sample with --size",
        )
    if not 1 <= reviewers <= 20:
        raise UserError("reviewers per item: 1 to 20", field="reviewers")
    queue_id = store.reviews.create_queue(
        {
            "name": name,
            "kind": kind,
            "score": score.name,
            "source": source,
            "ref": ref,
            "selection": selection,
            "blind": blind,
            "reviewers": reviewers,
            "spec": {**spec, "score": score.to_dict()},
            "created_by": created_by,
        },
        items,
    )
    queue = store.reviews.queue(queue_id)
    assert queue is not None
    return queue


def from_run(
    store: Store,
    name: str,
    run: str,
    *,
    score: Score,
    select: str = "all",
    size: int | None = None,
    seed: int = 0,
    blind: bool = False,
    reviewers: int = 1,
    created_by: str | None = None,
) -> dict[str, Any]:
    """A queue of a run's results: all, failures only, those whose checks disagree (or a
    judge against the deterministic checks), or a seeded random sample (`size` applies to
    every selection)."""
    name = _check_name(name)
    if select not in RUN_SELECTIONS:
        raise UserError(
            f"unknown selection '{select}'", field="select", hint=", ".join(RUN_SELECTIONS)
        )
    if select == "sample" and size is None:
        raise UserError("a sample needs a size", field="size")
    info = store.get_run(run)
    rows = [r for r in _run_results(store, info.id) if _selected(r, select)]
    items = [_item_of_result(r) for r in _sample(rows, size, seed)]
    return _store_queue(
        store,
        name=name,
        kind="label",
        score=score,
        source="run",
        ref=info.id,
        selection=select,
        blind=blind,
        reviewers=reviewers,
        spec={"seed": seed, "size": size},
        items=items,
        created_by=created_by,
    )


def _item_of_trace(row: dict[str, Any]) -> dict[str, Any]:
    meta = row.get("meta") or {}
    verdict = None
    if row.get("scored_at") is not None or row.get("feedback_score") is not None:
        verdict = {
            "passed": row.get("passed"),
            "score": row.get("score"),
            "checks": row.get("scores") or [],
        }
        if row.get("feedback_score") is not None:
            verdict["feedback"] = {
                "score": row["feedback_score"],
                "comment": row.get("feedback_comment"),
            }
    return {
        "trace_id": row["id"],
        "case_id": f"trace-{row['span_id']}",
        "prompt": row.get("prompt"),
        "version": row.get("version"),
        "model": row.get("model"),
        "inputs": row.get("inputs") or {},
        "expected": meta.get("expected"),
        "output": row.get("output") if row.get("output") is not None else row.get("error"),
        "verdict": verdict,
    }


def from_traces(
    store: Store,
    name: str,
    *,
    score: Score,
    select: str = "sample",
    prompt: str | None = None,
    size: int = 50,
    seed: int = 0,
    below: float = 0.5,
    blind: bool = False,
    reviewers: int = 1,
    created_by: str | None = None,
) -> dict[str, Any]:
    """A queue of production traces: a seeded sample, those the online checks scored under
    `below`, or those an end user gave negative feedback (a score under `below`)."""
    from ..store.traces import TraceFilter

    name = _check_name(name)
    if select not in TRACE_SELECTIONS:
        raise UserError(
            f"unknown selection '{select}'", field="select", hint=", ".join(TRACE_SELECTIONS)
        )
    if select == "negative-feedback":
        rows: list[dict[str, Any]] = store.reviews.traces_with_feedback(
            below=below, prompt=prompt, limit=MAX_ITEMS
        )
    else:
        status = "scored" if select == "low-score" else None
        rows = list(store.traces.iter(TraceFilter(prompt=prompt, status=status)))
        rows = [r for r in rows if r.get("parent_span_id") is None]
        if select == "low-score":
            rows = [r for r in rows if r.get("score") is not None and r["score"] < below]
    items = [_item_of_trace(r) for r in _sample(rows, size, seed)]
    return _store_queue(
        store,
        name=name,
        kind="label",
        score=score,
        source="traces",
        ref=prompt,
        selection=select,
        blind=blind,
        reviewers=reviewers,
        spec={"seed": seed, "size": size, "below": below},
        items=items,
        created_by=created_by,
    )


def _variant_name(row: dict[str, Any]) -> str:
    return f"{row['prompt']}@{row['version'][:8]} · {row['model']}"


def _matches(row: dict[str, Any], selector: str) -> bool:
    """A variant selector: a model id, a prompt name, a version prefix, or `prompt@version`."""
    prompt, _, version = selector.partition("@")
    if version:
        return row["prompt"] == prompt and row["version"].startswith(version)
    return selector in (row["model"], row["prompt"]) or (
        len(selector) >= 4 and row["version"].startswith(selector)
    )


def _side(rows: Iterable[dict[str, Any]], selector: str | None) -> dict[tuple[str, int], Any]:
    chosen = [r for r in rows if selector is None or _matches(r, selector)]
    names = {_variant_name(r) for r in chosen}
    if len(names) != 1:
        what = "no variant" if not names else f"{len(names)} variants ({', '.join(sorted(names))})"
        raise UserError(
            f"'{selector or '(any)'}' selects {what}; it must select one",
            field="variant",
            hint="a model id, a prompt name, a version prefix or prompt@version",
        )
    return {(r["case_id"], r["repeat"]): r for r in chosen}


def preference(
    store: Store,
    name: str,
    run: str,
    *,
    a: str | None,
    b: str | None,
    run_b: str | None = None,
    size: int | None = None,
    seed: int = 0,
    reviewers: int = 1,
    created_by: str | None = None,
) -> dict[str, Any]:
    """A blind pairwise queue: for every case both variants answered, the two outputs in a
    random order (seeded, one draw per item) that reviewers never see; the order is stored so
    that the reveal is exact. Variants `a` and `b` come from one run, or `b` from `run_b`."""
    name = _check_name(name)
    first = store.get_run(run)
    second = store.get_run(run_b) if run_b else first
    rows_a = list(_run_results(store, first.id))
    rows_b = rows_a if second.id == first.id else list(_run_results(store, second.id))
    side_a = _side(rows_a, a)
    side_b = _side(rows_b, b)
    name_a = _variant_name(next(iter(side_a.values())))
    name_b = _variant_name(next(iter(side_b.values())))
    if name_a == name_b and second.id == first.id:
        raise UserError("the two variants are the same", field="variant")
    common = [k for k in side_a if k in side_b]
    common = _sample(common, size, seed)
    rng = random.Random(seed)
    items = []
    for key in common:
        ra, rb = side_a[key], side_b[key]
        shown = [("a", ra), ("b", rb)]
        if rng.random() < 0.5:
            shown.reverse()
        (left, lrow), (right, rrow) = shown
        items.append(
            {
                "result_id": lrow["id"],
                "case_id": ra["case_id"],
                "prompt": ra["prompt"],
                "inputs": ra["inputs"],
                "expected": ra["expected"],
                "output": lrow["output"] if lrow["output"] is not None else lrow.get("error"),
                "second": rrow["output"] if rrow["output"] is not None else rrow.get("error"),
                "sides": [left, right],
            }
        )
    return _store_queue(
        store,
        name=name,
        kind="preference",
        score=PREFERENCE_SCORE,
        source="run",
        ref=first.id,
        selection="pairs",
        blind=True,
        reviewers=reviewers,
        spec={
            "seed": seed,
            "size": size,
            "variants": {"a": name_a, "b": name_b},
            "runs": {"a": first.id, "b": second.id},
        },
        items=items,
        created_by=created_by,
    )
