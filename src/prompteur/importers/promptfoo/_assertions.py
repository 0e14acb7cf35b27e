"""promptfoo assertions → prompteur checks: a table from promptfoo's type to a converter.

Converters get the assertion with its value already rendered with the case's vars (promptfoo
renders string values as Nunjucks templates before it runs them) and return our check spec.
A type whose check is not registered is listed, never dropped: the table consults
`prompteur.checks.registered()` when the import runs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._files import JS_SUFFIXES, read_structured, read_text, split_function, strip_file
from ._result import Unsupported


@dataclass
class Ctx:
    """What converters need: where the promptfoo files are, how to name a path in the suite,
    how to turn a grader provider into our model id, and notes to report."""

    base: Path
    judge_of: Callable[[Any], str | None] = lambda p: None
    notes: list[str] = field(default_factory=list)
    tools: list[Any] | None = None  # the first provider's config.tools
    # Copies a code file into the project; gives its path as the suite names it.
    stage: Callable[[Path], str] = lambda p: str(p)


def display(path: Path) -> str:
    """A path as written in a suite: relative to where commands run, when possible."""
    try:
        rel = os.path.relpath(path, Path.cwd())
    except ValueError:  # another drive
        return str(path)
    return str(path) if rel.startswith("..") else rel


def _file_value(value: str, ctx: Ctx) -> Any:
    """promptfoo's processFileReference for a `file://` value of a plain assertion."""
    path = ctx.base / strip_file(value)
    if path.suffix in {".json", ".yaml", ".yml"}:
        return read_structured(path)
    if path.suffix in {".txt", ".md", ""}:
        return read_text(path)
    raise Unsupported(f"a value computed by code ({path.name}) is not converted")


def _value(a: dict[str, Any], ctx: Ctx) -> Any:
    value = a.get("value")
    if isinstance(value, str) and value.startswith("file://"):
        return _file_value(value, ctx)
    return value


def _text(a: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    value = _value(a, ctx)
    if value is None:
        raise Unsupported("needs a value")
    if isinstance(value, dict):
        raise Unsupported("a JSON object value: this check compares text")
    return {"value": [str(v) for v in value] if isinstance(value, list) else str(value)}


def _equals(a: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    value = _value(a, ctx)
    if isinstance(value, dict | list):
        raise Unsupported("equality with a JSON value (promptfoo compares parsed JSON)")
    if value is None:
        raise Unsupported("needs a value")
    return {"value": str(value), "strip": False}


def _list(a: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    value = _value(a, ctx)
    if isinstance(value, str):  # promptfoo accepts "a, b, c" (quotes protect commas)
        value = [v.strip().strip('"') for v in re.findall(r'"[^"]*"|[^,]+', value) if v.strip()]
    if not isinstance(value, list) or not value:
        raise Unsupported("needs a list of values")
    return {"value": [str(v) for v in value]}


def _regex(a: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    out = _text(a, ctx)
    if isinstance(out["value"], list):
        raise Unsupported("needs one regular expression")
    return out


def _json(strict: bool) -> Callable[[dict[str, Any], Ctx], dict[str, Any]]:
    def conv(a: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        schema = _value(a, ctx)
        if schema in (None, ""):
            return {"type": "is-json", "strict": strict}
        if isinstance(schema, str):
            import yaml

            try:
                schema = yaml.safe_load(schema)
            except yaml.YAMLError:
                raise Unsupported("the schema is neither JSON nor YAML") from None
        if not isinstance(schema, dict):
            raise Unsupported("the schema must be a JSON Schema object")
        return {"type": "json-schema", "value": schema, "strict": strict}

    return conv


def _threshold(cast: Callable[[Any], Any]) -> Callable[[dict[str, Any], Ctx], dict[str, Any]]:
    def conv(a: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        out = _text(a, ctx)
        if a.get("threshold") is not None:
            out["threshold"] = cast(a["threshold"])
        return out

    return conv


def _levenshtein(a: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    out = _text(a, ctx)
    out["threshold"] = int(a["threshold"]) if a.get("threshold") is not None else 5
    return out


def _rouge(a: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    out = _text(a, ctx)
    out["threshold"] = float(a["threshold"]) if a.get("threshold") is not None else 0.75
    ctx.notes.append("rouge-n became rouge-l (longest common subsequence, not n-grams)")
    return out


def _limit(key: str) -> Callable[[dict[str, Any], Ctx], dict[str, Any]]:
    def conv(a: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        if a.get("threshold") is None:
            raise Unsupported("needs a threshold")
        return {key: float(a["threshold"])}

    return conv


def _judged(a: dict[str, Any], ctx: Ctx, out: dict[str, Any]) -> dict[str, Any]:
    """The grader: the assertion's `provider` (or the test's `options.provider`)."""
    judge = ctx.judge_of(a.get("provider"))
    if judge:
        out["judge"] = judge
    if a.get("threshold") is not None:
        out["threshold"] = float(a["threshold"])
    if a.get("rubricPrompt") is not None:
        out["rubric_prompt"] = _rubric_prompt(a["rubricPrompt"], ctx)
    return out


def _rubric_prompt(value: Any, ctx: Ctx) -> Any:
    if isinstance(value, str) and value.startswith("file://"):
        path = ctx.base / strip_file(value)
        value = (
            read_structured(path)
            if path.suffix in {".json", ".yaml", ".yml"}
            else (read_text(path))
        )
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(m, dict) and "role" in m for m in value):
        return [{"role": str(m["role"]), "content": str(m.get("content", ""))} for m in value]
    raise Unsupported("rubricPrompt must be text or a list of {role, content} messages")


def _rubric(a: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    value = _value(a, ctx)
    if isinstance(value, dict | list):
        import json

        value = json.dumps(value, ensure_ascii=False)
    if not value:
        raise Unsupported("needs the rubric as its value")
    return _judged(a, ctx, {"value": str(value)})


def _g_eval(a: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    ctx.notes.append(
        "g-eval is graded as a rubric (one judge call scoring the criterion), not G-Eval's "
        "generated evaluation steps"
    )
    out = _rubric(a, ctx)
    out.setdefault("threshold", 0.7)
    return out


def _factuality(a: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    return _judged(a, ctx, _text(a, ctx))


def _similar(a: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    out = _text(a, ctx)
    out["threshold"] = float(a["threshold"]) if a.get("threshold") is not None else 0.75
    if a.get("provider") is not None:
        out["embedder"] = embedder_of(a["provider"])
    return out


_EMBEDDERS = {
    "openai:embedding:": "openai",
    "openai:embeddings:": "openai",
    "adaline:openai:embedding:": "openai",
    "mistral:embedding:": "mistral",
    "mistral:embeddings:": "mistral",
    "ollama:embedding:": "ollama",
    "ollama:embeddings:": "ollama",
    # Gemini's embeddings through its OpenAI-compatible API
    "google:embedding:": "gemini",
    "google:embeddings:": "gemini",
    "gemini:embedding:": "gemini",
    "vertex:embedding:": "gemini",
    "vertex:embeddings:": "gemini",
    "bedrock:embeddings:": "bedrock",
    "bedrock:embedding:": "bedrock",
}


def embedder_of(provider: Any) -> str:
    """promptfoo's embedding provider for `similar` → our embedder id."""
    if isinstance(provider, dict):
        provider = provider.get("embedding", provider)
        provider = provider.get("id") if isinstance(provider, dict) else provider
    if isinstance(provider, str):
        for prefix, ours in _EMBEDDERS.items():
            if provider.startswith(prefix) and len(provider) > len(prefix):
                return f"{ours}:{provider[len(prefix) :]}"
    raise Unsupported(
        "an embedding provider prompteur has no client for (OpenAI, Mistral, Ollama, Gemini "
        "and Bedrock embeddings map)"
    )


def _rag(kind: str) -> Callable[[dict[str, Any], Ctx], dict[str, Any]]:
    def conv(a: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if kind in ("context-recall",):
            out.update(_text(a, ctx))
        config = a.get("contextTransform")
        if config is not None:
            raise Unsupported("contextTransform (context taken from the output) is not converted")
        return _judged(a, ctx, out)

    return conv


def _script(language: str) -> Callable[[dict[str, Any], Ctx], dict[str, Any]]:
    def conv(a: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        value = a.get("value")
        if not isinstance(value, str) or not value.strip():
            raise Unsupported("needs code or file://path")
        out: dict[str, Any] = {}
        if value.startswith("file://"):
            path, fn = split_function(value)
            target = (ctx.base / path).resolve()
            if not target.is_file():
                raise Unsupported(f"file not found: {target}")
            if target.suffix == ".py":
                out["type"] = "python-script"
                out["function"] = fn or "get_assert"
            elif target.suffix in JS_SUFFIXES:  # TypeScript runs with its types dropped
                out["type"] = "javascript"
                if fn:
                    out["function"] = fn
            else:
                raise Unsupported(f"code in a {target.suffix or 'suffix-less'} file")
            out["file"] = ctx.stage(target)
        else:
            out["type"] = "javascript" if language == "javascript" else "python-script"
            out["value"] = value
        if a.get("threshold") is not None:
            out["threshold"] = float(a["threshold"])
        if isinstance(a.get("config"), dict):
            out["config"] = a["config"]
        return out

    return conv


def _plain(kind: str) -> Callable[[dict[str, Any], Ctx], dict[str, Any]]:
    def conv(a: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        out: dict[str, Any] = {"type": kind}
        value = _value(a, ctx)
        if value is not None:
            out["value"] = value
        if a.get("threshold") is not None:
            out["threshold"] = float(a["threshold"])
        return out

    return conv


def _tools_call(function_call: bool) -> Callable[[dict[str, Any], Ctx], dict[str, Any]]:
    def conv(a: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        tools = _value(a, ctx) if isinstance(a.get("value"), list) else ctx.tools
        if not tools:
            raise Unsupported("needs the provider's tools (config.tools) to validate against")
        out: dict[str, Any] = {"tools": tools}
        if function_call:
            out["function_call"] = True
        return out

    return conv


def _classifier(a: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    provider = a.get("provider")
    pid = provider.get("id") if isinstance(provider, dict) else provider
    prefix = "huggingface:text-classification:"
    if not isinstance(pid, str) or not pid.startswith(prefix):
        raise Unsupported("a classifier other than a Hugging Face text-classification model")
    out: dict[str, Any] = {"model": pid[len(prefix) :]}
    if a.get("value") is not None:
        out["value"] = str(a["value"])
    if a.get("threshold") is not None:
        out["threshold"] = float(a["threshold"])
    ctx.notes.append("classifier checks call Hugging Face's inference API: set HF_TOKEN")
    return out


def _moderation(a: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    provider = a.get("provider")
    pid = provider.get("id") if isinstance(provider, dict) else provider
    if pid is not None and not str(pid).startswith("openai:"):
        raise Unsupported("a moderation provider other than OpenAI's")
    out: dict[str, Any] = {}
    if a.get("value") is not None:
        out["value"] = a["value"]
    ctx.notes.append("moderation checks call OpenAI's moderation API: set OPENAI_API_KEY")
    return out


def _word_count(a: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    """promptfoo's word-count: a number (exactly that many words) or {min, max}; words are
    runs of non-space characters, as ours."""
    value = _value(a, ctx)
    if isinstance(value, dict) and ({"min", "max"} & set(value)) and set(value) <= {"min", "max"}:
        out = {k: int(value[k]) for k in ("min", "max") if value.get(k) is not None}
        if "min" in out and "max" in out and out["min"] > out["max"]:
            raise Unsupported("min is over max")
        return out
    if (isinstance(value, int | float) and not isinstance(value, bool)) or (
        isinstance(value, str) and value.strip().isdigit()
    ):
        n = int(float(value))
        return {"min": n, "max": n}
    raise Unsupported("needs a number of words, or {min, max}")


@dataclass(frozen=True)
class Assertion:
    ours: str
    convert: Callable[[dict[str, Any], Ctx], dict[str, Any]]


_STRING = ["contains", "icontains", "starts-with"]
_LIST = ["contains-any", "contains-all", "icontains-any", "icontains-all"]
TABLE: dict[str, Assertion] = {
    "equals": Assertion("equals", _equals),
    **{t: Assertion(t, _text) for t in _STRING},
    **{t: Assertion(t, _list) for t in _LIST},
    "regex": Assertion("regex", _regex),
    "is-json": Assertion("is-json", _json(strict=True)),
    "contains-json": Assertion("is-json", _json(strict=False)),
    "is-sql": Assertion("is-sql", _plain("is-sql")),
    "contains-sql": Assertion("is-sql", lambda a, c: {**_plain("is-sql")(a, c), "find": True}),
    "is-valid-openai-tools-call": Assertion("is-valid-openai-tools-call", _tools_call(False)),
    "is-valid-openai-function-call": Assertion("is-valid-openai-tools-call", _tools_call(True)),
    # promptfoo's provider-neutral form (Gemini, Vertex…): our clients give OpenAI's shape
    "is-valid-function-call": Assertion("is-valid-openai-tools-call", _tools_call(False)),
    "levenshtein": Assertion("levenshtein", _levenshtein),
    "word-count": Assertion("word-count", _word_count),
    "rouge-n": Assertion("rouge-l", _rouge),
    "latency": Assertion("latency", _limit("max_ms")),
    "cost": Assertion("cost", _limit("max_usd")),
    "javascript": Assertion("javascript", _script("javascript")),
    "python": Assertion("python-script", _script("python")),
    "similar": Assertion("similar", _similar),
    "llm-rubric": Assertion("rubric", _rubric),
    "model-graded-closedqa": Assertion("rubric", _rubric),
    "g-eval": Assertion("rubric", _g_eval),
    "factuality": Assertion("factuality", _factuality),
    "model-graded-factuality": Assertion("factuality", _factuality),
    "answer-relevance": Assertion("answer-relevance", _rag("answer-relevance")),
    "context-faithfulness": Assertion("context-faithfulness", _rag("context-faithfulness")),
    "context-recall": Assertion("context-recall", _rag("context-recall")),
    "context-relevance": Assertion("context-relevance", _rag("context-relevance")),
    "moderation": Assertion("moderation", _moderation),
    "classifier": Assertion("classifier", _classifier),
}
WHY_NOT: dict[str, str] = {
    "assert-set": "a nested set of assertions scored as one; list its assertions one by one",
    "select-best": "picks the best output across prompts; prompteur scores each output on "
    "its own (compare variants with prompteur compare)",
    "max-score": "picks the best output across prompts; prompteur scores each output on its "
    "own (compare variants with prompteur compare)",
    "webhook": "calls a webhook to grade: prompteur checks do not call out to services",
    "perplexity": "needs the provider's token log-probabilities",
    "perplexity-score": "needs the provider's token log-probabilities",
    "human": "a human grade is given in prompteur's review queue, not in a suite",
    "ruby": "prompteur runs Python and JavaScript checks, not Ruby",
}


# Every assertion type promptfoo 0.123 knows (its BaseAssertionTypesSchema): any other type
# fails its test with an error there.
PROMPTFOO_TYPES = set(
    [
        "agent-rubric",
        "answer-relevance",
        "bleu",
        "classifier",
        "contains",
        "contains-all",
        "contains-any",
        "contains-html",
        "contains-json",
        "contains-sql",
        "contains-xml",
        "context-faithfulness",
        "context-recall",
        "context-relevance",
        "conversation-relevance",
        "cost",
        "equals",
        "factuality",
        "finish-reason",
        "g-eval",
        "gleu",
        "guardrails",
        "icontains",
        "icontains-all",
        "icontains-any",
        "is-html",
        "is-json",
        "is-refusal",
        "is-sql",
        "is-valid-function-call",
        "is-valid-openai-function-call",
        "is-valid-openai-tools-call",
        "is-xml",
        "javascript",
        "latency",
        "levenshtein",
        "llm-rubric",
        "pi",
        "meteor",
        "model-graded-closedqa",
        "model-graded-factuality",
        "moderation",
        "perplexity",
        "perplexity-score",
        "python",
        "regex",
        "rouge-n",
        "ruby",
        "similar",
        "similar:cosine",
        "similar:dot",
        "similar:euclidean",
        "starts-with",
        "tool-call-f1",
        "skill-used",
        "trajectory:goal-success",
        "trajectory:tool-args-match",
        "trajectory:step-count",
        "trajectory:tool-sequence",
        "trajectory:tool-used",
        "trace-error-spans",
        "trace-span-count",
        "trace-span-duration",
        "search-rubric",
        "webhook",
        "word-count",
        "select-best",
        "human",
        "max-score",
        "assert-set",
    ]
)


def convert(a: Any, ctx: Ctx) -> dict[str, Any]:
    """One promptfoo assertion (value already rendered) → one check spec, or Unsupported."""
    from ...checks import registered

    if isinstance(a, str):
        a = {"type": a}
    if not isinstance(a, dict):
        raise Unsupported("an assertion must be a mapping with a type")
    kind = a.get("type")
    if not isinstance(kind, str) or not kind:
        raise Unsupported("an assertion without a type")
    negate = kind.startswith("not-")
    base = kind[4:] if negate else kind
    spec = TABLE.get(base)
    if spec is None:
        if base not in PROMPTFOO_TYPES | set(WHY_NOT) and not base.startswith("promptfoo:"):
            raise Unsupported(
                f"'{base}' is not an assertion type of promptfoo (0.123) either: promptfoo "
                "fails the test with an error"
            )
        raise Unsupported(WHY_NOT.get(base, f"no prompteur check does what '{base}' does"))
    if spec.ours not in set(registered()):
        raise Unsupported(f"prompteur has no '{spec.ours}' check")
    params = spec.convert(a, ctx)
    ours = params.pop("type", spec.ours)
    out: dict[str, Any] = {"type": f"not-{ours}" if negate else ours, **params}
    weight = a.get("weight")
    if weight is not None:
        if float(weight) <= 0:
            raise Unsupported("weight 0 (always passes in promptfoo, only reported)")
        out["weight"] = float(weight)
    if a.get("metric"):
        out["metric"] = str(a["metric"])
    if a.get("transform") is not None:
        out["transform"] = transform_spec(a["transform"], ctx)
    return out


def transform_spec(value: Any, ctx: Ctx) -> Any:
    """A promptfoo transform (inline JavaScript, or file://x.js / x.py[:fn]) as ours."""
    if not isinstance(value, str) or not value.strip():
        raise Unsupported("a transform must be code or file://path")
    if value.startswith("file://"):
        path, fn = split_function(value)
        target = (ctx.base / path).resolve()
        if not target.is_file():
            raise Unsupported(f"transform file not found: {target}")
        if target.suffix != ".py" and target.suffix not in JS_SUFFIXES:
            raise Unsupported(f"a transform in a {target.suffix} file")
        spec: dict[str, Any] = {"file": ctx.stage(target)}
        if fn:
            spec["function"] = fn
        return spec
    return value


KEPT = {
    "type",
    "value",
    "weight",
    "threshold",
    "metric",
    "transform",
    "provider",
    "rubricPrompt",
    "config",
}


def leftover(a: Any) -> list[str]:
    """Keys of an assertion that are not converted (the check itself is)."""
    if not isinstance(a, dict):
        return []
    return [k for k in a if k not in KEPT]


# `__expected` cells: `type:value`, `type(threshold):value`, or a plain value (equals).
_EXPECTED = re.compile(r"^(not-)?([a-z][a-z-]*)(?:\((\d+(?:\.\d+)?)\))?(?::(.*))?$", re.S)
_ALIASES = {"grade": "llm-rubric", "fn": "javascript", "eval": "javascript"}


def from_cell(cell: str) -> dict[str, Any]:
    """promptfoo's assertionFromString: a CSV `__expected` cell as an assertion."""
    m = _EXPECTED.match(cell.strip())
    if m:
        neg, kind, threshold, value = m.groups()
        kind = _ALIASES.get(kind, kind)
        if kind in TABLE or kind in WHY_NOT:
            a: dict[str, Any] = {"type": f"{neg or ''}{kind}"}
            if value is not None:
                a["value"] = value.strip() if kind not in {"javascript", "python"} else value
            if threshold is not None:
                a["threshold"] = float(threshold)
            return a
    return {"type": "equals", "value": cell}
