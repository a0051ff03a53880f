"""The office view: one row per gateway (its heartbeat), alert episodes and alert mail.

``gateways``: written by each daemon's heartbeat every ``gateway.heartbeat_s`` (gateway/fleet.py).
``gateway_alerts``: one row per (gateway, kind); an episode is claimed by one conditional
INSERT/UPDATE, so many daemons on one database mail it once (gateway/alerts.py). ``alert_mails``:
the mails to send, retried with back-off like the report's deliveries.

Revision ID: 0023_gateways
Revises: 0022_channels
"""

import sqlalchemy as sa
from alembic import op

from gateway.store.models import UTCDateTime

revision = "0023_gateways"
down_revision = "0022_channels"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gateways",
        sa.Column("gateway_id", sa.String(32), primary_key=True),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("capture_state", sa.String(16), nullable=False),
        sa.Column("capture_up", sa.Boolean, nullable=False),
        sa.Column("last_frame_at", UTCDateTime),
        sa.Column("last_heard_at", UTCDateTime),
        sa.Column("backlog", sa.Integer, nullable=False),
        sa.Column("squelch_stuck", sa.Boolean, nullable=False),
        sa.Column("clock_offset_s", sa.Float, nullable=False),
        sa.Column("heartbeat_s", sa.Float, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "gateway_alerts",
        sa.Column("gateway_id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("episode_start", UTCDateTime, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("ended_at", UTCDateTime),
    )
    op.create_table(
        "alert_mails",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("gateway_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("what", sa.String(8), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("claimed_until", UTCDateTime),
        sa.Column("delivered_at", UTCDateTime),
    )
    op.create_index("ix_alert_mails_next_attempt_at", "alert_mails", ["next_attempt_at"])


def downgrade() -> None:
    op.drop_table("alert_mails")
    op.drop_table("gateway_alerts")
    op.drop_table("gateways")
