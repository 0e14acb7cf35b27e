"""End-user feedback in monitoring: the feedback and negative rates per prompt version, and
the drift alert that fires when users say no significantly more often than before (and does
not when they do not)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from helpers_review import trace_row

from prompteur.config import Config, ConfigFile
from prompteur.store import Store
from prompteur.traces.alerts import find_alerts
from prompteur.traces.monitor import version_stats

NOW = datetime.now(UTC)


def _traces(store: Store, n: int, start: int = 0) -> list[str]:
    rows = [
        trace_row(i, NOW, started_at=NOW - timedelta(days=3 if i < 40 else 0, hours=1))
        for i in range(start, start + n)
    ]
    store.traces.insert(rows)
    return [r["trace_id"] for r in rows]


def _feedback(store: Store, ids: list[str], negative: int, days_ago: float) -> None:
    for n, trace_id in enumerate(ids):
        at = NOW - timedelta(days=days_ago, minutes=n)
        store.reviews.add_feedback(trace_id, 0.0 if n < negative else 1.0, None, "app", at)


def _config(tmp_path: object) -> Config:
    return Config(root=tmp_path, file=None, data=ConfigFile())  # type: ignore[arg-type]


def test_monitor_shows_feedback_rates_per_version(store: Store) -> None:
    ids = _traces(store, 10, start=40)
    _feedback(store, ids[:4], negative=1, days_ago=0)
    report = version_stats(store, since=NOW - timedelta(days=1), until=NOW + timedelta(hours=1))
    (series,) = report.series
    assert series.feedback == {
        "traces": 10,
        "with_feedback": 4,
        "negative": 1,
        "rate": 0.4,
        "negative_rate": 0.25,
    }
    assert report.to_dict()["series"][0]["feedback"]["negative"] == 1


def test_a_rise_of_negative_feedback_raises_an_alert(store: Store, tmp_path: object) -> None:
    baseline, recent = _traces(store, 40), _traces(store, 30, start=40)
    _feedback(store, baseline, negative=4, days_ago=3)
    _feedback(store, recent, negative=21, days_ago=0.2)
    alerts = [a for a in find_alerts(_config(tmp_path), store) if a.kind.startswith("negative")]
    (alert,) = alerts
    assert alert.prompt == "greet" and "from 10% to 70%" in alert.message


def test_steady_feedback_raises_no_alert(store: Store, tmp_path: object) -> None:
    baseline, recent = _traces(store, 40), _traces(store, 30, start=40)
    _feedback(store, baseline, negative=4, days_ago=3)
    _feedback(store, recent, negative=4, days_ago=0.2)
    assert not [a for a in find_alerts(_config(tmp_path), store) if "feedback" in a.kind]
