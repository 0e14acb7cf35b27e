"""Per prompt version over time: volume, errors, pass rate (Wilson interval), latency p50/p95,
tokens and cost, in hour or day buckets.

Aggregated in Python over the window's rows (a few columns, streamed): the same code on SQLite
and PostgreSQL, whose date functions differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from ..errors import UserError
from ..stats import Interval, percentile, wilson

if TYPE_CHECKING:
    from ..store import Store

Bucket = Literal["hour", "day"]
BUCKETS: dict[str, timedelta] = {"hour": timedelta(hours=1), "day": timedelta(days=1)}


@dataclass
class Stats:
    """Aggregates of a set of traces."""

    start: datetime | None = None
    volume: int = 0
    errors: int = 0
    scored: int = 0
    passed: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    _latencies: list[float] = field(default_factory=list, repr=False)

    def add(self, row: Any) -> None:
        self.volume += 1
        if row.error is not None:
            self.errors += 1
        if row.passed is not None:
            self.scored += 1
            self.passed += bool(row.passed)
        if row.latency_ms is not None:
            self._latencies.append(row.latency_ms)
        self.tokens_in += row.tokens_in or 0
        self.tokens_out += row.tokens_out or 0
        self.cost += row.cost or 0.0

    @property
    def pass_rate(self) -> Interval | None:
        return wilson(self.passed, self.scored) if self.scored else None

    def latency(self, q: float) -> float | None:
        return percentile(sorted(self._latencies), q) if self._latencies else None

    def to_dict(self) -> dict[str, Any]:
        rate = self.pass_rate
        return {
            "start": self.start.isoformat() if self.start else None,
            "volume": self.volume,
            "errors": self.errors,
            "scored": self.scored,
            "passed": self.passed,
            "pass_rate": None if rate is None else rate.estimate,
            "pass_rate_low": None if rate is None else rate.low,
            "pass_rate_high": None if rate is None else rate.high,
            "latency_p50_ms": self.latency(0.5),
            "latency_p95_ms": self.latency(0.95),
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cost": round(self.cost, 10),
        }


@dataclass
class VersionSeries:
    prompt: str | None
    version: str | None
    total: Stats
    buckets: list[Stats]
    # End-user feedback on this version's traces: traces, with_feedback, negative (a score
    # under 0.5), and the rates (feedback per trace; negative per trace with feedback).
    feedback: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "version": self.version,
            "total": self.total.to_dict(),
            "buckets": [b.to_dict() for b in self.buckets],
            "feedback": self.feedback,
        }


@dataclass
class MonitorReport:
    since: datetime
    until: datetime
    bucket: str
    series: list[VersionSeries]

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "bucket": self.bucket,
            "series": [s.to_dict() for s in self.series],
        }


def floor_time(when: datetime, bucket: str) -> datetime:
    when = when.astimezone(UTC)
    if bucket == "day":
        return when.replace(hour=0, minute=0, second=0, microsecond=0)
    return when.replace(minute=0, second=0, microsecond=0)


def version_stats(
    store: Store,
    *,
    since: datetime,
    until: datetime | None = None,
    prompt: str | None = None,
    bucket: str = "hour",
) -> MonitorReport:
    if bucket not in BUCKETS:
        raise UserError(f"unknown bucket {bucket!r}", field="bucket", hint="hour or day")
    until = until or datetime.now(UTC)
    totals: dict[tuple[str | None, str | None], Stats] = {}
    buckets: dict[tuple[str | None, str | None], dict[datetime, Stats]] = {}
    for row in store.traces.stats_rows(since, until, prompt):
        key = (row.prompt, row.version)
        totals.setdefault(key, Stats(start=since)).add(row)
        start = floor_time(row.started_at, bucket)
        per = buckets.setdefault(key, {})
        per.setdefault(start, Stats(start=start)).add(row)
    feedback = {
        (r["prompt"], r["version"]): _feedback(r)
        for r in store.reviews.feedback_by_version(since, until)
    }
    series = [
        VersionSeries(
            p,
            v,
            totals[(p, v)],
            [b for _, b in sorted(buckets[(p, v)].items())],
            feedback.get((p, v), {}),
        )
        for p, v in sorted(totals, key=lambda k: (k[0] or "", k[1] or ""))
    ]
    return MonitorReport(since, until, bucket, series)


def _feedback(row: dict[str, Any]) -> dict[str, Any]:
    traces, given, negative = row["traces"], row["with_feedback"], row["negative"]
    return {
        "traces": traces,
        "with_feedback": given,
        "negative": negative,
        "rate": given / traces if traces else None,
        "negative_rate": negative / given if given else None,
    }
