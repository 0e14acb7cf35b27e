"""`prompteur regress`: the labelled prompts on the current model (the embedded one, its
answers warm in the cache) and on a "new model" served by the OpenAI-compatible stub on
loopback (benchmarks/stub_server.py), which answers every request with one fixed word."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers_http import stub_server
from test_registry_gate import gated, run, warm_store  # noqa: F401 - fixtures

from prompteur.config import load_config
from prompteur.library import Library
from prompteur.registry import move_label
from prompteur.registry._paired import Tally, compare
from prompteur.registry._regress import PromptRegression, Regression, _adjust
from prompteur.runner import ResultRecord
from prompteur.store import Store

SECRET = "sk-test-never-stored-5c1d"


def put_label(root: Path, name: str = "sentiment", label: str = "production") -> str:
    """Save the working file of `name` and move `label` to it; its version."""
    config = load_config(root)
    store = Store(config.database_url)
    lib = Library.from_config(config)
    prompt = lib.get(name)
    lib.save(store, prompt)
    move_label(store, name, label, prompt.version, actor="t", reason=None, evidence=None)
    store.close()
    return prompt.version


def _stub_models(url: str) -> list[str]:
    """--from and --to: two model names on one stub server, so they answer alike."""
    return ["--from", f"openai-compatible:a@{url}/v1", "--to", f"openai-compatible:b@{url}/v1"]


def test_regress_names_the_prompt_that_got_worse(
    gated: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", SECRET)
    version = put_label(gated)
    with stub_server("--delay", "0", "--reply", "neutral") as url:
        new = f"openai-compatible:stub@{url}/v1"
        html, md = gated / "reports" / "regress.html", gated / "reports" / "regress.md"
        code, out, err = run(
            "regress",
            "--from",
            "local",
            "--to",
            new,
            "--json",
            "-o",
            str(html),
            "-o",
            str(md),
            "--fail-on-regression",
        )
    assert code == 1, err  # --fail-on-regression
    data = json.loads(out)
    assert data["worse"] == ["sentiment"] and data["compared"] == 1
    [p] = data["prompts"]
    assert p["version"] == version and p["labels"] == ["production"]
    assert p["before"]["pass_rate"] == 1.0 and p["after"]["pass_rate"] == 0.0
    assert p["paired"]["only_a"] == 6 and p["paired"]["p_value"] == pytest.approx(0.03125)
    assert data["words"].startswith(f"1 of 1 prompt significantly worse on {new}")
    assert "-100.0 points" in data["words"]
    assert len(p["lost"]) == 6 and {c["after"] for c in p["lost"]} == {"neutral"}
    assert {c["before"].strip() for c in p["lost"]} == {"positive", "negative"}
    # The current model's side came from the cache: no embedded-model call was made.
    store = Store(load_config(gated).database_url)
    local = [r for r in store.results(p["run"]) if r.model == "local"]
    assert len(local) == 6 and all(r.cached for r in local)
    assert store.get_run(p["run"]).plan["kind"] == "regress"
    store.close()
    page = html.read_text(encoding="utf-8")
    assert "significantly worse" in page and "Stopped charging after three days" in page
    assert "| sentiment@" in md.read_text(encoding="utf-8")
    # The provider key went over the wire to the stub, and nowhere else.
    for path in [html, md, *(gated / ".prompteur").iterdir()]:
        assert SECRET.encode() not in path.read_bytes(), path
    assert SECRET not in out + err


def test_no_difference_passes_and_unjudged_prompts_are_skipped(
    gated: Path,  # noqa: F811
) -> None:
    put_label(gated)
    put_label(gated, "tri-tickets", "staging")
    (gated / "suites" / "tri-tickets.yaml").unlink()
    with stub_server("--delay", "0", "--reply", "neutral") as url:
        code, out, err = run(
            "regress",
            *_stub_models(url),
            "--fail-on-regression",
        )
    assert code == 0, err
    assert "None of 1 prompt is significantly worse" in out
    assert "1 skipped: tri-tickets (no suite judges the prompt 'tri-tickets')" in out
    with stub_server("--delay", "0") as url:
        code, out, err = run(
            "regress",
            *_stub_models(url),
            "--label",
            "canary",
            "--json",
        )
    assert code == 0, err
    assert json.loads(out)["words"].startswith("No labelled prompt to check")


def _tally(passes: list[bool]) -> Tally:
    t = Tally()
    for i, ok in enumerate(passes):
        t.add(ResultRecord("p", "v", "m", f"c{i}", 0, {}, None, "x", ok, 1.0 if ok else 0.0))
    return t


def _entry(name: str, before: list[bool], after: list[bool]) -> PromptRegression:
    e = PromptRegression(name, "0" * 64, ["production"], before=_tally(before), after=_tally(after))
    e.comparison = compare("old", e.before, "new", e.after)  # type: ignore[arg-type]
    return e


def test_several_prompts_are_judged_with_holm() -> None:
    """Six flips out of six: exact McNemar p = 0.031, significant alone; over two prompts
    Holm doubles it, and neither counts as significantly worse any more."""
    flipped = ([True] * 6, [False] * 6)
    alone = Regression("old", "new", 0.05, [_entry("a", *flipped)])
    _adjust(alone)
    assert [p.name for p in alone.worse] == ["a"]
    two = Regression("old", "new", 0.05, [_entry("a", *flipped), _entry("b", *flipped)])
    _adjust(two)
    assert two.worse == []
    assert all(p.comparison and p.comparison.p == pytest.approx(0.0625) for p in two.prompts)
    words = two.words()
    assert "None of 2 prompts is significantly worse" in words and "Holm-adjusted" in words
    assert "2 lower but not significantly" in words
    many = Regression("old", "new", 0.05, [_entry("a", [True] * 12, [False] * 12)])
    many.prompts.append(_entry("b", [True] * 12, [True] * 12))
    _adjust(many)
    assert [p.name for p in many.worse] == ["a"] and many.better == []
    assert "1 of 2 prompts significantly worse on new than on old" in many.words()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "local", "--to", "local"], "name the same model"),
        (["--from", "local", "--to", "nope:x"], "no provider 'nope'"),
        (["--from", "local", "--to", "openai:gpt-4o-mini"], "no API key for"),
        (["--from", "local", "--to", "ollama:x", "-o", "r.pdf"], "unknown report format"),
        (["--from", "local", "--to", "ollama:x", "--label", "a b"], "not a valid label name"),
    ],
)
def test_regress_bad_input(
    project: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    code, _, err = run("regress", *args)
    assert code == 2, err
    assert message in err and "Traceback" not in err
    assert not (project / "r.pdf").exists()
