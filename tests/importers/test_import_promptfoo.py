"""`prompteur import promptfoo`: a real promptfoo project in, prompt files and a suite out,
loaded back, rendered, and evaluated on the embedded model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from prompteur.checks import registered
from prompteur.cli import app as main_app
from prompteur.cli.imports import import_app
from prompteur.importers.promptfoo import convert_promptfoo, expected_to_assertion
from prompteur.prompt import load_prompt
from prompteur.suite import load_suite

CONFIG = """\
description: Capital cities
prompts:
  - "Country: Italy\\nCapital: Rome\\n\\nCountry: Spain\\nCapital: Madrid\\n\\n\\
    Country: {{ country }}\\nCapital:"
  - id: file://prompts/chat.json
    label: chat
providers:
  - id: openai:chat:gpt-4o-mini
    config:
      temperature: 0
      max_tokens: 4
      stop: ["\\n"]
      apiKey: sk-not-imported
  - id: ollama:chat:llama3
    config:
      apiBaseUrl: http://127.0.0.1:9/v1
      temperature: 0
      max_tokens: 4
      stop: ["\\n"]
defaultTest:
  vars:
    style: one word
  assert:
    - type: not-icontains
      value: "as an ai"
    - type: latency
      threshold: 60000
tests:
  - description: France
    vars:
      country: France
    assert:
      - type: equals
        value: Paris
      - type: javascript
        value: output.length < 50
  - vars:
      country: Japan
    assert:
      - type: icontains-any
        value: [Tokyo, Edo]
        weight: 2
      - type: python
        value: "'o' in output.lower()"
      - type: rouge-n
        value: Tokyo
        threshold: 0.1
  - file://tests.csv
"""

CHAT = """[
  {"role": "system", "content": "Answer with the capital city only, in {{ style }}."},
  {"role": "user", "content": "Country: {{ country }}"}
]
"""

CSV = """country,__expected,__description
Germany,Berlin,plain value
Peru,icontains:lima,
"""


@pytest.fixture
def promptfoo_project(project: Path) -> Path:
    pf = project / "pf"
    (pf / "prompts").mkdir(parents=True)
    (pf / "promptfooconfig.yaml").write_text(CONFIG, encoding="utf-8")
    (pf / "prompts" / "chat.json").write_text(CHAT, encoding="utf-8")
    (pf / "tests.csv").write_text(CSV, encoding="utf-8")
    return pf / "promptfooconfig.yaml"


def _cli() -> typer.Typer:
    cli = typer.Typer()
    cli.add_typer(main_app, name="main")
    cli.add_typer(import_app, name="import")
    return cli


def test_import_then_eval(promptfoo_project: Path, project: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(_cli(), ["import", "promptfoo", str(promptfoo_project), "--name", "caps"])
    assert res.exit_code == 0, res.output
    assert "javascript" in res.output and "promptfooconfig.yaml:" in res.output

    suite_path = project / "suites" / "caps.yaml"
    plain = project / "prompts" / "caps-1.prompty"
    chat = project / "prompts" / "caps-chat.prompty"
    for path in (suite_path, plain, chat, project / "suites" / "caps_promptfoo_checks.py"):
        assert path.is_file(), path

    suite = load_suite(suite_path)
    assert suite.spec.description == "Capital cities"
    assert suite.spec.prompts == ["caps-1", "caps-chat"]
    assert suite.spec.models == [
        "openai:gpt-4o-mini",
        "openai-compatible:llama3@http://127.0.0.1:9/v1",
    ]
    assert {"type": "not-icontains", "value": "as an ai"} in suite.spec.checks
    assert {"type": "latency", "max_ms": 60000.0} in suite.spec.checks
    cases = list(suite.cases())
    assert len(cases) == 4
    france, japan, germany, peru = cases
    assert france.inputs == {"style": "one word", "country": "France"}
    assert france.expected == "Paris"
    assert germany.expected == "Berlin"
    assert {"type": "icontains", "value": "lima"} in peru.checks
    types = [c["type"] for c in japan.checks]  # type: ignore[index]
    assert types == ["icontains-any", "python", "rouge-l"]

    p = load_prompt(chat)
    assert p.model_id == "openai:gpt-4o-mini"
    assert p.params.max_tokens == 4 and p.params.stop == ["\n"]
    messages = p.render(france.inputs)
    assert [(m.role, m.content) for m in messages] == [
        ("system", "Answer with the capital city only, in one word."),
        ("user", "Country: France"),
    ]
    text = load_prompt(plain).render(germany.inputs)
    assert text[0].role == "user" and text[0].content.endswith("Country: Germany\nCapital:")

    # The same conversion as data: every unsupported item says where, what and why.
    res = runner.invoke(
        _cli(), ["import", "promptfoo", str(promptfoo_project), "--name", "caps", "--json"]
    )
    assert res.exit_code == 2  # files exist: refused without --force
    assert "already exists" in res.output
    res = runner.invoke(
        _cli(),
        ["import", "promptfoo", str(promptfoo_project), "--name", "caps", "--json", "--force"],
    )
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    skipped = {(s["what"], s["where"]) for s in report["unsupported"]}
    lines = CONFIG.splitlines()
    js_line = lines.index("      - type: javascript") + 1
    key_line = lines.index("      apiKey: sk-not-imported") + 1
    assert ("javascript", f"promptfooconfig.yaml:{js_line} tests[0].assert[1]") in skipped
    assert (
        "config.apiKey",
        f"promptfooconfig.yaml:{key_line} providers[0].config.apiKey",
    ) in skipped
    assert any("rouge-l" in n for n in report["notes"])

    # The converted suite runs on the embedded model.
    res = runner.invoke(_cli(), ["main", "eval", str(suite_path), "-m", "local"])
    assert res.exit_code == 0, res.output
    assert "8 new results" in res.output


def test_expected_cells() -> None:
    assert expected_to_assertion("Paris") == {"type": "equals", "value": "Paris"}
    assert expected_to_assertion("contains: Paris") == {"type": "contains", "value": "Paris"}
    assert expected_to_assertion("not-icontains:sorry") == {
        "type": "not-icontains",
        "value": "sorry",
    }
    assert expected_to_assertion("levenshtein(3):Paris") == {
        "type": "levenshtein",
        "value": "Paris",
        "threshold": 3.0,
    }
    assert expected_to_assertion("is-json") == {"type": "is-json"}
    assert expected_to_assertion("fn:output.length > 3")["type"] == "javascript"
    assert expected_to_assertion("grade: is polite")["type"] == "llm-rubric"
    # A colon in a plain answer is still a plain answer.
    assert expected_to_assertion("Note: 3") == {"type": "equals", "value": "Note: 3"}


def test_judges_follow_the_registry(project: Path) -> None:
    pf = project / "pf.yaml"
    pf.write_text(
        "prompts: ['Q: {{ q }}']\nproviders: [openai:gpt-4o-mini]\n"
        "tests:\n  - vars: {q: hi}\n    assert:\n"
        "      - {type: llm-rubric, value: is friendly}\n"
        "      - {type: similar, value: hello, threshold: 0.8}\n"
        "      - {type: contains-json}\n"
        "      - {type: cost, threshold: 0.01}\n",
        encoding="utf-8",
    )
    conv = convert_promptfoo(pf, out=project, name="judged")
    skipped = {s.what for s in conv.skipped}
    assert ("llm-rubric" in skipped) == ("rubric" not in registered())
    assert ("similar" in skipped) == ("similar" not in registered())
    text = conv.files[project / "suites" / "judged.yaml"]
    assert "type: is-json" in text and "max_usd: 0.01" in text
    conv.write()
    assert load_suite(project / "suites" / "judged.yaml").count_cases() == 1


def test_errors_exit_2_without_traceback(project: Path) -> None:
    res = CliRunner().invoke(_cli(), ["import", "promptfoo", "missing.yaml"])
    assert res.exit_code == 2
    assert "error:" in res.output and "promptfoo config not found" in res.output
    assert not (project / "suites" / "missing.yaml").exists()


def test_python_file_assertion_adapter(project: Path) -> None:
    (project / "grade.py").write_text(
        "def get_assert(output, context):\n"
        "    ok = context['vars']['q'] in output\n"
        "    return {'pass': ok, 'score': 0.5, 'reason': 'echo'}\n",
        encoding="utf-8",
    )
    (project / "pf.yaml").write_text(
        "prompts: ['{{ q }}']\nproviders: [openai:gpt-4o-mini]\n"
        "tests:\n  - vars: {q: hi}\n    assert: [{type: python, value: file://grade.py}]\n",
        encoding="utf-8",
    )
    conv = convert_promptfoo(project / "pf.yaml", out=project, name="py")
    conv.write()
    import asyncio

    from prompteur.checks import CheckContext, build

    spec = load_suite(project / "suites" / "py.yaml").spec.cases[0].checks[0]
    check = build(spec)
    good = asyncio.run(check(CheckContext(output="oh hi", inputs={"q": "hi"})))
    bad = asyncio.run(check(CheckContext(output="nope", inputs={"q": "hi"})))
    assert good.passed and good.reason == "echo"
    assert not bad.passed
