"""Concurrency per provider that adapts to rate limits, and retry timing.

The number of calls in flight (`limit`) moves between `floor` and the configured `ceiling`:

- A rate-limit answer (429) halves it and pauses every new call for the answer's
  Retry-After, but only once per congestion epoch: the calls already in flight when the cut
  was made were sent at the old rate, so their 429s describe the same burst and neither cut
  nor pause again. A 429 counts when its call started after the latest cut (TCP's "one
  reduction per window"). Halving on every 429 instead, as this module first did, drove the
  limit to 1–2 under a sustained share of 429s and kept it there.
- Every `grow_after` successes add one call (default 1: the window doubles each round trip,
  as in TCP's slow start), so a run is back at its ceiling a few round trips after a storm.
  Against a provider's real limit this oscillates between about half its capacity and a little
  over it; the overshoot is answered with 429s that the runner retries.

Waiting calls are served first come, first served, one wake-up per free slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import deque
from dataclasses import dataclass


class AdaptiveLimiter:
    def __init__(self, limit: int, *, floor: int = 1, grow_after: int = 1) -> None:
        self.ceiling = max(1, limit)
        self.limit = self.ceiling
        self.floor = max(1, min(floor, self.ceiling))
        self.grow_after = max(1, grow_after)
        self.in_flight = 0
        self.epoch = 0  # cuts so far; a call's token is the epoch it started in
        self.rate_limited = 0  # every 429 seen
        self.cuts = 0  # the 429s that cut the limit (at most one per epoch)
        self._successes = 0
        self._paused_until = 0.0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_loop: asyncio.AbstractEventLoop | None = None

    @property
    def paused_for(self) -> float:
        return max(0.0, self._paused_until - time.monotonic())

    async def acquire(self) -> int:
        """Wait for a slot; returns a token to give back to `release`."""
        if not self._waiters and self.in_flight < self.limit and not self.paused_for:
            self.in_flight += 1
            return self.epoch
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        self._schedule_resume()
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():  # granted just as we were cancelled
                self.in_flight -= 1
                self._wake()
            else:
                # `_wake` may have dropped it already (it skips cancelled waiters).
                with contextlib.suppress(ValueError):
                    self._waiters.remove(fut)
            raise
        return self.epoch

    async def release(
        self,
        *,
        ok: bool,
        retry_after: float | None = None,
        rate_limited: bool = False,
        token: int | None = None,
    ) -> None:
        """Give a slot back. `token` (from `acquire`) lets stale 429s be ignored; without
        it every 429 counts."""
        self.in_flight -= 1
        if rate_limited:
            self.rate_limited += 1
            if token is None or token >= self.epoch:
                self._cut(retry_after)
        elif ok and self.limit < self.ceiling:
            self._successes += 1
            if self._successes >= self.grow_after:
                self.limit += 1
                self._successes = 0
        self._wake()

    def _cut(self, retry_after: float | None) -> None:
        self.epoch += 1
        self.cuts += 1
        self.limit = max(self.floor, self.limit // 2)
        self._successes = 0
        if retry_after:
            self._paused_until = max(self._paused_until, time.monotonic() + retry_after)

    def _wake(self) -> None:
        """Grant free slots to the longest-waiting calls."""
        if self.paused_for:
            self._schedule_resume()
            return
        while self._waiters and self.in_flight < self.limit:
            fut = self._waiters.popleft()
            if fut.done():  # cancelled while waiting
                continue
            self.in_flight += 1
            fut.set_result(None)

    def _schedule_resume(self) -> None:
        if not self.paused_for or not self._waiters:
            return
        loop = asyncio.get_running_loop()
        if self._timer is not None and self._timer_loop is loop:
            return  # it fires first; `_resume` schedules again if the pause grew meanwhile
        self._timer = loop.call_later(self.paused_for, self._resume)
        self._timer_loop = loop

    def _resume(self) -> None:
        self._timer = None
        self._wake()


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    base: float = 0.5
    cap: float = 30.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Full-jitter exponential backoff; a server's Retry-After wins when it is longer."""
        backoff = random.uniform(0, min(self.cap, self.base * 2 ** (attempt - 1)))
        return max(backoff, retry_after or 0.0)
