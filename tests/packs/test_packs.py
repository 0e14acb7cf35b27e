"""Domain packs: each initialises into a fresh folder and one of its suites runs on the
embedded model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prompteur.cli import app
from prompteur.packs import packs
from prompteur.prompt import load_prompt
from prompteur.scaffold import init_project

EXPECTED = {"marketing", "seo", "support", "meeting-notes", "fr-admin"}


def test_the_five_packs_with_front_matter() -> None:
    assert {p.name for p in packs()} >= EXPECTED
    for p in packs():
        prompts = [f for t, f in p.files().items() if t.startswith("prompts/")]
        assert 2 <= len(prompts) <= 4
        assert len(p.suites) == len(prompts)
        for f in prompts:
            meta = load_prompt(f).meta
            assert meta.description and meta.tags and meta.domain, f
        assert p.description("fr") != p.description("en")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_init_pack_and_run_a_suite(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PROMPTEUR_DATABASE_URL", raising=False)
    root = tmp_path / name
    res = CliRunner().invoke(app, ["init", str(root), "--pack", name])
    assert res.exit_code == 0, res.output
    monkeypatch.chdir(root)
    suite = sorted((root / "suites").glob("*.yaml"))
    pack_suites = [s for s in suite if s.name not in {"sentiment.yaml", "tri-tickets.yaml"}]
    res = CliRunner().invoke(app, ["eval", str(pack_suites[0]), "-o", "out.json"])
    assert res.exit_code == 0, res.output
    records = json.loads((root / "out.json").read_text())
    rows = records["results"] if "results" in records else records["records"]
    assert rows and all(r["error"] is None for r in rows)
    assert all(r["passed"] is not None for r in rows)


def test_pack_into_existing_project_and_errors(tmp_path: Path) -> None:
    root = tmp_path / "p"
    init_project(root)
    written = init_project(root, pack="seo")
    assert {w.name for w in written} == {
        "seo-title.prompty",
        "meta-description.prompty",
        "seo-title.yaml",
        "meta-description.yaml",
    }
    res = CliRunner().invoke(app, ["init", str(root), "--pack", "seo"])
    assert res.exit_code == 2 and "already exists" in res.output
    res = CliRunner().invoke(app, ["init", str(tmp_path / "q"), "--pack", "sep"])
    assert res.exit_code == 2 and "did you mean 'seo'" in res.output
    assert not (tmp_path / "q" / "prompteur.toml").exists()
    res = CliRunner().invoke(app, ["packs", "--lang", "fr", "--json"])
    assert res.exit_code == 0 and "Référencement" in res.stdout
