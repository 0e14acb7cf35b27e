"""results: time in queue apart from the model's time; how the output contract was enforced

Revision ID: 0008_result_timing
Revises: 0007 (review queues)
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# A name rather than a bare number: revisions written side by side never share an id.
revision = "0008_result_timing"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # latency_s keeps its name and now means the model's own time; rows written before this
    # revision have no queue_s (their latency_s may include waiting).
    with op.batch_alter_table("results") as batch:
        batch.add_column(sa.Column("queue_s", sa.Float(), nullable=True))
        batch.add_column(sa.Column("enforcement", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("results") as batch:
        batch.drop_column("enforcement")
        batch.drop_column("queue_s")
