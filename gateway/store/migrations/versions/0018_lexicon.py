"""Identity reasons as data: a JSON list of {code, params} beside the English text.

Rows identified before keep their English ``identity_reason`` and no data; they read as the
``legacy`` reason (shown as written) until identified again (``ht-gateway identify --date D``).
The text is not parsed back into codes.

Revision ID: 0018_lexicon
Revises: 0009_delivery (written against "0006" per the plan; chained after this branch's head so
the tree has one head — the lead re-chains at merge)
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_lexicon"
down_revision = "0017_desk"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transmissions") as batch:
        batch.add_column(sa.Column("identity_reason_data", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("transmissions") as batch:
        batch.drop_column("identity_reason_data")
