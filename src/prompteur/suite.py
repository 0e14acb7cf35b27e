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
from .yamlfile import LineMap, dotted, load_mapping, load_model, read_text

# Checks that run code from the suite (checks/_code.py): never from a dataset row.
CODE_CHECKS = {"javascript", "python-script"}
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
            path = self.referenced(name, ("dataset", j), "dataset")
            if not path.is_file():
                raise UserError(
                    "dataset file not found",
                    file=self.path,
                    line=self.lines.line(("dataset", j)),
                    field=f"dataset[{j}]",
                    hint=str(path),
                )
            yield from read_dataset(path)

    def referenced(self, name: str, loc: tuple[str | int, ...], what: str) -> Path:
        """A file the suite names (a dataset, a schema): relative to the suite, and inside
        its project — or, for a suite outside any project, inside the suite's folder. A
        suite is data: it cannot send a file from elsewhere on the disk to a model."""
        return referenced_file(self.path, name, self.lines, loc, what)

    def count_cases(self) -> int:
        return sum(1 for _ in self.cases())


def referenced_file(
    owner: Path, name: str, lines: LineMap, loc: tuple[str | int, ...], what: str
) -> Path:
    """A file that the file `owner` names, as `Suite.referenced` says; a UserError naming
    `owner`'s line otherwise."""
    from .config import find_config_file

    project_file = find_config_file(owner.parent)
    boundary = project_file.parent if project_file else owner.parent
    from .library import Library

    try:
        return Library(boundary, boundary).in_project(name, owner.parent, what=what)
    except UserError as exc:
        raise UserError(
            exc.message, file=owner, line=lines.line(loc), field=dotted(loc), hint=exc.hint
        ) from None


def load_suite(path: str | Path) -> Suite:
    path = Path(path)
    text = read_text(path, "suite file")
    spec, lines = load_model(text, SuiteFile, path, what="suite", example_keys=("prompts", "cases"))
    if not spec.cases and not spec.dataset:
        raise UserError(
            "the suite has no cases", file=path, field="cases", hint="add cases: or dataset:"
        )
    # Schema files are read now, from inside the project, and inlined: no check ever opens
    # a path later (a case row from a dataset included).
    spec.checks = [inline_files(c, path, lines, ("checks", i)) for i, c in enumerate(spec.checks)]
    for i, case in enumerate(spec.cases):
        case.checks = [
            inline_files(c, path, lines, ("cases", i, "checks", k))
            for k, c in enumerate(case.checks)
        ]
    # Build every check now, so a bad spec fails before any model call.
    from .checks import build

    for i, chk in enumerate(spec.checks):
        _build_at(build, chk, path, lines, ("checks", i))
    for i, c in enumerate(spec.cases):
        for k, chk in enumerate(c.checks):
            _build_at(build, chk, path, lines, ("cases", i, "checks", k))
    return Suite(path, spec, lines)


def inline_files(
    spec: dict[str, Any] | str, owner: Path, lines: LineMap, loc: tuple[str | int, ...]
) -> dict[str, Any] | str:
    """A `json-schema` check naming a schema file gets the schema itself; a `python` check's
    file, a code check's `file` and a `transform`'s file are found inside the project (their
    absolute paths replace the relative ones)."""
    if isinstance(spec, dict):
        spec = _inline_code_files(spec, owner, lines, loc)
    if (
        isinstance(spec, dict)
        and spec.get("type") == "python"
        and isinstance(spec.get("value"), str)
    ):
        target, sep, attr = spec["value"].rpartition(":")
        if sep and target.endswith(".py"):
            found = referenced_file(owner, target, lines, (*loc, "value"), "Python file")
            return {**spec, "value": f"{found.resolve()}:{attr}"}
        return spec
    if not isinstance(spec, dict) or spec.get("type") != "json-schema":
        return spec
    value = spec.get("value")
    if not isinstance(value, str):
        return spec
    target = referenced_file(owner, value, lines, (*loc, "value"), "schema file")
    from .yamlfile import load_json

    try:
        schema = load_json(read_text(target, "schema file"), target)
    except UserError as exc:
        raise UserError(
            exc.message,
            file=owner,
            line=lines.line((*loc, "value")),
            field=dotted((*loc, "value")),
            hint=f"in {target}" + (f": {exc.hint}" if exc.hint else ""),
        ) from None
    return {**spec, "value": schema}


def _inline_code_files(
    spec: dict[str, Any], owner: Path, lines: LineMap, loc: tuple[str | int, ...]
) -> dict[str, Any]:
    out = dict(spec)
    kind = str(spec.get("type", "")).removeprefix("not-")
    if kind in CODE_CHECKS and isinstance(spec.get("file"), str):
        found = referenced_file(owner, spec["file"], lines, (*loc, "file"), "code file")
        out["file"] = str(found.resolve())
    transforms = spec.get("transform")
    if transforms is not None:
        many = isinstance(transforms, list)
        fixed = []
        for j, t in enumerate(transforms if many else [transforms]):
            if isinstance(t, dict) and isinstance(t.get("file"), str):
                where = (*loc, "transform", j) if many else (*loc, "transform")
                found = referenced_file(owner, t["file"], lines, where, "transform file")
                t = {**t, "file": str(found.resolve())}
            fixed.append(t)
        out["transform"] = fixed if many else fixed[0]
    return out


def suite_model_ids(folder: Path) -> set[str]:
    """The model ids the suite files under `folder` name (`models:`), unreadable files
    skipped: what a server may call for this project (server/projects.py)."""
    ids: set[str] = set()
    if not folder.is_dir():
        return ids
    for path in sorted(folder.rglob("*.y*ml")):
        try:
            data, _ = load_mapping(read_text(path, "suite file"), path, what="suite")
        except UserError:
            continue
        models = data.get("models")
        if isinstance(models, str):
            models = [models]
        if isinstance(models, list):
            ids |= {m for m in models if isinstance(m, str)}
    return ids


def _build_at(build: Any, spec: Any, path: Path, lines: LineMap, loc: tuple[Any, ...]) -> None:
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
        from .yamlfile import load_json

        checks = load_json(checks) if checks.strip() else []
    if isinstance(checks, list) and any(
        isinstance(c, dict)
        and (
            (c.get("type") in {"python", "json-schema"} and isinstance(c.get("value"), str))
            or str(c.get("type", "")).removeprefix("not-") in CODE_CHECKS
            or "transform" in c
        )
        for c in checks
    ):
        # Code and files are named in the suite file, where they are found inside the
        # project; a data row only holds data.
        raise UserError(
            "a dataset row cannot hold code or name a file in its checks",
            field="checks",
            hint="put that check in the suite file",
        )
    return Case(
        id=str(row.get("id") or case_id(inputs, expected)),
        inputs=inputs,
        expected=expected,
        tags=tuple(tags),
        checks=tuple(checks),
        source=where,
    )


def read_dataset(path: Path) -> Iterator[Case]:
    """Stream cases from a JSONL or CSV file; a bad row names its line. Each line is bounded
    (limits.dataset_line_bytes), so a file without line breaks is refused, not swallowed."""
    suffix = path.suffix.lower()
    if suffix not in {".jsonl", ".ndjson", ".csv"}:
        raise UserError("dataset must be .jsonl or .csv", file=path)
    reader = _read_jsonl if suffix != ".csv" else _read_csv
    lineno = 0
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for lineno, case in reader(path, fh):  # noqa: B007 (kept for the error below)
                yield case
    except UnicodeDecodeError:
        raise UserError("not valid UTF-8 text", file=path, line=lineno + 1) from None


def _bounded_lines(path: Path, fh: Any) -> Iterator[tuple[int, str]]:
    from . import limits

    bound = limits.current().dataset_line_bytes
    lineno = 0
    while True:
        line = fh.readline(bound + 1)
        if not line:
            return
        lineno += 1
        if len(line) > bound and not line.endswith("\n"):
            raise UserError(
                f"a line longer than {bound:,} characters",
                file=path,
                line=lineno,
                hint="raise [limits] dataset_line_bytes in prompteur.toml if this is intended",
            )
        yield lineno, line


def _read_jsonl(path: Path, fh: Any) -> Iterator[tuple[int, Case]]:
    from .yamlfile import load_json

    for lineno, line in _bounded_lines(path, fh):
        if not line.strip():
            continue
        try:
            row = load_json(line, path)
        except UserError as exc:
            raise UserError(exc.message, file=path, line=lineno) from None
        if not isinstance(row, dict):
            raise UserError("each line must be a JSON object", file=path, line=lineno)
        yield lineno, _row_to_case(row, f"{path}:{lineno}")


def _read_csv(path: Path, fh: Any) -> Iterator[tuple[int, Case]]:
    from . import limits

    csv.field_size_limit(max(csv.field_size_limit(), limits.current().dataset_line_bytes))
    reader = csv.DictReader(line for _, line in _bounded_lines(path, fh))
    try:
        if not reader.fieldnames:
            raise UserError("the CSV file has no header row", file=path, line=1)
        for row in reader:
            lineno = reader.line_num
            if None in row:
                raise UserError("more cells than header columns", file=path, line=lineno)
            if None in row.values():
                raise UserError("fewer cells than header columns", file=path, line=lineno)
            try:
                yield lineno, _row_to_case(dict(row), f"{path}:{lineno}")
            except UserError as exc:
                raise UserError(
                    f"checks column: {exc.message}", file=path, line=lineno, field="checks"
                ) from None
    except csv.Error as exc:
        raise UserError(f"malformed CSV: {exc}", file=path, line=reader.line_num) from None
