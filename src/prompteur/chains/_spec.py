"""Chain files: prompts in a pipeline, one step's output feeding the next.

```yaml
name: support-reply
description: Classify a ticket, then draft the reply for that category.
inputs:
  ticket: {description: the customer's message}
steps:
  - id: category
    prompt: tri-tickets            # a library name, or a path relative to this file
    inputs: {message: $inputs.ticket}
    parse: {regex: "(facturation|livraison|technique|compte)"}
  - id: reply
    prompt: prompts/reply.prompty
    model: local                   # optional; default: the prompt's, then the project's
    inputs: {categorie: $steps.category, message: $inputs.ticket}
output: reply                      # default: the last step
```

An input value starting with `$` is a reference: `$inputs.NAME`, `$steps.ID` (that step's
output, parsed), or `$steps.ID.FIELD` (a field of a step parsed as JSON); anything else is a
literal. A prompt input with the name of a chain input is filled from it when not mapped.
Steps run in dependency order, so a cycle is an error, as are unknown references and prompt
inputs nothing fills — each named by file, line and field before any model call.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import UserError
from ..yamlfile import LineMap, load_model, read_text

if TYPE_CHECKING:
    from ..library import Library
    from ..prompt import Prompt

_ID = re.compile(r"^[A-Za-z_][\w-]*$")


class ParseSpec(BaseModel):
    """How to turn a step's raw text into its value: JSON (optionally one field), or the
    first match of a regular expression (a group by number or name)."""

    model_config = ConfigDict(extra="forbid")

    json_: bool | str | None = Field(default=None, alias="json")
    regex: str | None = None
    group: int | str = 0
    strip: bool = True

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        return value


class StepSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    prompt: str
    inputs: dict[str, Any] = Field(default_factory=dict)
    model: str | None = None
    parse: ParseSpec | None = None
    description: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("a step id is a word: letters, digits, - and _")
        return value

    @field_validator("parse", mode="before")
    @classmethod
    def _short(cls, value: Any) -> Any:
        return {"json": True} if value == "json" else value


class ChainInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str | None = None
    default: Any = None


class ChainFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    description: str | None = None
    model: str | None = None
    inputs: dict[str, ChainInput] = Field(default_factory=dict)
    steps: list[StepSpec] = Field(min_length=1)
    output: str | None = None

    @field_validator("inputs", mode="before")
    @classmethod
    def _forms(cls, value: Any) -> Any:
        if isinstance(value, list):
            return {str(v): {} for v in value}
        if isinstance(value, dict):
            return {k: (v if isinstance(v, dict) else {"default": v}) for k, v in value.items()}
        return value


@dataclass(frozen=True)
class Ref:
    kind: str  # "inputs" | "steps" | "literal"
    name: str = ""
    field: str | None = None
    value: Any = None


def parse_ref(value: Any) -> Ref:
    if isinstance(value, str) and value.startswith("$"):
        parts = value[1:].split(".")
        if parts[0] == "inputs" and len(parts) == 2:
            return Ref("inputs", parts[1])
        if parts[0] == "steps" and len(parts) in (2, 3):
            return Ref("steps", parts[1], parts[2] if len(parts) == 3 else None)
        raise ValueError(f"bad reference {value!r}: use $inputs.NAME, $steps.ID or $steps.ID.FIELD")
    return Ref("literal", value=value)


@dataclass
class Step:
    spec: StepSpec
    prompt: Prompt
    refs: dict[str, Ref]
    line: int

    @property
    def id(self) -> str:
        return self.spec.id


@dataclass
class Chain:
    path: Path
    spec: ChainFile
    steps: list[Step]  # in execution order
    lines: LineMap = field(repr=False)
    text: str = ""

    @property
    def name(self) -> str:
        if self.spec.name:
            return self.spec.name
        stem = self.path.name
        for suffix in (".chain.yaml", ".chain.yml", ".yaml", ".yml"):
            if stem.endswith(suffix):
                return stem[: -len(suffix)]
        return stem

    @property
    def output_step(self) -> str:
        return self.spec.output or self.spec.steps[-1].id

    @property
    def version(self) -> str:
        """The chain file and every step prompt's version: editing a prompt makes a new
        chain version, as it changes what the chain does."""
        blob = self.text.replace("\r\n", "\n") + "".join(
            f"\n{s.id}={s.prompt.version}" for s in self.steps
        )
        return hashlib.sha256(blob.encode()).hexdigest()

    def resolve_inputs(self, given: dict[str, Any]) -> dict[str, Any]:
        declared = self.spec.inputs
        unknown = sorted(set(given) - set(declared))
        if unknown:
            raise UserError(
                f"unknown chain input '{unknown[0]}'",
                file=self.path,
                line=self.lines.line(("inputs",)),
                field="inputs",
                hint="declared: " + (", ".join(declared) or "none"),
            )
        values = dict(given)
        for name, spec in declared.items():
            if name not in values:
                if spec.default is None:
                    raise UserError(
                        "missing input",
                        file=self.path,
                        line=self.lines.line(("inputs", name)),
                        field=f"inputs.{name}",
                        hint=f"pass it with --input {name}=...",
                    )
                values[name] = spec.default
        return values


def _step_error(
    message: str, path: Path, lines: LineMap, loc: tuple[Any, ...], hint: str | None = None
) -> UserError:
    from ..yamlfile import dotted

    return UserError(message, file=path, line=lines.line(loc), field=dotted(loc), hint=hint)


def _load_step_prompt(library: Library, ref: str, base: Path) -> Prompt:
    """A step's prompt: a library name, or a prompt file next to the chain — inside the
    project (a chain file is data: it cannot make prompteur read any file)."""
    from ..prompt import PROMPT_SUFFIXES, load_prompt

    if ref.endswith(PROMPT_SUFFIXES) or "/" in ref:
        candidate = library.in_project(ref, base, what="prompt file")
        if candidate.is_file():
            return load_prompt(candidate)
    return library.get(ref)


def load_chain(path: str | Path, library: Library) -> Chain:
    """Parse and validate a chain file; every mistake names file, line and field."""
    path = Path(path)
    text = read_text(path, "chain file")
    spec, lines = load_model(text, ChainFile, path, what="chain", example_keys=("inputs", "steps"))

    ids: dict[str, int] = {}
    for i, s in enumerate(spec.steps):
        if s.id in ids:
            raise _step_error(
                f"step id '{s.id}' is used twice",
                path,
                lines,
                ("steps", i, "id"),
                hint=f"first at steps[{ids[s.id]}]",
            )
        ids[s.id] = i
    if spec.output is not None and spec.output not in ids:
        raise _step_error(
            f"unknown step '{spec.output}'",
            path,
            lines,
            ("output",),
            hint="steps: " + ", ".join(ids),
        )

    steps: dict[str, Step] = {}
    graph: dict[str, set[str]] = {}
    for i, s in enumerate(spec.steps):
        try:
            prompt = _load_step_prompt(library, s.prompt, path.parent)
        except UserError as exc:
            raise _step_error(
                exc.message if exc.file is None else exc.render(),
                path,
                lines,
                ("steps", i, "prompt"),
                hint=exc.hint,
            ) from None
        refs: dict[str, Ref] = {}
        for key, value in s.inputs.items():
            loc = ("steps", i, "inputs", key)
            try:
                ref = parse_ref(value)
            except ValueError as exc:
                raise _step_error(str(exc), path, lines, loc) from None
            if ref.kind == "inputs" and ref.name not in spec.inputs:
                raise _step_error(
                    f"unknown chain input '{ref.name}'",
                    path,
                    lines,
                    loc,
                    hint="declare it under inputs:",
                )
            if ref.kind == "steps":
                if ref.name not in ids:
                    raise _step_error(
                        f"unknown step '{ref.name}'",
                        path,
                        lines,
                        loc,
                        hint="steps: " + ", ".join(ids),
                    )
                if ref.name == s.id:
                    raise _step_error("a step cannot use its own output", path, lines, loc)
            if prompt.meta.inputs and key not in prompt.meta.inputs:
                raise _step_error(
                    f"prompt '{prompt.name}' has no input '{key}'",
                    path,
                    lines,
                    loc,
                    hint="its inputs: " + ", ".join(prompt.meta.inputs),
                )
            refs[key] = ref
        for name, ispec in prompt.meta.inputs.items():
            if name in refs:
                continue
            if name in spec.inputs:  # same name as a chain input: filled from it
                refs[name] = Ref("inputs", name)
            elif ispec.is_required or (ispec.default is None and name in prompt.variables()):
                # an optional input renders as nothing (Prompty's rule); in a chain, one the
                # body uses and no step fills is a wiring mistake
                raise _step_error(
                    f"nothing fills the input '{name}' of prompt '{prompt.name}'",
                    path,
                    lines,
                    ("steps", i, "inputs"),
                    hint=f"map it, e.g. {name}: $inputs.{name} or $steps.ID",
                )
        steps[s.id] = Step(s, prompt, refs, lines.line(("steps", i)))
        graph[s.id] = {r.name for r in refs.values() if r.kind == "steps"}

    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        cycle = exc.args[1]
        first = cycle[0]
        raise _step_error(
            "the steps form a cycle: " + " → ".join(cycle),
            path,
            lines,
            ("steps", ids[first], "inputs"),
        ) from None
    # Keep the file's order among independent steps: predictable traces.
    ranked = sorted(order, key=lambda sid: (_depth(sid, graph), ids[sid]))
    return Chain(path, spec, [steps[sid] for sid in ranked], lines, text)


def _depth(sid: str, graph: dict[str, set[str]], seen: frozenset[str] = frozenset()) -> int:
    deps = graph.get(sid, set()) - seen
    return 0 if not deps else 1 + max(_depth(d, graph, seen | {sid}) for d in deps)
