"""The log's incident-category and situation filters at a million transmissions: an index on
``report_terms (term, kind, transmission_id)``.

A category (or status) is a term of one kind. With this index its transmissions are handed out newest
first and counted from the index alone; ``ix_report_terms_term (term, transmission_id)`` read every
row of the term from the table to check its kind (a word search, of any kind, still uses that one).

Revision ID: 0020_webspeed
Revises: 0019_board
"""

from alembic import op

revision = "0020_webspeed"
down_revision = "0020_extraction"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_report_terms_term_kind", "report_terms", ["term", "kind", "transmission_id"])


def downgrade() -> None:
    op.drop_index("ix_report_terms_term_kind", "report_terms")
