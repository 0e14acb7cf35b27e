"""HTTP model providers against real servers on loopback.

- OpenAI-compatible: llama-cpp-python's OpenAI-compatible server, started here, serving the
  embedded Gemma 3 270M (protected by an API key, so auth is real too).
- Anthropic: a loopback server that checks each request the way the Messages API documents it
  and answers in the documented format, streaming included (tests/helpers_http.py).
- Typed errors and key hygiene: loopback servers answering with chosen statuses and bodies.

No network beyond 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers_http import FakeAnthropic, LoopbackServer, Recorded, Reply, free_port, sse

from prompteur.config import Config, ConfigFile, ProviderSection, load_config
from prompteur.errors import UserError
from prompteur.models.base import (
    AuthError,
    BadRequestError,
    ConnectError,
    Message,
    Model,
    ModelError,
    ModelTimeoutError,
    Params,
    RateLimitError,
    Request,
    Response,
    ServerError,
)
from prompteur.models.http import parse_retry_after, redact
from prompteur.models.providers import get_model

LLAMA_KEY = "sk-local-SECRET424242"
OPENAI_KEY = "sk-test-SECRET123456"
ANTHROPIC_KEY = "sk-ant-api03-SECRET987654"
PLAIN_KEY = "plainSECRETvalue42"  # no well-known shape: only exact redaction can hide it
ALL_KEYS = (LLAMA_KEY, OPENAI_KEY, ANTHROPIC_KEY, PLAIN_KEY)


# ---- helpers ---------------------------------------------------------------------------


async def _generate(model: Model, request: Request) -> Response:
    try:
        return await model.generate(request)
    finally:
        await model.aclose()


async def _stream(model: Model, request: Request) -> list[str | Response]:
    items: list[str | Response] = []
    try:
        async for item in model.stream(request):
            items.append(item)
    finally:
        await model.aclose()
    return items


def generate(model: Model, request: Request) -> Response:
    return asyncio.run(_generate(model, request))


def stream(model: Model, request: Request) -> tuple[list[str], Response]:
    items = asyncio.run(_stream(model, request))
    *chunks, final = items
    assert isinstance(final, Response), "the last item of a stream is the Response"
    assert all(isinstance(c, str) and c for c in chunks), "every other item is a text chunk"
    return chunks, final  # type: ignore[return-value]


def raises(model: Model, request: Request, *, streaming: bool = False) -> ModelError:
    """The typed error a call raises (never anything else)."""
    call = _stream(model, request) if streaming else _generate(model, request)
    with pytest.raises(ModelError) as info:
        asyncio.run(call)  # type: ignore[arg-type]
    return info.value


def chat(*turns: tuple[str, str], **params: Any) -> Request:
    return Request(tuple(Message(r, c) for r, c in turns), Params(**params))  # type: ignore[arg-type]


def completion(text: str, **params: Any) -> Request:
    return Request((Message("user", text),), Params(**params), prompt_text=text)


def config_with(tmp_path: Path, **sections: ProviderSection) -> Config:
    return Config(root=tmp_path, file=None, data=ConfigFile(providers=dict(sections)))


def assert_no_key(*texts: str) -> None:
    for text in texts:
        for key in ALL_KEYS:
            assert key not in text
        assert "SECRET" not in text, f"a key fragment leaked: {text!r}"


# ---- the real OpenAI-compatible server (llama-cpp-python) serving the embedded model ----


@pytest.fixture(scope="session")
def llama_server(
    embedded_model_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """`python -m llama_cpp.server` on a free loopback port; yields its /v1 base URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    cmd = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(embedded_model_path),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--api_key",
        LLAMA_KEY,
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"llama_cpp.server exited ({proc.returncode}):\n{log.read_text()[-3000:]}"
                )
            try:
                r = httpx.get(
                    base + "/models", headers={"Authorization": f"Bearer {LLAMA_KEY}"}, timeout=2
                )
                if r.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server not ready in 120 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def gemma(llama_server: str, monkeypatch: pytest.MonkeyPatch) -> Model:
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", LLAMA_KEY)
    return get_model(f"openai-compatible:gemma@{llama_server}")


COUNTING = chat(
    ("system", "You continue sequences."),
    ("user", "Count: 1, 2, 3, 4,"),
    max_tokens=8,
    temperature=0,
    seed=1,
)


def test_chat_generate_then_stream_the_same(gemma: Model) -> None:
    r = generate(gemma, COUNTING)
    assert r.text.strip(), "the embedded model answered nothing"
    assert r.model == gemma.id
    assert r.usage.input_tokens > 0
    assert 0 < r.usage.output_tokens <= 8
    assert r.latency_s > 0
    assert r.finish_reason in ("stop", "length")
    assert r.raw["object"] == "chat.completion"  # the raw payload, as the server sent it
    assert r.raw["choices"][0]["message"]["content"] == r.text
    assert r.raw["usage"]["prompt_tokens"] == r.usage.input_tokens

    chunks, final = stream(gemma, COUNTING)
    assert len(chunks) > 1, "streamed in pieces"
    assert final.text == "".join(chunks)
    assert final.text == r.text, "greedy decoding: streaming changes nothing"
    assert final.finish_reason == r.finish_reason
    assert final.latency_s > 0


def test_completion_mode_honours_max_tokens(gemma: Model) -> None:
    r = generate(gemma, completion("1, 2, 3, 4,", max_tokens=3, temperature=0))
    assert r.raw["object"] == "text_completion"  # /completions, not /chat/completions
    assert r.raw["id"].startswith("cmpl-")
    assert r.text.strip()
    assert r.finish_reason == "length"
    assert r.usage.output_tokens == 3
    assert r.usage.input_tokens > 0


def test_completion_stream(gemma: Model) -> None:
    chunks, final = stream(gemma, completion("1, 2, 3, 4,", max_tokens=4, temperature=0))
    assert len(chunks) >= 2
    assert final.text == "".join(chunks)
    assert "5" in final.text
    assert final.finish_reason == "length"


def test_stop_sequence(gemma: Model) -> None:
    r = generate(gemma, completion("1, 2, 3, 4,", max_tokens=16, temperature=0, stop=[" 7"]))
    assert "6" in r.text, r.text  # it counted on...
    assert "7" not in r.text, r.text  # ...and stopped before the stop sequence
    assert r.finish_reason == "stop"
    assert r.usage.output_tokens < 16


def test_logprobs_completion(gemma: Model) -> None:
    r = generate(gemma, completion("1, 2, 3, 4,", max_tokens=3, temperature=0, logprobs=2))
    assert r.logprobs is not None and len(r.logprobs) == 3
    assert "".join(t.token for t in r.logprobs) == r.text
    for t in r.logprobs:
        assert t.logprob <= 0
        assert len(t.top) == 2
        # greedy: the chosen token is the most likely one
        assert t.logprob == pytest.approx(max(lp for _, lp in t.top))
        assert t.token in dict(t.top)


def test_logprobs_chat(gemma: Model) -> None:
    r = generate(gemma, Request(COUNTING.messages, Params(max_tokens=3, temperature=0, logprobs=1)))
    assert r.text
    assert r.logprobs, "the chat format of logprobs is read"
    assert "".join(t.token for t in r.logprobs) == r.text
    assert all(t.logprob <= 0 and len(t.top) == 1 for t in r.logprobs)


def test_real_server_refuses_a_prompt_longer_than_its_context(gemma: Model) -> None:
    err = raises(gemma, completion("hello " * 3000, max_tokens=4))
    assert isinstance(err, BadRequestError)
    assert err.status == 400 and not err.retryable
    assert "context length" in str(err)  # the server's own message, not just "Bad Request"


def test_real_server_wrong_key(llama_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", OPENAI_KEY)
    model = get_model(f"openai-compatible:gemma@{llama_server}")
    err = raises(model, completion("1, 2,", max_tokens=1))
    assert isinstance(err, AuthError)
    assert err.status == 401 and not err.retryable
    assert "Invalid API key" in str(err)
    assert_no_key(str(err), repr(err), repr(model), str(model), json.dumps(model.describe()))


# ---- OpenAI dialects: what goes on the wire ---------------------------------------------


def _chat_completion(text: str = "Bonjour") -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "m",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13},
    }


def _chat_stream(with_usage: bool) -> list[bytes]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": "c",
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    events: list[tuple[str | None, Any]] = [
        (None, chunk({"role": "assistant"})),
        (None, chunk({"content": "Bon"})),
        (None, chunk({"content": "jour"})),
        (None, chunk({}, "length")),
    ]
    if with_usage:
        usage = {"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13}
        events.append((None, {"id": "c", "choices": [], "usage": usage}))
    events.append((None, "[DONE]"))
    return sse(events)


def _openai_like(strict_fields: set[str] | None = None) -> Callable[[Recorded], Reply]:
    """An OpenAI-shaped server; with `strict_fields`, any other field is refused with 422 the
    way Mistral's API does (pydantic `extra_forbidden`)."""

    def handle(req: Recorded) -> Reply:
        body = req.json
        if strict_fields is not None:
            extra = sorted(set(body) - strict_fields)
            if extra:
                detail = [
                    {"type": "extra_forbidden", "loc": ["body", k], "msg": "Extra inputs"}
                    for k in extra
                ]
                return Reply(422, {"object": "error", "message": {"detail": detail}})
        if body.get("stream"):
            return Reply(
                200,
                chunks=_chat_stream(
                    with_usage=strict_fields is not None or "stream_options" in body
                ),
            )
        return Reply(200, _chat_completion())

    return handle


def test_openai_wire_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    with LoopbackServer(_openai_like()) as server:
        config = config_with(tmp_path, openai=ProviderSection(base_url=server.url + "/v1"))
        model = get_model("openai:gpt-4o-mini", config)
        request = chat(
            ("system", "Be brief."),
            ("user", "Say hello in French."),
            temperature=0.2,
            max_tokens=5,
            top_p=0.5,
            stop=["\n"],
            seed=7,
        )
        r = generate(model, request)
        chunks, final = stream(model, request)
    sent, streamed = server.requests
    assert sent.method == "POST" and sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert sent.json == {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Say hello in French."},
        ],
        "temperature": 0.2,
        "max_completion_tokens": 5,  # OpenAI's reasoning models refuse max_tokens
        "top_p": 0.5,
        "stop": ["\n"],
        "seed": 7,
    }
    assert r.text == "Bonjour" and r.finish_reason == "stop"
    assert (r.usage.input_tokens, r.usage.output_tokens) == (11, 2)
    assert r.raw == _chat_completion()

    assert streamed.json["stream"] is True
    assert streamed.json["stream_options"] == {"include_usage": True}
    assert chunks == ["Bon", "jour"] and final.text == "Bonjour"
    assert final.finish_reason == "length"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (11, 2)


def test_mistral_dialect(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MISTRAL_API_KEY", PLAIN_KEY)
    allowed = {"model", "messages", "temperature", "top_p", "max_tokens", "stream", "stop"}
    allowed |= {"random_seed"}
    with LoopbackServer(_openai_like(allowed)) as server:
        config = config_with(tmp_path, mistral=ProviderSection(base_url=server.url + "/v1"))
        model = get_model("mistral:mistral-small-latest", config)
        request = chat(("user", "Salut"), max_tokens=5, seed=3)
        r = generate(model, request)  # a 422 here would raise BadRequestError
        chunks, final = stream(model, request)
    assert server.requests[0].json["random_seed"] == 3
    assert server.requests[0].json["max_tokens"] == 5
    assert server.requests[0].headers["authorization"] == f"Bearer {PLAIN_KEY}"
    assert r.text == "Bonjour"
    assert final.text == "".join(chunks) == "Bonjour"
    assert final.usage.output_tokens == 2  # Mistral sends usage in its last chunk unasked


def test_mistral_refusal_is_a_bad_request_with_its_detail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MISTRAL_API_KEY", PLAIN_KEY)
    with LoopbackServer(_openai_like({"model"})) as server:
        config = config_with(tmp_path, mistral=ProviderSection(base_url=server.url + "/v1"))
        err = raises(get_model("mistral:m", config), chat(("user", "x")))
    assert isinstance(err, BadRequestError) and err.status == 422
    assert "extra_forbidden" in str(err) and "messages" in str(err)


def test_ollama_and_openai_compatible_need_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for env in ("OPENAI_API_KEY", "OPENAI_COMPATIBLE_API_KEY"):
        monkeypatch.delenv(env, raising=False)
    ollama = get_model("ollama:llama3.2")
    assert ollama.base_url == "http://localhost:11434/v1"  # type: ignore[attr-defined]
    with LoopbackServer(_openai_like()) as server:
        model = get_model(f"openai-compatible:any@{server.url}/v1/")
        r = generate(model, chat(("user", "hi")))
    assert r.text == "Bonjour"
    assert server.requests[0].path == "/v1/chat/completions"  # trailing slash handled
    assert "authorization" not in server.requests[0].headers


def test_missing_key_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(UserError, match="OPENAI_API_KEY"):
        get_model("openai:gpt-4o-mini")
    with pytest.raises(UserError, match="ANTHROPIC_API_KEY"):
        get_model("anthropic:claude-haiku-4-5")
    monkeypatch.delenv("TEAM_KEY", raising=False)
    config = config_with(tmp_path, openai=ProviderSection(api_key_env="TEAM_KEY"))
    with pytest.raises(UserError, match="TEAM_KEY"):
        get_model("openai:gpt-4o-mini", config)


# ---- Anthropic's Messages API -------------------------------------------------------------


@pytest.fixture
def fake_anthropic() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(ANTHROPIC_KEY) as server:
        yield server


@pytest.fixture
def claude(fake_anthropic: FakeAnthropic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Model:
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    config = config_with(tmp_path, anthropic=ProviderSection(base_url=fake_anthropic.url))
    return get_model("anthropic:claude-test-1", config)


def test_anthropic_request_and_response(claude: Model, fake_anthropic: FakeAnthropic) -> None:
    request = chat(
        ("system", "Tu es concis."),
        ("system", "Réponds en français."),
        ("user", "Bonjour"),
        ("user", "Comment vas-tu ?"),  # consecutive user turns: must be merged
        ("assistant", "Bien."),
        ("user", "Et toi ?"),
        temperature=1.7,  # Anthropic's range is 0..1
        top_p=0.9,
        stop=["###"],
        max_tokens=50,
    )
    r = generate(claude, request)
    (sent,) = fake_anthropic.requests
    assert sent.method == "POST" and sent.path == "/v1/messages"
    assert sent.headers["x-api-key"] == ANTHROPIC_KEY
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in sent.headers
    assert sent.json == {
        "model": "claude-test-1",
        "max_tokens": 50,
        "system": "Tu es concis.\n\nRéponds en français.",
        "messages": [
            {"role": "user", "content": "Bonjour\n\nComment vas-tu ?"},
            {"role": "assistant", "content": "Bien."},
            {"role": "user", "content": "Et toi ?"},
        ],
        "temperature": 1.0,
        "top_p": 0.9,
        "stop_sequences": ["###"],
    }
    assert r.text == "Echo: Et toi ?"
    assert r.finish_reason == "stop"  # end_turn
    assert r.model == "anthropic:claude-test-1"
    assert r.usage.input_tokens == r.raw["usage"]["input_tokens"] > 0
    assert r.usage.output_tokens == 4
    assert r.raw["type"] == "message" and r.raw["id"].startswith("msg_")
    assert r.latency_s > 0


def test_anthropic_stop_reasons_and_defaults(claude: Model, fake_anthropic: FakeAnthropic) -> None:
    r = generate(claude, chat(("user", "one two three four five")))
    assert fake_anthropic.requests[-1].json["max_tokens"] == 1024  # required: a default is sent
    assert "temperature" not in fake_anthropic.requests[-1].json
    assert r.finish_reason == "stop"

    r = generate(claude, chat(("user", "one two three four five"), max_tokens=3))
    assert r.raw["stop_reason"] == "max_tokens"
    assert r.finish_reason == "length"
    assert r.text == "Echo: one two" and r.usage.output_tokens == 3

    r = generate(claude, chat(("user", "one two STOP three"), stop=["STOP"]))
    assert r.raw["stop_reason"] == "stop_sequence" and r.raw["stop_sequence"] == "STOP"
    assert r.finish_reason == "stop"
    assert r.text == "Echo: one two "


def test_anthropic_turn_rules(claude: Model, fake_anthropic: FakeAnthropic) -> None:
    """Conversations the API would refuse as they are are made valid, not sent as they are."""
    # starts with the assistant, has an empty turn, ends with a prefill with trailing space
    r = generate(
        claude,
        chat(
            ("assistant", "Je suis prêt."),
            ("user", ""),
            ("user", "Le ciel est"),
            ("assistant", "Réponse : "),
        ),
    )
    assert fake_anthropic.requests[-1].json["messages"] == [
        {"role": "user", "content": "(continue)"},
        {"role": "assistant", "content": "Je suis prêt."},
        {"role": "user", "content": "Le ciel est"},
        {"role": "assistant", "content": "Réponse :"},
    ]
    assert r.text == "Echo: Le ciel est"

    # completion mode: the exact text becomes the one user turn; system is kept
    generate(claude, Request((Message("system", "S"),), Params(), prompt_text="Once upon"))
    sent = fake_anthropic.requests[-1].json
    assert sent["messages"] == [{"role": "user", "content": "Once upon"}]
    assert sent["system"] == "S"


def test_anthropic_stream(claude: Model, fake_anthropic: FakeAnthropic) -> None:
    request = chat(("system", "S"), ("user", "un deux trois quatre"), max_tokens=4)
    whole = generate(claude, request)
    chunks, final = stream(claude, request)
    assert fake_anthropic.requests[-1].json["stream"] is True
    assert chunks == ["Echo: ", "un ", "deux ", "trois"]
    assert final.text == "".join(chunks) == whole.text
    assert final.finish_reason == "length" == whole.finish_reason
    assert final.usage == whole.usage  # input from message_start, output from message_delta
    assert final.model == "anthropic:claude-test-1"


def test_anthropic_error_event_inside_a_stream(
    claude: Model, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.error_mid_stream = True
    err = raises(claude, chat(("user", "a b c")), streaming=True)
    assert isinstance(err, ServerError) and err.retryable
    assert "overloaded_error" in str(err) and "Overloaded" in str(err)


def test_anthropic_base_url_from_prompteur_toml(
    fake_anthropic: FakeAnthropic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    for base in (fake_anthropic.url, fake_anthropic.url + "/v1"):  # both spellings work
        (tmp_path / "prompteur.toml").write_text(f'[providers.anthropic]\nbase_url = "{base}"\n')
        model = get_model("anthropic:claude-test-1", load_config(tmp_path))
        assert generate(model, chat(("user", "hé"))).text == "Echo: hé"
    assert [r.path for r in fake_anthropic.requests] == ["/v1/messages", "/v1/messages"]


def test_model_survives_a_new_event_loop(claude: Model) -> None:
    """A model used under two `asyncio.run`s (the CLI, notebooks) keeps working."""

    async def once() -> str:
        return (await claude.generate(chat(("user", "x")))).text  # no aclose: pooled

    assert asyncio.run(once()) == "Echo: x"
    assert asyncio.run(once()) == "Echo: x"
    asyncio.run(claude.aclose())


# ---- status codes → typed errors -----------------------------------------------------------

PROVIDERS = ["openai-compatible", "anthropic"]


def _error_body(provider: str, status: int, message: str) -> dict[str, Any]:
    if provider == "anthropic":
        kind = {401: "authentication_error", 429: "rate_limit_error", 529: "overloaded_error"}
        return {
            "type": "error",
            "error": {"type": kind.get(status, "api_error"), "message": message},
        }
    return {"error": {"message": message, "type": "error", "param": None, "code": None}}


def _model_at(
    provider: str, url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **kw: Any
) -> Model:
    if provider == "anthropic":
        monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
        config = config_with(tmp_path, anthropic=ProviderSection(base_url=url, **kw))
        return get_model("anthropic:claude-test-1", config)
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", OPENAI_KEY)
    config = config_with(tmp_path, **{"openai-compatible": ProviderSection(**kw)})
    return get_model(f"openai-compatible:m@{url}/v1", config)


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(
    ("status", "headers", "kind", "retryable", "retry_after"),
    [
        (401, {}, AuthError, False, None),
        (403, {}, AuthError, False, None),
        (429, {"retry-after": "7"}, RateLimitError, True, 7.0),
        (429, {"retry-after-ms": "1500", "retry-after": "2"}, RateLimitError, True, 1.5),
        (429, {"retry-after": "soon"}, RateLimitError, True, None),
        (429, {}, RateLimitError, True, None),
        (400, {}, BadRequestError, False, None),
        (404, {}, BadRequestError, False, None),
        (408, {}, ModelTimeoutError, True, None),
        (500, {}, ServerError, True, None),
        (503, {"retry-after": "1"}, ServerError, True, None),
        (529, {}, ServerError, True, None),
    ],
)
def test_status_becomes_typed_error(
    provider: str,
    status: int,
    headers: dict[str, str],
    kind: type[ModelError],
    retryable: bool,
    retry_after: float | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = _error_body(provider, status, f"the server says no ({status})")
    with LoopbackServer(lambda _req: Reply(status, body, headers=headers)) as server:
        model = _model_at(provider, server.url, tmp_path, monkeypatch)
        errors = [
            raises(model, chat(("user", "x"))),
            raises(model, chat(("user", "x")), streaming=True),
        ]
    for err in errors:
        assert type(err) is kind
        assert err.retryable is retryable
        assert err.status == status
        assert f"the server says no ({status})" in str(err)
        assert model.id in str(err)
        if kind is RateLimitError:
            assert err.retry_after == retry_after  # type: ignore[attr-defined]


def test_retry_after_forms() -> None:
    assert parse_retry_after(httpx.Headers({"retry-after": "7"})) == 7.0
    assert parse_retry_after(httpx.Headers({"retry-after": "0.5"})) == 0.5
    assert parse_retry_after(httpx.Headers({"retry-after-ms": "250"})) == 0.25
    assert parse_retry_after(httpx.Headers({"retry-after-ms": "x", "retry-after": "3"})) == 3.0
    assert parse_retry_after(httpx.Headers({"retry-after": "-4"})) == 0.0
    assert parse_retry_after(httpx.Headers({"retry-after": "nan"})) is None
    assert parse_retry_after(httpx.Headers({"retry-after": "Mon, 99 Foo 2025 xx"})) is None
    assert parse_retry_after(httpx.Headers({})) is None
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert parse_retry_after(httpx.Headers({"retry-after": date})) == pytest.approx(30, abs=2)
    naive = email.utils.formatdate(time.time() + 30).replace("+0000", "-0000")
    assert parse_retry_after(httpx.Headers({"retry-after": naive})) == pytest.approx(30, abs=2)
    past = email.utils.formatdate(time.time() - 60, usegmt=True)
    assert parse_retry_after(httpx.Headers({"retry-after": past})) == 0.0


@pytest.mark.parametrize("provider", PROVIDERS)
def test_slow_server_is_a_timeout(
    provider: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with LoopbackServer(lambda _req: Reply(200, {}, delay=10)) as server:
        model = _model_at(provider, server.url, tmp_path, monkeypatch, timeout=0.3)
        start = time.perf_counter()
        err = raises(model, chat(("user", "x")))
        elapsed = time.perf_counter() - start
    assert isinstance(err, ModelTimeoutError) and err.retryable
    assert elapsed < 3, "the configured timeout was used, not the 120 s default"


def test_stream_that_stalls_is_a_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stalled = Reply(
        200,
        chunks=sse([("message_start", {"type": "message_start", "message": {}})]),
        stall_after_chunks=10,
    )
    with LoopbackServer(lambda _req: stalled) as server:
        model = _model_at("anthropic", server.url, tmp_path, monkeypatch, timeout=0.3)
        err = raises(model, chat(("user", "x")), streaming=True)
    assert isinstance(err, ModelTimeoutError) and err.retryable


@pytest.mark.parametrize("provider", PROVIDERS)
def test_closed_port_is_a_connect_error(
    provider: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _model_at(provider, f"http://127.0.0.1:{free_port()}", tmp_path, monkeypatch)
    for streaming in (False, True):
        err = raises(model, chat(("user", "x")), streaming=streaming)
        assert isinstance(err, ConnectError) and err.retryable
        assert err.status is None


def test_garbage_replies_are_server_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    replies = iter(
        [
            Reply(200, "<html>not json</html>"),
            Reply(200, [1, 2, 3]),
            Reply(502, "<html><body>Bad Gateway from the proxy</body></html>"),
        ]
    )
    with LoopbackServer(lambda _req: next(replies)) as server:
        model = _model_at("openai-compatible", server.url, tmp_path, monkeypatch)
        first = raises(model, chat(("user", "x")))
        second = raises(model, chat(("user", "x")))
        third = raises(model, chat(("user", "x")))
    assert isinstance(first, ServerError) and "not json" in str(first)
    assert isinstance(second, ServerError)
    assert isinstance(third, ServerError) and third.status == 502
    assert "Bad Gateway from the proxy" in str(third)


def test_openai_error_inside_a_stream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chunks = sse(
        [
            (None, {"choices": [{"index": 0, "delta": {"content": "Hal"}}]}),
            (
                None,
                {"error": {"message": f"quota for {OPENAI_KEY}", "type": "rate_limit_exceeded"}},
            ),
        ]
    )
    with LoopbackServer(lambda _req: Reply(200, chunks=chunks)) as server:
        model = _model_at("openai-compatible", server.url, tmp_path, monkeypatch)
        err = raises(model, chat(("user", "x")), streaming=True)
    assert isinstance(err, RateLimitError) and err.retryable
    assert_no_key(str(err), repr(err))


# ---- keys never leak ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "echo",
    [
        f"Incorrect API key provided: {OPENAI_KEY}. You can find your API key at …",
        "Incorrect API key provided: sk-test-****************3456.",  # masked by the provider
        f"key {PLAIN_KEY} is not valid",
    ],
)
@pytest.mark.parametrize("streaming", [False, True])
def test_key_echoed_by_the_server_is_redacted(
    echo: str,
    streaming: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = PLAIN_KEY if PLAIN_KEY in echo else OPENAI_KEY
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", key)
    caplog.set_level(logging.DEBUG)
    body = {"error": {"message": echo, "type": "invalid_request_error", "code": "invalid_api_key"}}
    with LoopbackServer(lambda _req: Reply(401, body)) as server:
        model = get_model(f"openai-compatible:m@{server.url}/v1")
        err = raises(model, chat(("user", "x")), streaming=streaming)
    assert server.requests[0].headers["authorization"] == f"Bearer {key}"  # it was sent...
    assert isinstance(err, AuthError)
    assert "***" in str(err)
    assert_no_key(str(err), repr(err), str(err.args), repr(model), str(model))  # ...never shown
    assert "3456" not in str(err).replace(model.id, "")  # the random port may hold "3456"
    assert_no_key(caplog.text, *(str(r.args) for r in caplog.records))


def test_redact() -> None:
    assert redact(f"bad {PLAIN_KEY}!", PLAIN_KEY) == "bad ***!"
    assert redact("token sk-proj-abc_DEF-123456 here", None) == "token *** here"
    assert redact("nothing secret here", "") == "nothing secret here"


def test_key_absent_from_logs_model_and_response(
    claude: Model, fake_anthropic: FakeAnthropic, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    r = generate(claude, chat(("user", "hello")))
    _, final = stream(claude, chat(("user", "hello")))
    assert fake_anthropic.requests[0].headers["x-api-key"] == ANTHROPIC_KEY
    assert any("HTTP Request" in rec.getMessage() for rec in caplog.records), "httpx did log"
    assert_no_key(
        caplog.text,
        *(str(rec.args) for rec in caplog.records),
        repr(claude),
        str(claude),
        json.dumps(claude.describe()),
        repr(r),
        json.dumps(r.raw),
        repr(final),
    )


def test_wrong_key_through_anthropic_is_redacted(
    fake_anthropic: FakeAnthropic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", PLAIN_KEY)  # the server accepts another one
    config = config_with(tmp_path, anthropic=ProviderSection(base_url=fake_anthropic.url))
    model = get_model("anthropic:claude-test-1", config)
    for streaming in (False, True):
        err = raises(model, chat(("user", "x")), streaming=streaming)
        assert isinstance(err, AuthError) and err.status == 401
        assert "authentication" in str(err) or "invalid x-api-key" in str(err)
        assert_no_key(str(err), repr(err))


def test_key_absent_from_cli_json_and_store(
    project: Path, fake_anthropic: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from prompteur.cli import app

    with (project / "prompteur.toml").open("a") as f:
        f.write(f'\n[providers.anthropic]\nbase_url = "{fake_anthropic.url}"\n')
    runner = CliRunner()
    args = ["ask", "sentiment", "-m", "anthropic:claude-test-1", "-i", "review=Great", "--json"]

    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    ok = runner.invoke(app, args)
    assert ok.exit_code == 0, ok.output
    data = json.loads(ok.stdout)
    assert data["model"] == "anthropic:claude-test-1"
    assert data["output"].startswith("Echo: ")
    assert fake_anthropic.requests[-1].headers["x-api-key"] == ANTHROPIC_KEY

    monkeypatch.setenv("ANTHROPIC_API_KEY", PLAIN_KEY)  # refused, and echoed by the server
    refused = runner.invoke(app, args)
    assert refused.exit_code == 1
    assert "401" in refused.output

    stored = b"".join(p.read_bytes() for p in (project / ".prompteur").rglob("*") if p.is_file())
    assert stored, "the run was recorded"
    assert_no_key(ok.output, refused.output, stored.decode("utf-8", "replace"))


# ---- tools and content parts (Prompty's tools:, image/file inputs) -----------------------


def _tools_prompt(provider: str, model: str, extra: str = "{user: u1}") -> Request:
    from prompteur.prompt import parse_prompt

    text = f"""---
model: {{id: {model}, provider: {provider}, options: {{topK: 5, additionalProperties: {extra}}}}}
inputs:
  - {{name: picture, kind: image}}
tools:
  - name: get_weather
    kind: function
    description: Weather of a city
    parameters:
      - {{name: city, kind: string, required: true}}
---
system:
Use tools.
user:
What is in the picture?
{{{{picture}}}}
"""
    return parse_prompt(text).request({"picture": "https://img.test/cat.png"})


def test_openai_tools_and_image_parts_on_the_wire(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    call = {"id": "call_1", "type": "function"}
    call["function"] = {"name": "get_weather", "arguments": '{"city": "Paris"}'}  # type: ignore[assignment]
    reply = {
        "choices": [
            {
                "message": {"role": "assistant", "content": None, "tool_calls": [call]},
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 9, "completion_tokens": 3},
    }
    with LoopbackServer(lambda req: Reply(200, reply)) as server:
        config = config_with(tmp_path, openai=ProviderSection(base_url=server.url + "/v1"))
        r = generate(get_model("openai:gpt-4o", config), _tools_prompt("openai", "gpt-4o"))
    (sent,) = server.requests
    body = sent.json
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather of a city",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            },
        }
    ]
    assert body["messages"][1] == {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is in the picture?"},
            {"type": "image_url", "image_url": {"url": "https://img.test/cat.png"}},
        ],
    }
    assert body["user"] == "u1" and "top_k" not in body  # OpenAI refuses top_k
    assert r.finish_reason == "tool_calls"
    assert r.tool_calls == (
        {"id": "call_1", "name": "get_weather", "arguments": '{"city": "Paris"}'},
    )


def test_anthropic_tools_and_image_blocks(
    tmp_path: Path, fake_anthropic: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    config = config_with(tmp_path, anthropic=ProviderSection(base_url=fake_anthropic.url))
    model = get_model("anthropic:claude-test-1", config)
    r = generate(model, _tools_prompt("anthropic", "claude-test-1", "{metadata: {user_id: u1}}"))
    body = fake_anthropic.requests[-1].json
    assert body["tools"] == [
        {
            "name": "get_weather",
            "description": "Weather of a city",
            "input_schema": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        }
    ]
    assert body["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in the picture?"},
                {"type": "image", "source": {"type": "url", "url": "https://img.test/cat.png"}},
            ],
        }
    ]
    assert body["top_k"] == 5 and body["metadata"] == {"user_id": "u1"}
    assert r.finish_reason == "tool_calls"
    assert r.tool_calls == ({"id": "toolu_01", "name": "get_weather", "arguments": "{}"},)


def test_embedded_model_refuses_tools_and_media() -> None:
    from prompteur.models.local import LocalModel

    model = LocalModel("local", Path("/nonexistent.gguf"))
    with_tools = _tools_prompt("openai", "gpt-4o")
    with pytest.raises(BadRequestError, match="cannot call tools"):
        model._prepare(None, with_tools)
    media = Request(with_tools.messages, Params())
    with pytest.raises(BadRequestError, match="text only"):
        model._prepare(None, media)


# ---- Azure OpenAI (Prompty's home) -------------------------------------------------------

AZURE_KEY = "azureSECRETkey0123456789"
AZURE_TOKEN = "eyJhbGciOiJSUzI1NiJ9.entraSECRETtoken"


def _azure(deployments: set[str], version: str = "2024-10-21") -> Callable[[Recorded], Reply]:
    """Azure OpenAI's chat completions as documented: deployment in the path, api-version in
    the query, `api-key` (or an Entra ID bearer token); 401 and 404 bodies in its format."""

    def handle(req: Recorded) -> Reply:
        from urllib.parse import parse_qs, urlsplit

        url = urlsplit(req.path)
        parts = url.path.split("/")
        if parts[:3] != ["", "openai", "deployments"] or parts[4:] != ["chat", "completions"]:
            return Reply(404, {"error": {"code": "404", "message": "Resource not found"}})
        if parse_qs(url.query).get("api-version") != [version]:
            return Reply(400, {"error": {"code": "BadRequest", "message": "bad api-version"}})
        auth = req.headers.get("api-key") == AZURE_KEY or (
            req.headers.get("authorization") == f"Bearer {AZURE_TOKEN}"
        )
        if not auth:
            return Reply(401, {"error": {"code": "401", "message": "Access denied: bad key"}})
        if parts[3] not in deployments:
            return Reply(
                404, {"error": {"code": "DeploymentNotFound", "message": "no such deployment"}}
            )
        return Reply(200, _chat_completion("Bonjour"))

    return handle


def test_azure_openai_deployment_key_and_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", AZURE_KEY)
    monkeypatch.delenv("AZURE_OPENAI_ENDPOINT", raising=False)
    with LoopbackServer(_azure({"gpt-4o-prod"})) as server:
        config = config_with(tmp_path, azure_openai=ProviderSection(base_url=server.url))
        r = generate(get_model("azure_openai:gpt-4o-prod", config), chat(("user", "Salut")))
        # the endpoint from the environment, as Azure's own SDK reads it
        monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", server.url)
        generate(get_model("azure_openai:gpt-4o-prod"), chat(("user", "Salut"), max_tokens=3))
        missing = raises(get_model("azure_openai:nope", config), chat(("user", "x")))
        monkeypatch.setenv("AZURE_OPENAI_API_KEY", "wrong")
        denied = raises(get_model("azure_openai:gpt-4o-prod", config), chat(("user", "x")))
    first, second, *_ = server.requests
    assert first.path == "/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21"
    assert first.headers["api-key"] == AZURE_KEY and "authorization" not in first.headers
    assert first.json == {"messages": [{"role": "user", "content": "Salut"}]}
    assert second.json["max_tokens"] == 3
    assert r.text == "Bonjour" and r.model == "azure_openai:gpt-4o-prod"
    assert isinstance(missing, BadRequestError) and "no such deployment" in str(missing)
    assert isinstance(denied, AuthError)
    assert_no_key(str(missing), str(denied))


def test_azure_openai_entra_token_and_api_version_from_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("AZURE_OPENAI_AD_TOKEN", AZURE_TOKEN)
    with LoopbackServer(_azure({"d1"}, version="2025-01-01-preview")) as server:
        section = ProviderSection(base_url=server.url, api_version="2025-01-01-preview")
        config = config_with(tmp_path, azure_openai=section)
        r = generate(get_model("azure_openai:d1", config), chat(("user", "x")))
    (sent,) = server.requests
    assert (
        sent.headers["authorization"] == f"Bearer {AZURE_TOKEN}" and "api-key" not in sent.headers
    )
    assert r.text == "Bonjour"
    monkeypatch.delenv("AZURE_OPENAI_AD_TOKEN")
    with pytest.raises(UserError, match="no API key") as e:
        get_model("azure_openai:d1", config)
    assert "AZURE_OPENAI_API_KEY" in (e.value.hint or "")


def test_prompty_azure_connection_maps_to_the_provider_and_its_endpoint_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Prompty file's connection names the endpoint and the key's variable: both travel in
    the model id; the key goes to that endpoint only when the project allows it."""
    from prompteur.api._ask import choose_model
    from prompteur.prompt import load_prompt

    monkeypatch.setenv("MY_AZURE_KEY", AZURE_KEY)
    monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)
    with LoopbackServer(_azure({"chat-deploy"})) as server:
        path = tmp_path / "azure.prompty"
        path.write_text(
            "---\nname: azure\nmodel:\n  id: chat-deploy\n  provider: azure\n  connection:\n"
            f"    kind: key\n    endpoint: {server.url}\n    apiKey: ${{env:MY_AZURE_KEY}}\n"
            "inputs:\n  - name: q\n    kind: string\n    default: Salut\n---\nuser:\n{{q}}\n",
            encoding="utf-8",
        )
        monkeypatch.setenv("PROMPTY_TRUSTED_ENDPOINTS", server.url)  # Prompty's own rule
        prompt = load_prompt(path)
        assert prompt.model_id == f"azure_openai:chat-deploy@{server.url}#MY_AZURE_KEY"
        bare = config_with(tmp_path)
        model_id = choose_model(bare, prompt, None)
        with pytest.raises(UserError, match="no API key"):
            get_model(model_id, bare)  # not an endpoint the project lists: the key stays here
        assert server.requests == []
        allowed = config_with(tmp_path)
        allowed.data.security.endpoints.append(server.url)
        r = generate(get_model(model_id, allowed), prompt.request())
    (sent,) = server.requests
    assert sent.headers["api-key"] == AZURE_KEY
    assert sent.path.startswith("/openai/deployments/chat-deploy/chat/completions?")
    assert r.text == "Bonjour"
