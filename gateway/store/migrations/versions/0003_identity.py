"""Identity: DTMF ANI details, how a station was identified, operator assignments.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from gateway.store.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transmissions") as batch:
        batch.add_column(sa.Column("ani_position", sa.String(8)))
        batch.add_column(sa.Column("dtmf", sa.JSON))
        batch.add_column(sa.Column("identity_source", sa.String(16)))
        batch.add_column(sa.Column("identity_confidence", sa.Float))
        batch.add_column(sa.Column("identity_reason", sa.Text))
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("transmission_id", sa.Integer, sa.ForeignKey("transmissions.id"), nullable=False),
        sa.Column("station", sa.String(100)),
        sa.Column("by", sa.String(100), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )
    op.create_index("ix_assignments_transmission_id", "assignments", ["transmission_id"])


def downgrade() -> None:
    op.drop_table("assignments")
    with op.batch_alter_table("transmissions") as batch:
        for c in ("identity_reason", "identity_confidence", "identity_source", "dtmf", "ani_position"):
            batch.drop_column(c)
