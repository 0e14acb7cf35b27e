"""Replicate's predictions API against a loopback server speaking it: the request promptfoo's
Replicate provider sends, the wait and the polling, failures and the key kept out of errors."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from helpers_http import LoopbackServer, Recorded, Reply
from test_providers_http import config_with

from prompteur.config import ProviderSection
from prompteur.errors import UserError
from prompteur.models.base import BadRequestError, Message, Params, Request, ServerError
from prompteur.models.providers import get_model

KEY = "r8_SECRET_replicate_token"


def _request(*turns: tuple[str, str], **params: object) -> Request:
    return Request(tuple(Message(r, c) for r, c in turns), Params(**params))  # type: ignore[arg-type]


def _model(tmp_path: Path, server: LoopbackServer, name: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("REPLICATE_API_TOKEN", KEY)
    config = config_with(tmp_path, replicate=ProviderSection(base_url=server.url + "/v1"))
    return get_model(f"replicate:{name}", config)


def test_a_model_route_gets_the_prompt_the_system_prompt_and_the_inputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def handle(req: Recorded) -> Reply:
        return Reply(
            200,
            {
                "id": "p1",
                "status": "succeeded",
                "output": ["Bon", "jour", " !"],
                "metrics": {"input_token_count": 12, "output_token_count": 3},
            },
        )

    with LoopbackServer(handle) as server:
        model = _model(tmp_path, server, "meta/llama-2-7b-chat", monkeypatch)
        params = Params(temperature=0.2, max_tokens=64, stop=["</s>", "\n\n"], extra={"k": 1})
        request = Request(
            (Message("system", "Be brief."), Message("user", "Say hello in French.")), params
        )
        response = asyncio.run(model.generate(request))
    (sent,) = server.requests
    assert sent.method == "POST"
    assert sent.path == "/v1/models/meta/llama-2-7b-chat/predictions"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.headers["prefer"] == "wait=60"
    assert sent.json == {
        "input": {
            "temperature": 0.2,
            "max_new_tokens": 64,
            "stop_sequences": "</s>,\n\n",
            "k": 1,
            "prompt": "Say hello in French.",
            "system_prompt": "Be brief.",
        }
    }
    assert response.text == "Bonjour !"  # the streamed pieces, joined as promptfoo joins them
    assert (response.usage.input_tokens, response.usage.output_tokens) == (12, 3)


def test_a_pinned_version_is_polled_until_it_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import prompteur.models.replicate as replicate

    monkeypatch.setattr(replicate, "POLL_S", 0.01)
    polls: list[str] = []

    def handle(req: Recorded) -> Reply:
        if req.method == "POST":
            return Reply(201, {"id": "abc", "status": "starting", "output": None})
        polls.append(req.path)
        done = len(polls) >= 3
        return Reply(
            200,
            {"id": "abc", "status": "succeeded" if done else "processing", "output": "done"},
        )

    with LoopbackServer(handle) as server:
        model = _model(tmp_path, server, "cjwbw/gemma-7b-it:2790a695", monkeypatch)
        response = asyncio.run(model.generate(_request(("user", "hi"))))
    first = server.requests[0]
    assert first.path == "/v1/predictions"
    assert first.json == {"version": "2790a695", "input": {"prompt": "hi"}}
    assert polls == ["/v1/predictions/abc"] * 3
    assert response.text == "done"


def test_failures_are_errors_without_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def handle(req: Recorded) -> Reply:
        return Reply(200, {"id": "x", "status": "failed", "error": "CUDA out of memory"})

    with LoopbackServer(handle) as server:
        model = _model(tmp_path, server, "meta/llama-2-7b-chat", monkeypatch)
        with pytest.raises(ServerError, match="CUDA out of memory") as failed:
            asyncio.run(model.generate(_request(("user", "hi"))))
        assert KEY not in str(failed.value)
        # Several turns would lose all but one (promptfoo sends the first user message):
        # refused before any call.
        with pytest.raises(BadRequestError, match="one user prompt"):
            asyncio.run(model.generate(_request(("user", "a"), ("assistant", "b"), ("user", "c"))))
    assert len(server.requests) == 1


def test_a_model_id_must_name_owner_and_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPLICATE_API_TOKEN", KEY)
    with pytest.raises(UserError, match="OWNER/NAME"):
        get_model("replicate:llama")
