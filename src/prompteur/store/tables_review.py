"""The review tables (migration 0007): queues of items that people label against a score,
their labels, and end-user feedback on traces."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .tables import Base, UTCDateTime, utcnow


class ReviewQueue(Base):
    """A set of items to review, made once from a run or from traces (its items are copies:
    the queue stays readable when the run or the traces are gone)."""

    __tablename__ = "review_queues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))  # "label" or "preference"
    score: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(20))  # "run" or "traces"
    ref: Mapped[str | None] = mapped_column(String(200), nullable=True)
    selection: Mapped[str] = mapped_column(String(30))
    blind: Mapped[bool] = mapped_column(Boolean, default=False)
    reviewers: Mapped[int] = mapped_column(Integer, default=1)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("name", name="uq_review_queues_name"),)


class ReviewItem(Base):
    """One thing to judge: inputs, output, expected value and the automatic verdict; for a
    preference queue the two outputs in the order shown (`sides` says which variant is which,
    so that the reveal is exact)."""

    __tablename__ = "review_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("review_queues.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    result_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    trace_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    case_id: Mapped[str | None] = mapped_column(String(400), nullable=True)
    prompt: Mapped[str | None] = mapped_column(String(200), nullable=True)
    version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    model: Mapped[str | None] = mapped_column(String(300), nullable=True)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    expected: Mapped[Any] = mapped_column(JSON, nullable=True)
    output: Mapped[str | None] = mapped_column(Text, nullable=True)
    verdict: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    second: Mapped[str | None] = mapped_column(Text, nullable=True)
    sides: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)

    __table_args__ = (UniqueConstraint("queue_id", "position", name="uq_review_items_position"),)


class ReviewLabel(Base):
    """One reviewer's judgement of one item (at most one per reviewer: relabelling updates)."""

    __tablename__ = "review_labels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("review_items.id", ondelete="CASCADE"))
    queue_id: Mapped[int] = mapped_column(ForeignKey("review_queues.id", ondelete="CASCADE"))
    reviewer: Mapped[str] = mapped_column(String(200))
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    correction: Mapped[str | None] = mapped_column(Text, nullable=True)
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("item_id", "reviewer", name="uq_review_labels_reviewer"),
        Index("ix_review_labels_queue", "queue_id"),
    )


class TraceFeedback(Base):
    """An end user's verdict on a traced call: a score in [0, 1] (1 good) and a comment."""

    __tablename__ = "trace_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trace_id: Mapped[str] = mapped_column(String(32))
    score: Mapped[float] = mapped_column(Float)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    source: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        Index("ix_trace_feedback_trace", "trace_id"),
        Index("ix_trace_feedback_created", "created_at"),
    )
