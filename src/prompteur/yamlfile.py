"""YAML that remembers where things are, so every error can name its line.

Prompt front matter and suite files are YAML. Pydantic tells us *which* field is wrong
(`inputs.question.kind`); this module tells us *where* it is in the file.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from .errors import UserError

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


def _walk(node: yaml.Node, path: Loc, lines: dict[Loc, int], offset: int) -> None:
    lines.setdefault(path, node.start_mark.line + 1 + offset)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            k = key.value if isinstance(key, yaml.ScalarNode) else str(key.value)
            lines[(*path, k)] = key.start_mark.line + 1 + offset
            _walk(value, (*path, k), lines, offset)
            lines[(*path, k)] = key.start_mark.line + 1 + offset
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), lines, offset)


class LineMap:
    """Maps a field path such as ("inputs", "question", "kind") to its 1-based file line."""

    def __init__(self, lines: dict[Loc, int], default: int) -> None:
        self._lines = lines
        self._default = default

    def __contains__(self, loc: object) -> bool:
        return loc in self._lines

    def line(self, loc: Iterable[str | int]) -> int:
        loc = tuple(loc)
        # Pydantic may report a deeper path than the YAML has (a missing key): climb up.
        while loc:
            if loc in self._lines:
                return self._lines[loc]
            loc = loc[:-1]
        return self._lines.get((), self._default)


def load_yaml(text: str, file: str | Path, *, line_offset: int = 0) -> tuple[Any, LineMap]:
    """Parse YAML text; a syntax error becomes a UserError naming the line.

    `line_offset` is the number of file lines before `text` (front matter starts at line 2).
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 + line_offset if mark else None
        problem = exc.problem or exc.context or "malformed YAML"
        raise UserError(f"malformed YAML: {problem}", file=file, line=line) from None
    except yaml.YAMLError as exc:
        raise UserError(f"malformed YAML: {exc}", file=file, line=line_offset + 1) from None
    except RecursionError:
        raise UserError("malformed YAML: nested too deeply", file=file) from None
    lines: dict[Loc, int] = {}
    if node is not None:
        _walk(node, (), lines, line_offset)
    return data, LineMap(lines, line_offset + 1)


def dotted(loc: Iterable[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def validation_error(
    exc: ValidationError, linemap: LineMap, file: str | Path, *, known: Iterable[str] = ()
) -> UserError:
    """The first pydantic error, as a UserError with file, line and dotted field."""
    err = exc.errors(include_url=False)[0]
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    message = err["msg"]
    hint = None
    if err["type"] == "extra_forbidden" and loc:
        message = f"unknown key '{loc[-1]}'"
        close = difflib.get_close_matches(str(loc[-1]), list(known), n=1)
        if close:
            hint = f"did you mean '{close[0]}'?"
    elif err["type"] == "missing":
        message = "required field is missing"
    return UserError(
        message, file=file, line=linemap.line(loc), field=dotted(loc) or None, hint=hint
    )


def _a(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def read_text(path: str | Path, what: str = "file", *, field: str | None = None) -> str:
    """A text file's contents; a missing, folder, unreadable or non-UTF-8 path is a UserError.

    `what` names the file in the message ("suite file" → "suite file not found").
    """
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"{what} not found", file=path, field=field) from None
    except IsADirectoryError:
        raise UserError(f"is a folder, not {_a(what)}", file=path, field=field) from None
    except PermissionError:
        raise UserError("permission denied: cannot read it", file=path, field=field) from None
    except UnicodeDecodeError:
        raise UserError("not valid UTF-8 text", file=path, field=field) from None


def load_mapping(
    text: str,
    file: str | Path,
    *,
    what: str,
    example_keys: Iterable[str] = (),
    empty_ok: bool = False,
) -> tuple[dict[str, Any], LineMap]:
    """Parse YAML text that must be a mapping (a spec file); `what` names it ("suite")."""
    data, lines = load_yaml(text, file)
    if data is None and empty_ok:
        data = {}
    if not isinstance(data, dict):
        keys = ", ".join(f"{k}:" for k in example_keys)
        raise UserError(
            f"{_a(what)} must be a YAML mapping" + (f" ({keys}, …)" if keys else ""),
            file=file,
            line=1,
        )
    return data, lines


def validate(
    model: type[M],
    data: Any,
    lines: LineMap,
    file: str | Path,
    *,
    known: Iterable[str] | None = None,
    root_field: str | None = None,
) -> M:
    """`model.model_validate(data)`, a failure as a UserError naming file, line and field.

    `known` (default: the model's fields) feeds "did you mean"; `root_field` is where a
    model-level check (one with no field of its own) points, when the file has that key.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        names = list(model.model_fields) if known is None else list(known)
        err = validation_error(exc, lines, file, known=names)
        field, line = err.field, err.line
        if field is None and root_field and (root_field,) in lines:
            field, line = root_field, lines.line((root_field,))
        # Pydantic prefixes a validator's own sentence; the user wrote none of it.
        message = err.message.removeprefix("Value error, ")
        raise UserError(message, file=file, line=line, field=field, hint=err.hint) from None


def load_model(
    text: str,
    model: type[M],
    file: str | Path,
    *,
    what: str,
    example_keys: Iterable[str] = (),
    known: Iterable[str] | None = None,
    empty_ok: bool = False,
    root_field: str | None = None,
) -> tuple[M, LineMap]:
    """A spec file's text as a validated pydantic model, plus where each field is.

    Every mistake (bad YAML, not a mapping, a wrong field) is a UserError naming the line.
    """
    data, lines = load_mapping(text, file, what=what, example_keys=example_keys, empty_ok=empty_ok)
    return validate(model, data, lines, file, known=known, root_field=root_field), lines
