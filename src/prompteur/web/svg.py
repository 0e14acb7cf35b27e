"""Charts as inline SVG, drawn on the server: no chart library, nothing fetched, and a
screen reader gets the title and a text table next to each chart."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape

from markupsafe import Markup

# Colour-blind-safe (Okabe-Ito), dark enough for contrast on white.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


@dataclass
class Series:
    label: str
    points: list[tuple[float, float]]  # (x, y)
    band: list[tuple[float, float, float]] = field(default_factory=list)  # (x, low, high)
    dots: bool = True


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    x_ticks: Sequence[tuple[float, str]],
    y_format: Callable[[float], str] = lambda v: f"{v:g}",
    y_min: float = 0.0,
    y_max: float | None = None,
    width: int = 560,
    height: int = 200,
    colon: str = ":",
) -> Markup:
    left, right, top, bottom = 56, 12, 10, 28
    pw, ph = width - left - right, height - top - bottom
    xs = [x for s in series for x, _ in s.points] + [x for x, _ in x_ticks]
    ys = [y for s in series for _, y in s.points] + [h for s in series for _, _, h in s.band]
    x0, x1 = (min(xs), max(xs)) if xs else (0.0, 1.0)
    if x1 == x0:
        x1 = x0 + 1
    top_y = y_max if y_max is not None else max(ys, default=1.0) * 1.1 or 1.0
    if top_y <= y_min:
        top_y = y_min + 1

    def px(x: float) -> float:
        return round(left + pw * (x - x0) / (x1 - x0), 1)

    def py(y: float) -> float:
        return round(top + ph * (1 - (y - y_min) / (top_y - y_min)), 1)

    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(5):
        v = y_min + (top_y - y_min) * i / 4
        y = py(v)
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y}" y2="{y}" class="grid"/>'
            f'<text x="{left - 6}" y="{y + 4}" text-anchor="end" class="tick">'
            f"{escape(y_format(v))}</text>"
        )
    for x, label in x_ticks:
        out.append(
            f'<text x="{px(x)}" y="{height - 8}" text-anchor="middle" class="tick">'
            f"{escape(label)}</text>"
        )
    for i, s in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        if s.band:
            upper = " ".join(f"{px(x)},{py(h)}" for x, _, h in s.band)
            lower = " ".join(f"{px(x)},{py(lo)}" for x, lo, _ in reversed(s.band))
            out.append(
                f'<polygon points="{upper} {lower}" fill="{colour}" fill-opacity="0.15" '
                'stroke="none"/>'
            )
        if len(s.points) > 1:
            line = " ".join(f"{px(x)},{py(y)}" for x, y in s.points)
            out.append(
                f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        if s.dots or len(s.points) == 1:
            for x, y in s.points:
                out.append(
                    f'<circle cx="{px(x)}" cy="{py(y)}" r="3" fill="{colour}">'
                    f"<title>{escape(s.label)}{colon} {escape(y_format(y))}</title></circle>"
                )
    out.append("</svg>")
    return Markup("".join(out))


def legend(labels: Sequence[str]) -> Markup:
    items = "".join(
        # A presentation attribute, not a style attribute: the CSP forbids inline styles.
        f'<li><svg class="swatch" viewBox="0 0 12 12" aria-hidden="true"><rect width="12" '
        f'height="12" fill="{PALETTE[i % len(PALETTE)]}"/></svg>{escape(label)}</li>'
        for i, label in enumerate(labels)
    )
    return Markup(f'<ul class="legend">{items}</ul>')
