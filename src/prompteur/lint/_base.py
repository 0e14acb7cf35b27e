"""What a lint rule is: a stable id, a severity, messages in English and French, and a function
that finds the places in a document where the rule applies.

A rule module declares its rules with `@rule(...)`; the registry is a dict, not an if-chain,
so adding a family of rules is adding a module. Rule ids never change meaning once published:
users put them in `--select`, `--ignore` and `{# prompteur: ignore P003 #}` comments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Literal

from ..errors import UserError
from ..i18n import fill, typography

Lang = Literal["en", "fr"]
LANGS: tuple[Lang, ...] = ("en", "fr")
Kind = Literal["prompt", "image", "suite"]


class Severity(IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(text) from None


@dataclass(frozen=True)
class Text:
    """What a person reads about a rule, in one language. `title` may name the finding's
    parameters, e.g. "undefined variable '{name}'"."""

    title: str
    why: str
    fix: str


@dataclass(frozen=True)
class Hit:
    """One place where a rule applies, as a rule function reports it."""

    line: int
    params: Mapping[str, Any] = field(default_factory=dict)
    # A concrete rewrite for this prompt, written in the prompt's own language.
    suggestion: str | None = None
    severity: Severity | None = None  # overrides the rule's default for this hit


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    kind: Kind
    severity: Severity
    texts: Mapping[Lang, Text]
    fn: Callable[[Any], Iterable[Hit]]

    def text(self, lang: Lang) -> Text:
        """The rule's texts in `lang`, typeset (French spacing) but not yet filled in."""
        text = self.texts.get(lang) or self.texts["en"]
        if lang != "fr":
            return text
        return Text(*(typography(getattr(text, part), lang) for part in ("title", "why", "fix")))


_RULES: dict[str, Rule] = {}


def rule(
    id: str, name: str, severity: Severity, *, kind: Kind = "prompt", en: Text, fr: Text
) -> Callable[[Callable[[Any], Iterable[Hit]]], Callable[[Any], Iterable[Hit]]]:
    """Register a rule function under a stable id."""

    def register(fn: Callable[[Any], Iterable[Hit]]) -> Callable[[Any], Iterable[Hit]]:
        known = _RULES.get(id)
        if known is not None and known.fn is not fn:
            # A plugin's rule cannot take an id already in use (a built-in's, another's).
            raise UserError(
                f"{fn.__module__} declares the lint rule {id}, already declared by "
                f"{known.fn.__module__}",
                hint="give the plugin's rule another id",
            )
        _RULES[id] = Rule(id, name, kind, severity, {"en": en, "fr": fr}, fn)
        return fn

    return register


def rules(kind: Kind | None = None) -> list[Rule]:
    _load_families()
    return sorted((r for r in _RULES.values() if kind is None or r.kind == kind), key=_order)


def get_rule(rule_id: str) -> Rule:
    _load_families()
    return _RULES[rule_id]


def _order(r: Rule) -> tuple[bool, str, int, str]:
    # Built-ins are a letter and a number (P003); a plugin's id may be anything.
    prefix, digits = r.id[:1], r.id[1:]
    return r.kind != "prompt", prefix, int(digits) if digits.isdigit() else 0, r.id


def _load_families() -> None:
    # Each rule is an entry point of the group "prompteur.lint_rules" (plugins.py), declared
    # with `@rule` in its module: loading the entries registers them. Loading them here (not in
    # __init__) keeps `import prompteur.lint` cheap for code that only needs the types.
    from .. import plugins

    plugins.load_all("prompteur.lint_rules")


@dataclass(frozen=True)
class Finding:
    rule: str
    name: str
    file: str
    line: int
    severity: Severity
    message: str
    why: str
    fix: str
    suggestion: str | None = None

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "name": self.name,
            "file": self.file,
            "line": self.line,
            "severity": self.severity.label,
            "message": self.message,
            "why": self.why,
            "fix": self.fix,
            "suggestion": self.suggestion,
        }


def finding(r: Rule, hit: Hit, file: str, lang: Lang) -> Finding:
    text = r.text(lang)
    params = dict(hit.params)
    return Finding(
        rule=r.id,
        name=r.name,
        file=file,
        line=hit.line,
        severity=hit.severity or r.severity,
        message=fill(text.title, lang, params) if params else text.title,
        why=fill(text.why, lang, params) if params else text.why,
        fix=fill(text.fix, lang, params) if params else text.fix,
        suggestion=hit.suggestion,
    )


def matches(rule_id: str, selectors: Iterable[str]) -> bool:
    """Whether a rule id is named by any selector: an id (P003), a prefix (P0, I) or ALL."""
    return any(s == "ALL" or rule_id.startswith(s) for s in selectors)
