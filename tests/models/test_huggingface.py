"""Hugging Face's text-generation task against a loopback server speaking it: the body
promptfoo's provider sends, the Inference API route or an endpoint of its own, errors."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from helpers_http import LoopbackServer, Recorded, Reply
from test_providers_http import config_with

from prompteur.config import ProviderSection
from prompteur.models.base import BadRequestError, Message, Params, Request, ServerError
from prompteur.models.providers import get_model

KEY = "hf_SECRET_token"


def _ask(model, *turns: tuple[str, str], **params: object):  # type: ignore[no-untyped-def]
    request = Request(tuple(Message(r, c) for r, c in turns), Params(**params))  # type: ignore[arg-type]
    return asyncio.run(model.generate(request))


def test_the_inference_api_route_gets_inputs_and_parameters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", KEY)

    def handle(req: Recorded) -> Reply:
        return Reply(200, [{"generated_text": " Bananas are great."}])

    with LoopbackServer(handle) as server:
        config = config_with(tmp_path, huggingface=ProviderSection(base_url=server.url + "/hf"))
        model = get_model("huggingface:google/gemma-7b-it", config)
        response = _ask(
            model,
            ("user", "Write a tweet about bananas:"),
            temperature=0.5,
            max_tokens=40,
            extra={"repetition_penalty": 1.1},
        )
    (sent,) = server.requests
    assert sent.path == "/hf/models/google/gemma-7b-it"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.json == {
        "inputs": "Write a tweet about bananas:",
        "parameters": {
            "return_full_text": False,
            "temperature": 0.5,
            "max_new_tokens": 40,
            "repetition_penalty": 1.1,
        },
    }
    assert response.text == " Bananas are great."


def test_an_endpoint_of_its_own_and_what_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def handle(req: Recorded) -> Reply:
        if req.json["inputs"] == "boom":
            return Reply(200, {"error": "Model is overloaded"})
        return Reply(200, {"generated_text": "ok"})

    with LoopbackServer(handle) as server:
        url = server.url + "/endpoint"
        monkeypatch.setenv("HF_TOKEN", KEY)
        model = get_model(f"huggingface:gemma-7b-it@{url}", config_with(tmp_path))
        assert _ask(model, ("user", "hi")).text == "ok"
        with pytest.raises(ServerError, match="overloaded") as failed:
            _ask(model, ("user", "boom"))
        assert KEY not in str(failed.value)
        with pytest.raises(BadRequestError, match="one text prompt"):
            _ask(model, ("system", "be brief"), ("user", "hi"))
    assert [r.path for r in server.requests] == ["/endpoint", "/endpoint"]
    # The endpoint is not one the project names: the key stays home.
    assert "authorization" not in server.requests[0].headers


def test_the_inference_api_needs_its_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from prompteur.errors import UserError

    monkeypatch.delenv("HF_TOKEN", raising=False)
    with pytest.raises(UserError, match="HF_TOKEN"):
        get_model("huggingface:google/gemma-7b-it")
