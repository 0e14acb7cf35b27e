"""Reports of an optimization: JSON (outcome and history) and a self-contained HTML page whose
chart plots each candidate's development score against the calls spent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from ..files import write_atomic
from ..i18n import count, number

if TYPE_CHECKING:
    from ..store import Store


def verdict(summary: dict[str, Any]) -> str:
    """One line: improved or not, as the held-out paired test says."""
    from .engine import improved_of

    if improved_of(summary):
        return "improved: yes — significantly better on the held-out test cases"
    if summary.get("best_version") != summary.get("start_version"):
        return (
            "improved: no — the winner on the development cases is not significantly better on "
            "the held-out test cases"
        )
    return "improved: no"


def calls_line(c: dict[str, Any]) -> str:
    total = c.get("total", c["search"] + c["reporting"])
    return (
        f"calls: {total}/{c['budget']} ({c['search']} search · {c['reporting']} reporting) · "
        f"{c['proposer']} proposer · {c['cache_hits']} from cache"
    )


def chart(history: list[dict[str, Any]], budget: int, lang: str = "en") -> dict[str, Any]:
    w, h, left, top, right, bottom = 760, 300, 48, 12, 12, 36
    pw, ph = w - left - right, h - top - bottom
    xmax = max([budget, *(e.get("spent", 0) for e in history)]) or 1

    def x(v: float) -> float:
        return round(left + pw * v / xmax, 1)

    def y(v: float) -> float:
        return round(top + ph * (1 - max(0.0, min(1.0, v))), 1)

    dev_full = max((e.get("cases", 0) for e in history if e.get("event") == "scored"), default=0)
    points, best_line, best = [], [], None
    for e in history:
        if e.get("event") == "scored":
            full = e["cases"] == dev_full
            points.append(
                {
                    "x": x(e["spent"]),
                    "y": y(e["score"]),
                    "full": full,
                    "size": 2 if full else 0,
                    "title": f"{e['version'][:12]} · {e.get('change', '')} · "
                    f"{number(e['score'], lang)} {'sur' if lang == 'fr' else 'on'} "
                    f"{count(e['cases'], 'case', lang)}",
                }
            )
        elif e.get("event") == "best" and "score" in e:
            if best is not None:
                best_line.append(f"{x(e['spent'])},{y(best)}")
            best = e["score"]
            best_line.append(f"{x(e['spent'])},{y(best)}")
    if best is not None:
        best_line.append(f"{x(xmax)},{y(best)}")
    return {
        "w": w,
        "h": h,
        "left": left,
        "top": top,
        "pw": pw,
        "ph": ph,
        "points": points,
        "best": " ".join(best_line),
        "yticks": [{"y": y(v / 4), "label": number(v / 4, lang, ".2f")} for v in range(5)],
        "xticks": [{"x": x(xmax * i / 4), "label": str(round(xmax * i / 4))} for i in range(5)],
    }


def winner_diff(store: Store, plan: dict[str, Any]) -> list[str]:
    """The lines of the unified diff from an optimization's starting prompt to its winner
    (none before the outcome, when the start stayed the best, or a version is not stored)."""
    from ..library import unified_diff
    from ..prompt import parse_prompt

    result = plan.get("result")
    if not result or result["best_version"] == result["start_version"]:
        return []
    a = store.find_version(plan["prompt"], result["start_version"])
    b = store.find_version(plan["prompt"], result["best_version"])
    if a is None or b is None:
        return []
    return unified_diff(
        parse_prompt(a.content, name=a.name),
        parse_prompt(b.content, name=b.name),
        f"start {a.version[:12]}",
        f"optimized {b.version[:12]}",
    ).splitlines()


def to_html(store: Store, run_id: str) -> str:
    from importlib.resources import files

    from ..xmltext import html_environment
    from .engine import improved_of

    info = store.get_run(run_id)
    plan = info.plan
    result = plan.get("result")
    diff = winner_diff(store, plan)
    env = html_environment()
    template = env.from_string(
        files("prompteur").joinpath("templates/optimize.html.j2").read_text(encoding="utf-8")
    )
    history = plan.get("history", [])
    return template.render(
        run_id=info.id,
        plan=plan,
        result=result,
        verdict=verdict(result) if result else "",
        improved=improved_of(result),
        calls=calls_line(result["calls"]) if result else "",
        history=history,
        chart=chart(history, plan.get("settings", {}).get("budget", 0)),
        diff=diff,
    )


def write_report(store: Store, run_id: str, path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix == ".html":
        text = to_html(store, run_id)
    elif suffix == ".json":
        info = store.get_run(run_id)
        text = json.dumps({"run": info.id, **info.plan}, ensure_ascii=False, indent=2, default=str)
    else:
        raise UserError(
            f"cannot write an optimization report as '{suffix}'", hint="use .html or .json"
        )
    write_atomic(path, text)
