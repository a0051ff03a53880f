"""Durability: the ``cut_short`` flag (a transmission the gateway stopped in the middle of).

Transmission uids were already unique; ``process`` now derives them from the input file's content
and the first sample's time, so a second run of the same file finds what it stored.

Revision ID: 0007_durability
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_durability"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("transmissions",
                  sa.Column("cut_short", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:  # plain ALTER TABLE (SQLite >= 3.35): no table copy under foreign keys
    op.drop_column("transmissions", "cut_short")
