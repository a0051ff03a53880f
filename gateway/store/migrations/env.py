"""Alembic environment: runs on the connection handed over by gateway.store.db.Database.migrate."""

from alembic import context

from gateway.store.models import Base

target_metadata = Base.metadata
connection = context.config.attributes["connection"]


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """SQLite's FTS5 search index (migration 0005) and its shadow tables are not models."""
    return not (type_ == "table" and name is not None and name.startswith("transcripts_fts"))


context.configure(connection=connection, target_metadata=target_metadata,
                  render_as_batch=connection.dialect.name == "sqlite", include_name=include_name)
with context.begin_transaction():
    context.run_migrations()
