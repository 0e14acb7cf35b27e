"""What a trace is on the way in (`TraceIn`, validated) and on the way out (`TraceRecord`)."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from .scrub import clean_text

# A request may carry at most this many traces: bigger batches are split by the client.
MAX_BATCH = 10_000


class ScoreIn(BaseModel):
    """One check's verdict on a trace (given by the caller, or by online scoring)."""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(max_length=200)
    passed: bool | None = None
    score: float | None = Field(default=None, ge=0, le=1, allow_inf_nan=False)
    reason: str = ""
    weight: float = Field(default=1.0, ge=0, allow_inf_nan=False)


class TraceIn(BaseModel):
    """One production call, as the SDK, the gateway or an OTLP exporter reports it.

    Unknown fields are kept in `metadata` rather than refused, so that a newer client never
    loses a trace to an older server. Field lengths match the store's columns: a value that
    does not fit is a 422 naming the field, never a database error.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True, allow_inf_nan=False)

    prompt: str | None = Field(
        default=None,
        max_length=200,
        validation_alias=AliasChoices("prompt", "prompt_name", "name"),
    )
    version: str | None = Field(default=None, max_length=64)
    label: str | None = Field(default=None, max_length=100)
    model: str | None = Field(default=None, max_length=300)
    operation: str | None = Field(default=None, max_length=50)
    inputs: dict[str, Any] = Field(default_factory=dict)
    output: str | None = None
    error: str | None = None
    latency_ms: float | None = Field(default=None, ge=0)
    tokens_in: int | None = Field(
        default=None,
        ge=0,
        le=2**31 - 1,  # the column is a 32-bit INTEGER on PostgreSQL
        validation_alias=AliasChoices("tokens_in", "input_tokens"),
    )
    tokens_out: int | None = Field(
        default=None,
        ge=0,
        le=2**31 - 1,  # the column is a 32-bit INTEGER on PostgreSQL
        validation_alias=AliasChoices("tokens_out", "output_tokens"),
    )
    cost: float | None = Field(default=None, ge=0)
    started_at: datetime | None = None
    trace_id: str | None = Field(default=None, min_length=1, max_length=32)
    span_id: str | None = Field(default=None, min_length=1, max_length=16)
    parent_span_id: str | None = Field(default=None, max_length=16)
    metadata: dict[str, Any] = Field(default_factory=dict)
    scores: list[ScoreIn] | None = None
    expected: Any = None
    flagged: bool = False
    source: str = Field(default="api", max_length=20)

    @field_validator(
        "prompt",
        "version",
        "label",
        "model",
        "operation",
        "trace_id",
        "span_id",
        "parent_span_id",
        "source",
    )
    @classmethod
    def _storable(cls, value: str | None) -> str | None:
        return clean_text(value) if value is not None else None

    @field_validator("scores", mode="before")
    @classmethod
    def _scores_mapping(cls, value: Any) -> Any:
        # `{"helpful": 0.8, "polite": true}` is the short form people write by hand.
        if isinstance(value, dict):
            return [
                {"name": k, "passed": v}
                if isinstance(v, bool)
                else {"name": k, "score": v, "passed": None}
                for k, v in value.items()
            ]
        return value


@dataclass
class TraceRecord:
    """A stored trace."""

    id: int
    trace_id: str
    span_id: str
    parent_span_id: str | None
    prompt: str | None
    version: str | None
    label: str | None
    model: str | None
    operation: str | None
    source: str
    inputs: dict[str, Any]
    output: str | None
    error: str | None
    latency_ms: float | None
    tokens_in: int | None
    tokens_out: int | None
    cost: float | None
    meta: dict[str, Any]
    flagged: bool
    scores: list[dict[str, Any]] | None
    passed: bool | None
    score: float | None
    scored_at: datetime | None
    started_at: datetime
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["metadata"] = data.pop("meta")
        for key in ("started_at", "created_at", "scored_at"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        return data


def new_trace_id() -> str:
    return uuid.uuid4().hex


def new_span_id() -> str:
    return secrets.token_hex(8)


def utc(value: datetime | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
