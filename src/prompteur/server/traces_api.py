"""Traces over HTTP: ingestion as JSON batches and as OTLP/HTTP (protobuf or JSON, the
OpenTelemetry GenAI conventions), queries with filters and pagination, monitoring per version.

Every route needs a key of the project (`write` to send traces, `read` to look at them); the
traces go to, and come from, that project's store only.
"""

from __future__ import annotations

import gzip
import zlib
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from ..errors import UserError
from ..traces.model import MAX_BATCH, TraceIn
from .deps import Principal, require
from .errors import ApiError, user_error

router = APIRouter(tags=["traces"])
READ = Depends(require("read"))
WRITE = Depends(require("write"))
MAX_PAGE = 500
PROTOBUF = "application/x-protobuf"

# A filter text: printable, no NUL (PostgreSQL refuses it in a query).
Text = Annotated[str | None, Query(max_length=300, pattern=r"^[^\x00-\x1f]*$")]


class TraceBatch(BaseModel):
    traces: list[TraceIn] = Field(max_length=MAX_BATCH)


class Accepted(BaseModel):
    accepted: int = Field(description="traces recorded (a span sent twice is stored once)")


class TraceList(BaseModel):
    traces: list[dict[str, Any]]
    next_cursor: int | None = Field(
        description="pass it back as `cursor` for the next (older) page; null at the end"
    )


class FlagIn(BaseModel):
    flagged: bool = True
    note: str | None = Field(default=None, max_length=2000)


class MonitorOut(BaseModel):
    since: str
    until: str
    bucket: str
    series: list[dict[str, Any]]
    alerts: list[dict[str, Any]]


@router.post(
    "/v1/traces",
    summary="Record a batch of traces",
    response_model=Accepted,
)
def ingest(batch: TraceBatch, principal: Principal = WRITE) -> Accepted:
    from ..traces import record

    return Accepted(accepted=record(principal.store, batch.traces))


def _decompress(body: bytes, encoding: str, max_body: int) -> bytes:
    """The body inflated, at most `max_body` bytes once decompressed (a gzip bomb is refused
    without being inflated past the bound)."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "deflate"):
        raise ApiError(415, f"unsupported Content-Encoding {encoding!r}", field="Content-Encoding")
    wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(body, max_body + 1)
    except (zlib.error, gzip.BadGzipFile):
        raise ApiError(400, f"the body is not valid {encoding}", field="body") from None
    if len(out) > max_body:
        raise ApiError(413, "the body is too large once decompressed", field="body")
    return out


@router.post(
    "/otlp/v1/traces",
    summary="Record spans sent by an OpenTelemetry exporter (OTLP/HTTP)",
    description="An `ExportTraceServiceRequest` as protobuf (`application/x-protobuf`) or "
    "JSON (`application/json`), gzip allowed. GenAI spans (`gen_ai.*`, `prompteur.*` "
    "attributes) become traces; other spans are skipped. The number recorded is in the "
    "`X-Prompteur-Accepted` header.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                PROTOBUF: {"schema": {"type": "string", "format": "binary"}},
                "application/json": {"schema": {"type": "object"}},
            },
        }
    },
    responses={200: {"content": {PROTOBUF: {}, "application/json": {}}}},
)
async def ingest_otlp(request: Request, principal: Principal = WRITE) -> Response:
    from ..traces import record
    from ..traces.otlp import decode, traces_from_spans

    # The body's size on the wire is bounded by the server's guard; inflated, here.
    body = _decompress(
        await request.body(),
        request.headers.get("content-encoding", ""),
        request.app.state.max_body,
    )
    content_type = request.headers.get("content-type", "application/json")
    try:
        # Decoding is CPU work a hostile body can make costly: off the event loop.
        spans = await run_in_threadpool(decode, body, content_type)
        found, _skipped = traces_from_spans(spans)
    except UserError as exc:
        status = 415 if exc.field == "Content-Type" else 400
        raise user_error(exc, status) from None
    accepted = await run_in_threadpool(record, principal.store, found) if found else 0
    headers = {"X-Prompteur-Accepted": str(accepted)}
    if content_type.split(";")[0].strip().lower() in (PROTOBUF, "application/protobuf"):
        # An empty ExportTraceServiceResponse: full success.
        return Response(b"", media_type=PROTOBUF, headers=headers)
    return JSONResponse({}, headers=headers)


def _when(text: str | None, field: str) -> datetime | None:
    from ..traces.window import parse_since

    if text is None:
        return None
    try:
        return parse_since(text, field=field)
    except UserError as exc:
        raise user_error(exc) from None


@router.get("/v1/traces", summary="Traces, newest first, filtered", response_model=TraceList)
def list_traces(
    prompt: Text = None,
    version: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9]+$")] = None,
    label: Text = None,
    model: Text = None,
    since: Annotated[
        str | None, Query(max_length=40, description="7d, 12h… or an ISO date")
    ] = None,
    until: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[
        str | None,
        Query(pattern=r"^(failing|passing|error|scored|unscored|flagged)$"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    principal: Principal = READ,
) -> TraceList:
    from ..traces import TraceFilter
    from ..traces import list_traces as query

    where = TraceFilter(
        prompt=prompt,
        version=version,
        label=label,
        model=model,
        since=_when(since, "since"),
        until=_when(until, "until"),
        status=status,
    )
    page = query(principal.store, where, limit=limit, before=cursor)
    return TraceList(traces=[t.to_dict() for t in page.items], next_cursor=page.next_cursor)


TraceRef = Annotated[
    str,
    PathParam(
        min_length=1,
        max_length=32,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="A trace's row id, or its trace id",
    ),
]


@router.get("/v1/traces/{ref}", summary="One trace")
def get_trace(ref: TraceRef, principal: Principal = READ) -> dict[str, Any]:
    from ..traces import get_trace as one

    try:
        return one(principal.store, ref).to_dict()
    except UserError as exc:
        raise user_error(exc, 404) from None


@router.post("/v1/traces/{trace}/flag", summary="Flag a trace (or clear its flag)")
def flag_trace(
    trace: Annotated[int, PathParam(ge=1, le=2**31 - 1)],
    body: FlagIn,
    principal: Principal = WRITE,
) -> dict[str, Any]:
    from ..traces import set_flag

    try:
        set_flag(principal.store, [trace], body.flagged, body.note)
    except UserError as exc:
        raise user_error(exc, 404) from None
    return {"id": trace, "flagged": body.flagged}


def _monitor(principal: Principal, prompt: str | None, since: str, bucket: str) -> MonitorOut:
    from ..traces.alerts import find_alerts
    from ..traces.monitor import version_stats

    start = _when(since, "since")
    assert start is not None
    report = version_stats(principal.store, since=start, prompt=prompt, bucket=bucket)
    try:
        alerts = find_alerts(principal.config, principal.store, prompt=prompt, embeddings=False)
    except UserError as exc:
        raise user_error(exc) from None
    data = report.to_dict()
    return MonitorOut(**data, alerts=[a.to_dict() for a in alerts])


Since = Annotated[str, Query(max_length=40, description="7d, 12h… or an ISO date")]
BucketQ = Annotated[str, Query(pattern=r"^(hour|day)$")]


@router.get(
    "/v1/monitor",
    summary="Per prompt version over time: volume, pass rate, latency, tokens, cost; alerts",
    response_model=MonitorOut,
)
def monitor_all(
    since: Since = "7d", bucket: BucketQ = "hour", principal: Principal = READ
) -> MonitorOut:
    return _monitor(principal, None, since, bucket)


@router.get(
    "/v1/monitor/{name}",
    summary="One prompt's versions over time, and its alerts",
    response_model=MonitorOut,
)
def monitor_prompt(
    name: Annotated[str, PathParam(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")],
    since: Since = "7d",
    bucket: BucketQ = "hour",
    principal: Principal = READ,
) -> MonitorOut:
    return _monitor(principal, name, since, bucket)
