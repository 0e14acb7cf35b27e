"""The front matter of a prompt file, read the way Prompty's runtime reads it.

A prompt file is a Prompty file (v1 or v2). Where the specification and the reference runtime
(PyPI `prompty` 2.x) disagree, the runtime wins, because a file must give the same messages
here and there: what it loads loads here, what it refuses is refused here, with the file, the
line and the field, and a hint that says how to write it so both accept it.

Three passes, each reporting where in the file:
1. `split_file`: front matter and body, split with the specification's own regular expression;
2. `resolve_references`: `${file:path}` (inside the prompt's folder only) and `${env:VAR}`
   (never for a connection, whose values are read when a model is called, so that a key never
   sits in a parsed prompt; a variable that looks like a secret is refused anywhere else);
3. `normalise`: every collection form (named map, list, scalar shorthand) into one canonical
   shape, the runtime's refusals, and notes for keys nobody reads (the specification forbids
   refusing those). Pydantic then types the canonical shape (`FrontMatter`).
"""

from __future__ import annotations

import difflib
import fnmatch
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from .errors import UserError
from .models.base import Params
from .yamlfile import LineMap, dotted

Loc = tuple[str | int, ...]

# Spec §2.2, the reference's own regex: the first `---`/`+++` after the opening one closes the
# front matter, and the body starts after the whitespace that follows it.
_SPLIT = re.compile(r"^\s*(?:---|\+\+\+)(.*?)(?:---|\+\+\+)\s*(.+)$", re.S | re.M)

SIMPLE_KINDS = ("string", "integer", "float", "number", "boolean", "array", "object")
RICH_KINDS = ("thread", "image", "file", "audio")
KINDS = (*SIMPLE_KINDS, *RICH_KINDS, "union")
# Template engines: Prompty's Python runtime registers jinja2 (also as `jinja`) and mustache;
# its TypeScript runtime names its Jinja-compatible engine `nunjucks`.
JINJA_FORMATS = ("jinja2", "jinja", "nunjucks")
FORMATS = (*JINJA_FORMATS, "mustache")

_MAX_REF_BYTES = 1_000_000
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH", re.I)
_SECRET_VALUE = re.compile(r"^(sk|pk|rk|sess|key)-[A-Za-z0-9_\-]{6,}$|^eyJ[\w-]{10,}\.")


# ---- 1. split -------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    front: str | None  # None: the file has no front matter
    front_line: int  # file line of the front matter's first character
    body: str
    body_line: int  # file line of the body's first character


def split_file(text: str, source: str) -> Split:
    """Front matter and body of a file whose line endings are already `\\n`."""
    if re.match(r"^\s*\+\+\+", text):
        # The specification allows +++; the runtime only opens front matter on --- and reads
        # such a file as YAML, which fails: say so rather than render what it never would.
        raise UserError(
            "front matter opened with +++: Prompty's runtime reads front matter only between "
            "--- lines",
            file=source,
            line=1,
            field="front matter",
            hint="write --- instead of +++",
        )
    if not re.match(r"^\s*---", text):
        # Spec §2.1: no front matter, the whole file is the body.
        return Split(None, 1, text, 1)
    m = _SPLIT.search(text)
    if m is None:
        closed = re.search(r"(?:---|\+\+\+)", text[text.index("---") + 3 :]) is not None
        if closed:
            raise UserError(
                "nothing after the front matter: the prompt itself is missing",
                file=source,
                line=text.count("\n") + 1,
                field="body",
                hint="write the prompt (system:, user: …) after the closing ---",
            )
        raise UserError(
            "front matter is not closed",
            file=source,
            line=1,
            hint="end it with a line containing only ---",
        )
    front_line = text.count("\n", 0, m.start(1)) + 1
    return Split(m.group(1), front_line, m.group(2), text.count("\n", 0, m.start(2)) + 1)


# ---- 2. references ----------------------------------------------------------------------

# Keys whose values are data, not structure: Prompty resolves no reference inside them.
_OPAQUE = {"metadata", "additionalProperties", "default", "example", "enumValues", "enum"}
_OPAQUE |= {"sample", "examples", "output_schema", "bindings"}
# Where a connection lives: its `${env:}` values are read at call time, never here.
_CONNECTIONS = {"connection", "configuration"}


@dataclass
class Context:
    """What a pass needs to report: the file, its line map, and the notes so far."""

    source: str
    lines: LineMap
    base_dir: Path | None = None
    notes: list[UserError] = field(default_factory=list)
    # canonical location (inputs, NAME, …) → location in the file (inputs, 0, …)
    locs: dict[Loc, Loc] = field(default_factory=dict)

    def error(self, message: str, loc: Loc, hint: str | None = None) -> UserError:
        return UserError(
            message, file=self.source, line=self.lines.line(loc), field=dotted(loc), hint=hint
        )

    def note(self, message: str, loc: Loc, hint: str | None = None) -> None:
        self.notes.append(self.error(message, loc, hint))

    def file_loc(self, loc: Loc) -> Loc:
        """Where a canonical location is written in the file."""
        for n in range(len(loc), 0, -1):
            if loc[:n] in self.locs:
                return self.locs[loc[:n]] + loc[n:]
        return loc


def reference(value: Any) -> tuple[str, str] | None:
    """(protocol, rest) of a whole-value `${protocol:rest}` reference, else None."""
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        protocol, _, rest = value[2:-1].partition(":")
        return protocol.lower(), rest
    return None


def env_reference(value: str) -> tuple[str, str] | None:
    """(variable, default) of `${env:VAR}` / `${env:VAR:default}`, else None."""
    ref = reference(value)
    if ref is None or ref[0] != "env":
        return None
    name, _, default = ref[1].partition(":")
    return name, default


def looks_secret(name: str, value: str | None = None) -> bool:
    return bool(_SECRET_NAME.search(name)) or bool(value and _SECRET_VALUE.search(value))


def resolve_env(value: str, ctx: Context, loc: Loc) -> str:
    """The value of a `${env:VAR[:default]}` reference, or a UserError naming where."""
    ref = env_reference(value)
    assert ref is not None
    name, default = ref
    got = os.environ.get(name)
    if got is None:
        if default:
            return default
        raise ctx.error(
            f"environment variable {name} is not set",
            loc,
            hint=f"set {name}, or give a default: ${{env:{name}:value}}",
        )
    return got


def resolve_references(data: Any, ctx: Context, loc: Loc = ()) -> Any:
    """`data` with `${file:}` everywhere Prompty reads structure and `${env:}` outside
    connections resolved; connections keep their `${env:}` text for call time."""
    if isinstance(data, dict):
        in_connection = any(part in _CONNECTIONS for part in loc if isinstance(part, str))
        out: dict[Any, Any] = {}
        for key, value in data.items():
            here = (*loc, key)
            ref = reference(value)
            if ref is not None and ref[0] == "file":
                value = read_file_reference(ref[1], ctx, here)
            elif ref is not None and ref[0] == "env" and not in_connection:
                name = ref[1].partition(":")[0]
                if looks_secret(name):
                    raise ctx.error(
                        f"${{env:{name}}} looks like a secret: only a model's connection may "
                        "read one",
                        here,
                        hint="a secret placed in a prompt would reach the model, the store and "
                        "the logs; put it under model.connection (apiKey: ${env:" + name + "})",
                    )
                value = resolve_env(value, ctx, here)
                if looks_secret(name, value):
                    raise ctx.error(f"${{env:{name}}} holds what looks like a key", here)
            if str(key) in _OPAQUE or (key == "options" and loc != ("model",)):
                out[key] = value
            else:
                out[key] = resolve_references(value, ctx, here)
        return out
    if isinstance(data, list):
        return [
            resolve_references(v, ctx, (*loc, i)) if isinstance(v, dict | list) else v
            for i, v in enumerate(data)
        ]
    return data


def read_file_reference(ref: str, ctx: Context, loc: Loc) -> Any:
    """A `${file:path}` reference: a file inside the prompt's folder, as JSON, YAML or text."""
    import yaml

    if ctx.base_dir is None:
        raise ctx.error(
            f"${{file:{ref}}} needs the prompt's folder: this prompt has no file",
            loc,
            hint="a prompt read from the store or a request cannot read files",
        )
    root = ctx.base_dir.resolve()
    target = (root / ref).resolve()
    if not target.is_relative_to(root) or "\x00" in ref:
        raise ctx.error(
            f"${{file:{ref}}} is outside the prompt's folder: refused",
            loc,
            hint="a referenced file must sit in the prompt's folder or below it",
        )
    if not target.is_file():
        raise ctx.error(f"referenced file not found: {ref}", loc)
    if target.stat().st_size > _MAX_REF_BYTES:
        raise ctx.error(f"referenced file too large (over {_MAX_REF_BYTES} bytes): {ref}", loc)
    try:
        text = target.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ctx.error(f"referenced file is not UTF-8 text: {ref}", loc) from None
    try:
        if target.suffix == ".json":
            return json.loads(text)
        if target.suffix in (".yml", ".yaml"):
            return yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError, RecursionError) as exc:
        raise ctx.error(f"referenced file is malformed ({ref}): {exc}"[:300], loc) from None
    return text


# ---- 3. normalise -------------------------------------------------------------------------

ROOT_KEYS = [
    "name",
    "displayName",
    "description",
    "metadata",
    "model",
    "inputs",
    "outputs",
    "tools",
    "template",
    "instructions",
    "$schema",
    # Prompty v1
    "version",
    "authors",
    "tags",
    "sample",
    "base",
    # prompteur's own
    "domain",
    "targets",
    "examples",
    "output_schema",
    "variants",
    "enforce",
]
MODEL_KEYS = ["id", "provider", "apiType", "connection", "options"]
MODEL_V1_KEYS = ["api", "configuration", "parameters", "response"]
PROPERTY_KEYS = ["name", "kind", "description", "required", "nullable", "default", "example"]
PROPERTY_KEYS += ["enumValues", "enum", "items", "properties", "oneOf", "anyOf", "sample"]
TOOL_KEYS = ["name", "kind", "description", "bindings", "parameters", "strict", "connection"]
TOOL_KEYS += ["options", "serverName", "serverDescription", "approvalMode", "allowedTools"]
TOOL_KEYS += ["specification", "path", "mode", "inputSchema"]


def _unknown_keys(data: dict[str, Any], known: list[str], ctx: Context, loc: Loc) -> None:
    for key in data:
        if str(key) in known:
            continue
        close = difflib.get_close_matches(str(key), known, n=1)
        hint = f"did you mean '{close[0]}'?" if close else None
        ctx.note(f"unknown key '{key}' is ignored (Prompty ignores it too)", (*loc, key), hint)


def _named(data: Any, ctx: Context, loc: Loc, scalar_key: str) -> list[tuple[Loc, Any]]:
    """A named collection (`inputs`, `tools`, `parameters`…) as (file location, item) pairs,
    the way the runtime reads it: a map of name → item, or a list of items with `name`."""
    if isinstance(data, dict):
        out = []
        for k, v in data.items():
            here = (*loc, k)
            if isinstance(v, list):
                raise ctx.error(
                    "a list here is not an item: Prompty refuses it",
                    here,
                    hint=f"write the list form ({dotted(loc)}: - name: {k} …) or a mapping",
                )
            out.append(
                (here, {"name": k, **v} if isinstance(v, dict) else {"name": k, scalar_key: v})
            )
        return out
    if isinstance(data, list):
        return [((*loc, i), item) for i, item in enumerate(data)]
    what = "empty" if data is None else f"a {type(data).__name__}"
    raise ctx.error(
        f"{dotted(loc)} is {what}: Prompty needs a list or a mapping here",
        loc,
        hint=f"remove the empty {dotted(loc)}: line" if data is None else None,
    )


def _property(item: Any, ctx: Context, loc: Loc, *, top: bool) -> dict[str, Any] | None:
    """One property in canonical form, or None for the runtime's nameless scalar items."""
    if isinstance(item, bool | int | float | str) and not top:
        kind = (
            "boolean"
            if isinstance(item, bool)
            else "integer"
            if isinstance(item, int)
            else "float"
            if isinstance(item, float)
            else "string"
        )
        return {"kind": kind, "example": item}
    if isinstance(item, bool | int | float | str):
        ctx.note("a bare value in a property list declares nothing (it has no name)", loc)
        return None
    if not isinstance(item, dict):
        raise ctx.error("a property must be a mapping (name:, kind: …)", loc)
    kind = item.get("kind")
    if not isinstance(kind, str) or not kind.strip():
        if "type" in item and "kind" not in item:
            raise ctx.error(
                "`type:` is Prompty v1; Prompty 2 reads `kind:` and refuses a property without it",
                (*loc, "type"),
                hint=f"write kind: {item['type']}",
            )
        if "example" in item and len(item) == 2 and "name" in item:
            raise ctx.error(
                "a value alone is not a property: Prompty 2 refuses it",
                loc,
                hint=f"write {item['name']}: {{kind: string, default: {item['example']!r}}}",
            )
        misspelt = [
            str(k)
            for k in item
            if str(k) not in PROPERTY_KEYS and difflib.get_close_matches(str(k), ["kind"], n=1)
        ]
        raise ctx.error(
            "a property needs a kind (string, integer, float, boolean, array, object, thread, "
            "image, file, audio)",
            (*loc, misspelt[0]) if misspelt else (*loc, "kind") if "kind" in item else loc,
            hint=f"did you mean 'kind' for '{misspelt[0]}'?" if misspelt else None,
        )
    _unknown_keys(item, PROPERTY_KEYS, ctx, loc)
    if kind not in KINDS:
        close = difflib.get_close_matches(kind, list(KINDS), n=1)
        ctx.note(
            f"unknown kind '{kind}': its values are not checked",
            (*loc, "kind"),
            f"did you mean '{close[0]}'?" if close else None,
        )
    out = {k: v for k, v in item.items() if k != "name"}
    if "enum" in out and "enumValues" not in out:
        out["enumValues"] = out.pop("enum")
    if kind == "array":
        if out.get("items") is None:
            raise ctx.error(
                "an array property needs `items` (the kind of its elements): Prompty refuses "
                "it without",
                loc,
                hint="add items: {kind: string}",
            )
        out["items"] = _property(out["items"], ctx, (*loc, "items"), top=False)
    if kind == "object" and "properties" in out:
        out["properties"] = _properties(out["properties"], ctx, (*loc, "properties"), None)
    for key in ("oneOf", "anyOf"):
        if kind == "union" and key in out:
            branches = _named(out[key], ctx, (*loc, key), "example")
            out[key] = [_property(b, ctx, here, top=False) for here, b in branches]
    return out


def _properties(
    data: Any, ctx: Context, loc: Loc, canonical: Loc | None
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for here, item in _named(data, ctx, loc, "example"):
        prop = _property(item, ctx, here, top=True)
        if prop is None:
            continue
        name = str(item.get("name") or "")
        if not name:
            ctx.note("a property without a name declares nothing", here)
            continue
        out.pop(name, None)
        out[name] = prop
        if canonical is not None:
            ctx.locs[(*canonical, name)] = here
    return out


def _connection(data: Any, ctx: Context, loc: Loc) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ctx.error("a connection must be a mapping (kind:, endpoint: …)", loc)
    kind = data.get("kind")
    if not isinstance(kind, str) or not kind.strip():
        raise ctx.error(
            "a connection needs a kind (key, reference, anonymous, foundry, oauth, remote)",
            (*loc, "kind") if "kind" in data else loc,
        )
    return data


# Prompty's endpoint trust (spec §2.5.1): origins that may receive a credential the file does
# not supply itself. More come from PROMPTY_TRUSTED_ENDPOINTS (comma-separated).
TRUSTED_ENDPOINTS = (
    "https://api.openai.com",
    "https://api.anthropic.com",
    "https://*.openai.azure.com",
    "https://*.services.ai.azure.com",
    "https://*.cognitiveservices.azure.com",
    "https://login.microsoftonline.com",
)
_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int] | None:
    from urllib.parse import urlsplit

    if "\\" in url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in _PORTS or not host:
        return None
    return scheme, host, port if port is not None else _PORTS[scheme]


def trusted_endpoint(url: str) -> bool:
    """Whether `url` is an origin Prompty trusts with ambient credentials."""
    entries = [*TRUSTED_ENDPOINTS, *os.environ.get("PROMPTY_TRUSTED_ENDPOINTS", "").split(",")]
    entries = [e.strip() for e in entries if e.strip()]
    if "*" in entries:
        return True
    target = _origin(url)
    if target is None:
        return False
    for entry in entries:
        allowed = _origin(entry)
        if allowed is None or allowed[0] != target[0] or allowed[2] != target[2]:
            continue
        host = allowed[1]
        if (host.startswith("*.") and target[1].endswith(host[1:])) or host == target[1]:
            return True
    return False


def _check_trust(conn: dict[str, Any], ctx: Context, loc: Loc) -> None:
    """Refuse what Prompty refuses: a connection whose endpoint the file chose, that is not a
    trusted origin, and that would be sent a credential from the environment."""
    if conn.get("kind") == "reference":
        return
    key = conn.get("apiKey")
    if conn.get("kind") == "key" and isinstance(key, str) and key.strip() and not reference(key):
        return  # the file supplies its own credential: nothing ambient leaves
    for name in ("endpoint", "tokenUrl"):
        value = conn.get(name)
        if value is None:
            continue
        chosen: str | None = str(value)
        env = env_reference(chosen) if isinstance(value, str) else None
        if env is not None:
            chosen = None if os.environ.get(env[0]) is not None else (env[1] or None)
        if chosen is not None and not trusted_endpoint(chosen):
            raise ctx.error(
                f"endpoint '{chosen}' is not trusted with a key from the environment: "
                "Prompty refuses it too",
                (*loc, name),
                hint="read it from the environment (${env:VAR}), add its origin to "
                "PROMPTY_TRUSTED_ENDPOINTS, or use kind: reference",
            )


def _template(data: Any, ctx: Context) -> dict[str, Any]:
    loc: Loc = ("template",)
    if isinstance(data, str):
        raise ctx.error(
            f"template: {data} is Prompty v1 shorthand; Prompty 2 refuses it",
            loc,
            hint=f"write template: {{format: {{kind: {data}}}, parser: {{kind: prompty}}}}",
        )
    if not isinstance(data, dict):
        raise ctx.error("template must be a mapping (format:, parser:)", loc)
    _unknown_keys(data, ["format", "parser", "filters"], ctx, loc)
    out: dict[str, Any] = {}
    for part, default in (("format", "jinja2"), ("parser", "prompty")):
        value = data.get(part)
        if value is None:
            raise ctx.error(
                f"template.{part} is missing: Prompty needs both format and parser",
                loc,
                hint=f"add {part}: {{kind: {default}}}",
            )
        if isinstance(value, str):
            value = {"kind": value}
        if not isinstance(value, dict):
            raise ctx.error(f"template.{part} must be a mapping (kind: …)", (*loc, part))
        out[part] = value
    kind = out["format"].get("kind") or "*"
    if kind not in (*FORMATS, "*"):
        raise ctx.error(
            f"no template engine '{kind}': Prompty renders jinja2 and mustache",
            ("template", "format", "kind"),
        )
    parser = out["parser"].get("kind") or "*"
    if parser in ("promptfoo", "promptfoo-chat"):
        # prompteur's own: a file converted from promptfoo, rendered and split as promptfoo
        # does (Nunjucks, then a JSON/YAML chat or one user turn), with its custom filters.
        if kind != "nunjucks":
            raise ctx.error(
                "parser promptfoo goes with format nunjucks", ("template", "format", "kind")
            )
        filters = data.get("filters")
        if filters is not None:
            if not isinstance(filters, dict) or not all(
                isinstance(v, str) for v in filters.values()
            ):
                raise ctx.error(
                    "template.filters maps a filter's name to its JavaScript file",
                    (*loc, "filters"),
                )
            out["filters"] = {str(k): v for k, v in filters.items()}
        return out
    if "filters" in data:
        raise ctx.error(
            "template.filters goes with parser: promptfoo (custom Nunjucks filters)",
            (*loc, "filters"),
        )
    if parser not in ("prompty", "*"):
        raise ctx.error(f"no parser '{parser}': Prompty parses 'prompty'", ("template", "parser"))
    return out


def _tools(data: Any, ctx: Context) -> list[dict[str, Any]]:
    out = []
    for here, item in _named(data, ctx, ("tools",), "kind"):
        if not isinstance(item, dict):
            raise ctx.error("a tool must be a mapping (name:, kind: …)", here)
        _unknown_keys(item, TOOL_KEYS, ctx, here)
        tool = dict(item)
        kind = tool.get("kind")
        if not isinstance(tool.get("inputSchema"), dict):
            tool.pop("inputSchema", None)
        if kind == "function":
            if "parameters" in tool:
                tool["parameters"] = _properties(
                    tool["parameters"], ctx, (*here, "parameters"), None
                )
        else:
            tool.pop("parameters", None)  # the runtime reads no parameters for other kinds
            if tool.get("connection") is None:
                raise ctx.error(
                    f"a tool of kind '{kind}' needs a connection: Prompty refuses it without",
                    here,
                )
        if tool.get("connection") is not None:
            tool["connection"] = _connection(tool["connection"], ctx, (*here, "connection"))
        if "bindings" in tool:
            bindings = {}
            for bhere, b in _named(tool["bindings"], ctx, (*here, "bindings"), "input"):
                if isinstance(b, str):
                    b = {"input": b}
                if not isinstance(b, dict):
                    raise ctx.error("a binding must name an input", bhere)
                bindings[str(b.get("name") or "")] = b.get("input")
            tool["bindings"] = bindings
        out.append(tool)
    return out


# Keys whose shape the runtime never checks: a wrong shape is noted and the key ignored.
_SHAPES: dict[str, tuple[type, ...]] = {
    "name": (str, int, float),
    "displayName": (str, int, float),
    "description": (str, int, float),
    "version": (str, int, float),
    "authors": (list, str),
    "tags": (list, str),
    "domain": (str,),
    "targets": (list, str),
    "examples": (list,),
    "output_schema": (dict,),
    "variants": (list,),
}


def _lax_shapes(data: dict[str, Any], ctx: Context) -> dict[str, Any]:
    out = dict(data)
    for key, types in _SHAPES.items():
        value = out.get(key)
        if value is None:
            continue
        ok = isinstance(value, types) and not isinstance(value, bool)
        if ok and key in ("authors", "tags", "targets") and isinstance(value, list):
            ok = all(isinstance(v, str | int | float) for v in value)
        if ok and key in ("examples", "variants"):
            ok = all(isinstance(v, dict) for v in value)
        if not ok:
            ctx.note(f"{key} is not in a shape prompteur reads: ignored", (key,))
            del out[key]
    return out


def _lax_params(model: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Options and v1 parameters: a value our calls could not send is noted and dropped
    (the runtime loads any value; the provider would be the one to refuse it)."""
    model = dict(model)
    for block in ("options", "parameters"):
        values = model.get(block)
        if values is None:
            continue
        if not isinstance(values, dict):
            if block == "options":
                raise ctx.error("model.options must be a mapping", ("model", block))
            ctx.note("model.parameters is not a mapping: ignored", ("model", block))
            del model[block]
            continue
        values = dict(values)
        extra = values.get("additionalProperties")
        if extra is not None and not isinstance(extra, dict):
            ctx.note("additionalProperties is not a mapping: ignored", ("model", block))
            del values["additionalProperties"]
        for key, value in list(values.items()):
            name = OPTION_NAMES.get(key, key)
            if name == "extra" or name not in Params.model_fields or value is None:
                continue
            if name == "stop" and isinstance(value, str):
                value = [value]
            try:
                Params.model_validate({name: value})
            except ValueError:
                ctx.note(
                    f"{key}: {value!r} cannot be sent to a model: ignored", ("model", block, key)
                )
                del values[key]
        model[block] = values
    return model


def normalise(data: Any, ctx: Context) -> dict[str, Any]:
    """The front matter in canonical form (see the module docstring), or a UserError."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserError(
            "front matter must be a YAML mapping (key: value)",
            file=ctx.source,
            line=ctx.lines.line(()),
        )
    _unknown_keys(data, ROOT_KEYS, ctx, ())
    out = _lax_shapes(data, ctx)
    out.pop("instructions", None)  # the body is the instructions
    if "template" in data:
        out["template"] = _template(data["template"], ctx)
    for key in ("inputs", "outputs"):
        if key in data:
            out[key] = _properties(data[key], ctx, (key,), (key,))
    if "model" in data:
        model = data["model"]
        if isinstance(model, str):
            model = {"id": model}
        if not isinstance(model, dict):
            raise ctx.error("model must be an id or a mapping (id:, provider: …)", ("model",))
        _unknown_keys(model, MODEL_KEYS + MODEL_V1_KEYS, ctx, ("model",))
        if "connection" in model:
            conn = model["connection"]
            ref = reference(conn)
            if ref is not None and ref[0] == "file":
                conn = read_file_reference(ref[1], ctx, ("model", "connection"))
            _check_trust(
                _connection(conn, ctx, ("model", "connection")), ctx, ("model", "connection")
            )
        out["model"] = _lax_params(model, ctx)
    if "tools" in data:
        out["tools"] = _tools(data["tools"], ctx)
    return out


# ---- the typed front matter -------------------------------------------------------------


def _text(value: Any) -> Any:
    # The runtime copies scalars as they are: a number where text is expected still loads.
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


class InputSpec(BaseModel):
    """A property: an input, an output, a tool parameter (Prompty's `Property`)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    kind: str = "string"
    description: str | None = None
    default: Any = None
    required: bool | None = None
    nullable: bool | None = None
    sample: Any = None
    example: Any = None
    enum: list[Any] | None = Field(default=None, alias="enumValues")
    items: InputSpec | None = None
    properties: dict[str, InputSpec] = Field(default_factory=dict)
    one_of: list[InputSpec] | None = Field(default=None, alias="oneOf")
    any_of: list[InputSpec] | None = Field(default=None, alias="anyOf")
    _loc: Loc = PrivateAttr(default=())
    _line: int | None = PrivateAttr(default=None)

    @field_validator("description", mode="before")
    @classmethod
    def _lax_text(cls, value: Any) -> Any:
        return _text(value) if isinstance(value, str | int | float) else None

    @field_validator("required", "nullable", mode="before")
    @classmethod
    def _truthy(cls, value: Any) -> Any:
        return None if value is None else bool(value)  # the runtime tests truthiness

    @field_validator("enum", mode="before")
    @classmethod
    def _list_or_none(cls, value: Any) -> Any:
        return value if isinstance(value, list) else None

    @property
    def is_required(self) -> bool:
        """Prompty's rule: required only when the file says `required: true` and gives no
        default; a missing optional input renders as nothing."""
        return bool(self.required) and self.default is None

    @property
    def is_rich(self) -> bool:
        return self.kind in RICH_KINDS

    def json_schema(self) -> dict[str, Any]:
        """This property as JSON Schema (the runtime's mapping for tools and outputs)."""
        types = {"float": "number", "thread": "array", "image": "string", "file": "string"}
        types |= {"audio": "string"}
        kind = types.get(self.kind, self.kind)
        schema: dict[str, Any] = {"type": kind} if kind in SIMPLE_KINDS else {}
        if self.description:
            schema["description"] = self.description
        if self.enum:
            schema["enum"] = list(self.enum)
        if self.kind == "array":
            schema["items"] = self.items.json_schema() if self.items else {"type": "string"}
        if self.kind == "object" and self.properties:
            schema["properties"] = {k: v.json_schema() for k, v in self.properties.items()}
            required = [k for k, v in self.properties.items() if v.required]
            if required:
                schema["required"] = required
        branches = self.any_of or self.one_of
        if self.kind == "union" and branches:
            schema["anyOf" if self.any_of else "oneOf"] = [b.json_schema() for b in branches]
        return schema


class ModelSpec(BaseModel):
    """`model:` — our `id: provider:name` form, Prompty v2 (id, provider, apiType, connection,
    options) and Prompty v1 (api, configuration, parameters)."""

    model_config = ConfigDict(extra="allow")

    id: str | None = None  # as written: "gpt-4o", or prompteur's "openai:gpt-4o"
    provider: str | None = None
    api_type: str | None = None
    connection: dict[str, Any] | None = None  # `${env:}` values still unresolved
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
        conf = data.pop("connection", None)
        v1 = data.pop("configuration", None)
        out["provider"] = data.pop("provider", None)
        out["api_type"] = data.pop("apiType", None) or data.pop("api", None)
        model_id = data.pop("id", None)
        if isinstance(v1, dict):
            # Prompty v1: configuration {type, azure_deployment | name | model, endpoint…}
            model_id = model_id or v1.get("azure_deployment") or v1.get("name") or v1.get("model")
            out["provider"] = out["provider"] or v1.get("type")
            conf = conf or {"kind": "v1", **v1}
        out["connection"] = conf if isinstance(conf, dict) else None
        out["id"] = None if model_id is None else str(model_id)
        params: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        options = dict(data.pop("options", None) or {})
        more = options.pop("additionalProperties", None)
        extra.update(more if isinstance(more, dict) else {})
        # v1 `parameters` are the provider's own (snake_case) names, v2 `options` camelCase.
        for key, value in {**(data.pop("parameters", None) or {}), **options}.items():
            name = OPTION_NAMES.get(key, key)
            if name in Params.model_fields and name != "extra":
                params.setdefault(name, value)
            else:
                extra[key] = value
        if isinstance(params.get("stop"), str):
            params["stop"] = [params["stop"]]
        if extra:
            params["extra"] = extra
        out["parameters"] = params
        data.pop("response", None)
        out.update(data)  # any other key: kept, noted by `normalise`
        return out


OPTION_NAMES = {
    "maxOutputTokens": "max_tokens",
    "topP": "top_p",
    "topK": "top_k",
    "stopSequences": "stop",
    "frequencyPenalty": "frequency_penalty",
    "presencePenalty": "presence_penalty",
    "reasoningEffort": "reasoning_effort",
    "allowMultipleToolCalls": "parallel_tool_calls",
}


class ToolSpec(BaseModel):
    """A tool (Prompty's `Tool`): `function` tools are offered to the model; the others
    (`mcp`, `openapi`, `prompty`, custom) are kept with the prompt and its versions."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    name: str = ""
    kind: str | None = None
    description: str | None = None
    parameters: dict[str, InputSpec] = Field(default_factory=dict)
    strict: bool = False
    bindings: dict[str, Any] = Field(default_factory=dict)
    connection: dict[str, Any] | None = None
    input_schema: dict[str, Any] | None = Field(default=None, alias="inputSchema")

    @field_validator("name", "description", mode="before")
    @classmethod
    def _lax_text(cls, value: Any) -> Any:
        return _text(value)

    def parameters_schema(self) -> dict[str, Any] | None:
        """The JSON Schema sent to the model: bound parameters are not the model's to fill."""
        props = {k: v for k, v in self.parameters.items() if k not in self.bindings}
        if not props:
            return self.input_schema if not self.parameters else None
        schema: dict[str, Any] = {"type": "object", "properties": {}}
        required = []
        for name, prop in props.items():
            one = prop.json_schema()
            if self.strict and not prop.required:
                one["type"] = [one["type"], "null"] if "type" in one else one.get("type")
            schema["properties"][name] = one
            if self.strict or prop.required:
                required.append(name)
        if required:
            schema["required"] = required
        if self.strict:
            schema["additionalProperties"] = False
        return schema


class TemplateSpec(BaseModel):
    model_config = ConfigDict(extra="allow")

    format: str = "jinja2"
    strict: bool = True  # role markers only from the template's own lines (Prompty's nonce)
    parser: str = "prompty"  # or prompteur's `promptfoo` (files converted from promptfoo)
    filters: dict[str, str] | None = None  # custom Nunjucks filters (parser promptfoo)

    @model_validator(mode="before")
    @classmethod
    def _flatten(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        fmt = data.get("format") or {}
        parser = data.get("parser") or {}
        kind = fmt.get("kind") if isinstance(fmt, dict) else fmt
        strict = fmt.get("strict") if isinstance(fmt, dict) else None
        pkind = parser.get("kind") if isinstance(parser, dict) else parser
        return {
            "format": kind if kind not in (None, "", "*") else "jinja2",
            "strict": True if strict is None else bool(strict),
            "parser": pkind if pkind not in (None, "", "*") else "prompty",
            "filters": data.get("filters"),
        }


class Variant(BaseModel):
    """One entry of `variants:` — the prompt as tuned for a family of models.

    Prompty's runtime ignores the key (it renders the default body), so the file stays a
    valid .prompty; prompteur picks the first variant whose `models` globs match the model in
    use (docs/prompts.md). What a variant leaves out comes from the default.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    models: list[str] = Field(min_length=1, description="model id globs, e.g. local:smollm2")
    description: str | None = None
    parameters: Params | None = None
    examples: list[dict[str, Any]] | None = None
    system: str | None = Field(default=None, description="replaces the system turn")
    body: str | None = Field(default=None, description="replaces the whole body")

    @field_validator("models", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("models")
    @classmethod
    def _globs(cls, value: list[str]) -> list[str]:
        for glob in value:
            if not glob.strip() or len(glob) > 300 or any(ord(c) < 32 for c in glob):
                raise ValueError(f"not a model glob: {glob[:80]!r}")
        return value

    def matches(self, model_id: str) -> bool:
        return any(fnmatch.fnmatchcase(model_id, glob) for glob in self.models)


class FrontMatter(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    name: str | None = None
    display_name: str | None = Field(default=None, alias="displayName")
    description: str | None = None
    version: str | None = None
    authors: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    model: ModelSpec | None = None
    inputs: dict[str, InputSpec] = Field(default_factory=dict)
    outputs: dict[str, InputSpec] = Field(default_factory=dict)
    tools: list[ToolSpec] = Field(default_factory=list)
    sample: Any = Field(default_factory=dict)
    template: TemplateSpec = Field(default_factory=TemplateSpec)
    metadata: Any = Field(default_factory=dict)
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
    variants: list[Variant] = Field(
        default_factory=list, description="the prompt per model family (first match wins)"
    )

    @field_validator("variants")
    @classmethod
    def _unique_variants(cls, value: list[Variant]) -> list[Variant]:
        seen: set[str] = set()
        for v in value:
            if v.name in seen:
                raise ValueError(f"two variants are named '{v.name}'")
            seen.add(v.name)
        return value

    enforce: bool = Field(
        default=True,
        description="hold the model to the output schema while it decodes, where it can",
    )

    @field_validator("name", "description", "version", "display_name", mode="before")
    @classmethod
    def _lax_text(cls, value: Any) -> Any:
        return _text(value)

    @field_validator("authors", "tags", "targets", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if value is None:
            return []
        value = [value] if isinstance(value, str) else value
        return [_text(v) for v in value] if isinstance(value, list) else value

    @field_validator("metadata", mode="before")
    @classmethod
    def _any_metadata(cls, value: Any) -> Any:
        return {} if value is None else value

    @property
    def sample_inputs(self) -> dict[str, Any]:
        """v1's `sample:` when it is a mapping of input values (it may be anything else)."""
        return self.sample if isinstance(self.sample, dict) else {}


KNOWN_KEYS = ROOT_KEYS
