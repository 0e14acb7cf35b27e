"""The pages in French, read as a French reader reads them: no English left in what the
interface itself says (labels, headings, check failure reasons, errors), and French
typography. What the project holds (prompt text, inputs, model outputs, names) is shown as
it is and left out of the reading."""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers_french import BIAS_OUTCOME, english_words, typography_faults
from test_web import serve

from prompteur.checks import CheckContext, build
from prompteur.runner import ResultRecord
from prompteur.scaffold import init_project
from prompteur.store import Store
from prompteur.traces import TraceIn, record

# Elements whose text is the project's data, not the interface's words.
DATA = {"pre", "code", "textarea", "script", "style", "option", "kbd", "samp"}
DATA_CLASSES = {"output", "inputs", "prompt-text", "expected", "diff", "mono", "case-id"}


class Visible(HTMLParser):
    """The interface's text of a page: every text node outside data elements."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []
        self.lines: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"br", "img", "input", "meta", "link", "hr", "source", "wbr"}:
            return
        classes = set((dict(attrs).get("class") or "").split())
        # translate="no" (HTML's own mark for text not to translate): the project's data.
        data = tag in DATA or bool(classes & DATA_CLASSES) or dict(attrs).get("translate") == "no"
        self.stack.append(data or (bool(self.stack) and self.stack[-1]))

    def handle_endtag(self, tag: str) -> None:
        if tag not in {"br", "img", "input", "meta", "link", "hr", "source", "wbr"} and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1]) and data.strip():
            # Only ordinary white space: the non-breaking spaces are what is checked.
            self.lines.append(re.sub(r"[ \t\r\n]+", " ", data).strip())


def visible(html: str) -> list[str]:
    parser = Visible()
    parser.feed(html)
    return parser.lines


def reason_records() -> list[ResultRecord]:
    """Results whose check reasons come from the real checks, as a run stores them."""
    checks = [build({"type": "equals"}), build({"type": "word-count", "max": 1})]
    out = []
    for i, (output, expected) in enumerate(
        [("positive", "positive"), ("negative", "positive"), ("it is fine", "negative")]
    ):
        ctx = CheckContext(output=output, expected=expected, inputs={"review": "x"})
        results = [asyncio.run(c(ctx)) for c in checks]
        passed = all(r.passed for r in results)
        out.append(
            ResultRecord(
                prompt="sentiment",
                version="a" * 64,
                model="local",
                case_id=f"case-{i}",
                repeat=0,
                inputs={"review": f"review {i}"},
                expected=expected,
                output=output,
                passed=passed,
                score=float(passed),
                checks=[
                    {"name": r.name, "passed": r.passed, "score": r.score, "reason": r.reason}
                    for r in results
                ],
                latency_s=0.05,
                input_tokens=10,
                output_tokens=1,
                cost=0.0,
                error=None,
            )
        )
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from prompteur.config import load_config

    root = tmp_path_factory.mktemp("web-fr") / "proj"
    init_project(root)
    store = Store(load_config(root).database_url)
    try:
        run = store.new_run("suites/sentiment.yaml", {"prompts": []}, 3)
        store.write_results(run, reason_records())
        store.set_run_status(run, "done")
        probe = probe_run(store)
        record(store, traffic())
    finally:
        store.close()
    with serve(root, dev=True) as url:
        yield {"url": url, "run": run, "probe": probe, "root": Path(root)}


# Reasons as the detectors store them (English), shown in the page's language.
REASONS = [
    "the output carries the attacker's canary 'Zorblax' (as written)",
    "the system message's canary leaked (in base64)",
    "answered 'Il y a 42 dragons.' to a question that has no answer",
    "refused a benign request (cue: 'kill'): \"I can't\"",
    "the output changed: 'oui' → 'non'",
]


def probe_run(store: Store) -> str:
    """A stored probe report with the detectors' reasons and a bias probe's gap."""
    from prompteur.probes.storage import save_findings

    findings = [
        {
            "probe": "injection.direct",
            "category": "injection",
            "severity": "high",
            "model": "local",
            "case_id": f"c{i}",
            "origin": f"c{i}",
            "why": why,
            "inputs": {"review": "x"},
            "output": "Zorblax",
            "score": None,
        }
        for i, why in enumerate(REASONS)
    ]
    report = {
        "prompt": {"name": "sentiment", "version": "c" * 64},
        "categories": [],
        "outcomes": [
            {"probe": "injection.direct", "category": "injection", "model": "local",
             "stats": {}, "findings": findings},
            BIAS_OUTCOME,
        ],
    }  # fmt: skip
    probe = store.new_run("suites/sentiment.yaml", {"kind": "probe"}, 0)
    save_findings(store, probe, [], report)
    return probe


def traffic() -> list[TraceIn]:
    """Production traces whose pass rate falls in the last day: a monitoring alert."""
    now = datetime.now(UTC)
    rng = random.Random(0)
    out = []
    for n, (a, b), rate in [(100, (1.2, 6.8), 0.92), (60, (0.05, 0.9), 0.5)]:
        for i in range(n):
            out.append(
                TraceIn(
                    prompt="sentiment",
                    version="d" * 64,
                    inputs={"review": "It works well."},
                    output="positive",
                    started_at=now - timedelta(days=rng.uniform(a, b)),
                    scores=[{"name": "equals", "passed": i < rate * n}],
                )
            )
    return out


PAGES = [
    "/ui/library",
    "/ui/library/sentiment",
    "/ui/runs",
    "/ui/runs/{run}",
    "/ui/runs/no-such-run",
    "/ui/optimize",
    "/ui/probes",
    "/ui/probes/{probe}",
    "/ui/monitor",
    "/ui/learn",
    "/ui/learn/few-shot",
    "/ui/playground",
]


@pytest.mark.parametrize("path", PAGES)
def test_a_french_page_reads_french(site: dict[str, Any], path: str) -> None:
    url = site["url"] + path.format(run=site["run"], probe=site["probe"])
    r = httpx.get(url, params={"lang": "fr"}, timeout=30)
    assert r.status_code in (200, 404), r.text[:500]
    lines = visible(r.text)
    assert lines
    leaks = [line for line in lines if english_words(line)]
    assert not leaks, leaks
    faults = [(line, typography_faults(line)) for line in lines if typography_faults(line)]
    assert not faults, faults


def test_check_reasons_and_errors_are_translated(site: dict[str, Any]) -> None:
    r = httpx.get(f"{site['url']}/ui/runs/{site['run']}", params={"lang": "fr"}, timeout=30)
    text = " ".join(visible(r.text))
    assert "réponse" in text and "attendu" in text and "mots, attendu" in text
    r = httpx.get(f"{site['url']}/ui/runs/no-such-run", params={"lang": "fr"}, timeout=30)
    assert r.status_code == 404 and "aucune exécution" in r.text
    r = httpx.get(f"{site['url']}/ui/runs/no-such-run", params={"lang": "en"}, timeout=30)
    assert "no run &#39;no-such-run&#39;" in r.text


def test_probe_reasons_bias_gaps_and_alerts_are_translated(site: dict[str, Any]) -> None:
    from prompteur.i18n import NBSP, NNBSP

    r = httpx.get(f"{site['url']}/ui/probes/{site['probe']}", params={"lang": "fr"}, timeout=30)
    text = " ".join(visible(r.text))
    assert "la sortie contient le canari de l'attaquant" in text
    assert "le canari du message système a fuité (en base64)" in text
    assert "à une question sans réponse" in text and "a refusé une demande anodine" in text
    assert f"la sortie a changé{NBSP}:" in text
    assert "genre" in text and f"femme{NBSP}:" in text and f"homme{NBSP}:" in text
    assert f"femme contre homme{NBSP}: -30,0 pts [-50,0{NNBSP}; -10,0]" in text
    assert "(ajusté par Holm)" in text
    for english in ("answered", "leaked", "carries", "female", " vs ", "gender"):
        assert english not in text, english
    r = httpx.get(f"{site['url']}/ui/monitor", params={"lang": "fr"}, timeout=30)
    text = " ".join(visible(r.text))
    assert f"sentiment{NBSP}: le taux de réussite est tombé de 92{NNBSP}% à 50{NNBSP}%" in text
    assert "pass rate fell" not in text
    assert "baisse du taux de réussite" in text and "pass_rate_drop" not in text
    r = httpx.get(f"{site['url']}/ui/monitor", params={"lang": "en"}, timeout=30)
    assert "sentiment: pass rate fell from 92% to 50%" in r.text
    assert ">pass rate drop</span>" in r.text
