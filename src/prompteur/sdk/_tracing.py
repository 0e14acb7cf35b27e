"""Tracing in the caller's thread costs a clock read and a queue append; everything else
(building the record, batching, HTTP or the store, the spool, retries) happens in one
background worker.

The queue is bounded: when it is full a trace is dropped and counted, never waited for, so a
slow server can cost the application traces but never time. What the server cannot take goes
to the spool on disk (`_spool.py`) and is delivered when it answers again. Every loss is
counted (`dropped`: never sent nor kept; `failed`: refused, or lost after the retries when
there is no spool; `dropped_by_cap`: pushed out of a full spool) and logged once per
`warn_every` losses.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ._backends import Rejected
from ._spool import Spool, SpoolError

if TYPE_CHECKING:
    from types import TracebackType

log = logging.getLogger("prompteur.sdk")

_current: contextvars.ContextVar[Trace | None] = contextvars.ContextVar(
    "prompteur_trace", default=None
)


def current_trace() -> Trace | None:
    """The trace open around this code (in this thread or task), if any."""
    return _current.get()


class Trace:
    """One traced call. Set `output` (and, when known, tokens, cost, model, metadata, scores)
    inside the `with` block; latency, start time and any exception are recorded on exit, and
    the exception goes on unchanged."""

    __slots__ = (
        "_sender",
        "_t0",
        "_token",
        "cost",
        "error",
        "inputs",
        "label",
        "latency_ms",
        "metadata",
        "model",
        "name",
        "output",
        "scores",
        "span_id",
        "started_at",
        "tokens_in",
        "tokens_out",
        "trace_id",
        "version",
    )

    def __init__(
        self,
        sender: TraceSender,
        name: str,
        inputs: dict[str, Any],
        *,
        version: str | None = None,
        label: str | None = None,
        model: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._sender = sender
        self.name = name
        self.inputs = inputs
        self.version = version
        self.label = label
        self.model = model
        self.metadata = metadata
        self.output: Any = None
        self.error: str | None = None
        self.tokens_in: int | None = None
        self.tokens_out: int | None = None
        self.cost: float | None = None
        self.scores: list[dict[str, Any]] | None = None
        self.latency_ms: float | None = None
        self.started_at = 0.0
        # Made by the worker unless the caller asks (ids cost a syscall each).
        self.trace_id: str | None = None
        self.span_id: str | None = None
        self._t0 = 0.0
        self._token: contextvars.Token[Trace | None] | None = None

    def ids(self) -> tuple[str, str]:
        """This trace's (trace_id, span_id), made now if not yet: to log or to link."""
        if self.trace_id is None:
            self.trace_id = os.urandom(16).hex()
        if self.span_id is None:
            self.span_id = os.urandom(8).hex()
        return self.trace_id, self.span_id

    def __enter__(self) -> Trace:
        self._token = _current.set(self)
        self.started_at = time.time()
        self._t0 = time.perf_counter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.latency_ms = (time.perf_counter() - self._t0) * 1000.0
        if self._token is not None:
            _current.reset(self._token)
            self._token = None
        if exc is not None and self.error is None:
            self.error = f"{exc_type.__name__ if exc_type else 'Error'}: {exc}"
        self._sender.submit(self)
        # None: the exception (if any) propagates unchanged.

    def to_dict(self) -> dict[str, Any]:
        """The record sent to the server (`TraceIn`'s fields). Runs in the worker."""
        trace_id, span_id = self.ids()
        return {
            "prompt": self.name,
            "version": self.version,
            "label": self.label,
            "model": self.model,
            "inputs": self.inputs if self.inputs is not None else {},
            "output": _text(self.output),
            "error": self.error,
            "latency_ms": round(self.latency_ms, 4) if self.latency_ms is not None else None,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cost": self.cost,
            "started_at": datetime.fromtimestamp(self.started_at or time.time(), UTC).isoformat(),
            "trace_id": trace_id,
            "span_id": span_id,
            "metadata": self.metadata or {},
            "scores": self.scores,
            "source": "sdk",
        }

    def __repr__(self) -> str:
        return f"Trace(name={self.name!r}, version={self.version!r}, error={self.error!r})"


def _dumps(value: Any) -> str:
    # What JSON cannot carry (a date, an object given as an input) becomes its str().
    return json.dumps(value, default=str, ensure_ascii=False)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    output = getattr(value, "output", None)  # a Completion
    if isinstance(output, str):
        return output
    return json.dumps(value, default=str, ensure_ascii=False)


class Prebuilt:
    """A trace record made elsewhere (the gateway's, when the server could not store it),
    queued like a trace."""

    __slots__ = ("record",)

    def __init__(self, record: dict[str, Any]) -> None:
        self.record = record

    def to_dict(self) -> dict[str, Any]:
        return self.record


@dataclass(frozen=True)
class SenderStats:
    sent: int  # delivered (accepted by the server or written to the store), spool included
    dropped: int  # never sent: queue full, or neither delivered nor spooled
    failed: int  # lost for good: refused by the server, not serialisable, retries run out
    queued: int  # waiting in memory now
    spooled: int = 0  # written to the spool by this client
    from_spool: int = 0  # delivered from the spool by this client (counted in `sent` too)
    dropped_by_cap: int = 0  # removed from the spool by this client to stay within its caps
    spool_pending: int = 0  # in the spool as this client last saw it (every process's)
    last_error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# How often a client whose spool another process is delivering looks again (seconds).
LOCK_POLL = 0.5
# The longest Retry-After obeyed (seconds): a server cannot park its clients for a day.
MAX_RETRY_AFTER = 300.0


class TraceSender:
    """A bounded queue and one daemon worker that sends its traces in batches.

    With a spool, a batch the server cannot take now (down, 5xx, timeout, a refused key) goes
    to the spool at once, and so do the batches after it while the spool holds anything, so
    that traces are delivered in the order they were recorded; the spool is delivered oldest
    first, retried with exponential backoff and jitter. A batch the server refuses for its
    content (400, 413, 422) is split until each refused trace is alone: the others are
    delivered, the refused ones counted as failed and removed, so one bad trace never blocks
    the spool. Without a spool (or when it cannot be written), a failed batch is retried
    `retries` times in memory, then counted as failed.
    """

    def __init__(
        self,
        send: Callable[[str], None],
        *,
        max_queue: int = 10_000,
        batch_size: int = 200,
        linger: float = 0.25,
        retries: int = 3,
        backoff: float = 0.2,
        backoff_max: float = 30.0,
        warn_every: int = 1000,
        spool: Spool | None = None,
        spool_warn_at: float = 0.5,
    ) -> None:
        self._send = send
        self._queue: queue.Queue[Trace | Prebuilt] = queue.Queue(maxsize=max_queue)
        self.batch_size = batch_size
        self.linger = linger
        self.retries = retries
        self.backoff = backoff
        self.backoff_max = max(backoff_max, backoff)
        self.warn_every = max(1, warn_every)
        self.spool = spool
        self.spool_warn_at = spool_warn_at
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._sent = 0
        self._dropped = 0
        self._failed = 0
        self._spooled = 0
        self._from_spool = 0
        self._by_cap = 0
        self._pending = 0
        self._last_error: str | None = None
        self._in_flight: list[dict[str, Any]] | None = None  # the memory batch being sent
        # An outage: batches go to the spool until it is seen empty. A spool file left by an
        # earlier process is delivered first.
        self._spooling = spool is not None and spool.exists()
        self._drain_at = 0.0  # monotonic time of the next delivery attempt from the spool
        self._attempt = 0
        self._spool_broken: str | None = None
        self._seen_aside = 0
        self._growth_warned = False
        self._random = random.Random()
        self._flush_now = threading.Event()
        self._stop = threading.Event()
        self._closed = False
        self._worker: threading.Thread | None = None
        if self._spooling:
            self._start()

    # ---- the caller's side: never blocks ----------------------------------------------------

    def submit(self, trace: Trace | Prebuilt) -> bool:
        if self._worker is None:
            self._start()
        if self._closed:
            self._lost("dropped", 1, "the client is closed")
            return False
        try:
            self._queue.put_nowait(trace)
        except queue.Full:
            self._lost("dropped", 1, "the trace queue is full")
            return False
        return True

    def _start(self) -> None:
        with self._lock:
            if self._worker is None and not self._closed:
                worker = threading.Thread(target=self._run, name="prompteur-traces", daemon=True)
                worker.start()
                self._worker = worker

    def _lost(self, kind: str, n: int, why: str) -> None:
        with self._lock:
            before = self._dropped + self._failed + self._by_cap
            if kind == "dropped":
                self._dropped += n
            elif kind == "cap":
                self._by_cap += n
            else:
                self._failed += n
            self._last_error = why
            after = self._dropped + self._failed + self._by_cap
            dropped, failed, by_cap = self._dropped, self._failed, self._by_cap
        # Once per `warn_every` lost traces (and at the first): reported, never silent, and
        # never a log storm from a hot loop.
        if before == 0 or before // self.warn_every != after // self.warn_every:
            log.warning(
                "prompteur: %d trace(s) lost so far (%d dropped, %d failed, %d dropped by the "
                "spool's cap): %s",
                after,
                dropped,
                failed,
                by_cap,
                why,
            )

    # ---- the worker ---------------------------------------------------------------------------

    def _run(self) -> None:
        q = self._queue
        try:
            while not self._stop.is_set():
                if self._spooling and time.monotonic() >= self._drain_at:
                    # One batch from the spool, then what the callers queued meanwhile (to the
                    # spool, behind it): a long delivery never starves the queue.
                    self._drain()
                batch = self._collect()
                if batch:
                    try:
                        self._handle(batch)
                    finally:
                        for _ in batch:
                            q.task_done()
                self._notify()
        finally:
            spool = self.spool
            if spool is not None:
                if spool.lock.held:
                    with contextlib.suppress(SpoolError):
                        spool.release()
                    spool.lock.release()
                spool.close()

    def _notify(self) -> None:
        with self._idle:
            self._idle.notify_all()

    def _collect(self) -> list[Trace | Prebuilt]:
        q = self._queue
        wait = 0.5
        if self._spooling:
            wait = min(0.1, max(0.0, self._drain_at - time.monotonic()))
        try:
            first = q.get(timeout=wait) if wait > 0 else q.get_nowait()
        except queue.Empty:
            if not q.unfinished_tasks:
                self._flush_now.clear()
            return []
        batch = [first]
        deadline = time.monotonic() + self.linger
        while len(batch) < self.batch_size:
            wait = deadline - time.monotonic()
            if wait <= 0 or self._flush_now.is_set() or self._stop.is_set() or self._spooling:
                try:
                    batch.append(q.get_nowait())
                    continue
                except queue.Empty:
                    break
            try:
                batch.append(q.get(timeout=min(wait, 0.05)))
            except queue.Empty:
                continue
        return batch

    def _records(self, batch: list[Trace | Prebuilt]) -> list[dict[str, Any]]:
        out = []
        for trace in batch:
            try:
                out.append(trace.to_dict())
            except Exception as exc:  # a broken attribute loses one trace, not the batch
                self._lost("failed", 1, f"cannot record a trace: {exc}")
        return out

    def _payloads(self, records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
        """Each record as one JSON object (what the spool keeps, and what is split when the
        server refuses a batch): (the records kept, their JSON). A record that cannot be
        serialised is counted and skipped, never the batch."""
        kept, payloads = [], []
        for record in records:
            try:
                payloads.append(_dumps(record))
            except (TypeError, ValueError, RecursionError) as exc:
                self._lost("failed", 1, f"cannot serialise a trace: {exc}")
            else:
                kept.append(record)
        return kept, payloads

    def _handle(self, batch: list[Trace | Prebuilt]) -> None:
        records = self._records(batch)
        if not records:
            return
        error: Exception | None = None
        if not self._spooling:
            done, error = self._send_whole(records)
            if done:
                return
        kept, payloads = self._payloads(records)
        if not payloads:
            return
        if self._spooling and self._to_spool(payloads, "earlier traces are still spooled"):
            return
        with self._lock:
            self._in_flight = kept
        for attempt in range(self.retries + 1):
            if error is None:
                delivered, refused, error, rest = self._send_all(payloads)
                with self._lock:
                    if self._in_flight is None:
                        return  # close() gave up waiting and took this batch
                    self._in_flight = None
                    self._sent += len(delivered)
                self._refused(refused)
                if error is None:
                    return
                kept = [kept[i] for i in rest]
                payloads = [payloads[i] for i in rest]
            why = _describe(error)
            with self._lock:
                self._last_error = why
            if self._to_spool(payloads, why, error):
                return
            if attempt == self.retries or self._stop.is_set():
                self._lost("failed", len(payloads), why)
                return
            with self._lock:
                self._in_flight = kept
            error = None
            # Waits on the stop event so close() never waits a whole backoff.
            self._stop.wait(min(self.backoff * 2**attempt, 5.0))

    def _send_whole(self, records: list[dict[str, Any]]) -> tuple[bool, Exception | None]:
        """The usual case, made cheap: the batch as one json.dumps (half the worker's time of
        one per trace; the worker's time is the caller's, through the GIL). Returns (settled,
        the error that stopped it): not settled with no error when a trace cannot be
        serialised or the server refused the batch's content, to be split by the caller."""
        try:
            whole = _dumps(records)
        except (TypeError, ValueError, RecursionError):
            return False, None
        with self._lock:
            self._in_flight = records
        error: Exception | None = None
        try:
            self._send(whole)
        except Rejected:
            pass
        except Exception as exc:  # server down, store locked, key refused: not the traces
            error = exc
        else:
            with self._lock:
                if self._in_flight is not None:  # else close() took it
                    self._in_flight = None
                    self._sent += len(records)
            return True, None
        with self._lock:
            if self._in_flight is None:
                return True, None  # close() gave up waiting and took this batch
            self._in_flight = None
        return False, error

    def _send_all(
        self, payloads: list[str]
    ) -> tuple[list[int], list[tuple[int, str]], Exception | None, list[int]]:
        """Send `payloads` as one batch; when the server refuses its content, halves until
        each refused trace is alone. Returns (delivered, refused with why, the error that
        stopped delivery or None, the positions not settled)."""
        delivered: list[int] = []
        refused: list[tuple[int, str]] = []
        todo = [(0, len(payloads))]
        while todo:
            lo, hi = todo.pop(0)
            try:
                self._send("[" + ",".join(payloads[lo:hi]) + "]")
            except Rejected as exc:
                if hi - lo == 1:
                    refused.append((lo, str(exc)))
                else:
                    mid = (lo + hi) // 2
                    todo[:0] = [(lo, mid), (mid, hi)]
                continue
            except Exception as exc:  # server down, store locked, key refused: not the traces
                rest = [i for a, b in [(lo, hi), *todo] for i in range(a, b)]
                return delivered, refused, exc, rest
            delivered.extend(range(lo, hi))
        return delivered, refused, None, []

    def _refused(self, refused: list[tuple[int, str]]) -> None:
        if refused:
            self._lost("failed", len(refused), f"refused by the server: {refused[-1][1]}")

    # ---- the spool ----------------------------------------------------------------------------

    def _to_spool(self, payloads: list[str], why: str, error: Exception | None = None) -> bool:
        """Append to the spool; False when there is none or it cannot be written (then the
        caller retries in memory and counts the loss)."""
        spool = self.spool
        if spool is None:
            return False
        from ..traces.scrub import scrub_payload

        try:
            # Secrets never reach the disk: masked as the server's store would mask them.
            added = spool.append([scrub_payload(p) for p in payloads])
        except SpoolError as exc:
            self._spool_problem(str(exc))
            return False
        finally:
            self._count_set_aside()
        if self._spool_broken is not None:
            log.warning("prompteur: the trace spool %s works again", spool.path)
            self._spool_broken = None
        with self._lock:
            self._spooled += added.stored
            self._pending = added.count
        if added.dropped:
            self._lost(
                "cap",
                added.dropped,
                f"the spool is full ({spool.max_traces} traces, {spool.max_bytes} bytes): "
                "its oldest traces were dropped",
            )
        if not self._spooling:
            self._spooling = True
            self._attempt = 0
            self._drain_at = time.monotonic() + self._delay(error)
            log.warning("prompteur: spooling traces to %s: %s", spool.path, why)
        self._warn_growth(added.count, added.bytes)
        return True

    def _count_set_aside(self) -> None:
        """Traces in a corrupt spool file that was moved aside: counted as dropped (the file
        is kept for a human)."""
        spool = self.spool
        assert spool is not None
        while self._seen_aside < len(spool.set_aside):
            where, held = spool.set_aside[self._seen_aside]
            self._seen_aside += 1
            why = f"the spool was corrupt; kept as {where}"
            if held:
                self._lost("dropped", held, why)
            else:  # none, or how many cannot be read: the spool's own warning says which
                with self._lock:
                    self._last_error = why

    def _spool_problem(self, why: str) -> None:
        with self._lock:
            self._last_error = why
        if self._spool_broken != why:
            log.warning("prompteur: the trace spool cannot be used: %s", why)
            self._spool_broken = why

    def _warn_growth(self, count: int, size: int) -> None:
        spool = self.spool
        assert spool is not None
        level = max(count / spool.max_traces, size / spool.max_bytes)
        if level >= self.spool_warn_at and not self._growth_warned:
            self._growth_warned = True
            log.warning(
                "prompteur: the trace spool %s holds %d traces (%d bytes), %.0f%% of its cap; "
                "traces are dropped oldest first past it",
                spool.path,
                count,
                size,
                level * 100,
            )
        elif level < self.spool_warn_at / 2:
            self._growth_warned = False

    def _delay(self, error: Exception | None) -> float:
        """Exponential backoff with jitter (so that many clients do not come back at once),
        at least what the server asked for in Retry-After, at most `backoff_max`."""
        base = min(self.backoff_max, self.backoff * 2**self._attempt)
        delay = base * self._random.uniform(0.5, 1.0)
        asked = getattr(error, "retry_after", None)
        if isinstance(asked, int | float) and asked > 0:
            delay = max(delay, min(float(asked), MAX_RETRY_AFTER))
        return delay

    def _drain(self) -> None:
        """One step of delivering the spool, oldest first: a batch, or a look at the lock."""
        spool = self.spool
        assert spool is not None
        now = time.monotonic()
        try:
            if not spool.lock.try_acquire():
                # Another process (or client) delivers it; go back to sending directly once it
                # is empty.
                count, size = spool.pending()
                with self._lock:
                    self._pending = count
                if count == 0:
                    self._spooling = False
                self._drain_at = now + LOCK_POLL
                return
            rows = spool.take(max(self.batch_size, 1))
        except (SpoolError, OSError) as exc:
            self._spool_problem(str(exc))
            self._attempt += 1
            self._drain_at = now + self._delay(None)
            return
        finally:
            self._count_set_aside()
        if not rows:
            self._spooling = False
            self._attempt = 0
            spool.lock.release()
            with self._lock:
                self._pending = 0
            self._growth_warned = False
            log.info("prompteur: the trace spool %s is delivered", spool.path)
            return
        payloads = [p for _, p in rows]
        delivered, refused, error, _rest = self._send_all(payloads)
        done = [rows[i][0] for i in delivered] + [rows[i][0] for i, _ in refused]
        with self._lock:
            self._sent += len(delivered)
            self._from_spool += len(delivered)
        self._refused(refused)
        try:
            if done:
                spool.remove(done)
            else:
                spool.release()
            count, size = spool.pending()
            with self._lock:
                self._pending = count
            self._warn_growth(count, size)
        except SpoolError as exc:  # delivered but still spooled: sent again later
            self._spool_problem(str(exc))
        if error is None:
            self._attempt = 0
            self._drain_at = now
        else:
            with self._lock:
                self._last_error = _describe(error)
            self._attempt += 1
            self._drain_at = time.monotonic() + self._delay(error)

    # ---- flush, close, stats ------------------------------------------------------------------

    def _settled(self) -> bool:
        return self._queue.unfinished_tasks == 0 and not self._spooling

    def flush(self, timeout: float | None = 5.0) -> bool:
        """Send what is queued now, and what is spooled (one attempt at once, then the usual
        backoff); True when everything was delivered or counted lost within `timeout`."""
        if self._worker is None:
            return True
        self._flush_now.set()
        self._drain_at = 0.0
        with self._idle:
            return bool(self._idle.wait_for(self._settled, timeout))

    def close(self, timeout: float | None = 5.0) -> bool:
        """Flush (up to `timeout`) and stop the worker. What could not be delivered by then
        stays in the spool for the next process (counted as dropped when there is none)."""
        if self._closed:
            return True
        done = self.flush(timeout)
        with self._lock:
            self._closed = True
        self._stop.set()
        worker = self._worker
        stuck = False
        if worker is not None:
            worker.join(timeout=max(1.0, self.linger * 4))
            stuck = worker.is_alive()  # in a slow request: its batch is kept below
        records: list[dict[str, Any]] = []
        if stuck:
            with self._lock:
                taken, self._in_flight = self._in_flight, None
            records += taken or []
        batch: list[Trace | Prebuilt] = []
        while True:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
            self._queue.task_done()
        _, left = self._payloads(records + self._records(batch))
        if left and not self._to_spool(left, "the client closed before delivering them"):
            self._lost("dropped", len(left), "still queued when the client closed")
        if not stuck and self.spool is not None:
            self.spool.close()
        return done and not left

    def stats(self) -> SenderStats:
        with self._lock:
            return SenderStats(
                self._sent,
                self._dropped,
                self._failed,
                self._queue.qsize(),
                self._spooled,
                self._from_spool,
                self._by_cap,
                self._pending,
                self._last_error,
            )


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
