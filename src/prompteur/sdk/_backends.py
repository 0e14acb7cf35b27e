"""Where the SDK gets prompts and sends traces: a `prompteur serve` server, or the local
project (library + store) when no URL is given. Both speak the same three verbs."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from ..errors import PrompteurError, UserError
from ._handle import Completion, PromptHandle

if TYPE_CHECKING:
    import httpx

    from ..config import Config
    from ..store import Store


class Unavailable(PrompteurError):
    """The server or the store could not answer (down, timed out, 5xx): worth a fallback or
    a retry, unlike a UserError (unknown prompt, bad key), which is final."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after  # seconds, when the server said (Retry-After)


class Rejected(PrompteurError):
    """The server refused a request for good (4xx): retrying would not help."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


# What a server answers when the traces themselves are wrong (invalid, too large): the only
# refusals that drop a trace. Any other 4xx (a wrong URL, a refused key) is the setup's fault,
# and the traces wait in the spool until it is fixed.
CONTENT_REFUSALS = (400, 413, 422)


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds; an HTTP date is ignored (the backoff applies)."""
    value = response.headers.get("retry-after", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds < 86_400 else None


class Backend(Protocol):
    kind: str  # the handle source for a live answer: "server" or "store"

    def fetch(self, name: str, label: str | None, version: str | None) -> PromptHandle: ...

    def complete(
        self,
        name: str,
        inputs: Mapping[str, Any],
        label: str | None,
        version: str | None,
        model: str | None,
    ) -> Completion: ...

    def send_traces(self, payload: str) -> None:
        """Deliver a JSON array of traces (TraceIn's fields)."""
        ...

    def close(self) -> None: ...


def _labels_at(labels: Any, version: str) -> tuple[str, ...]:
    """The labels pointing at `version`, from either shape a server may send: a list of the
    version's labels, or the prompt's whole {label: version} map."""
    if isinstance(labels, Mapping):
        return tuple(sorted(k for k, v in labels.items() if v == version))
    if isinstance(labels, list | tuple):
        return tuple(str(x) for x in labels)
    return ()


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict):
        detail = body.get("detail", body.get("error", body))
        if isinstance(detail, dict):
            detail = detail.get("error") or detail.get("message") or detail
        return str(detail)[:500]
    return str(body)[:500]


class HttpBackend:
    """The server's HTTP API over one keep-alive httpx client (thread-safe).

    The key lives only in the client's default headers: never in an attribute, a log line, an
    exception or a trace.
    """

    kind = "server"

    def __init__(
        self, url: str, api_key: str | None, *, timeout: float, complete_timeout: float
    ) -> None:
        import httpx

        from .. import __version__

        headers = {"User-Agent": f"prompteur-sdk/{__version__}"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self.url = url.rstrip("/")
        self._complete_timeout = complete_timeout
        self._http = httpx.Client(
            base_url=self.url,
            headers=headers,
            # A short connect timeout: a dead server must fail fast so the fallback serves.
            timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)),
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        import httpx

        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:  # connect, read, timeouts, protocol
            raise Unavailable(f"{self.url}: {type(exc).__name__}: {exc}") from None
        if response.status_code in (408, 429) or response.status_code >= 500:
            raise Unavailable(
                f"{self.url}{path}: HTTP {response.status_code}", _retry_after(response)
            )
        if response.status_code >= 400:
            what = _error_text(response)
            if response.status_code in (401, 403):
                raise UserError(
                    f"the server refused the API key: {what}",
                    field="api_key",
                    hint="check PROMPTEUR_API_KEY and its scope",
                )
            raise Rejected(f"HTTP {response.status_code}: {what}", response.status_code)
        try:
            return response.json()
        except ValueError:
            raise Unavailable(f"{self.url}{path}: the answer is not JSON") from None

    def fetch(self, name: str, label: str | None, version: str | None) -> PromptHandle:
        base = f"/v1/prompts/{quote(name, safe='')}"
        try:
            # `latest` is the newest stored version (the registry's word for no ref).
            ref = label or version or "latest"
            body = self._call("GET", f"{base}/versions/{quote(ref, safe='')}")
        except Rejected as exc:
            asked = f"label '{label}'" if label else f"version '{version}'"
            raise UserError(f"prompt '{name}' ({asked}): {exc}") from None
        return PromptHandle(
            name=str(body.get("name", name)),
            version=str(body["version"]),
            content=str(body["content"]),
            labels=_labels_at(body.get("labels"), str(body["version"])),
            label=label,
            source=self.kind,
        )

    def complete(
        self,
        name: str,
        inputs: Mapping[str, Any],
        label: str | None,
        version: str | None,
        model: str | None,
    ) -> Completion:
        payload: dict[str, Any] = {"inputs": dict(inputs)}
        if version is not None:
            payload["version"] = version
        else:
            payload["label"] = label
        if model:
            payload["model"] = model
        try:
            body = self._call(
                "POST",
                f"/v1/prompts/{quote(name, safe='')}/complete",
                json=payload,
                timeout=self._complete_timeout,
            )
        except Rejected as exc:
            raise UserError(f"complete '{name}': {exc}") from None
        usage = body.get("usage") or {}
        return Completion(
            output=str(body.get("output", "")),
            trace_id=body.get("trace_id"),
            name=name,
            version=body.get("version"),
            model=body.get("model"),
            tokens_in=body.get("tokens_in", usage.get("input_tokens")),
            tokens_out=body.get("tokens_out", usage.get("output_tokens")),
            cost=body.get("cost", body.get("cost_usd")),
            latency_ms=body.get("latency_ms"),
            raw=body,
            variant=body.get("variant"),
        )

    def feedback(self, trace_id: str, score: float, comment: str | None) -> None:
        try:
            self._call(
                "POST",
                "/v1/feedback",
                json={"trace_id": trace_id, "score": score, "comment": comment},
            )
        except Rejected as exc:
            raise UserError(f"feedback on trace {trace_id}: {exc}", field="trace_id") from None

    def send_traces(self, payload: str) -> None:
        body = ('{"traces": ' + payload + "}").encode("utf-8")
        try:
            self._call(
                "POST", "/v1/traces", content=body, headers={"Content-Type": "application/json"}
            )
        except Rejected as exc:
            if exc.status in CONTENT_REFUSALS:
                raise
            raise Unavailable(f"{self.url}/v1/traces: {exc}") from None
        except UserError as exc:  # the key was refused: the traces are not at fault
            raise Unavailable(exc.message) from None

    def close(self) -> None:
        self._http.close()


class LocalBackend:
    """The local project: prompts from the store's versions and labels (the registry), traces
    into the store. The store opens on first use, once, for every thread."""

    kind = "store"

    def __init__(self, config: Config) -> None:
        self.config = config
        self._store: Store | None = None
        self._lock = threading.Lock()

    @property
    def store(self) -> Store:
        with self._lock:
            if self._store is None:
                from ..store import Store

                self._store = Store(self.config.database_url)
            return self._store

    def fetch(self, name: str, label: str | None, version: str | None) -> PromptHandle:
        from ..registry import labels_of, resolve
        from ..store import DatabaseError

        try:
            info = resolve(self.store, name, label or version)
            labels = labels_of(self.store, name)
        except DatabaseError as exc:
            raise Unavailable(f"the store: {type(exc).__name__}") from None
        return PromptHandle(
            name=info.name,
            version=info.version,
            content=info.content,
            labels=_labels_at(labels, info.version),
            label=label,
            source=self.kind,
        )

    def complete(
        self,
        name: str,
        inputs: Mapping[str, Any],
        label: str | None,
        version: str | None,
        model: str | None,
    ) -> Completion:
        """No gateway: the same steps here (resolve, render, call the model); the caller
        records the trace."""
        import asyncio

        from ..api import ask

        handle = self.fetch(name, label, version)
        outcome = asyncio.run(ask(self.config, handle.prompt, inputs, model_id=model, record=False))
        r = outcome.response
        return Completion(
            output=r.text,
            trace_id=None,
            name=name,
            version=handle.version,
            model=outcome.model_id,
            tokens_in=r.usage.input_tokens,
            tokens_out=r.usage.output_tokens,
            cost=outcome.cost,
            latency_ms=round(r.latency_s * 1000, 3),
            variant=outcome.variant,
        )

    def feedback(self, trace_id: str, score: float, comment: str | None) -> None:
        self.store.reviews.add_feedback(trace_id, score, comment, "sdk")

    def send_traces(self, payload: str) -> None:
        import json

        from pydantic import ValidationError

        from ..store import DatabaseError
        from ..traces import TraceIn, record

        try:
            items = [TraceIn.model_validate(t) for t in json.loads(payload)]
        except ValidationError as exc:
            raise Rejected(f"invalid trace: {exc.errors(include_url=False)[0]['msg']}") from None
        try:
            record(self.store, items)
        except DatabaseError as exc:
            raise Unavailable(f"the store: {type(exc).__name__}") from None

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None


def library_handle(
    config: Config | None, name: str, label: str | None, version: str | None
) -> PromptHandle | None:
    """The working file of `name` in the local library, or None (no project, no such file, or
    not the version asked for)."""
    if config is None:
        return None
    from ..library import Library

    try:
        prompt = Library.from_config(config).get(name)
    except UserError:
        return None
    if version is not None and not prompt.version.startswith(version):
        return None
    return PromptHandle(prompt.name, prompt.version, prompt.text, (), label, "library")


def find_project(project: str | Path | None) -> Config | None:
    """The project at `project` (or around the working folder); None when there is none
    around the working folder. A `project` that is not one is a mistake, said at once."""
    from ..config import CONFIG_NAME, load_config

    if project is None:
        config = load_config()
        return config if config.file is not None else None
    folder = Path(project)
    if not folder.is_dir():
        raise UserError("no such folder", file=folder, field="project")
    config = load_config(folder)
    if config.file is None:
        raise UserError(
            f"not a prompteur project: no {CONFIG_NAME} here or above",
            file=folder,
            field="project",
            hint="create one with: prompteur init",
        )
    return config
