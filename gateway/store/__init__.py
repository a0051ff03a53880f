"""Persistence: SQLAlchemy models, the database handle (one writer), Alembic migrations."""

from gateway.store.db import Database, StoreError, default_url

__all__ = ["Database", "StoreError", "default_url"]
