"""The recogniser's second hearing of an unresolved caller's name: ``transcripts.name_check``.

When a call's words name their caller in a way the spoken-name matcher cannot resolve ("camat
perharajar"), the transcription stage asks the recogniser which configured station's name fits
the audio best (gateway/identification/name_check.py) and stores the answer with the transcript:
``{phrase, best, margin, runner_up}`` as JSON, NULL when no check applied (every row before this
revision).

Revision ID: 0025_name_check
Revises: 0024_audio
"""

import sqlalchemy as sa
from alembic import op

revision = "0025_name_check"
down_revision = "0024_audio"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("transcripts", sa.Column("name_check", sa.JSON(), nullable=True))


def downgrade() -> None:  # plain ALTER TABLE (SQLite >= 3.35), as 0015
    op.drop_column("transcripts", "name_check")
