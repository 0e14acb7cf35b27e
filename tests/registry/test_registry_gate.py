"""The promotion gate, rollback and the audit log end to end: the embedded model runs the
starter project's sentiment suite (12 cases) on real SQLite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prompteur.cli import app
from prompteur.config import load_config
from prompteur.errors import UserError
from prompteur.library import Library
from prompteur.registry import audit_log, labels_of, move_label, promote
from prompteur.store import Store

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def working_version(root: Path) -> str:
    return Library(root / "prompts").get("sentiment").version


def break_labels(root: Path) -> None:
    """A realistic mistake: the few-shot examples renamed to good/bad while the suite still
    expects positive/negative. The embedded model follows its examples: every case fails."""
    path = root / "prompts" / "sentiment.prompty"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("label: positive", "label: good").replace("label: negative", "label: bad"),
        encoding="utf-8",
    )


GATE_SUITE = """\
description: six cases the starter prompt gets right (few calls on a shared machine)
prompts: [sentiment]
checks: [{type: equals}]
cases:
  - inputs: {review: "Arrived quickly and works exactly as described."}
    expected: positive
  - inputs: {review: "Stopped charging after three days. Very disappointed."}
    expected: negative
  - inputs: {review: "My kids love it, best purchase this year."}
    expected: positive
  - inputs: {review: "Customer service ignored my three emails."}
    expected: negative
  - inputs: {review: "Solid build and a fair price. Recommended."}
    expected: positive
  - inputs: {review: "The screen cracked the first time I dropped it on the sofa."}
    expected: negative
"""


def _write_gate_suite(root: Path) -> None:
    (root / "suites" / "gate.yaml").write_text(GATE_SUITE, encoding="utf-8")
    toml = root / "prompteur.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8") + '\n[registry.suites]\nsentiment = "suites/gate.yaml"\n',
        encoding="utf-8",
    )


_WARM: dict[str, Path] = {}


def warm_cache(factory: pytest.TempPathFactory) -> Path:
    """A store whose response cache holds the embedded model's answers to the gate suite for
    the starter prompt and for its broken variant: computed once per test session (12
    calls; test_regress.py shares it through this module), copied into each test's project,
    so the tests exercise the gate on real answers without paying for them again on a
    shared 2-core machine."""
    if "db" in _WARM:
        return _WARM["db"]
    import asyncio

    from prompteur.evaluation import evaluate_plan, make_plan
    from prompteur.scaffold import init_project

    root = factory.mktemp("warm") / "proj"
    init_project(root)
    _write_gate_suite(root)
    config = load_config(root)
    store = Store(f"sqlite:///{root / 'warm.db'}")
    for step in ("good", "bad"):
        if step == "bad":
            break_labels(root)
        plan = make_plan(config, store, str(root / "suites" / "gate.yaml"))
        asyncio.run(evaluate_plan(config, store, plan))
    store.close()
    _WARM["db"] = root / "warm.db"
    return _WARM["db"]


@pytest.fixture(scope="session")
def warm_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return warm_cache(tmp_path_factory)


@pytest.fixture
def gated(project: Path, warm_store: Path) -> Path:
    """The starter project, its sentiment prompt judged by a six-case suite named in the
    project's config, with the warm response cache. Six cases that all flip give an exact
    McNemar p of 0.031."""
    import shutil

    _write_gate_suite(project)
    (project / ".prompteur").mkdir(exist_ok=True)
    shutil.copyfile(warm_store, project / ".prompteur" / "prompteur.db")
    return project


def open_store(root: Path) -> Store:
    return Store(load_config(root).database_url)


def test_promote_refuse_force_rollback_audit(gated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = gated
    monkeypatch.setenv("PROMPTEUR_ACTOR", "release-bot")
    good = working_version(project)
    code, out, err = run("promote", "sentiment", "--to", "production")
    assert code == 0, err
    assert "promoted sentiment@" in out and "had no holder" in out
    store = open_store(project)
    assert labels_of(store, "sentiment") == {"production": good}
    [first] = audit_log(store, "sentiment")
    assert (first.actor, first.action, first.forced) == ("release-bot", "promote", False)
    ev = first.evidence or {}
    assert ev["verdict"] == "passed" and ev["holder"] is None and ev["model"] == "local"
    assert ev["candidate"]["judged"] == 6 and ev["candidate"]["pass_rate"] >= 0.8
    assert store.get_run(ev["run"]).plan["kind"] == "promote"

    break_labels(project)
    bad = working_version(project)
    runs_before = len(store.runs(100))
    code, out, err = run("promote", f"sentiment@{bad[:10]}", "--to", "production")
    assert code == 1
    assert "refused sentiment@" in out
    assert "under the threshold 80%" in out and "significantly worse than" in out
    assert "--force --reason" in err
    assert labels_of(store, "sentiment") == {"production": good}
    assert len(audit_log(store)) == 1  # a refusal moves nothing and logs no move
    assert len(store.runs(100)) == runs_before + 1  # ... but its run is kept

    code, _, err = run("promote", "sentiment", "--force")
    assert code == 2 and "--force needs --reason" in err
    assert len(store.runs(100)) == runs_before + 1  # checked before any model call

    code, out, err = run(
        "promote", "sentiment", "--force", "--reason", "hotfix approved by legal", "--json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["moved"] and data["forced"] and not data["gate_passed"]
    assert labels_of(store, "sentiment") == {"production": bad}
    forced = audit_log(store, "sentiment")[-1]
    assert forced.forced and forced.reason == "hotfix approved by legal"
    assert forced.from_version == good and forced.to_version == bad
    paired = (forced.evidence or {})["paired"]
    assert paired["only_a"] == 6 and paired["only_b"] == 0 and paired["p_value"] < 0.05
    assert (forced.evidence or {})["holder"]["version"] == good

    code, out, err = run("rollback", "sentiment", "--reason", "customers complain")
    assert code == 0, err
    assert labels_of(store, "sentiment") == {"production": good}
    code, out, _ = run("audit", "sentiment")
    assert code == 0
    for text in ("promote", "FORCED", "rollback", "hotfix approved by legal", "release-bot"):
        assert text in out, text
    assert "undoes step 2" in out and "McNemar p =" in out
    code, out, _ = run("audit", "--json", "--label", "production")
    moves = json.loads(out)
    assert [m["action"] for m in moves] == ["promote", "promote", "rollback"]
    assert [m["forced"] for m in moves] == [False, True, False]
    code, _, err = run("rollback", "sentiment")  # the first promotion had no holder
    assert code == 2 and "no previous holder" in err
    store.close()


def test_the_paired_test_alone_can_refuse(gated: Path) -> None:
    """Above the threshold is not enough: significantly worse than the holder refuses too;
    a harmless change passes."""
    project = gated
    config = load_config(project)
    store = Store(config.database_url)
    good = working_version(project)
    first = promote(store, config, "sentiment", None, "production", actor="t")
    assert first.moved and first.gate_passed

    path = project / "prompts" / "sentiment.prompty"
    original = path.read_text(encoding="utf-8")
    # Only the description changes: same messages, same outputs (from the cache).
    path.write_text(original.replace("Classify the sentiment of a product", "Sort a"), "utf-8")
    same = promote(store, config, "sentiment", None, "production", actor="t")
    assert same.gate_passed and same.moved, same.words()
    assert same.comparison is not None and not same.comparison.significant
    assert same.comparison.only_a == same.comparison.only_b == 0

    path.write_text(original, encoding="utf-8")
    break_labels(project)
    worse = promote(store, config, "sentiment", None, "production", actor="t", threshold=0.0)
    assert not worse.moved and len(worse.reasons) == 1
    assert worse.reasons[0].startswith("significantly worse than")
    assert worse.comparison is not None and worse.comparison.p_value < 0.05
    assert labels_of(store, "sentiment")["production"] == same.candidate != good
    store.close()


def test_the_gate_refuses_when_the_label_moves_while_it_runs(gated: Path) -> None:
    project = gated
    config = load_config(project)
    store = Store(config.database_url)
    lib = Library.from_config(config)
    good = lib.get("sentiment")
    lib.save(store, good)
    break_labels(project)
    bad = lib.get("sentiment")
    lib.save(store, bad)
    move_label(store, "sentiment", "staging", good.version, actor="t", reason=None, evidence=None)

    def someone_else_moves(_total: int) -> None:
        move_label(
            store, "sentiment", "staging", bad.version, actor="x", reason=None, evidence=None
        )

    with pytest.raises(UserError, match="moved while you worked"):
        promote(
            store,
            config,
            "sentiment",
            None,
            "staging",
            actor="t",
            threshold=0.0,
            force=True,
            reason="r",
            on_start=someone_else_moves,
        )
    assert labels_of(store, "sentiment") == {"staging": bad.version}
    assert [m.actor for m in audit_log(store, "sentiment")] == ["t", "x"]
    store.close()


def test_which_suite_judges_a_prompt(project: Path) -> None:
    from prompteur.registry import find_suite

    config = load_config(project)
    prompt = Library.from_config(config).get("sentiment")
    assert find_suite(config, prompt).path.name == "sentiment.yaml"  # it names the prompt
    other = project / "suites" / "other.yaml"
    other.write_text(
        (project / "suites" / "sentiment.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    assert find_suite(config, prompt).path.name == "sentiment.yaml"  # its own name wins
    assert find_suite(config, prompt, "other").path == other  # a bare name in suites/
    (project / "suites" / "sentiment.yaml").rename(project / "suites" / "third.yaml")
    with pytest.raises(UserError, match="several suites name the prompt 'sentiment'"):
        find_suite(config, prompt)
    toml = project / "prompteur.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8") + '\n[registry.suites]\nsentiment = "suites/other.yaml"\n',
        encoding="utf-8",
    )
    assert find_suite(load_config(project), prompt).path.name == "other.yaml"
    # The prompt's own front matter comes before the project's config.
    text = prompt.path.read_text(encoding="utf-8")  # type: ignore[union-attr]
    prompt.path.write_text(  # type: ignore[union-attr]
        text.replace(
            "domain: support\n", "domain: support\nmetadata:\n  suite: suites/third.yaml\n"
        ),
        encoding="utf-8",
    )
    moved = Library.from_config(config).get("sentiment")
    assert find_suite(load_config(project), moved).path.name == "third.yaml"
    tickets = Library.from_config(config).get("tri-tickets")
    (project / "suites" / "tri-tickets.yaml").unlink()
    with pytest.raises(UserError, match="no suite judges the prompt 'tri-tickets'") as exc:
        find_suite(config, tickets)
    assert "--suite" in (exc.value.hint or "")


def test_label_set_list_rm_and_gated_labels(project: Path) -> None:
    code, out, err = run("label", "set", "sentiment", "staging", "--actor", "ann")
    assert code == 0, err
    code, out, _ = run("label", "sentiment", "--json")
    [row] = json.loads(out)
    assert (row["label"], row["moved_by"], row["gated"]) == ("staging", "ann", False)
    assert row["version"] == working_version(project)
    code, out, err = run("label", "set", "sentiment@staging", "canary")
    assert code == 0, err
    code, _, err = run("label", "set", "sentiment", "production")
    assert code == 2 and "'production' is gated" in err and "prompteur promote" in err
    toml = project / "prompteur.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8") + '\n[registry]\ngated = ["staging"]\n', "utf-8"
    )
    code, _, err = run("label", "set", "sentiment", "staging")
    assert code == 2 and "'staging' is gated" in err
    code, _, err = run("label", "rm", "sentiment", "canary", "--reason", "done")
    assert code == 0, err
    code, out, _ = run("label", "--json")
    assert [(r["label"], r["gated"]) for r in json.loads(out)] == [("staging", True)]
    toml.write_text(toml.read_text(encoding="utf-8") + "gate = 1\n", "utf-8")
    code, _, err = run("label")
    assert code == 2 and "prompteur.toml" in err and "registry.gate" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["promote", "nope"], "no prompt named 'nope'"),
        (["promote", "sentiment@"], "names no version"),
        (["promote", "sentiment@ffffff"], "no label or version 'ffffff' of 'sentiment'"),
        (["promote", "sentiment", "--to", "bad label"], "not a valid label name"),
        (["promote", "sentiment", "--suite", "missing.yaml"], "suite file not found"),
        (["label", "set", "sentiment"], "takes two arguments"),
        (["label", "a", "b"], "unexpected 'b'"),
        (["rollback", "sentiment"], "never had a label 'production'"),
    ],
)
def test_bad_input_is_a_clear_error(project: Path, args: list[str], message: str) -> None:
    code, _, err = run(*args)
    assert code == 2, err
    assert message in err and "Traceback" not in err


@pytest.mark.postgres
def test_the_gate_on_postgresql(
    gated: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same flow with the store on PostgreSQL (a database of its own), the warm answers
    copied into its response cache: evidence JSON, the conditional move, rollback."""
    from helpers_postgres import fresh_database
    from sqlalchemy import select

    from prompteur.store.tables import CachedResponse

    warm = Store(f"sqlite:///{gated / '.prompteur' / 'prompteur.db'}")
    with warm.session() as s:
        answers = [(r.key, dict(r.response)) for r in s.scalars(select(CachedResponse))]
    warm.close()
    with fresh_database(postgres_url) as url:
        monkeypatch.setenv("PROMPTEUR_DATABASE_URL", url)
        store = Store(url)
        store.cache.put_many(answers)
        good = working_version(gated)
        code, _, err = run("promote", "sentiment", "--to", "production")
        assert code == 0, err
        break_labels(gated)
        code, out, _ = run("promote", "sentiment", "--to", "production")
        assert code == 1 and "significantly worse than" in out
        code, _, err = run("promote", "sentiment", "--force", "--reason", "r", "--json")
        assert code == 0, err
        code, _, err = run("rollback", "sentiment")
        assert code == 0, err
        assert labels_of(store, "sentiment") == {"production": good}
        moves = audit_log(store, "sentiment")
        assert [(m.action, m.forced) for m in moves] == [
            ("promote", False),
            ("promote", True),
            ("rollback", False),
        ]
        ev = moves[1].evidence or {}
        assert ev["verdict"] == "refused" and ev["paired"]["p_value"] < 0.05
        assert all(r.cached for r in store.results(ev["run"]))  # no model call was needed
        store.close()
