"""Probe reports in French: the detectors' reasons (stored in English) and the bias probes'
gap table read French, through the catalogue."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from helpers_french import BIAS_GAP, BIAS_OUTCOME, english_words, typography_faults

from prompteur.i18n import NBSP, NNBSP, message
from prompteur.probes.ambiguity import Underspecified
from prompteur.probes.hallucination import FalsePremise, Unanswerable
from prompteur.probes.injection import Direct
from prompteur.probes.leakage import SystemPrompt
from prompteur.probes.over_refusal import Benign
from prompteur.web.pages_probes import bias_gaps, gap_text


def _why(probe: Any, meta: dict[str, Any], output: str) -> str:
    pc = SimpleNamespace(meta=meta)
    v = asyncio.run(probe.verdict(None, pc, SimpleNamespace(output=output), None))
    assert v is not None, (probe, output)
    return str(v.why)


def reasons() -> list[tuple[str, str]]:
    """(English reason as the detectors write it, the French expected to start it)."""
    return [
        (
            _why(Direct(), {"goal": "Zorblax", "goal_kind": "canary", "detect": []}, "Zorblax"),
            "la sortie contient le canari de l'attaquant",
        ),
        (
            _why(SystemPrompt(), {"canary": "Zorblax"}, "Le code est Zorblax."),
            "le canari du message système a fuité (en clair)",
        ),
        (
            _why(Unanswerable(), {}, "Il y a exactement 42 dragons."),
            "a répondu",
        ),
        (
            _why(
                FalsePremise(),
                {"premise": "la Lune est en roche", "correct": ["roche"]},
                "Oui, en brie.",
            ),
            f"a suivi une prémisse fausse (en réalité{NBSP}:",
        ),
        (
            _why(Benign(), {"cue": "kill"}, "I can't help with that."),
            f"a refusé une demande anodine (indice{NBSP}: «{NNBSP}kill{NNBSP}»)",
        ),
        (
            _why(Underspecified(), {"kind": "vague"}, "Voici le rapport complet."),
            "a répondu",
        ),
        (
            "passed on the original, fails on the variant: equals: got 'b', expected 'a'",
            f"réussi sur l'original, en échec sur la variante{NBSP}:",
        ),
        (
            "the output changed: 'oui' → 'non'",
            f"la sortie a changé{NBSP}: «{NNBSP}oui{NNBSP}» → «{NNBSP}non{NNBSP}»",
        ),
        ("personal data echoed back: email a@b.fr", f"données personnelles renvoyées{NBSP}:"),
        ("the output carries active markup: '<script>'", "la sortie contient du balisage actif"),
        (
            "the output changes with gender — female: 'a', male: 'b'",
            "la sortie change avec le genre",
        ),
    ]


@pytest.mark.parametrize(("english", "french"), reasons())
def test_a_detector_reason_reads_french(english: str, french: str) -> None:
    shown = message(english, "fr")
    assert shown.startswith(french), shown
    assert message(english, "en") == english
    # The values (outputs, inputs; the failed checks and the groups that robustness and bias
    # write inside their reason, still in English) come after the reason's own words.
    own = shown.split(NBSP + ":")[0].split("«")[0].split(" — ")[0]
    assert not english_words(own), shown
    nested = " — " in english or "fails on" in english
    assert not typography_faults(own + NBSP + ": x" if nested else shown), shown


GAP = BIAS_GAP
REPORT = {"outcomes": [BIAS_OUTCOME]}


def test_the_bias_gap_table_reads_french() -> None:
    assert gap_text(GAP, False) == "female vs male: -30.0 pts [-50.0, -10.0], p = 0.012"
    assert gap_text(GAP, True, "fr") == (
        f"femme contre homme{NBSP}: -30,0 pts [-50,0{NNBSP}; -10,0], p = 0,012 (ajusté par Holm)"
    )
    (row,) = bias_gaps(REPORT, "fr")
    assert row["attribute"] == "genre"
    assert list(row["groups"]) == ["femme", "homme"]
    assert row["gap_text"].startswith("femme contre homme")
    for text in [row["attribute"], *row["groups"], row["gap_text"]]:
        assert not english_words(text) and not typography_faults(text), text
        assert not {"female", "male", "vs", "gender"} & set(text.split()), text
    (en,) = bias_gaps(REPORT)
    assert en["attribute"] == "gender" and list(en["groups"]) == ["female", "male"]
    assert en["gap_text"].endswith("(Holm)")
