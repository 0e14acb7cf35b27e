"""Monitoring: per-version statistics over time, online scoring with the suite's checks (the
embedded model as judge), alerts on a pass-rate drop and on input shifts (with no alert on
stable traffic), and the webhook, received by a real HTTP server on loopback."""

from __future__ import annotations

import json
import random
import re
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from typer.testing import CliRunner

from prompteur.cli import app as cli_app
from prompteur.config import load_config
from prompteur.store import Store
from prompteur.traces import TraceIn, drift, iter_traces, record
from prompteur.traces.language import guess_language
from prompteur.traces.monitor import version_stats
from prompteur.traces.scoring import in_sample, needs_expected

runner = CliRunner()
NOW = datetime.now(UTC).replace(minute=30, second=0, microsecond=0)


def test_version_stats_per_hour(store: Store) -> None:
    traces = []
    for hour in range(3):
        for i in range(10):  # latencies 10..100 ms, 7 of 10 passing, in each hour
            traces.append(
                TraceIn(
                    prompt="sentiment",
                    version="v1",
                    inputs={"review": "x"},
                    output="positive",
                    latency_ms=10.0 * (i + 1),
                    tokens_in=100,
                    tokens_out=2,
                    cost=0.001,
                    started_at=NOW - timedelta(hours=hour),
                    scores=[{"name": "c", "passed": i < 7}],
                )
            )
    traces.append(TraceIn(prompt="sentiment", version="v2", error="boom", started_at=NOW))
    traces.append(TraceIn(prompt="other", started_at=NOW - timedelta(days=3)))  # out of window
    record(store, traces)
    report = version_stats(store, since=NOW - timedelta(hours=5), until=NOW + timedelta(minutes=1))
    by_version = {(s.prompt, s.version): s for s in report.series}
    assert set(by_version) == {("sentiment", "v1"), ("sentiment", "v2")}
    v1 = by_version[("sentiment", "v1")]
    assert len(v1.buckets) == 3 and [b.volume for b in v1.buckets] == [10, 10, 10]
    assert v1.buckets[0].start.minute == 0
    total = v1.total
    assert (total.volume, total.scored, total.passed, total.errors) == (30, 30, 21, 0)
    rate = total.pass_rate
    assert rate is not None and rate.estimate == pytest.approx(0.7)
    assert 0.5 < rate.low < 0.7 < rate.high < 0.86  # Wilson, n=30
    assert total.latency(0.5) == pytest.approx(55.0) and total.latency(0.95) == pytest.approx(100.0)
    assert (total.tokens_in, total.tokens_out) == (3000, 60)
    assert total.cost == pytest.approx(0.03)
    v2 = by_version[("sentiment", "v2")].total
    assert (v2.volume, v2.errors, v2.pass_rate) == (1, 1, None)
    days = version_stats(store, since=NOW - timedelta(hours=5), bucket="day")
    assert sum(len(s.buckets) for s in days.series) <= 4


# ---- drift tests --------------------------------------------------------------------------


def test_drift_statistics_against_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    rng = random.Random(1)
    a = [rng.gauss(50, 10) for _ in range(300)]
    b = [rng.gauss(56, 10) for _ in range(200)]
    d, p = drift.ks_2samp(a, b)
    ref = stats.ks_2samp(a, b, method="asymp")
    assert d == pytest.approx(ref.statistic)
    assert p == pytest.approx(ref.pvalue, rel=0.25, abs=1e-6)
    assert drift.ks_2samp(a, a)[1] == pytest.approx(1.0)
    # Two-proportion z-test (one-sided), as scipy's normal distribution gives it.
    z = (0.9 - 0.6) / ((0.75 * 0.25 * (1 / 50 + 1 / 50)) ** 0.5)
    assert drift.proportion_drop(45, 50, 30, 50) == pytest.approx(stats.norm.sf(z))
    assert drift.proportion_drop(30, 50, 45, 50) > 0.99  # a rise is no drop
    chi = drift.chi2_sf(12.0, 3)
    assert chi == pytest.approx(stats.chi2.sf(12.0, 3), rel=0.1)
    assert drift.psi(a, a) == pytest.approx(0.0, abs=1e-9)
    assert drift.psi(a, [x + 20 for x in a]) > 0.5


def test_language_guess_and_sampling() -> None:
    assert guess_language("Mon colis n'est jamais arrivé et je suis en colère") == "fr"
    assert guess_language("The battery died after two days and it is broken") == "en"
    assert guess_language("Das Paket ist nicht angekommen und ich bin sauer") == "de"
    assert guess_language("12345") == "und"
    ids = [(uuid.uuid4().hex, uuid.uuid4().hex[:16]) for _ in range(4000)]
    chosen = [i for i in ids if in_sample(*i, 0.25)]
    assert 0.22 < len(chosen) / len(ids) < 0.28
    assert chosen == [i for i in ids if in_sample(*i, 0.25)]  # the same draw every time
    assert set(chosen) <= {i for i in ids if in_sample(*i, 0.5)}  # a larger rate adds traces
    assert needs_expected({"type": "equals"}) and needs_expected("not-contains")
    assert not needs_expected({"type": "equals", "value": "x"})
    assert not needs_expected({"type": "rubric", "value": "polite"})
    assert not needs_expected({"type": "word-count", "max": 1})


# ---- online scoring --------------------------------------------------------------------------


ONLINE_SUITE = """prompts: [sentiment]
checks:
  - type: word-count
    max: 1
  - type: equals            # needs each case's expected value: used when a trace has one
  - type: rubric
    value: The answer is a single word.
cases:
  - inputs: {review: "Great."}
    expected: positive
"""


def test_monitor_score_uses_the_suite_checks_and_a_judge(project: Path) -> None:
    (project / "suites" / "online.yaml").write_text(ONLINE_SUITE, encoding="utf-8")
    with (project / "prompteur.toml").open("a", encoding="utf-8") as fh:
        fh.write(
            '\n[monitor]\nsample = 0.0\n[monitor.prompts.sentiment]\nsuite = "suites/online.yaml"\n'
        )
    store = Store(load_config().database_url)
    record(
        store,
        [
            TraceIn(prompt="sentiment", inputs={"review": "Love it"}, output="positive"),
            TraceIn(
                prompt="sentiment",
                inputs={"review": "Broke"},
                output="it is negative I think",
                expected="negative",
            ),
            TraceIn(
                prompt="sentiment", inputs={"review": "Meh"}, output="negative", expected="positive"
            ),
            TraceIn(prompt="sentiment", inputs={"review": "Boom"}, error="timeout"),
        ],
    )
    # The configured rate is 0: nothing is scored until a rate is given.
    none = runner.invoke(cli_app, ["monitor", "score", "--json"])
    assert none.exit_code == 0, none.output
    assert json.loads(none.stdout)["scored"] == 0

    result = runner.invoke(cli_app, ["monitor", "score", "--sample", "1", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["scored"] == 3 and summary["considered"] == 3
    assert summary["by_prompt"]["sentiment"]["needs_expected"] == ["equals"]
    scored = {t.inputs["review"]: t for t in iter_traces(store) if t.scored_at is not None}
    assert set(scored) == {"Love it", "Broke", "Meh"}
    names = {k: [s["name"] for s in t.scores or []] for k, t in scored.items()}
    assert names["Love it"] == ["word-count", "rubric"]  # no expected: equals left out
    assert names["Broke"] == ["word-count", "equals", "rubric"]
    by_check = {k: {s["name"]: s for s in t.scores or []} for k, t in scored.items()}
    assert by_check["Love it"]["word-count"]["passed"] is True
    assert by_check["Broke"]["word-count"]["passed"] is False
    assert by_check["Broke"]["equals"]["passed"] is False
    assert by_check["Meh"]["equals"]["passed"] is False
    assert 0.0 <= by_check["Love it"]["rubric"]["score"] <= 1.0
    assert scored["Broke"].passed is False and scored["Meh"].passed is False
    # Scoring again scores nothing new.
    again = runner.invoke(cli_app, ["monitor", "score", "--sample", "1", "--json"])
    assert json.loads(again.stdout)["scored"] == 0
    # A prompt with no suite is named when asked for, not silently skipped.
    record(store, [TraceIn(prompt="tri-tickets", inputs={"message": "x"}, output="y")])
    store.close()
    missing = runner.invoke(
        cli_app,
        ["monitor", "score", "--prompt", "tri-tickets", "--sample", "1", "--suite", "nope.yaml"],
    )
    assert missing.exit_code == 2 and "nope.yaml" in missing.output


# ---- alerts and the webhook -------------------------------------------------------------------


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        size = int(self.headers["content-length"])
        type(self).received.append(json.loads(self.rfile.read(size)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: ClassVar[list[dict[str, Any]]] = []
    handler = type("Hook", (_Hook,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/alerts", received
    server.shutdown()
    server.server_close()


EN = [
    "The battery died.",
    "It works well.",
    "It broke.",
    "This is a nice product.",
    "Too slow for me.",
]
FR = [
    "Mon colis n'est jamais arrivé et le service client ne répond pas à mes messages depuis deux "
    "semaines, je suis vraiment en colère contre vous.",
    "Le produit est arrivé cassé dans une boîte ouverte, je demande un remboursement complet "
    "et une explication de la part de votre équipe.",
]


def _traffic(
    prompt: str, n: int, days_ago: tuple[float, float], rate: float, texts: list[str], seed: int
) -> list[TraceIn]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        when = NOW - timedelta(days=rng.uniform(*days_ago))
        out.append(
            TraceIn(
                prompt=prompt,
                version="v1",
                inputs={"review": texts[i % len(texts)]},
                output="positive",
                started_at=when,
                scores=[{"name": "ok", "passed": i < rate * n}],
            )
        )
    return out


def test_alerts_drop_and_shift_reach_the_webhook_once(
    project: Path, hook: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = hook
    with (project / "prompteur.toml").open("a", encoding="utf-8") as fh:
        fh.write(f'\n[monitor]\nwebhook = "{url}"\nwindow = "1d"\nbaseline = "6d"\n')
    store = Store(load_config().database_url)
    record(
        store,
        # sentiment: 92 % → 50 %, English one-liners → long French complaints.
        _traffic("sentiment", 100, (1.2, 6.8), 0.92, EN, 1)
        + _traffic("sentiment", 60, (0.0, 0.9), 0.50, FR, 2)
        # stable: the same rate and the same inputs on both sides: no alert.
        + _traffic("stable", 100, (1.2, 6.8), 0.80, EN, 3)
        + _traffic("stable", 60, (0.0, 0.9), 0.80, EN, 4),
    )
    store.close()
    result = runner.invoke(cli_app, ["monitor", "--since", "8d", "--fail-on-alert"])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("ALERT")]
    assert len(lines) == 3, result.stdout
    assert "sentiment: pass rate fell from 92% to 50%" in lines[0]
    assert any("input length shifted" in line for line in lines)
    assert any("language mix shifted (en 100% → fr 100%" in line for line in lines)
    assert not any("stable" in line for line in lines)
    assert "sent 3 alerts to the webhook at 127.0.0.1" in result.stdout
    assert len(received) == 1
    payload = received[0]
    assert {a["kind"] for a in payload["alerts"]} == {
        "pass_rate_drop",
        "input_length_shift",
        "language_shift",
    }
    drop = next(a for a in payload["alerts"] if a["kind"] == "pass_rate_drop")
    assert drop["evidence"]["p_value"] < 0.01 and drop["evidence"]["recent"]["scored"] == 60
    # Run again within the window: shown, not sent twice.
    again = runner.invoke(cli_app, ["monitor", "sentiment", "--since", "8d", "--json"])
    assert again.exit_code == 0, again.output
    data = json.loads(again.stdout)
    assert len(data["alerts"]) == 3 and data["webhook"] == {"sent": 0, "held": 3, "error": None}
    assert len(received) == 1
    calm = runner.invoke(cli_app, ["monitor", "stable", "--since", "8d", "--fail-on-alert"])
    assert calm.exit_code == 0 and "no alert" in calm.stdout
    # The same in French: the table, the alerts and the verdicts from the catalogue.
    from helpers_french import english_words, typography_faults

    fr = runner.invoke(cli_app, ["monitor", "--since", "8d", "--lang", "fr", "--no-webhook"])
    assert fr.exit_code == 0, fr.output
    assert "Traces depuis le" in fr.stdout and "réussite [IC 95" in fr.stdout
    alerts = [line for line in fr.stdout.splitlines() if line.startswith("ALERTE")]
    assert len(alerts) == 3 and "Traces since" not in fr.stdout
    for line in alerts:
        text = line.split(" ", 1)[1]
        assert not english_words(text) and not typography_faults(text), line
    calm_fr = runner.invoke(cli_app, ["monitor", "stable", "--since", "8d", "--lang", "fr"])
    assert "aucune alerte" in calm_fr.stdout


def test_an_unreachable_webhook_is_a_warning_not_a_crash(project: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with (project / "prompteur.toml").open("a", encoding="utf-8") as fh:
        fh.write(f'\n[monitor]\nwebhook = "http://127.0.0.1:{port}/x"\nmin_count = 5\n')
    store = Store(load_config().database_url)
    record(
        store,
        _traffic("sentiment", 30, (1.2, 6.8), 1.0, EN, 5)
        + _traffic("sentiment", 30, (0.0, 0.9), 0.2, EN, 6),
    )
    store.close()
    result = runner.invoke(cli_app, ["monitor", "--since", "8d"])
    assert result.exit_code == 0, result.output
    assert "ALERT" in result.stdout and "alerts not sent to 127.0.0.1" in result.output
    bad = project / "prompteur.toml"
    bad.write_text(bad.read_text(encoding="utf-8") + "\n[monitor.prompts.x]\nrate = 2\n")
    broken = runner.invoke(cli_app, ["monitor"])
    assert broken.exit_code == 2 and "prompteur.toml" in broken.output


def test_alert_sentences_in_french(project: Path) -> None:
    """The alerts' sentences from the catalogue: French words and typography, French numbers;
    the English sentence (webhook, JSON) unchanged."""
    from helpers_french import english_words, typography_faults

    from prompteur.i18n import NBSP, NNBSP
    from prompteur.traces.alerts import find_alerts

    with (project / "prompteur.toml").open("a", encoding="utf-8") as fh:
        fh.write('\n[monitor]\nwindow = "1d"\nbaseline = "6d"\n')
    config = load_config()
    store = Store(config.database_url)
    try:
        record(
            store,
            _traffic("sentiment", 100, (1.2, 6.8), 0.92, EN, 1)
            + _traffic("sentiment", 60, (0.0, 0.9), 0.50, FR, 2),
        )
        alerts = {a.kind: a for a in find_alerts(config, store, now=NOW, embeddings=False)}
    finally:
        store.close()
    assert set(alerts) == {"pass_rate_drop", "input_length_shift", "language_shift"}
    drop = alerts["pass_rate_drop"]
    assert drop.text("en") == drop.message
    assert drop.message.startswith("sentiment: pass rate fell from 92% to 50% (baseline ")
    assert "say" not in drop.to_dict()
    fr = drop.text("fr")
    assert fr.startswith(
        f"sentiment{NBSP}: le taux de réussite est tombé de 92{NNBSP}% à 50{NNBSP}% "
        f"(référence{NBSP}:"
    ), fr
    assert "traces notées, récentes" in fr and f"{NNBSP}; p = " in fr
    assert "fell" not in fr and "baseline" not in fr
    length = alerts["input_length_shift"].text("fr")
    assert f"sentiment{NBSP}: la longueur des entrées a changé (médiane " in length, length
    assert "caractères" in length and "shifted" not in length
    mix = alerts["language_shift"].text("fr")
    assert f"la répartition des langues a changé (en 100{NNBSP}% → fr 100{NNBSP}%" in mix, mix
    for a in alerts.values():
        text = a.text("fr")
        assert not english_words(text), text
        assert not typography_faults(text), text
        # decimal commas: p = 0,0012, not 0.0012
        assert not re.search(r"\d\.\d", text), text
