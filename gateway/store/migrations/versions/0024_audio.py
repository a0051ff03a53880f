"""Recordings in the database, for the office: ``transmission_audio`` (docs/channels.md).

With ``store.audio_in_db`` on, a gateway pushes each completed recording's Ogg Opus bytes into
``transmission_audio`` after the row is committed, in a separate short write (gateway/audiostore.py);
the web UI and ``ht-gateway worker`` read that copy when the file is not on their machine, checking
its sha256 against the transmission row's.

``transmissions.audio_push_pending`` marks the rows still to push (set when the writer or recovery
completes a row while ``store.audio_in_db`` is on, cleared in the push's transaction); a partial
index by gateway makes finding them one seek however large the table. Rows stored before this
revision are not marked (their recordings stay on the gateway's disk).

Revision ID: 0024_audio
Revises: 0023_gateways
"""

import sqlalchemy as sa
from alembic import op

revision = "0024_audio"
down_revision = "0023_gateways"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transmission_audio",
        sa.Column("transmission_id", sa.Integer(), sa.ForeignKey("transmissions.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.add_column("transmissions", sa.Column("audio_push_pending", sa.Boolean(), nullable=False,
                                             server_default=sa.false()))
    op.create_index("ix_transmissions_audio_push_pending", "transmissions", ["gateway_id", "id"],
                    sqlite_where=sa.text("audio_push_pending = 1"),
                    postgresql_where=sa.text("audio_push_pending"))


def downgrade() -> None:  # plain ALTER TABLE (SQLite >= 3.35), as 0015
    op.drop_index("ix_transmissions_audio_push_pending", "transmissions")
    op.drop_column("transmissions", "audio_push_pending")
    op.drop_table("transmission_audio")
