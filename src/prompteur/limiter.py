"""Concurrency per provider that adapts to rate limits, and retry timing.

AIMD, as TCP does it: every rate-limit answer halves the number of calls in flight and pauses
the provider for its Retry-After; a run of successes grows it back one call at a time, up to
the configured ceiling.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass


class AdaptiveLimiter:
    def __init__(self, limit: int, *, floor: int = 1, grow_after: int = 20) -> None:
        self.ceiling = max(1, limit)
        self.limit = self.ceiling
        self.floor = max(1, min(floor, self.ceiling))
        self.grow_after = grow_after
        self.in_flight = 0
        self._successes = 0
        self._paused_until = 0.0
        self._cond = asyncio.Condition()
        self.rate_limited = 0

    async def acquire(self) -> None:
        async with self._cond:
            while True:
                wait = self._paused_until - time.monotonic()
                if wait > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._cond.wait(), timeout=wait)
                    continue
                if self.in_flight < self.limit:
                    self.in_flight += 1
                    return
                await self._cond.wait()

    async def release(
        self, *, ok: bool, retry_after: float | None = None, rate_limited: bool = False
    ) -> None:
        async with self._cond:
            self.in_flight -= 1
            if rate_limited:
                self.rate_limited += 1
                self.limit = max(self.floor, self.limit // 2)
                self._successes = 0
                if retry_after:
                    self._paused_until = max(self._paused_until, time.monotonic() + retry_after)
            elif ok:
                self._successes += 1
                if self._successes >= self.grow_after and self.limit < self.ceiling:
                    self.limit += 1
                    self._successes = 0
            self._cond.notify_all()


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    base: float = 0.5
    cap: float = 30.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Full-jitter exponential backoff; a server's Retry-After wins when it is longer."""
        backoff = random.uniform(0, min(self.cap, self.base * 2 ** (attempt - 1)))
        return max(backoff, retry_after or 0.0)
