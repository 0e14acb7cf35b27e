"""review_queues: review queues, items, labels and end-user feedback on traces

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_queues",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("score", sa.String(100), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("ref", sa.String(200), nullable=True),
        sa.Column("selection", sa.String(30), nullable=False),
        sa.Column("blind", sa.Boolean(), nullable=False),
        sa.Column("reviewers", sa.Integer(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("name", name="uq_review_queues_name"),
    )
    op.create_table(
        "review_items",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "queue_id",
            sa.Integer(),
            sa.ForeignKey("review_queues.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=True),
        sa.Column("trace_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.String(400), nullable=True),
        sa.Column("prompt", sa.String(200), nullable=True),
        sa.Column("version", sa.String(64), nullable=True),
        sa.Column("model", sa.String(300), nullable=True),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("expected", sa.JSON(), nullable=True),
        sa.Column("output", sa.Text(), nullable=True),
        sa.Column("verdict", sa.JSON(), nullable=True),
        sa.Column("second", sa.Text(), nullable=True),
        sa.Column("sides", sa.JSON(), nullable=True),
        sa.UniqueConstraint("queue_id", "position", name="uq_review_items_position"),
    )
    op.create_table(
        "review_labels",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "item_id",
            sa.Integer(),
            sa.ForeignKey("review_items.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "queue_id",
            sa.Integer(),
            sa.ForeignKey("review_queues.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("correction", sa.Text(), nullable=True),
        sa.Column("skipped", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("item_id", "reviewer", name="uq_review_labels_reviewer"),
    )
    op.create_index("ix_review_labels_queue", "review_labels", ["queue_id"])
    op.create_table(
        "trace_feedback",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("source", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_trace_feedback_trace", "trace_feedback", ["trace_id"])
    op.create_index("ix_trace_feedback_created", "trace_feedback", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_trace_feedback_created", table_name="trace_feedback")
    op.drop_index("ix_trace_feedback_trace", table_name="trace_feedback")
    op.drop_table("trace_feedback")
    op.drop_index("ix_review_labels_queue", table_name="review_labels")
    op.drop_table("review_labels")
    op.drop_table("review_items")
    op.drop_table("review_queues")
