"""Prompt files: parse, validate inputs, render to messages.

A prompt file is Markdown with YAML front matter (Prompty-compatible) and a body split into
chat turns by role-marker lines (`system:`, `user:`, `assistant:`). The body is a Jinja2
template rendered in a sandbox with StrictUndefined.

Two rules keep rendering safe:
- Input values are data. Every `{{ expression }}` result is wrapped in private-use sentinels
  while the body is split into turns, so a value containing `user:` or `{{ ... }}` can neither
  open a new turn nor be evaluated: it comes out literally.
- The template itself may not reach for Python internals (dunder attributes): refused at load,
  and the sandbox refuses at render what a static look cannot see.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import UserError
from .models.base import Message, Params, Request
from .text import levenshtein_distance
from .yamlfile import LineMap, load_yaml, validation_error

PROMPT_SUFFIXES = (".prompty", ".prompt.md", ".prompt", ".md")
ROLES = ("system", "user", "assistant")
InputKind = Literal["string", "number", "integer", "boolean", "array", "object"]

_MARKER = re.compile(r"^\s*#?\s*([A-Za-z_][\w-]*)\s*:\s*$")
# Role names other tools use that mean nothing here: almost always a mistake.
_FOREIGN_ROLES = {"human", "ai", "bot", "developer", "function", "tool"}
_DUNDER = re.compile(r"__\w+__")
_DATA_OPEN, _DATA_CLOSE = "\ue000", "\ue001"


class TemplateBoundError(UserError):
    """A render crossed a bound (time, steps, size, recursion): the template's doing, whatever
    the inputs, so a run stops rendering it instead of paying the bound case after case."""


# ---- front matter schema -----------------------------------------------------------------


class InputSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    kind: InputKind = "string"
    description: str | None = None
    default: Any = None
    required: bool | None = None
    sample: Any = None
    example: Any = None
    enum: list[Any] | None = Field(default=None, alias="enumValues")

    @model_validator(mode="before")
    @classmethod
    def _accept_prompty_v1(cls, data: Any) -> Any:
        # Prompty v1 wrote `type:`; Prompty 2 writes `kind:`. Accept both, write `kind:`.
        if isinstance(data, dict) and "type" in data and "kind" not in data:
            data = {**data, "kind": data["type"]}
            del data["type"]
        if isinstance(data, dict) and "enum" in data and "enumValues" not in data:
            data = {k: v for k, v in data.items() if k != "enum"} | {"enumValues": data["enum"]}
        return data

    @property
    def is_required(self) -> bool:
        if self.required is not None:
            return self.required
        return self.default is None


class ModelSpec(BaseModel):
    """`model:` in the front matter: our `id` form, Prompty v1 or Prompty 2 forms."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    parameters: Params = Field(default_factory=Params)

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"id": data}
        if not isinstance(data, dict):
            return data
        data = dict(data)
        out: dict[str, Any] = {}
        provider = data.pop("provider", None)
        conf = data.pop("configuration", None) or data.pop("connection", None)
        data.pop("api", None)
        data.pop("apiType", None)
        model_id = data.pop("id", None)
        if model_id is None and isinstance(conf, dict):
            model_id = conf.get("name") or conf.get("model") or conf.get("azure_deployment")
            provider = provider or conf.get("type")
        if model_id is not None:
            model_id = str(model_id)
            if provider and provider != "*" and ":" not in model_id:
                # Azure and Foundry deployments speak the OpenAI API (set base_url in config).
                provider = (
                    "openai" if provider in {"azure_openai", "azure", "foundry"} else provider
                )
                model_id = f"{provider}:{model_id}"
            out["id"] = model_id
        params: dict[str, Any] = dict(data.pop("parameters", None) or {})
        v2 = data.pop("options", None) or {}
        renames = {
            "maxOutputTokens": "max_tokens",
            "topP": "top_p",
            "stopSequences": "stop",
        }
        for key, value in dict(v2).items():
            params.setdefault(renames.get(key, key), value)
        if isinstance(params.get("stop"), str):
            params["stop"] = [params["stop"]]
        out["parameters"] = params
        out.update(data)  # anything left over is unknown: let validation name it
        return out


class FrontMatter(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str | None = None
    description: str | None = None
    version: str | None = None
    authors: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    model: ModelSpec | None = None
    inputs: dict[str, InputSpec] = Field(default_factory=dict)
    outputs: dict[str, InputSpec] = Field(default_factory=dict)
    sample: dict[str, Any] = Field(default_factory=dict)
    # Prompty keys we read but do not act on (kept so files from other tools load).
    template: Any = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    schema_: str | None = Field(default=None, alias="$schema")
    # prompteur's own keys
    domain: str | None = None
    targets: list[str] = Field(default_factory=list, description="models this prompt is tuned for")
    examples: list[dict[str, Any]] = Field(
        default_factory=list, description="few-shot demonstrations, available as `examples`"
    )
    output_schema: dict[str, Any] | None = Field(
        default=None, description="a full JSON Schema for JSON output"
    )

    @field_validator("inputs", "outputs", mode="before")
    @classmethod
    def _inputs_forms(cls, value: Any) -> Any:
        # Prompty 2 also allows a list of {name, kind, ...}; a bare value is a default.
        if isinstance(value, list):
            return {
                str(item.get("name")): {k: v for k, v in item.items() if k != "name"}
                for item in value
                if isinstance(item, dict)
            }
        if isinstance(value, dict):
            return {k: (v if isinstance(v, dict) else {"default": v}) for k, v in value.items()}
        return value

    @field_validator("authors", "tags", "targets", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


KNOWN_KEYS = [f.alias or n for n, f in FrontMatter.model_fields.items()]


# ---- the prompt ------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    role: str
    template: str
    line: int  # file line of the first template line


@dataclass
class Prompt:
    name: str
    meta: FrontMatter
    body: str
    body_line: int
    text: str
    path: Path | None = None
    segments: list[Segment] = field(default_factory=list)

    # -- identity --
    @property
    def version(self) -> str:
        """Content hash of the file: the same bytes (line endings aside) give the same version."""
        return content_hash(self.text)

    @property
    def short_version(self) -> str:
        return self.version[:12]

    @property
    def source(self) -> str:
        return str(self.path) if self.path else f"<{self.name}>"

    @property
    def model_id(self) -> str | None:
        return self.meta.model.id if self.meta.model else None

    @property
    def params(self) -> Params:
        return self.meta.model.parameters if self.meta.model else Params()

    @property
    def output_schema(self) -> dict[str, Any] | None:
        """JSON Schema of the expected output, or None for free text."""
        if self.meta.output_schema:
            return self.meta.output_schema
        if not self.meta.outputs:
            return None
        kinds = {
            "string": "string",
            "number": "number",
            "integer": "integer",
            "boolean": "boolean",
            "array": "array",
            "object": "object",
        }
        return {
            "type": "object",
            "properties": {
                k: {
                    "type": kinds[v.kind],
                    **({"description": v.description} if v.description else {}),
                }
                for k, v in self.meta.outputs.items()
            },
            "required": list(self.meta.outputs),
        }

    # -- inputs --
    def resolve_inputs(
        self, given: Mapping[str, Any], *, from_strings: bool | Collection[str] = False
    ) -> dict[str, Any]:
        """Check inputs against the declared ones and fill defaults.

        `from_strings` (all, or the names of some): values typed on a command line (`-i n=3`)
        are converted to the declared kind; values from JSON must already have it.
        """
        declared = self.meta.inputs
        values: dict[str, Any] = {}
        if declared:
            unknown = sorted(set(given) - set(declared))
            if unknown:
                raise UserError(
                    f"unknown input '{unknown[0]}'",
                    file=self.source,
                    field=f"inputs.{unknown[0]}",
                    hint=f"declared inputs: {', '.join(declared)}",
                )
        for name, spec in declared.items():
            if name in given:
                value = given[name]
                as_text = from_strings is True or (
                    not isinstance(from_strings, bool) and name in from_strings
                )
                if as_text and isinstance(value, str):
                    value = _from_string(value, spec.kind, self.source, name)
                _check_kind(value, spec, self.source, name)
                values[name] = value
            elif spec.default is not None:
                values[name] = spec.default
            elif spec.is_required:
                raise UserError(
                    "missing input",
                    file=self.source,
                    field=f"inputs.{name}",
                    hint=f"pass it with -i {name}=...",
                )
        for name, value in given.items():
            values.setdefault(name, value)
        return values

    # -- rendering --
    def render(
        self,
        inputs: Mapping[str, Any] | None = None,
        *,
        from_strings: bool | Collection[str] = False,
    ) -> list[Message]:
        values = self.resolve_inputs(inputs or {}, from_strings=from_strings)
        context = {"examples": self.meta.examples, **values}
        return _render(self, context)

    def request(
        self,
        inputs: Mapping[str, Any] | None = None,
        *,
        params: Params | None = None,
        from_strings: bool | Collection[str] = False,
    ) -> Request:
        return Request(
            messages=tuple(self.render(inputs, from_strings=from_strings)),
            params=self.params.merged(params),
        )


def template_turns(prompt: Prompt) -> list[Segment]:
    """The body's turns as written (templates, before rendering): text with no marker line
    before the first one is a user turn."""
    turns: list[Segment] = []
    role, start, lines = "user", prompt.body_line, []
    for i, line in enumerate(prompt.body.split("\n")):
        m = _MARKER.match(line)
        if m and m.group(1).lower() in ROLES:
            if any(ln.strip() for ln in lines):
                turns.append(Segment(role, "\n".join(lines), start))
            role, start, lines = m.group(1).lower(), prompt.body_line + i + 1, []
        else:
            lines.append(line)
    if any(ln.strip() for ln in lines):
        turns.append(Segment(role, "\n".join(lines), start))
    return turns


def content_hash(text: str) -> str:
    return hashlib.sha256(text.replace("\r\n", "\n").encode("utf-8")).hexdigest()


# ---- parsing -----------------------------------------------------------------------------


def load_prompt(path: str | Path) -> Prompt:
    from . import limits
    from .yamlfile import read_bytes

    path = Path(path)
    raw = read_bytes(path, "prompt file", max_bytes=limits.current().prompt_bytes)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UserError("not valid UTF-8 text", file=path, line=line) from None
    return parse_prompt(text, path=path)


def stem_name(path: Path) -> str:
    name = path.name
    for suffix in PROMPT_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def parse_prompt(text: str, *, path: str | Path | None = None, name: str | None = None) -> Prompt:
    path = Path(path) if path is not None else None
    source = str(path) if path else f"<{name or 'prompt'}>"
    if "\x00" in text:
        raise UserError("contains a NUL byte: not a text file", file=source)
    from . import limits

    bound = limits.current().prompt_bytes
    if len(text) > bound:
        raise UserError(
            f"prompt too large: {len(text):,} characters (the limit is {bound:,})", file=source
        )
    norm = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = norm.split("\n")
    front: dict[str, Any] = {}
    linemap = LineMap({}, 1)
    body_start = 0  # index into lines
    if lines and lines[0].strip() == "---":
        try:
            end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
        except StopIteration:
            raise UserError(
                "front matter is not closed",
                file=source,
                line=1,
                hint="end it with a line containing only ---",
            ) from None
        data, linemap = load_yaml("\n".join(lines[1:end]), source, line_offset=1)
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise UserError("front matter must be a YAML mapping (key: value)", file=source, line=2)
        front = data
        body_start = end + 1
    try:
        meta = FrontMatter.model_validate(front)
    except ValidationError as exc:
        raise validation_error(exc, linemap, source, known=KNOWN_KEYS, model=FrontMatter) from None
    body = "\n".join(lines[body_start:])
    prompt = Prompt(
        name=meta.name or name or (stem_name(path) if path else "prompt"),
        meta=meta,
        body=body,
        body_line=body_start + 1,
        text=text,
        path=path,
    )
    _check_model_id(prompt, linemap)
    _check_template(prompt, lines[body_start:])
    return prompt


def _check_model_id(prompt: Prompt, linemap: LineMap) -> None:
    """An unknown provider in `model:` is a mistake in this file: say where."""
    if not prompt.model_id:
        return
    from .models.registry import parse_model_id

    try:
        parse_model_id(prompt.model_id)
    except UserError as exc:
        raise UserError(
            exc.message,
            file=prompt.source,
            line=linemap.line(("model", "id"))
            if ("model", "id") in linemap
            else linemap.line(("model",)),
            field="model.id",
            hint=exc.hint,
        ) from None


def _check_template(prompt: Prompt, body_lines: list[str]) -> None:
    for i, line in enumerate(body_lines):
        lineno = prompt.body_line + i
        m = _DUNDER.search(line)
        if m and ("{{" in line or "{%" in line or "}}" in line or "%}" in line):
            raise UserError(
                f"template reaches for Python internals ('{m.group(0)}'): refused",
                file=prompt.source,
                line=lineno,
                field="body",
            )
        marker = _MARKER.match(line)
        if marker:
            word = marker.group(1).lower()
            if word in ROLES:
                continue
            close = _close_role(word)
            if close or word in _FOREIGN_ROLES:
                hint = (
                    f"did you mean '{close}:'?"
                    if close
                    else "roles are system:, user: and assistant:"
                )
                raise UserError(
                    f"unknown role marker '{marker.group(1)}:'",
                    file=prompt.source,
                    line=lineno,
                    field="body",
                    hint=hint
                    + " To keep the line as text, write it as {{ '"
                    + marker.group(1)
                    + ":' }}",
                )
    # Compile once now so a syntax error surfaces at load time, with its line.
    _compile(prompt)


def _close_role(word: str) -> str | None:
    if len(word) < 3:
        return None
    for role in ROLES:
        if levenshtein_distance(word, role) <= (1 if len(role) <= 4 else 2):
            return role
    return None


# ---- rendering ---------------------------------------------------------------------------

_ENV = None


def _environment() -> Any:
    global _ENV
    if _ENV is None:
        from jinja2 import StrictUndefined

        from .sandbox import CountingSandbox, budget

        def _mark_data(value: Any) -> str:
            text = "" if value is None else str(value)
            text = text.replace(_DATA_OPEN, "").replace(_DATA_CLOSE, "")
            budget().tick()
            return f"{_DATA_OPEN}{text}{_DATA_CLOSE}"

        env = CountingSandbox(
            undefined=StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            finalize=_mark_data,
        )
        env.filters["json"] = lambda v: json.dumps(v, ensure_ascii=False)
        _ENV = env
    return _ENV


_TEMPLATES: dict[tuple[str, str, str], Any] = {}


def _compile(prompt: Prompt) -> Any:
    # Compiling costs ~1 ms, rendering ~50 µs: an eval renders the same body thousands of
    # times. Keyed by content (a Prompt is mutable); templates are safe to share.
    key = (prompt.body, prompt.name, prompt.source)
    template = _TEMPLATES.get(key)
    if template is not None:
        return template
    from jinja2 import TemplateSyntaxError

    env = _environment()
    filename = prompt.source
    try:
        code = env.compile(prompt.body, name=prompt.name, filename=filename)
    except TemplateSyntaxError as exc:
        line = prompt.body_line + (exc.lineno or 1) - 1
        raise UserError(
            f"template syntax error: {exc.message}", file=prompt.source, line=line, field="body"
        ) from None
    except (RecursionError, MemoryError, SyntaxError):
        # Expressions nested thousands deep: Jinja's parser or Python's compiler gives up.
        raise UserError(
            "template nested too deeply to compile", file=prompt.source, field="body"
        ) from None
    template = env.template_class.from_code(env, code, env.make_globals(None))
    if len(_TEMPLATES) >= 512:  # the optimizer makes many variants: bound the memory
        _TEMPLATES.clear()
    _TEMPLATES[key] = template
    return template


def _template_line(prompt: Prompt, tb: Any) -> int | None:
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == prompt.source:
            line = tb.tb_lineno
        tb = tb.tb_next
    return prompt.body_line + line - 1 if line else None


def _render(prompt: Prompt, context: dict[str, Any]) -> list[Message]:
    from jinja2 import UndefinedError
    from jinja2.sandbox import SecurityError

    from .sandbox import BudgetExceeded, rendering

    template = _compile(prompt)
    try:
        with rendering():
            rendered = template.render(context)
    except UndefinedError as exc:
        m = re.search(r"'([^']+)' is undefined", str(exc))
        what = f"undefined variable '{m.group(1)}'" if m else f"undefined value: {exc}"
        hint = "declare it under inputs: or pass it with -i" if m else None
        raise UserError(
            what,
            file=prompt.source,
            line=_template_line(prompt, exc.__traceback__),
            field="body",
            hint=hint,
        ) from None
    except BudgetExceeded as exc:
        raise TemplateBoundError(
            f"refused by the sandbox: {exc}",
            file=prompt.source,
            line=_template_line(prompt, exc.__traceback__),
            field="body",
        ) from None
    except SecurityError as exc:
        raise UserError(
            f"refused by the sandbox: {exc}",
            file=prompt.source,
            line=_template_line(prompt, exc.__traceback__),
            field="body",
        ) from None
    except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
        raise UserError(
            f"template failed: {exc}",
            file=prompt.source,
            line=_template_line(prompt, exc.__traceback__),
            field="body",
        ) from None
    except RecursionError as exc:
        raise TemplateBoundError(
            "template recursion too deep (a macro or loop calling itself without end?)",
            file=prompt.source,
            line=_template_line(prompt, exc.__traceback__),
            field="body",
        ) from None
    except MemoryError:
        raise TemplateBoundError(
            "template needs more memory than there is", file=prompt.source, field="body"
        ) from None
    return split_roles(rendered)


def split_roles(rendered: str) -> list[Message]:
    """Split rendered text into turns on marker lines that came from the template itself."""
    turns: list[tuple[str, list[str]]] = []
    current: list[str] = []
    role = None
    depth = 0
    for line in rendered.split("\n"):
        if depth == 0 and _DATA_OPEN not in line:
            m = _MARKER.match(line)
            if m and m.group(1).lower() in ROLES:
                if role is not None or any(s.strip() for s in current):
                    turns.append((role or "system", current))
                role, current = m.group(1).lower(), []
                continue
        depth += line.count(_DATA_OPEN) - line.count(_DATA_CLOSE)
        current.append(line)
    turns.append((role or "user", current))
    messages = []
    for r, body in turns:
        content = "\n".join(body).replace(_DATA_OPEN, "").replace(_DATA_CLOSE, "").strip("\n")
        if content.strip():
            messages.append(Message(role=r, content=content.rstrip()))  # type: ignore[arg-type]
    return messages


# ---- input kinds -------------------------------------------------------------------------


def _from_string(value: str, kind: str, source: str, name: str) -> Any:
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value) if any(c in value for c in ".eE") else int(value)
        if kind == "boolean":
            low = value.strip().lower()
            if low in {"true", "yes", "1", "oui", "vrai"}:
                return True
            if low in {"false", "no", "0", "non", "faux"}:
                return False
            raise ValueError(value)
        if kind in {"array", "object"}:
            from .yamlfile import load_json

            try:
                return load_json(value)
            except UserError as exc:
                raise UserError(
                    f"expected {kind}: {exc.message}", file=source, field=f"inputs.{name}"
                ) from None
    except (ValueError, json.JSONDecodeError):
        raise UserError(
            f"expected {kind}, got {value!r}", file=source, field=f"inputs.{name}"
        ) from None
    return value


_KIND_CHECK = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def _check_kind(value: Any, spec: InputSpec, source: str, name: str) -> None:
    if not _KIND_CHECK[spec.kind](value):
        got = type(value).__name__
        raise UserError(
            f"expected {spec.kind}, got {got} {value!r:.60}", file=source, field=f"inputs.{name}"
        )
    if spec.enum and value not in spec.enum:
        raise UserError(f"{value!r} is not one of {spec.enum}", file=source, field=f"inputs.{name}")
