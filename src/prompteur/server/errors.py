"""How errors look on the wire: `{"detail": ..., "field": ..., "hint": ...}` with the right status.

A user's mistake is a 4xx naming the field; a provider's failure a 502; a store that cannot be
reached or written (down, locked, full) a 503 with Retry-After, so that clients (the SDK, OTLP
exporters) keep what they sent and try again; anything else is a bug and a bare 500 that shows
nothing of the server's internals.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ..errors import UserError

log = logging.getLogger("prompteur.server")


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        detail: str,
        *,
        field: str | None = None,
        hint: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.extra = extra or {}
        self.detail = detail
        self.field = field
        self.hint = hint
        super().__init__(detail)


def user_error(exc: UserError, status: int = 400) -> ApiError:
    """A UserError as an API error: its message, field and hint, never the server's paths."""
    hint = exc.hint
    if hint and exc.field and exc.field.startswith("inputs.") and " -i " in f" {hint}":
        hint = f'send it in "inputs": {{"{exc.field.removeprefix("inputs.")}": ...}}'
    return ApiError(status, exc.message, field=exc.field, hint=hint)


# Seconds a client is asked to wait when the store does not answer.
RETRY_AFTER = 2


def store_outage(exc: BaseException) -> bool:
    """Whether `exc` says the store cannot be reached or written now: a connection refused or
    lost, a database locked or full, a pool exhausted; not bad data, not a bug."""
    return isinstance(exc, _outages())


def _outages() -> tuple[type[Exception], ...]:
    from ..store import outage_errors

    return outage_errors()


def store_unavailable(exc: BaseException) -> JSONResponse:
    # The driver's text may name hosts and files: logged here, never sent.
    log.warning("the store is unavailable: %s: %s", type(exc).__name__, exc)
    return JSONResponse(
        {
            "detail": "the store is unavailable; nothing was recorded",
            "field": None,
            "hint": f"try again in {RETRY_AFTER} s",
        },
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER)},
    )


def install(app: FastAPI) -> None:
    async def _store_error(_request: Request, exc: Exception) -> JSONResponse:
        return store_unavailable(exc)

    for kind in _outages():
        app.add_exception_handler(kind, _store_error)

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            {"detail": exc.detail, "field": exc.field, "hint": exc.hint, **exc.extra},
            status_code=exc.status,
        )

    @app.exception_handler(UserError)
    async def _user_error(_request: Request, exc: UserError) -> JSONResponse:
        return JSONResponse(
            {"detail": exc.message, "field": exc.field, "hint": exc.hint}, status_code=400
        )
