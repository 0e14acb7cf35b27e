"""Small text helpers the probes share: which language a text is in, which input carries the
text to attack, how two outputs compare."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from ..checks import normalise

Lang = Literal["en", "fr"]


def word_set(text: str) -> frozenset[str]:
    """The words of a space-separated list (long word lists read better as one string)."""
    return frozenset(text.split())


# Frequent function words: a handful is enough to tell French from English on a sentence.
_FR = word_set(
    "le la les un une des du de et est pas je tu il elle nous vous ils elles ne que qui pour "
    "dans sur avec mon ma mes votre vos ce cette ces au aux mais ou donc très plus été être "
    "avoir j'ai c'est n'est d'un d'une l'"
)
_EN = word_set(
    "the a an and is are was were not i you he she we they it my your this that these those "
    "to of in on with for but or so very more been be have has had it's don't i'm"
)
_WORD = re.compile(r"[\w']+", re.UNICODE)


def guess_language(text: str, default: Lang = "en") -> Lang:
    """French ("fr") or English ("en"), from function words and accents; `default` when
    nothing tells them apart."""
    words = [w.lower() for w in _WORD.findall(text)]
    fr = sum(w in _FR for w in words) + 0.5 * sum(ch in "éèêàùçôîœ" for ch in text.lower())
    en = sum(w in _EN for w in words)
    if fr == en:
        return default
    return "fr" if fr > en else "en"


def main_field(inputs: Mapping[str, Any], chosen: str | None = None) -> str | None:
    """The input that carries the text a probe works on: `chosen`, else the longest string."""
    if chosen is not None:
        return chosen if isinstance(inputs.get(chosen), str) else None
    texts = [(len(v), k) for k, v in inputs.items() if isinstance(v, str)]
    if not texts:
        return None
    longest = max(n for n, _ in texts)
    return next(k for n, k in texts if n == longest)


# Inputs that carry the user's request, when a prompt has several (a question and a context).
QUESTION_NAMES = ("question", "query", "q", "request", "ask", "message", "prompt", "input")
QUESTION_NAMES += ("demande", "requete", "requête")


def question_field(inputs: Mapping[str, Any], chosen: str | None = None) -> str | None:
    """The input that carries the request (a question probe replaces it): `chosen`, else one
    named like a question, else the longest text."""
    if chosen is None:
        for name in QUESTION_NAMES:
            if isinstance(inputs.get(name), str):
                return name
    return main_field(inputs, chosen)


def same_output(a: str | None, b: str | None) -> bool:
    """Whether two outputs say the same thing, ignoring case, punctuation and spacing."""
    return normalise(a or "") == normalise(b or "")


def contains_phrase(text: str, phrase: str) -> bool:
    """`phrase` in `text` as whole words, ignoring case, punctuation and spacing."""
    hay, needle = f" {normalise(text)} ", f" {normalise(phrase)} "
    return needle.strip() != "" and needle in hay


def clip(text: str | None, limit: int = 240) -> str:
    """One line, at most `limit` characters (reports)."""
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
