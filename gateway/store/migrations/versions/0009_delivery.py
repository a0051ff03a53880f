"""Report mail delivery state: one row per filed revision to mail, pending until delivered.

Revision ID: 0009_delivery
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from gateway.store.models import UTCDateTime

revision = "0009_delivery"
down_revision = "0007_durability"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("revision_id", sa.Integer, sa.ForeignKey("report_revisions.id"), nullable=False,
                  unique=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_attempt_at", UTCDateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("delivered_at", UTCDateTime),
    )
    op.create_index("ix_report_deliveries_next_attempt_at", "report_deliveries", ["next_attempt_at"])


def downgrade() -> None:
    op.drop_table("report_deliveries")
