"""The registry's tables (migration 0004): labels and the audit log of their moves."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .tables import Base, UTCDateTime, utcnow


class PromptLabel(Base):
    """A label (`production`, `staging`, ...) of a prompt, pointing at one stored version."""

    __tablename__ = "prompt_labels"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    label: Mapped[str] = mapped_column(String(100), primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    # The `seq` of the move that set this holder: the head of the label's history.
    seq: Mapped[int] = mapped_column(Integer)
    moved_by: Mapped[str] = mapped_column(String(200))
    moved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        ForeignKeyConstraint(
            ["name", "version"],
            ["prompt_versions.name", "prompt_versions.version"],
            name="fk_prompt_labels_version",
        ),
    )


class LabelMove(Base):
    """One entry of the audit log: a label set, promoted, rolled back or removed."""

    __tablename__ = "label_moves"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(100))
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))
    from_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    to_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("name", "label", "seq", name="uq_label_moves_seq"),
        Index("ix_label_moves_created", "created_at"),
    )
