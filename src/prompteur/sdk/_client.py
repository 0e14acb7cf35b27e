"""`Client`: prompts from a `prompteur serve` server (or the local project) with a TTL cache,
stale-while-revalidate and offline fallbacks, and tracing that never slows the caller."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import inspect
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import UserError
from ._backends import (
    Backend,
    HttpBackend,
    LocalBackend,
    Unavailable,
    find_project,
    library_handle,
)
from ._handle import Completion, PromptHandle
from ._snapshot import Snapshot, read_snapshot, write_snapshot
from ._spool import DEFAULT_MAX_BYTES, DEFAULT_MAX_TRACES, SpoolError, open_spool
from ._tracing import Prebuilt, Trace, TraceSender, current_trace

if TYPE_CHECKING:
    from ..config import Config

log = logging.getLogger("prompteur.sdk")

URL_ENV = "PROMPTEUR_URL"
KEY_ENV = "PROMPTEUR_API_KEY"
DEFAULT_LABEL = "production"

F = TypeVar("F", bound=Callable[..., Any])
Key = tuple[str, str | None, str | None]  # name, label, version prefix


class _Unset:
    def __repr__(self) -> str:
        return f"'{DEFAULT_LABEL}'"


_UNSET: Any = _Unset()


class _Entry:
    """A cached answer. `cached` and `stale` are the same handle under the two sources it is
    served as, made once so that a cache hit allocates nothing."""

    __slots__ = ("cached", "expires", "good", "retry_at", "stale")

    def __init__(
        self, cached: PromptHandle, stale: PromptHandle, expires: float, good: PromptHandle | None
    ) -> None:
        self.cached = cached
        self.stale = stale
        self.expires = expires
        self.good = good  # the last live answer (server or store), for the offline fallback
        self.retry_at = 0.0


@dataclass(frozen=True)
class ClientStats:
    sent: int  # traces delivered (directly or from the spool)
    dropped: int  # traces never sent and not kept (queue full; no spool to keep them)
    failed: int  # traces lost for good (refused by the server, not serialisable)
    queued: int  # traces waiting in memory now
    spooled: int  # traces written to the spool (the server could not take them then)
    from_spool: int  # traces delivered from the spool (counted in `sent` too)
    dropped_by_cap: int  # spooled traces dropped, oldest first, to stay within the caps
    spool_pending: int  # traces in the spool, as this client last saw it
    fetches: int  # prompt fetches from the server or store (cache misses and refreshes)
    fallbacks: int  # answers served by a fallback (last good, library file, snapshot)
    last_error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Client:
    """The prompteur client.

    With `url` (or PROMPTEUR_URL) it talks to a `prompteur serve` server, sending `api_key`
    (or PROMPTEUR_API_KEY) as a bearer token; without, it works on the local project (the
    folder `project`, or the one around the working folder): prompts from the store's
    versions and labels, traces into the store.

    `cache_ttl` seconds a prompt is served from memory; after that the stale copy is served at
    once while one background thread refreshes it (0 turns the cache off). When the server
    cannot answer, `get_prompt` serves the last good copy, else the local library's file, else
    the `snapshot` file, and `handle.source` says which.

    Traces the server (or store) cannot take are kept in a spool on disk and delivered when it
    answers again: `spool` is its folder (default: $PROMPTEUR_SPOOL_DIR, else the user's cache
    folder), False for none; bounded by `spool_max_traces` and `spool_max_bytes`.
    """

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        project: str | Path | None = None,
        cache_ttl: float = 60.0,
        *,
        snapshot: str | Path | None = None,
        timeout: float = 5.0,
        complete_timeout: float = 120.0,
        retry_after: float = 5.0,
        max_queue: int = 10_000,
        batch_size: int = 200,
        linger: float = 0.25,
        retries: int = 3,
        backoff: float = 0.2,
        backoff_max: float = 30.0,
        warn_every: int = 1000,
        flush_at_exit: float = 2.0,
        spool: str | Path | bool | None = None,
        spool_max_traces: int = DEFAULT_MAX_TRACES,
        spool_max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        if cache_ttl < 0:
            raise UserError("must be 0 (no cache) or more", field="cache_ttl")
        url = url or os.environ.get(URL_ENV) or None
        self.url = url.rstrip("/") if url else None
        self.cache_ttl = float(cache_ttl)
        self.retry_after = retry_after
        self._project: Config | None = None
        if project is not None or self.url is None:
            self._project = find_project(project)
        else:
            # Only a fallback for a server client: a broken prompteur.toml around the working
            # folder must not stop it from starting.
            with contextlib.suppress(UserError):
                self._project = find_project(None)
        self._backend: Backend
        key = api_key or os.environ.get(KEY_ENV) or None
        if self.url is not None:
            if not self.url.startswith(("http://", "https://")):
                raise UserError(f"not an http(s) URL: {self.url!r}", field="url")
            self._backend = HttpBackend(
                self.url, key, timeout=timeout, complete_timeout=complete_timeout
            )
        else:
            if self._project is None:
                from ..config import load_config

                self._project = load_config()
                if self._project.file is None and not os.environ.get("PROMPTEUR_DATABASE_URL"):
                    raise UserError(
                        f"no prompteur project here ({Path.cwd()}) and no server URL",
                        field="url",
                        hint=f"give url= (or set {URL_ENV}), or project= a folder with "
                        "a prompteur.toml",
                    )
            self._backend = LocalBackend(self._project)
        self.spool = open_spool(
            spool,
            *_spool_target(self.url, key, self._project),
            max_traces=spool_max_traces,
            max_bytes=spool_max_bytes,
        )
        self._snapshot_path = Path(snapshot) if snapshot is not None else None
        self._snapshot: Snapshot | None = None
        if self._snapshot_path is not None and self._snapshot_path.exists():
            self._snapshot = read_snapshot(self._snapshot_path)  # a broken file fails early
        self._entries: dict[Key, _Entry] = {}
        self._inflight: set[Key] = set()
        self._lock = threading.Lock()
        self._fetches = 0
        self._fallbacks = 0
        self._sender = TraceSender(
            self._backend.send_traces,
            max_queue=max_queue,
            batch_size=batch_size,
            linger=linger,
            retries=retries,
            backoff=backoff,
            backoff_max=backoff_max,
            warn_every=warn_every,
            spool=self.spool,
        )
        self._closed = False
        # Bound to this sender, not to the client, so a forgotten client can still be
        # collected; close() unregisters it.
        self._at_exit = functools.partial(self._sender.close, flush_at_exit)
        atexit.register(self._at_exit)

    def __repr__(self) -> str:
        # The key is never shown, whether or not one was given.
        where = f"url={self.url!r}" if self.url else f"project={str(self.project_root)!r}"
        return f"Client({where}, cache_ttl={self.cache_ttl:g})"

    @property
    def project_root(self) -> Path | None:
        return self._project.root if self._project is not None else None

    # ---- prompts ------------------------------------------------------------------------------

    def get_prompt(
        self,
        name: str,
        label: str | None = _UNSET,
        *,
        version: str | None = None,
        model: str | None = None,
    ) -> PromptHandle:
        """A prompt by label (default `production`) or by version (a hash prefix). With
        `model`, the handle renders the prompt's variant for that model (`handle.variant`
        names it); the version, cached once, serves every model."""
        return self._get(name, label, version).for_model(model)

    def _get(self, name: str, label: str | None, version: str | None) -> PromptHandle:
        if label is _UNSET:
            label = None if version is not None else DEFAULT_LABEL
        elif label is not None and version is not None:
            raise UserError("give a label or a version, not both", field="version")
        key = (name, label, version)
        entry = self._entries.get(key)
        if entry is not None and self.cache_ttl > 0:
            if time.monotonic() < entry.expires:
                return entry.cached
            self._revalidate(key, entry)
            return entry.stale
        return self._fetch(key, entry)

    def _cached(self, name: str, label: str | None, version: str | None) -> PromptHandle | None:
        """The answer get_prompt would give without waiting for anything, or None."""
        if label is _UNSET:
            label = None if version is not None else DEFAULT_LABEL
        key = (name, label, version)
        entry = self._entries.get(key)
        if entry is None or self.cache_ttl <= 0:
            return None
        if time.monotonic() < entry.expires:
            return entry.cached
        self._revalidate(key, entry)
        return entry.stale

    def _fetch(self, key: Key, entry: _Entry | None) -> PromptHandle:
        if self._closed:
            raise UserError("this client is closed", hint="make a new Client")
        with self._lock:
            self._fetches += 1
        try:
            handle = self._backend.fetch(*key)
        except Unavailable as exc:
            return self._fallback(key, entry, exc)
        self._remember(key, handle)
        return handle

    def _remember(self, key: Key, handle: PromptHandle) -> None:
        self._entries[key] = _Entry(
            handle.with_source("cache"),
            handle.with_source("stale"),
            time.monotonic() + self.cache_ttl,
            handle,
        )

    def _fallback(self, key: Key, entry: _Entry | None, exc: Unavailable) -> PromptHandle:
        name, label, version = key
        found: PromptHandle | None = None
        if entry is not None and entry.good is not None:
            found = entry.good.with_source("last-good")
        if found is None:
            found = library_handle(self._project, name, label, version)
        if found is None:
            snapshot = self._load_snapshot()
            if snapshot is not None:
                found = snapshot.find(name, label, version)
        if found is None:
            asked = f"label '{label}'" if label else f"version '{version}'" if version else ""
            raise Unavailable(
                f"cannot get prompt '{name}' {asked}: {exc}; no cached copy, library file "
                "or snapshot to fall back on"
            ) from None
        with self._lock:
            self._fallbacks += 1
        log.warning("prompteur: prompt '%s' served from %s: %s", name, found.source, exc)
        # Served from memory for a short while: a dead server must not cost every call a
        # connection attempt; then refreshed in the background like any stale answer.
        fallback = _Entry(found, found, time.monotonic() + self.retry_after, None)
        fallback.good = entry.good if entry is not None else None
        self._entries[key] = fallback
        return found

    def _load_snapshot(self) -> Snapshot | None:
        path = self._snapshot_path
        if self._snapshot is None and path is not None and path.exists():
            self._snapshot = read_snapshot(path)
        return self._snapshot

    def _revalidate(self, key: Key, entry: _Entry) -> None:
        if time.monotonic() < entry.retry_at:
            return
        with self._lock:
            if key in self._inflight or self._closed:
                return
            self._inflight.add(key)
        threading.Thread(
            target=self._refresh, args=(key,), name="prompteur-refresh", daemon=True
        ).start()

    def _refresh(self, key: Key) -> None:
        try:
            with self._lock:
                self._fetches += 1
            handle = self._backend.fetch(*key)
        except Exception as exc:  # the stale copy keeps serving; try again later
            log.warning("prompteur: refreshing prompt '%s' failed: %s", key[0], exc)
            entry = self._entries.get(key)
            if entry is not None:
                entry.retry_at = time.monotonic() + self.retry_after
        else:
            self._remember(key, handle)
        finally:
            with self._lock:
                self._inflight.discard(key)

    def invalidate(self, name: str | None = None) -> None:
        """Forget cached prompts (all, or those of `name`): the next get_prompt fetches."""
        for key in list(self._entries):
            if name is None or key[0] == name:
                self._entries.pop(key, None)

    def snapshot(self, path: str | Path, prompts: Iterable[str | tuple[str, str]] = ()) -> int:
        """Save the prompts this client holds (after fetching `prompts`: names, or
        (name, label) pairs) to a JSON file for `Client(snapshot=path)`; returns how many."""
        for spec in prompts:
            if isinstance(spec, str):
                self.get_prompt(spec)
            else:
                self.get_prompt(spec[0], spec[1])
        handles = [e.good for e in list(self._entries.values()) if e.good is not None]
        if not handles:
            raise UserError(
                "nothing to snapshot: this client holds no prompt yet",
                hint="name them: client.snapshot(path, ['sentiment'])",
            )
        return write_snapshot(Path(path), handles)

    # ---- the gateway --------------------------------------------------------------------------

    def complete(
        self,
        name: str,
        inputs: Mapping[str, Any] | None = None,
        *,
        label: str | None = _UNSET,
        version: str | None = None,
        model: str | None = None,
    ) -> Completion:
        """Render, call the model and record the trace: on the server's gateway (the provider
        key stays there), or here on the local project when there is no server."""
        if label is _UNSET:
            label = None if version is not None else DEFAULT_LABEL
        elif label is not None and version is not None:
            raise UserError("give a label or a version, not both", field="version")
        values = dict(inputs or {})
        if self.url is not None:
            done = self._backend.complete(name, values, label, version, model)
            unstored = (done.raw or {}).get("trace")
            if isinstance(unstored, dict):
                # The server answered but could not store its trace: delivered from here, like
                # any trace (spooled if need be; the server stores it once).
                self._sender.submit(Prebuilt(unstored))
            return done
        trace = Trace(self._sender, name, values, label=label)
        with trace:
            done = self._backend.complete(name, values, label, version, model)
            _copy_usage(trace, done)
        trace_id, _ = trace.ids()
        return Completion(
            done.output,
            trace_id,
            name,
            done.version,
            done.model,
            done.tokens_in,
            done.tokens_out,
            done.cost,
            done.latency_ms,
            variant=done.variant,
        )

    def feedback(
        self, trace_id: str | Completion, score: bool | float, comment: str | None = None
    ) -> None:
        """Record an end user's verdict on a traced call: `score` 1 (or True) good, 0 (or
        False) bad, anything in between; an optional comment. Negative feedback can become a
        review queue (`prompteur review create --from-traces --select negative-feedback`).
        On a server it needs a key with the `feedback` (or `write`) scope."""
        ref = trace_id.trace_id if isinstance(trace_id, Completion) else trace_id
        if not ref or not isinstance(ref, str) or len(ref) > 32:
            raise UserError("a trace id (up to 32 characters) is needed", field="trace_id")
        value = float(score)
        if not 0.0 <= value <= 1.0:
            raise UserError("a feedback score is in [0, 1] (1 good, 0 bad)", field="score")
        if comment is not None and len(comment) > 4000:
            raise UserError("a comment holds at most 4000 characters", field="comment")
        self._backend.feedback(ref, value, comment)

    # ---- tracing ------------------------------------------------------------------------------

    def trace(
        self,
        prompt: str | PromptHandle,
        inputs: Mapping[str, Any] | None = None,
        *,
        label: str | None = None,
        version: str | None = None,
        model: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Trace:
        """`with client.trace(handle, inputs) as t: ...; t.output = answer` records one call:
        output, latency, tokens, cost, version, and the exception if one escapes (re-raised)."""
        if isinstance(prompt, PromptHandle):
            name = prompt.name
            version = version or prompt.version
            label = label or prompt.label
        else:
            name = prompt
            if version is None and label is not None:
                # Known versions only: tracing never waits for a fetch.
                entry = self._entries.get((name, label, None))
                if entry is not None and entry.good is not None:
                    version = entry.good.version
        return Trace(
            self._sender,
            name,
            dict(inputs) if inputs else {},
            version=version,
            label=label,
            model=model,
            metadata=metadata,
        )

    def traced(
        self,
        prompt: str,
        *,
        label: str | None = None,
        version: str | None = None,
        model: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Callable[[F], F]:
        """A decorator: each call of the function is a trace (its arguments are the inputs,
        its return value the output). Works on async functions too. Inside, `current_trace()`
        gives the trace, to set tokens or cost."""

        def decorate(fn: F) -> F:
            signature = inspect.signature(fn)
            params = list(signature.parameters.values())
            # The common case (named parameters only) is a zip, ~10× cheaper than bind().
            simple = all(p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in params)
            names = tuple(p.name for p in params if p.kind == p.POSITIONAL_OR_KEYWORD)
            skip = {"self", "cls"} & {p.name for p in params[:1]}

            def inputs_of(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
                if simple and len(args) <= len(names):
                    values = dict(zip(names, args, strict=False))
                    values.update(kwargs)
                else:
                    try:
                        bound = signature.bind_partial(*args, **kwargs)
                    except TypeError:  # the call itself fails the same way, and is recorded
                        return {"args": list(args), **kwargs}
                    values = dict(bound.arguments)
                for name in skip:
                    values.pop(name, None)
                return values

            def open_trace(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Trace:
                return self.trace(
                    prompt,
                    inputs_of(args, kwargs),
                    label=label,
                    version=version,
                    model=model,
                    metadata=metadata,
                )

            if inspect.iscoroutinefunction(fn):

                @functools.wraps(fn)
                async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                    with open_trace(args, kwargs) as t:
                        result = await fn(*args, **kwargs)
                        _take_result(t, result)
                        return result

                return async_wrapper  # type: ignore[return-value]

            @functools.wraps(fn)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                with open_trace(args, kwargs) as t:
                    result = fn(*args, **kwargs)
                    _take_result(t, result)
                    return result

            return wrapper  # type: ignore[return-value]

        return decorate

    current_trace = staticmethod(current_trace)

    def stats(self) -> ClientStats:
        s = self._sender.stats()
        with self._lock:
            fetches, fallbacks = self._fetches, self._fallbacks
        return ClientStats(
            s.sent,
            s.dropped,
            s.failed,
            s.queued,
            s.spooled,
            s.from_spool,
            s.dropped_by_cap,
            s.spool_pending,
            fetches,
            fallbacks,
            s.last_error,
        )

    def flush(self, timeout: float | None = 5.0) -> bool:
        """Send the queued traces and the spooled ones; True when all were delivered (or
        counted lost) within `timeout` seconds."""
        return self._sender.flush(timeout)

    def close(self, timeout: float | None = 5.0) -> bool:
        """Flush (up to `timeout`), stop the worker and release connections and the store.
        What is not delivered by then stays in the spool for the next process; True when
        nothing was left."""
        if self._closed:
            return True
        with self._lock:
            self._closed = True
        atexit.unregister(self._at_exit)
        done = self._sender.close(timeout)
        self._backend.close()
        return done

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _spool_target(
    url: str | None, key: str | None, project: Config | None
) -> tuple[str, str | None]:
    """Whom a spool's traces are for: the server and the key they are sent with, or the
    local project's store."""
    if url is not None:
        return url, key
    return (project.database_url if project is not None else ""), None


def drain_spool(
    url: str | None = None,
    api_key: str | None = None,
    *,
    spool: str | Path | None = None,
    project: str | Path | None = None,
    timeout: float = 30.0,
) -> ClientStats:
    """Deliver a spool now (`prompteur traces spool drain`): the one of `url` and `api_key`
    (or of the local project) in the folder `spool` (default: the usual one), or the spool
    file `spool` names. Returns the client's stats: `from_spool` delivered, `spool_pending`
    left."""
    client = Client(url, api_key, project, spool=spool if spool is not None else True)
    client.close(timeout)
    return client.stats()


def clear_spool(
    url: str | None = None,
    api_key: str | None = None,
    *,
    spool: str | Path | None = None,
    project: str | Path | None = None,
) -> int:
    """Delete the traces of a spool without delivering them; returns how many there were."""
    url = (url or os.environ.get(URL_ENV) or "").rstrip("/") or None
    key = api_key or os.environ.get(KEY_ENV) or None
    config = find_project(project) if url is None else None
    if url is None and config is None:
        raise UserError("no server URL and no prompteur project here", field="url")
    opened = open_spool(spool if spool is not None else True, *_spool_target(url, key, config))
    assert opened is not None
    if not opened.exists():
        return 0
    try:
        return opened.clear()
    except SpoolError as exc:
        raise UserError(str(exc), file=opened.path) from None
    finally:
        opened.close()


def _take_result(trace: Trace, result: Any) -> None:
    if trace.output is None:
        trace.output = result
    if isinstance(result, Completion):
        _copy_usage(trace, result)


def _copy_usage(trace: Trace, done: Completion) -> None:
    trace.output = done.output if trace.output is None else trace.output
    trace.version = trace.version or done.version
    trace.model = trace.model or done.model
    trace.tokens_in = done.tokens_in if trace.tokens_in is None else trace.tokens_in
    trace.tokens_out = done.tokens_out if trace.tokens_out is None else trace.tokens_out
    trace.cost = done.cost if trace.cost is None else trace.cost


class AsyncClient:
    """The async twin: the same client, whose waits (fetches, the gateway, flush) run in a
    worker thread so the event loop never blocks; a cache hit answers without a thread hop."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.sync = Client(*args, **kwargs)

    def __repr__(self) -> str:
        return "Async" + repr(self.sync)

    async def get_prompt(
        self,
        name: str,
        label: str | None = _UNSET,
        *,
        version: str | None = None,
        model: str | None = None,
    ) -> PromptHandle:
        if label is not _UNSET and label is not None and version is not None:
            raise UserError("give a label or a version, not both", field="version")
        hit = self.sync._cached(name, label, version)
        if hit is not None:
            return hit.for_model(model)
        return await asyncio.to_thread(
            self.sync.get_prompt, name, label, version=version, model=model
        )

    async def complete(
        self,
        name: str,
        inputs: Mapping[str, Any] | None = None,
        *,
        label: str | None = _UNSET,
        version: str | None = None,
        model: str | None = None,
    ) -> Completion:
        return await asyncio.to_thread(
            functools.partial(
                self.sync.complete, name, inputs, label=label, version=version, model=model
            )
        )

    def trace(
        self, prompt: str | PromptHandle, inputs: Mapping[str, Any] | None = None, **kw: Any
    ) -> Trace:
        return self.sync.trace(prompt, inputs, **kw)

    def traced(self, prompt: str, **kw: Any) -> Callable[[F], F]:
        return self.sync.traced(prompt, **kw)

    current_trace = staticmethod(current_trace)

    def stats(self) -> ClientStats:
        return self.sync.stats()

    async def feedback(
        self, trace_id: str | Completion, score: bool | float, comment: str | None = None
    ) -> None:
        """`Client.feedback`, off the event loop."""
        await asyncio.to_thread(self.sync.feedback, trace_id, score, comment)

    async def flush(self, timeout: float | None = 5.0) -> bool:
        return await asyncio.to_thread(self.sync.flush, timeout)

    async def aclose(self, timeout: float | None = 5.0) -> bool:
        return await asyncio.to_thread(self.sync.close, timeout)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
