"""Probe reports in French: the detectors' reasons (stored in English) and the bias probes'
gap table read French, through the catalogue."""

from __future__ import annotations

import asyncio
import re
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
from prompteur.probes.robustness import NEEDS_MODEL
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


def test_a_check_reason_inside_a_probe_reason_reads_french_too() -> None:
    shown = message(
        "passed on the original, fails on the variant: equals: got 'b', expected 'a'", "fr"
    )
    assert shown == (
        f"réussi sur l'original, en échec sur la variante{NBSP}: equals{NBSP}: réponse "
        f"«{NNBSP}b{NNBSP}», attendu «{NNBSP}a{NNBSP}»"
    )
    # the user's data stays as written, in « »
    assert message("the output changed: 'got x' → 'expected y'", "fr").endswith(
        f"«{NNBSP}got x{NNBSP}» → «{NNBSP}expected y{NNBSP}»"
    )


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


def _terminal_report() -> dict[str, Any]:
    """A stored probe report with every kind of line the terminal prints: a bias outcome with
    its groups, gap, noise floor and modes; a robustness outcome with paired statistics, a
    breakdown and a left-out result; a finding whose reason the detectors wrote."""
    rate = {"estimate": 0.25, "low": 0.05, "high": 0.7}
    paired = {
        "rate_a": 0.9,
        "rate_b": 0.6,
        "cases": 10,
        "difference": {"estimate": -0.3, "low": -0.55, "high": -0.05},
        "p_value": 0.031,
        "significant": True,
    }
    robustness = {
        "probe": "robustness.typos",
        "category": "robustness",
        "severity": "medium",
        "model": "local",
        "tested": 10,
        "found": 3,
        "errors": 1,
        "rate": rate,
        "skipped": False,
        "notes": [],
        "stats": {
            "paired": paired,
            "output_changed": {"count": 4},
            "breakdown": {"gender": {"female": {"found": 1, "tested": 4}}},
        },
        "findings": [
            {
                "severity": "medium",
                "probe": "robustness.typos",
                "model": "local",
                "origin": "c1",
                "why": "the output changed: 'oui' → 'non'",
                "inputs": {"review": "Tres bon produit"},
                "output": "non",
                "evidence": {},
            }
        ],
    }
    bias = {
        **BIAS_OUTCOME,
        "severity": "high",
        "tested": 8,
        "found": 2,
        "errors": 0,
        "rate": rate,
        "skipped": False,
        "notes": [],
        "stats": {
            **BIAS_OUTCOME["stats"],
            "noise_floor": {"count": 1, "cases": 8, "rate": rate},
            "significant": False,
            "modes": {"swap": 5, "insert": 3},
        },
    }
    outcomes = [robustness, bias]
    return {
        "run": {"id": "abc123"},
        "prompt": {"name": "avis", "version": "0123456789abcdef"},
        "suite": "suites/avis.yaml",
        "seed": 7,
        "canary": "ZORBLAX",
        "models": ["local"],
        "baseline": [{"model": "local", "cases": 4, "errors": 0, "pass_rate": rate}],
        "categories": [
            {
                "category": o["category"],
                "model": "local",
                "tested": o["tested"],
                "found": o["found"],
                "severity": o["severity"],
                "rate": rate,
            }
            for o in outcomes
        ],
        "outcomes": outcomes,
        "summary": {"findings": 1, "by_severity": {"high": 0, "medium": 1, "low": 0}},
        "totals": {
            "cases": 4,
            "probe_cases": 18,
            "results": 22,
            "model_calls": 20,
            "cached": 2,
            "judge_calls": 0,
            "seconds": 12.5,
        },
        "judges": [],
        "warnings": [],
        "skipped": {"robustness.paraphrase": NEEDS_MODEL},
    }


def _printed(lang: str) -> list[str]:
    from rich.console import Console

    from prompteur.probes.report import print_report

    console = Console(record=True, width=240, color_system=None)
    print_report(console, _terminal_report(), lang=lang)
    return [line.strip() for line in console.export_text().splitlines() if line.strip()]


def test_the_terminal_report_reads_french() -> None:
    english, french = _printed("en"), _printed("fr")
    assert len(english) == len(french)
    assert any(line.startswith("Probe run abc123") for line in english)
    assert any(line.startswith("Exécution de sondes abc123") for line in french)
    for line in french:
        # the values a user wrote (inputs, outputs, the suite's path) stay as they are
        own = line.split("entrée" + NBSP + ":")[0].split("sortie" + NBSP + ":")[0]
        own = re.sub(r"(?<=\s)[a-z]+\.[a-z]+\b", " ", own)  # probe names
        assert not english_words(own), line
        assert not typography_faults(own.replace("│", " ").replace("┃", " ")), line
    text = "\n".join(french)
    assert f"écart de -30,0 points (IC 95{NNBSP}% de -55,0 à -5,0)" in text
    assert f"plus grand écart{NBSP}: femme contre homme -30,0 points" in text
    assert "sortie modifiée dans 4 des 10 cas" in text
    assert f"la sortie a changé{NBSP}: «{NNBSP}oui{NNBSP}» → «{NNBSP}non{NNBSP}»" in text
    assert "élevée" in text and "moyenne" in text and "robustesse" in text
    assert "1 trouvaille (1 moyenne)" in text and "réponses du cache" in text
    assert f"non exécutée robustness.paraphrase{NBSP}: il faut un modèle capable" in text
    assert "1 résultat non pris en compte" in text and "par genre" + NBSP + ": femme 1/4" in text
    assert not {"result", "female", "male", "finding"} & set(re.findall(r"\w+", text))
    assert "on 4 cases" in "\n".join(english) and "1 finding (1 medium)" in english[-1]
