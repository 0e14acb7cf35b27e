"""What every page module shares: the auth dependencies and the error page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Depends

from ..server.deps import require
from .render import page

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import HTMLResponse

    from ..errors import UserError
    from ..server.deps import Principal

READ = Depends(require("read"))
WRITE = Depends(require("write"))


def error_page(
    request: Request,
    principal: Principal | None,
    exc: UserError | str,
    *,
    status: int = 400,
    section: str | None = None,
) -> HTMLResponse:
    """A user mistake, said plainly (file, line and field when known), never a traceback."""
    where = ""
    if isinstance(exc, str):
        message, hint = exc, None
    else:
        message, hint = exc.message, exc.hint
        if exc.file:
            where = exc.file + (f":{exc.line}" if exc.line is not None else "")
        if exc.field:
            where = f"{where} · {exc.field}" if where else exc.field
    return page(
        request,
        "error.html.j2",
        principal,
        status=status,
        section=section,
        message=message,
        where=where or None,
        hint=hint,
    )
