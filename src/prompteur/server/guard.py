"""What every request meets before any route: a bound on its body, and in `--dev` mode a Host
header that names this machine.

`--dev` (and `prompteur view`) lets callers without a key in as admins because only this
machine can reach a loopback socket. A page on another site can still reach it through DNS
rebinding (its own host name, re-pointed at 127.0.0.1): the browser then sends that name in
`Host`. So a dev server answers only requests whose Host is 127.0.0.1, localhost or [::1]
with the port it listens on.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


class _TooLarge(Exception):
    pass


class RequestGuard:
    """Refuses a body larger than `max_body` bytes with 413 (before reading it when its
    Content-Length says so, else as soon as it passes the bound), and — with `dev` — any
    request whose Host is not this machine's loopback name and port, with 421."""

    def __init__(self, app: ASGIApp, *, max_body: int, dev: bool) -> None:
        self.app = app
        self.max_body = max_body
        self.dev = dev

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        if self.dev and not _loopback_host(headers.get(b"host", b""), scope):
            await _refuse(
                421,
                "this development server answers only requests addressed to this machine "
                "(Host: 127.0.0.1, localhost or [::1] with its port)",
                scope,
                receive,
                send,
            )
            return
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_body:
            await _refuse(413, self._too_large(), scope, receive, send)
            return
        if headers.get(b"content-type", b"").split(b";")[0].strip().lower().endswith(b"json"):
            await self._json(scope, receive, send)
            return
        received = 0
        started = False

        async def bounded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, bounded_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _refuse(413, self._too_large(), scope, receive, send)

    async def _json(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A JSON body is read whole (it is bounded) and its nesting measured before any
        parser recurses into it: 10,000 nested brackets are a 400, not a RecursionError."""
        from .. import limits

        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                await _refuse(413, self._too_large(), scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            limits.check_json_depth(body)
        except ValueError as exc:
            await _refuse(400, f"malformed JSON: {exc}", scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _too_large(self) -> str:
        return f"the request body is larger than {self.max_body:,} bytes"


def _loopback_host(host: bytes, scope: Scope) -> bool:
    text = host.decode("latin-1").strip().lower()
    server = scope.get("server") or (None, None)
    port = server[1]
    for name in LOOPBACK_NAMES:
        if text == f"{name}:{port}":
            return True
        if text == name and port in (80, None):
            return True
    return False


async def _refuse(status: int, detail: str, scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse({"detail": detail, "field": None, "hint": None}, status_code=status)
    await response(scope, receive, send)
