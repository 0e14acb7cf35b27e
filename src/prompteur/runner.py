"""The runner: prompts × models × cases × repeats, concurrently, each result stored as it lands.

- Work is produced lazily (datasets stream) and pulled by a fixed pool of workers; each
  provider has its own adaptive limiter (see limiter.py), so one rate-limited provider does
  not stall the others.
- Transient failures (rate limits, timeouts, 5xx, dropped connections) are retried with
  jittered backoff, honouring Retry-After; a result records how many attempts it took.
- A response cache keyed by model, parameters, rendered messages *and repeat index*: repeats
  are independent samples, a re-run of the same work costs no call.
- One writer hands results to the sink in batches as they arrive; a result the sink has
  accepted is never computed again (`done` keys on resume).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from .checks import Check, CheckContext, build
from .errors import UserError
from .limiter import AdaptiveLimiter, RetryPolicy
from .models.base import Model, ModelError, Params, RateLimitError, Request, Response, Usage
from .prompt import Prompt, TemplateBoundError
from .records import Key, ResultRecord
from .suite import Case


@dataclass(frozen=True)
class WorkItem:
    prompt: Prompt
    model_id: str
    case: Case
    repeat: int

    @property
    def key(self) -> Key:
        return (self.prompt.version, self.model_id, self.case.id, self.repeat)


class ResultSink(Protocol):
    def write(self, records: list[ResultRecord]) -> None: ...


class ResponseCache(Protocol):
    """`get`/`put` one entry. A cache may also offer `get_many(keys) -> list[value | None]`
    and `put_many([(key, value), ...])`: the runner then looks up a chunk of work and
    stores a batch of answers with one call each (one thread hop, one query)."""

    def get(self, key: str) -> dict[str, Any] | None: ...

    def put(self, key: str, value: dict[str, Any]) -> None: ...


def cache_key(model_id: str, request: Request, repeat: int) -> str:
    blob = json.dumps(
        {
            "model": model_id,
            "params": request.params.key(),
            "messages": [m.to_dict() for m in request.messages],
            "prompt_text": request.prompt_text,
            "repeat": repeat,
            # only when offered, so that every key made before tools existed stays the same
            **({"tools": [t.to_openai() for t in request.tools]} if request.tools else {}),
            # only when there is one, so that every key made before contracts stays the same
            **({"output": request.output.key()} if request.output else {}),
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def _get_many(cache: ResponseCache, keys: list[str]) -> list[dict[str, Any] | None]:
    get_many = getattr(cache, "get_many", None)
    if get_many is not None:
        return list(get_many(keys))
    return [cache.get(k) for k in keys]


def _put_many(cache: ResponseCache, entries: list[tuple[str, dict[str, Any]]]) -> None:
    put_many = getattr(cache, "put_many", None)
    if put_many is not None:
        put_many(entries)
        return
    for key, value in entries:
        cache.put(key, value)


def response_to_cache(r: Response) -> dict[str, Any]:
    return {
        "text": r.text,
        "finish_reason": r.finish_reason,
        "latency_s": r.latency_s,
        "input_tokens": r.usage.input_tokens,
        "output_tokens": r.usage.output_tokens,
        **({"tool_calls": list(r.tool_calls)} if r.tool_calls else {}),
        "enforced": r.enforced,
    }


def response_from_cache(model_id: str, d: dict[str, Any]) -> Response:
    return Response(
        text=d["text"],
        model=model_id,
        finish_reason=d.get("finish_reason", "stop"),
        usage=Usage(d.get("input_tokens", 0), d.get("output_tokens", 0)),
        latency_s=d.get("latency_s", 0.0),
        tool_calls=tuple(d.get("tool_calls") or ()),
        enforced=d.get("enforced"),
    )


def enforcement(prompt: Prompt, request: Request, response: Response) -> str | None:
    """What a result records of the prompt's output contract (see ResultRecord)."""
    if request.output is None:
        return "off" if prompt.output_schema is not None else None
    return response.enforced or "none"


def plan(
    prompts: list[Prompt],
    models: dict[str, list[str]],
    cases: Callable[[], Iterable[Case]],
    repeat: int,
) -> Iterator[WorkItem]:
    """Every work item, prompt by prompt then model by model: consecutive calls share the
    prompt's prefix, which the embedded model's KV cache reuses. `models` maps a prompt's
    version to its models."""
    for p in prompts:
        for model_id in models[p.version]:
            for case in cases():
                for r in range(repeat):
                    yield WorkItem(p, model_id, case, r)


@dataclass
class RunStats:
    done: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    cached: int = 0
    calls: int = 0
    retries: int = 0
    rate_limited: int = 0
    cost: float = 0.0
    started: float = field(default_factory=time.monotonic)


@dataclass
class _Job:
    """A work item made ready in the producer: rendered, its cache key and cached answer."""

    item: WorkItem
    version: str
    request: Request | None = None
    key: str = ""
    cached: dict[str, Any] | None = None
    error: str | None = None  # the prompt did not render


# Work is rendered and looked up in the cache this many items at a time: one query and one
# thread hop per chunk instead of per case.
CHUNK = 128
# A template that crossed a render bound (up to a second each) on this many cases is not
# rendered for the others: they are recorded with its error at once.
BOUND_ERRORS_BEFORE_SKIPPING = 2


class Runner:
    def __init__(
        self,
        models: dict[str, Model],
        *,
        cost_of: Callable[[str, Usage], float | None],
        default_checks: list[Any] | None = None,
        threshold: float | None = None,
        concurrency: dict[str, int] | None = None,
        cache: ResponseCache | None = None,
        retry: RetryPolicy | None = None,
        timeout_s: float | None = None,
        params: Params | None = None,
        pool: Any = None,
    ) -> None:
        """`pool` (a models.pool.ModelPool): the project's models, which model-graded checks
        use for their judges and embedders."""
        self.models = models
        self.pool = pool
        self.cost_of = cost_of
        self.default_checks = [
            build(c, where=f"checks[{i}]") for i, c in enumerate(default_checks or [])
        ]
        self.threshold = threshold
        self.cache = cache
        self.retry = retry or RetryPolicy()
        self.timeout_s = timeout_s
        self.params = params
        conc = concurrency or {}
        # The embedded model batches up to 16 in-flight greedy calls in one llama.cpp context.
        self.limiters = {
            m: AdaptiveLimiter(conc.get(m, 16 if m.split(":")[0] == "local" else 8)) for m in models
        }
        self.stats = RunStats()
        self._case_checks: dict[tuple[Any, ...], list[Check]] = {}
        # A prompt's version hashes its whole text: once per prompt, not once per case.
        self._versions: dict[int, tuple[Prompt, str]] = {}
        # Answers waiting to be written to the cache with the next batch of results.
        self._cache_puts: list[tuple[str, dict[str, Any]]] = []
        # Per prompt version: renders that crossed a bound (time, size…), and the last error.
        self._bound_errors: dict[str, tuple[int, str]] = {}

    def _version(self, prompt: Prompt) -> str:
        known = self._versions.get(id(prompt))
        if known is None or known[0] is not prompt:
            known = self._versions[id(prompt)] = (prompt, prompt.version)
        return known[1]

    def _checks_for(self, case: Case) -> list[Check]:
        if not case.checks:
            return self.default_checks
        key = tuple(json.dumps(c, sort_keys=True) for c in case.checks)
        if key not in self._case_checks:
            self._case_checks[key] = self.default_checks + [
                build(c, where=f"{case.source} checks[{i}]") for i, c in enumerate(case.checks)
            ]
        return self._case_checks[key]

    async def _call(self, item: WorkItem, request: Request) -> tuple[Response, int, float]:
        """The response, the attempts it took, and the time waited beyond the model's own."""
        model = self.models[item.model_id]
        limiter = self.limiters[item.model_id]
        attempt = 0
        began = time.perf_counter()
        while True:
            attempt += 1
            token = await limiter.acquire()
            try:
                self.stats.calls += 1
                if self.timeout_s:
                    response = await asyncio.wait_for(model.generate(request), self.timeout_s)
                else:
                    response = await model.generate(request)
            except RateLimitError as exc:
                await limiter.release(
                    ok=False, retry_after=exc.retry_after, rate_limited=True, token=token
                )
                self.stats.rate_limited += 1
                if attempt >= self.retry.attempts:
                    raise
                self.stats.retries += 1
                await asyncio.sleep(self.retry.delay(attempt, exc.retry_after))
                continue
            except (ModelError, TimeoutError) as exc:
                await limiter.release(ok=False, token=token)
                retryable = isinstance(exc, TimeoutError) or exc.retryable
                if not retryable or attempt >= self.retry.attempts:
                    raise
                self.stats.retries += 1
                await asyncio.sleep(self.retry.delay(attempt))
                continue
            except BaseException:  # cancelled: give the slot back
                await limiter.release(ok=False, token=token)
                raise
            await limiter.release(ok=True, token=token)
            waited = time.perf_counter() - began - response.latency_s
            return response, attempt, max(0.0, waited)

    def _prepare(self, item: WorkItem) -> _Job:
        job = _Job(item, self._version(item.prompt))
        bound = self._bound_errors.get(job.version)
        if bound is not None and bound[0] >= BOUND_ERRORS_BEFORE_SKIPPING:
            job.error = f"render: not tried, the template crossed a bound before: {bound[1]}"
            return job
        try:
            # The prompt's variant for this model (the version stays the file's).
            prompt = item.prompt.for_model(item.model_id)
            job.request = prompt.request(item.case.inputs, params=self.params, strict=True)
        except TemplateBoundError as exc:
            count = bound[0] if bound else 0
            self._bound_errors[job.version] = (count + 1, exc.render())
            job.error = f"render: {exc.render()}"
            return job
        except UserError as exc:
            job.error = f"render: {exc.render()}"
            return job
        if self.cache is not None:
            scope = getattr(self.models[item.model_id], "cache_scope", item.model_id)
            job.key = cache_key(scope, job.request, item.repeat)
        return job

    async def _lookup(self, jobs: list[_Job]) -> None:
        """Fill in the cached answers of a chunk of jobs, with one query."""
        if self.cache is None:
            return
        todo = [j for j in jobs if j.key]
        if not todo:
            return
        found = await asyncio.to_thread(_get_many, self.cache, [j.key for j in todo])
        for job, value in zip(todo, found, strict=True):
            job.cached = value

    async def execute(self, item: WorkItem) -> ResultRecord:
        """One work item, start to end (the cache answer is written right away)."""
        job = self._prepare(item)
        await self._lookup([job])
        record = await self._finish(job)
        if self._cache_puts:
            puts, self._cache_puts = self._cache_puts, []
            assert self.cache is not None
            await asyncio.to_thread(_put_many, self.cache, puts)
        return record

    def _record(self, job: _Job, **fields: Any) -> ResultRecord:
        item, case = job.item, job.item.case
        return ResultRecord(
            prompt=item.prompt.name,
            version=job.version,
            model=item.model_id,
            case_id=case.id,
            repeat=item.repeat,
            inputs=case.inputs,
            expected=case.expected,
            tags=list(case.tags),
            **fields,
        )

    async def _finish(self, job: _Job) -> ResultRecord:
        """The call (unless cached), the checks and the record of a prepared job."""
        if job.error is not None or job.request is None:
            return self._record(job, output=None, passed=False, score=0.0, error=job.error)
        item, case, cached = job.item, job.item.case, job.cached
        attempts, queued = 0, None
        if cached is not None:
            response = response_from_cache(item.model_id, cached)
        else:
            try:
                response, attempts, queued = await self._call(item, job.request)
            except (ModelError, TimeoutError) as exc:
                return self._record(
                    job,
                    output=None,
                    passed=False,
                    score=0.0,
                    error=f"{type(exc).__name__}: {exc}",
                    attempts=self.retry.attempts,
                )
            if job.key:
                self._cache_puts.append((job.key, response_to_cache(response)))
        cost = self.cost_of(item.model_id, response.usage) if cached is None else 0.0
        ctx = CheckContext(
            output=response.output,
            expected=case.expected,
            inputs=case.inputs,
            latency_s=response.latency_s,
            cost=cost,
            model=item.model_id,
            models=self.pool,
            prompt=_prompt_text(job.request),
        )
        results = [await chk(ctx) for chk in self._checks_for(case)]
        if results:
            total = sum(r.weight for r in results) or 1.0
            score = sum(r.score * r.weight for r in results) / total
            passed = (
                score >= self.threshold
                if self.threshold is not None
                else all(r.passed for r in results)
            )
        else:
            score, passed = None, None
        return self._record(
            job,
            output=response.output,
            passed=passed,
            score=score,
            checks=[
                {
                    "name": r.name,
                    "passed": r.passed,
                    "score": r.score,
                    "reason": r.reason,
                    "weight": r.weight,
                    **({"fields": r.fields} if r.fields else {}),
                }
                for r in results
            ],
            latency_s=response.latency_s,
            input_tokens=response.usage.input_tokens,
            output_tokens=response.usage.output_tokens,
            cost=cost,
            cached=cached is not None,
            attempts=attempts,
            queue_s=queued,
            enforcement=enforcement(item.prompt, job.request, response),
        )

    async def run(
        self,
        items: Iterable[WorkItem],
        sink: ResultSink,
        *,
        done: set[Key] | None = None,
        on_result: Callable[[ResultRecord], None] | None = None,
        workers: int | None = None,
    ) -> RunStats:
        """Every item not in `done`, each result handed to `sink` as it arrives.

        A producer renders the work and looks it up in the cache a chunk at a time; a fixed
        pool of workers makes the calls (each provider's limiter decides how many are in
        flight); one writer hands what has arrived to the sink, and the cache entries with it,
        in one thread hop per batch.
        """
        done = done or set()
        # Twice the slots: a call waiting out its retry backoff holds a worker but no slot,
        # and the limiter, not the pool, bounds what is in flight.
        n_workers = workers or max(1, 2 * sum(lim.ceiling for lim in self.limiters.values()))
        work: asyncio.Queue[_Job | None] = asyncio.Queue(maxsize=max(2 * n_workers, CHUNK))
        out: asyncio.Queue[ResultRecord | None] = asyncio.Queue()

        async def produce() -> None:
            chunk: list[_Job] = []
            for item in items:
                if done and (
                    (self._version(item.prompt), item.model_id, item.case.id, item.repeat) in done
                ):
                    continue
                chunk.append(self._prepare(item))
                if len(chunk) >= CHUNK:
                    await self._lookup(chunk)
                    for job in chunk:
                        await work.put(job)
                    chunk = []
            await self._lookup(chunk)
            for job in chunk:
                await work.put(job)
            for _ in range(n_workers):
                await work.put(None)

        async def worker() -> None:
            while (job := await work.get()) is not None:
                out.put_nowait(await self._finish(job))

        async def write() -> None:
            finished = False
            while not finished:
                batch = [await out.get()]
                while not out.empty():
                    batch.append(out.get_nowait())
                if batch[-1] is None:
                    finished = True
                records = [r for r in batch if r is not None]
                puts, self._cache_puts = self._cache_puts, []
                if records or puts:
                    await asyncio.to_thread(self._write, sink, records, puts)
                    for r in records:
                        self._count(r)
                        if on_result:
                            on_result(r)

        writer = asyncio.create_task(write())
        try:
            await asyncio.gather(produce(), *(worker() for _ in range(n_workers)))
        finally:
            await out.put(None)
            await writer
        return self.stats

    def _write(
        self,
        sink: ResultSink,
        records: list[ResultRecord],
        puts: list[tuple[str, dict[str, Any]]],
    ) -> None:
        # Answers first: a result stored without its cache entry would be paid for again by
        # the next run; the reverse costs nothing.
        if puts and self.cache is not None:
            _put_many(self.cache, puts)
        if records:
            sink.write(records)

    def _count(self, r: ResultRecord) -> None:
        s = self.stats
        s.done += 1
        s.cached += r.cached
        s.cost += r.cost or 0.0
        if r.error:
            s.errors += 1
        elif r.passed:
            s.passed += 1
        elif r.passed is False:
            s.failed += 1


def _prompt_text(request: Any) -> str:
    """The rendered prompt as text, for checks that read it: one message is its content,
    several are their JSON."""
    messages = request.messages
    if len(messages) == 1:
        return messages[0].content
    return json.dumps([m.to_dict() for m in messages], ensure_ascii=False)
