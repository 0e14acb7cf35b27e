"""Every French string prompteur shows, rendered and read: French typography (non-breaking
spaces before : ; ? ! and inside « », contractions), the professional "vous", the same
fields as its English, and no English left in it; then the French output of commands."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers_french import CODE, SAME, english_words, typography_faults
from typer.testing import CliRunner

from prompteur.cli import app
from prompteur.i18n import FRENCH, NBSP, NNBSP, NOUNS, RUN_WORDS, message, typography
from prompteur.scaffold import init_project


def french_strings() -> list[tuple[str, str]]:
    """(where, French text) for every French string of the code: the catalogue, the nouns,
    the lint rules' texts, the drafting patterns and the persona compiler's sentences."""
    from prompteur.lint import rules
    from prompteur.patterns import CATALOGUE

    out = [(f"catalogue: {en!r}", fr) for en, fr in FRENCH.items()]
    out += [(f"noun {en}", f"{one} {many}") for en, (one, many) in NOUNS.items()]
    out += [(f"run word {en}", fr) for en, fr in RUN_WORDS.items()]
    for r in rules():
        text = r.text("fr")
        out += [(f"lint {r.id}.{part}", getattr(text, part)) for part in ("title", "why", "fix")]
    out += [(f"pattern {p.id}", p.text["fr"]) for p in CATALOGUE]
    return out


STRINGS = french_strings()


@pytest.mark.parametrize(("where", "text"), STRINGS, ids=[w for w, _ in STRINGS])
def test_every_french_string_follows_french_typography(where: str, text: str) -> None:
    shown = typography(CODE.sub(lambda m: m.group(0).replace(":", "¦"), text))
    assert not typography_faults(shown), f"{where}: {shown!r}"


@pytest.mark.parametrize(("where", "text"), STRINGS, ids=[w for w, _ in STRINGS])
def test_no_english_in_a_french_string(where: str, text: str) -> None:
    assert not english_words(text), f"{where}: {text!r}"


def test_the_catalogue_translates_every_entry_keeping_its_fields() -> None:
    field = re.compile(r"\{(\w*)")
    for en, fr in FRENCH.items():
        assert fr != en or en in SAME or not re.search(r"[a-z]{3}", en), en
        assert sorted(field.findall(en)) == sorted(field.findall(fr)), en


def test_typography_faults_are_caught() -> None:
    """The rules above can fail: each fault is recognised in a string made to have it."""
    assert typography_faults("Meilleur essai: 3")
    assert typography_faults("Meilleur essai : 3")
    assert typography_faults("« oui »")
    assert typography_faults("62 %")
    assert typography_faults("Vos réponses s'adressent à les clients.")
    assert typography_faults("Réponds si tu sais.")
    assert not typography_faults(typography("Meilleur essai : 3 ; « oui » ? 62 %"))
    assert english_words("Aucune exécution : run the suite first")
    assert not english_words("Aucune exécution : prompteur eval SUITE")


def test_messages_made_from_templates_are_translated_with_their_values() -> None:
    assert message("no run 'x1'", "fr") == f"aucune exécution «{NNBSP}x1{NNBSP}»"
    assert message("got 'livraison', expected 'facturation'", "fr") == (
        f"réponse «{NNBSP}livraison{NNBSP}», attendu «{NNBSP}facturation{NNBSP}»"
    )
    assert message("3 words, expected ≤ 1", "fr") == "3 mots, attendu ≤ 1"
    assert message("missing ['a']", "fr") == f"manquants{NBSP}: ['a']"
    assert message("no run 'x1'", "en") == "no run 'x1'"


# ---- what commands print in French ----------------------------------------------------------


def french_lines(text: str) -> list[str]:
    """The lines a French reader reads: table rules, prompt text shown as-is, and file
    names are left out."""
    return [line for line in text.splitlines() if re.search(r"[A-Za-zÀ-ÿ]{3}", line)]


def assert_reads_french(output: str) -> None:
    for line in french_lines(output):
        assert not english_words(line), line
        assert not typography_faults(CODE.sub("", line)), repr(line)


FLAWED_FR = """---
name: relance
inputs:
  message: {kind: string}
  ton: {kind: string}
---
system:
Corrigez cela.
N'utilisez pas de jargon.

user:
{{ message }}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "proj"
    init_project(root)
    monkeypatch.chdir(root)
    return root


def test_lint_in_french_reads_french(project: Path) -> None:
    (project / "prompts" / "relance.prompty").write_text(FLAWED_FR, encoding="utf-8")
    res = CliRunner().invoke(
        app, ["lint", "prompts/relance.prompty", "--lang", "fr", "--fail-on", "never"]
    )
    assert res.exit_code == 0, res.output
    assert "avertissement" in res.stdout and "warning" not in res.stdout
    assert f"pourquoi{NBSP}:" in res.stdout and "constats (" in res.stdout
    # The suggestions (text to paste into the prompt) are left out: they quote the prompt.
    assert_reads_french("\n".join(x for x in res.stdout.splitlines() if "essayez" not in x))
    rules = CliRunner().invoke(app, ["lint", "--rules", "--lang", "fr"])
    assert rules.exit_code == 0 and "gravité" in rules.stdout
    assert_reads_french("\n".join(rules.stdout.splitlines()[3:]))


def test_lessons_and_a_challenge_report_read_french(project: Path) -> None:
    res = CliRunner().invoke(app, ["learn", "--lang", "fr"])
    assert res.exit_code == 0 and "résumé" in res.stdout
    assert_reads_french(res.stdout)
    ws = project / "cand"
    new = CliRunner().invoke(app, ["challenge", "new", "triage", str(ws), "--lang", "fr"])
    assert new.exit_code == 0, new.output
    rep = CliRunner().invoke(app, ["challenge", "report", str(ws)])
    assert rep.exit_code == 0, rep.output
    assert "Rapport de défi" in rep.stdout
    assert_reads_french(rep.stdout)
    assert json.loads(CliRunner().invoke(app, ["challenge", "report", str(ws), "--json"]).stdout)
