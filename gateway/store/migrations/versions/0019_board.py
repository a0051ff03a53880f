"""What the filed report read from each transmission, searchable: ``report_terms``.

One row per (transmission, kind, term): kind ``incident`` (category key and the words of its label),
``desa`` (the words of a place), ``need`` (the words of an item), ``status`` (aman/waspada/siaga/awas);
``term`` is the word's stem (gateway.report.terms.stem). Rewritten for a day each time a revision of
its report is filed, so the log's search finds "banjir" in a transmission whose transcript says
"banjr" once the extractor read it as a flood.

Revision ID: 0019_board
Revises: 0015_accuracy
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_board"
down_revision = "0018_lexicon"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_terms",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("day", sa.Date(), nullable=False, index=True),
        sa.Column("transmission_id", sa.Integer(), sa.ForeignKey("transmissions.id"), nullable=False,
                  index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("term", sa.String(64), nullable=False),
    )
    op.create_index("ix_report_terms_term", "report_terms", ["term", "transmission_id"])
    # the log's "perlu didengar" filter: a handful of rows among a million
    op.create_index("ix_transmissions_needs_listening", "transmissions", ["started_at"],
                    sqlite_where=sa.text("needs_listening = 1"), postgresql_where=sa.text("needs_listening"))


def downgrade() -> None:
    op.drop_index("ix_transmissions_needs_listening", "transmissions")
    op.drop_index("ix_report_terms_term", "report_terms")
    op.drop_table("report_terms")
