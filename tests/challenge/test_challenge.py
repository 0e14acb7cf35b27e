"""Challenges: a workspace with a brief and a starter, graded attempts recorded with their
content, time and score, a report of the progress; the recruiter-kept suite; tampering seen."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prompteur.challenge import challenges, get_challenge
from prompteur.challenge._hidden import decode, encode
from prompteur.cli import app

# A better attempt than the starter, written as a candidate would (not shipped).
TRIAGE_BETTER = """---
name: triage
model: {id: local, parameters: {temperature: 0, max_tokens: 4, stop: ["\\n"]}}
inputs:
  ticket: {kind: string}
---
Route each ticket to one team: billing, delivery or account.

Ticket: I paid but the invoice says I still owe money.
Team: billing

Ticket: The courier says delivered but I have nothing.
Team: delivery

Ticket: I cannot log in to my profile any more.
Team: account

Ticket: Please refund the second payment.
Team: billing

Ticket: My parcel is late and the tracking page is empty.
Team: delivery

Ticket: How can I change my username?
Team: account

Ticket: {{ ticket }}
Team:
"""


def test_two_challenges_bilingual_and_hidden_suites_obfuscated() -> None:
    assert len(challenges()) >= 2
    for c in challenges():
        assert c.brief("en") != c.brief("fr") and c.title("fr")
        raw = (c.folder / "hidden.bin").read_text()
        assert "cases" not in raw and "expected" not in raw
        assert "cases:" in c.hidden_suite_text()
    assert decode(encode("héllo: 1\n")) == "héllo: 1\n"


def test_attempts_scored_and_reported(project: Path) -> None:
    runner = CliRunner()
    ws = project / "cand"
    res = runner.invoke(
        app, ["challenge", "new", "triage", str(ws), "--candidate", "Ana", "--lang", "fr"]
    )
    assert res.exit_code == 0, res.output
    assert "Défi" in (ws / "CONSIGNE.md").read_text()
    prompt = ws / "triage.prompty"
    assert prompt.read_text() == get_challenge("triage").starter
    first = runner.invoke(app, ["challenge", "submit", str(ws), "--json"])
    assert first.exit_code == 0, first.output
    prompt.write_text(TRIAGE_BETTER, encoding="utf-8")
    second = runner.invoke(app, ["challenge", "submit", str(ws), "--note", "few-shot", "--json"])
    a1, a2 = json.loads(first.stdout), json.loads(second.stdout)
    assert a1["score"] < a2["score"] and a2["total"] == 10
    state = json.loads((ws / ".challenge.json").read_text())
    assert [a["n"] for a in state["attempts"]] == [1, 2]
    assert state["attempts"][1]["content"] == TRIAGE_BETTER and state["attempts"][1]["time"]

    res = runner.invoke(
        app, ["challenge", "report", str(ws), "-o", str(project / "r.html"), "--json"]
    )
    assert res.exit_code == 0, res.output
    rep = json.loads(res.stdout)
    assert rep["best"]["n"] == 2 and rep["final"]["n"] == 2 and rep["intact"] is True
    html = (project / "r.html").read_text()
    assert "#1 → #2" in html and "Team: billing" in html and "Rapport de défi" in html

    # Editing a recorded attempt afterwards breaks the hash chain, and the report says so.
    state["attempts"][0]["content"] = "rewritten"
    (ws / ".challenge.json").write_text(json.dumps(state))
    rep = json.loads(runner.invoke(app, ["challenge", "report", str(ws), "--json"]).stdout)
    assert rep["intact"] is False


def test_recruiter_keeps_the_suite(project: Path, tmp_path: Path) -> None:
    hidden = tmp_path / "recruiter" / "suite.yaml"
    hidden.parent.mkdir()
    hidden.write_text(get_challenge("lettre-formelle").hidden_suite_text(), encoding="utf-8")
    runner = CliRunner()
    ws = project / "cand"
    res = runner.invoke(
        app, ["challenge", "new", "lettre-formelle", str(ws), "--hidden", str(hidden)]
    )
    assert res.exit_code == 0, res.output
    assert str(hidden) not in (ws / ".challenge.json").read_text()
    res = runner.invoke(app, ["challenge", "submit", str(ws), "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["score"] is None
    other = tmp_path / "other.yaml"
    other.write_text(hidden.read_text().replace("15", "16"), encoding="utf-8")
    res = runner.invoke(app, ["challenge", "report", str(ws), "--hidden", str(other)])
    assert res.exit_code == 2 and "not the suite" in res.output
    res = runner.invoke(app, ["challenge", "report", str(ws), "--hidden", str(hidden), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["final"]["score"] is not None


@pytest.mark.parametrize("args", [["new", "nope"], ["submit", "nowhere"]])
def test_mistakes_exit_2(args: list[str], project: Path) -> None:
    res = CliRunner().invoke(app, ["challenge", *args])
    assert res.exit_code == 2 and "Traceback" not in res.output


def _recruiter_workspace(project: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A workspace whose hidden suite the recruiter keeps: submitting needs no model."""
    hidden = tmp_path / "recruiter" / "suite.yaml"
    hidden.parent.mkdir(exist_ok=True)
    hidden.write_text(get_challenge("triage").hidden_suite_text(), encoding="utf-8")
    ws = project / "sealed"
    res = CliRunner().invoke(app, ["challenge", "new", "triage", str(ws), "--hidden", str(hidden)])
    assert res.exit_code == 0, res.output
    return ws, hidden


def test_attempts_are_sealed_with_the_recruiters_secret(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "recruiter-secret-Zq81"
    ws, _ = _recruiter_workspace(project, tmp_path)
    monkeypatch.setenv("PROMPTEUR_CHALLENGE_SECRET", secret)
    runner = CliRunner()
    for note in ("first", "second"):
        (ws / "triage.prompty").write_text(TRIAGE_BETTER + f"\n# {note}\n", encoding="utf-8")
        res = runner.invoke(app, ["challenge", "submit", str(ws), "--note", note])
        assert res.exit_code == 0, res.output
    raw = (ws / ".challenge.json").read_text()
    assert secret not in raw  # the secret is never written
    rep = json.loads(runner.invoke(app, ["challenge", "report", str(ws), "--json"]).stdout)
    assert rep["seal"] == "sealed" and rep["intact"] is True

    # A candidate who edits an attempt and recomputes the plain hash chain (no secret needed
    # for that) still breaks the seals.
    from prompteur.challenge._workspace import _chain_hash, _sha

    state = json.loads(raw)
    first = state["attempts"][0]
    first["content"] = TRIAGE_BETTER + "\n# a better first try\n"
    first["sha256"] = _sha(first["content"])
    prev = ""
    for a in state["attempts"]:
        a["hash"] = _chain_hash(prev, a)
        prev = a["hash"]
    (ws / ".challenge.json").write_text(json.dumps(state))
    res = runner.invoke(app, ["challenge", "report", str(ws), "--json"])
    rep = json.loads(res.stdout)
    assert rep["seal"] == "broken" and rep["intact"] is False
    # …and nothing more is recorded on top of a broken history.
    res = runner.invoke(app, ["challenge", "submit", str(ws)])
    assert res.exit_code == 2 and "seals do not hold" in res.output

    # Removing the seals altogether does not pass for an unsealed workspace.
    for a in state["attempts"]:
        a.pop("seal")
    (ws / ".challenge.json").write_text(json.dumps(state))
    rep = json.loads(runner.invoke(app, ["challenge", "report", str(ws), "--json"]).stdout)
    assert rep["seal"] == "broken"


def test_seals_need_the_same_secret(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, _ = _recruiter_workspace(project, tmp_path)
    runner = CliRunner()
    monkeypatch.setenv("PROMPTEUR_CHALLENGE_SECRET", "one-secret")
    assert runner.invoke(app, ["challenge", "submit", str(ws)]).exit_code == 0
    monkeypatch.setenv("PROMPTEUR_CHALLENGE_SECRET", "another-secret")
    rep = json.loads(runner.invoke(app, ["challenge", "report", str(ws), "--json"]).stdout)
    assert rep["seal"] == "other-key" and rep["intact"] is False
    monkeypatch.delenv("PROMPTEUR_CHALLENGE_SECRET")
    rep = json.loads(runner.invoke(app, ["challenge", "report", str(ws), "--json"]).stdout)
    assert rep["seal"] == "unverified"
    plain = project / "plain"
    assert runner.invoke(app, ["challenge", "new", "triage", str(plain)]).exit_code == 0
    rep = json.loads(runner.invoke(app, ["challenge", "report", str(plain), "--json"]).stdout)
    assert rep["seal"] == "unsealed"
