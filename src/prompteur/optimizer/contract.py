"""The output contract the optimizer keeps: a prompt's output schema (`output_schema`, or
the one its `outputs` declare).

A demonstration is the prompt's own answer shown to the model, so it must satisfy the schema
the prompt asks for: a suite case's `expected` may be partial (the fields a check compares,
not a whole answer), and a partial object shown as a demonstration teaches the model to leave
fields out. Only complete expected values, and bootstrapped outputs, that validate become
demonstrations.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..errors import UserError

if TYPE_CHECKING:
    from ..prompt import Prompt


class Contract:
    def __init__(self, schema: dict[str, Any], source: str = "") -> None:
        from jsonschema.exceptions import SchemaError
        from jsonschema.validators import validator_for

        cls = validator_for(schema)
        try:
            cls.check_schema(schema)
        except SchemaError as exc:
            raise UserError(
                f"the output schema is not a valid JSON Schema: {exc.message}",
                file=source or None,
                field="output_schema",
            ) from None
        self.schema = schema
        self._validator = cls(schema)

    @classmethod
    def of(cls, prompt: Prompt) -> Contract | None:
        schema = prompt.output_schema
        return cls(schema, prompt.source) if schema else None

    def _valid(self, value: Any) -> bool:
        return bool(self._validator.is_valid(value))

    def accepts(self, answer: str) -> bool:
        """An answer as the model writes it (JSON text, or a bare string for a string schema)
        satisfies the schema."""
        text = answer.strip()
        try:
            value: Any = json.loads(text)
        except ValueError:
            value = text
        return self._valid(value)

    def answer(self, expected: Any) -> str | None:
        """The demonstration text of a case's expected value: the first alternative that is a
        complete answer, or None when none is."""
        for value in expected if isinstance(expected, list) else [expected]:
            text = as_answer(value)
            if text is not None and self.accepts(text):
                return text
        return None


def as_answer(value: Any) -> str | None:
    """An expected value as the answer a demonstration shows."""
    if value is None:
        return None
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
