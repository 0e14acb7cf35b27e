"""The brief: what a prompt is for, stated before any prompt is written.

```yaml
name: support-priority            # the prompt's name: prompts/<name>.prompty, suites/<name>.yaml
objective: Decide whether a support message needs an answer today.
audience: the support team's dispatcher          # optional
context: We sell e-bikes; ...                     # optional
role: an experienced support dispatcher          # optional
inputs:
  message: the customer's message, as written    # or {description, kind, label}
output:
  format: label                   # text | label | json (inferred from labels / schema)
  labels: [urgent, normal]
  label: Priority                 # the word before the answer (default Answer / Réponse)
  name: priority                  # the key in demonstrations (default: answer)
  max_words: 80                   # also min_words, max_chars
constraints: [...]
tone: calm and factual
language: en                      # en | fr: the prompt's and the answers' language
demonstrations: 3                 # examples shown in the prompt (default: chosen); the rest test
examples:
  - inputs: {message: "The battery caught fire."}
    output: urgent
```

Loading checks what Pydantic cannot: example inputs against declared inputs (names and
kinds), label outputs against the labels, JSON outputs against the schema, lengths against the
limits. Every error names the file, the line and the field.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import UserError
from ..i18n import plural
from ..prompt import InputKind, Prompt, parse_prompt
from ..yamlfile import LineMap, dotted, load_model, read_text

OutputFormat = Literal["text", "label", "json"]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# Names the template already uses, or that Jinja reads as keywords.
_RESERVED = {"examples", "loop", "true", "false", "none", "and", "or", "not", "in", "is", "if"}


def _one_line(value: str) -> str:
    if "\n" in value.strip():
        raise ValueError("must fit on one line")
    return value.strip()


class InputDecl(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = Field(min_length=1)
    kind: InputKind = "string"
    label: str | None = Field(default=None, description="the word before the value in the prompt")

    @field_validator("label")
    @classmethod
    def _label(cls, value: str | None) -> str | None:
        return None if value is None else _label(value)


class OutputDecl(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    format: OutputFormat | None = None
    description: str | None = None
    labels: list[str] = Field(default_factory=list)
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    name: str = "answer"
    label: str | None = None
    max_words: int | None = Field(default=None, ge=1)
    min_words: int | None = Field(default=None, ge=1)
    max_chars: int | None = Field(default=None, ge=1)

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: list[str]) -> list[str]:
        out = [_one_line(str(v)) for v in value]
        if any(not v for v in out):
            raise ValueError("a label cannot be empty")
        if len(set(out)) != len(out):
            raise ValueError("labels must be distinct")
        return out

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _identifier(value)

    @field_validator("label")
    @classmethod
    def _label(cls, value: str | None) -> str | None:
        return None if value is None else _label(value)

    @property
    def kind(self) -> OutputFormat:
        if self.format:
            return self.format
        if self.labels:
            return "label"
        return "json" if self.schema_ is not None else "text"


class ExampleDecl(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inputs: dict[str, Any]
    output: Any


class BriefFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    objective: str = Field(min_length=1)
    audience: str | None = None
    context: str | None = None
    role: str | None = None
    inputs: dict[str, InputDecl] = Field(min_length=1)
    output: OutputDecl = Field(default_factory=OutputDecl)
    constraints: list[str] = Field(default_factory=list)
    tone: str | None = None
    language: Literal["en", "fr"] = "en"
    demonstrations: int | None = Field(default=None, ge=1)
    examples: list[ExampleDecl] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("use lower-case letters, digits, '-' and '_' (it names files)")
        return value

    @field_validator("inputs", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        # `message: the customer's message` is the common case: a bare description.
        if isinstance(value, dict):
            return {k: {"description": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    @field_validator("inputs")
    @classmethod
    def _input_names(cls, value: dict[str, InputDecl]) -> dict[str, InputDecl]:
        for name in value:
            _identifier(name)
        return value

    @field_validator("constraints")
    @classmethod
    def _constraints(cls, value: list[str]) -> list[str]:
        return [" ".join(str(c).split()) for c in value if str(c).strip()]


def _identifier(name: str) -> str:
    if not _IDENTIFIER.match(name) or name.lower() in _RESERVED:
        raise ValueError(
            f"'{name}' cannot name a template variable: use letters, digits and '_', "
            f"not one of {', '.join(sorted(_RESERVED))}"
        )
    return name


def _label(value: str) -> str:
    """A word written before a value ("Review:"): one line, no template syntax, not a role."""
    value = _one_line(value)
    if not value or any(c in value for c in "{}%#:"):
        raise ValueError("a label is a few words on one line, without { } % # or :")
    # The prompt parser is the authority on what reads as a role marker ("User:", "Sytem:").
    try:
        messages = parse_prompt(f"user:\nx\n{value}:\ny\n").render({})
    except UserError:
        messages = []
    if len(messages) != 1:
        raise ValueError(f"'{value}:' would read as a chat role marker: choose another label")
    return value


@dataclass(frozen=True)
class Example:
    """One example of the brief, with the line it starts on (for messages)."""

    inputs: dict[str, Any]
    output: Any  # a label or text: str; JSON: the parsed value
    index: int

    @property
    def output_text(self) -> str:
        """The output as written in a prompt: JSON on one line, text as it is."""
        if isinstance(self.output, str):
            return self.output
        return json.dumps(self.output, ensure_ascii=False)


@dataclass
class Brief:
    path: Path
    spec: BriefFile
    lines: LineMap
    examples: list[Example]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def output(self) -> OutputDecl:
        return self.spec.output

    def error(self, message: str, loc: tuple[str | int, ...], hint: str | None = None) -> UserError:
        return UserError(
            message, file=self.path, line=self.lines.line(loc), field=dotted(loc), hint=hint
        )


def load_brief(path: str | Path) -> Brief:
    path = Path(path)
    spec, lines = load_model(
        read_text(path, "brief file"),
        BriefFile,
        path,
        what="brief",
        example_keys=("name", "objective", "inputs"),
        known=[*BriefFile.model_fields, *OutputDecl.model_fields, "schema"],
    )
    brief = Brief(path, spec, lines, [])
    _check_output(brief)
    probe = _input_probe(spec)
    brief.examples = [_check_example(brief, probe, i, ex) for i, ex in enumerate(spec.examples)]
    _check_counts(brief)
    return brief


def _check_output(brief: Brief) -> None:
    out = brief.output
    kind = out.kind
    if kind == "label" and len(out.labels) < 2:
        raise brief.error("a label output needs at least two labels", ("output", "labels"))
    if kind != "label" and out.labels:
        raise brief.error(f"labels are for format: label, not {kind}", ("output", "labels"))
    if kind != "json" and out.schema_ is not None:
        raise brief.error(f"a schema is for format: json, not {kind}", ("output", "schema"))
    if out.schema_ is not None:
        from jsonschema.exceptions import SchemaError
        from jsonschema.validators import validator_for

        try:
            validator_for(out.schema_).check_schema(out.schema_)
        except SchemaError as exc:
            raise brief.error(
                f"not a valid JSON Schema: {exc.message}", ("output", "schema")
            ) from None
    if out.min_words and out.max_words and out.min_words > out.max_words:
        raise brief.error("min_words is above max_words", ("output", "min_words"))
    if out.name in brief.spec.inputs:
        raise brief.error(
            f"the output's name '{out.name}' is also an input's",
            ("output", "name"),
            hint="set output.name to another word",
        )


def _input_probe(spec: BriefFile) -> Prompt:
    """A prompt declaring the brief's inputs: its own input check judges the examples, so a
    brief and the prompt drafted from it can never disagree on what a valid input is."""
    inputs = {name: {"kind": decl.kind} for name, decl in spec.inputs.items()}
    return parse_prompt("---\n" + json.dumps({"inputs": inputs}) + "\n---\nuser:\nprobe\n")


def _check_example(brief: Brief, probe: Prompt, i: int, ex: ExampleDecl) -> Example:
    declared = brief.spec.inputs
    for name in ex.inputs:
        if name not in declared:
            raise brief.error(
                f"unknown input '{name}'",
                ("examples", i, "inputs", name),
                hint="declared inputs: " + ", ".join(declared),
            )
    for name in declared:
        if name not in ex.inputs:
            raise brief.error(f"missing input '{name}'", ("examples", i, "inputs"))
    try:
        probe.resolve_inputs(ex.inputs)
    except UserError as exc:
        name = (exc.field or "").removeprefix("inputs.")
        raise brief.error(exc.message, ("examples", i, "inputs", name)) from None
    return Example(dict(ex.inputs), _check_output_value(brief, i, ex.output), i)


def _check_output_value(brief: Brief, i: int, value: Any) -> Any:
    out = brief.output
    loc: tuple[str | int, ...] = ("examples", i, "output")
    kind = out.kind
    if kind == "json":
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise brief.error(f"not JSON: {exc.msg}", loc) from None
        if out.schema_ is not None:
            from jsonschema.validators import validator_for

            validator = validator_for(out.schema_)(out.schema_)
            errors = sorted(validator.iter_errors(value), key=lambda e: list(e.path))
            if errors:
                where = "/".join(str(p) for p in errors[0].path) or "(root)"
                raise brief.error(f"does not match the schema: {where}: {errors[0].message}", loc)
        return value
    if not isinstance(value, str) or not value.strip():
        raise brief.error("the output must be non-empty text", loc)
    if kind == "label":
        if value.strip() not in out.labels:
            raise brief.error(
                f"'{value}' is not one of the labels", loc, hint="labels: " + ", ".join(out.labels)
            )
        return value.strip()
    value = value.strip()
    # Measured the way the word-count and length checks measure.
    words, chars = len(value.split()), len(value)
    if out.max_words and words > out.max_words:
        raise brief.error(f"{words} words, above max_words ({out.max_words})", loc)
    if out.min_words and words < out.min_words:
        raise brief.error(f"{words} words, below min_words ({out.min_words})", loc)
    if out.max_chars and chars > out.max_chars:
        raise brief.error(f"{chars} characters, above max_chars ({out.max_chars})", loc)
    return value


def _check_counts(brief: Brief) -> None:
    n = len(brief.examples)
    if n < 2:
        raise brief.error(
            f"{plural(n, 'example')}: a brief needs at least 2, one to show the model and one "
            "to test it",
            ("examples",),
            hint="add examples: a dozen or more give a suite worth measuring",
        )
    k = brief.spec.demonstrations
    if k is not None and k >= n:
        raise brief.error(
            f"{k} demonstrations leave no example to test on ({n} examples)",
            ("demonstrations",),
            hint=f"at most {n - 1}, or add examples",
        )
