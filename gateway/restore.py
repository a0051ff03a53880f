"""``ht-gateway restore FILE``: a day back from its archive (gateway/backup.py), or nothing at all.

1. **Verify** everything before touching anything: the manifest's own sha256, every member's sha256
   and size against the manifest, no member missing or extra, row counts, every row readable with
   this schema's columns and holding values this version can hold (gateway/restore_rows.py: types,
   ids, uids, statuses, times inside the archive's day, the rows it points to in the archive), every
   recording's bytes equal to its row's sha256, the archive's schema revision equal to the
   database's. Any failure is one line and nothing has changed.
2. **Plan** (reads only): a transmission whose ``uid`` is already in the database is left as it is,
   with everything keyed by it (transcripts, extracts, assignments, its events and report terms);
   the others are restored with theirs. Report revisions are matched by (day, revision) and must
   have the same content hash (a different filed revision under the same number is refused),
   follow-ups by (transmission, item), messages by their dedupe key (else time, kind and text),
   events that name no transmission by (time, kind, message). So restoring twice changes nothing.
   Rows keep their ids where the id is free in this database (a filed report names transmissions
   by id), else get new ones, and the rows pointing to them follow.
3. **Write**: recordings to temporary names beside their final ones (``.NAME.restore-PID.tmp``,
   which recovery never adopts), then every row in one transaction, then the renames. A crash
   before the commit leaves only temporary files (removed by the next restore); after it, rows
   whose recording is not in place yet: running the restore again puts them there (a recording is
   also written back for a row that is already in the database when its file is missing and the
   row's sha256 is the archive's, never for a row whose audio retention deleted).

It holds the data-directory lock like the other writing commands (gateway/cli/db.py: EXCLUSIVE).
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
import zlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from gateway import dayrows, restore_rows
from gateway.backup import FORMAT, MANIFEST, MANIFEST_SUM, VERSION, open_read, safe_rel
from gateway.recorder import fsync_dir, sha256_file
from gateway.store.db import Database
from gateway.store.models import ReportRevision, Transmission

TMP_SUFFIX = ".tmp"


class RestoreError(RuntimeError):
    """The archive is damaged or does not fit this database; nothing was changed (one line)."""


@dataclass
class Archive:
    path: Path
    manifest: dict[str, Any]
    rows: dict[str, list[dict[str, Any]]]
    day: date


@dataclass
class RestoreResult:
    day: date
    inserted: dict[str, int] = field(default_factory=dict)
    already: int = 0  # transmissions already in the database (left as they are)
    audio_written: int = 0
    report_files: int = 0
    renumbered: int = 0  # rows that got a new id (theirs was taken)


_READ_ERRORS = (tarfile.TarError, EOFError, OSError, zlib.error, UnicodeDecodeError, ValueError, KeyError,
                TypeError, AttributeError)


def verify(path: Path) -> Archive:
    """Read and check the whole archive (see the module docstring); RestoreError on any fault."""
    try:
        return _verify(path)
    except RestoreError:
        raise
    except FileNotFoundError:
        raise RestoreError(f"{path}: no such file") from None
    except _READ_ERRORS as e:
        raise RestoreError(f"{path}: damaged or not a backup archive ({_one_line(e)}); "
                           "nothing restored") from None


def _verify(path: Path) -> Archive:
    bad = f"{path}: damaged archive"
    seen: dict[str, tuple[str, int]] = {}
    kept: dict[str, bytes] = {}
    with open_read(path) as tar:
        for m in tar:
            if not m.isfile() or not safe_rel(m.name) or m.name in seen:
                raise RestoreError(f"{bad}: unexpected member {m.name!r}; nothing restored")
            f = tar.extractfile(m)
            assert f is not None
            h, size = hashlib.sha256(), 0
            if not m.name.startswith(("audio/", "reports/")):
                kept[m.name] = b""
            for block in iter(lambda: f.read(1 << 20), b""):  # noqa: B023 - consumed right here
                h.update(block)
                size += len(block)
                if not m.name.startswith(("audio/", "reports/")):
                    kept[m.name] = kept.get(m.name, b"") + block
            seen[m.name] = (h.hexdigest(), size)
    if MANIFEST not in kept or MANIFEST_SUM not in kept:
        raise RestoreError(f"{path}: not a backup archive (no {MANIFEST}); nothing restored")
    if hashlib.sha256(kept[MANIFEST]).hexdigest() != kept[MANIFEST_SUM].decode().strip():
        raise RestoreError(f"{bad}: {MANIFEST} does not match its sha256; nothing restored")
    man = json.loads(kept[MANIFEST])
    if man.get("format") != FORMAT or man.get("version") != VERSION:
        raise RestoreError(f"{path}: format {man.get('format')!r} version {man.get('version')!r}: this "
                           f"version reads {FORMAT} version {VERSION}; nothing restored")
    members: dict[str, dict[str, Any]] = man["members"]
    listed, present = set(members), set(seen) - {MANIFEST, MANIFEST_SUM}
    if listed != present:
        odd = sorted(listed ^ present)[0]
        what = "missing" if odd in listed else "not in the manifest"
        raise RestoreError(f"{bad}: member {odd!r} is {what}; nothing restored")
    for name, want in sorted(members.items()):
        if seen[name] != (want["sha256"], want["size"]):
            raise RestoreError(f"{bad}: {name}: sha256 or size does not match the manifest; nothing restored")
    rows: dict[str, list[dict[str, Any]]] = {}
    try:
        day, tz = restore_rows.archive_day(man.get("date"), man.get("timezone"))
        for t in dayrows.TABLES:
            lines = kept[f"rows/{t}.jsonl"].decode("utf-8").splitlines()
            if len(lines) != man["counts"][t]:
                raise RestoreError(f"{bad}: rows/{t}.jsonl has {len(lines)} rows, the manifest says "
                                   f"{man['counts'][t]}; nothing restored")
            rows[t] = [restore_rows.parse_line(t, ln, i) for i, ln in enumerate(lines, 1)]
        restore_rows.check_day(rows, day, tz)
    except restore_rows.RowError as e:
        raise RestoreError(f"{bad}: {e}; nothing restored") from None
    for r in rows["transmissions"]:
        if r["audio_path"]:
            got = members.get(f"audio/{r['audio_path']}")
            if got is None or not (r["audio_path"].startswith("recordings/") and safe_rel(r["audio_path"])):
                raise RestoreError(f"{bad}: transmission {r['uid']}: no recording {r['audio_path']!r}; "
                                   "nothing restored")
            if r["sha256"] and got["sha256"] != r["sha256"]:
                raise RestoreError(f"{bad}: transmission {r['uid']}: the recording's sha256 is not "
                                   "the row's; nothing restored")
    return Archive(path, man, rows, day)


def restore(db: Database, data_dir: Path, path: Path, verified: Archive | None = None) -> RestoreResult:
    """Verify (unless ``verified`` is this file's :func:`verify`), then restore (see the module
    docstring). RestoreError: nothing was changed."""
    arc = verified if verified is not None and verified.path == path else verify(path)
    current = db.current_revision()
    if arc.manifest["schema_revision"] != current:
        raise RestoreError(f"{path}: made with schema revision {arc.manifest['schema_revision']}, this "
                           f"database is at {current}; restore it with the matching ht-gateway version")
    if db.dialect == "postgresql":
        try:
            restore_rows.pg_int4(arc.rows)
        except restore_rows.RowError as e:
            raise RestoreError(f"{path}: does not fit this database: {e}; nothing restored") from None
    files = _plan_files(db, data_dir, arc)
    temps = _stage(arc, files)
    try:
        result = _write_rows(db, arc)
    except BaseException:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)
        raise
    for dest, tmp in temps.items():
        os.replace(tmp, dest)
    for d in {dest.parent for dest in temps}:
        fsync_dir(d)
    result.audio_written = len(temps)
    result.report_files = _report_files(data_dir, arc)
    return result


def _plan_files(db: Database, data_dir: Path, arc: Archive) -> dict[str, Path]:
    """Recordings to write: member name -> destination."""
    by_uid = {r["uid"]: r for r in arc.rows["transmissions"] if r["audio_path"]}
    with db.read() as s:
        have = {u: (p, h) for chunk in dayrows.chunks(sorted(by_uid)) for u, p, h in s.execute(
            select(Transmission.uid, Transmission.audio_path, Transmission.sha256)
            .where(Transmission.uid.in_(chunk)))}
    out: dict[str, Path] = {}
    for folder in {(data_dir / r["audio_path"]).parent for r in by_uid.values()}:
        for stale in folder.glob(f".*.restore-*{TMP_SUFFIX}") if folder.is_dir() else ():
            stale.unlink()  # an earlier restore that stopped before its commit
    for uid, r in by_uid.items():
        dest = data_dir / r["audio_path"]
        if uid in have and (have[uid][0] != r["audio_path"] or have[uid][1] != r["sha256"]):
            continue  # the database's own row (audio deleted by retention, or another recording)
        if dest.is_file():
            if sha256_file(dest) != arc.manifest["members"][f"audio/{r['audio_path']}"]["sha256"]:
                if uid in have:
                    continue  # the row's file differs: left alone (transcription will say so)
                raise RestoreError(f"{dest}: a different file is already there; nothing restored")
            continue
        out[f"audio/{r['audio_path']}"] = dest
    return out


def _stage(arc: Archive, files: dict[str, Path]) -> dict[Path, Path]:
    """Copy the recordings to temporary files beside their destinations, checked again."""
    temps: dict[Path, Path] = {}
    try:
        with open_read(arc.path) as tar:
            for m in tar:
                dest = files.get(m.name)
                if dest is None:
                    continue
                f = tar.extractfile(m)
                data = f.read() if f is not None else b""
                if hashlib.sha256(data).hexdigest() != arc.manifest["members"][m.name]["sha256"]:
                    raise RestoreError(f"{arc.path}: {m.name} changed while restoring; nothing restored")
                dest.parent.mkdir(parents=True, exist_ok=True)
                tmp = dest.with_name(f".{dest.name}.restore-{os.getpid()}{TMP_SUFFIX}")
                with tmp.open("wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                temps[dest] = tmp
    except BaseException:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)
        raise
    return temps


def _write_rows(db: Database, arc: Archive) -> RestoreResult:
    for attempt in range(3):  # an id taken by another process between our check and insert: again
        try:
            with db.write() as s:
                return _insert_all(s.connection(), arc, db.dialect)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _insert_all(conn: Connection, arc: Archive, dialect: str) -> RestoreResult:
    res = RestoreResult(arc.day, inserted={t: 0 for t in dayrows.TABLES})
    rows = arc.rows
    tx_map: dict[int, int] = {}
    skipped: set[int] = set()  # archived transmission ids already in the database
    tx = Transmission.__table__
    uids = [r["uid"] for r in rows["transmissions"]]
    existing = {u: i for chunk in dayrows.chunks(uids) for u, i in conn.execute(
        select(tx.c.uid, tx.c.id).where(tx.c.uid.in_(chunk)))}
    for r in rows["transmissions"]:
        if r["uid"] in existing:
            tx_map[r["id"]], res.already = existing[r["uid"]], res.already + 1
            skipped.add(r["id"])
    rev_map = _revisions(conn, arc)
    new_tx = [{**r, "asr_claimed_by": None, "asr_lease_until": None}
              for r in rows["transmissions"] if r["id"] not in skipped]
    tx_map |= _insert(conn, "transmissions", new_tx, dialect, res)
    owned = [r for r in rows["transcripts"] if r["transmission_id"] not in skipped]
    tr_map = _insert(conn, "transcripts", _mapped(owned, "transmission_id", tx_map), dialect, res)
    _insert(conn, "transcript_extracts", _mapped([r for r in rows["transcript_extracts"]
                                                  if r["transcript_id"] in tr_map], "transcript_id", tr_map),
            dialect, res, keep_pk=True)
    for name in ("assignments", "report_terms"):
        _insert(conn, name, _mapped([r for r in rows[name] if r["transmission_id"] not in skipped],
                                    "transmission_id", tx_map), dialect, res)
    named = [r for r in rows["events"]
             if r["transmission_id"] is not None and r["transmission_id"] not in skipped]
    ev = dayrows.table("events")
    free = [r for r in rows["events"] if r["transmission_id"] is None and conn.execute(select(ev.c.id).where(
        ev.c.transmission_id.is_(None), ev.c.at == r["at"], ev.c.kind == r["kind"],
        ev.c.message == r["message"]).limit(1)).first() is None]
    _insert(conn, "events", _mapped(named, "transmission_id", tx_map) + free, dialect, res)
    fu = dayrows.table("followups")
    _insert(conn, "followups", [r for r in _mapped(rows["followups"], "transmission_id", tx_map)
                                if conn.execute(select(fu.c.id).where(
                                    fu.c.transmission_id == r["transmission_id"], fu.c.item == r["item"])
                                ).first() is None], dialect, res)
    q = dayrows.table("transmit_queue")
    _insert(conn, "transmit_queue", [r for r in _mapped(rows["transmit_queue"], "transmission_id", tx_map)
                                     if conn.execute(select(q.c.id).where(
                                         q.c.dedupe == r["dedupe"] if r["dedupe"] is not None else
                                         (q.c.created_at == r["created_at"]) & (q.c.kind == r["kind"])
                                         & (q.c.text == r["text"])).limit(1)).first() is None], dialect, res)
    new_revs = [r for r in rows["report_revisions"] if r["id"] not in rev_map]
    rev_map |= _insert(conn, "report_revisions", new_revs, dialect, res)
    fresh = {rev_map[r["id"]] for r in new_revs}
    _insert(conn, "report_deliveries", [r for r in _mapped(rows["report_deliveries"], "revision_id", rev_map)
                                        if r["revision_id"] in fresh], dialect, res)
    return res


def _revisions(conn: Connection, arc: Archive) -> dict[int, int]:
    """Archived revision id -> the database's, for revisions already filed there (same content)."""
    rv = ReportRevision.__table__
    out = {}
    for r in arc.rows["report_revisions"]:
        got = conn.execute(select(rv.c.id, rv.c.content_sha256).where(rv.c.day == r["day"],
                                                                      rv.c.revision == r["revision"])).first()
        if got is None:
            continue
        if got.content_sha256 != r["content_sha256"]:
            raise RestoreError(f"report {r['day']} revision {r['revision']} is already filed here with other "
                               "content; nothing restored")
        out[r["id"]] = got.id
    return out


def _mapped(rows: list[dict[str, Any]], column: str, ids: dict[int, int]) -> list[dict[str, Any]]:
    return [{**r, column: ids[r[column]]} if r[column] is not None else r for r in rows]


def _insert(conn: Connection, name: str, rows: list[dict[str, Any]], dialect: str, res: RestoreResult,
            keep_pk: bool = False) -> dict[int, int]:
    """Insert rows; each keeps its id when free (``keep_pk``: the key is a reference, always kept).
    Returns old id -> new id."""
    t = dayrows.table(name)
    out: dict[int, int] = {}
    if not rows:
        return out
    if keep_pk:
        for r in rows:
            conn.execute(t.insert().values(**r))
        res.inserted[name] += len(rows)
        return out
    taken = {i for chunk in dayrows.chunks([r["id"] for r in rows])
             for i in conn.scalars(select(t.c.id).where(t.c.id.in_(chunk)))}
    kept = [r["id"] for r in rows if r["id"] not in taken]
    if dialect == "postgresql" and kept:
        # ids handed out by the sequence from now on stay above the ones restored as they were
        seq = _sequence(conn, name)
        conn.execute(text(f"SELECT setval(:s, GREATEST(:m, (SELECT last_value FROM {seq})))"),
                     {"s": seq, "m": max(kept)})
    for r in rows:
        values = dict(r) if r["id"] not in taken else {k: v for k, v in r.items() if k != "id"}
        res.renumbered += r["id"] in taken
        key = conn.execute(t.insert().values(**values)).inserted_primary_key
        assert key is not None
        out[r["id"]] = int(key[0])
    res.inserted[name] += len(rows)
    return out


def _sequence(conn: Connection, name: str) -> str:
    seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": name}).scalar()
    if not seq:
        raise RestoreError(f"table {name}: no id sequence found")
    return str(seq)


def _report_files(data_dir: Path, arc: Archive) -> int:
    """The rendered report files the archive has and the data directory lacks (never overwritten)."""
    folder = f"reports/{arc.day.isoformat()}/"
    wanted = {n for n in arc.manifest["members"] if n.startswith(folder)}
    written = 0
    if not wanted:
        return 0
    with open_read(arc.path) as tar:
        for m in tar:
            if m.name not in wanted or (data_dir / m.name).exists():
                continue
            dest = data_dir / m.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{dest.name}.restore-{os.getpid()}{TMP_SUFFIX}")
            f = tar.extractfile(m)
            tmp.write_bytes(f.read() if f is not None else b"")
            os.replace(tmp, dest)
            written += 1
    return written


def _one_line(e: BaseException) -> str:
    return (str(e).splitlines() or [e.__class__.__name__])[0][:200]
