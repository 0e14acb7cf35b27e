"""A model whose answers go through the store's response cache: the paraphraser's rewrites
and the judge's verdicts come back the same on a re-run (or a resume), and cost nothing."""

from __future__ import annotations

import asyncio
from typing import Any

from ..models import Model, Request, Response
from ..runner import ResponseCache, cache_key, response_from_cache, response_to_cache


class CachedModel(Model):
    def __init__(self, inner: Model, cache: ResponseCache | None) -> None:
        self.inner = inner
        self.id = inner.id
        self.cache = cache
        self.calls = 0

    async def generate(self, request: Request) -> Response:
        key = cache_key(self.cache_scope, request, 0)
        if self.cache is not None:
            hit = await asyncio.to_thread(self.cache.get, key)
            if hit is not None:
                return _with_logprobs(response_from_cache(self.id, hit), hit)
        self.calls += 1
        response = await self.inner.generate(request)
        if self.cache is not None:
            value = response_to_cache(response)
            if response.logprobs:
                # The judge reads P(PASS) from the first token's alternatives: keep them.
                value["top"] = [list(t) for t in response.logprobs[0].top]
                value["first"] = [response.logprobs[0].token, response.logprobs[0].logprob]
            await asyncio.to_thread(self.cache.put, key, value)
        return response

    @property
    def cache_scope(self) -> str:
        return getattr(self.inner, "cache_scope", self.id)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def describe(self) -> dict[str, Any]:
        return self.inner.describe()


def _with_logprobs(response: Response, hit: dict[str, Any]) -> Response:
    if "top" not in hit:
        return response
    from dataclasses import replace

    from ..models import TokenLogprob

    token, lp = hit.get("first") or ["", 0.0]
    top = tuple((str(t), float(p)) for t, p in hit["top"])
    return replace(response, logprobs=(TokenLogprob(str(token), float(lp), top),))
