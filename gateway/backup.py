"""``ht-gateway backup --date D``: one day in one archive (rows, recordings, filed reports), checksummed.

The archive is a tar file (gzip-compressed when its name ends in ``.gz`` or ``.tgz``)::

    manifest.json             format, version, day, time zone, schema revision, gateway ids,
                              row counts per table, and the sha256 and size of every other member
    manifest.json.sha256      the manifest's own sha256 (so one flipped byte anywhere is caught)
    rows/<table>.jsonl        the day's rows (gateway/dayrows.py), one JSON object per line
    audio/<audio_path>        each transmission's recording, checked against the row's sha256
    reports/<day>/<file>      the filed report's rendered files from <data-dir>/reports/<day>/

It only reads: the rows in one read transaction (a snapshot: REPEATABLE READ on PostgreSQL, a
read transaction on SQLite, whose WAL mode lets it run beside the daemon's writes without blocking
them or being blocked), the recordings as files. So it needs no data-directory lock and runs while
the daemon does. A recording that is missing or whose bytes do not match its row stops the backup
with one line (a backup that silently lacks audio would be found out only when it is needed).
Recordings deleted by retention (``audio_path`` empty) are backed up as rows without audio.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from gateway import dayrows
from gateway.recorder import sha256_file
from gateway.store.db import Database

FORMAT = "ht-gateway-day-backup"
VERSION = 1
MANIFEST = "manifest.json"
MANIFEST_SUM = "manifest.json.sha256"


class BackupError(RuntimeError):
    """The backup cannot be made (one line)."""


@dataclass
class BackupResult:
    path: Path
    counts: dict[str, int]
    audio_files: int
    audio_purged: int
    report_files: int
    size: int


def default_name(day: date) -> Path:
    return Path(f"ht-gateway-backup-{day.isoformat()}.tar.gz")


def gzipped(path: Path) -> bool:
    """Whether an archive of this name is compressed; BackupError for a name that is no archive's."""
    name = path.name.lower()
    if name.endswith((".tar.gz", ".tgz")):
        return True
    if name.endswith(".tar"):
        return False
    raise BackupError(f"--out {path}: the name must end in .tar.gz, .tgz or .tar")


def open_read(path: Path) -> tarfile.TarFile:
    """An archive for reading (compressed or not: tarfile finds out)."""
    return tarfile.open(path, "r:*")


@contextmanager
def snapshot(db: Database) -> Iterator[Connection]:
    """A read-only connection whose reads all see one committed state."""
    with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with conn.begin():
                yield conn
            return
        # pysqlite opens no transaction for SELECTs: begin one, so every query reads one snapshot
        conn.exec_driver_sql("BEGIN")
        try:
            yield conn
        finally:
            conn.exec_driver_sql("ROLLBACK")


def _jsonl(name: str, rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(dayrows.to_json(name, r), ensure_ascii=False, sort_keys=True) + "\n"
                   for r in rows).encode("utf-8")


def _add(tar: tarfile.TarFile, name: str, data: bytes, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(mtime), 0o644
    tar.addfile(info, io.BytesIO(data))


def safe_rel(rel: str) -> bool:
    """A relative path that stays where it is put (no absolute path, no ``..``, no empty part)."""
    parts = rel.split("/")
    return bool(rel) and not rel.startswith("/") and "\\" not in rel and all(p not in ("", ".", "..")
                                                                           for p in parts)


def _audio(data_dir: Path, rows: Iterable[dict[str, Any]]) -> tuple[list[tuple[str, Path, str]], int]:
    """(member name, file, sha256) of every recording, each checked against its row; and how many
    rows have no recording (deleted by retention)."""
    out, purged = [], 0
    for r in rows:
        rel = r["audio_path"]
        if not rel:
            purged += 1
            continue
        if not safe_rel(rel) or not rel.startswith("recordings/"):
            raise BackupError(f"transmission {r['uid']}: audio_path {rel!r} is not under recordings/")
        path = data_dir / rel
        try:
            got = sha256_file(path)
        except FileNotFoundError:
            raise BackupError(f"transmission {r['uid']}: recording {path} is missing (nothing "
                              "written)") from None
        except OSError as e:
            raise BackupError(f"transmission {r['uid']}: {path}: {e.strerror or e}") from None
        if r["sha256"] and got != r["sha256"]:
            raise BackupError(f"transmission {r['uid']}: {path}: sha256 {got[:16]}… does not match the row's "
                              f"{r['sha256'][:16]}… (file changed or damaged; nothing written)")
        out.append((f"audio/{rel}", path, got))
    return out, purged


def make_backup(db: Database, data_dir: Path, day: date, tz: ZoneInfo, out: Path,
                gateways: Iterable[str] = ()) -> BackupResult:
    """Write the archive to ``out`` as every ``--out`` is written (gateway.outfile.out_file: a
    temporary name beside it, renamed when complete; a FIFO or device written through). The tar is
    written as a stream (``w|``): a FIFO cannot seek."""
    from gateway.outfile import out_file

    with snapshot(db) as conn:
        rows = dayrows.collect(conn, day, tz, gateways)
        revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    audio, purged = _audio(data_dir, rows.rows["transmissions"])
    report_dir = data_dir / "reports" / day.isoformat()
    reports = sorted(p for p in report_dir.iterdir() if p.is_file() and not p.name.startswith(".")) \
        if report_dir.is_dir() else []
    members: dict[str, dict[str, Any]] = {}
    now = time.time()
    with out_file(out) as f, _tar_stream(cast(IO[bytes], f), out) as tar:
        payload = [(f"rows/{t}.jsonl", _jsonl(t, rows.rows[t])) for t in dayrows.TABLES]
        for name, data in payload:
            members[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        for name, path, digest in audio:
            members[name] = {"sha256": digest, "size": path.stat().st_size}
        for p in reports:
            members[f"reports/{day.isoformat()}/{p.name}"] = {"sha256": sha256_file(p),
                                                              "size": p.stat().st_size}
        manifest = json.dumps({
            "format": FORMAT, "version": VERSION, "date": day.isoformat(), "timezone": str(tz),
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"), "schema_revision": revision,
            "gateway_ids": sorted({r["gateway_id"] for r in rows.rows["transmissions"]}),
            "counts": rows.counts(), "audio_purged": purged, "members": members,
        }, indent=1, sort_keys=True).encode("utf-8")
        _add(tar, MANIFEST, manifest, now)
        _add(tar, MANIFEST_SUM, hashlib.sha256(manifest).hexdigest().encode() + b"\n", now)
        for name, data in payload:
            _add(tar, name, data, now)
        for name, path, _digest in audio + [(f"reports/{day.isoformat()}/{p.name}", p, "")
                                           for p in reports]:
            _add_file(tar, name, path, members[name]["sha256"])
    return BackupResult(out, rows.counts(), len(audio), purged, len(reports), f.size)


def _tar_stream(f: IO[bytes], out: Path) -> tarfile.TarFile:
    """A tar written front to back (a FIFO cannot seek), gzip-compressed as the name says."""
    if gzipped(out):
        return tarfile.open(out.name, "w|gz", fileobj=f)
    return tarfile.open(out.name, "w|", fileobj=f)


def _add_file(tar: tarfile.TarFile, name: str, path: Path, digest: str) -> None:
    """Pack the file's bytes, hashed again as they are packed: a file changed since it was checked
    (retention, an operator) stops the backup instead of packing bytes the manifest does not name."""
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != digest:
        raise BackupError(f"{path}: changed while the backup was being made; run it again")
    _add(tar, name, data, path.stat().st_mtime)

