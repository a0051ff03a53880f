"""The spine: transmissions and events.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from gateway.store.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transmissions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uid", sa.String(32), nullable=False, unique=True),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("ended_at", UTCDateTime),
        sa.Column("audio_started_at", UTCDateTime, nullable=False),
        sa.Column("duration_s", sa.Float),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("kerchunk", sa.Boolean, nullable=False),
        sa.Column("stuck", sa.Boolean, nullable=False),
        sa.Column("recovered", sa.Boolean, nullable=False),
        sa.Column("audio_path", sa.String(400)),
        sa.Column("temp_path", sa.String(400)),
        sa.Column("sha256", sa.String(64)),
        sa.Column("audio_bytes", sa.Integer),
        sa.Column("audio_duration_s", sa.Float),
        sa.Column("peak_dbfs", sa.Float),
        sa.Column("rms_dbfs", sa.Float),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("station", sa.String(100)),
        sa.Column("ani", sa.String(8)),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_transmissions_started_at", "transmissions", ["started_at"])
    op.create_index("ix_transmissions_status", "transmissions", ["status"])
    op.create_index("ix_transmissions_station", "transmissions", ["station"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("transmission_id", sa.Integer, sa.ForeignKey("transmissions.id")),
    )
    op.create_index("ix_events_at", "events", ["at"])


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("transmissions")
