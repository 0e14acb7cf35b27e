"""Close the loop: traces become suite cases (`prompteur traces to-cases`).

Each case keeps the trace's inputs; the bad output and a note go into its `description` and
a comment above it; `expected` is left for a person to fill in, unless the trace carries one
or one is given. A case whose id (`trace-<span id>`) or inputs are already in the suite is not
added again. The suite file is edited as text — its comments and layout stay — and the result
is parsed back and compared before it replaces the file, atomically.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ..errors import UserError
from ..files import write_atomic
from ..yamlfile import read_text, safe_load
from .storage import TraceFilter, iter_traces

if TYPE_CHECKING:
    from ..store import Store
    from .model import TraceRecord

_MISSING = object()
_CASES_KEY = re.compile(r"^cases\s*:\s*(?P<rest>.*)$")
_TOP_LEVEL = re.compile(r"^[^\s#-]")


@dataclass
class ToCases:
    suite: Path
    added: list[dict[str, Any]] = field(default_factory=list)
    duplicates: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "suite": str(self.suite),
            "added": len(self.added),
            "duplicates": self.duplicates,
            "ids": [c["id"] for c in self.added],
        }


def _key(inputs: Any) -> str:
    return json.dumps(inputs, sort_keys=True, ensure_ascii=False, default=str)


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


def _existing(path: Path) -> tuple[set[str], set[str]]:
    """Ids and inputs of the suite's cases, inline and in its datasets."""
    from ..suite import load_suite

    ids: set[str] = set()
    inputs: set[str] = set()
    for c in load_suite(path).cases():
        ids.add(c.id)
        inputs.add(_key(c.inputs))
    return ids, inputs


def _item_yaml(case: dict[str, Any], indent: str) -> str:
    body = yaml.safe_dump(
        [case], allow_unicode=True, sort_keys=False, default_flow_style=False, width=100
    )
    lines = body.rstrip("\n").split("\n")
    items = [indent + line for line in lines]
    if case.get("description"):
        items.insert(0, f"{indent}# {case['description'][:200]}".replace("\n", " "))
    return "\n".join(items) + "\n"


def insert_cases(text: str, cases: list[dict[str, Any]]) -> str:
    """The suite's text with `cases` appended to its `cases:` list (made if missing)."""
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if _CASES_KEY.match(line)), None)
    if start is None:
        head = text if text.endswith("\n") or not text else text + "\n"
        return head + "cases:\n" + "".join(_item_yaml(c, "  ") for c in cases)
    rest = _CASES_KEY.match(lines[start]).group("rest").split("#")[0].strip()  # type: ignore[union-attr]
    if rest not in ("", "[]"):
        raise UserError(
            "cases: is written inline; write it as a block list to add cases to it",
            field="cases",
            line=start + 1,
        )
    end = len(lines)
    for j in range(start + 1, len(lines)):
        if _TOP_LEVEL.match(lines[j]):
            end = j
            break
    # Insert after the block's last line with content, before the blank lines that follow it.
    last = start
    for j in range(start + 1, end):
        if lines[j].strip() and not lines[j].lstrip().startswith("#"):
            last = j
    indent = "  "
    for j in range(start + 1, end):
        stripped = lines[j].lstrip()
        if stripped.startswith("- "):
            indent = lines[j][: len(lines[j]) - len(stripped)]
            break
    new = "".join(_item_yaml(c, indent) for c in cases).rstrip("\n").split("\n")
    if rest == "[]":
        return "\n".join([*lines[:start], "cases:", *new, *lines[start + 1 :]])
    return "\n".join([*lines[: last + 1], *new, *lines[last + 1 :]])


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

    suite = Path(suite)
    if not suite.is_file():
        raise UserError("suite file not found", file=suite)
    load_suite(suite)  # a broken suite is reported as such, before anything else
    text = read_text(suite, "suite file")
    data = safe_load(text, suite) or {}
    seen_ids, seen_inputs = _existing(suite)
    result = ToCases(suite)
    where = TraceFilter(prompt=prompt, status=status, ids=tuple(ids or ()))
    for t in iter_traces(store, where):
        case = case_of(t, expected)
        k = _key(case["inputs"])
        if case["id"] in seen_ids or k in seen_inputs:
            result.duplicates += 1
            continue
        seen_ids.add(case["id"])
        seen_inputs.add(k)
        result.added.append(case)
        if limit is not None and len(result.added) >= limit:
            break
    if ids:
        found = {t.id for t in iter_traces(store, TraceFilter(prompt=prompt, ids=tuple(ids)))}
        missing = sorted(set(ids) - found)
        if missing:
            raise UserError(
                f"no trace {missing[0]} of the prompt '{prompt}'",
                field="--ids",
                hint="see: prompteur traces list --prompt " + prompt,
            )
    if not result.added:
        return result
    new_text = insert_cases(text, result.added)
    before = list(data.get("cases") or [])
    after = (safe_load(new_text, suite) or {}).get("cases") or []
    if after != before + result.added:
        raise UserError(
            "could not add the cases without changing the others; nothing was written",
            file=suite,
            field="cases",
        )
    from pydantic import ValidationError

    from ..suite import SuiteFile

    try:
        SuiteFile.model_validate(safe_load(new_text, suite))
    except ValidationError as exc:
        raise UserError(
            f"the cases would make the suite invalid ({exc.errors()[0]['msg']}); nothing was "
            "written",
            file=suite,
            field="cases",
        ) from None
    write_atomic(suite, new_text)
    return result
