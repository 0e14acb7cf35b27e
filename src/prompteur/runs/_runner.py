"""`open_runner`: the one way a run builds its Runner and closes what it opened."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..models.pool import ModelPool
from ..models.pricing import cost as cost_of
from ..runner import Runner

if TYPE_CHECKING:
    from ..config import Config
    from ..limiter import RetryPolicy
    from ..models.base import Params
    from ..runner import ResponseCache


@contextlib.asynccontextmanager
async def open_runner(
    config: Config,
    models: Iterable[str],
    *,
    checks: Sequence[Any] = (),
    threshold: float | None = None,
    cache: ResponseCache | None = None,
    concurrency: int | None = None,
    params: Params | None = None,
    retry: RetryPolicy | None = None,
    timeout_s: float | None = None,
    pool: ModelPool | None = None,
) -> AsyncIterator[Runner]:
    """A Runner over `models` (ids, duplicates dropped): costs from the project's prices,
    the suite-wide `checks` built with this project's models (judges, embedders), `concurrency`
    calls in flight per model (default: 8; 16 for the embedded model). Every model it opened
    is closed on the way out, unless `pool` is the caller's (the caller closes it)."""
    own = pool is None
    pool = pool or ModelPool(config)
    try:
        built = {m: pool.get(m) for m in dict.fromkeys(models)}
        yield Runner(
            built,
            cost_of=lambda m, usage: cost_of(m, usage, config),
            default_checks=list(checks),
            threshold=threshold,
            concurrency={m: concurrency for m in built} if concurrency else None,
            cache=cache,
            retry=retry,
            timeout_s=timeout_s,
            params=params,
            pool=pool,
        )
    finally:
        if own:
            await pool.aclose()
