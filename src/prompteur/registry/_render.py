"""The regression report as a file: self-contained HTML (no network), Markdown or JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from ..files import write_atomic

if TYPE_CHECKING:
    from ._regress import Regression


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


def _pts(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:+.1f}"


def _js(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1, default=str)


def to_json(reg: Regression) -> str:
    return _js(reg.to_dict()) + "\n"


def to_html(reg: Regression) -> str:
    from importlib.resources import files

    from ..xmltext import html_environment

    template = html_environment().from_string(
        files("prompteur.registry").joinpath("regress.html.j2").read_text(encoding="utf-8")
    )
    return template.render(r=reg.to_dict(), pct=_pct, pts=_pts, js=_js)


def _cell(text: Any) -> str:
    """A Markdown table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def to_markdown(reg: Regression) -> str:
    d = reg.to_dict()
    out = [
        f"# Regression: {d['from']} → {d['to']}",
        "",
        d["words"],
        "",
        f"| prompt | labels | {_cell(d['from'])} | {_cell(d['to'])} | change (points, 95% CI)"
        " | McNemar p | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in d["prompts"]:
        name = f"{p['name']}@{p['version'][:8]}"
        labels = ", ".join(p["labels"])
        pr = p["paired"]
        if not pr or not pr["cases"]:
            out.append(
                f"| {_cell(name)} | {_cell(labels)} | | | | | skipped: {_cell(p['skipped'])} |"
            )
            continue
        diff = pr["difference"]
        pval = pr["p_adjusted"] if pr["p_adjusted"] is not None else pr["p_value"]
        verdict = (
            "**significantly worse**"
            if p["worse"]
            else "significantly better"
            if p["better"]
            else "no significant difference"
        )
        out.append(
            f"| {_cell(name)} | {_cell(labels)} | {_pct(p['before']['pass_rate'])} "
            f"| {_pct(p['after']['pass_rate'])} | {_pts(diff['estimate'])} "
            f"[{_pts(diff['low'])}, {_pts(diff['high'])}] | {pval:.3g} | {verdict} |"
        )
    for p in d["prompts"]:
        if not p["lost"]:
            continue
        out += [
            "",
            f"## {p['name']}@{p['version'][:8]} ({', '.join(p['labels'])}): cases that pass "
            f"on {d['from']} and fail on {d['to']}",
            "",
            f"| case | inputs | expected | {_cell(d['from'])} | {_cell(d['to'])} |",
            "|---|---|---|---|---|",
        ]
        for c in p["lost"]:
            out.append(
                f"| {c['case_id']} | {_cell(_js(c['inputs']))} | {_cell(c['expected'])} "
                f"| {_cell(c['before'])} | {_cell(c['after'])} |"
            )
    return "\n".join(out) + "\n"


def write_report(reg: Regression, path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix in {".html", ".htm"}:
        text = to_html(reg)
    elif suffix in {".md", ".markdown"}:
        text = to_markdown(reg)
    elif suffix == ".json":
        text = to_json(reg)
    else:
        raise UserError("unknown report format", file=path, hint="use .html, .md or .json")
    write_atomic(path, text)
