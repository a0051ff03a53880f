"""Reports: filed revisions, follow-ups, transcript verification.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from gateway.store.models import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transcripts") as batch:
        batch.add_column(sa.Column("verified", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("verified_by", sa.String(100)))
        batch.add_column(sa.Column("verified_at", UTCDateTime))
    op.create_table(
        "report_revisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("filed_at", UTCDateTime, nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("content", sa.JSON, nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("emailed_at", UTCDateTime),
        sa.UniqueConstraint("day", "revision"),
    )
    op.create_index("ix_report_revisions_day", "report_revisions", ["day"])
    op.create_table(
        "followups",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("station", sa.String(100), nullable=False),
        sa.Column("category", sa.String(40)),
        sa.Column("item", sa.String(200), nullable=False),
        sa.Column("phrase", sa.Text, nullable=False),
        sa.Column("transmission_id", sa.Integer, sa.ForeignKey("transmissions.id"), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("opd", sa.String(100)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("transmission_id", "item"),
    )
    op.create_index("ix_followups_day", "followups", ["day"])


def downgrade() -> None:
    op.drop_table("followups")
    op.drop_table("report_revisions")
    with op.batch_alter_table("transcripts") as batch:
        for c in ("verified_at", "verified_by", "verified"):
            batch.drop_column(c)
