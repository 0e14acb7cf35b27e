"""The probe report: built once from the outcomes as plain data (stored with the run), then
rendered — in the terminal with Rich, as JSON, JUnit XML and one self-contained HTML page.

Per category and probe: the failure (attack success) rate with its Wilson interval, the
severity, the worst findings with their evidence; the paired statistics of robustness and
bias; what was skipped and why; how far the judge can be trusted.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import asdict
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

from .. import i18n
from ..files import write_atomic
from ..i18n import plural
from ..stats import wilson
from ..xmltext import html_environment, tostring
from ._base import SEVERITIES, Outcome
from ._text import clip
from .notes import judge_notes_for
from .storage import plain

if TYPE_CHECKING:
    from rich.console import Console

    from ..runner import ResultRecord, RunStats
    from ..store import Store
    from ..store.db import RunInfo
    from .engine import ProbePlan


def _interval(found: int, tested: int) -> dict[str, float | None]:
    if not tested:
        return {"estimate": None, "low": 0.0, "high": 1.0}
    w = wilson(found, tested)
    # Rounding can leave a bound a hair on the wrong side of 0 % or 100 %.
    return {"estimate": w.estimate, "low": min(w.low, w.estimate), "high": max(w.high, w.estimate)}


def _outcome_dict(o: Outcome) -> dict[str, Any]:
    findings = sorted(o.findings, key=lambda f: (f.score is None, f.score or 0.0))
    return {
        "probe": o.probe,
        "category": o.category,
        "severity": o.severity,
        "model": o.model,
        "description": o.description,
        "tested": o.tested,
        "found": o.found,
        "errors": o.errors,
        "rate": _interval(o.found, o.tested),
        "skipped": o.skipped,
        "notes": o.notes,
        "stats": o.stats,
        "findings": [asdict(f) for f in findings],
        "verdicts": [[case, hit] for case, hit in o.verdicts],
    }


def _categories(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for o in outcomes:
        row = rows.setdefault(
            (o.category, o.model),
            {"category": o.category, "model": o.model, "tested": 0, "found": 0, "severity": "low"},
        )
        row["tested"] += o.tested
        row["found"] += o.found
        if o.found and SEVERITIES.index(o.severity) > SEVERITIES.index(row["severity"]):
            row["severity"] = o.severity
    for row in rows.values():
        row["rate"] = _interval(row["found"], row["tested"])
    return list(rows.values())


def build_report(
    store: Store,
    run: RunInfo,
    plan: ProbePlan,
    outcomes: list[Outcome],
    records: list[ResultRecord],
    stats: RunStats,
    *,
    seconds: float,
) -> dict[str, Any]:
    from .engine import BASELINE
    from .notes import judged_by

    by_id = {pc.case.id: pc for pc in plan.probe_cases()}
    baseline = []
    for model in plan.models:
        rs = [
            r
            for r in records
            if r.model == model and by_id.get(r.case_id) and by_id[r.case_id].probe == BASELINE
        ]
        judged = [r for r in rs if r.passed is not None]
        baseline.append(
            {
                "model": model,
                "cases": len(rs),
                "errors": sum(1 for r in rs if r.error),
                "pass_rate": _interval(sum(bool(r.passed) for r in judged), len(judged))
                if judged
                else None,
            }
        )
    by_severity: dict[str, int] = defaultdict(int)
    for o in outcomes:
        for f in o.findings:
            by_severity[f.severity] += 1
    judges = judged_by(store, plan.describe(), plan.default_judge)
    return plain(
        {
            "kind": "probe",
            "run": {"id": run.id, "created": run.created_at.isoformat(), "status": "done"},
            "prompt": {"name": plan.prompt.name, "version": plan.prompt.version},
            "suite": str(plan.suite.path),
            "models": plan.models,
            "seed": plan.options.seed,
            "canary": plan.ctx.canary,
            "labels": plan.ctx.labels,
            "options": asdict(plan.options),
            "policy": plan.ctx.policy.source if plan.ctx.policy else None,
            "baseline": baseline,
            "categories": _categories(outcomes),
            "outcomes": [_outcome_dict(o) for o in outcomes],
            "summary": {
                "findings": sum(by_severity.values()),
                "by_severity": {s: by_severity.get(s, 0) for s in reversed(SEVERITIES)},
            },
            "totals": {
                "cases": len(plan.cases),
                "probe_cases": len(plan.probe_cases()),
                "results": len(records),
                "model_calls": stats.calls,
                "cached": stats.cached,
                "errors": stats.errors,
                "judge_calls": plan.judge.calls if plan.judge else 0,
                "paraphraser_calls": plan.paraphraser.calls if plan.paraphraser else 0,
                "seconds": round(seconds, 2),
            },
            "judges": judges,
            "warnings": plan.warnings,
            "skipped": plan.skipped,
        }
    )


def probes_under(report: dict[str, Any], threshold: float) -> list[str]:
    return [
        f"{o['probe']} · {o['model']} ({1 - o['rate']['estimate']:.1%})"
        for o in report["outcomes"]
        if o["tested"] and not o["skipped"] and 1 - o["rate"]["estimate"] < threshold
    ]


def _missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def pct(x: float | None, lang: str = "en") -> str:
    return "—" if _missing(x) else i18n.pct(x, lang)


def interval_text(i: dict[str, Any] | None, lang: str = "en") -> str:
    if not i or _missing(i["estimate"]):
        return "—"
    return i18n.interval(i, lang)


def short_interval(i: dict[str, Any] | None, lang: str = "en") -> str:
    """A rate and its interval in whole percents: with tens of cases, decimals are noise."""
    if not i or _missing(i["estimate"]):
        return "—"
    pc = f"{i18n.NNBSP}%" if lang == "fr" else "%"
    return f"{i18n.pct(i['estimate'], lang, 0)} [{i['low'] * 100:.0f}–{i['high'] * 100:.0f}{pc}]"


def _points(x: float, lang: str) -> str:
    return i18n.number(x * 100, lang, "+.1f")


def detail_lines(o: dict[str, Any], lang: str = "en") -> list[str]:
    """The statistics behind a probe's rate, in words (robustness, bias, breakdowns)."""

    def say(text: str, **values: object) -> str:
        return i18n.sentence(text, lang, values)

    st = o["stats"]
    lines = []
    if o["errors"]:
        lines.append(
            say(
                "{results} left out: the call or the rendering failed, or the judge's answer "
                "could not be read (prompteur show RUN lists the errors)",
                results=plural(o["errors"], "résultat" if lang == "fr" else "result", None, lang),
            )
        )
    if "paired" in st:
        p = st["paired"]
        d = p["difference"]
        lines.append(
            say(
                "check pass rate {b} on the variants vs {a} on the originals ({n} pairs): "
                "difference {d} points (95% CI {low} to {high}), exact McNemar p = {p}",
                b=pct(p["rate_b"], lang),
                a=pct(p["rate_a"], lang),
                n=p["cases"],
                d=_points(d["estimate"], lang),
                low=_points(d["low"], lang),
                high=_points(d["high"], lang),
                p=i18n.number(p["p_value"], lang, ".3g"),
            )
            + (say(" — significant") if p["significant"] else "")
        )
    if "output_changed" in st:
        c = st["output_changed"]
        lines.append(
            say(
                "output changed in {count} of {cases}",
                count=c["count"],
                cases=plural(o["tested"], "case")
                if lang == "en"
                else plural(o["tested"], "cas", "cas", lang),
            )
        )
    if "groups" in st:
        parts = []
        for g, v in st["groups"].items():
            rate = interval_text(v["pass_rate"], lang) if v["pass_rate"] else say("no checks")
            parts.append(f"{i18n.translate(g, lang)} {rate}")
        sep = f"{i18n.NNBSP}; " if lang == "fr" else "; "
        lines.append(say("pass rate by group: {groups}", groups=sep.join(parts)))
    if "gap" in st:
        g = st["gap"]
        d = g["difference"]
        lines.append(
            say(
                "largest gap: {b} vs {a} {d} points (95% CI {low} to {high}), McNemar p = {p}",
                b=i18n.translate(g["b"], lang),
                a=i18n.translate(g["a"], lang),
                d=_points(d["estimate"], lang),
                low=_points(d["low"], lang),
                high=_points(d["high"], lang),
                p=i18n.number(g["p_value"], lang, ".3g"),
            )
            + (say(" (Holm-adjusted)") if len(st.get("comparisons", [])) > 1 else "")
            + (say(" — significant") if g["significant"] else say(" — not significant"))
        )
    if "noise_floor" in st:
        f = st["noise_floor"]
        lines.append(
            say(
                "noise floor: the first group's answer moved on a second sample alone in "
                "{count} of {cases} cases ({rate})",
                count=f["count"],
                cases=f["cases"],
                rate=short_interval(f["rate"], lang),
            )
        )
    if "significant" in st:
        lines.append(
            say("significant: severity as the probe's")
            if st["significant"]
            else say(
                "not significant against the noise floor nor between groups: severity low, "
                "whatever the divergence rate"
            )
        )
    if st.get("modes"):
        lines.append(
            say(
                "cases {modes} (swap: the text's own mentions rewritten; insert: a sentence added)",
                modes=", ".join(f"{k}{i18n.colon(lang)} {v}" for k, v in st["modes"].items()),
            )
        )
    for key, values in st.get("breakdown", {}).items():
        cells = ", ".join(
            f"{i18n.translate(v, lang)} {c['found']}/{c['tested']}" for v, c in values.items()
        )
        lines.append(say("by {key}: {cells}", key=i18n.translate(key, lang), cells=cells))
    return lines


# ---- terminal ------------------------------------------------------------------------------

_COLOUR = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}


def print_report(
    console: Console, report: dict[str, Any], *, worst: int = 3, lang: str = "en"
) -> None:
    from rich.markup import escape
    from rich.table import Table

    def say(text: str, **values: object) -> str:
        return escape(i18n.sentence(text, lang, values))

    def word(w: str) -> str:
        return i18n.run_word(w, lang)

    t = i18n.translator(lang)
    p = report["prompt"]
    console.print(
        f"[bold]{say('Probe run {id}', id=report['run']['id'])}[/] · {p['name']}@"
        f"{p['version'][:12]} · {report['suite']} · "
        + say("seed {seed} · canary {canary}", seed=report["seed"], canary=report["canary"])
    )
    for b in report["baseline"]:
        rate = interval_text(b["pass_rate"], lang) if b["pass_rate"] else say("no checks")
        cases = (
            plural(b["cases"], "case") if lang == "en" else plural(b["cases"], "cas", "cas", lang)
        )
        console.print(
            say(
                "baseline {model}: check pass rate {rate} on {cases}",
                model=b["model"],
                rate=rate,
                cases=cases,
            )
        )
    one_model = len(report["models"]) == 1
    title = say("Weaknesses found (failure rate = attack success, 95% Wilson interval)")
    table = Table(
        title=title + (f" · {report['models'][0]}" if one_model else ""), title_justify="left"
    )
    cols = [
        "probe",
        *([] if one_model else ["model"]),
        "tested",
        "found",
        "failure rate",
        "severity",
    ]
    for col in cols:
        table.add_column(
            escape(t(col)),
            justify="right" if col in ("tested", "found") else "left",
            overflow="fold",
        )

    def row(name: str, model: str, *cells: str) -> None:
        table.add_row(name, *([] if one_model else [model]), *cells)

    def severity(sev: str, found: bool) -> str:
        return f"[{_COLOUR[sev]}]{word(sev)}[/]" if found else word(sev)

    cats = {(c["category"], c["model"]): c for c in report["categories"]}
    seen: set[tuple[str, str]] = set()
    for o in report["outcomes"]:
        key = (o["category"], o["model"])
        if key not in seen and key in cats:
            seen.add(key)
            c = cats[key]
            row(
                f"[bold]{word(c['category'])}[/]",
                c["model"],
                str(c["tested"]),
                str(c["found"]),
                f"[bold]{short_interval(c['rate'], lang)}[/]",
                severity(c["severity"], True) if c["found"] else "",
            )
        if o["skipped"]:
            row(f"  {o['probe']}", o["model"], "—", "—", f"[dim]{say('skipped')}[/]", "")
            continue
        sev = severity(o["severity"], bool(o["found"]))
        if o["stats"].get("significant") is False:
            sev += f" [dim]{say('(n.s.)')}[/]"
        row(
            f"  {o['probe']}",
            o["model"],
            str(o["tested"]),
            str(o["found"]),
            short_interval(o["rate"], lang),
            sev,
        )
    console.print(table)
    for o in report["outcomes"]:
        lines = detail_lines(o, lang) if not o["skipped"] else []
        judged = [] if o["skipped"] else judge_notes_for(report, o["probe"])
        if lines or o["notes"] or judged:
            console.print(f"[bold]{o['probe']}[/] · {o['model']}")
            for line in lines:
                console.print(f"  {escape(line)}")
            for j in judged:
                console.print(f"  {_judge_markup(j, lang=lang)}")
            for note in o["notes"]:
                console.print(f"  [dim]{say('note: {note}', note=i18n.translate(note, lang))}[/]")
    shown = [o for o in report["outcomes"] if o["findings"]]
    if shown and worst > 0:
        console.rule(say("worst examples"), align="left")
    for o in shown:
        for f in o["findings"][:worst]:
            why = clip(i18n.translate(f["why"], lang), 200)
            console.print(
                f"[{_COLOUR[f['severity']]}]✗ {word(f['severity'])}[/] {f['probe']} · "
                f"{f['model']} · " + say("case {origin}: {why}", origin=f["origin"], why=why)
            )
            text = " | ".join(f"{k}={v}" for k, v in f["inputs"].items())
            console.print(f"    [dim]{say('input:')}[/] {escape(clip(text, 160))}")
            console.print(f"    [dim]{say('output:')}[/] {escape(clip(f['output'], 160))}")
            if (f.get("evidence") or {}).get("judge"):
                for j in judge_notes_for(report, o["probe"]):
                    console.print(f"    {_judge_markup(j, short=True, lang=lang)}")
    for name, why in report["skipped"].items():
        console.print(
            f"[yellow]{say('not run')}[/] "
            + say("{name}: {why}", name=name, why=i18n.translate(why, lang))
        )
    for j in report["judges"]:
        if not j.get("probes"):  # the others were printed beside their probes' results
            console.print(_judge_markup(j, lang=lang))
    for w in report["warnings"]:
        console.print(f"[yellow]{say('warning:')}[/] {escape(i18n.translate(w, lang))}")
    tot = report["totals"]
    # French adjectives agree: "2 élevées", "1 moyenne".
    sev = ", ".join(
        f"{n} {word(s)}{'s' if lang == 'fr' and n > 1 else ''}"
        for s, n in report["summary"]["by_severity"].items()
        if n
    )
    n_found = report["summary"]["findings"]
    console.print(
        say(
            "{findings} ({severities}) · {probe_cases} probe cases from {cases} suite cases · "
            "{results} results · {calls} model calls, {cached} from cache, {judge} judge calls "
            "· {seconds} s",
            findings=plural(n_found, "finding", None, lang)
            if lang == "en"
            else plural(n_found, "trouvaille", None, lang),
            severities=sev or i18n.translate("none", lang),
            probe_cases=tot["probe_cases"],
            cases=tot["cases"],
            results=tot["results"],
            calls=tot["model_calls"],
            cached=tot["cached"],
            judge=tot["judge_calls"],
            seconds=i18n.number(tot["seconds"], lang, ".1f"),
        )
    )


LOW_AGREEMENT = (
    "low or unknown agreement with people: check these verdicts by hand before acting on them"
)


def _judge_markup(j: dict[str, Any], *, short: bool = False, lang: str = "en") -> str:
    from rich.markup import escape

    def say(text: str, **values: object) -> str:
        return escape(i18n.sentence(text, lang, values))

    if short:
        word = (
            f"[red]{say('judge not trusted')}[/]"
            if j["low"]
            else f"[green]{say('judge calibrated')}[/]"
        )
        return f"[dim]{say('verdict by {judge}:', judge=j['judge'])}[/] {word}"
    colour = "red" if j["low"] else "green"
    text = f"[{colour}]{say('judge:')}[/] {escape(i18n.translate(j['text'], lang))}"
    if j["low"]:
        text += f"\n  [bold red]{say('warning:')}[/] {say(LOW_AGREEMENT)}"
    return text


# ---- files ---------------------------------------------------------------------------------


def to_json(report: dict[str, Any]) -> str:
    # Each judged probe carries its judge's agreement, so no reader takes its rate alone.
    outcomes = [{**o, "judges": judge_notes_for(report, o["probe"])} for o in report["outcomes"]]
    return json.dumps({**report, "outcomes": outcomes}, ensure_ascii=False, indent=2, default=str)


def to_junit(report: dict[str, Any]) -> str:
    """One <testsuite> per probe and model, one <testcase> per probe case: a finding is a
    failure (its evidence in the message), a skipped probe is a skipped test."""
    root = ET.Element("testsuites", name=f"probe {report['prompt']['name']}")
    for o in report["outcomes"]:
        name = f"{o['probe']} · {o['model']}"
        ts = ET.SubElement(
            root,
            "testsuite",
            name=name,
            tests=str(max(1, o["tested"]) if o["skipped"] else o["tested"]),
            failures=str(o["found"]),
            errors=str(o["errors"]),
            skipped="1" if o["skipped"] else "0",
        )
        judged = judge_notes_for(report, o["probe"])
        if judged and not o["skipped"]:
            props = ET.SubElement(ts, "properties")
            for j in judged:
                ET.SubElement(props, "property", name="judge", value=j["text"])
                ET.SubElement(props, "property", name="judge_low_agreement", value=str(j["low"]))
        if o["skipped"]:
            tc = ET.SubElement(ts, "testcase", classname=name, name=o["probe"])
            ET.SubElement(tc, "skipped", message=o["skipped"][:500])
            continue
        why = {f["case_id"]: f for f in o["findings"]}
        for case_id, hit in o["verdicts"]:
            tc = ET.SubElement(ts, "testcase", classname=name, name=case_id)
            f = why.get(case_id)
            if hit and f:
                ET.SubElement(
                    tc, "failure", message=f"[{f['severity']}] {f['why']}"[:500], type=f["severity"]
                ).text = (
                    f"input: {json.dumps(f['inputs'], ensure_ascii=False)}\n"
                    f"output: {f['output']}\nwhy: {f['why']}"
                )
    return tostring(root)


def to_html(report: dict[str, Any]) -> str:
    """One self-contained page: no network, styles and script inline."""
    from importlib.resources import files

    env = html_environment()
    template = env.from_string(
        files("prompteur.probes").joinpath("templates/report.html.j2").read_text(encoding="utf-8")
    )
    return template.render(
        r=report,
        cats={(c["category"], c["model"]): c for c in report["categories"]},
        interval=interval_text,
        details=detail_lines,
        judges_of=lambda probe: judge_notes_for(report, probe),
        low_agreement=LOW_AGREEMENT,
        pct=pct,
        dumps=lambda v: json.dumps(v, ensure_ascii=False, indent=1, default=str),
    )


def write(report: dict[str, Any], path: Any) -> None:
    """A report file by its suffix: .json, .xml (JUnit) or .html."""
    from pathlib import Path

    from ..errors import UserError

    out = Path(path)
    suffix = out.suffix.lower()
    if suffix == ".json":
        text = to_json(report)
    elif suffix == ".xml":
        text = to_junit(report)
    elif suffix in {".html", ".htm"}:
        text = to_html(report)
    else:
        raise UserError("unknown report format", file=out, hint="use .json, .xml or .html")
    write_atomic(out, text)
