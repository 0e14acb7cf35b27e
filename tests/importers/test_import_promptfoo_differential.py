"""Differential tests: what `prompteur import promptfoo` renders equals what promptfoo builds.

For every config under tests/fixtures/field/promptfoo/ (real configs from promptfoo's
examples, MIT, with their LICENSE), promptfoo itself (`promptfoo eval --providers echo`, the
pinned npm package) gives the rendered prompt of each test × prompt; the converted suite must
have the same number of cases and, for each case and prompt, render the same messages.

promptfoo runs once per session for all configs (tests/helpers_promptfoo.py). Without it
(PROMPTEUR_PROMPTFOO_DIR unset: scripts/test.sh installs it) these tests skip, with that
reason; under CI they fail instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import helpers_promptfoo
import pytest
import yaml

from prompteur.importers.promptfoo import convert_promptfoo
from prompteur.nunjucks import chat_messages
from prompteur.prompt import load_prompt
from prompteur.suite import SuiteFile

# promptfoo runs once for every config (in the session fixture, counted in the first test):
# about 4 s of CPU per config, two at a time.
pytestmark = pytest.mark.timeout(1800)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "field" / "promptfoo"
# YAML configs, and configs written in JavaScript or TypeScript (read in the embedded engine)
CONFIGS = sorted(
    p for p in FIXTURES.rglob("promptfooconfig*") if p.suffix in (".yaml", ".yml", ".js", ".ts")
)


def messages_of(text: str) -> list[tuple[str, str]]:
    """promptfoo's echoed prompt as its chat providers read it."""
    try:
        chat = chat_messages(text)
    except ValueError:
        chat = None
    return [(r, c.strip()) for r, c in chat] if chat is not None else [("user", text.strip())]


def ours(config: Path, workdir: Path) -> list[list[list[tuple[str, str]]]]:
    """Our rendering: [case][prompt] → messages."""
    cwd = os.getcwd()
    os.chdir(workdir)
    try:
        conversion = convert_promptfoo(config, out=".")
        conversion.write(validate=False)
        # The suite's cases as written (its checks are not built: `similar` needs an extra).
        suite = SuiteFile.model_validate(yaml.safe_load(conversion.suite.read_text("utf-8")))
        prompts = [load_prompt(p) for p in conversion.prompts]
        out = []
        for case in suite.cases:
            row = []
            for p in prompts:
                row.append([(m.role, m.content.strip()) for m in p.render(case.inputs)])
            out.append(row)
        return out
    finally:
        os.chdir(cwd)


def compare(config: Path, ref: helpers_promptfoo.Reference, workdir: Path) -> list[str]:
    """Every difference between promptfoo's and our rendering, in words."""
    if ref.error:
        return [f"promptfoo failed: {ref.error}"]
    rendered = ours(config, workdir)
    n_tests = 1 + max((t for t, _ in ref.rows), default=-1)
    problems = []
    if len(rendered) != n_tests:
        problems.append(f"{len(rendered)} cases, promptfoo built {n_tests} tests")
    for (t, p), row in sorted(ref.rows.items()):
        if t >= len(rendered) or p >= len(rendered[t]):
            continue
        if row["output"] is None:
            continue  # promptfoo itself could not render it (its error is in its report)
        want = messages_of(str(row["output"]))
        got = rendered[t][p]
        if want != got:
            problems.append(f"test {t} prompt {p}: promptfoo {want!r:.300} ≠ ours {got!r:.300}")
    return problems


@pytest.fixture(scope="session")
def references() -> dict[Path, helpers_promptfoo.Reference]:
    if helpers_promptfoo.install_dir() is None:
        reason = (
            "promptfoo (npm) is not installed: scripts/test.sh installs it and sets "
            "PROMPTEUR_PROMPTFOO_DIR"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return helpers_promptfoo.record(CONFIGS)


def test_fixtures_are_there() -> None:
    assert (FIXTURES / "LICENSE").is_file()
    assert len(CONFIGS) >= 15


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_same_prompts_as_promptfoo(
    config: Path, references: dict[Path, helpers_promptfoo.Reference], tmp_path: Path
) -> None:
    problems = compare(config, references[config], tmp_path)
    assert not problems, "\n".join(problems[:10])
