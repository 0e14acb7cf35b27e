"""The public Python API (docs/python.md runs the full examples on the embedded model): what
`import prompteur` exposes, lazily; a Project is a folder with its prompteur.toml; names are
never paths; a suite given as text stays inside the project; the CLI's eval and the API
write the same run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import prompteur
from prompteur.errors import UserError


def test_the_api_is_exported_lazily() -> None:
    """`import prompteur` loads none of it (the CLI's start-up), and once asked for,
    `prompteur.evaluate` is the function, not a module of that name."""
    code = (
        "import sys, prompteur\n"
        "assert 'prompteur.api' not in sys.modules, 'api loaded by import prompteur'\n"
        "assert callable(prompteur.evaluate) and prompteur.evaluate.__module__ == "
        "'prompteur.api._calls'\n"
        "for name in ('probe', 'optimize', 'render', 'ask', 'Project'):\n"
        "    assert callable(getattr(prompteur, name)), name\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert set(prompteur.__all__) >= {"Project", "evaluate", "probe", "optimize", "render"}


def test_a_project_is_a_folder_with_its_config(project: Path, tmp_path: Path) -> None:
    with prompteur.Project.open(project) as p:
        assert p.root == project.resolve()
        assert p.config.file == project.resolve() / "prompteur.toml"
    # The working folder's project, found upwards, as the command line finds it.
    (project / "prompts" / "deeper").mkdir()
    assert prompteur.Project.open().root == project.resolve()
    bare = tmp_path / "bare"
    bare.mkdir()
    with pytest.raises(UserError, match="not a prompteur project"):
        prompteur.Project.open(bare)
    # A subfolder of a project is not that project when named explicitly.
    with pytest.raises(UserError, match="not a prompteur project"):
        prompteur.Project.open(project / "prompts")
    made = prompteur.Project.init(tmp_path / "new")
    assert [m.role for m in prompteur.render(made, "sentiment", {"review": "ok"})] == [
        "system",
        "user",
    ]


def test_names_are_never_paths_and_suites_stay_inside(project: Path) -> None:
    p = prompteur.Project.open(project)
    assert p.suite_path("sentiment") == project.resolve() / "suites" / "sentiment.yaml"
    assert p.suite_path("suites/sentiment.yaml").resolve() == p.suite_path("sentiment")
    for outside in ("../elsewhere.yaml", "/etc/hosts", "suites/../../x.yaml"):
        with pytest.raises(UserError):
            p.suite_path(outside)
    for ref in ("../sentiment", "prompts/sentiment.prompty", "/tmp/x"):
        with pytest.raises(UserError):
            p.prompt(ref)
    with pytest.raises(UserError):
        prompteur.render(p, "no-such-prompt")
    with pytest.raises(UserError, match="name a suite"):
        prompteur.evaluate(p)


def test_render_converts_typed_inputs_only_when_asked(project: Path) -> None:
    p = prompteur.Project.open(project)
    text = prompteur.render(p, "sentiment", {"review": "Broke after a day."})[-1].content
    assert "Review: Broke after a day.\nSentiment:" in text
    prompt = p.prompt("sentiment")
    assert prompteur.render(p, prompt, {"review": "x"}) == prompt.render({"review": "x"})
