"""Which fields of a prompt's output a suite's checks can fail on.

A field is *blind* when no check could notice a wrong value in it: `is-json`, `json-schema`
and a length over the whole output pass whatever `categorie` says. A field is seen by a check
that reads it at its `path:`, by `equals` comparing objects that name it (a case's expected
value, or `fields:`), by a `json-schema` that bounds its value (`const`, `enum`, `pattern`,
a range…: a case's schema saying `owner` is "Aisha"), and — for a text field — by checks of
text without a path, which read every string value.
"""

from __future__ import annotations

import re
from typing import Any

from ..suite import Suite

# Checks that judge the output's form, not what a field says.
_FORM = {"is-json", "json-schema", "length", "word-count", "latency", "cost"}
# JSON Schema keywords that bound a value, not only its type.
_VALUE_KEYWORDS = {
    "const",
    "enum",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "format",
    "minItems",
    "maxItems",
    "contains",
    "items",
    "not",
}


def _bounded_fields(schema: Any) -> set[str]:
    """The top-level properties whose value a JSON Schema bounds (beyond their type)."""
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict):
        return set()
    return {str(k) for k, v in props.items() if isinstance(v, dict) and _VALUE_KEYWORDS & set(v)}


def _path_root(path: str) -> str:
    expr = path.strip()
    if expr.startswith("$"):
        expr = expr[1:].lstrip(".")
    m = re.match(r'\s*(?:"((?:[^"\\]|\\.)*)"|([A-Za-z_][\w]*))', expr)
    return (m.group(1) or m.group(2)) if m else ""


def seen_fields(spec: dict[str, Any] | str, expected: list[Any]) -> set[str] | None:
    """The top-level fields one check can fail on; None: all text fields (a check of text
    reading the whole content) — the caller keeps only the string ones."""
    if isinstance(spec, str):
        spec = {"type": spec}
    kind = str(spec.get("type", "")).removeprefix("not-")
    if spec.get("path"):
        root = _path_root(str(spec["path"]))
        return {root} if root else None
    if kind == "json-schema" and not str(spec.get("type")).startswith("not-"):
        return _bounded_fields(spec.get("value"))
    if kind in _FORM:
        return set()
    if kind == "equals":
        if isinstance(spec.get("fields"), list):
            return {str(f) for f in spec["fields"]}
        values = [spec["value"]] if "value" in spec else expected
        found: set[str] = set()
        for v in values:
            for alt in v if isinstance(v, list) else [v]:
                if isinstance(alt, dict):
                    found |= {str(k) for k in alt}
        return found
    return None


def blind_fields(suite: Suite, schema: dict[str, Any] | None) -> list[str]:
    """The top-level fields of `schema` that no check of the suite can fail on."""
    props = (schema or {}).get("properties")
    if not isinstance(props, dict) or not props:
        return []
    text_fields = {k for k, v in props.items() if isinstance(v, dict) and v.get("type") == "string"}
    cases = list(suite.spec.cases)
    expected = [c.expected for c in cases]
    seen: set[str] = set()
    specs: list[tuple[dict[str, Any] | str, list[Any]]] = [(s, expected) for s in suite.spec.checks]
    specs += [(s, [c.expected]) for c in cases for s in c.checks]
    for spec, exp in specs:
        fields = seen_fields(spec, exp)
        seen |= text_fields if fields is None else fields
    return [k for k in props if k not in seen]
