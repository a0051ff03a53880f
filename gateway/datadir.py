"""The data directory and the database a gateway process opens: where they are, that they work,
the schema at head and recovery done (``run``, ``process`` and the CLI commands that write)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from gateway.config import Config
from gateway.recovery import recover_at_start
from gateway.store.db import Database, default_url, head_revision

log = logging.getLogger(__name__)

ENV_DATA_DIR = "HT_GATEWAY_DATA_DIR"


class DataDirError(RuntimeError):
    pass


def resolve_data_dir(cli_value: str | None, cfg: Config) -> Path:
    value = cli_value or os.environ.get(ENV_DATA_DIR) or cfg.gateway.data_dir
    if not value:
        base = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
        value = os.path.join(base, "ht-gateway")
    return Path(value).expanduser().resolve()


def file_in_the_way(path: Path) -> Path | None:
    """The nearest part of ``path`` that exists, when it is not a directory (no data directory can be
    made there; ``config check`` and every command say so alike), else None. OSError passes."""
    there = next((p for p in (path, *path.parents) if p.exists()), None)
    return there if there is not None and not there.is_dir() else None


def check_data_dir(path: Path) -> Path:
    """One line when ``path`` cannot be a data directory (:func:`file_in_the_way`). Nothing is
    created: reading commands create nothing."""
    try:
        there = file_in_the_way(path)
    except OSError as e:
        raise DataDirError(f"data directory {path}: {e.strerror or e}") from None
    if there is not None:
        raise DataDirError(f"data directory {path}: not writable ({there} is not a directory)")
    return path


def prepare_data_dir(path: Path) -> Path:
    """Create the data directory if needed and prove it is writable, or fail with one line."""
    check_data_dir(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise DataDirError(f"data directory {path}: not writable ({e.strerror or e})") from None
    return path


def open_store(cfg: Config, data_dir: Path) -> Database:
    db = Database(cfg.store.url or default_url(data_dir))
    ensure_schema(db, cfg)
    recover_at_start(db, data_dir, cfg)
    return db


def ensure_schema(db: Database, cfg: Config) -> None:
    if db.current_revision() != head_revision():  # Alembic (~0.3 s to import) only for a real upgrade
        db.migrate(ids=(cfg.gateway.id, cfg.channel.id))


def open_store_for_run(cfg: Config, data_dir: Path) -> tuple[Database, bool]:
    """``run``: :func:`open_store`, or — a PostgreSQL server that does not answer at start (an
    outage) — the database unopened and True: the gateway records to disk and its writer stores
    everything (schema, recovery, the rows kept meanwhile) when the server is back."""
    if cfg.store.url:
        db = Database(cfg.store.url)
        why = db.unreachable() if db.dialect == "postgresql" else None
        if why is not None:
            log.error("store: the database is unreachable at start (%s); recording to disk, stored when "
                      "it is back", why)
            return db, True
        db.close()
    return open_store(cfg, data_dir), False
