"""Transcripts: one row per recogniser run over a transmission.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from gateway.store.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transcripts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("transmission_id", sa.Integer, sa.ForeignKey("transmissions.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("engine", sa.String(32), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("words", sa.JSON, nullable=False),
        sa.Column("confidence", sa.Float),
        sa.Column("error", sa.Text),
        sa.Column("origin", sa.String(8), nullable=False),
        sa.Column("latency_s", sa.Float),
        sa.Column("processing_s", sa.Float),
        sa.Column("current", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_transcripts_transmission_id", "transcripts", ["transmission_id"])
    op.create_index("ix_transcripts_current", "transcripts", ["current"])


def downgrade() -> None:
    op.drop_table("transcripts")
