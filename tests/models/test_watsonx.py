"""IBM watsonx.ai's text generation against a loopback server speaking both IAM and the
API: the API key exchanged once for a token, the body promptfoo's provider sends, errors."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from helpers_http import LoopbackServer, Recorded, Reply
from test_providers_http import config_with

from prompteur.config import ProviderSection
from prompteur.errors import UserError
from prompteur.models.base import AuthError, BadRequestError, Message, Params, Request
from prompteur.models.providers import get_model

KEY = "SECRET_ibm_iam_apikey"


def _request(*turns: tuple[str, str], **params: object) -> Request:
    return Request(tuple(Message(r, c) for r, c in turns), Params(**params))  # type: ignore[arg-type]


def _server(iam_ok: bool = True, expiration: object = None) -> LoopbackServer:
    def handle(req: Recorded) -> Reply:
        if req.path == "/identity/token":
            if not iam_ok:
                return Reply(400, {"errorMessage": "Provided API key could not be found"})
            expires = time.time() + 3600 if expiration is None else expiration
            return Reply(200, {"access_token": "tok-1", "expiration": expires})
        return Reply(
            200,
            {
                "model_id": "ibm/granite-13b-chat-v2",
                "results": [
                    {
                        "generated_text": "Bonjour",
                        "generated_token_count": 2,
                        "input_token_count": 7,
                        "stop_reason": "eos_token",
                    }
                ],
            },
        )

    return LoopbackServer(handle)


def _model(tmp_path: Path, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("WATSONX_AI_APIKEY", KEY)
    monkeypatch.setenv("WATSONX_AI_PROJECT_ID", "proj-42")
    config = config_with(tmp_path, watsonx=ProviderSection(base_url=server.url))
    model = get_model("watsonx:ibm/granite-13b-chat-v2", config)
    model.iam_url = server.url + "/identity/token"  # type: ignore[attr-defined]
    return model


def test_the_key_is_exchanged_once_and_the_body_is_promptfoos(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _server() as server:
        model = _model(tmp_path, server, monkeypatch)

        async def twice() -> list[str]:
            out = []
            for _ in range(2):
                r = await model.generate(
                    _request(
                        ("user", "Say hello in French."),
                        temperature=0.3,
                        extra={"max_new_tokens": 100, "decoding_method": "greedy"},
                    )
                )
                out.append(r.text)
                assert (r.usage.input_tokens, r.usage.output_tokens) == (7, 2)
                assert r.finish_reason == "stop"
            return out

        assert asyncio.run(twice()) == ["Bonjour", "Bonjour"]
    iam = [r for r in server.requests if r.path == "/identity/token"]
    calls = [r for r in server.requests if r.path.startswith("/ml/v1/text/generation")]
    assert len(iam) == 1  # the token is kept until it expires
    assert b"apikey=SECRET_ibm_iam_apikey" in iam[0].body
    assert len(calls) == 2
    assert calls[0].path == "/ml/v1/text/generation?version=2023-05-29"
    assert calls[0].headers["authorization"] == "Bearer tok-1"
    assert KEY not in calls[0].headers["authorization"]
    assert calls[0].json == {
        "input": "Say hello in French.",
        "model_id": "ibm/granite-13b-chat-v2",
        "parameters": {"temperature": 0.3, "max_new_tokens": 100, "decoding_method": "greedy"},
        "project_id": "proj-42",
    }


def test_refusals_name_what_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with _server(iam_ok=False) as server:
        model = _model(tmp_path, server, monkeypatch)
        with pytest.raises(AuthError, match="IAM refused") as refused:
            asyncio.run(model.generate(_request(("user", "hi"))))
        assert KEY not in str(refused.value)
        with pytest.raises(BadRequestError, match="one text prompt"):
            asyncio.run(model.generate(_request(("system", "s"), ("user", "hi"))))
    monkeypatch.delenv("WATSONX_AI_PROJECT_ID")
    with _server() as server:
        model = _model(tmp_path, server, monkeypatch)
        monkeypatch.delenv("WATSONX_AI_PROJECT_ID")
        model.project_id = None  # type: ignore[attr-defined]
        with pytest.raises(BadRequestError, match="WATSONX_AI_PROJECT_ID"):
            asyncio.run(model.generate(_request(("user", "hi"))))
    monkeypatch.delenv("WATSONX_AI_APIKEY")
    monkeypatch.delenv("WATSONX_AI_BEARER_TOKEN", raising=False)
    with pytest.raises(UserError, match="WATSONX_AI_APIKEY"):
        get_model("watsonx:ibm/granite-13b-chat-v2")


def test_an_odd_expiration_from_iam_is_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _server(expiration="soon") as server:
        model = _model(tmp_path, server, monkeypatch)
        assert asyncio.run(model.generate(_request(("user", "hi")))).text == "Bonjour"
