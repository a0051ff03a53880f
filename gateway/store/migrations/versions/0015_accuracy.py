"""A transmission whose speech came back without words: flagged "perlu didengar" (needs listening).

Revision ID: 0015_accuracy
Revises: 0009_delivery (the issue asked for "0006"; chained after this branch's head so that the
schema has one head here; the lead re-chains at merge)
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_accuracy"
down_revision = "0009_delivery"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transmissions") as batch:
        batch.add_column(sa.Column("needs_listening", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("transmissions") as batch:
        batch.drop_column("needs_listening")
