"""The store's tables. Changed only together with a new Alembic migration in migrations/."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always an aware UTC datetime, in SQLite as in PostgreSQL.

    SQLite stores DateTime as text without its offset and gives back naive datetimes, and
    PostgreSQL gives them back in the session's time zone: both are normalised here. A naive
    value given to the store is taken as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class PromptVersion(Base):
    """An immutable prompt version: the file's content under its content hash."""

    __tablename__ = "prompt_versions"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_prompt_versions_version", "version"),)


class Run(Base):
    """One execution of a suite."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    suite: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(20), default="running")
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    total: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Result(Base):
    """One (prompt version, model, case, repeat) of a run: written as soon as it is known."""

    __tablename__ = "results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    prompt: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(300))
    case_id: Mapped[str] = mapped_column(String(200))
    repeat: Mapped[int] = mapped_column(Integer)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    expected: Mapped[Any] = mapped_column(JSON, nullable=True)
    output: Mapped[str | None] = mapped_column(Text, nullable=True)
    passed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    latency_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    cached: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    tags: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # migration 0007: latency_s is the model's time, queue_s the wait before it; how the
    # output was held to the prompt's schema
    queue_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    enforcement: Mapped[str | None] = mapped_column(String(40), nullable=True)

    __table_args__ = (
        UniqueConstraint("run_id", "version", "model", "case_id", "repeat", name="uq_results_work"),
    )


class CachedResponse(Base):
    """A model's response, keyed by model, parameters, rendered messages and repeat index."""

    __tablename__ = "response_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# ---- probes (migration 0003) ------------------------------------------------------------


class ProbeFinding(Base):
    """A weakness a probe found, with its evidence."""

    __tablename__ = "probe_findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    probe: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(50))
    severity: Mapped[str] = mapped_column(String(20))
    model: Mapped[str] = mapped_column(String(300))
    case_id: Mapped[str] = mapped_column(String(400))
    origin: Mapped[str] = mapped_column(String(200))
    why: Mapped[str] = mapped_column(Text)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    output: Mapped[str | None] = mapped_column(Text, nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_probe_findings_run", "run_id", "probe"),)


class ProbeReport(Base):
    """The report of a probe run, as the detectors left it (rendered again by `show`)."""

    __tablename__ = "probe_reports"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class JudgeCalibration(Base):
    """How well a judge agrees with human labels on a rubric."""

    __tablename__ = "judge_calibrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    judge: Mapped[str] = mapped_column(String(300))
    rubric: Mapped[str] = mapped_column(Text)
    rubric_hash: Mapped[str] = mapped_column(String(64))
    labels: Mapped[str] = mapped_column(String(1000))
    n: Mapped[int] = mapped_column(Integer)
    accuracy: Mapped[float] = mapped_column(Float)
    kappa: Mapped[float | None] = mapped_column(Float, nullable=True)
    kappa_low: Mapped[float | None] = mapped_column(Float, nullable=True)
    kappa_high: Mapped[float | None] = mapped_column(Float, nullable=True)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_judge_calibrations_judge", "judge", "rubric_hash"),)


# The registry, trace and auth tables live in their own modules; importing them here keeps
# Base.metadata complete for whoever compares it with the migrations.
from . import tables_auth, tables_registry, tables_review, tables_traces  # noqa: E402, F401
