"""Reports from results: a summary per variant with intervals, and exports (JSON, JSONL, CSV,
JUnit XML). Reads results; computes nothing a model would have to redo."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from xml.etree import ElementTree as ET

from . import stats
from .run import ResultRecord

Variant = tuple[str, str, str]  # (prompt, version, model)


def variant_label(v: Variant) -> str:
    return f"{v[0]}@{v[1][:8]} · {v[2]}"


@dataclass
class VariantSummary:
    prompt: str
    version: str
    model: str
    results: int
    cases: int
    passed: int
    failed: int
    errors: int
    pass_rate: stats.Interval
    mean_score: stats.Interval | None
    repeats: int
    pass_hat_k: float | None
    flaky_cases: list[str]
    latency_p50: float | None
    latency_p95: float | None
    input_tokens: int
    output_tokens: int
    cost: float
    cost_known: bool
    worst: list[dict[str, Any]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return variant_label((self.prompt, self.version, self.model))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["label"] = self.label
        return d


def _quantile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def group(records: Iterable[ResultRecord]) -> dict[Variant, list[ResultRecord]]:
    out: dict[Variant, list[ResultRecord]] = defaultdict(list)
    for r in records:
        out[(r.prompt, r.version, r.model)].append(r)
    return dict(out)


def summarise(records: Iterable[ResultRecord], *, worst: int = 5) -> list[VariantSummary]:
    summaries = []
    for (prompt, version, model), rs in group(records).items():
        judged = [r for r in rs if r.passed is not None]
        passed = sum(1 for r in judged if r.passed)
        per_case: dict[str, tuple[int, int]] = {}
        for r in judged:
            c, n = per_case.get(r.case_id, (0, 0))
            per_case[r.case_id] = (c + bool(r.passed), n + 1)
        repeats = max((n for _, n in per_case.values()), default=0)
        scored = [(r.score, r.case_id) for r in rs if r.score is not None]
        mean = (
            stats.bootstrap_mean([s for s, _ in scored], [c for _, c in scored]) if scored else None
        )
        latencies = [r.latency_s for r in rs if r.latency_s is not None and not r.cached]
        failing = sorted(
            (r for r in rs if r.passed is False),
            key=lambda r: (r.error is None, r.score if r.score is not None else -1),
        )
        summaries.append(
            VariantSummary(
                prompt=prompt,
                version=version,
                model=model,
                results=len(rs),
                cases=len(per_case) or len({r.case_id for r in rs}),
                passed=passed,
                failed=len(judged) - passed,
                errors=sum(1 for r in rs if r.error),
                pass_rate=stats.wilson(passed, len(judged)),
                mean_score=mean,
                repeats=repeats,
                pass_hat_k=stats.pass_hat_k(list(per_case.values()), repeats)
                if repeats > 1
                else None,
                flaky_cases=[str(c) for c in stats.flaky(per_case)],
                latency_p50=_quantile(latencies, 0.5),
                latency_p95=_quantile(latencies, 0.95),
                input_tokens=sum(r.input_tokens for r in rs),
                output_tokens=sum(r.output_tokens for r in rs),
                cost=sum(r.cost or 0.0 for r in rs),
                cost_known=all(r.cost is not None for r in rs),
                worst=[
                    {
                        "case_id": r.case_id,
                        "repeat": r.repeat,
                        "inputs": r.inputs,
                        "expected": r.expected,
                        "output": r.output,
                        "error": r.error,
                        "why": "; ".join(c["reason"] for c in r.checks if not c["passed"]),
                    }
                    for r in failing[:worst]
                ],
            )
        )
    return summaries


def paired(records: Iterable[ResultRecord]) -> list[stats.PairedComparison]:
    """Each variant against the first, on the cases both ran: pass/fail by majority vote over
    repeats, and the mean score per case when checks give scores."""
    by_variant = group(records)
    if len(by_variant) < 2:
        return []
    votes: dict[Variant, dict[str, bool]] = {}
    means: dict[Variant, dict[str, float]] = {}
    for v, rs in by_variant.items():
        tally: dict[str, list[bool]] = defaultdict(list)
        score_tally: dict[str, list[float]] = defaultdict(list)
        for r in rs:
            if r.passed is not None:
                tally[r.case_id].append(bool(r.passed))
            if r.score is not None:
                score_tally[r.case_id].append(r.score)
        votes[v] = {c: sum(x) * 2 > len(x) for c, x in tally.items()}
        means[v] = {c: sum(x) / len(x) for c, x in score_tally.items()}
    variants = list(by_variant)
    base = variants[0]
    pairs, scores = {}, {}
    for other in variants[1:]:
        label = (variant_label(base), variant_label(other))
        common = sorted(set(votes[base]) & set(votes[other]))
        pairs[label] = [(votes[base][c], votes[other][c]) for c in common]
        scored = sorted(set(means[base]) & set(means[other]))
        if scored:
            scores[label] = [(means[base][c], means[other][c]) for c in scored]
    return stats.compare_many(pairs, scores=scores)


# ---- exports -------------------------------------------------------------------------------


def to_jsonl(records: Iterable[ResultRecord]) -> Iterable[str]:
    for r in records:
        yield json.dumps(r.to_dict(), ensure_ascii=False, default=str) + "\n"


CSV_COLUMNS = [
    "prompt",
    "version",
    "model",
    "case_id",
    "repeat",
    "passed",
    "score",
    "output",
    "expected",
    "error",
    "latency_s",
    "input_tokens",
    "output_tokens",
    "cost",
    "cached",
    "attempts",
    "inputs",
    "checks",
]


def to_csv(records: Iterable[ResultRecord]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    w.writeheader()
    for r in records:
        d = r.to_dict()
        d["inputs"] = json.dumps(d["inputs"], ensure_ascii=False)
        d["checks"] = json.dumps(d["checks"], ensure_ascii=False)
        d["expected"] = (
            d["expected"]
            if isinstance(d["expected"], str)
            else json.dumps(d["expected"], ensure_ascii=False)
        )
        w.writerow(d)
    return buf.getvalue()


def to_junit(records: Iterable[ResultRecord], suite_name: str) -> str:
    """One <testcase> per result, one <testsuite> per variant: what CI systems read."""
    root = ET.Element("testsuites", name=suite_name)
    for v, rs in group(records).items():
        failures = sum(1 for r in rs if r.passed is False and not r.error)
        errors = sum(1 for r in rs if r.error)
        ts = ET.SubElement(
            root,
            "testsuite",
            name=variant_label(v),
            tests=str(len(rs)),
            failures=str(failures),
            errors=str(errors),
            time=f"{sum(r.latency_s or 0 for r in rs):.3f}",
        )
        for r in rs:
            tc = ET.SubElement(
                ts,
                "testcase",
                classname=variant_label(v),
                name=f"{r.case_id}#{r.repeat}",
                time=f"{r.latency_s or 0:.3f}",
            )
            if r.error:
                ET.SubElement(tc, "error", message=r.error[:500]).text = r.error
            elif r.passed is False:
                why = "; ".join(f"{c['name']}: {c['reason']}" for c in r.checks if not c["passed"])
                ET.SubElement(
                    tc, "failure", message=why[:500]
                ).text = f"output: {r.output}\nexpected: {r.expected}\n{why}"
            ET.SubElement(tc, "system-out").text = r.output or ""
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def to_json(records: Sequence[ResultRecord], run: dict[str, Any]) -> str:
    summaries = summarise(records)
    return json.dumps(
        {
            "run": run,
            "summary": [s.to_dict() for s in summaries],
            "comparisons": [
                {
                    **c.__dict__,
                    "difference": asdict(c.difference),
                    "score_difference": asdict(c.score_difference) if c.score_difference else None,
                    "words": c.words(),
                    "significant": c.significant,
                }
                for c in paired(records)
            ],
            "results": [r.to_dict() for r in records],
        },
        ensure_ascii=False,
        indent=2,
        default=str,
    )


# ---- HTML ----------------------------------------------------------------------------------


def to_html(records: Sequence[ResultRecord], run: dict[str, Any]) -> str:
    """A self-contained page (no network: styles and script inline) with the summary, the
    comparison in words and the matrix of cases × variants, filterable."""
    from importlib.resources import files

    from jinja2 import Environment

    summaries = summarise(records)
    by_variant = group(records)
    variants = list(by_variant)
    rows_by_key: dict[tuple[str, int], dict[str, Any]] = {}
    for vi, v in enumerate(variants):
        for r in by_variant[v]:
            row = rows_by_key.setdefault(
                (r.case_id, r.repeat),
                {
                    "case_id": r.case_id,
                    "repeat": r.repeat,
                    "inputs": json.dumps(r.inputs, ensure_ascii=False, indent=1),
                    "expected": r.expected
                    if isinstance(r.expected, str)
                    else json.dumps(r.expected, ensure_ascii=False),
                    "cells": [None] * len(variants),
                },
            )
            state = "error" if r.error else ("pass" if r.passed else "fail")
            row["cells"][vi] = {
                "state": state,
                "score": r.score,
                "output": r.output if r.output is not None else r.error,
                "why": [f"{c['name']}: {c['reason']}" for c in r.checks if not c["passed"]],
            }
    rows = list(rows_by_key.values())
    for row in rows:
        states = {c["state"] for c in row["cells"] if c}
        row["any_fail"] = bool(states - {"pass"})
        row["changed"] = len(states) > 1
    env = Environment(autoescape=True)
    template = env.from_string(
        files("prompteur").joinpath("templates/report.html.j2").read_text(encoding="utf-8")
    )
    return template.render(
        run=run,
        records=records,
        summaries=summaries,
        comparisons=paired(records),
        variants=[variant_label(v) for v in variants],
        rows=rows,
        pct=lambda x: f"{x:.1%}",
    )
