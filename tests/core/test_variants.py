"""Prompts per model: `variants:` in the front matter, picked by model id everywhere a prompt
runs (eval, ask, the SDK, the server's render and get routes, the gateway), shown with their
scores by `library show`; the file stays a valid .prompty for Prompty's own runtime."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import prompty
import pytest
from helpers_http import LoopbackServer, Recorded, Reply
from helpers_server import key, save_prompts, served
from starlette.testclient import TestClient
from typer.testing import CliRunner

from prompteur import registry
from prompteur.cli import app
from prompteur.errors import UserError
from prompteur.prompt import load_prompt, parse_prompt
from prompteur.sdk import Client
from prompteur.server.app import create_app

TRIAGE = """---
name: triage
description: Route a customer message to a team.
model:
  id: local
  parameters: {temperature: 0, max_tokens: 4, stop: ["\\n"]}
inputs:
  message: {kind: string}
examples:
  - {message: "Where is my parcel?", answer: delivery}
  - {message: "I was charged twice.", answer: billing}
variants:
  - name: terse
    models: ["local:gemma3"]
    parameters: {max_tokens: 1}
  - name: instruct
    models: ["local:smollm2", "openai-compatible:*"]
    description: an instruction for chat models, no demonstrations
    examples: []
    system: |
      Route the message to one team. Answer with one word: billing, delivery or technical.
  - name: bare
    models: "anthropic:*"
    body: |
      user:
      VARIANT-BARE {{ message }}
---
user:
{% for ex in examples %}Message: {{ ex.message }}
Team: {{ ex.answer }}
{% endfor %}Message: {{ message }}
Team:
"""


@pytest.fixture
def triage(project: Path) -> Path:
    path = project / "prompts" / "triage.prompty"
    path.write_text(TRIAGE, encoding="utf-8")
    return path


def test_first_matching_variant_wins_and_the_version_is_the_files(triage: Path) -> None:
    p = load_prompt(triage)
    assert [v.name for v in p.meta.variants] == ["terse", "instruct", "bare"]
    assert p.for_model("local") is p and p.for_model(None) is p and p.variant is None
    terse = p.for_model("local:gemma3")
    assert terse.variant == "terse" and terse.params.max_tokens == 1
    assert terse.params.stop == ["\n"]  # what the variant leaves out comes from the default
    assert terse.render({"message": "x"}) == p.render({"message": "x"})
    chat = p.for_model("openai-compatible:m@http://127.0.0.1:1/v1")
    msgs = chat.render({"message": "My screen is black."})
    assert msgs[0].role == "system" and msgs[0].content.startswith("Route the message")
    assert msgs[1].content == "Message: My screen is black.\nTeam:"  # examples: [] wins
    bare = p.for_model("anthropic:claude-haiku-4-5")
    assert [m.content for m in bare.render({"message": "hi"})] == ["VARIANT-BARE hi"]
    assert {q.version for q in (terse, chat, bare)} == {p.version}
    assert p.for_model("openai:gpt-4o") is p  # no glob matches: the default


def test_prompty_runtime_loads_the_file_and_renders_the_default(triage: Path) -> None:
    ours = load_prompt(triage)
    agent = prompty.load(str(triage))
    inputs = {"message": "It does not start.", "examples": ours.meta.examples}
    theirs = [(m.role, "".join(x.value for x in m.parts)) for m in prompty.prepare(agent, inputs)]
    assert theirs == [(m.role, m.content) for m in ours.render({"message": "It does not start."})]


@pytest.mark.parametrize(
    ("variants", "words", "line"),
    [
        ("  - {name: a, models: []}", "variants[0].models", 4),
        ("  - {name: a, models: [x]}\n  - {name: a, models: [y]}", "two variants", 3),
        ("  - {name: a, models: [x], temperature: 0}", "variants[0].temperature", 4),
        ("  - name: a\n    models: [x]\n    body: |\n      {{ ''.__class__ }}", "internals", 7),
        ("  - name: a\n    models: [x]\n    system: |\n      {% if %}", "syntax", 7),
    ],
    ids=["no-models", "duplicate", "unknown-key", "dunder", "syntax"],
)
def test_a_bad_variant_names_its_line(variants: str, words: str, line: int) -> None:
    text = f"---\nname: v\nvariants:\n{variants}\n---\nuser:\nhi\n"
    with pytest.raises(UserError) as err:
        parse_prompt(text, name="v")
    assert words in err.value.render()
    assert err.value.line == line


def test_eval_runs_each_models_variant(triage: Path, project: Path) -> None:
    (project / "suites" / "triage.yaml").write_text(
        "prompts: [triage]\nmodels: [local, 'local:gemma3']\ncases:\n"
        "  - {inputs: {message: My invoice shows the wrong amount.}, expected: billing}\n"
        "  - {inputs: {message: The parcel never came.}, expected: delivery}\n"
        "checks: [{type: equals, normalize: true}]\n",
        encoding="utf-8",
    )
    res = CliRunner().invoke(app, ["eval", "suites/triage.yaml", "-o", "out.json"])
    assert res.exit_code == 0, res.output
    rows = json.loads((project / "out.json").read_text())["results"]
    by_model: dict[str, list[dict]] = {}
    for r in rows:
        by_model.setdefault(r["model"], []).append(r)
    # One token under the `terse` variant; the default may write up to four.
    assert all(r["output_tokens"] <= 1 for r in by_model["local:gemma3"])
    assert {r["version"] for r in rows} == {load_prompt(triage).version}
    res = CliRunner().invoke(app, ["library", "show", "triage", "--json"])
    shown = {v["name"]: v for v in json.loads(res.output)["variants"]}
    assert set(shown) == {"default", "terse", "instruct", "bare"}
    assert set(shown["default"]["scores"]) == {"local"}
    assert set(shown["terse"]["scores"]) == {"local:gemma3"}
    assert shown["terse"]["scores"]["local:gemma3"]["judged"] == 2
    assert shown["instruct"]["scores"] == {} and shown["instruct"]["models"][0] == "local:smollm2"
    res = CliRunner().invoke(app, ["library", "show", "triage"])
    assert "Variants (first match wins)" in res.output and "no run yet" in res.output
    res = CliRunner().invoke(app, ["library", "list", "--model", "anthropic:claude-x", "--json"])
    assert [p["name"] for p in json.loads(res.output)] == ["triage"]
    res = CliRunner().invoke(
        app, ["render", "triage", "-m", "anthropic:x", "-i", "message=hi", "--json"]
    )
    out = json.loads(res.output)
    assert out["variant"] == "bare" and out["messages"][0]["content"] == "VARIANT-BARE hi"


def test_sdk_get_prompt_picks_the_variant(triage: Path, project: Path) -> None:
    from prompteur.config import load_config
    from prompteur.library import Library
    from prompteur.store import Store

    config = load_config(project)
    prompt = Library.from_config(config).get("triage")
    store = Store(config.database_url)
    try:
        Library.from_config(config).save(store, prompt)
        registry.move_label(
            store, "triage", "production", prompt.version, actor="t", reason=None, evidence=None
        )
    finally:
        store.close()
    with Client(project=project) as client:
        plain = client.get_prompt("triage")
        chat = client.get_prompt("triage", model="local:smollm2")
        assert plain.variant is None and chat.variant == "instruct"
        assert chat.version == plain.version and chat.model == "local:smollm2"
        assert chat.variants == ["terse", "instruct", "bare"]
        assert chat.render(message="hi")[0]["role"] == "system"
        assert plain.render(message="hi")[0]["role"] == "user"
        # The cached copy serves every model: one fetch.
        assert client.get_prompt("triage", model="anthropic:x").variant == "bare"
        assert client.stats().fetches == 1


def _echo(record: Recorded) -> Reply:
    msgs = record.json["messages"]
    return Reply(
        200,
        {
            "id": "x",
            "object": "chat.completion",
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": f"{len(msgs)}:{msgs[0]['role']}"},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        },
    )


@pytest.fixture
def server(
    triage: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, str]]:
    monkeypatch.delenv("OPENAI_COMPATIBLE_API_KEY", raising=False)
    with LoopbackServer(_echo) as provider:
        with (project / "prompteur.toml").open("a", encoding="utf-8") as fh:
            fh.write(f'\n[providers.openai-compatible]\nbase_url = "{provider.url}/v1"\n')
        web = create_app([project])
        p = served(web)
        versions = save_prompts(p)
        registry.move_label(
            p.store,
            "triage",
            "production",
            versions["triage"],
            actor="t",
            reason=None,
            evidence=None,
        )
        with TestClient(web) as c:
            yield c, f"openai-compatible:m@{provider.url}/v1"


def test_server_routes_and_gateway_pick_the_variant(server: tuple[TestClient, str]) -> None:
    from sqlalchemy import select

    from prompteur.store.tables_traces import Trace

    client, chat_model = server
    h = key(client.app, "write")
    r = client.get("/v1/prompts/triage/versions/production?model=local:gemma3", headers=h)
    body = r.json()
    assert r.status_code == 200 and body["variant"] == "terse"
    assert [v["name"] for v in body["variants"]] == ["terse", "instruct", "bare"]
    assert client.get("/v1/prompts/triage/versions/production", headers=h).json()["variant"] is None
    r = client.post(
        "/v1/prompts/triage/render",
        headers=h,
        json={"ref": "production", "model": "anthropic:x", "inputs": {"message": "hi"}},
    )
    assert r.json()["variant"] == "bare" and r.json()["messages"][0]["content"] == "VARIANT-BARE hi"
    # The gateway sends the chat model the `instruct` variant: a system turn and a user turn.
    r = client.post(
        "/v1/prompts/triage/complete",
        headers=h,
        json={"model": chat_model, "inputs": {"message": "The app crashes."}},
    )
    assert r.status_code == 200, r.text
    assert r.json()["output"] == "2:system" and r.json()["variant"] == "instruct"
    with served(client.app).store.session() as s:
        (trace,) = s.scalars(select(Trace))
        assert trace.meta["variant"] == "instruct"
    too_long = "x" * 301
    r = client.get(f"/v1/prompts/triage/versions/production?model={too_long}", headers=h)
    assert r.status_code == 422
