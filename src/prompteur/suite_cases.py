"""Adding cases to a suite file without disturbing it: the file is edited as text (its
comments and layout stay), cases already there (same id or same inputs) are not added again,
and the result is parsed back, validated and compared before it replaces the file,
atomically. Used wherever something becomes a case (traces, reviewed items)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .errors import UserError
from .files import write_atomic
from .yamlfile import read_text, safe_load

if TYPE_CHECKING:
    from .config import Config

SUITE_SUFFIXES = (".yaml", ".yml")
MAX_SUITES = 1000

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


def case_key(inputs: Any) -> str:
    return json.dumps(inputs, sort_keys=True, ensure_ascii=False, default=str)


def _existing(path: Path) -> tuple[set[str], set[str]]:
    """Ids and inputs of the suite's cases, inline and in its datasets."""
    from .suite import load_suite

    ids: set[str] = set()
    inputs: set[str] = set()
    for c in load_suite(path).cases():
        ids.add(c.id)
        inputs.add(case_key(c.inputs))
    return ids, inputs


def _item_yaml(case: dict[str, Any], indent: str) -> str:
    body = yaml.safe_dump(
        [case], allow_unicode=True, sort_keys=False, default_flow_style=False, width=100
    )
    lines = body.rstrip("\n").split("\n")
    items = [indent + line for line in lines]
    if case.get("description"):
        # Every line break YAML knows (\r, \x85, \u2028… not only \n) becomes a space: a
        # comment written by a reviewer or an end user cannot end the comment line.
        note = " ".join(case["description"][:200].splitlines())
        items.insert(0, f"{indent}# {note}")
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


def append_cases(suite: Path, candidates: Any, *, limit: int | None = None) -> ToCases:
    """Append the `candidates` (case dicts, iterated lazily) that are not in the suite yet."""
    from pydantic import ValidationError

    from .suite import SuiteFile, load_suite

    suite = Path(suite)
    if not suite.is_file():
        raise UserError("suite file not found", file=suite)
    load_suite(suite)  # a broken suite is reported as such, before anything else
    text = read_text(suite, "suite file")
    data = safe_load(text, suite) or {}
    seen_ids, seen_inputs = _existing(suite)
    result = ToCases(suite)
    for case in candidates:
        k = case_key(case["inputs"])
        if case["id"] in seen_ids or k in seen_inputs:
            result.duplicates += 1
            continue
        seen_ids.add(case["id"])
        seen_inputs.add(k)
        result.added.append(case)
        if limit is not None and len(result.added) >= limit:
            break
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


def project_suites(config: Config) -> dict[str, Path]:
    """The suite files of the project's suites folder, by their path relative to the project
    (`suites/greet.yaml`), sorted: a suite chosen in a request is one of these keys, looked up,
    never a path joined to the folder. A file that resolves outside the project (a link) is
    left out; at most MAX_SUITES are listed."""
    root = config.root.resolve()
    folder = config.suites_dir
    if not folder.is_dir():
        return {}
    out: dict[str, Path] = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix not in SUITE_SUFFIXES or not path.is_file():
            continue
        real = path.resolve()
        if not real.is_relative_to(root):
            continue
        out[real.relative_to(root).as_posix()] = real
        if len(out) >= MAX_SUITES:
            break
    return out
