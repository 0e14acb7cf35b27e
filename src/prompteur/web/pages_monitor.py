"""The monitoring page: per prompt version over time — volume, pass rate (with its interval),
latency and cost — drawn from `traces.monitor.version_stats`, and the alerts of
`traces.alerts.find_alerts`. Without traces it says so, and where they come from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from markupsafe import Markup
from starlette.responses import HTMLResponse

from ..errors import UserError
from ..i18n import colon
from .common import READ, error_page
from .i18n import lang_of, number, pct, translator
from .render import page
from .svg import Series, legend, line_chart
from .urls import PREFIX

if TYPE_CHECKING:
    from ..server.deps import Principal
    from ..traces.monitor import MonitorReport

router = APIRouter(prefix=PREFIX, include_in_schema=False)
WINDOWS = {
    "1d": (timedelta(days=1), "hour", "last 24 hours"),
    "7d": (timedelta(days=7), "day", "last 7 days"),
    "30d": (timedelta(days=30), "day", "last 30 days"),
}


def _label(prompt: str | None, version: str | None) -> str:
    return f"{prompt or '?'}@{(version or '?')[:8]}"


def charts(report: MonitorReport, lang: str) -> list[dict[str, Any]]:
    """One chart per measure, one line per prompt version; each with a text table."""
    _ = translator(lang)
    since, until = report.since.timestamp(), report.until.timestamp()
    span = until - since
    fmt = "%H:%M" if report.bucket == "hour" else "%d/%m"
    ticks = [
        (since + span * i / 4, datetime.fromtimestamp(since + span * i / 4, UTC).strftime(fmt))
        for i in range(5)
    ]
    measures: list[tuple[str, str, Any, float | None]] = [
        ("volume", "volume", lambda v: f"{v:.0f}", None),
        ("pass_rate", "pass rate", lambda v: pct(v, lang, 0), 1.0),
        ("latency_p50_ms", "latency p50 (ms)", lambda v: f"{v:.0f}", None),
        ("cost", "cost ($)", lambda v: number(v, lang, ".4f"), None),
    ]
    labels = [_label(s.prompt, s.version) for s in report.series]
    out = []
    for key, title, fmt_y, top in measures:
        series = []
        table = []
        for label, s in zip(labels, report.series, strict=True):
            points, band = [], []
            for b in s.buckets:
                d = b.to_dict()
                if d[key] is None or b.start is None:
                    continue
                x = b.start.timestamp()
                points.append((x, float(d[key])))
                if key == "pass_rate":
                    band.append((x, d["pass_rate_low"], d["pass_rate_high"]))
                table.append((label, b.start, fmt_y(float(d[key]))))
            series.append(Series(label, points, band))
        out.append(
            {
                "title": _(title),
                "svg": line_chart(
                    series,
                    title=_(title),
                    x_ticks=ticks,
                    y_format=fmt_y,
                    y_max=top,
                    colon=colon(lang),
                ),
                "legend": legend(labels),
                "table": table,
            }
        )
    return out


@router.get("/monitor", response_class=HTMLResponse)
def monitor(
    request: Request, window: str = "7d", prompt: str = "", principal: Principal = READ
) -> HTMLResponse:
    from ..traces.alerts import find_alerts
    from ..traces.monitor import version_stats

    if window not in WINDOWS:
        window = "7d"
    span, bucket, _title = WINDOWS[window]
    try:
        report = version_stats(
            principal.store,
            since=datetime.now(UTC) - span,
            bucket=bucket,
            prompt=prompt or None,
        )
        # Embeddings would load a model into the page's request: the CLI's job, not this.
        alerts = find_alerts(
            principal.config, principal.store, prompt=prompt or None, embeddings=False
        )
    except UserError as exc:
        return error_page(request, principal, exc, section="monitor")
    lang = lang_of(request)
    return page(
        request,
        "monitor.html.j2",
        principal,
        section="monitor",
        report=report,
        charts=charts(report, lang) if report.series else [],
        alerts=alerts,
        window=window,
        windows=WINDOWS,
        prompt=prompt,
        label=_label,
        markup=Markup,
    )
