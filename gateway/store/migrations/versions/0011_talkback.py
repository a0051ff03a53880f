"""The transmit queue: what the gateway is to say on the radio, and what became of it.

Revision ID: 0011_talkback
Revises: 0009_delivery
"""

import sqlalchemy as sa
from alembic import op

from gateway.store.models import UTCDateTime

revision = "0011_talkback"
down_revision = "0009_delivery"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transmit_queue",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("dedupe", sa.String(100), unique=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("parts", sa.JSON, nullable=False),
        sa.Column("by", sa.String(100), nullable=False),
        sa.Column("station", sa.String(100)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("keyed_at", UTCDateTime),
        sa.Column("unkeyed_at", UTCDateTime),
        sa.Column("error", sa.Text),
        sa.Column("transmission_id", sa.Integer, sa.ForeignKey("transmissions.id")),
    )
    op.create_index("ix_transmit_queue_created_at", "transmit_queue", ["created_at"])
    op.create_index("ix_transmit_queue_status", "transmit_queue", ["status"])


def downgrade() -> None:
    op.drop_table("transmit_queue")
