"""The light HTTP/1.1 client behind every non-streamed provider call (models/http1.py), against
a raw asyncio server on loopback that writes exactly the bytes each test needs: keep-alive
reuse, chunked and gzip bodies, bodies ended by closing, servers that close idle connections,
hang or drop, and what makes HTTPModel hand the call to httpx instead."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from prompteur.models.base import (
    ConnectError,
    Message,
    ModelTimeoutError,
    Params,
    RateLimitError,
    Request,
)
from prompteur.models.openai_compat import OpenAICompatModel

REQ = Request((Message("user", "hi"),), Params(max_tokens=3))
OK = {"choices": [{"message": {"content": "Bonjour"}, "finish_reason": "stop"}], "usage": {}}

Answer = Callable[[asyncio.StreamReader, asyncio.StreamWriter, dict[str, Any]], Awaitable[bool]]


def response(body: bytes, status: str = "200 OK", headers: str = "") -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{headers}\r\n"
    ).encode() + body


async def read_request(reader: asyncio.StreamReader) -> dict[str, Any] | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", 0)))
    return {"line": lines[0], "headers": headers, "body": body}


class RawServer:
    """Each connection: read a request, let `answer` write bytes; it returns whether to keep
    the connection open for the next request."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.connections = 0
        self.requests: list[dict[str, Any]] = []

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while (req := await read_request(reader)) is not None:
                self.requests.append(req)
                if not await self.answer(reader, writer, req):
                    break
                await writer.drain()
        finally:
            writer.close()

    async def __aenter__(self) -> RawServer:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()

    def model(self, path: str = "/v1", **kw: Any) -> OpenAICompatModel:
        return OpenAICompatModel(
            "openai-compatible:m",
            "m",
            f"http://127.0.0.1:{self.port}{path}",
            "sk-test-123456",
            **kw,
        )


def serve(answer: Answer, scenario: Callable[[RawServer], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        async with RawServer(answer) as server:
            return await scenario(server)

    return asyncio.run(main())


async def ok(_r: asyncio.StreamReader, w: asyncio.StreamWriter, _req: dict[str, Any]) -> bool:
    w.write(response(json.dumps(OK).encode()))
    return True


def test_requests_share_one_keep_alive_connection_and_carry_the_headers() -> None:
    async def scenario(server: RawServer) -> tuple[list[str], RawServer]:
        model = server.model()
        texts = [(await model.generate(REQ)).text for _ in range(3)]
        await model.aclose()
        return texts, server

    texts, server = serve(ok, scenario)
    assert texts == ["Bonjour"] * 3
    assert server.connections == 1
    first = server.requests[0]
    assert first["line"] == "POST /v1/chat/completions HTTP/1.1"
    h = first["headers"]
    assert h["host"] == f"127.0.0.1:{server.port}"
    assert h["authorization"] == "Bearer sk-test-123456"
    assert h["content-type"] == "application/json"
    assert h["user-agent"].startswith("prompteur/")
    assert json.loads(first["body"]) == {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 3,
    }


@pytest.mark.parametrize("kind", ["chunked", "gzip", "close-delimited"])
def test_body_framings(kind: str) -> None:
    body = json.dumps(OK).encode()

    async def answer(_r: asyncio.StreamReader, w: asyncio.StreamWriter, _req: Any) -> bool:
        if kind == "chunked":
            w.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            for i in range(0, len(body), 7):
                part = body[i : i + 7]
                w.write(b"%x; ext=1\r\n%s\r\n" % (len(part), part))
            w.write(b"0\r\nX-Trailer: yes\r\n\r\n")
            return True
        if kind == "gzip":
            w.write(response(gzip.compress(body), headers="Content-Encoding: gzip\r\n"))
            return True
        w.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body)
        return False

    async def scenario(server: RawServer) -> tuple[list[str], int]:
        model = server.model()
        texts = [(await model.generate(REQ)).text for _ in range(2)]
        await model.aclose()
        return texts, server.connections

    texts, connections = serve(answer, scenario)
    assert texts == ["Bonjour", "Bonjour"]
    assert connections == (2 if kind == "close-delimited" else 1)


def test_a_connection_the_server_closed_while_idle_is_not_reused() -> None:
    async def answer(r: asyncio.StreamReader, w: asyncio.StreamWriter, req: Any) -> bool:
        await ok(r, w, req)
        return False  # closes after each answer, without saying so

    async def scenario(server: RawServer) -> tuple[list[str], int]:
        model = server.model()
        texts = []
        for _ in range(3):
            texts.append((await model.generate(REQ)).text)
            await asyncio.sleep(0.05)  # the close reaches the client
        await model.aclose()
        return texts, server.connections

    texts, connections = serve(answer, scenario)
    assert texts == ["Bonjour"] * 3 and connections == 3


def test_status_and_retry_after_reach_the_typed_error() -> None:
    async def answer(_r: asyncio.StreamReader, w: asyncio.StreamWriter, _req: Any) -> bool:
        body = b'{"error": {"message": "slow down for sk-test-123456", "type": "x"}}'
        w.write(response(body, "429 Too Many Requests", "Retry-After-Ms: 250\r\n"))
        return True

    async def scenario(server: RawServer) -> Exception:
        model = server.model()
        with pytest.raises(RateLimitError) as info:
            await model.generate(REQ)
        await model.aclose()
        return info.value

    err = serve(answer, scenario)
    assert isinstance(err, RateLimitError)
    assert err.status == 429 and err.retry_after == 0.25
    assert "sk-test-123456" not in str(err) and "slow down" in str(err)


@pytest.mark.parametrize("fault", ["hang", "drop", "garbage", "short"])
def test_faults_become_retryable_errors_and_the_connection_is_dropped(fault: str) -> None:
    async def answer(r: asyncio.StreamReader, w: asyncio.StreamWriter, req: Any) -> bool:
        if len(answer_calls) == 0:
            answer_calls.append(1)
            if fault == "hang":
                await asyncio.sleep(2)
                return False
            if fault == "garbage":
                w.write(b"SMTP ready\r\n\r\n")
                return False
            if fault == "short":
                w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{}")
                return False
            return False  # drop: close without an answer
        return await ok(r, w, req)

    answer_calls: list[int] = []

    async def scenario(server: RawServer) -> tuple[Exception, str, int]:
        model = server.model(timeout=0.3)
        try:
            await model.generate(REQ)
        except Exception as exc:
            err = exc
        else:
            raise AssertionError("no error")
        text = (await model.generate(REQ)).text  # a fresh connection works
        await model.aclose()
        return err, text, server.connections

    err, text, connections = serve(answer, scenario)
    expected = ModelTimeoutError if fault == "hang" else ConnectError
    assert type(err) is expected and err.retryable  # type: ignore[attr-defined]
    assert text == "Bonjour" and connections == 2


def test_cancelled_call_does_not_return_its_connection_to_the_pool() -> None:
    async def answer(r: asyncio.StreamReader, w: asyncio.StreamWriter, req: Any) -> bool:
        await asyncio.sleep(0.2)
        return await ok(r, w, req)

    async def scenario(server: RawServer) -> int:
        model = server.model()
        task = asyncio.create_task(model.generate(REQ))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        pool = model._light_pool()
        assert pool is not None
        idle = len(pool._idle)
        await model.aclose()
        return idle

    assert serve(answer, scenario) == 0


def test_base_url_query_is_kept_in_the_target() -> None:
    async def scenario(server: RawServer) -> str:
        model = server.model("/openai?api-version=1")
        await model.generate(REQ)
        await model.aclose()
        return server.requests[0]["line"]

    # as httpx did with base_url + path: the path lands after the query
    assert serve(ok, scenario) == "POST /openai?api-version=1/chat/completions HTTP/1.1"


@pytest.mark.parametrize(
    ("url", "headers", "env"),
    [
        ("http://127.0.0.1:1/v1", {}, {"HTTPS_PROXY": "http://proxy:3128"}),
        ("http://user:pw@127.0.0.1:1/v1", {}, {}),
        ("http://127.0.0.1:1/v1", {"X-Team": "a\r\nInjected: 1"}, {}),
        ("ftp://127.0.0.1/v1", {}, {}),
        ("", {}, {}),
    ],
)
def test_what_the_light_client_leaves_to_httpx(
    url: str, headers: dict[str, str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    model = OpenAICompatModel("x:m", "m", url, None, headers=headers)
    assert model._wire_setup() is None


def test_https_uses_tls_with_the_host_name() -> None:
    model = OpenAICompatModel("x:m", "m", "https://api.example.com/v1", "k")
    host, port, host_header, tls, fixed = model._wire_setup()  # type: ignore[misc]
    assert (host, port, host_header, tls) == ("api.example.com", 443, "api.example.com", True)
    assert b"\r\n" in fixed and b"api.example.com" not in fixed
