"""How command-line commands open the database, and the ``db upgrade`` / ``db status`` commands.

Only the daemon (``run``, ``process``) and ``ht-gateway db upgrade`` migrate; both hold the
data-directory lock (gateway.lock). Every other command only checks that the schema is the head
revision (one small query, no Alembic) and otherwise stops with one line: nothing yet, or run
``ht-gateway db upgrade``. Nothing is created on an empty data directory.

While a daemon holds the data directory, commands are of three kinds (:func:`open_db`):

- ``READ`` (export, checkins, compliance, report without --file, followups list, user list): read.
- ``ROW`` (assign, user add/passwd/disable/enable, followups set, and the ``web`` process): a few
  rows in one short transaction, through the database's own cross-process locking (SQLite WAL with
  a busy time-out; PostgreSQL row locks), exactly as a separate ``ht-gateway web`` process writes
  next to the daemon. Why not forward them to the daemon over a socket: it would add a second way
  to write the same rows, and a daemon-side server to keep alive, to gain nothing the database does
  not already guarantee for one short transaction; and ``user add`` must work before the first start.
- ``EXCLUSIVE`` (transcribe, identify, report --file): long or many-row work that competes with the
  daemon's own jobs (its transcription stage, its filing job): refused with one line naming the
  daemon's pid while it runs; otherwise they hold the data-directory lock themselves, so a daemon
  started meanwhile is refused instead of racing them.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.cli.common import CommandAdder
from gateway.config import Config

if TYPE_CHECKING:
    from gateway.store.db import Database

READ, ROW, EXCLUSIVE = "read", "row", "exclusive"


def add_parsers(cmd: CommandAdder) -> None:
    p = cmd("db", "the database schema: status, or upgrade it (stop the daemon first)")
    p.add_argument("action", choices=["status", "upgrade"])


@contextlib.contextmanager
def open_db(cfg: Config, data_dir: Path, what: str, access: str) -> Iterator[Database]:
    """The database for command ``what``; see the module docstring for ``access``."""
    from gateway.lock import DataDirBusy, DataDirLock
    from gateway.store.db import Database, StoreError, default_url

    lock = None
    if access == EXCLUSIVE:
        refuse_if_held(data_dir, what)
    db = Database(cfg.store.url or default_url(data_dir))
    try:
        db.check_schema()
        if access == EXCLUSIVE:
            try:
                lock = DataDirLock(data_dir, f"ht-gateway {what}").acquire()
            except DataDirBusy as e:
                raise StoreError(f"{what}: refused: {e}") from None
            except OSError as e:
                raise StoreError(f"data directory {data_dir}: {e.strerror or e}") from None
        yield db
    finally:
        db.close()
        if lock is not None:
            lock.release()


def refuse_if_held(data_dir: Path, what: str) -> None:
    """One line naming the daemon when one holds the data directory (for EXCLUSIVE commands; cheap,
    so a command can ask before loading a speech model)."""
    from gateway.lock import holder_of
    from gateway.store.db import StoreError

    holder = holder_of(data_dir)
    if holder is not None:
        raise StoreError(f"{what}: refused while {holder} runs on data directory {data_dir} "
                         "(it does this work itself); stop it first, or wait")


def dispatch(args: argparse.Namespace, cfg: Config, data_dir: Path) -> int:
    from gateway.lock import DataDirBusy, DataDirLock, holder_of
    from gateway.store.db import Database, StoreError, default_url, head_revision, safe_url

    db = Database(cfg.store.url or default_url(data_dir))
    try:
        if args.action == "status":
            current, head = db.current_revision(), head_revision()
            holder = holder_of(data_dir)
            print(f"database: {safe_url(db.url)}")
            print(f"schema: {current or 'none (no database yet)'}; this version needs {head}"
                  + ("" if current == head else ": run `ht-gateway db upgrade` (stop the daemon first)"))
            print(f"data directory {data_dir}: " + (f"in use by {holder}" if holder else "not in use"))
            return 0 if current == head else 1
        from gateway.datadir import prepare_data_dir

        holder = holder_of(data_dir)
        if holder is not None:
            raise StoreError(f"db upgrade: refused while {holder} runs on data directory {data_dir}; "
                             "stop it first")
        prepare_data_dir(data_dir)
        try:
            lock = DataDirLock(data_dir, "ht-gateway db upgrade").acquire()
        except DataDirBusy as e:
            raise StoreError(f"db upgrade: refused: {e}") from None
        try:
            before = db.current_revision()
            db.migrate(ids=(cfg.gateway.id, cfg.channel.id))
            after = db.current_revision()
        finally:
            lock.release()
        print(f"schema: {before or 'none'} -> {after}" if before != after else f"schema: {after}, up to date")
        return 0
    finally:
        db.close()
