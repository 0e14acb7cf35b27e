"""Rendering a page: the Jinja2 environment, what every template sees, security headers."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.responses import HTMLResponse

from ..i18n import colon
from .i18n import (
    LANG_COOKIE,
    LANGS,
    comparison_words,
    interval,
    lang_of,
    money,
    number,
    pct,
    run_word,
    score_interval,
    translator,
)
from .urls import PREFIX

if TYPE_CHECKING:
    from jinja2 import Environment
    from starlette.requests import Request

    from ..server.deps import Principal

TEMPLATES = Path(__file__).parent / "templates"

# Everything comes from this app: no inline script, no other origin. Charts are inline SVG.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

NAV = [
    ("library", "Library"),
    ("runs", "Runs"),
    ("optimize", "Optimizer"),
    ("probes", "Probes"),
    ("monitor", "Monitoring"),
    ("review", "Review"),
    ("playground", "Playground"),
    ("learn", "Lessons"),
]


@functools.cache
def environment() -> Environment:
    from jinja2 import FileSystemLoader, StrictUndefined

    from ..xmltext import html_environment

    env = html_environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["prefix"] = PREFIX
    return env


def query(request: Request, **changes: Any) -> str:
    """The current query string with some parameters changed (None removes one): pagination
    and filter links keep the other filters."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    for key, value in changes.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            params.extend((key, str(v)) for v in value)
        else:
            params.append((key, str(value)))
    return "?" + urlencode(params) if params else "?"


def page(
    request: Request,
    template: str,
    principal: Principal | None = None,
    *,
    status: int = 200,
    section: str | None = None,
    **context: Any,
) -> HTMLResponse:
    lang = lang_of(request)
    html = (
        environment()
        .get_template(template)
        .render(
            request=request,
            lang=lang,
            _=translator(lang),
            colon=colon(lang),
            pct=lambda x, digits=1: pct(x, lang, digits),
            interval=lambda i: interval(i, lang),
            number=lambda x, fmt=".3f": number(x, lang, fmt),
            score_interval=lambda i: score_interval(i, lang),
            run_word=lambda w: run_word(w, lang),
            money=lambda x: money(x, lang),
            words=lambda c: comparison_words(c, lang),
            query=lambda **changes: query(request, **changes),
            principal=principal,
            dev=bool(principal and principal.key_id is None),
            nav=NAV,
            section=section,
            langs=LANGS,
            **context,
        )
    )
    response = HTMLResponse(html, status_code=status)
    secure(response)
    if request.query_params.get("lang") in LANGS:
        response.set_cookie(
            LANG_COOKIE, lang, max_age=365 * 86400, path=PREFIX, samesite="lax", httponly=True
        )
    return response


def secure(response: Any) -> None:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers.setdefault("Cache-Control", "no-store")
