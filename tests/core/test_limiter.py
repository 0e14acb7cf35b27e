"""The adaptive limiter on its own: one cut per congestion epoch, a global Retry-After pause,
fast growth back to the ceiling, first come first served, no slot lost to cancellation."""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from prompteur.limiter import AdaptiveLimiter


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_a_burst_of_429s_cuts_once() -> None:
    async def scenario() -> AdaptiveLimiter:
        lim = AdaptiveLimiter(8)
        tokens = [await lim.acquire() for _ in range(8)]
        for t in tokens:  # every call of the window comes back rate-limited
            await lim.release(ok=False, rate_limited=True, token=t)
        return lim

    lim = run(scenario())
    assert lim.rate_limited == 8
    assert lim.cuts == 1 and lim.limit == 4
    assert lim.in_flight == 0


def test_a_429_after_the_cut_cuts_again_down_to_the_floor() -> None:
    async def scenario() -> list[int]:
        lim = AdaptiveLimiter(16, floor=2)
        limits = []
        for _ in range(5):
            t = await lim.acquire()  # started after the previous cut: a new signal
            await lim.release(ok=False, rate_limited=True, token=t)
            limits.append(lim.limit)
        return limits

    assert run(scenario()) == [8, 4, 2, 2, 2]


def test_without_a_token_every_429_counts() -> None:
    async def scenario() -> int:
        lim = AdaptiveLimiter(8)
        for _ in range(2):
            await lim.acquire()
        for _ in range(2):
            await lim.release(ok=False, rate_limited=True)
        return lim.limit

    assert run(scenario()) == 2


def test_growth_doubles_per_round_trip_back_to_the_ceiling() -> None:
    async def scenario() -> tuple[list[int], int]:
        lim = AdaptiveLimiter(32)
        lim.limit = 1  # as after a storm
        per_round = []
        while lim.limit < lim.ceiling and len(per_round) < 20:
            tokens = [await lim.acquire() for _ in range(lim.limit)]  # one round trip
            for t in tokens:
                await lim.release(ok=True, token=t)
            per_round.append(lim.limit)
        for _ in range(100):
            await lim.acquire()
            await lim.release(ok=True)
        return per_round, lim.limit

    rounds, final = run(scenario())
    assert rounds == [2, 4, 8, 16, 32]
    assert final == 32  # never above the ceiling


def test_retry_after_pauses_every_new_call_once_per_epoch() -> None:
    async def scenario() -> tuple[float, float]:
        lim = AdaptiveLimiter(4)
        a, b = await lim.acquire(), await lim.acquire()
        start = time.monotonic()
        await lim.release(ok=False, rate_limited=True, retry_after=0.2, token=a)
        # an older call's 429 with a longer Retry-After neither cuts nor extends the pause
        await lim.release(ok=False, rate_limited=True, retry_after=5.0, token=b)
        assert lim.limit == 2 and 0.1 < lim.paused_for <= 0.2
        await lim.acquire()
        waited = time.monotonic() - start
        await lim.release(ok=True)
        return waited, lim.paused_for

    waited, left = run(scenario())
    assert 0.19 <= waited < 1.0
    assert left == 0


def test_waiters_are_served_in_order_and_cancellation_loses_no_slot() -> None:
    async def scenario() -> tuple[list[int], int]:
        lim = AdaptiveLimiter(1)
        order: list[int] = []
        await lim.acquire()

        async def call(i: int) -> None:
            await lim.acquire()
            order.append(i)
            await asyncio.sleep(0.001)
            await lim.release(ok=True)

        tasks = [asyncio.create_task(call(i)) for i in range(5)]
        await asyncio.sleep(0.01)
        tasks[2].cancel()  # gives up while waiting
        await lim.release(ok=True)
        await asyncio.gather(*tasks, return_exceptions=True)
        return order, lim.in_flight

    order, in_flight = run(scenario())
    assert order == [0, 1, 3, 4]
    assert in_flight == 0


@pytest.mark.parametrize("share", [0.05, 0.2])
def test_a_steady_share_of_429s_does_not_pin_the_limit_to_the_floor(share: float) -> None:
    """The failure this module was rewritten for: halving on every 429 and growing by one per
    20 successes held a run at 1-2 calls in flight under 5% of 429s."""

    async def scenario() -> float:
        lim = AdaptiveLimiter(100)
        rng = random.Random(1)
        samples: list[int] = []

        async def call() -> None:
            for _ in range(60):
                token = await lim.acquire()
                await asyncio.sleep(0.002)
                if rng.random() < share:
                    await lim.release(ok=False, rate_limited=True, token=token)
                else:
                    await lim.release(ok=True, token=token)
                samples.append(lim.limit)

        await asyncio.gather(*(call() for _ in range(100)))
        return sum(samples[len(samples) // 2 :]) / (len(samples) - len(samples) // 2)

    mean_limit = run(scenario())
    assert mean_limit > (30 if share == 0.05 else 10), mean_limit
