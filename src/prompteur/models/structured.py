"""Output contracts on the wire: one JSON Schema, said the way each provider enforces it.

- the embedded model (llama.cpp): a GBNF grammar made from the schema, applied while decoding;
- OpenAI and the servers that speak its API (vLLM, Ollama, llama.cpp's server, Mistral,
  Gemini's compatible API): `response_format: {type: json_schema, json_schema: {...}}`, strict
  when the schema is inside OpenAI's strict subset; llama-cpp-python's server reads only the
  older `{type: json_object, schema: ...}` form, sent when a server refuses the standard one;
- Anthropic: one tool whose input is the schema, and `tool_choice` forcing it; its input is
  the answer.

A response says how its text was constrained (`Response.enforced`); None means it was not.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

# What `Response.enforced` says.
GRAMMAR = "grammar"
JSON_SCHEMA = "json_schema"
JSON_SCHEMA_STRICT = "json_schema:strict"
JSON_OBJECT = "json_object"
TOOL = "tool"


@dataclass(frozen=True)
class OutputSchema:
    """The JSON Schema a model is asked to obey, and a name for it (providers want one)."""

    schema: dict[str, Any] = field(hash=False)
    name: str = "output"

    def key(self) -> str:
        """The contract as text, for cache keys. Keys keep their order: the grammar writes
        properties in the order the schema gives them."""
        return json.dumps(self.schema, ensure_ascii=False)

    @property
    def wire_name(self) -> str:
        """The name as OpenAI and Anthropic accept it: [a-zA-Z0-9_-]{1,64}."""
        cleaned = re.sub(r"[^a-zA-Z0-9_-]+", "_", self.name).strip("_")[:64]
        return cleaned or "output"


# ---- OpenAI and compatible servers ---------------------------------------------------------


def strict_ok(schema: Any) -> bool:
    """Whether OpenAI's strict mode accepts the schema as it is: an object at the root, and
    every object closed (`additionalProperties: false`) with all its properties required."""
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return False
    return _closed(schema)


def _closed(node: Any) -> bool:
    if isinstance(node, list):
        return all(_closed(n) for n in node)
    if not isinstance(node, dict):
        return True
    if node.get("type") == "object" or "properties" in node:
        props = node.get("properties") or {}
        if node.get("additionalProperties") is not False:
            return False
        if set(node.get("required") or []) != set(props):
            return False
    return all(_closed(v) for k, v in node.items() if k not in ("enum", "const", "default"))


def openai_response_format(out: OutputSchema) -> tuple[dict[str, Any], str]:
    """OpenAI's structured-output form, and what it enforces."""
    strict = strict_ok(out.schema)
    body = {
        "type": "json_schema",
        "json_schema": {"name": out.wire_name, "schema": out.schema, "strict": strict},
    }
    return body, JSON_SCHEMA_STRICT if strict else JSON_SCHEMA


def json_object_format(out: OutputSchema) -> dict[str, Any]:
    """The older form llama-cpp-python's server reads (it makes a grammar from the schema)."""
    return {"type": "json_object", "schema": out.schema}


# Gemini's responseSchema is a subset of OpenAPI 3.0's schema object: other keywords are refused.
_GEMINI_KEYS = {
    "type",
    "format",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "items",
    "minimum",
    "maximum",
    "anyOf",
    "propertyOrdering",
    "title",
}


def gemini_schema(node: Any) -> Any:
    """The schema in the subset Gemini enforces; keys it does not know are left out."""
    if isinstance(node, list):
        return [gemini_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key not in _GEMINI_KEYS:
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {k: gemini_schema(v) for k, v in value.items()}
        elif key in ("items", "anyOf"):
            out[key] = gemini_schema(value)
        else:
            out[key] = value
    if isinstance(node.get("properties"), dict) and "propertyOrdering" not in out:
        out["propertyOrdering"] = list(node["properties"])  # keep the order the file gives
    return out


# ---- Anthropic ------------------------------------------------------------------------------

WRAP_KEY = "value"


def anthropic_tool(out: OutputSchema) -> tuple[dict[str, Any], bool]:
    """The tool whose input is the answer, and whether the schema was wrapped: a tool's input
    is always an object, so any other root becomes `{"value": ...}` and is unwrapped after."""
    schema = out.schema
    wrapped = schema.get("type") != "object"
    if wrapped:
        schema = {"type": "object", "properties": {WRAP_KEY: schema}, "required": [WRAP_KEY]}
    tool = {
        "name": out.wire_name,
        "description": "Give the answer. Its input is the whole answer, in this exact format.",
        "input_schema": schema,
    }
    return tool, wrapped


def tool_answer(value: Any, wrapped: bool) -> str:
    """The text of a forced tool's input: the JSON answer."""
    if wrapped and isinstance(value, dict):
        value = value.get(WRAP_KEY)
    return json.dumps(value, ensure_ascii=False)


# ---- llama.cpp grammars ---------------------------------------------------------------------

# llama-cpp-python's port of json_schema_to_grammar lets control characters into strings (raw
# newlines): JSON forbids them, so a string's characters are those llama.cpp itself allows.
_LOOSE_CHAR = 'char ::= [^"\\\\] |'
_JSON_CHAR = 'char ::= [^"\\\\\\x7F\\x00-\\x1F] |'


class UnsupportedSchema(ValueError):
    """A schema llama.cpp's converter cannot turn into a grammar."""


@lru_cache(maxsize=64)
def _gbnf(schema_text: str) -> str:
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    try:
        grammar = json_schema_to_gbnf(schema_text)
    except Exception as exc:  # the converter raises bare exceptions on what it cannot read
        raise UnsupportedSchema(f"{type(exc).__name__}: {exc}") from None
    return grammar.replace(_LOOSE_CHAR, _JSON_CHAR)


def to_gbnf(out: OutputSchema) -> str:
    """The GBNF grammar of the schema (cached); UnsupportedSchema when it cannot be made."""
    return _gbnf(out.key())
