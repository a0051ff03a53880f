"""Rows the database has not taken yet, kept in the data directory until it does.

When the store fails (PostgreSQL away, SQLite locked, disk full), the writer keeps each completed
transmission's exact columns in memory and a :class:`gateway.recovery.Reconciler` stores them when
the database works again. Memory does not outlive the process: a daemon stopped or killed during an
outage would leave only its recordings, which recovery at the next start *adopts* (a row rebuilt from
the file: the live columns — start, duration, flags, the squelch's timing — are lost and the row is
flagged ``recovered``). So each such row is also appended to ``<data-dir>/pending-rows.jsonl``, one
JSON line per transmission, flushed and fsynced before the writer goes on. The file is replayed in
order (by :func:`gateway.recovery.recover_interrupted`, at start and in every reconcile pass)
*before* interrupted rows are completed or files adopted, so a journaled transmission is stored with
its live columns. Replay is idempotent by ``uid``: a row already complete with the same sha256 is
left alone (the writer stored it from memory first), a row in ``recording`` is completed, a missing
row is inserted. Lines stored are dropped from the file (rewritten atomically); a torn last line (a
crash while appending) is ignored: its transmission is still on disk and is adopted.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.recorder import fsync_dir
from gateway.store.db import Database
from gateway.store.models import Transmission

log = logging.getLogger(__name__)

FILE = "pending-rows.jsonl"
_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()

Identify = Callable[[Session, Transmission], object]


def _encode(value: Any) -> Any:
    return {"$dt": value.isoformat()} if isinstance(value, datetime) else value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"$dt"}:
        return datetime.fromisoformat(value["$dt"])
    return value


class PendingRows:
    """``<data-dir>/pending-rows.jsonl``: completed transmissions the database has not taken yet."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FILE
        with _LOCKS_GUARD:  # every instance on one file shares one lock (writer and recovery)
            self._lock = _LOCKS.setdefault(self.path.resolve(), threading.Lock())

    def add(self, uid: str, cols: dict[str, Any]) -> None:
        """Append one transmission's columns, durably (flushed and fsynced) before returning."""
        line = json.dumps({"uid": uid, "cols": {k: _encode(v) for k, v in cols.items()}},
                          ensure_ascii=False, separators=(",", ":"))
        with self._lock:
            new = not self.path.exists()
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(line + "\n")
                f.flush()
                os.fsync(f.fileno())
            if new:
                fsync_dir(self.path.parent)

    def entries(self) -> list[tuple[str, dict[str, Any]]]:
        """What is in the file, in order (a uid written twice: its last columns, at its first place)."""
        with self._lock:
            return self._read()

    def _read(self) -> list[tuple[str, dict[str, Any]]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        out: dict[str, dict[str, Any]] = {}
        lines = text.split("\n")
        for n, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                uid, cols = str(item["uid"]), {k: _decode(v) for k, v in item["cols"].items()}
            except (ValueError, KeyError, TypeError, AttributeError):
                if n < len(lines) - 1 and any(rest.strip() for rest in lines[n + 1:]):
                    log.error("%s: line %d is not a pending row; left out", self.path.name, n + 1)
                continue  # the last line torn by a crash: the recording is adopted instead
            out[uid] = cols
        return list(out.items())

    def drop(self, uids: set[str]) -> None:
        """Remove these transmissions from the file (stored); the file goes when it is empty."""
        if not uids:
            return
        with self._lock:
            keep = [(u, c) for u, c in self._read() if u not in uids]
            if not keep:
                self.path.unlink(missing_ok=True)
            else:
                tmp = self.path.with_name(f".{FILE}.tmp")
                with open(tmp, "w", encoding="utf-8") as f:
                    for uid, cols in keep:
                        f.write(json.dumps({"uid": uid, "cols": {k: _encode(v) for k, v in cols.items()}},
                                           ensure_ascii=False, separators=(",", ":")) + "\n")
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, self.path)
            fsync_dir(self.path.parent)

    def replay(self, db: Database, data_dir: Path, identify: Identify) -> list[int]:
        """Store every pending row (in order, each in its own transaction); the ids stored. A store
        failure propagates (the rest stays in the file for the next pass)."""
        stored: list[int] = []
        done: set[str] = set()
        try:
            for uid, cols in self.entries():
                audio = cols.get("audio_path")
                if not audio or not (data_dir / str(audio)).is_file():
                    log.error("pending row %s: its recording %s is gone; not stored", uid[:8], audio)
                    done.add(uid)
                    continue
                tx_id, new = store_row(db, uid, cols, identify)
                if new:
                    stored.append(tx_id)
                done.add(uid)
        finally:
            self.drop(done)
        if stored:
            log.warning("stored %d transmission(s) kept in %s while the database was away", len(stored), FILE)
        return stored


def store_row(db: Database, uid: str, cols: dict[str, Any], identify: Identify | None,
              row_id: int | None = None,
              in_transaction: Callable[[], None] | None = None) -> tuple[int, bool]:
    """Complete the transmission ``uid`` with ``cols`` in one transaction (insert it if its open was
    never committed): (its id, whether this call stored it; False when it was stored already:
    complete, with the same sha256). The one rule for storing a completed transmission's columns,
    used by the writer and by the replay. ``in_transaction``: called just before the commit."""
    with db.write() as s:
        row = s.get(Transmission, row_id) if row_id is not None else None
        row = row or s.scalar(select(Transmission).where(Transmission.uid == uid))
        if row is not None and row.status == "complete" and row.sha256 == cols.get("sha256"):
            return row.id, False
        if row is None:
            row = Transmission()
            s.add(row)
        for column, value in cols.items():
            setattr(row, column, value)
        s.flush()
        if identify is not None:
            identify(s, row)
        if in_transaction is not None:
            in_transaction()
        return row.id, True
