"""What a conversion gives: the files to write, what was left out (in the user's terms), and
what changed on the way."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import UserError
from ...files import write_atomic


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
    plan: Path | None = None  # a probe plan (from a redteam section)

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
        from ...prompt import load_prompt
        from ...suite import load_suite

        for p in self.prompts:
            load_prompt(p)
        if self.suite is not None:
            try:
                load_suite(self.suite).count_cases()
            except UserError as exc:
                # A check whose optional package is missing (similar → prompteur[semantic])
                # is still the right conversion: say what to install, keep the files.
                if "pip install" not in f"{exc.message} {exc.hint or ''}":
                    raise
                self.notes.append(f"to run this suite: {exc.message}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "written": [str(p) for p in self.files],
            "prompts": [str(p) for p in self.prompts],
            "suite": str(self.suite) if self.suite else None,
            "plan": str(self.plan) if self.plan else None,
            "notes": self.notes,
            "unsupported": [s.to_dict() for s in self.skipped],
        }


class Unsupported(Exception):
    """Raised inside a converter: this piece cannot be converted, and why (in the user's
    terms: what promptfoo does that prompteur does not)."""
