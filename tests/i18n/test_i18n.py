"""Counts, French typography and contractions, and the width of printed tables."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from prompteur.cli import _common as common
from prompteur.i18n import NBSP, NNBSP, colon, count, fill, pct, plural, typography


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        ((1, "case"), "1 case"),
        ((0, "case"), "0 cases"),
        ((2, "case"), "2 cases"),
        ((2, "match"), "2 matches"),
        ((1, "cas", None, "fr"), "1 cas"),
        ((0, "essai", None, "fr"), "0 essai"),
        ((3, "essai", None, "fr"), "3 essais"),
        ((2, "cheval", "chevaux", "fr"), "2 chevaux"),
    ],
)
def test_plural(args: tuple, shown: str) -> None:
    assert plural(*args) == shown


def test_count_translates_the_noun() -> None:
    assert count(1, "attempt") == "1 attempt"
    assert count(2, "attempt", "fr") == "2 essais"
    assert count(1, "failure", "fr") == "1 échec"


def test_typography_puts_non_breaking_spaces_where_french_wants_them() -> None:
    text = typography("Meilleur essai : 3 ; « oui » ? non ! 62,5 % n° 4")
    assert text == (
        f"Meilleur essai{NBSP}: 3{NNBSP}; «{NNBSP}oui{NNBSP}»{NNBSP}? non{NNBSP}! "
        f"62,5{NNBSP}% n°{NBSP}4"
    )
    # Code, URLs and times have no space before their colon: left as they are.
    for code in ("https://exemple.fr/a?b=1", "12:30", "system: tu", "a:b"):
        assert typography(code) == code
    assert typography("Best: 3 ; ok", "en") == "Best: 3 ; ok"
    assert colon("fr") == NBSP + ":" and colon("en") == ":"
    assert pct(0.625, "fr") == f"62,5{NNBSP}%" and pct(0.625) == "62.5%"


@pytest.mark.parametrize(
    ("template", "value", "shown"),
    [
        ("Vos réponses s'adressent à {a}.", "les clients", "Vos réponses s'adressent aux clients."),
        ("Vos réponses s'adressent à {a}.", "le service client", "… au service client."),
        ("Le ton de {a}.", "les juristes", "Le ton des juristes."),
        ("Le ton de {a}.", "le directeur", "Le ton du directeur."),
        ("À {a} de jouer.", "Les équipes", "Aux équipes de jouer."),
        # Not an article: left alone.
        ("Le ton de {a}.", "lequel", "Le ton de lequel."),
        ("Le ton de {a}.", "la directrice", "Le ton de la directrice."),
        ("Vos réponses s'adressent à {a}.", "l'équipe", "Vos réponses s'adressent à l'équipe."),
    ],
)
def test_fill_contracts_french_articles(template: str, value: str, shown: str) -> None:
    out = fill(template, "fr", {"a": value})
    assert out.endswith(shown.removeprefix("…")) if shown.startswith("…") else out == shown
    assert fill(template, "en", {"a": value}) == template.format(a=value)


def test_drafted_french_prompt_contracts(tmp_path) -> None:
    from prompteur.patterns import render

    assert render("audience", "fr", audience="les clients") == (
        "Vos réponses s'adressent aux clients."
    )


def _render(table, width: int, terminal: bool) -> str:
    out = io.StringIO()
    Console(file=out, width=width, force_terminal=terminal, color_system=None).print(table)
    return out.getvalue()


def test_tables_fold_long_words_instead_of_cutting_them() -> None:
    table = common.table(title="Runs")
    for col in ("variant", "sentiment", "pass rate [95% CI]"):
        table.add_column(col)
    table.add_row("sentiment@0123456789ab", "positive-and-negative", "62.5% [30.6%, 86.3%]")
    text = _render(table, 30, terminal=True)
    assert "…" not in text
    body = [line.split("│")[1:-1] for line in text.splitlines() if line.startswith("│")]
    columns = ["".join(cells[i].strip() for cells in body) for i in range(3)]
    assert columns == ["sentiment@0123456789ab", "positive-and-negative", "62.5%[30.6%,86.3%]"]


def test_output_to_a_pipe_gets_the_full_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    console = common.console()
    assert not console.is_terminal and console.width == common.LOG_WIDTH
    table = common.table()
    for col in ("variant", "pass rate [95% CI]", "mean score [95% CI]", "passed/judged"):
        table.add_column(col)
    table.add_row("sentiment@0123456789ab · local:gemma", "62.5% [30.6%, 86.3%]", "0.6", "5/8")
    out = io.StringIO()
    console.file = out
    console.print(table)
    assert "sentiment@0123456789ab · local:gemma" in out.getvalue()
    assert "…" not in out.getvalue()
    monkeypatch.setenv("COLUMNS", "60")
    assert common.console().width == 60


def test_run_words_and_score_intervals_read_french() -> None:
    from prompteur.i18n import NNBSP, run_word, score_interval
    from prompteur.stats import Interval

    assert [run_word(w, "fr") for w in ("done", "failed", "optimize")] == [
        "terminée",
        "échouée",
        "optimisation",
    ]
    assert run_word("done") == "done" and run_word("unknown-kind", "fr") == "unknown-kind"
    assert [run_word(w, "fr") for w in ("high", "bias")] == ["élevée", "biais"]
    i = Interval(0.458, 0.375, 0.5)
    assert score_interval(i) == "0.458 [0.375, 0.500]"
    assert score_interval(i, "fr") == f"0,458 [0,375{NNBSP}; 0,500]"
    assert score_interval(None, "fr") == "—"


def test_money_puts_the_dollar_where_each_language_does() -> None:
    from prompteur.i18n import NBSP, money

    assert money(0.0012) == "$0.0012"
    assert money(0.0012, "fr") == f"0,0012{NBSP}$"
