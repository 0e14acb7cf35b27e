"""traces: production calls recorded by the SDK, gateway and OTLP ingest

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "traces",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("span_id", sa.String(16), nullable=False),
        sa.Column("parent_span_id", sa.String(16), nullable=True),
        sa.Column("prompt", sa.String(200), nullable=True),
        sa.Column("version", sa.String(64), nullable=True),
        sa.Column("label", sa.String(100), nullable=True),
        sa.Column("model", sa.String(300), nullable=True),
        sa.Column("operation", sa.String(50), nullable=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("output", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("tokens_in", sa.Integer(), nullable=True),
        sa.Column("tokens_out", sa.Integer(), nullable=True),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        # A retried batch must not count a call twice: spans are unique within a trace.
        sa.UniqueConstraint("trace_id", "span_id", name="uq_traces_span"),
    )
    op.create_index("ix_traces_started", "traces", ["started_at"])
    op.create_index("ix_traces_prompt_time", "traces", ["prompt", "started_at"])
    op.create_index("ix_traces_version_time", "traces", ["prompt", "version", "started_at"])
    op.create_index("ix_traces_unscored", "traces", ["prompt", "scored_at"])


def downgrade() -> None:
    op.drop_index("ix_traces_unscored", table_name="traces")
    op.drop_index("ix_traces_version_time", table_name="traces")
    op.drop_index("ix_traces_prompt_time", table_name="traces")
    op.drop_index("ix_traces_started", table_name="traces")
    op.drop_table("traces")
