"""Tracing in the caller's thread costs a clock read and a queue append; everything else
(building the record, batching, HTTP or the store, retries) happens in one background worker.

The queue is bounded: when it is full a trace is dropped and counted, never waited for, so a
slow or dead server can cost the application traces but never time. Every loss is counted
(`dropped`: never sent; `failed`: sent and lost after the retries) and logged once per
`warn_every` losses.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ._backends import Rejected

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


@dataclass(frozen=True)
class SenderStats:
    sent: int  # delivered (accepted by the server or written to the store)
    dropped: int  # never sent: the queue was full, or still queued when the client closed
    failed: int  # sent and lost: the retries ran out, or the server refused the batch
    queued: int  # waiting in the queue now
    last_error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "dropped": self.dropped,
            "failed": self.failed,
            "queued": self.queued,
            "last_error": self.last_error,
        }


class TraceSender:
    """A bounded queue and one daemon worker that sends its traces in batches."""

    def __init__(
        self,
        send: Callable[[str], None],
        *,
        max_queue: int = 10_000,
        batch_size: int = 200,
        linger: float = 0.25,
        retries: int = 3,
        backoff: float = 0.2,
        warn_every: int = 1000,
    ) -> None:
        self._send = send
        self._queue: queue.Queue[Trace] = queue.Queue(maxsize=max_queue)
        self.batch_size = batch_size
        self.linger = linger
        self.retries = retries
        self.backoff = backoff
        self.warn_every = max(1, warn_every)
        self._lock = threading.Lock()
        self._sent = 0
        self._dropped = 0
        self._failed = 0
        self._in_flight = 0  # traces of the batch being sent now
        self._last_error: str | None = None
        self._flush_now = threading.Event()
        self._stop = threading.Event()
        self._closed = False
        self._worker: threading.Thread | None = None

    # ---- the caller's side: never blocks ----------------------------------------------------

    def submit(self, trace: Trace) -> bool:
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
            before = self._dropped + self._failed
            if kind == "dropped":
                self._dropped += n
            else:
                self._failed += n
            self._last_error = why
            after = self._dropped + self._failed
            dropped, failed = self._dropped, self._failed
        # Once per `warn_every` lost traces (and at the first): reported, never silent, and
        # never a log storm from a hot loop.
        if before == 0 or before // self.warn_every != after // self.warn_every:
            log.warning(
                "prompteur: %d trace(s) lost so far (%d dropped, %d failed): %s",
                after,
                dropped,
                failed,
                why,
            )

    # ---- the worker ---------------------------------------------------------------------------

    def _run(self) -> None:
        q = self._queue
        while not self._stop.is_set():
            try:
                first = q.get(timeout=0.5)
            except queue.Empty:
                self._flush_now.clear()
                continue
            batch = [first]
            deadline = time.monotonic() + self.linger
            while len(batch) < self.batch_size:
                wait = deadline - time.monotonic()
                if wait <= 0 or self._flush_now.is_set() or self._stop.is_set():
                    try:
                        batch.append(q.get_nowait())
                        continue
                    except queue.Empty:
                        break
                try:
                    batch.append(q.get(timeout=min(wait, 0.05)))
                except queue.Empty:
                    continue
            try:
                self._deliver(batch)
            finally:
                for _ in batch:
                    q.task_done()

    def _deliver(self, batch: list[Trace]) -> None:
        records = []
        for trace in batch:
            try:
                records.append(trace.to_dict())
            except Exception as exc:  # a broken attribute loses one trace, not the batch
                self._lost("failed", 1, f"cannot record a trace: {exc}")
        if not records:
            return
        # Serialised once, here, for the whole batch (the backend sends it as it is).
        try:
            payload = _dumps(records)
        except (TypeError, ValueError, RecursionError):
            kept = []
            for record in records:
                try:
                    _dumps(record)
                except (TypeError, ValueError, RecursionError) as exc:
                    self._lost("failed", 1, f"cannot serialise a trace: {exc}")
                else:
                    kept.append(record)
            if not kept:
                return
            records, payload = kept, _dumps(kept)
        with self._lock:
            self._in_flight = len(records)
        for attempt in range(self.retries + 1):
            try:
                self._send(payload)
            except Rejected as exc:
                self._settle(False, f"refused: {exc}")
                return
            except Exception as exc:  # server down, store locked: retry, then count
                if attempt == self.retries or self._stop.is_set():
                    self._settle(False, f"{type(exc).__name__}: {exc}")
                    return
                # Waits on the stop event so close() never waits a whole backoff.
                self._stop.wait(min(self.backoff * 2**attempt, 5.0))
                continue
            self._settle(True, None)
            return

    def _settle(self, sent: bool, why: str | None) -> None:
        """Count the batch in flight, unless close() gave up on it and counted it already."""
        with self._lock:
            n, self._in_flight = self._in_flight, 0
            if sent:
                self._sent += n
        if n and not sent:
            self._lost("failed", n, why or "not delivered")

    # ---- flush, close, stats ------------------------------------------------------------------

    def flush(self, timeout: float | None = 5.0) -> bool:
        """Send what is queued now; True when everything was settled (sent or counted lost)
        within `timeout` seconds."""
        if self._worker is None:
            return True
        self._flush_now.set()
        q = self._queue
        # The queue's own bookkeeping (what join() waits on), with a timeout join() lacks.
        with q.all_tasks_done:
            done = q.all_tasks_done.wait_for(lambda: q.unfinished_tasks == 0, timeout)
        return bool(done)

    def close(self, timeout: float | None = 5.0) -> bool:
        """Flush (up to `timeout`), stop the worker and count what is left as dropped."""
        if self._closed:
            return True
        done = self.flush(timeout)
        with self._lock:
            self._closed = True
        self._stop.set()
        if self._worker is not None:
            self._worker.join(timeout=max(1.0, self.linger * 4))
            if self._worker.is_alive():  # stuck in a slow request: count its batch now
                self._settle(False, "still being sent when the client closed")
        left = 0
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
            self._queue.task_done()
            left += 1
        if left:
            self._lost("dropped", left, "still queued when the client closed")
        return done and not left

    def stats(self) -> SenderStats:
        with self._lock:
            return SenderStats(
                self._sent, self._dropped, self._failed, self._queue.qsize(), self._last_error
            )
