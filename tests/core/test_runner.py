"""Runner mechanics (a scripted model as test double for faults and timing) and a real run on
the embedded model."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from prompteur.limiter import AdaptiveLimiter, RetryPolicy
from prompteur.models.base import (
    BadRequestError,
    Model,
    RateLimitError,
    Request,
    Response,
    ServerError,
    Usage,
)
from prompteur.models.providers import get_model
from prompteur.prompt import parse_prompt
from prompteur.runner import ResultRecord, Runner, plan
from prompteur.suite import Case

PROMPT = parse_prompt("user:\nEcho {{ word }}", name="echo")


class Sink:
    def __init__(self) -> None:
        self.records: list[ResultRecord] = []
        self.batches = 0

    def write(self, records: list[ResultRecord]) -> None:
        self.batches += 1
        self.records.extend(records)


class DictCache:
    def __init__(self) -> None:
        self.data: dict[str, dict[str, Any]] = {}

    def get(self, key: str) -> dict[str, Any] | None:
        return self.data.get(key)

    def put(self, key: str, value: dict[str, Any]) -> None:
        self.data[key] = value


class Scripted(Model):
    """Answers with the word; injects faults on a share of calls; counts concurrency."""

    def __init__(self, fault_rate: float = 0.0, seed: int = 0, delay: float = 0.001) -> None:
        self.id = "fake"
        self.calls = 0
        self.in_flight = 0
        self.peak = 0
        self.rng = random.Random(seed)
        self.fault_rate = fault_rate
        self.delay = delay

    async def generate(self, request: Request) -> Response:
        self.calls += 1
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            if self.rng.random() < self.fault_rate:
                raise self.rng.choice(
                    [
                        RateLimitError("slow down", retry_after=0.01, model=self.id),
                        ServerError("HTTP 500", model=self.id),
                        TimeoutError(),
                    ]
                )
            word = request.messages[-1].content.split()[-1]
            return Response(text=word, model=self.id, usage=Usage(3, 1), latency_s=self.delay)
        finally:
            self.in_flight -= 1


def cases(n: int) -> list[Case]:
    return [Case(id=f"c{i}", inputs={"word": f"w{i}"}, expected=f"w{i}") for i in range(n)]


def runner(model: Model, **kw: Any) -> Runner:
    return Runner(
        {"fake": model},
        cost_of=lambda m, u: 0.001 * u.input_tokens,
        default_checks=[{"type": "equals"}],
        retry=RetryPolicy(attempts=8, base=0.001, cap=0.01),
        **kw,
    )


def test_every_result_exactly_once_despite_faults() -> None:
    model = Scripted(fault_rate=0.2, seed=3)
    sink = Sink()
    r = runner(model, concurrency={"fake": 16})
    items = list(plan([PROMPT], {PROMPT.version: ["fake"]}, lambda: cases(300), repeat=2))
    stats = asyncio.run(r.run(items, sink))
    keys = [rec.key for rec in sink.records]
    assert len(keys) == 600 and len(set(keys)) == 600
    assert all(rec.passed for rec in sink.records), [
        rec.error for rec in sink.records if rec.error
    ][:3]
    assert stats.retries > 50 and stats.rate_limited > 0
    assert stats.calls == 600 + stats.retries
    assert model.peak <= 16
    assert sink.batches < 600  # the writer batches what arrives together


def test_resume_skips_done_keys() -> None:
    model = Scripted()
    items = list(plan([PROMPT], {PROMPT.version: ["fake"]}, lambda: cases(10), repeat=1))
    done = {items[i].key for i in range(6)}
    sink = Sink()
    asyncio.run(runner(model).run(items, sink, done=done))
    assert model.calls == 4 and {rec.case_id for rec in sink.records} == {"c6", "c7", "c8", "c9"}


def test_cache_is_keyed_by_repeat() -> None:
    cache = DictCache()
    model = Scripted()
    items = list(plan([PROMPT], {PROMPT.version: ["fake"]}, lambda: cases(5), repeat=3))
    asyncio.run(runner(model, cache=cache).run(items, Sink()))
    assert model.calls == 15 and len(cache.data) == 15  # repeats are independent samples
    sink = Sink()
    stats = asyncio.run(runner(model, cache=cache).run(items, sink))
    assert model.calls == 15 and stats.cached == 15  # a re-run costs no call
    assert all(rec.cached and rec.cost == 0.0 for rec in sink.records)


def test_non_retryable_errors_are_recorded_not_raised() -> None:
    class Refuses(Scripted):
        async def generate(self, request: Request) -> Response:
            self.calls += 1
            raise BadRequestError("HTTP 400: too long", model="fake")

    model = Refuses()
    sink = Sink()
    items = list(plan([PROMPT], {PROMPT.version: ["fake"]}, lambda: cases(3), repeat=1))
    stats = asyncio.run(runner(model).run(items, sink))
    assert model.calls == 3 and stats.errors == 3
    assert all(rec.passed is False and "too long" in (rec.error or "") for rec in sink.records)


def test_render_error_is_a_recorded_failure() -> None:
    model = Scripted()
    sink = Sink()
    bad = [Case(id="x", inputs={})]  # `word` is undefined
    items = list(plan([PROMPT], {PROMPT.version: ["fake"]}, lambda: bad, repeat=1))
    asyncio.run(runner(model).run(items, sink))
    assert model.calls == 0 and "undefined variable 'word'" in (sink.records[0].error or "")


def test_limiter_halves_on_rate_limit_and_grows_back() -> None:
    async def scenario() -> tuple[int, int]:
        lim = AdaptiveLimiter(8, grow_after=2)
        await lim.acquire()
        await lim.release(ok=False, rate_limited=True)
        after_429 = lim.limit
        for _ in range(4):
            await lim.acquire()
            await lim.release(ok=True)
        return after_429, lim.limit

    assert asyncio.run(scenario()) == (4, 6)


@pytest.mark.parametrize("repeat", [1])
def test_real_run_on_the_embedded_model(repeat: int) -> None:
    prompt = parse_prompt(
        '---\nmodel:\n  parameters: {temperature: 0, max_tokens: 3, stop: ["\\n"]}\n---\n'
        "Review: I love it.\nSentiment: positive\n\nReview: It broke.\nSentiment: negative\n\n"
        "Review: Superb quality.\nSentiment: positive\n\nReview: Never again.\n"
        "Sentiment: negative\n\nReview: {{ review }}\nSentiment:",
        name="sentiment",
    )
    data = [
        ("Wonderful, I enjoyed every minute.", "positive"),
        ("Terrible. It stopped working on day one.", "negative"),
        ("Great value, works perfectly.", "positive"),
        ("Awful quality, a waste of money.", "negative"),
    ]
    cs = [Case(id=str(i), inputs={"review": r}, expected=e) for i, (r, e) in enumerate(data)]
    model = get_model("local")
    r = Runner({"local": model}, cost_of=lambda m, u: 0.0, default_checks=[{"type": "equals"}])
    sink = Sink()
    stats = asyncio.run(
        r.run(plan([prompt], {prompt.version: ["local"]}, lambda: cs, repeat), sink)
    )
    assert stats.done == 4 and stats.passed == 4, [(x.output, x.expected) for x in sink.records]
    assert all(x.input_tokens > 30 and x.latency_s and x.latency_s > 0 for x in sink.records)
