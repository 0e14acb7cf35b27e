"""Close the loop: traces become suite cases (`prompteur traces to-cases`).

Each case keeps the trace's inputs; the bad output and a note go into its `description` and
a comment above it; `expected` is left for a person to fill in, unless the trace carries one
or one is given. A case whose id (`trace-<span id>`) or inputs are already in the suite is not
added again. The suite file is edited as text — its comments and layout stay — and the result
is parsed back and compared before it replaces the file, atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from ..suite_cases import ToCases, append_cases, insert_cases
from .storage import TraceFilter, iter_traces

if TYPE_CHECKING:
    from ..store import Store
    from .model import TraceRecord

_MISSING = object()
__all__ = ["ToCases", "case_of", "insert_cases", "traces_to_cases"]


def _note(t: TraceRecord) -> str:
    why = []
    if t.error:
        why.append(f"error: {t.error}")
    for s in t.scores or []:
        if s.get("passed") is False:
            why.append(f"{s.get('name')}: {s.get('reason') or 'failed'}")
    if t.flagged:
        why.append("flagged" + (f": {t.meta['note']}" if t.meta.get("note") else ""))
    where = f"{t.prompt}@{(t.version or '?')[:12]}"
    output = (t.output or "")[:300]
    return (
        f"from trace {t.trace_id} ({where}, {t.model or '?'}, {t.started_at:%Y-%m-%d %H:%M}); "
        f"bad output: {output!r}" + (f"; {'; '.join(why)}" if why else "")
    )


def case_of(t: TraceRecord, expected: Any = _MISSING) -> dict[str, Any]:
    case: dict[str, Any] = {"id": f"trace-{t.span_id}", "inputs": t.inputs}
    value = t.meta.get("expected") if expected is _MISSING else expected
    if value is not None:
        case["expected"] = value
    case["tags"] = ["from-trace"]
    case["description"] = _note(t)
    return case


def traces_to_cases(
    store: Store,
    suite: Path,
    *,
    prompt: str,
    status: str | None = None,
    ids: list[int] | None = None,
    expected: Any = _MISSING,
    limit: int | None = None,
) -> ToCases:
    """Append the matching traces of `prompt` to the suite as cases."""
    from ..suite import load_suite

    if not Path(suite).is_file():
        raise UserError("suite file not found", file=suite)
    load_suite(Path(suite))  # a broken suite is reported as such, before anything else
    if ids:
        found = {t.id for t in iter_traces(store, TraceFilter(prompt=prompt, ids=tuple(ids)))}
        missing = sorted(set(ids) - found)
        if missing:
            raise UserError(
                f"no trace {missing[0]} of the prompt '{prompt}'",
                field="--ids",
                hint="see: prompteur traces list --prompt " + prompt,
            )
    where = TraceFilter(prompt=prompt, status=status, ids=tuple(ids or ()))
    cases = (case_of(t, expected) for t in iter_traces(store, where))
    return append_cases(Path(suite), cases, limit=limit)
