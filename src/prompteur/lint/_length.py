"""Excessive length (P011): instructions so long that the important ones drown."""

from __future__ import annotations

from collections.abc import Iterator

from ._base import Hit, Severity, Text, rule
from ._doc import PromptDoc

MAX_WORDS = 800  # about 1,000 tokens of instructions, before any data


@rule(
    "P011",
    "too-long",
    Severity.WARNING,
    en=Text(
        "instructions are {words} words long (more than {limit})",
        "Long instructions dilute the ones that matter: models follow the start and the end "
        "and lose the middle; every call also pays for these tokens.",
        "Cut what the model does not need, move reference material into an input, keep one "
        "rule per line.",
    ),
    fr=Text(
        "les consignes font {words} mots (plus de {limit})",
        "Des consignes trop longues noient celles qui comptent : les modèles suivent le début "
        "et la fin et perdent le milieu ; chaque appel paie aussi ces jetons.",
        "Retirez ce dont le modèle n'a pas besoin, passez la documentation dans une entrée, une "
        "règle par ligne.",
    ),
)
def too_long(doc: PromptDoc) -> Iterator[Hit]:
    words = len(doc.instruction_text.split())
    if words > MAX_WORDS:
        yield Hit(doc.first_line, {"words": words, "limit": MAX_WORDS})
