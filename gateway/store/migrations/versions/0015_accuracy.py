"""A transmission whose speech came back without words: flagged "perlu didengar" (needs listening).

Revision ID: 0015_accuracy
Revises: 0009_delivery (the issue asked for "0006"; chained after this branch's head so that the
schema has one head here; the lead re-chains at merge)
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_accuracy"
down_revision = "0011_talkback"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("transmissions",
                  sa.Column("needs_listening", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:  # plain ALTER TABLE (SQLite >= 3.35): no table copy under foreign keys
    op.drop_column("transmissions", "needs_listening")
