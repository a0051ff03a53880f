"""Alembic environment: runs on the connection handed over by gateway.store.db.Database.migrate."""

from alembic import context

from gateway.store.models import Base

target_metadata = Base.metadata
connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=target_metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
