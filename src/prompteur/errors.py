"""Errors a user can act on.

A `UserError` is a mistake in something the user wrote (a prompt file, a config, a command
argument). The CLI prints it as one clear line — file, line, field, what is wrong — and exits
with code 2, never with a traceback. Anything else that escapes is a bug in prompteur.
"""

from __future__ import annotations

from pathlib import Path


class PrompteurError(Exception):
    """Base of every error prompteur raises on purpose."""


class UserError(PrompteurError):
    """Something the user wrote is wrong; says where and what."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        where = ""
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        field = f"{self.field}: " if self.field else ""
        text = f"{where}{field}{self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text

    def to_dict(self) -> dict[str, object]:
        return {
            "error": self.message,
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "hint": self.hint,
        }


def unknown_name(what: str, ref: str, names: list[str], *, field: str | None = None) -> UserError:
    """A name that is not there ("no lesson 'x'"): the hint is the closest name (a typo),
    else every name there is."""
    import difflib

    close = difflib.get_close_matches(ref, names, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"{what}s: " + ", ".join(names)
    return UserError(f"no {what} '{ref}'", field=field, hint=hint)
