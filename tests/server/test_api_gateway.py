"""The gateway: a labelled version rendered, the model called with the server's key, a trace
recorded; provider failures are 502s that never carry the key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers_http import LoopbackServer, Recorded, Reply, free_port
from helpers_server import key, save_prompts, served
from sqlalchemy import select
from starlette.testclient import TestClient

from prompteur import registry
from prompteur.app import create_app
from prompteur.store.tables_traces import Trace

SECRET = "sk-gateway-test-0123456789abcdefSECRET"


def _provider(record: Recorded) -> Reply:
    """An OpenAI-compatible endpoint whose answer depends on the user's text."""
    text = record.json["messages"][-1]["content"]
    if "FAIL401" in text:
        # Some providers echo the key they refused: the gateway must not pass it on.
        return Reply(401, {"error": {"message": f"Incorrect API key provided: {SECRET}"}})
    if "FAIL500" in text:
        return Reply(500, {"error": {"message": "upstream exploded"}})
    return Reply(
        200,
        {
            "id": "x",
            "object": "chat.completion",
            "model": "fake",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": f"echo {text[-12:]}"},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
        },
    )


def _prompt(project: Path, name: str, model_id: str) -> None:
    (project / "prompts" / f"{name}.prompty").write_text(
        f"---\nname: {name}\nmodel:\n  id: {model_id}\ninputs:\n  text:\n    kind: string\n"
        "    required: true\n---\nuser:\n{{ text }}\n",
        encoding="utf-8",
    )


@pytest.fixture
def provider() -> Iterator[LoopbackServer]:
    with LoopbackServer(_provider) as server:
        yield server


@pytest.fixture
def client(
    project: Path, provider: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", SECRET)
    # The key goes only to the base URL the project configures for it (docs/security.md).
    with (project / "prompteur.toml").open("a", encoding="utf-8") as fh:
        fh.write(f'\n[providers.openai-compatible]\nbase_url = "{provider.url}/v1"\n')
    _prompt(project, "echo", f"openai-compatible:fake@{provider.url}/v1")
    _prompt(project, "down", f"openai-compatible:fake@http://127.0.0.1:{free_port()}/v1")
    _prompt(project, "keyless", "openai:gpt-4o-mini")
    app = create_app([project])
    p = served(app)
    save_prompts(p)
    for name in ("echo", "down", "keyless", "sentiment"):
        registry.move_label(
            p.store,
            name,
            "production",
            registry.resolve(p.store, name, None).version,
            actor="test",
            reason=None,
            evidence=None,
        )
    with TestClient(app) as c:
        yield c


def _traces(client: TestClient) -> list[Trace]:
    with served(client.app).store.session() as s:
        return list(s.scalars(select(Trace).order_by(Trace.id)))


def test_complete_on_the_embedded_model_records_a_trace(client: TestClient) -> None:
    h = key(client.app, "write")
    r = client.post(
        "/v1/prompts/sentiment/complete",
        headers=h,
        json={"inputs": {"review": "Broke on day one, a waste of money."}},
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["label"] == "production" and out["model"] == "local"
    assert out["output"].strip() and out["usage"]["input_tokens"] > 0
    (trace,) = _traces(client)
    assert trace.trace_id == out["trace_id"] and trace.version == out["version"]
    assert trace.prompt == "sentiment" and trace.label == "production"
    assert trace.output == out["output"] and trace.tokens_in == out["usage"]["input_tokens"]
    assert trace.inputs == {"review": "Broke on day one, a waste of money."}
    assert trace.source == "gateway" and trace.error is None


def test_the_key_stays_on_the_server(client: TestClient, provider: LoopbackServer) -> None:
    h = key(client.app, "write")
    r = client.post("/v1/prompts/echo/complete", headers=h, json={"inputs": {"text": "hello"}})
    assert r.status_code == 200, r.text
    assert r.json()["output"] == "echo hello" and r.json()["usage"]["output_tokens"] == 3
    assert provider.requests[-1].headers["authorization"] == f"Bearer {SECRET}"
    assert SECRET not in r.text


def test_an_endpoint_a_prompt_file_names_gets_no_key(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", SECRET)
    with LoopbackServer(_provider) as other:
        _prompt(project, "other", f"openai-compatible:fake@{other.url}/v1")
        app = create_app([project])
        p = served(app)
        save_prompts(p)
        version = registry.resolve(p.store, "other", None).version
        registry.move_label(
            p.store, "other", "production", version, actor="t", reason=None, evidence=None
        )
        with TestClient(app) as c:
            r = c.post(
                "/v1/prompts/other/complete",
                headers=key(app, "write"),
                json={"inputs": {"text": "hello"}},
            )
        assert r.status_code == 200, r.text
        (sent,) = other.requests
        assert "authorization" not in sent.headers and SECRET not in str(sent.headers)


@pytest.mark.parametrize(
    ("prompt", "text", "words"),
    [
        ("echo", "FAIL401", "the model provider failed"),
        ("echo", "FAIL500", "the model provider failed"),
        ("down", "hello", "the model provider failed"),
        ("keyless", "hello", "OPENAI_API_KEY"),
    ],
    ids=["provider-401", "provider-500", "unreachable", "no-key-on-server"],
)
def test_provider_errors_are_502_without_the_key(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, prompt: str, text: str, words: str
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    h = key(client.app, "write")
    r = client.post(f"/v1/prompts/{prompt}/complete", headers=h, json={"inputs": {"text": text}})
    assert r.status_code == 502, r.text
    assert words in r.json()["detail"]
    assert SECRET not in r.text
    (trace,) = _traces(client)
    assert trace.error and SECRET not in trace.error and trace.output is None


def test_bad_requests(client: TestClient, provider: LoopbackServer) -> None:
    h = key(client.app, "write")
    with LoopbackServer(_provider) as elsewhere:
        r = client.post(
            "/v1/prompts/echo/complete",
            headers=h,
            json={"inputs": {"text": "x"}, "model": f"openai-compatible:m@{elsewhere.url}/v1"},
        )
        assert r.status_code == 422 and r.json()["field"] == "model"
        assert elsewhere.requests == []  # the key never left for a caller's URL
    r = client.post(
        "/v1/prompts/echo/complete", headers=h, json={"inputs": {"text": "x"}, "model": "gpt4"}
    )
    assert r.status_code == 422 and r.json()["field"] == "model"
    r = client.post("/v1/prompts/echo/complete", headers=h, json={"inputs": {}})
    assert r.status_code == 422 and r.json()["field"] == "inputs.text"
    r = client.post(
        "/v1/prompts/echo/complete", headers=h, json={"label": "staging", "inputs": {"text": "x"}}
    )
    assert r.status_code == 404
    r = client.post(
        "/v1/prompts/echo/complete",
        headers=h,
        json={"label": "production", "version": "abc", "inputs": {"text": "x"}},
    )
    assert r.status_code == 422
    assert _traces(client) == [] and provider.requests == []
    r = client.post("/v1/prompts/echo/complete", headers=key(client.app, "read"), json={})
    assert r.status_code == 403
