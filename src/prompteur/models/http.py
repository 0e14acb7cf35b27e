"""What HTTP providers share: pooled connections, status codes → typed errors, key redaction.

JSON POSTs (every non-streamed call) go through a small keep-alive HTTP/1.1 client
(`http1.py`); streams, proxies and anything unusual go through httpx, imported only then.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import json
import math
import os
import re
import time
from collections.abc import AsyncIterator, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from .base import (
    AuthError,
    BadRequestError,
    ConnectError,
    Model,
    ModelError,
    ModelTimeoutError,
    RateLimitError,
    ServerError,
)

if TYPE_CHECKING:
    import ssl

    import httpx

    from ..config import Config
    from .http1 import Pool, WireError
    from .providers import ModelRef

# Shapes of well-known key formats, redacted even when the provider masks only part of them.
_KEY_SHAPES = re.compile(r"\b(sk|pk|rk|sess|key)-[A-Za-z0-9_\-*]{6,}")


def redact(text: str, secret: str | None) -> str:
    if secret:
        text = text.replace(secret, "***")
    return _KEY_SHAPES.sub("***", text)


def _seconds(value: str, scale: float = 1.0) -> float | None:
    try:
        seconds = float(value) * scale
    except ValueError:
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from `retry-after-ms`, else `retry-after` (seconds or an HTTP date).

    A malformed value gives None: it must never turn a rate limit into a crash. `headers` is
    httpx's (case-insensitive) or a dict with lower-cased names.
    """
    ms = headers.get("retry-after-ms")
    if ms:
        seconds = _seconds(ms, 1 / 1000)
        if seconds is not None:
            return seconds
    value = headers.get("retry-after")
    if not value:
        return None
    seconds = _seconds(value)
    if seconds is not None:
        return seconds
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:  # "-0000" gives a naive datetime; HTTP dates are UTC
        parsed = parsed.replace(tzinfo=dt.UTC)
    return max(0.0, parsed.timestamp() - time.time())


# Error `type`s in Anthropic's and OpenAI's error bodies (also sent inside a stream).
_ERROR_TYPES: dict[str, type[ModelError]] = {
    "authentication_error": AuthError,
    "permission_error": AuthError,
    "invalid_api_key": AuthError,
    "rate_limit_error": RateLimitError,
    "rate_limit_exceeded": RateLimitError,
    "insufficient_quota": RateLimitError,
    "invalid_request_error": BadRequestError,
    "not_found_error": BadRequestError,
    "request_too_large": BadRequestError,
    "context_length_exceeded": BadRequestError,
    "timeout_error": ModelTimeoutError,
    "api_error": ServerError,
    "overloaded_error": ServerError,
    "server_error": ServerError,
}


def _error_detail(body: Any) -> tuple[str, str]:
    """(message, type) from an error body of any common shape."""
    err = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(err, dict):
        kind = str(err.get("code") or err.get("type") or "")
        if kind not in _ERROR_TYPES:
            kind = str(err.get("type") or kind)
        message = err.get("message") or err.get("detail")
        if message is None:
            message = json.dumps(err, ensure_ascii=False)
        if not isinstance(message, str):
            message = json.dumps(message, ensure_ascii=False)
        return message[:500], kind
    return ("" if err is None else str(err))[:500], ""


CLIENT_SHARDS = 16
_PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy"}


@cache
def _ssl_context() -> ssl.SSLContext:
    """One verifying context for the process, built as httpx builds it (certifi, or
    SSL_CERT_FILE / SSL_CERT_DIR): loading the CA bundle costs ~15 ms, once is enough."""
    import httpx

    return httpx.create_ssl_context()


def _proxied() -> bool:
    return any(k.lower() in _PROXY_VARS for k in os.environ)


class HTTPModel(Model):
    """A model behind an HTTP endpoint. Subclasses build the request and read the reply."""

    def __init__(
        self,
        model_id: str,
        model_name: str,
        base_url: str,
        key: str | None,
        *,
        timeout: float = 120.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.id = model_id
        self.model_name = model_name
        self.base_url = base_url.rstrip("/")
        self._key = key
        self._timeout = timeout
        self._extra_headers = dict(headers or {})
        self._clients: list[httpx.AsyncClient] = []
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._turn = 0
        self._pool: Pool | None = None
        self._pool_loop: asyncio.AbstractEventLoop | None = None
        self._targets: dict[str, str | None] = {}
        self._wire: tuple[str, int, str, bool, bytes] | None = None
        self._wire_parsed = False

    @classmethod
    def from_ref(cls, ref: ModelRef, key: str | None, config: Config | None) -> HTTPModel:
        section = config.provider(ref.provider.name) if config else None
        return cls(
            ref.id,
            ref.name,
            ref.base_url or "",
            key,
            timeout=section.timeout if section else 120.0,
            headers=section.headers if section else None,
        )

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "base_url": self.base_url, "model": self.model_name}

    def __repr__(self) -> str:  # never shows the key
        return f"{type(self).__name__}({self.id!r}, base_url={self.base_url!r})"

    def auth_headers(self) -> dict[str, str]:
        return {}

    @property
    def client(self) -> httpx.AsyncClient:
        """A pooled httpx client of the running event loop, taken in turn from a few shards.

        Pooled connections belong to the loop that opened them: a model used again under a
        new loop (a second `asyncio.run`) gets new clients instead of "Event loop is closed".
        Several small pools rather than one: httpx's pool matches every waiting request
        against every connection, a cost that grows with the square of the calls in flight
        (benchmarks/runner_overhead.py: one client 32.7 s, 25 clients 6.7 s for 5,000 calls
        at concurrency 100).
        """
        import httpx

        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if (
            not self._clients
            or self._client_loop is not loop
            or any(c.is_closed for c in self._clients)
        ):
            verify = _ssl_context() if self.base_url.startswith("https:") else True
            self._clients = [
                httpx.AsyncClient(
                    timeout=httpx.Timeout(self._timeout, connect=min(self._timeout, 10.0)),
                    limits=httpx.Limits(max_connections=None, max_keepalive_connections=64),
                    headers={**self._extra_headers, **self.auth_headers()},
                    verify=verify,
                )
                for _ in range(CLIENT_SHARDS)
            ]
            self._client_loop = loop
        self._turn = (self._turn + 1) % len(self._clients)
        return self._clients[self._turn]

    def _wire_setup(self) -> tuple[str, int, str, bool, bytes] | None:
        """(host, port, Host header, TLS, fixed header bytes) for the light client, or None
        when httpx must handle this endpoint (proxy settings, credentials in the URL, a
        scheme or header values it would refuse with a proper error)."""
        from urllib.parse import urlsplit

        from .. import __version__

        try:
            url = urlsplit(self.base_url)
            port = url.port
        except ValueError:
            return None
        if url.scheme not in ("http", "https") or not url.hostname or url.username or _proxied():
            return None
        tls = url.scheme == "https"
        host = url.hostname
        default = 443 if tls else 80
        bracketed = f"[{host}]" if ":" in host else host
        host_header = bracketed if port in (None, default) else f"{bracketed}:{port}"
        headers = {
            "Accept": "application/json",
            "Accept-Encoding": "gzip, deflate",
            "Content-Type": "application/json",
            "User-Agent": f"prompteur/{__version__}",
            **self._extra_headers,
            **self.auth_headers(),
        }
        lines = []
        for name, value in headers.items():
            text = f"{name}: {value}"
            if not text.isascii() or "\r" in text or "\n" in text or "\0" in text:
                return None
            lines.append(text)
        fixed = "".join(line + "\r\n" for line in lines).encode("ascii")
        if not host_header.isascii():
            return None
        return host, port or default, host_header, tls, fixed

    def _light_pool(self) -> Pool | None:
        if not self._wire_parsed:
            self._wire, self._wire_parsed = self._wire_setup(), True
        if self._wire is None:
            return None
        loop = asyncio.get_running_loop()
        if self._pool is None or self._pool_loop is not loop:
            from .http1 import Pool

            host, port, host_header, tls, fixed = self._wire
            self._pool = Pool(
                host,
                port,
                host_header=host_header,
                ssl_context=_ssl_context() if tls else None,
                headers=fixed,
                connect_timeout=min(self._timeout, 10.0),
            )
            self._pool_loop = loop
        return self._pool

    def _target(self, path: str) -> str | None:
        """The request target (path and query) for `path`, as httpx would send it."""
        if path not in self._targets:
            from urllib.parse import urlsplit

            url = urlsplit(self.base_url + path)
            target = (url.path or "/") + (f"?{url.query}" if url.query else "")
            ok = target.isascii() and not any(c in target for c in " \r\n#")
            self._targets[path] = target if ok else None
        return self._targets[path]

    async def aclose(self) -> None:
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        pool, pool_loop = self._pool, self._pool_loop
        self._pool, self._pool_loop = None, None
        if pool is not None and pool_loop is running:
            await pool.aclose()
        clients, loop = self._clients, self._client_loop
        self._clients, self._client_loop = [], None
        if not clients:
            return
        if loop is running or loop is None:
            for client in clients:
                await client.aclose()
        # else: they belong to another (usually finished) loop and cannot be awaited from
        # here; their connections go with that loop

    def _error(self, response: httpx.Response) -> ModelError:
        return self._status_error(
            response.status_code, response.reason_phrase, response.headers, response.content
        )

    def _status_error(
        self, status: int, reason: str, headers: Mapping[str, str], body: bytes
    ) -> ModelError:
        try:
            detail, _ = _error_detail(json.loads(body))
        except (json.JSONDecodeError, ValueError):
            detail = body.decode("utf-8", errors="replace")[:300]
        detail = redact(detail.strip() or reason, self._key)
        message = f"HTTP {status}: {detail}"
        kw: dict[str, Any] = {"model": self.id, "status": status}
        if status in (401, 403):
            return AuthError(message, **kw)
        if status == 429:
            return RateLimitError(message, retry_after=parse_retry_after(headers), **kw)
        if status == 408:
            return ModelTimeoutError(message, **kw)
        if status >= 500:
            return ServerError(message, **kw)
        return BadRequestError(message, **kw)

    def _stream_error(self, event: dict[str, Any]) -> ModelError:
        """An error sent as an event after a 200 (Anthropic's `error`, OpenAI's `{"error"}`)."""
        detail, kind = _error_detail(event)
        cls = _ERROR_TYPES.get(kind, ServerError)
        message = f"error in stream ({kind or 'unknown'}): {redact(detail, self._key)}"
        return cls(message, model=self.id)

    def _transport_error(self, exc: httpx.HTTPError | httpx.InvalidURL) -> ModelError:
        import httpx

        text = redact(f"{type(exc).__name__}: {exc}", self._key)
        if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
            where = redact(self.base_url, self._key)
            return BadRequestError(f"bad endpoint {where!r}: {text}", model=self.id)
        if isinstance(exc, httpx.TimeoutException):
            return ModelTimeoutError(text, model=self.id)
        if isinstance(exc, httpx.TransportError):
            return ConnectError(text, model=self.id)
        return ModelError(text, model=self.id)

    def _wire_error(self, exc: WireError) -> ModelError:
        from .http1 import WireTimeout

        text = redact(str(exc), self._key)
        if isinstance(exc, WireTimeout):
            return ModelTimeoutError(text, model=self.id)
        return ConnectError(text, model=self.id)

    def _json_object(self, status: int, body: bytes) -> dict[str, Any]:
        try:
            data = json.loads(body)
        except (json.JSONDecodeError, ValueError):
            data = None
        if not isinstance(data, dict):
            text = body.decode("utf-8", errors="replace")
            raise ServerError(
                f"reply is not a JSON object: {redact(text[:200], self._key)!r}",
                model=self.id,
                status=status,
            )
        return data

    async def post_json(self, path: str, payload: dict[str, Any]) -> tuple[dict[str, Any], float]:
        """POST and return (json body, latency seconds), or raise a typed ModelError."""
        pool = self._light_pool()
        target = self._target(path) if pool is not None else None
        if pool is None or target is None:
            return await self._post_json_httpx(path, payload)
        from .http1 import WireError

        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        start = time.perf_counter()
        try:
            reply = await pool.post(target, body, self._timeout)
        except WireError as exc:
            raise self._wire_error(exc) from None
        latency = time.perf_counter() - start
        if reply.status >= 400:
            raise self._status_error(reply.status, reply.reason, reply.headers, reply.body)
        return self._json_object(reply.status, reply.body), latency

    async def _post_json_httpx(
        self, path: str, payload: dict[str, Any]
    ) -> tuple[dict[str, Any], float]:
        import httpx

        start = time.perf_counter()
        try:
            response = await self.client.post(self.base_url + path, json=payload)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise self._transport_error(exc) from None
        latency = time.perf_counter() - start
        if response.status_code >= 400:
            raise self._error(response)
        return self._json_object(response.status_code, response.content), latency

    async def send_raw(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One call through the pooled client to a full URL (its own headers, a form, a
        query); a transport failure or an error status as the typed ModelError."""
        import httpx

        try:
            response = await self.client.request(method, url, **kwargs)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise self._transport_error(exc) from None
        if response.status_code >= 400:
            raise self._error(response)
        return response

    async def stream_sse(self, path: str, payload: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """POST and yield each server-sent event's JSON data."""
        import httpx

        try:
            async with self.client.stream("POST", self.base_url + path, json=payload) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise self._error(response)
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    try:
                        event = json.loads(data)
                    except json.JSONDecodeError:
                        continue
                    if not isinstance(event, dict):
                        continue
                    if event.get("type") == "error" or isinstance(event.get("error"), dict):
                        raise self._stream_error(event)
                    yield event
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise self._transport_error(exc) from None
