"""Demonstrations that contradict the instruction (P009): the prompt asks for one word, JSON,
at most N words or one of a set of labels, and an example answer is not that. Models copy
examples more faithfully than they follow instructions, so the example wins."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from ._base import Hit, Severity, Text, rule
from ._constraints import Demand, demands
from ._doc import Demo, PromptDoc
from ._lexicon import fold


@rule(
    "P009",
    "example-contradicts-instruction",
    Severity.ERROR,
    en=Text(
        "example contradicts the instruction: answer '{answer}' is not {demand} (line {at})",
        "Models imitate examples more faithfully than they follow instructions: this example "
        "teaches the opposite of what the prompt asks.",
        "Rewrite the example's answer so it obeys the instruction, or change the instruction.",
    ),
    fr=Text(
        "exemple contraire à la consigne : la réponse « {answer} » n'est pas {demand} (ligne {at})",
        "Les modèles imitent les exemples plus fidèlement qu'ils ne suivent les consignes : cet "
        "exemple enseigne le contraire de ce que demande le prompt.",
        "Réécrivez la réponse de l'exemple pour qu'elle respecte la consigne, ou changez la "
        "consigne.",
    ),
)
def example_contradicts(doc: PromptDoc) -> Iterator[Hit]:
    wanted = demands(doc)
    if not wanted or not doc.demos:
        return
    for demo in doc.demos:
        for demand in wanted:
            if _violates(demo, demand):
                shown = demo.answer if len(demo.answer) <= 60 else demo.answer[:57] + "…"
                yield Hit(
                    demo.line,
                    {"answer": shown, "demand": demand.describe(doc.lang), "at": demand.line},
                    _fix(demo, demand, doc.lang),
                )
                break


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"\s+", text.strip()) if fold(w)]


def _violates(demo: Demo, demand: Demand) -> bool:
    answer = demo.answer.strip()
    if demand.kind in ("one-word", "max-words"):
        return len(_words(answer)) > (demand.words or 1)
    if demand.kind == "json":
        text = re.sub(r"^```(?:json)?\s*|\s*```$", "", answer)
        try:
            json.loads(text)
        except ValueError:
            return True
        return False
    if demand.kind == "labels":
        return fold(answer) not in demand.labels
    return False


def _fix(demo: Demo, demand: Demand, lang: str) -> str:
    if demand.kind == "labels":
        return ("Réponse attendue parmi : " if lang == "fr" else "Expected one of: ") + ", ".join(
            demand.labels
        )
    if demand.kind in ("one-word", "max-words"):
        words = _words(demo.answer)[: demand.words or 1]
        return ("Par exemple : " if lang == "fr" else "For example: ") + " ".join(words)
    return ("Par exemple : " if lang == "fr" else "For example: ") + json.dumps(
        {"answer": demo.answer}, ensure_ascii=False
    )
