"""The gateway: render a labelled version, call the model with the server's provider key,
record the call as a trace, answer with the output. The client never holds a provider key."""

from __future__ import annotations

import logging
import os
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from .. import traces
from ..errors import UserError
from .deps import Principal, require
from .errors import ApiError, store_outage, user_error
from .routes_prompts import NOT_FOUND, PromptName
from .schemas import CompleteIn, CompleteOut, ErrorOut, UsageOut
from .versions import parsed, resolve_or_404

if TYPE_CHECKING:
    from ..config import Config
    from ..models.base import Model, Response

log = logging.getLogger("prompteur.server")
router = APIRouter(prefix="/v1/prompts", tags=["gateway"])
DEFAULT_LABEL = "production"


@router.post(
    "/{name}/complete",
    summary="Call the model with a labelled version (the gateway); records a trace",
    description="Resolves `label` (default `production`) or `version`, renders it with "
    "`inputs`, calls the model (the request's, else the prompt's, else the project's default) "
    "with the provider key held by the server, records the call as a trace and returns the "
    "output with the version, the trace id, latency and tokens. A provider failure is a 502 "
    "(the trace records the error).",
    response_model=CompleteOut,
    responses={**NOT_FOUND, 422: {"model": ErrorOut}, 502: {"model": ErrorOut}},
)
async def complete(
    name: PromptName, body: CompleteIn, principal: Principal = Depends(require("write"))
) -> CompleteOut:
    from ..api import choose_model
    from ..models.base import ModelError
    from ..models.pricing import cost as cost_of
    from ..models.providers import check_endpoint

    if body.label and body.version:
        raise ApiError(422, "give a label or a version, not both", field="version")
    label = None if body.version else body.label or DEFAULT_LABEL
    ref = body.version or label
    info = await run_in_threadpool(resolve_or_404, principal.store, name, ref)
    try:
        # Parsing and rendering are CPU work a stored template can make costly (bounded by
        # the sandbox): off the event loop.
        prompt = await run_in_threadpool(parsed, info)
        model_id = choose_model(principal.config, prompt, body.model)
        # The prompt's variant for the model in use (the version is the file's).
        prompt = prompt.for_model(model_id)
        request = await run_in_threadpool(prompt.request, body.inputs)
    except UserError as exc:
        raise user_error(exc, 422) from None
    try:
        # A URL or file named by the caller, or by a version stored through the web, would
        # make the server send its key to any host or open any file: the project's only.
        check_endpoint(model_id, principal.config)
    except UserError as exc:
        raise user_error(exc, 422) from None
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    response: Response | None = None
    error: str | None = None
    try:
        model = _model(principal, model_id)
        response = await model.generate(request)
    except UserError as exc:  # the server lacks the provider's key or model file
        error = f"the server cannot call '{model_id}': {exc.message}"
        if exc.hint:
            error += f" (on the server: {exc.hint})"
    except ModelError as exc:
        error = f"the model provider failed: {exc}"
    # The model's own time, as runs record it: waiting for a slot of the embedded model (or
    # for its first load) is not the model's latency, and monitoring would alarm on load.
    latency_ms = (
        response.latency_s * 1000 if response is not None else (time.perf_counter() - t0) * 1000
    )
    if error is not None:
        error = _redact(error, principal.config, model_id)
    cost = cost_of(model_id, response.usage, principal.config) if response else None
    trace = _trace(
        principal,
        info.name,
        info.version,
        label,
        model_id,
        prompt.variant,
        body.inputs,
        response,
        error,
        latency_ms,
        cost,
        started,
    )
    unstored = None
    try:
        await run_in_threadpool(traces.record, principal.store, [trace])
    except Exception as exc:
        if not store_outage(exc):
            raise
        # The call happened and its answer is worth more than the store's hiccup: the trace
        # goes back with it, for the client to deliver later (the SDK does).
        log.warning("gateway: trace %s not stored: %s", trace.trace_id, type(exc).__name__)
        unstored = trace.model_dump(mode="json", exclude_none=True)
    if response is None:
        raise ApiError(502, error or "the model provider failed", field="model")
    return CompleteOut(
        name=info.name,
        version=info.version,
        label=label,
        model=model_id,
        variant=prompt.variant,
        output=response.text,
        finish_reason=response.finish_reason,
        usage=UsageOut(
            input_tokens=response.usage.input_tokens, output_tokens=response.usage.output_tokens
        ),
        latency_ms=round(latency_ms, 2),
        cost_usd=cost,
        trace_id=str(trace.trace_id),
        trace=unstored,
    )


def _model(principal: Principal, model_id: str) -> Model:
    """The project's model instance for this id, made once (it pools its connections)."""
    return principal.models.get(model_id)


def _redact(text: str, config: Config, model_id: str) -> str:
    """`text` without the provider's key, whatever path the key took into it."""
    from ..models.http import redact
    from ..models.providers import key_env, parse_model_id

    env = key_env(parse_model_id(model_id, config).provider, config)
    return redact(text, os.environ.get(env) if env else None)


def _trace(
    principal: Principal,
    name: str,
    version: str,
    label: str | None,
    model_id: str,
    variant: str | None,
    inputs: dict[str, object],
    response: Response | None,
    error: str | None,
    latency_ms: float,
    cost: float | None,
    started: datetime,
) -> traces.TraceIn:
    from ..traces.model import new_span_id, new_trace_id

    usage = response.usage if response else None
    return traces.TraceIn(
        prompt=name,
        version=version,
        label=label,
        model=model_id,
        operation="chat",
        inputs=dict(inputs),
        output=response.text if response else None,
        error=error,
        latency_ms=round(latency_ms, 3),
        tokens_in=usage.input_tokens if usage else None,
        tokens_out=usage.output_tokens if usage else None,
        cost=cost,
        started_at=started,
        trace_id=new_trace_id(),
        span_id=new_span_id(),
        metadata={
            "project": principal.project,
            "key_id": principal.key_id,
            **({"variant": variant} if variant else {}),
        },
        source="gateway",
    )
