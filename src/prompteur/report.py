"""Reports from results: a summary per variant with intervals, and exports (JSON, JSONL, CSV,
JUnit XML). Reads results; computes nothing a model would have to redo."""

from __future__ import annotations

import csv
import heapq
import io
import json
from array import array
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from xml.etree import ElementTree as ET

from . import stats
from .runner import ResultRecord
from .xmltext import html_environment, tostring

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
    # Objects compared field by field: each field's accuracy over the results that judged it.
    fields: dict[str, stats.Interval] = field(default_factory=dict)
    # Time waiting before the model (its limiter, the local batch queue), apart from latency.
    queue_p50: float | None = None
    # How outputs were held to the prompt's schema: "grammar", "json_schema", "off"… → count.
    enforcement: dict[str, int] = field(default_factory=dict)

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


class _Tally:
    """What a variant's summary needs, gathered one record at a time: a run of 100,000
    results is summarised from the store's stream without holding the records."""

    def __init__(self, worst: int) -> None:
        self.results = 0
        self.errors = 0
        self.cases: dict[str, list[int]] = {}  # case id → [passes, judged]
        self.scores = array("d")
        self.score_cases = array("q")  # index of the score's case in `cases`, for clustering
        self.case_index: dict[str, int] = {}
        self.latencies = array("d")
        self.queued = array("d")
        self.fields: dict[str, list[float]] = {}  # field → [hits, judged]
        self.enforcement: dict[str, int] = {}
        self.input_tokens = 0
        self.output_tokens = 0
        self.cost = 0.0
        self.cost_known = True
        self.keep = worst
        # The `keep` worst failures as a max-heap on (no error, score, arrival): sorting all
        # failures and taking the first `keep`, as before, needed them all in memory.
        self.worst: list[tuple[int, float, int, dict[str, Any]]] = []

    def add(self, r: ResultRecord) -> None:
        self.results += 1
        tally = self.cases.get(r.case_id)
        if tally is None:
            tally = self.cases[r.case_id] = [0, 0]
        if r.passed is not None:
            tally[0] += bool(r.passed)
            tally[1] += 1
        if r.score is not None:
            index = self.case_index.setdefault(r.case_id, len(self.case_index))
            self.scores.append(r.score)
            self.score_cases.append(index)
        if r.latency_s is not None and not r.cached:
            self.latencies.append(r.latency_s)
        if r.queue_s is not None and not r.cached:
            self.queued.append(r.queue_s)
        if r.enforcement:
            self.enforcement[r.enforcement] = self.enforcement.get(r.enforcement, 0) + 1
        for c in r.checks:
            for name, hit in (c.get("fields") or {}).items():
                f = self.fields.setdefault(name, [0.0, 0.0])
                f[0] += hit
                f[1] += 1
        if r.error:
            self.errors += 1
        self.input_tokens += r.input_tokens
        self.output_tokens += r.output_tokens
        self.cost += r.cost or 0.0
        self.cost_known = self.cost_known and r.cost is not None
        if r.passed is False and self.keep > 0:
            rank = (-(r.error is None), -(r.score if r.score is not None else -1), -self.results)
            if len(self.worst) < self.keep or rank > self.worst[0][:3]:
                entry = (*rank, _failure(r))
                if len(self.worst) < self.keep:
                    heapq.heappush(self.worst, entry)
                else:
                    heapq.heapreplace(self.worst, entry)

    def summary(self, variant: Variant) -> VariantSummary:
        per_case = [(c, n) for c, n in self.cases.values() if n]
        passed = sum(c for c, _ in per_case)
        judged = sum(n for _, n in per_case)
        repeats = max((n for _, n in per_case), default=0)
        mean = stats.bootstrap_mean(self.scores, self.score_cases) if len(self.scores) else None
        prompt, version, model = variant
        return VariantSummary(
            prompt=prompt,
            version=version,
            model=model,
            results=self.results,
            cases=len(per_case) or len(self.cases),
            passed=passed,
            failed=judged - passed,
            errors=self.errors,
            pass_rate=stats.wilson(passed, judged),
            mean_score=mean,
            repeats=repeats,
            pass_hat_k=stats.pass_hat_k(per_case, repeats) if repeats > 1 else None,
            flaky_cases=[
                str(c) for c in stats.flaky({k: (c, n) for k, (c, n) in self.cases.items() if n})
            ],
            latency_p50=_quantile(self.latencies, 0.5),
            latency_p95=_quantile(self.latencies, 0.95),
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            cost=self.cost,
            cost_known=self.cost_known,
            worst=[entry[3] for entry in sorted(self.worst, reverse=True)],
            fields={k: stats.wilson(round(h), int(n)) for k, (h, n) in self.fields.items()},
            queue_p50=_quantile(self.queued, 0.5),
            enforcement=dict(self.enforcement),
        )


def _failure(r: ResultRecord) -> dict[str, Any]:
    return {
        "case_id": r.case_id,
        "repeat": r.repeat,
        "inputs": r.inputs,
        "expected": r.expected,
        "output": r.output,
        "error": r.error,
        "why": "; ".join(c["reason"] for c in r.checks if not c["passed"]),
    }


def summarise(records: Iterable[ResultRecord], *, worst: int = 5) -> list[VariantSummary]:
    """One summary per variant, in order of first appearance; one pass over `records`."""
    tallies: dict[Variant, _Tally] = {}
    for r in records:
        variant = (r.prompt, r.version, r.model)
        tally = tallies.get(variant)
        if tally is None:
            tally = tallies[variant] = _Tally(worst)
        tally.add(r)
    return [t.summary(v) for v, t in tallies.items()]


def paired(records: Iterable[ResultRecord]) -> list[stats.PairedComparison]:
    """Each variant against the first, on the cases both ran: pass/fail by majority vote over
    repeats, and the mean score per case when checks give scores. One pass over `records`."""
    # variant → case → [passes, judged] and [score sum, scored]
    tally: dict[Variant, dict[str, list[int]]] = {}
    score_tally: dict[Variant, dict[str, list[float]]] = {}
    for r in records:
        v = (r.prompt, r.version, r.model)
        if v not in tally:
            tally[v], score_tally[v] = {}, {}
        if r.passed is not None:
            t = tally[v].setdefault(r.case_id, [0, 0])
            t[0] += bool(r.passed)
            t[1] += 1
        if r.score is not None:
            st = score_tally[v].setdefault(r.case_id, [0.0, 0.0])
            st[0] += r.score
            st[1] += 1
    if len(tally) < 2:
        return []
    votes = {v: {c: p * 2 > n for c, (p, n) in t.items()} for v, t in tally.items()}
    means = {v: {c: s / n for c, (s, n) in t.items()} for v, t in score_tally.items()}
    variants = list(tally)
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
    "queue_s",
    "enforcement",
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
    return tostring(root)


def to_json(
    records: Sequence[ResultRecord],
    run: dict[str, Any],
    *,
    preferences: Sequence[dict[str, Any]] = (),
) -> str:
    """The run, its summaries, comparisons and results; `preferences` as in `to_html`."""
    summaries = summarise(records)
    return json.dumps(
        {
            "run": run,
            "summary": [s.to_dict() for s in summaries],
            "preferences": list(preferences),
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


def to_html(
    records: Sequence[ResultRecord],
    run: dict[str, Any],
    *,
    preferences: Sequence[dict[str, Any]] = (),
) -> str:
    """A self-contained page (no network: styles and script inline) with the summary, the
    comparison in words and the matrix of cases × variants, filterable. `preferences`: the
    blind A/B verdicts people gave on this run's variants (`review.run_preferences`: the
    queue, the votes and the sentence), shown beside the automatic comparison."""
    from importlib.resources import files

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
    env = html_environment()
    template = env.from_string(
        files("prompteur").joinpath("templates/report.html.j2").read_text(encoding="utf-8")
    )
    return template.render(
        run=run,
        records=records,
        summaries=summaries,
        comparisons=paired(records),
        preferences=preferences,
        variants=[variant_label(v) for v in variants],
        rows=rows,
        pct=lambda x: f"{x:.1%}",
    )
