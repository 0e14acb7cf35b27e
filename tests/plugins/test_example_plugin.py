"""Plugins by entry points, proved with a real package: examples/plugin is built and installed
(pip, into a throwaway folder put on PYTHONPATH, never into the shared venv); prompteur then
lists its provider and check and runs a suite with them, without a line of prompteur changed.
Without the folder on the path, neither exists. A plugin that claims a built-in's name does
not replace it.

Also: the built-ins are declared in pyproject.toml exactly as plugins.BUILTIN lists them (the
table used from a source tree without metadata), and each entry loads to what its name says.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers_paths import REPO

from prompteur import plugins


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    pytest.importorskip("hatchling", reason="the example plugin builds with hatchling (dev extra)")
    target = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            str(REPO / "examples" / "plugin"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert list(target.glob("prompteur_example_plugin-*.dist-info/entry_points.txt"))
    yield target


def cli(root: Path, *args: str, path: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("PYTHONPATH", None)
    env.pop("PROMPTEUR_DATABASE_URL", None)
    if path is not None:
        env["PYTHONPATH"] = str(path)
    return subprocess.run(
        [sys.executable, "-m", "prompteur.cli", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


SUITE = """prompts: [sentiment]
models: ["loud:any"]
checks:
  - {type: shouts}
cases:
  - {inputs: {review: "Works great"}}
  - {inputs: {review: "Broke after a day"}}
"""


def test_the_plugin_adds_a_provider_and_a_check(project: Path, installed: Path) -> None:
    models = cli(project, "models", "--json", path=installed)
    assert models.returncode == 0, models.stderr
    loud = [m for m in json.loads(models.stdout) if m["provider"] == "loud"]
    assert loud and loud[0]["ready"] and "upper-cased" in loud[0]["description"]

    checks = cli(project, "checks", "--json", path=installed)
    assert checks.returncode == 0, checks.stderr
    shouts = [c for c in json.loads(checks.stdout) if c["name"] == "shouts"]
    assert shouts == [
        {
            "name": "shouts",
            "from": "prompteur-example-plugin",
            "description": "The output has at least `min_letters` letters, all of them capitals.",
        }
    ]

    (project / "suites" / "loud.yaml").write_text(SUITE)
    run = cli(project, "eval", "suites/loud.yaml", "--no-cache", path=installed)
    assert run.returncode == 0, run.stderr
    assert "2 new results · 2 model calls" in run.stderr
    assert "100.0%" in run.stdout and "loud:any" in run.stdout


def test_without_the_plugin_neither_exists(project: Path) -> None:
    checks = cli(project, "checks", "--json")
    assert "shouts" not in {c["name"] for c in json.loads(checks.stdout)}
    models = cli(project, "models", "--json")
    assert "loud" not in {m["provider"] for m in json.loads(models.stdout)}
    (project / "suites" / "loud.yaml").write_text(SUITE)
    run = cli(project, "eval", "suites/loud.yaml")
    assert run.returncode == 2 and "unknown check type 'shouts'" in run.stderr, run.stderr


def test_a_plugin_cannot_replace_a_built_in(project: Path, tmp_path: Path) -> None:
    """An installed distribution's metadata claiming the provider `openai` and the check
    `contains` (a provider named openai would receive OPENAI_API_KEY): the built-ins are used
    and the listings say why."""
    site = tmp_path / "site"
    info = site / "greedy-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: greedy\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[prompteur.providers]\nopenai = greedy_mod:STOLEN\n\n"
        "[prompteur.checks]\ncontains = greedy_mod:contains\n"
    )
    (site / "greedy_mod.py").write_text(
        "from prompteur.models.providers import Provider\n"
        "STOLEN = Provider('openai', 'greedy_mod:make', 'http://127.0.0.1:9/v1',"
        " 'OPENAI_API_KEY')\n"
        "def contains(**kw):\n    raise RuntimeError('never called')\n"
    )
    models = cli(project, "models", "--json", path=site)
    assert models.returncode == 0, models.stderr
    openai = next(m for m in json.loads(models.stdout) if m["provider"] == "openai")
    assert openai["base_url"] == "https://api.openai.com/v1"
    assert "greedy declares the provider 'openai', a built-in" in models.stderr
    checks = cli(project, "checks", "--json", path=site)
    contains = next(c for c in json.loads(checks.stdout) if c["name"] == "contains")
    assert contains["from"] == "prompteur"
    assert "greedy declares the check 'contains', a built-in" in checks.stderr


def test_the_built_in_table_is_the_pyproject_declaration() -> None:
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["entry-points"]
    assert {g: dict(declared[g]) for g in plugins.GROUPS} == plugins.BUILTIN


@pytest.mark.parametrize("group", plugins.GROUPS)
def test_every_built_in_loads_to_what_its_name_says(group: str) -> None:
    from prompteur.checks import factory
    from prompteur.lint import rules
    from prompteur.models.providers import Provider
    from prompteur.probes import probes

    rule_of = {r.fn: r.id for r in rules()}
    by_probe = {type(p): name for name, p in probes().items()}
    for name, value in plugins.BUILTIN[group].items():
        obj = plugins.Entry(name, group, value, plugins.DIST).load()
        if group == "prompteur.providers":
            assert isinstance(obj, Provider) and obj.name == name
        elif group == "prompteur.checks":
            assert factory(name) is obj
        elif group == "prompteur.probes":
            assert by_probe[obj] == name
        elif group == "prompteur.lint_rules":
            assert rule_of[obj] == name
        else:
            assert callable(obj)


def test_without_metadata_the_built_in_table_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bare source tree (no installed distribution): the built-ins still exist, from the
    static table, and loading one works."""
    plugins.refresh()
    try:
        with monkeypatch.context() as m:
            m.setattr(plugins, "_installed", lambda: ())
            for group in plugins.GROUPS:
                found = plugins.entries(group)
                assert {n: e.value for n, e in found.items()} == plugins.BUILTIN[group]
                assert all(e.builtin for e in found.values())
            from prompteur.models import parse_model_id

            assert parse_model_id("openai:gpt-4o-mini").provider.name == "openai"
    finally:
        plugins.refresh()
