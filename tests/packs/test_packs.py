"""Domain packs: eight domains, six prompt families each in English and French, suites of at
least 20 cases whose checks a weak answer fails; installed and updated without touching a
user's edits (three-way); measured into a model card."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import prompty
import pytest
import yaml
from typer.testing import CliRunner

from prompteur.checks import CheckContext, build
from prompteur.cli import app
from prompteur.errors import UserError
from prompteur.packs import (
    Pack,
    get_pack,
    install,
    manifest,
    measure,
    packs,
    suite_version,
    update,
    write_card,
)
from prompteur.prompt import load_prompt
from prompteur.scaffold import init_project
from prompteur.suite import load_suite

DOMAINS = {
    "marketing",
    "seo",
    "support",
    "meeting-notes",
    "fr-admin",
    "legal",
    "hr",
    "ecommerce",
}


def _suites_of(pack: Pack) -> dict[str, Any]:
    """prompt name → its suite."""
    out = {}
    for path in pack.suite_files():
        suite = load_suite(path)
        for name in suite.spec.prompts:
            out[name] = suite
    return out


def test_eight_domains_six_families_in_english_and_french() -> None:
    assert {p.name for p in packs()} >= DOMAINS
    for pack in packs():
        prompts = [load_prompt(f) for f in pack.prompt_files()]
        suites = _suites_of(pack)
        families: dict[str, set[str]] = {}
        for p in prompts:
            meta = p.meta
            assert meta.description and meta.tags and meta.domain, p.source
            assert meta.metadata["pack"] == pack.name, p.source
            families.setdefault(meta.metadata["family"], set()).add(meta.metadata["lang"])
            assert p.name in suites, f"no suite names {p.name}"
            assert len(list(suites[p.name].cases())) >= 20, p.name
        assert len(families) >= 6, pack.name
        assert all(langs == {"en", "fr"} for langs in families.values()), families
        assert pack.description("fr") != pack.description("en")
        assert pack.version


def test_no_demonstration_is_a_case_of_its_suite() -> None:
    for pack in packs():
        suites = _suites_of(pack)
        for f in pack.prompt_files():
            p = load_prompt(f)
            key = next(iter(p.meta.inputs))
            shown = {str(ex.get(key, "")).strip().lower() for ex in p.meta.examples}
            for case in suites[p.name].cases():
                assert str(case.inputs[key]).strip().lower() not in shown, (p.name, case.id)


def _pass_rate(suite: Any, answer: Any) -> float:
    """The share of cases whose checks pass when every output is `answer(case)`."""

    async def run() -> float:
        passed = total = 0
        for case in suite.cases():
            checks = [build(c) for c in [*suite.spec.checks, *case.checks]]
            ctx = CheckContext(output=answer(case), expected=case.expected, inputs=case.inputs)
            results = [await c(ctx) for c in checks]
            passed += all(r.passed for r in results)
            total += 1
        return passed / total

    return asyncio.run(run())


@pytest.mark.parametrize("name", sorted(DOMAINS))
def test_a_weak_answer_fails_the_suites(name: str) -> None:
    """What a weak prompt produces — nothing, the input echoed, one constant label, the
    first demonstration's answer copied — passes at most about half of any suite."""
    pack = get_pack(name)
    prompts = {load_prompt(f).name: load_prompt(f) for f in pack.prompt_files()}
    too_easy = []
    for pname, suite in _suites_of(pack).items():
        prompt = prompts[pname]
        key = next(iter(prompt.meta.inputs))
        labels = Counter(str(c.expected) for c in suite.cases() if isinstance(c.expected, str))
        common = labels.most_common(1)[0][0] if labels else "ok"
        first = prompt.meta.examples[0]
        copied = str(next(v for k, v in first.items() if k not in prompt.meta.inputs))
        weak = {
            "empty": lambda _c: "",
            "echo": lambda c, key=key: str(c.inputs[key]),
            "constant": lambda _c, common=common: common,
            "copied": lambda _c, copied=copied: copied,
        }
        for what, answer in weak.items():
            rate = _pass_rate(suite, answer)
            if rate > 0.55:
                too_easy.append(f"{pname}: the {what} answer passes {rate:.0%}")
    assert not too_easy


def test_every_pack_prompt_loads_in_prompty_runtime(tmp_path: Path) -> None:
    for pack in packs():
        for f in pack.prompt_files():
            ours = load_prompt(f)
            agent = prompty.load(str(f))
            inputs = {k: "x" for k in ours.meta.inputs}
            theirs = prompty.prepare(agent, inputs | {"examples": ours.meta.examples})
            got = [(m.role, "".join(x.value for x in m.parts)) for m in theirs]
            assert got == [(m.role, m.content) for m in ours.render(inputs)], f


# ---- install and update ----------------------------------------------------------------------


def _pack(root: Path, version: str, files: dict[str, str]) -> Pack:
    folder = root / f"v{version}"
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text, encoding="utf-8")
    return Pack("demo", folder, version, {"en": "demo", "fr": "démo"})


LINES = "".join(f"line {i}\n" for i in range(1, 21))


def test_update_never_overwrites_a_file_the_user_changed(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    init_project(project)
    v1 = _pack(
        tmp_path,
        "1",
        {
            "prompts/untouched.prompty": "one\n",
            "prompts/mine-only.prompty": "keep\n",
            "prompts/both.prompty": LINES,
            "prompts/clash.prompty": "a\nb\nc\n",
            "prompts/deleted.prompty": "gone\n",
            "suites/dropped.yaml": "old\n",
        },
    )
    install(project, v1)
    p = project / "prompts" / "demo"
    (p / "mine-only.prompty").write_text("keep, edited by me\n", encoding="utf-8")
    (p / "both.prompty").write_text(LINES.replace("line 2\n", "line 2 (mine)\n"), "utf-8")
    (p / "clash.prompty").write_text("a\nB (mine)\nc\n", encoding="utf-8")
    (p / "deleted.prompty").unlink()
    v2 = _pack(
        tmp_path,
        "2",
        {
            "prompts/untouched.prompty": "one, improved\n",
            "prompts/mine-only.prompty": "keep\n",
            "prompts/both.prompty": LINES.replace("line 19\n", "line 19 (pack)\n"),
            "prompts/clash.prompty": "a\nB (pack)\nc\n",
            "prompts/deleted.prompty": "gone, improved\n",
            "prompts/new.prompty": "new\n",
        },
    )
    before = {f: f.read_text() for f in p.iterdir()}
    dry = update(project, v2, dry_run=True)
    assert {f: f.read_text() for f in p.iterdir()} == before  # a dry run writes nothing
    assert manifest(project, "demo")["version"] == "1"
    result = update(project, v2)
    status = {c.target.rsplit("/", 1)[1]: c.status for c in result.changes}
    assert status == {c.target.rsplit("/", 1)[1]: c.status for c in dry.changes}
    assert status == {
        "untouched.prompty": "updated",
        "mine-only.prompty": "kept",
        "both.prompty": "merged",
        "clash.prompty": "conflict",
        "deleted.prompty": "deleted",
        "new.prompty": "added",
        "dropped.yaml": "removed",
    }
    assert (p / "untouched.prompty").read_text() == "one, improved\n"
    assert (p / "new.prompty").read_text() == "new\n"
    assert not (p / "deleted.prompty").exists()
    # The user's files are untouched; the merges wait beside them.
    assert (p / "mine-only.prompty").read_text() == "keep, edited by me\n"
    assert "line 2 (mine)" in (p / "both.prompty").read_text()
    assert "line 19 (pack)" not in (p / "both.prompty").read_text()
    merged = (p / "both.prompty.pack-new").read_text()
    assert "line 2 (mine)" in merged and "line 19 (pack)" in merged and "<<<<<<<" not in merged
    clash = (p / "clash.prompty.pack-new").read_text()
    assert "B (mine)" in clash and "B (pack)" in clash and "<<<<<<< your file" in clash
    assert (p / "clash.prompty").read_text() == "a\nB (mine)\nc\n"
    info = manifest(project, "demo")
    assert info["version"] == "2"
    # A change the user has not taken yet is proposed again next time (its base stays).
    assert info["files"]["prompts/demo/both.prompty"]["version"] == "1"
    assert info["files"]["prompts/demo/untouched.prompty"]["version"] == "2"
    again = update(project, v2)
    assert {c.target.rsplit("/", 1)[1]: c.status for c in again.changes}["both.prompty"] == (
        "merged"
    )
    # Once the user takes the merge, the file is theirs and up to date.
    (p / "both.prompty.pack-new").replace(p / "both.prompty")
    last = update(project, v2)
    assert {c.target.rsplit("/", 1)[1]: c.status for c in last.changes}["both.prompty"] == "kept"


def test_install_refuses_and_writes_nothing(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    init_project(project)
    pack = get_pack("support")
    install(project, pack)
    with pytest.raises(UserError, match="installed already"):
        install(project, pack)
    other = tmp_path / "other"
    init_project(other)
    clash = other / "prompts" / "support" / "refund-request.prompty"
    clash.parent.mkdir(parents=True)
    clash.write_text("mine\n")
    with pytest.raises(UserError, match="already exists; nothing was written"):
        install(other, pack)
    assert clash.read_text() == "mine\n" and manifest(other, "support") is None
    assert not (other / "suites" / "support").exists()
    with pytest.raises(UserError, match="not installed"):
        update(other, get_pack("hr"))


def test_cli_install_update_shows_the_diff(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMPTEUR_DATABASE_URL", raising=False)
    root = tmp_path / "proj"
    init_project(root)
    monkeypatch.chdir(root)
    runner = CliRunner()
    res = runner.invoke(app, ["packs", "install", "legal"])
    assert res.exit_code == 0, res.output
    target = "prompts/legal/notice-period.prompty"
    shipped = (root / target).read_text()
    # As if the pack had shipped an older version of that file, which the user then edited.
    old = shipped.replace("Nothing else.", "Nothing more.")
    base = root / ".packs" / "legal" / "base" / target
    base.write_text(old, encoding="utf-8")
    data = json.loads((root / ".packs" / "legal" / "manifest.json").read_text())
    import hashlib

    data["files"][target]["sha256"] = hashlib.sha256(old.encode()).hexdigest()
    data["version"] = "0.9.0"
    (root / ".packs" / "legal" / "manifest.json").write_text(json.dumps(data))
    mine = old.replace("name: notice-period", "name: notice-period\n# reviewed by our team")
    (root / target).write_text(mine, encoding="utf-8")
    res = runner.invoke(app, ["packs", "update", "legal"])
    assert res.exit_code == 0, res.output
    shipped_version = get_pack("legal").version
    assert f"0.9.0 → {shipped_version}" in res.output and "merged cleanly into" in res.output
    assert "-" in res.output and "+" in res.output and "Nothing else." in res.output
    assert (root / target).read_text() == mine  # never overwritten
    proposal = (root / (target + ".pack-new")).read_text()
    assert "# reviewed by our team" in proposal and "Nothing else." in proposal
    res = runner.invoke(app, ["packs", "update", "legal", "--json"])
    files = {f["file"]: f["status"] for f in json.loads(res.output)["files"]}
    assert files == {target: "merged"}
    res = runner.invoke(app, ["init", str(root), "--pack", "legal"])
    assert res.exit_code == 2 and "installed already" in res.output
    res = runner.invoke(app, ["packs", "show", "legal", "--json"])
    shown = json.loads(res.output)
    assert shown["version"] == shipped_version and len(shown["prompts"]) == 12
    # Wide enough that no header wraps (a narrow terminal folds them, never cuts them).
    res = runner.invoke(app, ["packs", "--lang", "fr"], env={"COLUMNS": "200"})
    assert "taux de réussite mesuré" in res.output and "legal" in res.output


def test_init_pack_then_eval_one_suite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMPTEUR_DATABASE_URL", raising=False)
    root = tmp_path / "proj"
    res = CliRunner().invoke(app, ["init", str(root), "--pack", "support"])
    assert res.exit_code == 0, res.output
    assert manifest(root, "support") is not None
    monkeypatch.chdir(root)
    res = CliRunner().invoke(app, ["eval", "suites/support/ticket-triage.yaml", "-o", "out.json"])
    assert res.exit_code == 0, res.output
    rows = json.loads((root / "out.json").read_text())["results"]
    assert len(rows) == 22 and all(r["error"] is None for r in rows)
    assert all(r["passed"] is not None for r in rows)


def test_measure_writes_the_card_per_model(tmp_path: Path) -> None:
    from prompteur.config import load_config

    src = get_pack("seo")
    prompt = next(f for f in src.prompt_files() if f.name == "search-intent.prompty")
    suite = next(f for f in src.suite_files() if f.name == "search-intent.yaml")
    data = yaml.safe_load(suite.read_text())
    data["cases"] = data["cases"][:4]
    small = _pack(
        tmp_path,
        "3.1",
        {
            "prompts/search-intent.prompty": prompt.read_text(),
            "suites/search-intent.yaml": yaml.safe_dump(data, allow_unicode=True),
        },
    )
    entry = measure(small, "local", load_config(tmp_path))
    figures = entry["prompts"]["search-intent"]
    assert figures["cases"] == 4 and figures["judged"] == 4 and figures["errors"] == 0
    assert 0 <= figures["passed"] <= 4 and figures["family"] == "search-intent"
    assert figures["version"] == load_prompt(prompt).short_version
    shipped = next(f for f in small.suite_files() if f.name == "search-intent.yaml")
    assert figures["suite_version"] == suite_version(shipped) != suite_version(suite)
    assert entry["pack_version"] == "3.1"
    card = small.card_path
    card.write_text("models:\n  openai:gpt-4o-mini: {mean_pass_rate: 0.9}\n")
    write_card(small, "local", entry)
    written = yaml.safe_load(card.read_text())
    assert set(written["models"]) == {"local", "openai:gpt-4o-mini"}  # others are kept
    assert written["models"]["local"]["prompts"]["search-intent"]["passed"] == figures["passed"]
    assert written["version"] == "3.1" and card.read_text().startswith("# The pack's model card")


def test_shipped_cards_match_the_shipped_prompts() -> None:
    """A card says which version of each prompt it measured: a prompt edited since shows."""
    for pack in packs():
        card = pack.card()
        if not card:
            continue
        versions = {load_prompt(f).name: load_prompt(f).short_version for f in pack.prompt_files()}
        suites = {f.name: suite_version(f) for f in pack.suite_files()}
        for model, entry in card["models"].items():
            for name, figures in entry["prompts"].items():
                assert versions.get(name) == figures["version"], (pack.name, model, name)
                # and the suite as shipped: a case added or a check changed since shows
                assert suites.get(figures["suite"]) == figures["suite_version"], (
                    pack.name,
                    model,
                    name,
                )
                assert figures["judged"] >= 20, (pack.name, model, name)
