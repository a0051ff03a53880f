"""What the report's extractor read from each transcript, stored with it: ``transcript_extracts``.

One row per transcript: ``result`` (a StationExtract as JSON: status, incidents, prices, needs with
their evidence), ``version`` (gateway.report.model.EXTRACTOR_VERSION) and ``key`` (a digest of the
extractor's code and lexicon and of the options it ran with); a row whose key differs from the
running code's is extracted again when a report reads it (gateway/report/extracts.py).

Revision ID: 0020_extraction
Revises: 0019_board
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_extraction"
down_revision = "0019_board"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transcript_extracts",
        sa.Column("transcript_id", sa.Integer(), sa.ForeignKey("transcripts.id"), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("transcript_extracts")
