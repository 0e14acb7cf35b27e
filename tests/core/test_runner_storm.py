"""A rate-limit storm against the real stub server on loopback (benchmarks/stub_server.py
--storm): for one second every request is answered 429 with Retry-After. The runner must
back off during the storm, finish every case, and be back at full throughput soon after."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Iterator

import pytest
from helpers_http import stub_server

from prompteur.limiter import RetryPolicy
from prompteur.models.providers import get_model
from prompteur.prompt import parse_prompt
from prompteur.runner import ResultRecord, Runner, plan
from prompteur.suite import Case

DELAY = 0.02  # the stub's answer time
STORM = (0.5, 1.5)  # seconds after the first request
CEILING = 32
CASES = 5000


@pytest.fixture
def storm_url() -> Iterator[str]:
    storm = f"{STORM[0]},{STORM[1]}"
    with stub_server("--delay", str(DELAY), "--storm", storm, "--retry-after", "0.1") as url:
        yield url


class TimedSink:
    def __init__(self) -> None:
        self.records: list[ResultRecord] = []
        self.times: list[float] = []

    def write(self, records: list[ResultRecord]) -> None:
        now = time.monotonic()
        self.records.extend(records)
        self.times.extend([now] * len(records))


def rate(times: list[float], start: float, end: float) -> float:
    return sum(start <= t < end for t in times) / (end - start)


@pytest.mark.timeout(120)
def test_throughput_recovers_after_a_429_storm(storm_url: str) -> None:
    prompt = parse_prompt("user:\nEcho {{ word }}", name="echo")
    model_id = f"openai-compatible:stub@{storm_url}/v1"
    cases = [Case(id=f"c{i}", inputs={"word": f"w{i}"}) for i in range(CASES)]
    runner = Runner(
        {model_id: get_model(model_id)},
        cost_of=lambda m, u: 0.0,
        concurrency={model_id: CEILING},
        retry=RetryPolicy(attempts=40, base=0.05, cap=0.4),
    )
    limiter = runner.limiters[model_id]
    sink = TimedSink()
    limits: list[tuple[float, int]] = []
    rate_limited_at: list[float] = []

    async def sample() -> None:
        seen = 0
        while True:
            now = time.monotonic()
            limits.append((now, limiter.limit))
            if limiter.rate_limited > seen:
                seen = limiter.rate_limited
                rate_limited_at.append(now)
            await asyncio.sleep(0.005)

    async def scenario() -> float:
        sampler = asyncio.create_task(sample())
        start = time.monotonic()
        try:
            await runner.run(plan([prompt], {prompt.version: [model_id]}, lambda: cases, 1), sink)
        finally:
            sampler.cancel()
            await runner.models[model_id].aclose()
        return start

    start = asyncio.run(scenario())
    with urllib.request.urlopen(storm_url + "/stats", timeout=5) as r:
        stats = json.loads(r.read())

    # every case once, none given up on
    assert len(sink.records) == CASES and len({r.case_id for r in sink.records}) == CASES
    assert not [r.error for r in sink.records if r.error][:3]
    assert stats["storm"] > 0 and stats["ok"] == CASES

    # during the storm: the limit was cut to the floor, but once per epoch, not per 429
    storm_start, storm_end = rate_limited_at[0], rate_limited_at[-1]
    assert storm_end - storm_start > 0.5 * (STORM[1] - STORM[0])
    assert min(limit for _, limit in limits) == 1
    assert limiter.cuts < stats["storm"] / 2, (limiter.cuts, stats["storm"])

    # after: back at the ceiling within a few round trips plus the last Retry-After (the
    # limiter this replaced took ~1.9 s here, growing by one per 20 successes), and the
    # throughput back near its level before the storm (~1.0× measured; the old one 0.16×)
    back = next((t for t, limit in limits if t > storm_end and limit == CEILING), None)
    assert back is not None and back - storm_end < 1.0, back and back - storm_end
    before = rate(sink.times, start + 0.1, storm_start)
    after = rate(sink.times, storm_end + 1.0, storm_end + 1.5)
    assert sink.times[-1] > storm_end + 1.5, "too few cases to measure the recovery"
    # 0.35, not 0.9: a busy CI machine can starve the half-second window measured here, and
    # 0.35 still tells this limiter (~1.0x) from the one it replaced (0.16x).
    assert after > 0.35 * before, (before, after)
