"""Gateways and channels, and transcription jobs that workers claim (docs/channels.md).

Every transmission carries the ``gateway.id`` and ``channel.id`` it was heard on. Rows stored before
this revision get the ids of the configuration the upgrade runs with (``run``, ``process`` and
``db upgrade`` pass them; without one, the keys' defaults ``gw1`` / ``ch1``).

A transmission's transcription job lives on its row (gateway/jobs.py): ``asr_pending`` marks it (set
here on complete rows without a current transcript: what was pending before), ``asr_redo`` asks for
a new transcript; ``asr_claimed_by`` / ``asr_lease_until`` hold one
worker's claim; ``asr_attempts`` counts claims; ``asr_priority`` orders jobs (lower first).

Revision ID: 0022_channels
Revises: 0020_webspeed (the file 0021_webspeed.py: its revision id is "0020_webspeed")
"""

import sqlalchemy as sa
from alembic import context, op

revision = "0022_channels"
down_revision = "0020_webspeed"
branch_labels = None
depends_on = None

DEFAULT_GATEWAY_ID, DEFAULT_CHANNEL_ID = "gw1", "ch1"  # gateway/store/models.py, frozen here


def upgrade() -> None:
    op.add_column("transmissions", sa.Column("gateway_id", sa.String(32), nullable=False,
                                             server_default=DEFAULT_GATEWAY_ID))
    op.add_column("transmissions", sa.Column("channel_id", sa.String(32), nullable=False,
                                             server_default=DEFAULT_CHANNEL_ID))
    op.add_column("transmissions", sa.Column("asr_pending", sa.Boolean(), nullable=False,
                                             server_default=sa.false()))
    op.add_column("transmissions", sa.Column("asr_priority", sa.Integer(), nullable=False,
                                             server_default="0"))
    op.add_column("transmissions", sa.Column("asr_redo", sa.Boolean(), nullable=False,
                                             server_default=sa.false()))
    op.add_column("transmissions", sa.Column("asr_claimed_by", sa.String(100), nullable=True))
    op.add_column("transmissions", sa.Column("asr_lease_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("transmissions", sa.Column("asr_attempts", sa.Integer(), nullable=False,
                                             server_default="0"))
    ids = context.config.attributes
    gateway_id = ids.get("gateway_id", DEFAULT_GATEWAY_ID)
    channel_id = ids.get("channel_id", DEFAULT_CHANNEL_ID)
    if (gateway_id, channel_id) != (DEFAULT_GATEWAY_ID, DEFAULT_CHANNEL_ID):
        op.get_bind().execute(sa.text("UPDATE transmissions SET gateway_id = :g, channel_id = :c"),
                              {"g": gateway_id, "c": channel_id})
    op.get_bind().execute(sa.text(
        "UPDATE transmissions SET asr_pending = :t WHERE status = 'complete' AND NOT EXISTS (SELECT 1 "
        "FROM transcripts WHERE transcripts.transmission_id = transmissions.id AND transcripts.current)"),
        {"t": True})
    op.create_index("ix_transmissions_asr_pending", "transmissions", ["asr_priority", "started_at", "id"],
                    sqlite_where=sa.text("asr_pending = 1"), postgresql_where=sa.text("asr_pending"))
    op.create_index("ix_transmissions_channel_started_at", "transmissions", ["channel_id", "started_at"])
    op.create_index("ix_transmissions_asr_claimed_by", "transmissions", ["asr_claimed_by"],
                    sqlite_where=sa.text("asr_claimed_by IS NOT NULL"),
                    postgresql_where=sa.text("asr_claimed_by IS NOT NULL"))


def downgrade() -> None:  # plain ALTER TABLE (SQLite >= 3.35), as 0015
    op.drop_index("ix_transmissions_asr_claimed_by", "transmissions")
    op.drop_index("ix_transmissions_channel_started_at", "transmissions")
    op.drop_index("ix_transmissions_asr_pending", "transmissions")
    for column in ("asr_attempts", "asr_lease_until", "asr_claimed_by", "asr_redo", "asr_priority",
                   "asr_pending", "channel_id", "gateway_id"):
        op.drop_column("transmissions", column)
