"""A follow-up's note: what the office wrote about it in the web UI (status, OPD and note).

Revision ID: 0017_desk
Revises: 0015_accuracy (the lead re-chains at merge)
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_desk"
down_revision = "0015_accuracy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("followups", sa.Column("note", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:  # plain ALTER TABLE (SQLite >= 3.35)
    op.drop_column("followups", "note")
