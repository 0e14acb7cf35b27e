"""Small real HTTP servers on loopback for provider tests.

`LoopbackServer` is a threaded `http.server` on 127.0.0.1 with a free port. A handler function
gets each request (method, path, headers, parsed JSON) and returns a `Reply`: a status, headers
and a body, or a list of chunks written one by one (server-sent events), with optional delays.
Every request is recorded so a test can assert what the client really sent on the wire.

`FakeAnthropic` answers POST /v1/messages the way Anthropic documents it, after checking the
request the way the API does (headers, required fields, roles, ranges); a request the API would
refuse gets the API's 400 error body, so a provider bug shows up as a BadRequestError.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list → JSON; str/bytes as is
    headers: dict[str, str] = field(default_factory=dict)
    chunks: list[bytes] | None = None  # written one by one, flushed (streaming)
    delay: float = 0.0  # seconds before the status line
    chunk_delay: float = 0.0  # seconds between chunks
    stall_after_chunks: float = 0.0  # seconds to hang after the last chunk, before closing


def sse(events: list[tuple[str | None, Any]]) -> list[bytes]:
    """Server-sent events: (event name or None, data as JSON-able or a raw str)."""
    out = []
    for name, data in events:
        text = data if isinstance(data, str) else json.dumps(data)
        head = f"event: {name}\n" if name else ""
        out.append(f"{head}data: {text}\n\n".encode())
    return out


Handler = Callable[[Recorded], Reply]


class LoopbackServer:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Recorded] = []
        self._stopping = threading.Event()
        outer = self

        class _RequestHandler(BaseHTTPRequestHandler):
            # keep-alive like real servers (clients pool connections); a stream has no length
            # and ends when its connection closes
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                rec = Recorded(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                outer.requests.append(rec)
                reply = outer.handler(rec)
                if reply.delay and outer._stopping.wait(reply.delay):
                    return
                # the client may have given up (a timeout test): nothing left to answer
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._write(reply)

            def _write(self, reply: Reply) -> None:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.chunks is not None:
                    if not any(k.lower() == "content-type" for k in reply.headers):
                        self.send_header("content-type", "text/event-stream")
                    self.send_header("connection", "close")
                    self.close_connection = True
                    self.end_headers()
                    for chunk in reply.chunks:
                        self.wfile.write(chunk)
                        self.wfile.flush()
                        if reply.chunk_delay and outer._stopping.wait(reply.chunk_delay):
                            return
                    if reply.stall_after_chunks:
                        outer._stopping.wait(reply.stall_after_chunks)
                    return
                body = reply.body
                if isinstance(body, dict | list):
                    data = json.dumps(body).encode()
                    ctype = "application/json"
                elif isinstance(body, str):
                    data, ctype = body.encode(), "text/plain; charset=utf-8"
                else:
                    data, ctype = body or b"", "application/octet-stream"
                if not any(k.lower() == "content-type" for k in reply.headers):
                    self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = _handle
            do_GET = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _RequestHandler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def chat_reply(content: str, *, model: str = "m", tokens: tuple[int, int] = (5, 5)) -> Reply:
    """An OpenAI chat-completions answer whose message is `content`; `tokens` is the usage
    (prompt, completion)."""
    return Reply(
        200,
        {
            "id": "c",
            "object": "chat.completion",
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": tokens[0], "completion_tokens": tokens[1]},
        },
    )


def keyword_judge(word: str) -> Callable[[Recorded], Reply]:
    """A judge on an OpenAI-compatible route that passes an output containing `word`: exact,
    predictable verdicts for the tests of judge calibration."""

    def handle(req: Recorded) -> Reply:
        user = req.json["messages"][1]["content"]
        output = user.split("<output>\n", 1)[1].split("\n</output>", 1)[0]
        score = 1 if word in output.lower() else 0
        content = json.dumps({"reason": f"{word}" if score else f"no {word}", "score": score})
        return chat_reply(content, model="judge", tokens=(1, 1))

    return handle


def free_port() -> int:
    """A port nothing listens on (bound then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- Anthropic's Messages API, as documented -------------------------------------------

ANTHROPIC_VERSION = "2023-06-01"


def _block_problems(blocks: list[Any]) -> list[tuple[int, str]]:
    """What the Messages API refuses in a list of content blocks."""
    out = []
    for j, b in enumerate(blocks):
        kind = b.get("type") if isinstance(b, dict) else None
        if kind == "text":
            if not isinstance(b.get("text"), str) or not b["text"].strip():
                out.append((j, "text content blocks must be non-empty"))
        elif kind in ("image", "document"):
            source = b.get("source") or {}
            ok = (source.get("type") == "url" and isinstance(source.get("url"), str)) or (
                source.get("type") == "base64" and source.get("media_type") and source.get("data")
            )
            if not ok:
                out.append((j, f"{kind}.source: needs type url (url) or base64 (media_type, data)"))
        else:
            out.append((j, f"Input tag {kind!r} is not one of text, image, document"))
    return out


_TOP_LEVEL = {
    "model",
    "max_tokens",
    "messages",
    "system",
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
    "stream",
    "metadata",
    "tools",
    "tool_choice",
    "thinking",
    "service_tier",
}


def anthropic_error(status: int, kind: str, message: str) -> Reply:
    return Reply(status, {"type": "error", "error": {"type": kind, "message": message}})


class FakeAnthropic:
    """Checks each request like the Messages API does, then answers "Echo: <last user turn>".

    The answer is cut at the first stop sequence (stop_reason "stop_sequence") or after
    `max_tokens` words (stop_reason "max_tokens"); a word counts as one token.
    `error_mid_stream` makes a stream send an `overloaded_error` event after its first delta.
    """

    def __init__(self, key: str) -> None:
        self.key = key
        self.error_mid_stream = False
        self.server = LoopbackServer(self.handle)

    def __enter__(self) -> FakeAnthropic:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.close()

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def requests(self) -> list[Recorded]:
        return self.server.requests

    def validate(self, req: Recorded) -> Reply | None:
        """The API's refusal for this request, or None when it is valid."""
        if req.method != "POST" or req.path != "/v1/messages":
            return anthropic_error(404, "not_found_error", f"{req.method} {req.path} not found")
        if req.headers.get("x-api-key") != self.key:
            # echoes what it got, as some providers do: the client must redact it
            got = req.headers.get("x-api-key", "")
            return anthropic_error(401, "authentication_error", f"invalid x-api-key: {got}")
        if req.headers.get("anthropic-version") != ANTHROPIC_VERSION:
            return anthropic_error(400, "invalid_request_error", "anthropic-version: bad value")
        if not req.headers.get("content-type", "").startswith("application/json"):
            return anthropic_error(400, "invalid_request_error", "content-type must be JSON")
        try:
            body = req.json
        except ValueError:
            return anthropic_error(400, "invalid_request_error", "body is not JSON")
        problems = self.problems(body)
        if problems:
            return anthropic_error(400, "invalid_request_error", "; ".join(problems))
        return None

    @staticmethod
    def problems(body: Any) -> list[str]:
        if not isinstance(body, dict):
            return ["body: must be an object"]
        out = [f"{k}: Extra inputs are not permitted" for k in body if k not in _TOP_LEVEL]
        if not isinstance(body.get("model"), str) or not body.get("model"):
            out.append("model: Field required")
        mt = body.get("max_tokens")
        if not isinstance(mt, int) or isinstance(mt, bool) or mt < 1:
            out.append("max_tokens: Field required (an integer >= 1)")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            out.append("messages: Field required (a non-empty list)")
            messages = []
        previous = None
        for i, m in enumerate(messages):
            if not isinstance(m, dict) or set(m) != {"role", "content"}:
                out.append(f"messages.{i}: needs exactly role and content")
                continue
            if m["role"] not in ("user", "assistant"):
                out.append(f"messages.{i}.role: Unexpected role {m['role']!r}")
            if i == 0 and m["role"] != "user":
                out.append("messages: first message must use the user role")
            if m["role"] == previous:
                out.append("messages: roles must alternate between user and assistant")
            previous = m["role"]
            content = m["content"]
            if isinstance(content, list):
                out += [f"messages.{i}.content.{j}: {p}" for j, p in _block_problems(content)]
                content = "x"  # blocks checked; no prefill rule applies to them here
            if not isinstance(content, str) or not content.strip():
                out.append(f"messages.{i}.content: text content blocks must be non-empty")
            elif (
                i == len(messages) - 1 and m["role"] == "assistant" and content != content.rstrip()
            ):
                out.append("final assistant content cannot end with trailing whitespace")
        if "system" in body and not isinstance(body["system"], str):
            out.append("system: must be a string")
        for name in ("temperature", "top_p"):
            if name in body:
                v = body[name]
                if not isinstance(v, int | float) or isinstance(v, bool) or not 0 <= v <= 1:
                    out.append(f"{name}: must be between 0 and 1")
        if "stop_sequences" in body:
            seqs = body["stop_sequences"]
            if not isinstance(seqs, list) or not all(isinstance(s, str) and s for s in seqs):
                out.append("stop_sequences: must be a list of non-empty strings")
        if "stream" in body and not isinstance(body["stream"], bool):
            out.append("stream: must be a boolean")
        for j, tool in enumerate(body.get("tools") or []):
            schema = tool.get("input_schema") if isinstance(tool, dict) else None
            if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
                out.append(f"tools.{j}.name: Field required")
            elif not isinstance(schema, dict) or schema.get("type") != "object":
                out.append(f"tools.{j}.input_schema: must be a JSON Schema of type object")
        return out

    def answer(self, body: dict[str, Any]) -> tuple[str, str, str | None, int, int]:
        """(text, stop_reason, stop_sequence, input_tokens, output_tokens)."""
        last_user = next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")
        if isinstance(last_user, list):
            last_user = " ".join(b.get("text", f"<{b['type']}>") for b in last_user)
        text = f"Echo: {last_user}"
        stop_reason, stop_sequence = "end_turn", None
        for seq in body.get("stop_sequences") or []:
            at = text.find(seq)
            if at >= 0:
                text, stop_reason, stop_sequence = text[:at], "stop_sequence", seq
                break
        words = text.split(" ")
        if len(words) > body["max_tokens"]:
            words = words[: body["max_tokens"]]
            text, stop_reason, stop_sequence = " ".join(words), "max_tokens", None
        prompt = " ".join([body.get("system", "")] + [str(m["content"]) for m in body["messages"]])
        return text, stop_reason, stop_sequence, len(prompt.split()), len(words)

    def handle(self, req: Recorded) -> Reply:
        refusal = self.validate(req)
        if refusal is not None:
            return refusal
        body = req.json
        text, stop_reason, stop_sequence, n_in, n_out = self.answer(body)
        content: list[dict[str, Any]] = [{"type": "text", "text": text}]
        if body.get("tools"):  # a model that always calls the first tool it is offered
            tool = body["tools"][0]["name"]
            content.append({"type": "tool_use", "id": "toolu_01", "name": tool, "input": {}})
            stop_reason, stop_sequence = "tool_use", None
        message = {
            "id": f"msg_{len(self.requests):04d}",
            "type": "message",
            "role": "assistant",
            "content": content,
            "model": body["model"],
            "stop_reason": stop_reason,
            "stop_sequence": stop_sequence,
            "usage": {"input_tokens": n_in, "output_tokens": n_out},
        }
        if not body.get("stream"):
            return Reply(200, message, headers={"request-id": "req_test"})
        words = text.split(" ")
        pieces = [w + " " for w in words[:-1]] + [words[-1]]
        start = {
            **message,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": n_in, "output_tokens": 1},
        }
        events: list[tuple[str | None, Any]] = [
            ("message_start", {"type": "message_start", "message": start}),
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                },
            ),
            ("ping", {"type": "ping"}),
        ]
        for n, piece in enumerate(pieces):
            events.append(
                (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": 0,
                        "delta": {"type": "text_delta", "text": piece},
                    },
                )
            )
            if n == 0 and self.error_mid_stream:
                events.append(
                    (
                        "error",
                        {
                            "type": "error",
                            "error": {"type": "overloaded_error", "message": "Overloaded"},
                        },
                    )
                )
                return Reply(200, chunks=sse(events))
        events += [
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
                    "usage": {"output_tokens": n_out},
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
        return Reply(200, chunks=sse(events))


STUB = Path(__file__).resolve().parent.parent / "benchmarks" / "stub_server.py"


@contextlib.contextmanager
def stub_server(*args: str) -> Iterator[str]:
    """benchmarks/stub_server.py on a free loopback port, with these options; yields its URL."""
    proc = subprocess.Popen(
        [sys.executable, str(STUB), "--port", "0", *args], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        m = re.search(r"http://[\d.]+:\d+", proc.stdout.readline())
        assert m, "the stub did not start"
        yield m.group(0)
    finally:
        proc.terminate()
        proc.wait(5)
