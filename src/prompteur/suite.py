"""Suites: which prompts, on which models, on which cases, judged by which checks.

```yaml
description: Sentiment of product reviews
prompts: [sentiment]              # names, paths, or name@version
models: [local]                   # default: each prompt's model, else the project's
repeat: 3
checks:                           # applied to every case
  - type: equals                  # value: the case's expected
cases:
  - inputs: {review: "Broke on day one."}
    expected: negative
    tags: [short]
    checks: [{type: not-contains, value: "sorry"}]
dataset: data/reviews.jsonl       # and/or a file of cases (JSONL or CSV), streamed
```

Dataset rows are either `{"inputs": {...}, "expected": ..., "id": ..., "tags": [...]}` or flat:
every column is an input except `expected`, `id` and `tags` (CSV tags are `;`-separated).
Files are read lazily, row by row, so a suite of 100,000 cases never sits in memory.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .errors import UserError
from .yamlfile import LineMap, load_model, read_text

SPECIAL_COLUMNS = {"expected", "id", "tags", "checks"}


class CaseSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)
    expected: Any = None
    tags: list[str] = Field(default_factory=list)
    checks: list[dict[str, Any] | str] = Field(default_factory=list)
    description: str | None = None


class SuiteFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str | None = None
    prompts: list[str] = Field(min_length=1)
    models: list[str] = Field(default_factory=list)
    repeat: int = Field(default=1, ge=1, le=1000)
    checks: list[dict[str, Any] | str] = Field(default_factory=list)
    cases: list[CaseSpec] = Field(default_factory=list)
    dataset: list[str] = Field(default_factory=list)
    threshold: float | None = Field(
        default=None, ge=0, le=1, description="pass when the weighted check score ≥ this"
    )

    @field_validator("prompts", "models", "dataset", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


@dataclass(frozen=True)
class Case:
    id: str
    inputs: dict[str, Any]
    expected: Any = None
    tags: tuple[str, ...] = ()
    checks: tuple[dict[str, Any] | str, ...] = ()
    source: str = ""  # file:line, for error messages and reports


def case_id(inputs: dict[str, Any], expected: Any) -> str:
    """A stable id from content: the same case keeps its id across runs (resume, compare)."""
    blob = json.dumps({"i": inputs, "e": expected}, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass
class Suite:
    path: Path
    spec: SuiteFile
    lines: LineMap = field(repr=False)

    @property
    def name(self) -> str:
        return self.path.stem

    def cases(self) -> Iterator[Case]:
        """Inline cases, then each dataset's rows, streamed."""
        for i, c in enumerate(self.spec.cases):
            line = self.lines.line(("cases", i))
            yield Case(
                id=c.id or case_id(c.inputs, c.expected),
                inputs=c.inputs,
                expected=c.expected,
                tags=tuple(c.tags),
                checks=tuple(c.checks),
                source=f"{self.path}:{line}",
            )
        for j, name in enumerate(self.spec.dataset):
            path = (self.path.parent / name) if not Path(name).is_absolute() else Path(name)
            if not path.is_file():
                raise UserError(
                    "dataset file not found",
                    file=self.path,
                    line=self.lines.line(("dataset", j)),
                    field=f"dataset[{j}]",
                    hint=str(path),
                )
            yield from read_dataset(path)

    def count_cases(self) -> int:
        return sum(1 for _ in self.cases())


def load_suite(path: str | Path) -> Suite:
    path = Path(path)
    text = read_text(path, "suite file")
    spec, lines = load_model(text, SuiteFile, path, what="suite", example_keys=("prompts", "cases"))
    if not spec.cases and not spec.dataset:
        raise UserError(
            "the suite has no cases", file=path, field="cases", hint="add cases: or dataset:"
        )
    # Build every check now, so a bad spec fails before any model call.
    from .checks import build

    for i, chk in enumerate(spec.checks):
        _build_at(build, chk, path, lines, ("checks", i))
    for i, c in enumerate(spec.cases):
        for k, chk in enumerate(c.checks):
            _build_at(build, chk, path, lines, ("cases", i, "checks", k))
    return Suite(path, spec, lines)


def _build_at(build: Any, spec: Any, path: Path, lines: LineMap, loc: tuple[Any, ...]) -> None:
    from .yamlfile import dotted

    try:
        build(spec, where=dotted(loc))
    except UserError as exc:
        raise UserError(
            exc.message, file=path, line=lines.line(loc), field=exc.field, hint=exc.hint
        ) from None


def _row_to_case(row: dict[str, Any], where: str) -> Case:
    if "inputs" in row and isinstance(row["inputs"], dict):
        inputs = row["inputs"]
    else:
        inputs = {k: v for k, v in row.items() if k not in SPECIAL_COLUMNS}
    expected = row.get("expected")
    tags = row.get("tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(";") if t.strip()]
    checks = row.get("checks") or []
    if isinstance(checks, str):
        checks = json.loads(checks) if checks.strip() else []
    return Case(
        id=str(row.get("id") or case_id(inputs, expected)),
        inputs=inputs,
        expected=expected,
        tags=tuple(tags),
        checks=tuple(checks),
        source=where,
    )


def read_dataset(path: Path) -> Iterator[Case]:
    """Stream cases from a JSONL or CSV file; a bad row names its line."""
    suffix = path.suffix.lower()
    with path.open(encoding="utf-8-sig", newline="") as fh:
        if suffix in {".jsonl", ".ndjson"}:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise UserError(f"malformed JSON: {exc.msg}", file=path, line=lineno) from None
                if not isinstance(row, dict):
                    raise UserError("each line must be a JSON object", file=path, line=lineno)
                yield _row_to_case(row, f"{path}:{lineno}")
        elif suffix == ".csv":
            reader = csv.DictReader(fh)
            if not reader.fieldnames:
                raise UserError("the CSV file has no header row", file=path, line=1)
            for row in reader:
                lineno = reader.line_num
                if None in row:
                    raise UserError("more cells than header columns", file=path, line=lineno)
                try:
                    yield _row_to_case(dict(row), f"{path}:{lineno}")
                except json.JSONDecodeError as exc:
                    raise UserError(
                        f"checks column is not JSON: {exc.msg}",
                        file=path,
                        line=lineno,
                        field="checks",
                    ) from None
        else:
            raise UserError("dataset must be .jsonl or .csv", file=path)
