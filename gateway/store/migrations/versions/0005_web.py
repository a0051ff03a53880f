"""Web UI: users, sessions, audit log; full-text search over transcripts.

Search is per database: on PostgreSQL a GIN index on ``to_tsvector('simple', text)`` (declared on the
models too, so autogenerate agrees); on SQLite an external-content FTS5 table ``transcripts_fts``
whose rows are the transcripts' ids, kept in sync by triggers on ``transcripts`` and filled here
from the rows already stored.

Careful: on SQLite a later ``batch_alter_table("transcripts")`` copies the table and drops its
triggers; such a migration must call :func:`create_sqlite_fts` (``drop_sqlite_fts`` first) again.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from gateway.store.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE transcripts_fts USING fts5(text, content='transcripts', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER transcripts_fts_ai AFTER INSERT ON transcripts BEGIN "
    "INSERT INTO transcripts_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER transcripts_fts_ad AFTER DELETE ON transcripts BEGIN "
    "INSERT INTO transcripts_fts(transcripts_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER transcripts_fts_au AFTER UPDATE OF text ON transcripts BEGIN "
    "INSERT INTO transcripts_fts(transcripts_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO transcripts_fts(rowid, text) VALUES (new.id, new.text); END",
    "INSERT INTO transcripts_fts(transcripts_fts) VALUES ('rebuild')",
]


def create_sqlite_fts() -> None:
    for statement in SQLITE_FTS:
        op.execute(statement)


def drop_sqlite_fts() -> None:
    for trigger in ("transcripts_fts_ai", "transcripts_fts_ad", "transcripts_fts_au"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS transcripts_fts")


def upgrade() -> None:
    op.create_table(
        "web_users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(40), nullable=False, unique=True),
        sa.Column("role", sa.String(12), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("password_changed_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("web_users.id"), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("ip", sa.String(64)),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
    op.create_index("ix_web_sessions_expires_at", "web_sessions", ["expires_at"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.String(100)),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("target", sa.String(100)),
        sa.Column("ip", sa.String(64)),
        sa.Column("before", sa.JSON),
        sa.Column("after", sa.JSON),
    )
    for col in ("at", "actor", "action", "ip"):
        op.create_index(f"ix_audit_log_{col}", "audit_log", [col])
    if op.get_bind().dialect.name == "sqlite":
        create_sqlite_fts()
    elif op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_transcripts_text_fts ON transcripts "
                   "USING gin (to_tsvector('simple'::regconfig, text))")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        drop_sqlite_fts()
    elif op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_transcripts_text_fts")
    op.drop_table("audit_log")
    op.drop_table("web_sessions")
    op.drop_table("web_users")
