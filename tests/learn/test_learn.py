"""Lessons: every reference solution passes its own grading on the embedded model and the
naive starter fails it; progress is saved; the CLI lists, shows and grades."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prompteur.cli import app
from prompteur.config import load_config
from prompteur.learn import check_text, get_lesson, lessons, load_progress, record_attempt


def test_five_lessons_in_both_languages() -> None:
    all_lessons = lessons()
    assert len(all_lessons) >= 5
    for les in all_lessons:
        for field in ("title", "summary", "explanation", "exercise"):
            en, fr = les.text(field, "en"), les.text(field, "fr")
            assert en and fr and en != fr, (les.id, field)


@pytest.mark.parametrize("lesson", [les.id for les in lessons()])
def test_solution_passes_and_starter_fails(lesson: str, project: Path) -> None:
    les = get_lesson(lesson)
    config = load_config()
    good = check_text(les, les.solution, config, lang="fr")
    assert good.passed, good.feedback
    naive = check_text(les, les.starter, config, lang="en")
    assert not naive.passed, naive.feedback
    assert naive.score < good.score
    assert naive.feedback  # it says what failed


def test_progress_is_kept_and_a_pass_stays(project: Path) -> None:
    state = project / ".prompteur"
    record_attempt(state, "few-shot", False, 0.25)
    record_attempt(state, "few-shot", True, 0.875)
    entry = record_attempt(state, "few-shot", False, 0.5)
    assert entry["attempts"] == 3 and entry["passed"] is True and entry["best"] == 0.875
    assert load_progress(state)["few-shot"]["passed"] is True


def test_cli_learn_flow(project: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["learn", "--lang", "fr", "--json"])
    assert res.exit_code == 0
    assert [r["id"] for r in json.loads(res.stdout)][:2] == ["few-shot", "label-words"]
    res = runner.invoke(app, ["learn", "few-shot", "--lang", "fr"])
    assert res.exit_code == 0 and "modèle *de base*" in res.stdout
    exercise = project / "learn" / "restaurant-review.prompty"
    assert exercise.read_text() == get_lesson("few-shot").starter
    res = runner.invoke(app, ["learn", "few-shot", "--check", str(exercise)])
    assert res.exit_code == 1 and "Not yet" in res.stdout
    sol = runner.invoke(app, ["learn", "few-shot", "--solution"])
    exercise.write_text(sol.stdout, encoding="utf-8")
    res = runner.invoke(app, ["learn", "few-shot", "--check", str(exercise), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["progress"]["passed"] is True
    res = runner.invoke(app, ["learn", "nope"])
    assert res.exit_code == 2 and "no lesson 'nope'" in res.output
    res = runner.invoke(app, ["learn", "--lang", "de"])
    assert res.exit_code == 2 and "--lang" in res.output
