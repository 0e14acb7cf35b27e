"""Chains: validation names file, line and field; runs and suite tests on the embedded model,
stored as runs."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prompteur.chains import ChainExecutor, apply_parse, load_chain, load_chain_suite
from prompteur.chains._spec import ParseSpec
from prompteur.cli import app
from prompteur.config import load_config
from prompteur.errors import UserError
from prompteur.library import Library

OPENER = """---
name: reply-opener
model: {id: local, parameters: {temperature: 0, max_tokens: 16, stop: ["\\n"]}}
inputs:
  sentiment: {kind: string}
---
Sentiment: negative
Opening: We are sorry to read about your experience.

Sentiment: positive
Opening: Thank you so much for your kind words!

Sentiment: {{ sentiment }}
Opening:
"""

CHAIN = """name: review-reply
inputs:
  review: {description: the review}
steps:
  - id: mood
    prompt: sentiment
    parse: {regex: "(positive|negative)"}
  - id: opener
    prompt: reply-opener
    inputs: {sentiment: $steps.mood}
"""


@pytest.fixture
def chain_project(project: Path) -> Path:
    (project / "prompts" / "reply-opener.prompty").write_text(OPENER, encoding="utf-8")
    (project / "review-reply.chain.yaml").write_text(CHAIN, encoding="utf-8")
    return project


def _load(project: Path, text: str) -> UserError:
    path = project / "bad.chain.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError) as info:
        load_chain(path, Library.from_config(load_config()))
    return info.value


def test_unknown_step_reference_names_line_and_field(chain_project: Path) -> None:
    err = _load(chain_project, CHAIN.replace("$steps.mood", "$steps.moood"))
    assert "unknown step 'moood'" in err.message
    assert err.line == 10 and err.field == "steps[1].inputs.sentiment"


def test_cycle_is_refused(chain_project: Path) -> None:
    text = """inputs: [review]
steps:
  - id: a
    prompt: reply-opener
    inputs: {sentiment: $steps.b}
  - id: b
    prompt: reply-opener
    inputs: {sentiment: $steps.a}
"""
    err = _load(chain_project, text)
    assert "cycle" in err.message and err.field and err.field.startswith("steps[")


def test_missing_input_and_unknown_prompt(chain_project: Path) -> None:
    err = _load(chain_project, CHAIN.replace("    inputs: {sentiment: $steps.mood}\n", ""))
    assert "nothing fills the input 'sentiment'" in err.message and err.line == 8
    err = _load(chain_project, CHAIN.replace("prompt: sentiment", "prompt: sentimnt"))
    assert err.field == "steps[0].prompt" and err.line == 6
    err = _load(chain_project, CHAIN.replace("$steps.mood", "$inputs.nope"))
    assert "unknown chain input 'nope'" in err.message


def test_parse_regex_and_json() -> None:
    assert apply_parse(" It is negative.", ParseSpec(regex="(positive|negative)")) == "negative"
    assert apply_parse('x {"a": 2} y', ParseSpec.model_validate({"json": "a"})) == 2
    with pytest.raises(ValueError, match="no match"):
        apply_parse("neutral", ParseSpec(regex="(positive|negative)"))


def test_chain_runs_on_the_embedded_model(chain_project: Path) -> None:
    config = load_config()
    chain = load_chain(chain_project / "review-reply.chain.yaml", Library.from_config(config))

    async def go() -> object:
        ex = ChainExecutor(chain, config)
        try:
            return await ex.run({"review": "It broke after two days, awful."})
        finally:
            await ex.aclose()

    out = asyncio.run(go())
    assert out.error is None, out.error
    assert [s.id for s in out.steps] == ["mood", "opener"]
    assert out.steps[0].value == "negative"
    assert "sorry" in out.output.lower()
    with pytest.raises(UserError, match="missing input"):
        chain.resolve_inputs({})


def test_chain_test_is_stored_as_a_run_with_step_checks(chain_project: Path) -> None:
    suite = chain_project / "suites" / "review-reply.yaml"
    suite.write_text(
        """checks:
  - {step: mood, type: equals}
  - {type: icontains-any, value: [sorry, thank]}
cases:
  - {inputs: {review: "It broke after two days."}, expected: negative}
  - {inputs: {review: "Fantastic quality, I love it."}, expected: positive}
  - {inputs: {review: "Great."}, expected: negative}
""",
        encoding="utf-8",
    )
    res = CliRunner().invoke(
        app, ["chain", "test", "review-reply.chain.yaml", "--suite", str(suite), "-o", "r.json"]
    )
    assert res.exit_code == 0, res.output
    report = json.loads((chain_project / "r.json").read_text())
    rows = report["results"] if "results" in report else report["records"]
    assert len(rows) == 3
    by_review = {r["inputs"]["review"]: r for r in rows}
    wrong = by_review["Great."]  # the case's expected label is deliberately wrong
    assert wrong["passed"] is False
    assert any(c["name"] == "mood: equals" and not c["passed"] for c in wrong["checks"])
    steps = next(c for c in wrong["checks"] if c["name"] == "steps")["steps"]
    assert [s["id"] for s in steps] == ["mood", "opener"]
    assert by_review["It broke after two days."]["passed"] is True


def test_bad_suite_step_and_bad_chain_exit_2(chain_project: Path) -> None:
    suite = chain_project / "suites" / "bad.yaml"
    suite.write_text(
        "checks:\n  - {step: nope, type: equals}\ncases:\n  - {inputs: {review: x}}\n",
        encoding="utf-8",
    )
    res = CliRunner().invoke(
        app, ["chain", "test", "review-reply.chain.yaml", "--suite", str(suite)]
    )
    assert res.exit_code == 2 and "unknown step 'nope'" in res.output
    assert "Traceback" not in res.output
    cs_path = chain_project / "suites" / "missing.yaml"
    cs_path.write_text("cases:\n  - {inputs: {text: x}}\n", encoding="utf-8")
    lib = Library.from_config(load_config())
    chain = load_chain(chain_project / "review-reply.chain.yaml", lib)
    with pytest.raises(UserError) as info:
        load_chain_suite(cs_path, chain)
    assert info.value.line == 2 and "unknown input 'text'" in info.value.message
    assert "review" in (info.value.hint or "")


@pytest.mark.parametrize("where", ["absolute", "above"])
def test_a_chain_suite_finds_a_check_file_only_inside_the_project(
    project: Path, tmp_path: Path, where: str
) -> None:
    """As for any suite: a python check's file is resolved beside the suite, inside the
    project; a file outside it is refused before anything runs."""
    outside = tmp_path / "evil.py"
    outside.write_text("def check(output, ctx):\n    return True\n")
    (project / "suites" / "ok.py").write_text("def check(output, ctx):\n    return True\n")
    (project / "one.chain.yaml").write_text(
        "name: one\ninputs:\n  review: {description: r}\nsteps:\n  - id: mood\n"
        "    prompt: sentiment\n"
    )
    chain = load_chain(project / "one.chain.yaml", Library.from_config(load_config()))
    cases = "cases:\n  - {inputs: {review: fine}}\n"
    (project / "suites" / "in.yaml").write_text(
        cases + "checks:\n  - {type: python, value: 'ok.py:check'}\n"
    )
    ok = load_chain_suite(project / "suites" / "in.yaml", chain)
    assert ok.checks[0][1].name == "python"
    value = str(outside) if where == "absolute" else "../evil.py"
    (project / "suites" / "out.yaml").write_text(
        cases + f"checks:\n  - {{type: python, value: '{value}:check'}}\n"
    )
    with pytest.raises(UserError) as err:
        load_chain_suite(project / "suites" / "out.yaml", chain)
    assert err.value.file and err.value.file.endswith("out.yaml")
