"""Score definitions: what a reviewer's label may say, from `[scores.NAME]` in prompteur.toml.

Every project has `pass` (pass/fail), the default when it defines no other; a preference
queue's label is always one of `a`, `b`, `tie`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..config import Config
from ..errors import UserError

PASS_FAIL = "pass_fail"
CATEGORICAL = "categorical"
NUMERIC = "numeric"
PREFERENCE = "preference"
CHOICES = ("a", "b", "tie")
_TRUE = {"pass", "true", "1", "yes", "oui", "ok", "p", "y"}
_FALSE = {"fail", "false", "0", "no", "non", "ko", "f", "n"}


@dataclass(frozen=True)
class Score:
    name: str
    kind: str
    categories: tuple[str, ...] = ()
    range: tuple[float, float] | None = None
    description: dict[str, str] = field(default_factory=dict)

    def describe(self, lang: str = "en") -> str:
        return self.description.get(lang) or self.description.get("en", "")

    @property
    def choices(self) -> tuple[str, ...]:
        """The labels the keys 1–9 give, in order (empty for a numeric score)."""
        if self.kind == PASS_FAIL:
            return ("pass", "fail")
        if self.kind == PREFERENCE:
            return CHOICES
        return self.categories

    @property
    def level(self) -> str:
        """The distance agreement is measured with."""
        return "interval" if self.kind == NUMERIC else "nominal"

    def parse(self, raw: Any) -> Any:
        """A label's value as stored: True/False, a category, a number in range, a/b/tie."""
        if self.kind == PASS_FAIL:
            if isinstance(raw, bool):
                return raw
            word = str(raw).strip().lower()
            if word in _TRUE:
                return True
            if word in _FALSE:
                return False
            raise UserError(f"{raw!r} is not pass or fail", field="value", hint="pass or fail")
        if self.kind == NUMERIC:
            try:
                value = float(raw)
            except (TypeError, ValueError):
                raise UserError(f"{raw!r} is not a number", field="value") from None
            low, high = self.range or (float("-inf"), float("inf"))
            if not low <= value <= high or value != value:
                raise UserError(
                    f"{value:g} is outside the score's range",
                    field="value",
                    hint=f"{low:g}–{high:g}",
                )
            return value
        word = str(raw).strip()
        if self.kind == PREFERENCE:
            word = word.lower()
        if word not in self.choices:
            raise UserError(
                f"{raw!r} is not a label of '{self.name}'",
                field="value",
                hint="one of: " + ", ".join(self.choices),
            )
        return word

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "choices": list(self.choices),
            "range": list(self.range) if self.range else None,
            "description": dict(self.description),
        }


DEFAULT = Score(
    "pass",
    PASS_FAIL,
    description={
        "en": "Is this output acceptable as an answer to these inputs?",
        "fr": "Cette sortie est-elle une réponse acceptable à ces entrées ?",
    },
)
PREFERENCE_SCORE = Score(
    "preference",
    PREFERENCE,
    description={
        "en": "Which of the two answers is better? (a tie if neither is)",
        "fr": "Laquelle des deux réponses est la meilleure ? (égalité si aucune)",
    },
)


def scores(config: Config | None) -> dict[str, Score]:
    """The project's score definitions by name, the first defined first; `pass` is always
    there (last, unless the project defines its own `pass`)."""
    defined = config.data.scores if config is not None else {}
    out = {}
    for name, s in defined.items():
        text = {"en": s.description}
        if s.description_fr:
            text["fr"] = s.description_fr
        out[name] = Score(name, s.kind, tuple(s.categories), s.range, text)
    out.setdefault(DEFAULT.name, DEFAULT)
    return out


def score_named(config: Config | None, name: str | None) -> Score:
    known = scores(config)
    if name is None:
        return next(iter(known.values()))
    if name == PREFERENCE_SCORE.name:
        return PREFERENCE_SCORE
    if name not in known:
        raise UserError(
            f"no score '{name}'",
            field="score",
            hint="defined in prompteur.toml [scores.NAME]: " + ", ".join(known),
        )
    return known[name]


def from_spec(spec: dict[str, Any]) -> Score:
    """The score as a queue stored it when it was made (the queue keeps meaning the same
    thing when prompteur.toml changes later)."""
    s = spec["score"]
    rng = s.get("range")
    return Score(
        s["name"],
        s["kind"],
        tuple(s.get("categories") or s.get("choices") or ()) if s["kind"] == CATEGORICAL else (),
        (float(rng[0]), float(rng[1])) if rng else None,
        dict(s.get("description") or {}),
    )
