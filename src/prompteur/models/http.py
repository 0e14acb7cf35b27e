"""What HTTP providers share: one pooled client, status codes → typed errors, key redaction."""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import httpx

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
    from ..config import Config
    from .registry import ModelRef

# Shapes of well-known key formats, redacted even when the provider masks only part of them.
_KEY_SHAPES = re.compile(r"\b(sk|pk|rk|sess|key)-[A-Za-z0-9_\-*]{6,}")


def redact(text: str, secret: str | None) -> str:
    if secret:
        text = text.replace(secret, "***")
    return _KEY_SHAPES.sub("***", text)


def parse_retry_after(headers: httpx.Headers) -> float | None:
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


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
        self._client: httpx.AsyncClient | None = None

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
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self._timeout, connect=min(self._timeout, 10.0)),
                limits=httpx.Limits(max_connections=None, max_keepalive_connections=200),
                headers={**self._extra_headers, **self.auth_headers()},
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _error(self, response: httpx.Response) -> ModelError:
        status = response.status_code
        try:
            body = response.json()
            err = body.get("error", body) if isinstance(body, dict) else body
            detail = err.get("message") if isinstance(err, dict) else str(err)
        except (json.JSONDecodeError, ValueError):
            detail = response.text[:300]
        detail = redact(str(detail or response.reason_phrase), self._key)
        message = f"HTTP {status}: {detail}"
        kw: dict[str, Any] = {"model": self.id, "status": status}
        if status in (401, 403):
            return AuthError(message, **kw)
        if status == 429:
            return RateLimitError(message, retry_after=parse_retry_after(response.headers), **kw)
        if status in (408,):
            return ModelTimeoutError(message, **kw)
        if status >= 500:
            return ServerError(message, **kw)
        return BadRequestError(message, **kw)

    def _transport_error(self, exc: httpx.HTTPError) -> ModelError:
        text = redact(f"{type(exc).__name__}: {exc}", self._key)
        if isinstance(exc, httpx.TimeoutException):
            return ModelTimeoutError(text, model=self.id)
        if isinstance(exc, httpx.TransportError):
            return ConnectError(text, model=self.id)
        return ModelError(text, model=self.id)

    async def post_json(self, path: str, payload: dict[str, Any]) -> tuple[dict[str, Any], float]:
        """POST and return (json body, latency seconds), or raise a typed ModelError."""
        start = time.perf_counter()
        try:
            response = await self.client.post(self.base_url + path, json=payload)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None
        latency = time.perf_counter() - start
        if response.status_code >= 400:
            raise self._error(response)
        try:
            return response.json(), latency
        except (json.JSONDecodeError, ValueError):
            raise ServerError(
                f"invalid JSON in reply: {response.text[:200]!r}",
                model=self.id,
                status=response.status_code,
            ) from None

    async def stream_sse(self, path: str, payload: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """POST and yield each server-sent event's JSON data."""
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
                        yield json.loads(data)
                    except json.JSONDecodeError:
                        continue
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None
