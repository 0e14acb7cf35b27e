"""promptfoo → prompteur: a `promptfooconfig.yaml` becomes prompt files and one suite.

What converts: `description`; `prompts` (inline Nunjucks text, `file://` text, Markdown and
JSON/YAML chat arrays, `---`-separated text files, globs, objects with `raw`/`id`/`label`);
`providers` (ids and objects with `config`: temperature, max_tokens, top_p, stop, seed,
`apiBaseUrl`); `tests` (inline, `file://` CSV/YAML/JSON/JSONL, `__expected` columns); `vars`
(with `file://` values and list values expanded as promptfoo does); `defaultTest` (vars,
assert, threshold); `evaluateOptions.repeat`; and assertions through a table (`ASSERTIONS`)
that consults `prompteur.checks.registered()` when the import runs, so checks added later
(similar, rubric, factuality…) are picked up without touching this file.

Everything else is listed — where it is in the promptfoo files, what it is, and why it was
not converted — never silently dropped.
"""

from __future__ import annotations

import csv
import glob
import itertools
import json
import os
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml

from ..errors import UserError
from ..files import write_atomic
from ..yamlfile import dotted, load_yaml

# ---- the result ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Skipped:
    """One thing that could not be converted: where, what, why."""

    where: str
    what: str
    why: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}: {self.why}"

    def to_dict(self) -> dict[str, str]:
        return {"where": self.where, "what": self.what, "why": self.why}


@dataclass
class Conversion:
    """Every file to write (path → text), what was skipped, and what changed on the way."""

    files: dict[Path, str] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    prompts: list[Path] = field(default_factory=list)
    suite: Path | None = None

    def write(self, *, force: bool = False, validate: bool = True) -> list[Path]:
        """Write every file, then load them back; on any failure restore what was there."""
        if not force:
            existing = [p for p in self.files if p.exists()]
            if existing:
                raise UserError(
                    "already exists; nothing was written",
                    file=existing[0],
                    hint="use --force to overwrite, or --out / --name to write elsewhere",
                )
        before: dict[Path, str | None] = {}
        try:
            for path, text in self.files.items():
                before[path] = path.read_text(encoding="utf-8") if path.is_file() else None
                write_atomic(path, text)
            if validate:
                self.validate()
        except BaseException:
            for path, old in before.items():
                if old is None:
                    path.unlink(missing_ok=True)
                else:
                    path.write_text(old, encoding="utf-8")
            raise
        return list(self.files)

    def validate(self) -> None:
        from ..prompt import load_prompt
        from ..suite import load_suite

        for p in self.prompts:
            load_prompt(p)
        if self.suite is not None:
            load_suite(self.suite).count_cases()

    def to_dict(self) -> dict[str, Any]:
        return {
            "written": [str(p) for p in self.files],
            "prompts": [str(p) for p in self.prompts],
            "suite": str(self.suite) if self.suite else None,
            "notes": self.notes,
            "unsupported": [s.to_dict() for s in self.skipped],
        }


class _Unsupported(Exception):
    """Raised inside a converter: this piece cannot be converted, and why."""


# ---- providers ----------------------------------------------------------------------------

# promptfoo provider prefix → our provider (the model name is what follows the prefix).
_PROVIDER_PREFIXES: dict[str, str] = {
    "openai:chat:": "openai",
    "openai:completion:": "openai",
    "openai:": "openai",
    "anthropic:messages:": "anthropic",
    "anthropic:completion:": "anthropic",
    "anthropic:": "anthropic",
    "ollama:chat:": "ollama",
    "ollama:completion:": "ollama",
    "ollama:": "ollama",
    "mistral:chat:": "mistral",
    "mistral:": "mistral",
    "vertex:chat:": "gemini",
    "vertex:": "gemini",
    "google:": "gemini",
    "gemini:": "gemini",
}
# Hosted OpenAI-compatible services promptfoo names by prefix.
_COMPATIBLE_HOSTS: dict[str, str] = {
    "openrouter:": "https://openrouter.ai/api/v1",
    "groq:": "https://api.groq.com/openai/v1",
    "togetherai:": "https://api.together.xyz/v1",
    "deepseek:": "https://api.deepseek.com/v1",
    "fireworks:": "https://api.fireworks.ai/inference/v1",
}
_PARAM_KEYS = {
    "temperature": "temperature",
    "max_tokens": "max_tokens",
    "max_completion_tokens": "max_tokens",
    "maxOutputTokens": "max_tokens",
    "num_predict": "max_tokens",
    "top_p": "top_p",
    "topP": "top_p",
    "stop": "stop",
    "stopSequences": "stop",
    "seed": "seed",
}
_URL_KEYS = ("apiBaseUrl", "apiHost", "baseUrl")


def provider_model_id(pf_id: str, base_url: str | None = None) -> str:
    """Our model id for a promptfoo provider id; raises _Unsupported with the reason."""
    pf_id = pf_id.strip()
    if pf_id.startswith(("openai:embedding", "openai:embeddings", "openai:assistant")):
        raise _Unsupported("not a chat model: prompteur calls chat completions")
    for prefix, url in _COMPATIBLE_HOSTS.items():
        if pf_id.startswith(prefix) and len(pf_id) > len(prefix):
            return f"openai-compatible:{pf_id[len(prefix) :]}@{base_url or url}"
    for prefix, ours in _PROVIDER_PREFIXES.items():
        if pf_id.startswith(prefix) and len(pf_id) > len(prefix):
            model = pf_id[len(prefix) :]
            if base_url:
                return f"openai-compatible:{model}@{base_url}"
            if ours == "gemini" and ":" in model:  # vertex:chat-bison:… forms
                model = model.rsplit(":", 1)[-1]
            return f"{ours}:{model}"
    kind = pf_id.split(":", 1)[0]
    if kind in {"http", "https", "exec", "python", "file", "webhook", "websocket"}:
        raise _Unsupported(f"custom '{kind}' providers run code or services prompteur cannot")
    raise _Unsupported(
        "no matching prompteur provider (openai, anthropic, mistral, gemini, ollama, "
        "openai-compatible with config.apiBaseUrl)"
    )


# ---- assertions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Assertion:
    """How one promptfoo assertion type converts. `ours`: our check type (None: see
    `convert`); `needs`: a check that must be registered for the conversion to apply."""

    ours: str | None
    convert: Callable[[dict[str, Any], _Ctx], dict[str, Any]] | None = None
    needs: str | None = None
    note: str | None = None


@dataclass
class _Ctx:
    """State shared while converting assertions: the python adapter being assembled."""

    adapter_functions: list[str] = field(default_factory=list)
    adapter_path: Path | None = None
    base_dir: Path = Path(".")
    notes: list[str] = field(default_factory=list)


def _value_only(a: dict[str, Any], ctx: _Ctx) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if a.get("value") is not None:
        value = a["value"]
        if isinstance(value, dict):
            raise _Unsupported("a JSON object value: prompteur compares text")
        out["value"] = [str(v) for v in value] if isinstance(value, list) else str(value)
    return out


def _list_value(a: dict[str, Any], ctx: _Ctx) -> dict[str, Any]:
    value = a.get("value")
    if isinstance(value, str):  # promptfoo accepts "a, b, c"
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not value:
        raise _Unsupported("needs a list of values")
    return {"value": [str(v) for v in value]}


def _is_json(strict: bool) -> Callable[[dict[str, Any], _Ctx], dict[str, Any]]:
    def conv(a: dict[str, Any], ctx: _Ctx) -> dict[str, Any]:
        schema = a.get("value")
        if schema is None:
            return {"type": "is-json", **({"strict": True} if strict else {})}
        if isinstance(schema, str) and schema.startswith("file://"):
            schema = _read_structured(ctx.base_dir / schema[7:])
        if not isinstance(schema, dict):
            raise _Unsupported("the schema must be a JSON Schema object")
        return {"type": "json-schema", "value": schema}

    return conv


def _with_threshold(cast: Callable[[Any], Any]) -> Callable[[dict[str, Any], _Ctx], dict[str, Any]]:
    """The value, and promptfoo's threshold when given (an edit count or a 0–1 score)."""

    def conv(a: dict[str, Any], ctx: _Ctx) -> dict[str, Any]:
        out = _value_only(a, ctx)
        if a.get("threshold") is not None:
            out["threshold"] = cast(a["threshold"])
        return out

    return conv


def _rouge(a: dict[str, Any], ctx: _Ctx) -> dict[str, Any]:
    out = _value_only(a, ctx)
    out["threshold"] = float(a.get("threshold") if a.get("threshold") is not None else 0.75)
    return out


def _limit(key: str) -> Callable[[dict[str, Any], _Ctx], dict[str, Any]]:
    def conv(a: dict[str, Any], ctx: _Ctx) -> dict[str, Any]:
        if a.get("threshold") is None:
            raise _Unsupported("needs a threshold")
        return {key: float(a["threshold"])}

    return conv


_levenshtein = _with_threshold(int)
_judge = _with_threshold(float)


def _python(a: dict[str, Any], ctx: _Ctx) -> dict[str, Any]:
    """A promptfoo python assertion, through a generated adapter module: promptfoo calls
    `get_assert(output, context)` with a dict context and accepts a bool, a score or a
    {pass, score, reason} dict; prompteur's `python` check calls fn(output, CheckContext)."""
    value = a.get("value")
    if not isinstance(value, str) or not value.strip():
        raise _Unsupported("needs code or file://path.py")
    n = len(ctx.adapter_functions) + 1
    threshold = a.get("threshold")
    if value.startswith("file://"):
        target, _, fn = value[7:].partition(":")
        path = (ctx.base_dir / target).resolve()
        if not path.is_file():
            raise _Unsupported(f"file not found: {path}")
        if path.suffix != ".py":
            raise _Unsupported("only .py files")
        text = (
            f"def assert_{n}(output, ctx):\n"
            f"    fn = _load({str(path)!r}, {fn or 'get_assert'!r})\n"
            f"    return _result(fn(output, _context(ctx)), {threshold!r})\n"
        )
    else:
        code = value.strip("\n")
        body = code if "return" in code else f"return ({code.strip()})"
        inner = f"def _inline_{n}(output, context):\n" + textwrap.indent(body, "    ") + "\n"
        try:
            compile(inner, f"assert[{n}]", "exec")
        except SyntaxError as exc:
            raise _Unsupported(f"not valid Python: {exc.msg}") from None
        text = (
            inner
            + f"\n\ndef assert_{n}(output, ctx):\n"
            + f"    return _result(_inline_{n}(output, _context(ctx)), {threshold!r})\n"
        )
    ctx.adapter_functions.append(text)
    assert ctx.adapter_path is not None
    # The adapter sits beside the suite, and a suite names files relative to itself.
    out: dict[str, Any] = {"value": f"{ctx.adapter_path.name}:assert_{n}"}
    if threshold is not None:
        out["threshold"] = float(threshold)
    return out


_STRING_CHECKS = ["equals", "contains", "icontains", "starts-with", "regex"]
_LIST_CHECKS = ["contains-any", "contains-all", "icontains-any", "icontains-all"]

ASSERTIONS: dict[str, Assertion] = {
    **{t: Assertion(t, _value_only) for t in _STRING_CHECKS},
    **{t: Assertion(t, _list_value) for t in _LIST_CHECKS},
    "is-json": Assertion("is-json", _is_json(strict=True)),
    "contains-json": Assertion("is-json", _is_json(strict=False)),
    "levenshtein": Assertion("levenshtein", _levenshtein),
    "rouge-n": Assertion(
        "rouge-l", _rouge, note="rouge-n became rouge-l (longest common subsequence, not n-grams)"
    ),
    "latency": Assertion("latency", _limit("max_ms")),
    "cost": Assertion("cost", _limit("max_usd")),
    "python": Assertion("python", _python),
    # model-graded and semantic checks: converted once prompteur registers them
    "similar": Assertion("similar", _judge, needs="similar"),
    "llm-rubric": Assertion("rubric", _judge, needs="rubric"),
    "model-graded-closedqa": Assertion("rubric", _judge, needs="rubric"),
    "g-eval": Assertion("rubric", _judge, needs="rubric"),
    "factuality": Assertion("factuality", _judge, needs="factuality"),
}
_WHY_NOT: dict[str, str] = {
    "javascript": "prompteur does not run JavaScript; rewrite it as a python check",
    "assert-set": "nested assertion sets have no equivalent; list the checks one by one",
    "select-best": "compares outputs across prompts, not one output",
    "max-score": "compares outputs across prompts, not one output",
    "webhook": "prompteur does not call webhooks from checks",
    "moderation": "no moderation check in prompteur",
    "classifier": "no classifier check in prompteur",
    "perplexity": "no perplexity check in prompteur",
    "perplexity-score": "no perplexity check in prompteur",
}


def convert_assertion(a: Any, ctx: _Ctx) -> dict[str, Any]:
    """One promptfoo assertion → one of our check specs (validated), or _Unsupported."""
    from ..checks import build, registered

    if isinstance(a, str):
        a = {"type": a}
    if not isinstance(a, dict) or not isinstance(a.get("type"), str):
        raise _Unsupported("an assertion needs a type")
    kind = a["type"]
    negate = kind.startswith("not-")
    base = kind[4:] if negate else kind
    spec = ASSERTIONS.get(base)
    if spec is None:
        raise _Unsupported(_WHY_NOT.get(base, "no equivalent check in prompteur"))
    known = set(registered())
    wanted = spec.needs or spec.ours
    if wanted not in known:
        raise _Unsupported(f"no '{wanted}' check in prompteur yet")
    assert spec.convert is not None
    params = spec.convert(a, ctx)
    ours = params.pop("type", spec.ours)
    out: dict[str, Any] = {"type": f"not-{ours}" if negate else ours, **params}
    if a.get("weight") is not None:
        out["weight"] = float(a["weight"])
    if spec.note:
        ctx.notes.append(spec.note)
    if ours != "python":  # the adapter module is validated once written
        try:
            build(out)
        except UserError as exc:
            raise _Unsupported(exc.message) from None
    return out


def _leftover_keys(a: Any) -> list[str]:
    """Keys of an assertion we drop (the check itself is still converted)."""
    if not isinstance(a, dict):
        return []
    kept = {"type", "value", "weight", "threshold"}
    return [k for k in a if k not in kept]


_LEFTOVER_WHY = {
    "metric": "named metrics are not grouped in prompteur's reports",
    "provider": "the grading model is chosen by the check, not per assertion",
    "transform": "prompteur checks the raw output; transforms run no JavaScript here",
    "rubricPrompt": "custom grader prompts are not imported",
    "config": "assertion config is not imported",
}

# `__expected` cells: `type:value`, `type(threshold):value`, or a plain value (equals).
_EXPECTED = re.compile(r"^(not-)?([a-z][a-z-]*)(?:\((\d+(?:\.\d+)?)\))?(?::(.*))?$", re.S)
_EXPECTED_ALIASES = {
    "grade": "llm-rubric",
    "llm-rubric": "llm-rubric",
    "fn": "javascript",
    "eval": "javascript",
    "javascript": "javascript",
}


def expected_to_assertion(cell: str) -> dict[str, Any]:
    """A promptfoo CSV `__expected` cell as a promptfoo assertion."""
    m = _EXPECTED.match(cell.strip())
    if m:
        neg, kind, threshold, value = m.groups()
        kind = _EXPECTED_ALIASES.get(kind, kind)
        if kind in ASSERTIONS or kind in _WHY_NOT:
            a: dict[str, Any] = {"type": f"{neg or ''}{kind}"}
            if value is not None:
                a["value"] = value.strip() if kind not in {"javascript", "python"} else value
            if threshold is not None:
                a["threshold"] = float(threshold)
            return a
    return {"type": "equals", "value": cell}


# ---- prompts ------------------------------------------------------------------------------


@dataclass
class _Prompt:
    label: str
    body: str  # our role-marked body
    where: str


_ROLE_LINE = re.compile(r"^\s*#?\s*([A-Za-z_][\w-]*)\s*:\s*$")
_DUMP = re.compile(r"\|\s*dump(\s*\([^)]*\))?")


def _protect(text: str) -> str:
    """Lines that our files would read as role markers, kept as text."""
    from ..prompt import _FOREIGN_ROLES, ROLES, _close_role

    out = []
    for line in text.split("\n"):
        m = _ROLE_LINE.match(line)
        if m:
            word = m.group(1).lower()
            if word in ROLES or word in _FOREIGN_ROLES or _close_role(word):
                line = "{{ " + json.dumps(line.strip()) + " }}"
        out.append(line)
    return "\n".join(out)


def _nunjucks(text: str, where: str, notes: list[str]) -> str:
    """Nunjucks → Jinja2: the same for variables, tags and most filters; `dump` is `json`."""
    if _DUMP.search(text):
        notes.append(f"{where}: the Nunjucks filter `dump` became prompteur's `json`")
        text = _DUMP.sub("| json", text)
    return text


def _chat_body(messages: list[Any], where: str, notes: list[str]) -> str:
    parts = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or "role" not in m:
            raise _Unsupported(f"message {i} has no role")
        role = str(m["role"]).lower()
        if role == "developer":
            notes.append(f"{where}: message {i}: role 'developer' became 'system'")
            role = "system"
        if role not in {"system", "user", "assistant"}:
            raise _Unsupported(f"message {i}: role '{role}' has no equivalent")
        content = m.get("content")
        if not isinstance(content, str):
            raise _Unsupported(f"message {i}: only text content converts (no images, tools)")
        parts.append(f"{role}:\n{_protect(_nunjucks(content, where, notes)).strip()}\n")
    return "\n".join(parts)


def _text_body(text: str, where: str, notes: list[str]) -> str:
    return "user:\n" + _protect(_nunjucks(text, where, notes)).strip() + "\n"


def _read_structured(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise _Unsupported(f"file not found: {path}") from None
    if path.suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise _Unsupported(f"{path.name}: malformed JSON: {exc.msg}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _Unsupported(f"{path.name}: malformed YAML: {exc}") from None


def _prompts_from_file(ref: str, base: Path, where: str, notes: list[str]) -> list[_Prompt]:
    target = ref[7:] if ref.startswith("file://") else ref
    if ":" in Path(target).name:
        raise _Unsupported("prompt functions (file.py:fn) run code prompteur cannot import")
    paths = sorted(glob.glob(str(base / target))) if any(c in target for c in "*?[") else []
    if not paths:
        paths = [str(base / target)]
    found: list[_Prompt] = []
    for p in map(Path, paths):
        if p.suffix in {".py", ".js", ".ts", ".mjs", ".cjs"}:
            raise _Unsupported("prompt functions run code prompteur cannot import")
        if not p.is_file():
            raise _Unsupported(f"file not found: {p}")
        here = f"{where} ({p.name})"
        if p.suffix in {".json", ".yaml", ".yml", ".jsonl"}:
            if p.suffix == ".jsonl":
                raise _Unsupported("JSONL prompt files (one chat per line) are not imported")
            data = _read_structured(p)
            if isinstance(data, list):
                found.append(_Prompt(p.stem, _chat_body(data, here, notes), here))
                continue
            if isinstance(data, str):
                found.append(_Prompt(p.stem, _text_body(data, here, notes), here))
                continue
            raise _Unsupported(f"{p.name}: expected a chat array of {{role, content}}")
        text = p.read_text(encoding="utf-8-sig")
        pieces = [t for t in re.split(r"^---\s*$", text, flags=re.M) if t.strip()]
        if len(pieces) > 1:
            notes.append(f"{here}: split on '---' into {len(pieces)} prompts, as promptfoo does")
        for k, piece in enumerate(pieces):
            label = p.stem if len(pieces) == 1 else f"{p.stem}-{k + 1}"
            found.append(_Prompt(label, _text_body(piece, here, notes), here))
    return found


def _one_prompt(item: Any, base: Path, where: str, notes: list[str]) -> list[_Prompt]:
    label: str | None = None
    if isinstance(item, dict):
        label = item.get("label") or None
        raw = item.get("raw")
        ref = item.get("id") if raw is None else None
        if raw is None and ref is None:
            raise _Unsupported("a prompt object needs raw or id")
        if raw is not None:
            label = label or (str(item["id"]) if item.get("id") else None)
            item = raw
        else:
            item = ref
    if not isinstance(item, str):
        raise _Unsupported("a prompt is text, file://path or {raw|id, label}")
    looks_like_file = (
        "\n" not in item
        and Path(item).suffix in {".txt", ".md", ".json", ".yaml", ".yml", ".j2"}
        and (base / item).exists()
    )
    if item.startswith("file://") or looks_like_file:
        found = _prompts_from_file(item, base, where, notes)
        if label and len(found) == 1:
            found[0].label = label
        return found
    if isinstance(item, str) and item.lstrip().startswith("["):
        try:
            data = json.loads(item)
        except json.JSONDecodeError:
            data = None
        if isinstance(data, list):
            return [_Prompt(label or "chat", _chat_body(data, where, notes), where)]
    return [_Prompt(label or "", _text_body(item, where, notes), where)]


def _template_variables(body: str) -> list[str]:
    from jinja2 import Environment, meta

    env = Environment()
    env.filters["json"] = lambda v: v
    try:
        found = meta.find_undeclared_variables(env.parse(body))
    except Exception as exc:  # jinja2.TemplateSyntaxError and friends
        raise _Unsupported(f"the template does not parse as Jinja2: {exc}") from None
    return sorted(v for v in found if v != "examples")


# ---- the converter ------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """YAML that stays readable: strings with line breaks are written quoted ("\\n")."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = '"' if any(c in value for c in "\n\r\t") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def _slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s[:40].strip("-") or "prompt"


def _display(path: Path) -> str:
    """A path as written in a suite: relative to where commands run, when possible."""
    try:
        rel = os.path.relpath(path, Path.cwd())
    except ValueError:  # another drive
        return str(path)
    return str(path) if rel.startswith("..") else rel


def _kind(values: list[Any]) -> str:
    kinds = set()
    for v in values:
        if isinstance(v, bool):
            kinds.add("boolean")
        elif isinstance(v, int):
            kinds.add("integer")
        elif isinstance(v, float):
            kinds.add("number")
        elif isinstance(v, list):
            kinds.add("array")
        elif isinstance(v, dict):
            kinds.add("object")
        else:
            kinds.add("string")
    if kinds == {"integer", "number"}:
        return "number"
    return kinds.pop() if len(kinds) == 1 else "string"


@dataclass
class _Case:
    vars: dict[str, Any]
    asserts: list[tuple[str, Any]]  # (where, promptfoo assertion)
    description: str | None
    where: str
    tags: list[str] = field(default_factory=list)


class _Converter:
    _TOP_KEYS: ClassVar[set[str]] = {
        "description",
        "prompts",
        "providers",
        "tests",
        "defaultTest",
        "evaluateOptions",
    }
    _IGNORED_TOP: ClassVar[set[str]] = {
        "sharing",
        "outputPath",
        "writeLatestResults",
        "tags",
        "$schema",
    }

    def __init__(self, config: Path, out: Path, name: str | None) -> None:
        self.config = config
        self.base = config.parent
        self.out = out
        self.result = Conversion()
        text = self._read(config)
        data, self.lines = load_yaml(text, config)
        if not isinstance(data, dict):
            raise UserError("a promptfoo config must be a YAML mapping", file=config, line=1)
        self.data = data
        default_name = config.stem if config.stem != "promptfooconfig" else config.parent.name
        self.name = _slug(name or default_name)
        self.ctx = _Ctx(
            base_dir=self.base,
            adapter_path=(out / "suites" / f"{self.name}_promptfoo_checks.py").resolve(),
        )

    @staticmethod
    def _read(path: Path) -> str:
        try:
            return path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise UserError("promptfoo config not found", file=path) from None
        except UnicodeDecodeError:
            raise UserError("not valid UTF-8 text", file=path) from None

    def where(self, *loc: str | int) -> str:
        return f"{self.config.name}:{self.lines.line(loc)} {dotted(loc)}".rstrip()

    def skip(self, where: str, what: str, why: str) -> None:
        self.result.skipped.append(Skipped(where, what, why))

    # -- top level --
    def run(self) -> Conversion:
        for key in self.data:
            if key not in self._TOP_KEYS and key not in self._IGNORED_TOP:
                self.skip(self.where(key), key, "no equivalent in a prompteur suite")
        prompts = self.prompts()
        if not prompts:
            raise UserError(
                "no prompt could be converted", file=self.config, field="prompts", hint=self._why()
            )
        models, params = self.providers()
        default_vars, default_asserts, threshold = self.default_test()
        cases = self.tests(default_vars)
        if not cases:
            raise UserError(
                "no test could be converted", file=self.config, field="tests", hint=self._why()
            )
        checks = self.checks(default_asserts)
        case_specs = [self.case_spec(c) for c in cases]
        var_names = sorted({k for c in case_specs for k in c["inputs"]})
        values = {v: [c["inputs"][v] for c in case_specs if v in c["inputs"]] for v in var_names}
        kinds = {v: _kind(vals) for v, vals in values.items()}
        for c in case_specs:  # mixed kinds were declared as strings
            for k, v in c["inputs"].items():
                if kinds[k] == "string" and not isinstance(v, str):
                    c["inputs"][k] = v if isinstance(v, str) else json.dumps(v)
        prompt_refs = self.write_prompts(prompts, models, params, kinds)
        suite: dict[str, Any] = {}
        if self.data.get("description"):
            suite["description"] = str(self.data["description"])
        suite["prompts"] = prompt_refs
        if models:
            suite["models"] = models
        repeat = (self.data.get("evaluateOptions") or {}).get("repeat")
        if isinstance(repeat, int) and repeat > 1:
            suite["repeat"] = repeat
        if threshold is not None:
            suite["threshold"] = threshold
        if checks:
            suite["checks"] = checks
        suite["cases"] = case_specs
        suite_path = self.out / "suites" / f"{self.name}.yaml"
        header = f"# Imported from promptfoo: {self.config.name}\n"
        self.result.files[suite_path] = header + _dump(suite)
        self.result.suite = suite_path
        if self.ctx.adapter_functions:
            assert self.ctx.adapter_path is not None
            self.result.files[self.ctx.adapter_path] = _ADAPTER_HEAD + "\n\n".join(
                self.ctx.adapter_functions
            )
            self.result.notes.append(
                f"python assertions run through {_display(self.ctx.adapter_path)}, which calls "
                "them with a promptfoo-style context ({vars, test, provider})"
            )
        self.result.notes.extend(dict.fromkeys(self.ctx.notes))
        return self.result

    def _why(self) -> str:
        return "; ".join(str(s) for s in self.result.skipped[-3:]) or "none given"

    # -- prompts --
    def prompts(self) -> list[_Prompt]:
        raw = self.data.get("prompts")
        if raw is None:
            raise UserError("no prompts", file=self.config, field="prompts")
        items: list[tuple[tuple[str | int, ...], Any]]
        if isinstance(raw, dict):  # {file://a.txt: label}
            items = [(("prompts", k), {"id": k, "label": v}) for k, v in raw.items()]
        elif isinstance(raw, list):
            items = [(("prompts", i), item) for i, item in enumerate(raw)]
        else:
            items = [(("prompts",), raw)]
        found: list[_Prompt] = []
        for loc, item in items:
            where = self.where(*loc)
            try:
                found.extend(_one_prompt(item, self.base, where, self.ctx.notes))
            except _Unsupported as exc:
                self.skip(where, f"prompt {_short(item)}", str(exc))
        ok = []
        for p in found:
            try:
                _template_variables(p.body)
                ok.append(p)
            except _Unsupported as exc:
                self.skip(p.where, "prompt", str(exc))
        return ok

    def write_prompts(
        self,
        prompts: list[_Prompt],
        models: list[str],
        params: dict[str, Any],
        kinds: dict[str, str],
    ) -> list[str]:
        names: list[str] = []
        for i, p in enumerate(prompts, 1):
            if len(prompts) == 1:
                name = self.name
            else:
                name = f"{self.name}-{_slug(p.label) if p.label else i}"
            while name in names:
                name = f"{name}-{i}"
            names.append(name)
            used = _template_variables(p.body)
            inputs: dict[str, Any] = {}
            for v in sorted(set(used) | set(kinds)):
                spec: dict[str, Any] = {"kind": kinds.get(v, "string")}
                if v not in used:
                    spec["required"] = False
                    spec["description"] = "a test variable this prompt does not use"
                inputs[v] = spec
            front: dict[str, Any] = {"name": name}
            desc = self.data.get("description")
            front["description"] = (
                f"{desc} (imported from promptfoo)" if desc else "Imported from promptfoo."
            )
            if models:
                front["model"] = {"id": models[0], **({"parameters": params} if params else {})}
            if inputs:
                front["inputs"] = inputs
            head = _dump(front)
            path = self.out / "prompts" / f"{name}.prompty"
            self.result.files[path] = f"---\n{head}---\n{p.body}"
            self.result.prompts.append(path)
        same_place = self.out.resolve() == Path.cwd().resolve()
        return names if same_place else [_display(p.resolve()) for p in self.result.prompts]

    # -- providers --
    def providers(self) -> tuple[list[str], dict[str, Any]]:
        raw = self.data.get("providers", self.data.get("targets"))
        key = "providers" if "providers" in self.data else "targets"
        if raw is None:
            return [], {}
        items = raw if isinstance(raw, list) else [raw]
        models: list[str] = []
        first_params: dict[str, Any] | None = None
        for i, item in enumerate(items):
            loc: tuple[str | int, ...] = (key, i) if isinstance(raw, list) else (key,)
            where = self.where(*loc)
            conf: dict[str, Any] = {}
            if isinstance(item, dict) and "id" not in item and len(item) == 1:
                ((pf_id, body),) = item.items()  # {openai:gpt-4o: {config: …}}
                item = {"id": pf_id, **(body or {})}
            if isinstance(item, dict):
                pf_id = item.get("id")
                conf = item.get("config") or {}
                for k in item:
                    if k not in {"id", "config", "label"}:
                        self.skip(where, f"provider key '{k}'", "not imported")
            else:
                pf_id = item
            if not isinstance(pf_id, str):
                self.skip(where, f"provider {_short(item)}", "custom provider functions run code")
                continue
            url = next((conf[k] for k in _URL_KEYS if isinstance(conf.get(k), str)), None)
            try:
                model = provider_model_id(pf_id, url)
            except _Unsupported as exc:
                self.skip(where, f"provider '{pf_id}'", str(exc))
                continue
            params: dict[str, Any] = {}
            for k, v in conf.items():
                if k in _PARAM_KEYS:
                    params[_PARAM_KEYS[k]] = (
                        [v] if k in {"stop", "stopSequences"} and isinstance(v, str) else v
                    )
                elif k in _URL_KEYS:
                    continue
                elif k in {"apiKey", "apiKeyEnvar"}:
                    self.skip(
                        self.where(*loc, "config", k),
                        f"config.{k}",
                        "keys are read from environment variables only "
                        "(see api_key_env in prompteur.toml)",
                    )
                else:
                    self.skip(
                        self.where(*loc, "config", k), f"config.{k}", "provider option not imported"
                    )
            models.append(model)
            if first_params is None:
                first_params = params
            elif params != first_params:
                self.skip(
                    where,
                    f"parameters of '{pf_id}'",
                    "a prompt carries one set of model parameters: those of the first provider",
                )
        return list(dict.fromkeys(models)), first_params or {}

    # -- tests --
    def default_test(self) -> tuple[dict[str, Any], list[tuple[str, Any]], float | None]:
        dt = self.data.get("defaultTest")
        if dt is None:
            return {}, [], None
        if isinstance(dt, str) and dt.startswith("file://"):
            try:
                dt = _read_structured(self.base / dt[7:])
            except _Unsupported as exc:
                self.skip(self.where("defaultTest"), "defaultTest", str(exc))
                return {}, [], None
        if not isinstance(dt, dict):
            self.skip(self.where("defaultTest"), "defaultTest", "must be a mapping")
            return {}, [], None
        vars_ = self.vars(dt.get("vars") or {}, ("defaultTest", "vars"))
        asserts = [
            (self.where("defaultTest", "assert", i), a)
            for i, a in enumerate(dt.get("assert") or [])
        ]
        for k in dt:
            if k not in {"vars", "assert", "threshold", "description"}:
                self._skip_test_key(self.where("defaultTest", k), k, dt[k])
        threshold = dt.get("threshold")
        return vars_, asserts, float(threshold) if threshold is not None else None

    def _skip_test_key(self, where: str, key: str, value: Any) -> None:
        if key == "options" and isinstance(value, dict):
            for k in value:
                self.skip(where, f"options.{k}", _OPTION_WHY.get(k, "test option not imported"))
            return
        why = {
            "providers": "cases run on every model of the suite",
            "provider": "cases run on every model of the suite",
            "threshold": "prompteur's threshold is set once for the whole suite",
            "metadata": "kept as tags",
        }.get(key, "not imported")
        if key != "metadata":
            self.skip(where, key, why)

    def vars(self, raw: Any, loc: tuple[str | int, ...]) -> dict[str, Any]:
        if isinstance(raw, str) and raw.startswith("file://"):
            try:
                raw = _read_structured(self.base / raw[7:])
            except _Unsupported as exc:
                self.skip(self.where(*loc), "vars", str(exc))
                return {}
        if not isinstance(raw, dict):
            self.skip(self.where(*loc), "vars", "must be a mapping of names to values")
            return {}
        out: dict[str, Any] = {}
        for k, v in raw.items():
            if isinstance(v, str) and v.startswith("file://"):
                try:
                    v = self._var_file(v[7:])
                except _Unsupported as exc:
                    self.skip(self.where(*loc, k), f"var '{k}' = {v}", str(exc))
                    continue
            out[str(k)] = v
        return out

    def _var_file(self, ref: str) -> Any:
        path = self.base / ref
        if path.suffix in {".py", ".js", ".ts", ".mjs", ".cjs"}:
            raise _Unsupported("variables computed by code are not imported")
        if path.suffix in {".png", ".jpg", ".jpeg", ".gif", ".webp", ".pdf"}:
            raise _Unsupported("images and PDFs are not text inputs")
        if path.suffix in {".json", ".yaml", ".yml"}:
            return _read_structured(path)
        try:
            return path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise _Unsupported(f"file not found: {path}") from None

    def tests(self, default_vars: dict[str, Any]) -> list[_Case]:
        raw = self.data.get("tests")
        if raw is None:
            return [_Case(dict(default_vars), [], None, self.where())]
        items = raw if isinstance(raw, list) else [raw]
        cases: list[_Case] = []
        for i, item in enumerate(items):
            loc: tuple[str | int, ...] = ("tests", i) if isinstance(raw, list) else ("tests",)
            if isinstance(item, str):
                try:
                    cases.extend(self._test_file(item, self.where(*loc)))
                except _Unsupported as exc:
                    self.skip(self.where(*loc), f"tests {item}", str(exc))
                continue
            if not isinstance(item, dict):
                self.skip(self.where(*loc), "test", "must be a mapping")
                continue
            cases.extend(self._test(item, loc))
        out = []
        for c in cases:
            merged = {**default_vars, **c.vars}
            out.extend(self._expand(merged, c))
        return out

    def _test(self, item: dict[str, Any], loc: tuple[str | int, ...]) -> list[_Case]:
        vars_ = self.vars(item.get("vars") or {}, (*loc, "vars"))
        asserts = [
            (self.where(*loc, "assert", j), a) for j, a in enumerate(item.get("assert") or [])
        ]
        for k in item:
            if k not in {"vars", "assert", "description"}:
                self._skip_test_key(self.where(*loc, k), k, item[k])
        tags = [f"{k}={v}" for k, v in (item.get("metadata") or {}).items()]
        desc = item.get("description")
        return [_Case(vars_, asserts, str(desc) if desc else None, self.where(*loc), tags)]

    def _expand(self, merged: dict[str, Any], c: _Case) -> list[_Case]:
        """promptfoo runs every combination of list-valued vars."""
        lists = {k: v for k, v in merged.items() if isinstance(v, list)}
        if not lists:
            return [_Case(merged, c.asserts, c.description, c.where, c.tags)]
        self.ctx.notes.append(
            f"{c.where}: list-valued vars ({', '.join(lists)}) expanded into every combination,"
            " as promptfoo does"
        )
        out = []
        for combo in itertools.product(*lists.values()):
            v = {**merged, **dict(zip(lists, combo, strict=True))}
            out.append(_Case(v, c.asserts, c.description, c.where, c.tags))
        return out

    def _test_file(self, ref: str, where: str) -> list[_Case]:
        target = ref[7:] if ref.startswith("file://") else ref
        paths = sorted(glob.glob(str(self.base / target))) or [str(self.base / target)]
        cases: list[_Case] = []
        for p in map(Path, paths):
            if not p.is_file():
                raise _Unsupported(f"file not found: {p}")
            if p.suffix == ".csv":
                cases.extend(self._csv(p))
            elif p.suffix in {".yaml", ".yml", ".json"}:
                data = _read_structured(p)
                for j, item in enumerate(data if isinstance(data, list) else [data]):
                    if isinstance(item, dict):
                        cases.extend(self._test_in_file(item, f"{p.name} [{j}]"))
            elif p.suffix == ".jsonl":
                for j, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
                    if line.strip():
                        cases.extend(self._test_in_file(json.loads(line), f"{p.name}:{j}"))
            else:
                raise _Unsupported("tests come from .csv, .yaml, .json or .jsonl files here")
        return cases

    def _test_in_file(self, item: dict[str, Any], where: str) -> list[_Case]:
        vars_ = {}
        for k, v in (item.get("vars") or {}).items():
            if isinstance(v, str) and v.startswith("file://"):
                try:
                    v = self._var_file(v[7:])
                except _Unsupported as exc:
                    self.skip(f"{where} vars.{k}", f"var '{k}'", str(exc))
                    continue
            vars_[k] = v
        asserts = [(f"{where} assert[{j}]", a) for j, a in enumerate(item.get("assert") or [])]
        for k in item:
            if k not in {"vars", "assert", "description"}:
                self._skip_test_key(f"{where} {k}", k, item[k])
        tags = [f"{k}={v}" for k, v in (item.get("metadata") or {}).items()]
        return [_Case(vars_, asserts, item.get("description"), where, tags)]

    def _csv(self, path: Path) -> list[_Case]:
        cases = []
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            for row in reader:
                line = reader.line_num
                where = f"{path.name}:{line}"
                vars_: dict[str, Any] = {}
                asserts: list[tuple[str, Any]] = []
                desc, tags = None, []
                for col, cell in row.items():
                    if col is None:
                        self.skip(where, "extra cells", "more cells than header columns")
                        continue
                    cell = cell or ""
                    if col.startswith("__expected"):
                        if cell.strip():
                            asserts.append((f"{where} {col}", expected_to_assertion(cell)))
                    elif col == "__description":
                        desc = cell or None
                    elif col.startswith("__metadata"):
                        key = col.partition(":")[2] or "metadata"
                        if cell:
                            tags.append(f"{key}={cell}")
                    elif col.startswith("__"):
                        if cell.strip():
                            self.skip(f"{where} {col}", col, "CSV column not imported")
                    else:
                        if cell.startswith("file://"):
                            try:
                                cell = self._var_file(cell[7:])
                            except _Unsupported as exc:
                                self.skip(f"{where} {col}", f"var '{col}'", str(exc))
                                continue
                        vars_[col] = cell
                cases.append(_Case(vars_, asserts, desc, where, tags))
        return cases

    # -- checks --
    def checks(self, asserts: list[tuple[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for where, a in asserts:
            c = self._check(where, a)
            if c is not None:
                out.append(c)
        return out

    def _check(self, where: str, a: Any) -> dict[str, Any] | None:
        kind = a.get("type") if isinstance(a, dict) else a
        try:
            spec = convert_assertion(a, self.ctx)
        except _Unsupported as exc:
            self.skip(where, str(kind), str(exc))
            return None
        except (TypeError, ValueError) as exc:
            self.skip(where, str(kind), f"bad value: {exc}")
            return None
        for k in _leftover_keys(a):
            self.skip(where, f"{kind}.{k}", _LEFTOVER_WHY.get(k, "assertion key not imported"))
        return spec

    def case_spec(self, c: _Case) -> dict[str, Any]:
        spec: dict[str, Any] = {}
        if c.description:
            spec["description"] = c.description
        spec["inputs"] = dict(c.vars)
        checks: list[dict[str, Any]] = []
        expected = None
        for where, a in c.asserts:
            check = self._check(where, a)
            if check is None:
                continue
            plain_equals = (
                check["type"] == "equals"
                and isinstance(check.get("value"), str)
                and set(check) == {"type", "value"}
            )
            if plain_equals and expected is None:
                expected = check.pop("value")
            checks.append(check)
        if expected is not None:
            spec["expected"] = expected
        if c.tags:
            spec["tags"] = c.tags
        if checks:
            spec["checks"] = checks
        return spec


_OPTION_WHY = {
    "transform": "output transforms run JavaScript; prompteur checks the raw output",
    "postprocess": "output transforms run JavaScript; prompteur checks the raw output",
    "provider": "the grading model is chosen by the check",
    "prefix": "edit the prompt file instead",
    "suffix": "edit the prompt file instead",
    "rubricPrompt": "custom grader prompts are not imported",
}


def _short(item: Any) -> str:
    text = item if isinstance(item, str) else json.dumps(item, default=str)
    text = " ".join(text.split())
    return repr(text[:40] + ("…" if len(text) > 40 else ""))


_ADAPTER_HEAD = '''"""promptfoo python assertions, adapted for prompteur's `python` check
(generated by `prompteur import promptfoo`). promptfoo calls get_assert(output, context)
with a dict context and accepts a bool, a score or a {pass, score, reason} dict; prompteur
calls fn(output, ctx) and accepts a bool, a score or a (score, reason) pair."""

import importlib.util
import json
import math  # noqa: F401 - promptfoo's inline assertions often use it
import re  # noqa: F401


def _context(ctx):
    return {
        "vars": dict(ctx.inputs),
        "test": {"vars": dict(ctx.inputs)},
        "provider": {"id": ctx.model},
        "prompt": None,
    }


def _load(path, name):
    spec = importlib.util.spec_from_file_location("promptfoo_assert", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def _result(out, threshold):
    if isinstance(out, str):
        out = json.loads(out)
    if isinstance(out, dict):
        score = float(out.get("score", 1.0 if out.get("pass", True) else 0.0))
        if "pass" in out and threshold is None:
            score = 1.0 if out["pass"] else 0.0
        return score, str(out.get("reason", ""))
    return out


'''


def convert_promptfoo(
    config: str | Path, *, out: str | Path = ".", name: str | None = None
) -> Conversion:
    """Convert a promptfoo config into prompt files and a suite, in memory (nothing written)."""
    config_path = Path(config)
    if config_path.is_dir():
        config_path = config_path / "promptfooconfig.yaml"
    return _Converter(config_path, Path(out), name).run()
