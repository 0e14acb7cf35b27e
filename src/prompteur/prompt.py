"""Prompt files: parse, validate inputs, render to messages — the way Prompty does.

A prompt file is a Prompty file: YAML front matter (see `frontmatter.py`) and a body, a
template (Jinja2, or Mustache when the file says so) split into chat turns by role-marker lines
(`system:`, `user:`, `assistant:`, `developer:`, optionally `# user:` or `user[name="x"]:`).
Rendering follows Prompty's runtime (PyPI `prompty` 2.x) so that a file gives the same
messages here and there: text before the first marker is a system turn, a turn keeps its text
as rendered (only blank lines around it trimmed), a missing optional input renders as nothing,
and rich inputs (`thread`, `image`, `file`, `audio`) become turns and content parts.

Two rules keep rendering safe:
- Input values are data. Every `{{ expression }}` result is wrapped in private-use sentinels
  while the body is split into turns, so a value containing `user:` or `{{ ... }}` can neither
  open a new turn nor be evaluated: it comes out literally. (Prompty's runtime gets the same
  guarantee by refusing to render such a value; here the value stays text in its turn.)
- The template itself may not reach for Python internals (dunder attributes): refused at load,
  and the sandbox refuses at render what a static look cannot see.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ValidationError

from .errors import UserError
from .frontmatter import (
    JINJA_FORMATS,
    KNOWN_KEYS,
    Context,
    FrontMatter,
    InputSpec,
    ModelSpec,
    ToolSpec,
    Variant,
    normalise,
    resolve_references,
    split_file,
)
from .models.base import Message, Params, Part, Request, Tool
from .models.structured import OutputSchema
from .text import levenshtein_distance
from .yamlfile import LineMap, dotted, load_yaml, validation_error

if TYPE_CHECKING:
    from .config import Config

__all__ = [
    "KNOWN_KEYS",
    "PROMPT_SUFFIXES",
    "ROLES",
    "FrontMatter",
    "InputSpec",
    "ModelSpec",
    "Prompt",
    "Segment",
    "ToolSpec",
    "Variant",
    "content_hash",
    "load_prompt",
    "parse_prompt",
    "split_roles",
    "stem_name",
    "template_turns",
]

PROMPT_SUFFIXES = (".prompty", ".prompt.md", ".prompt", ".md")
# The kinds a brief may give an input (`prompteur draft`); a prompt file reads every Prompty kind.
InputKind = Literal["string", "number", "integer", "boolean", "array", "object"]
ROLES = ("system", "user", "assistant", "developer")

# Prompty's role boundary: a line that is only `role:` or `role[key=value, …]:`, possibly
# indented or after a `#` (a Markdown heading). Quantifiers possessive: linear on any line.
_BOUNDARY = re.compile(
    r"(?i)^\s*#?\s*(" + "|".join(ROLES) + r")"
    r"(\[(?:\w++\s*+=\s*+(?:\"[^\"]*\"|[^\",\]]*+)\s*+,?+\s*+)+\])?\s*:\s*$"
)
_MARKER = re.compile(r"^\s*#?\s*([A-Za-z_][\w-]*)\s*:\s*$")
# Role names other tools use: Prompty reads such a line as text, which is rarely what the
# author meant; noted, not refused.
FOREIGN_ROLES = {"human", "ai", "bot", "function", "tool", "model"}
_DUNDER = re.compile(r"__\w+__")
_DATA_OPEN, _DATA_CLOSE = "\ue000", "\ue001"


class TemplateBoundError(UserError):
    """A render crossed a bound (time, steps, size, recursion): the template's doing, whatever
    the inputs, so a run stops rendering it instead of paying the bound case after case."""


# Prompty's provider names → ours. Foundry's and Azure's executors both call Azure OpenAI.
_MODEL_ALIASES = {
    "azure": "azure_openai",
    "foundry": "azure_openai",
    "serverless": "openai-compatible",
}
_AZURE_HOSTS = (".openai.azure.com", ".services.ai.azure.com", ".cognitiveservices.azure.com")


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
    # What loads but is probably a mistake (unknown keys, a misspelt role marker…).
    notes: list[UserError] = field(default_factory=list)
    # canonical field → (its path in the file, its line): errors name what the file says
    fields: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    # The variant this prompt was made for (`for_model`); None: the default.
    variant: str | None = None
    # (variant index, "body" | "system") → file line of its first template line
    variant_lines: dict[tuple[int, str], int] = field(default_factory=dict, repr=False)
    _by_variant: dict[str, Prompt] = field(default_factory=dict, repr=False, compare=False)

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

    # -- model --
    @property
    def model_name(self) -> str | None:
        """The model as the file names it (`gpt-4o`, `openai:gpt-4o`), or None."""
        return self.meta.model.id if self.meta.model else None

    @property
    def model_id(self) -> str | None:
        """`provider:model` when the file says which provider (or its connection's endpoint
        does), else None: a bare model name is resolved at call time (`resolved_model_id`)."""
        spec = self.meta.model
        if spec is None or not spec.id:
            return None
        return connection_model_id(spec, resolve=False)

    def resolved_model_id(self, config: Config | None) -> str | None:
        """The model to call for this prompt: its own (with its connection's endpoint, read
        now from the environment when the file says so), else a bare model name through the
        project's default provider (the embedded model when that is `local`), else None."""
        spec = self.meta.model
        own = connection_model_id(spec, resolve=True) if spec and spec.id else None
        if own:
            return own
        name = self.model_name
        if not name:
            return None
        default = config.data.project.default_model if config is not None else "local"
        provider = default.partition(":")[0]
        return "local" if provider == "local" else f"{provider}:{name}"

    # -- variants per model --
    def variant_for(self, model_id: str | None) -> Variant | None:
        """The first variant whose globs match `model_id`; None: the default serves it."""
        if not model_id:
            return None
        return next((v for v in self.meta.variants if v.matches(model_id)), None)

    def for_model(self, model_id: str | None) -> Prompt:
        """This prompt as it runs on `model_id`: its variant for that model applied (body,
        system turn, examples, parameters), else itself. The file, hence the version, is the
        same: a label pins every variant at once."""
        chosen = self.variant_for(model_id)
        if chosen is None:
            return self
        made = self._by_variant.get(chosen.name)
        if made is None:
            made = self._by_variant[chosen.name] = _apply_variant(self, chosen)
        return made

    @property
    def params(self) -> Params:
        return self.meta.model.parameters if self.meta.model else Params()

    @property
    def tools(self) -> tuple[Tool, ...]:
        """The function tools offered to the model (other kinds stay in the file)."""
        return tuple(
            Tool(t.name, t.description, t.parameters_schema(), t.strict)
            for t in self.meta.tools
            if t.kind == "function"
        )

    @property
    def output_schema(self) -> dict[str, Any] | None:
        """JSON Schema of the expected output, or None for free text."""
        if self.meta.output_schema:
            return self.meta.output_schema
        if not self.meta.outputs:
            return None
        return {
            "type": "object",
            "properties": {k: v.json_schema() for k, v in self.meta.outputs.items()},
            "required": list(self.meta.outputs),
        }

    def where(self, canonical: str) -> tuple[str, int | None]:
        """(field as written in the file, line) for a canonical field such as `inputs.x`."""
        return self.fields.get(canonical, (canonical, None))

    def input_error(self, name: str, message: str, hint: str | None = None) -> UserError:
        fld, line = self.where(f"inputs.{name}")
        return UserError(message, file=self.source, line=line, field=fld, hint=hint)

    # -- inputs --
    def resolve_inputs(
        self, given: Mapping[str, Any], *, from_strings: bool | Collection[str] = False
    ) -> dict[str, Any]:
        """Check inputs against the declared ones and fill defaults (Prompty's rules: a default
        fills a missing input; only `required: true` makes a missing one an error).

        `from_strings` (all, or the names of some): values typed on a command line (`-i n=3`)
        are converted to the declared kind; values from JSON must already have it.
        """
        declared = self.meta.inputs
        values: dict[str, Any] = {}
        if declared:
            extra = set(given) - set(declared)
            unknown = sorted(extra - self.variables()) if extra else []
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
                    value = _from_string(value, spec.kind, self, name)
                _check_kind(value, spec, self, name)
                values[name] = value
            elif spec.default is not None:
                values[name] = spec.default
            elif spec.is_required:
                raise self.input_error(name, "missing input", hint=f"pass it with -i {name}=...")
        for name, value in given.items():
            values.setdefault(name, value)
        return values

    def variables(self) -> set[str]:
        """Names the body reads that it does not set itself (Jinja bodies only)."""
        if self.meta.template.format not in JINJA_FORMATS:
            return set()
        from jinja2 import meta

        try:
            return set(meta.find_undeclared_variables(_environment().parse(self.body)))
        except Exception:  # it compiled at load; never let a second look fail a render
            return set()

    # -- rendering --
    def render(
        self,
        inputs: Mapping[str, Any] | None = None,
        *,
        from_strings: bool | Collection[str] = False,
        strict: bool = False,
    ) -> list[Message]:
        """The messages, as Prompty's `prepare()` gives them.

        `strict`: a variable the inputs leave undefined is an error instead of empty text
        (evaluation runs use it: a case that forgets an input is a broken case).
        """
        values = self.resolve_inputs(inputs or {}, from_strings=from_strings)
        return _render(self, values, strict=strict)

    def request(
        self,
        inputs: Mapping[str, Any] | None = None,
        *,
        params: Params | None = None,
        from_strings: bool | Collection[str] = False,
        strict: bool = False,
    ) -> Request:
        return Request(
            messages=tuple(self.render(inputs, from_strings=from_strings, strict=strict)),
            params=self.params.merged(params),
            tools=self.tools,
            output=self.output_contract,
        )

    @property
    def output_contract(self) -> OutputSchema | None:
        """The output schema the model is held to (None: free text, or `enforce: false`)."""
        schema = self.output_schema
        if schema is None or not self.meta.enforce:
            return None
        return OutputSchema(schema, self.name)


def connection_model_id(spec: ModelSpec, *, resolve: bool) -> str | None:
    """Our model id for a file's `model:` and its connection (Prompty's `connection` or v1's
    `configuration`): the provider, and for Azure or an OpenAI-compatible server the endpoint
    and the key's variable, in the id — so that the rule on endpoints sees them.

    `resolve`: read `${env:}` endpoints now (call time); at load they are left out.
    """
    import os

    from .frontmatter import env_reference, looks_secret

    assert spec.id
    conn = spec.connection or {}
    if conn.get("kind") == "reference":
        conn = {}  # a client registered in code, in Prompty: nothing here to map
    url: str | None = None
    raw = conn.get("endpoint") or conn.get("azure_endpoint") or conn.get("base_url")
    ambient = False
    if isinstance(raw, str):
        env = env_reference(raw)
        if env is None:
            url = raw
        elif env[0] == "AZURE_OPENAI_ENDPOINT":
            ambient = True  # what the Azure provider reads itself
        elif resolve and not looks_secret(env[0]):
            url = _endpoint(os.environ.get(env[0]) or env[1] or None)
    key = conn.get("apiKey") or conn.get("api_key")
    key_var = env_reference(key)[0] if isinstance(key, str) and env_reference(key) else None
    provider = spec.provider if spec.provider not in (None, "", "*") else None
    provider = _MODEL_ALIASES.get(provider, provider) if provider else None
    if provider is None and url:
        host = (url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]).lower()
        if host.endswith(_AZURE_HOSTS):
            provider = "azure_openai"
        elif host != "api.openai.com" and host != "api.anthropic.com":
            provider = "openai-compatible"
        else:
            provider = "openai" if host == "api.openai.com" else "anthropic"
    if provider is None and ambient:
        provider = "azure_openai"
    if provider == "azure_openai":
        name = spec.id.removeprefix("azure_openai:")
        own_key = f"#{key_var}" if key_var and key_var != "AZURE_OPENAI_API_KEY" else ""
        return f"azure_openai:{name}{'@' + url if url else ''}{own_key}"
    if provider == "openai-compatible" or (provider == "openai" and url and not _is_openai(url)):
        return f"openai-compatible:{spec.id}@{url}" if url else None
    return qualify(spec.id, provider)


def _endpoint(value: str | None) -> str | None:
    """An endpoint read from the environment, only if it is one: an http(s) URL without
    credentials (a prompt from the store must not turn any variable into an id, or an error)."""
    from urllib.parse import urlsplit

    if not value:
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username:
        return None
    return value


def _is_openai(url: str) -> bool:
    return url.rstrip("/") in ("https://api.openai.com/v1", "https://api.openai.com")


def qualify(model_id: str, provider: str | None) -> str | None:
    """`provider:name` for a model the file names, or None when no provider is known.

    Without `provider:`, an id is ours (`openai:gpt-4o`) only when its prefix is a provider we
    know: `llama3:8b` or `ft:gpt-4o:org` are model names, not providers.
    """
    from .models.providers import known_provider

    if provider and provider != "*":
        provider = _MODEL_ALIASES.get(provider, provider)
        return model_id if model_id.startswith(f"{provider}:") else f"{provider}:{model_id}"
    if model_id == "local":
        return model_id
    prefix, sep, _ = model_id.partition(":")
    return model_id if sep and known_provider(prefix) else None


def _apply_variant(prompt: Prompt, v: Variant) -> Prompt:
    index = prompt.meta.variants.index(v)
    body, body_line = prompt.body, prompt.body_line
    if v.body is not None:
        body, body_line = v.body, prompt.variant_lines.get((index, "body"), prompt.body_line)
    if v.system is not None:
        base = replace_body(prompt, body, body_line)
        turns = [t for t in template_turns(base) if t.role != "system"]
        body = "system:\n" + v.system.rstrip("\n") + "\n\n"
        body += "\n".join(f"{t.role}:\n{t.template.strip(chr(10))}\n" for t in turns)
        # The system text sits one line below the `system:` marker written above it.
        body_line = prompt.variant_lines.get((index, "system"), body_line + 1) - 1
    meta = prompt.meta.model_copy(
        update={
            "variants": [],
            "examples": prompt.meta.examples if v.examples is None else v.examples,
            "model": (prompt.meta.model or ModelSpec()).model_copy(
                update={"parameters": prompt.params.merged(v.parameters)}
            ),
        }
    )
    made = replace_body(prompt, body, body_line, meta=meta)
    made.variant = v.name
    return made


def replace_body(
    prompt: Prompt, body: str, body_line: int, *, meta: FrontMatter | None = None
) -> Prompt:
    """A copy of `prompt` with another body (same file text, so the same version)."""
    made = Prompt(
        name=prompt.name,
        meta=meta or prompt.meta,
        body=body,
        body_line=body_line,
        text=prompt.text,
        path=prompt.path,
        notes=prompt.notes,
        fields=prompt.fields,
    )
    for attr in ("origin", "source_label"):
        if hasattr(prompt, attr):
            setattr(made, attr, getattr(prompt, attr))
    return made


def template_turns(prompt: Prompt) -> list[Segment]:
    """The body's turns as written (templates, before rendering): text with no marker line
    before the first one is a user turn (the optimizer reads it as the query)."""
    turns: list[Segment] = []
    role, start, lines = "user", prompt.body_line, []
    for i, line in enumerate(prompt.body.split("\n")):
        m = _BOUNDARY.match(line)
        if m:
            if any(ln.strip() for ln in lines):
                turns.append(Segment(role, "\n".join(lines), start))
            role, start, lines = m.group(1).lower(), prompt.body_line + i + 1, []
        else:
            lines.append(line)
    if any(ln.strip() for ln in lines):
        turns.append(Segment(role, "\n".join(lines), start))
    return turns


_TEMPLATE_SYNTAX = ("{{", "}}", "{%", "%}", "{#", "#}")


def template_text(text: str) -> str:
    """Prose as template text: a line Jinja would interpret, or one the turn splitter would
    read as a role marker ("User:"), is written as a string expression, which renders as itself
    (the way docs/prompts.md says to keep such a line)."""
    out = []
    for line in text.split("\n"):
        if any(s in line for s in _TEMPLATE_SYNTAX) or _MARKER.match(line):
            line = "{{ " + json.dumps(line, ensure_ascii=False) + " }}"
        out.append(line)
    return "\n".join(out)


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
    """A prompt from its text. `${file:…}` references resolve only for a prompt read from a
    file (`path`), inside that file's folder."""
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
    split = split_file(norm, source)
    data: Any = {}
    linemap = LineMap({}, 1)
    if split.front is not None:
        try:
            data, linemap = load_yaml(split.front, source, line_offset=split.front_line - 1)
        except UserError as exc:
            exc.field = exc.field or "front matter"
            raise UserError(
                exc.message, file=exc.file, line=exc.line, field=exc.field, hint=exc.hint
            ) from None
    ctx = Context(source, linemap, base_dir=path.parent if path else None)
    # Prompty resolves references first (a whole `outputs: ${file:…}` is then read as outputs).
    canonical = normalise(resolve_references(data, ctx), ctx)
    try:
        meta = FrontMatter.model_validate(canonical)
    except ValidationError as exc:
        err = validation_error(exc, LineMap({}, 1), source, known=KNOWN_KEYS)
        loc = ctx.file_loc(_loc_of(exc))
        raise UserError(
            err.message.removeprefix("Value error, "),
            file=source,
            line=linemap.line(loc),
            field=dotted(loc) or None,
            hint=err.hint,
        ) from None
    fields = {
        dotted(canon): (dotted(where), linemap.line(where)) for canon, where in ctx.locs.items()
    }
    body = split.body
    prompt = Prompt(
        name=meta.name or name or (stem_name(path) if path else "prompt"),
        meta=meta,
        body=body,
        body_line=split.body_line,
        text=text,
        path=path,
        notes=ctx.notes,
        fields=fields,
    )
    _check_model(prompt, linemap)
    _check_template(prompt)
    _check_variants(prompt, linemap)
    return prompt


def _loc_of(exc: ValidationError) -> tuple[str | int, ...]:
    err = exc.errors(include_url=False)[0]
    return tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))


def _check_model(prompt: Prompt, linemap: LineMap) -> None:
    """A model id whose prefix looks like a misspelt provider is noted (render never needs a
    model; the call says what is wrong)."""
    spec = prompt.meta.model
    if spec is None or not spec.id or prompt.model_id:
        return
    from .models.providers import provider_names

    prefix, sep, _ = spec.id.partition(":")
    loc = ("model", "id") if ("model", "id") in linemap else ("model",)
    if sep:
        import difflib

        close = difflib.get_close_matches(prefix, provider_names(), n=1)
        if close:
            prompt.notes.append(
                UserError(
                    f"'{prefix}' is not a provider: '{spec.id}' is read as a model name",
                    file=prompt.source,
                    line=linemap.line(loc),
                    field="model.id",
                    hint=f"did you mean '{close[0]}:'?",
                )
            )


def _check_variants(prompt: Prompt, linemap: LineMap) -> None:
    """Each variant's template is checked at load, like the default body, with its lines."""
    for i, v in enumerate(prompt.meta.variants):
        for key in ("body", "system"):
            if getattr(v, key) is not None:
                # A block scalar (`body: |`) starts on the line after its key.
                prompt.variant_lines[(i, key)] = linemap.line(("variants", i, key)) + 1
        if v.body is not None or v.system is not None:
            made = _apply_variant(prompt, v)
            try:
                _check_template(made)
            except UserError as exc:
                where = "system" if v.system is not None else "body"
                raise UserError(
                    exc.message,
                    file=exc.file,
                    line=exc.line,
                    field=f"variants[{i}].{where}",
                    hint=exc.hint,
                ) from None


def _check_template(prompt: Prompt) -> None:
    for i, line in enumerate(prompt.body.split("\n")):
        lineno = prompt.body_line + i
        m = _DUNDER.search(line)
        if m and ("{{" in line or "{%" in line or "}}" in line or "%}" in line):
            raise UserError(
                f"template reaches for Python internals ('{m.group(0)}'): refused",
                file=prompt.source,
                line=lineno,
                field="body",
            )
        marker = None if prompt.meta.template.parser == "promptfoo" else _MARKER.match(line)
        if marker and not _BOUNDARY.match(line):
            word = marker.group(1).lower()
            close = close_role(word)
            if close or word in FOREIGN_ROLES:
                hint = (
                    f"did you mean '{close}:'?"
                    if close
                    else "roles are system:, user:, assistant: and developer:"
                )
                prompt.notes.append(
                    UserError(
                        f"'{marker.group(1)}:' is not a role marker: it stays text",
                        file=prompt.source,
                        line=lineno,
                        field="body",
                        hint=hint,
                    )
                )
    # Compile once now so a syntax error surfaces at load time, with its line.
    _compile(prompt)


def close_role(word: str) -> str | None:
    """The role `word` is a near-miss of (`sytem` → `system`), or None."""
    if len(word) < 3:
        return None
    for role in ROLES:
        if levenshtein_distance(word, role) <= (1 if len(role) <= 4 else 2):
            return role
    return None


# ---- rendering ---------------------------------------------------------------------------

_ENVS: dict[tuple[bool, bool], Any] = {}


def _promptfoo(prompt: Prompt) -> bool:
    """Files converted from promptfoo (`template: {format: nunjucks, parser: promptfoo}`),
    rendered as promptfoo renders (Nunjucks with JavaScript's view of values). `promptfoo`: the
    rendered text is split as promptfoo's chat providers do (a JSON or YAML chat, else one user
    turn), never on role-marker lines; `promptfoo-chat`: a JSON chat promptfoo renders string
    by string, written as the template's own role-marker lines (values never open a turn)."""
    return prompt.meta.template.parser in ("promptfoo", "promptfoo-chat")


def _environment(strict: bool = False, promptfoo: bool = False) -> Any:
    """Prompty's Jinja environment (immutable sandbox, undefined renders as nothing, trailing
    newline kept), with our limits and the data sentinels. `strict`: printing an undefined
    variable is an error (`{% if x %}` on an undefined `x` stays false, as in Prompty).
    `promptfoo`: the Nunjucks flavour promptfoo renders with (nunjucks.py)."""
    env = _ENVS.get((strict, promptfoo))
    if env is not None:
        return env
    if promptfoo:
        env = _nunjucks_environment()
        _ENVS[(strict, promptfoo)] = env
        return env
    from jinja2 import Undefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

    from .sandbox import CountingSandbox, budget

    class _Env(CountingSandbox, ImmutableSandboxedEnvironment):
        """Our bounded sandbox, immutable as Prompty's (no list.append from a template)."""

    class _Lenient(Undefined):
        """Prompty's undefined (prints as nothing), except what the sandbox refused: that
        stays an error rather than a silent blank."""

        __slots__ = ()

        def _refused(self) -> None:
            if self._undefined_exception is SecurityError:
                self._fail_with_undefined_error()

        def __str__(self) -> str:
            self._refused()
            return ""

        def __iter__(self) -> Any:
            self._refused()
            return iter(())

        def __bool__(self) -> bool:
            self._refused()
            return False

    class _Printed(_Lenient):
        __slots__ = ()

        def __str__(self) -> str:
            self._fail_with_undefined_error()
            return ""

    def _mark_data(value: Any) -> str:
        text = str(value)  # as Jinja prints it: None is "None", as in Prompty
        budget().tick()
        return f"{_DATA_OPEN}{_clean(text)}{_DATA_CLOSE}"

    env = _Env(
        undefined=_Printed if strict else _Lenient,
        autoescape=False,
        keep_trailing_newline=True,
        finalize=_mark_data,
    )
    env.filters["json"] = lambda v: json.dumps(v, ensure_ascii=False)
    _ENVS[(strict, promptfoo)] = env
    return env


def _nunjucks_environment() -> Any:
    from jinja2 import ChainableUndefined

    from . import nunjucks as nj
    from .sandbox import budget

    def _mark_data(value: Any) -> str:
        budget().tick()
        return f"{_DATA_OPEN}{_clean(nj.js_str(value))}{_DATA_CLOSE}"

    env = nj.environment_class()(
        # Nunjucks prints an undefined variable as nothing, even in a strict run: promptfoo
        # renders it so.
        undefined=ChainableUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        finalize=_mark_data,
    )
    return nj.configure(env)


_TEMPLATES: dict[tuple[str, str, str, bool, bool, str], Any] = {}


def _compile(prompt: Prompt, strict: bool = False) -> Any:
    """The compiled body (Jinja), or None for a Mustache body (checked here, rendered later).

    Compiling costs ~1 ms, rendering ~50 µs: an eval renders the same body thousands of times.
    Keyed by content (a Prompt is mutable); templates are safe to share.
    """
    if prompt.meta.template.format == "mustache":
        _mustache_check(prompt)
        return None
    promptfoo = _promptfoo(prompt)
    tagged = prompt.meta.template.parser != "promptfoo" and prompt.meta.template.strict
    filters = prompt.meta.template.filters if promptfoo else None
    key = (prompt.body, prompt.name, prompt.source, strict, tagged, repr(filters or ""))
    template = _TEMPLATES.get(key)
    if template is not None:
        return template
    from jinja2 import TemplateSyntaxError

    env = _environment(strict, promptfoo)
    if filters:
        env = _with_code_filters(prompt, env, filters)
    source = _tag_markers(prompt.body) if tagged else prompt.body
    if promptfoo:
        from .nunjucks import translate

        source = translate(source)
    try:
        code = env.compile(source, name=prompt.name, filename=prompt.source)
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


def _with_code_filters(prompt: Prompt, env: Any, filters: dict[str, str]) -> Any:
    """promptfoo's custom Nunjucks filters: JavaScript files inside the project, each call
    run out of process (nunjucks.code_filters)."""
    from .config import find_config_file
    from .library import Library
    from .nunjucks import code_filters

    if prompt.path is None:
        raise UserError(
            "custom filters are files beside the prompt: a prompt not read from a file has none",
            file=prompt.source,
            field="template.filters",
        )
    base = prompt.path.parent
    project = find_config_file(base)
    root = project.parent if project else base

    def resolve(name: str) -> Path:
        return Library(root, root).in_project(name, base, what="filter file")

    try:
        extra = code_filters(dict(filters), resolve)
    except (ValueError, TypeError, UserError) as exc:
        message = exc.message if isinstance(exc, UserError) else str(exc)
        raise UserError(message, file=prompt.source, field="template.filters") from None
    env = env.overlay()
    env.filters.update(extra)
    return env


def _mustache_check(prompt: Prompt) -> None:
    import chevron

    try:
        list(chevron.tokenizer.tokenize(prompt.body))
    except chevron.ChevronError as exc:
        raise UserError(f"template syntax error: {exc}", file=prompt.source, field="body") from None


def _template_line(prompt: Prompt, tb: Any) -> int | None:
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == prompt.source:
            line = tb.tb_lineno
        tb = tb.tb_next
    return prompt.body_line + line - 1 if line else None


def _render(prompt: Prompt, values: dict[str, Any], *, strict: bool = False) -> list[Message]:
    # Rich inputs are not text: the template sees a unique marker where it prints one, and the
    # marker becomes turns (thread) or a content part (image, file, audio) once split.
    rich = {n: s.kind for n, s in prompt.meta.inputs.items() if s.is_rich}
    context = {"examples": prompt.meta.examples, **values}
    markers: dict[str, str] = {}
    for name in rich:
        marker = f"__PROMPTY_THREAD_{secrets.token_hex(4)}_{name}__"
        markers[marker] = name
        context[name] = marker
    rendered = _render_text(prompt, context, strict)
    if prompt.meta.template.parser == "promptfoo":
        return _promptfoo_messages(prompt, rendered)
    try:
        messages = split_roles(rendered, strict=prompt.meta.template.strict)
    except _PrintedMarker as exc:
        raise UserError(
            f"the template prints a role marker ('{_clean(str(exc)).strip()}') from an "
            "expression: refused, as Prompty refuses it",
            file=prompt.source,
            line=_printed_marker_line(prompt),
            field="body",
            hint="write the marker line itself in the template, or pass the conversation as a "
            "`kind: thread` input; `template: {format: {kind: jinja2, strict: false}, parser: "
            "prompty}` lets the template build markers",
        ) from None
    if rich:
        messages = _expand(messages, markers, rich, values)
    return messages


def _promptfoo_messages(prompt: Prompt, rendered: str) -> list[Message]:
    from .nunjucks import chat_messages

    try:
        chat = chat_messages(rendered, _DATA_OPEN, _DATA_CLOSE)
    except ValueError as exc:
        raise UserError(str(exc), file=prompt.source, field="body") from None
    if chat is None:
        text = _clean(rendered)
        return [Message("user", text)] if text.strip() else []
    return [Message(role, content) for role, content in chat]  # type: ignore[arg-type]


def _clean(text: str) -> str:
    return text.replace(_DATA_OPEN, "").replace(_DATA_CLOSE, "").replace(_TAG, "")


def _printed_marker_line(prompt: Prompt) -> int:
    """The body line that most likely prints a marker from an expression."""
    for i, line in enumerate(prompt.body.split("\n")):
        if ("{{" in line or "{%" in line) and _BOUNDARY.match(
            re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "user", line).strip()
        ):
            return prompt.body_line + i
    return prompt.body_line


def _render_text(prompt: Prompt, context: dict[str, Any], strict: bool) -> str:
    if prompt.meta.template.format == "mustache":
        import chevron

        body = _tag_markers(prompt.body) if prompt.meta.template.strict else prompt.body
        try:
            return chevron.render(body, _mark_values(context))
        except (chevron.ChevronError, RecursionError) as exc:
            raise UserError(f"template failed: {exc}", file=prompt.source, field="body") from None
    from jinja2 import UndefinedError
    from jinja2.sandbox import SecurityError

    from .sandbox import BudgetExceeded, rendering

    template = _compile(prompt, strict)
    try:
        with rendering():
            return template.render(context)
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


def _mark_values(value: Any) -> Any:
    """Mustache has no hook on what it prints: mark the text of the values themselves."""
    if isinstance(value, str):
        clean = _clean(value)
        return f"{_DATA_OPEN}{clean}{_DATA_CLOSE}" if clean else clean
    if isinstance(value, dict):
        return {k: _mark_values(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mark_values(v) for v in value]
    return value


def split_roles(rendered: str, *, strict: bool = False) -> list[Message]:
    """Split rendered text into turns the way Prompty's parser does.

    Text before the first marker is a system turn; a marker opens a turn even when nothing
    follows it but blank lines (an empty turn); a turn's text is trimmed of blank lines only.

    Which marker lines count (`strict` is the file's `template.format.strict`, default true):
    - strict: only the template's own marker lines (tagged before rendering, as Prompty tags
      them with a nonce); a marker that template logic prints (`{{ m.role }}:`) is refused, as
      Prompty refuses it;
    - not strict: any marker line, its attributes (`user[name="Ada"]:`) kept on the message;
    - either way, a marker inside an input value is text: values never open a turn.
    """
    turns: list[tuple[str, dict[str, Any], list[str]]] = []
    current: list[str] = []
    role, attrs = "system", {}
    depth = 0
    for line in rendered.splitlines():
        start_depth = depth
        depth += line.count(_DATA_OPEN) - line.count(_DATA_CLOSE)
        if start_depth == 0 and depth == 0:
            kind, m = _marker_line(line, strict)
            if kind == "refused":
                raise _PrintedMarker(line)
            if m is not None:
                if current:
                    turns.append((role, attrs, current))
                role = m.group(1).lower()
                attrs = {} if strict or not m.group(2) else _attributes(m.group(2))
                current = []
                continue
        current.append(line.replace(_TAG, ""))
    if current:
        turns.append((role, attrs, current))
    messages = []
    for r, extra, body in turns:
        content = "\n".join(body).replace(_DATA_OPEN, "").replace(_DATA_CLOSE, "").strip("\n")
        messages.append(Message(role=r, content=content, extra=extra or None))  # type: ignore[arg-type]
    return messages


class _PrintedMarker(Exception):
    """A marker line that template logic printed, in strict mode (Prompty refuses it)."""


_TAG = "\ue002"  # starts a marker line written in the template itself (strict mode)


def _marker_line(line: str, strict: bool) -> tuple[str, re.Match[str] | None]:
    """("marker", m) for a turn boundary, ("text", None), or ("refused", None)."""
    if strict and line.startswith(_TAG):
        return "marker", _BOUNDARY.match(line[len(_TAG) :])
    plain = line.replace(_TAG, "")
    if _DATA_OPEN in plain:
        outside = re.sub(f"{_DATA_OPEN}[^{_DATA_CLOSE}]*{_DATA_CLOSE}", "", plain)
        if not outside.strip():
            return "text", None  # the line is a value: a value never opens a turn
        plain = plain.replace(_DATA_OPEN, "").replace(_DATA_CLOSE, "")
    m = _BOUNDARY.match(plain.strip())
    if m is None:
        return "text", None
    return ("refused", None) if strict else ("marker", m)


def _tag_markers(body: str) -> str:
    """Prompty's pre-render step: the template's own marker lines, tagged (and normalised to
    `role:` — strict mode drops a marker's attributes, as Prompty does)."""
    out = []
    for line in body.splitlines(keepends=True):
        m = _BOUNDARY.match(line.strip())
        out.append(f"{_TAG}{m.group(1).lower()}:\n" if m else line)
    return "".join(out)


def _attributes(raw: str) -> dict[str, Any]:
    """`[key="value", n=3]` → {"key": "value", "n": 3}, coerced as Prompty does."""
    out: dict[str, Any] = {}
    for m in re.finditer(r'(\w+)\s*=\s*"?([^",]*)"?', raw.strip("[]")):
        key, text = m.group(1), m.group(2).strip()
        if key == "nonce":
            continue
        if text.lower() in ("true", "false"):
            out[key] = text.lower() == "true"
            continue
        for cast in (int, float):
            try:
                out[key] = cast(text)
                break
            except ValueError:
                continue
        else:
            out[key] = text
    return out


def _expand(
    messages: list[Message], markers: dict[str, str], rich: dict[str, str], values: dict[str, Any]
) -> list[Message]:
    """Markers → a thread's turns, or a media part in a user turn (Prompty's rules: the text
    around a marker stays in its turn, trimmed; media joins the user turn just before it)."""
    out: list[Message] = []
    found = False
    pattern = re.compile("|".join(re.escape(m) for m in markers))
    for msg in messages:
        text = msg.content
        pieces = pattern.split(text)
        hits = pattern.findall(text)
        if not hits:
            out.append(msg)
            continue
        found = True
        for i, piece in enumerate(pieces):
            piece = piece.strip()
            if piece:
                out.append(Message(msg.role, piece, extra=msg.extra))
            if i < len(hits):
                name = markers[hits[i]]
                _insert(out, rich[name], values.get(name))
    if not found:
        # No marker printed: a thread is appended after the rendered turns.
        for name, kind in rich.items():
            if kind == "thread" and name in values:
                _insert(out, kind, values[name])
    return out


def _insert(out: list[Message], kind: str, value: Any) -> None:
    if kind == "thread":
        if isinstance(value, list):
            out.extend(thread_message(m) for m in value)
        return
    part = Part(kind, "" if not value else str(value))  # type: ignore[arg-type]
    last = out[-1] if out else None
    if last is not None and last.role == "user":
        parts = last.parts or (Part("text", last.content),)
        out[-1] = Message("user", last.content, (*parts, part), last.extra)
    else:
        out.append(Message("user", "", (part,)))


def thread_message(item: Any) -> Message:
    """One turn of a conversation history: a Message, or a dict {role, content} where content
    is text or a list of parts ({kind|type: text|image|file|audio, …})."""
    if isinstance(item, Message):
        return item
    if not isinstance(item, dict):
        return Message("user", str(item))
    role = item.get("role", "user")
    content = item.get("content", "")
    extra = {k: v for k, v in item.items() if k not in ("role", "content", "parts")} or None
    if isinstance(content, list):
        parts = tuple(_part(p) for p in content)
        text = "".join(p.value for p in parts if p.kind == "text")
        media = any(p.kind != "text" for p in parts)
        return Message(role, text, parts if media else (), extra)
    return Message(role, content if isinstance(content, str) else str(content), (), extra)


def _part(item: Any) -> Part:
    if not isinstance(item, dict):
        return Part("text", str(item))
    kind = item.get("kind", item.get("type", "text"))
    media_type = item.get("mediaType", item.get("media_type"))
    if kind == "text":
        return Part("text", str(item.get("value", item.get("text", ""))))
    if kind in ("image", "image_url"):
        source = item.get("source", "")
        if not source and "image_url" in item:
            url = item["image_url"]
            source = url.get("url", "") if isinstance(url, dict) else str(url)
        return Part("image", str(source), item.get("detail"), media_type)
    if kind in ("file", "audio"):
        return Part(kind, str(item.get("source", "")), None, media_type)
    return Part("text", str(item))


# ---- input kinds -------------------------------------------------------------------------


def _from_string(value: str, kind: str, prompt: Prompt, name: str) -> Any:
    try:
        if kind == "integer":
            return int(value)
        if kind == "float":
            return float(value)
        if kind == "number":
            return float(value) if any(c in value for c in ".eE") else int(value)
        if kind == "boolean":
            low = value.strip().lower()
            if low in {"true", "yes", "1", "oui", "vrai"}:
                return True
            if low in {"false", "no", "0", "non", "faux"}:
                return False
            raise ValueError(value)
        if kind in {"array", "object", "thread"}:
            from .yamlfile import load_json

            try:
                return load_json(value)
            except UserError as exc:
                raise prompt.input_error(name, f"expected {kind}: {exc.message}") from None
    except (ValueError, json.JSONDecodeError):
        raise prompt.input_error(name, f"expected {kind}, got {value!r}") from None
    return value


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


_KIND_CHECK = {
    "string": lambda v: isinstance(v, str),
    "number": _is_number,
    "float": _is_number,
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "thread": lambda v: isinstance(v, list),
}


def _check_kind(value: Any, spec: InputSpec, prompt: Prompt, name: str) -> None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate from JSON: no model or terminal takes it
            raise prompt.input_error(name, "not valid Unicode text (a lone surrogate)") from None
    check = _KIND_CHECK.get(spec.kind)
    if check is not None and not check(value) and not (value is None and spec.nullable):
        got = type(value).__name__
        raise prompt.input_error(name, f"expected {spec.kind}, got {got} {value!r:.60}")
    if spec.enum and value not in spec.enum:
        raise prompt.input_error(name, f"{value!r} is not one of {spec.enum}")
