"""Lessons: short texts on the craft plus an exercise graded on the embedded model.

Each lesson is a folder of data in this package (`lessons/N-id/`): `lesson.yaml` (texts in
English and French, the pass rate, hints per check), the learner's `starter` file, a
reference `solution`, and what grades an attempt — a hidden suite for a prompt exercise, a
good and a bad prompt for a suite exercise. Plain functions, so the web UI can reuse them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

from ..errors import UserError, unknown_name
from ..i18n import typography

LANGS = ("en", "fr")
Lang = Literal["en", "fr"]


def check_lang(lang: str) -> Lang:
    if lang not in LANGS:
        raise UserError(f"unknown language '{lang}'", field="--lang", hint="use en or fr")
    return lang  # type: ignore[return-value]


@dataclass(frozen=True)
class Lesson:
    id: str
    order: int
    kind: Literal["prompt", "suite"]
    folder: Path
    file: str  # the name the learner's file gets in the workspace
    pass_rate: float
    texts: dict[str, dict[str, str]]  # field → lang → text
    hints: dict[str, dict[str, str]] = field(default_factory=dict)
    min_cases: int = 0

    def text(self, name: str, lang: str = "en") -> str:
        return typography(self.texts[name][check_lang(lang)].rstrip(), lang)

    def hint(self, check: str, lang: str = "en") -> str | None:
        base = check[4:] if check.startswith("not-") and check not in self.hints else check
        h = self.hints.get(check) or self.hints.get(base)
        return typography(h[check_lang(lang)], lang) if h else None

    def _read(self, stem: str) -> str:
        suffix = ".prompty" if self.kind == "prompt" else ".yaml"
        return (self.folder / f"{stem}{suffix}").read_text(encoding="utf-8")

    @property
    def starter(self) -> str:
        return self._read("starter")

    @property
    def solution(self) -> str:
        return self._read("solution")

    @property
    def hidden_suite_path(self) -> Path:
        return self.folder / "hidden.yaml"

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        return {
            "id": self.id,
            "order": self.order,
            "kind": self.kind,
            "file": self.file,
            "pass_rate": self.pass_rate,
            **{k: self.text(k, lang) for k in ("title", "summary", "explanation", "exercise")},
        }


def _root() -> Path:
    return Path(str(files("prompteur.learn").joinpath("lessons")))


@cache
def lessons() -> tuple[Lesson, ...]:
    """Every lesson, in teaching order."""
    import yaml

    out = []
    for folder in sorted(p for p in _root().iterdir() if (p / "lesson.yaml").is_file()):
        data = yaml.safe_load((folder / "lesson.yaml").read_text(encoding="utf-8"))
        out.append(
            Lesson(
                id=data["id"],
                order=int(folder.name.split("-", 1)[0]),
                kind=data["kind"],
                folder=folder,
                file=data["file"],
                pass_rate=float(data["pass_rate"]),
                texts={k: data[k] for k in ("title", "summary", "explanation", "exercise")},
                hints=data.get("hints") or {},
                min_cases=int(data.get("min_cases", 0)),
            )
        )
    return tuple(sorted(out, key=lambda lesson: lesson.order))


def get_lesson(ref: str) -> Lesson:
    """A lesson by id (`few-shot`) or number (`1`)."""
    for lesson in lessons():
        if ref in (lesson.id, str(lesson.order)):
            return lesson
    raise unknown_name("lesson", ref, [lesson.id for lesson in lessons()], field="LESSON")
