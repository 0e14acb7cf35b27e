"""What a check reads of a structured output: a field named by `path:`, or the text inside.

- `path:` selects a value from the output's JSON with a JMESPath expression (`categorie`,
  `items[0].name`, `length(items)`); a JSONPath-style `$.a.b` is read as `a.b`. A string value
  is checked as it is, any other value as compact JSON. A path that selects nothing, or an
  output with no JSON, fails the check whatever its polarity: `not-contains` on a missing
  field is not a pass.
- Without a path, checks of the text (contains, regex, register, vocabulary, judges…) read the
  output's *content*: for JSON, its string values — decoded, keys left out — one paragraph
  each; for prose, the text as it is. JSON that does not parse (cut by max_tokens, a missing
  brace) is still read string by string, so a broken reply cannot hide its text.

The quotation marks that delimit a JSON string are syntax, not a quotation: the value is the
reply's own words. So a value wholly inside quotation marks is unwrapped, and a quotation mark
left unpaired in a value is dropped: no quotation can span two values and hide what lies
between them from a check that sets quoted text aside (the register check does).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

MISSING: Any = object()

# A JSON string token; the closing quote is optional so that a cut string is still read.
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)("?)', re.S)
_KEY_AFTER = re.compile(r"\s*:")
_LOOKS_JSON = re.compile(r'^\s*(?:```(?:json)?\s*)?(?:\{\s*(?:"|\}|$)|\[\s*(?:[\[{"\d\-\]]|$))')
_QUOTE_PAIRS = (("«", "»"), ("“", "”"), ('"', '"'), ("„", "“"))
_CLOSING = {"»", "”"}
_OPENING = {"«", "“", "„"}


@dataclass(frozen=True)
class Selected:
    """What a path selected: the value, or why there is none."""

    value: Any = MISSING
    error: str = ""

    @property
    def text(self) -> str:
        if isinstance(self.value, str):
            return self.value
        return json.dumps(self.value, ensure_ascii=False, separators=(",", ":"))


# ---- parsing --------------------------------------------------------------------------------


def parse(text: str) -> Any:
    """The output's JSON value (the whole text, a fenced block, or the first {...} / [...]),
    or MISSING."""
    span = json_span(text)
    return MISSING if span is None else span[2]


def looks_like_json(text: str) -> bool:
    """Whether the text starts the way a JSON object or array does (fenced or not)."""
    return bool(_LOOKS_JSON.match(text))


# ---- paths ----------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def compile_path(path: str) -> Any:
    """A compiled JMESPath expression; ValueError naming the problem for a bad one."""
    import jmespath
    from jmespath.exceptions import JMESPathError

    expr = path.strip()
    if expr.startswith("$"):  # JSONPath's root: `$.a.b` and `$['a']` mean `a.b` and `a`
        expr = expr[1:].lstrip(".") or "@"
    if not expr:
        raise ValueError("path is empty")
    try:
        return jmespath.compile(expr)
    except JMESPathError as exc:
        raise ValueError(f"invalid path {path!r}: {exc}") from None


def select(data: Any, path: str) -> Selected:
    """The value `path` selects in `data` (a parsed output)."""
    from jmespath.exceptions import JMESPathError

    if data is MISSING:
        return Selected(error="the output holds no JSON")
    try:
        value = compile_path(path).search(data)
    except JMESPathError as exc:  # `length(n)` on a number: the output has the wrong shape
        return Selected(error=f"path {path!r}: {exc}")
    if value is None:
        return Selected(error=f"path {path!r} selects nothing")
    return Selected(value)


# ---- content ----------------------------------------------------------------------------------


def string_values(data: Any) -> list[str]:
    """Every string value in a JSON value, depth first, keys left out."""
    out: list[str] = []
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, dict):
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list):
            stack.extend(reversed(node))
    return out


def lenient_strings(text: str) -> list[str]:
    """The string values of JSON that does not parse: each string token that is not a key,
    decoded as far as it goes (a string cut before its closing quote included)."""
    out = []
    for m in _STRING.finditer(text):
        if m.group(2) and _KEY_AFTER.match(text, m.end()):
            continue  # a key
        raw = m.group(1)
        try:
            out.append(json.loads(f'"{raw}"'))
        except json.JSONDecodeError:
            out.append(raw.replace('\\"', '"').replace("\\n", "\n"))
    return out


def own_quotes(value: str) -> str:
    """A string value's text with its quotation marks made its own (see the module's doc)."""
    text = value.strip()
    for open_, close in _QUOTE_PAIRS:
        if len(text) >= 2 and text.startswith(open_) and text.endswith(close):
            inner = text[len(open_) : -len(close)]
            if open_ not in inner and close not in inner:
                text = inner.strip()  # the whole value is one quotation: it is the reply
                break
    if text.count('"') % 2:
        text = text.replace('"', " ")
    opening = sum(text.count(q) for q in _OPENING)
    closing = sum(text.count(q) for q in _CLOSING)
    if opening != closing:
        for q in (*_OPENING, *_CLOSING):
            text = text.replace(q, " ")
    return text


@lru_cache(maxsize=64)  # each check of a result reads the same output
def json_span(text: str) -> tuple[int, int, Any] | None:
    """Where the output's JSON lies and its value, found as `extract_json` finds it: the whole
    text, a fenced block, or the first {...} / [...]."""
    stripped = text.strip()
    lead = text.find(stripped[:1]) if stripped else 0
    spans = [(lead, lead + len(stripped))]
    fence = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    if fence:
        spans.append(fence.span(1))
    for open_, close in (("{", "}"), ("[", "]")):
        start, end = text.find(open_), text.rfind(close)
        if 0 <= start < end:
            spans.append((start, end + 1))
    for start, end in spans:
        try:
            return start, end, json.loads(text[start:end])
        except json.JSONDecodeError:
            continue
    return None


def content(output: str) -> str:
    """The text that checks of text read (see the module's doc)."""
    span = json_span(output)
    if span is not None and isinstance(span[2], dict | list | str):
        start, end, data = span
        # Prose around the JSON is read too (a fence's backticks are only markup).
        before = output[:start].replace("```json", " ").replace("```", " ").strip()
        after = output[end:].replace("```", " ").strip()
        parts = [before, *(own_quotes(v) for v in string_values(data)), after]
        return "\n\n".join(p for p in parts if p)
    if looks_like_json(output):
        return "\n\n".join(own_quotes(v) for v in lenient_strings(output))
    return output


# ---- field by field -------------------------------------------------------------------------


def compare_fields(
    expected: Any, actual: Any, *, normalize: bool = False, prefix: str = ""
) -> dict[str, tuple[float, Any, Any]]:
    """Each field `expected` names → (1.0 or 0.0, what the output has, what was expected).
    Objects are compared key by key (keys the expectation leaves out are not judged), lists of
    objects item by item, any other value as a whole. A field is named by the JMESPath that
    reads it: `categorie`, `client.nom`, `items[0].name`, `"date-limite"`."""
    if isinstance(expected, dict):
        out: dict[str, tuple[float, Any, Any]] = {}
        for key, want in expected.items():
            name = f"{prefix}.{_ident(key)}" if prefix else _ident(key)
            got = actual.get(key, MISSING) if isinstance(actual, dict) else MISSING
            out.update(compare_fields(want, got, normalize=normalize, prefix=name))
        return out
    if isinstance(expected, list) and any(isinstance(v, dict) for v in expected):
        out = {}
        for i, want in enumerate(expected):
            got = actual[i] if isinstance(actual, list) and i < len(actual) else MISSING
            out.update(compare_fields(want, got, normalize=normalize, prefix=f"{prefix}[{i}]"))
        return out
    ok = actual is not MISSING and same_value(expected, actual, normalize)
    return {prefix or "@": (1.0 if ok else 0.0, actual, expected)}


def _ident(key: Any) -> str:
    key = str(key)
    return key if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) else json.dumps(key)


def same_value(expected: Any, actual: Any, normalize: bool = False) -> bool:
    """Equal as values: text stripped (and normalised on request), numbers by value, lists
    item by item; a number and its text are not the same value."""
    from ._deterministic import normalise

    if isinstance(expected, str) and isinstance(actual, str):
        if normalize:
            return normalise(expected) == normalise(actual)
        return expected.strip() == actual.strip()
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(
            same_value(e, a, normalize) for e, a in zip(expected, actual, strict=True)
        )
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    numbers = isinstance(expected, int | float) and isinstance(actual, int | float)
    return (numbers or type(expected) is type(actual)) and bool(expected == actual)


def shown(value: Any) -> str:
    """A value for a reason line, short."""
    if value is MISSING:
        return "nothing"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return repr(text[:60] + ("…" if len(text) > 60 else ""))
