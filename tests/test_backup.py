"""``ht-gateway backup`` / ``restore``: a day out and back, byte for byte and row for row; a damaged
archive refused with nothing changed; restoring twice changes nothing; the backup reads beside a
writer (SQLite WAL); the command line's one-line refusals. SQLite and a real PostgreSQL."""

from __future__ import annotations

import dataclasses
import hashlib
import sqlite3
import tarfile
import time
from datetime import timedelta
from pathlib import Path

import pytest
from daykit import DAY, add_recorded, at, build_day, snapshot, wipe
from test_web_helpers import logged_in, make_web

from gateway.backup import BackupError, make_backup
from gateway.cli.main import main
from gateway.config import Config
from gateway.lock import DataDirLock
from gateway.recovery import recover_interrupted
from gateway.restore import RestoreError, restore, verify
from gateway.store.db import Database, default_url


@pytest.fixture
def cfg(example_config: Config) -> Config:
    return dataclasses.replace(example_config, gateway=dataclasses.replace(
        example_config.gateway, kabupaten="Tapanuli Utara"))


def _files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()} if root.is_dir() else {}


def restart_sequences(db: Database) -> None:
    """PostgreSQL: the id sequences start again at 1, as in a new database."""
    if db.dialect != "postgresql":
        return
    from sqlalchemy import text

    with db.write() as s:
        for name in ("transmissions", "transcripts", "report_revisions", "events", "assignments",
                     "followups", "report_terms"):
            s.execute(text("SELECT setval(pg_get_serial_sequence(:t, 'id'), 1, false)"), {"t": name})


def test_a_day_goes_out_and_comes_back_exactly(db: Database, cfg: Config, tmp_path: Path) -> None:
    data = tmp_path / "data"
    day = build_day(db, cfg, data, next_day=False)
    (data / "reports" / DAY.isoformat()).mkdir(parents=True)
    (data / "reports" / DAY.isoformat() / "laporan-situasi-2026-11-20-r1.json").write_text('{"r": 1}\n')
    before, recordings = snapshot(db, DAY), _files(data / "recordings")
    assert {p: s for p, s in recordings.items()} and set(recordings.values()) == set(day.sha.values())
    assert before["report_revisions"] and before["followups"] and before["report_terms"]
    add_recorded(db, cfg, data, at("07:00", DAY + timedelta(days=1)), "101", "situasi aman ganti")

    out = tmp_path / "day.tar.gz"
    r = make_backup(db, data, DAY, cfg.tz, out)
    assert r.counts == {t: len(v) for t, v in before.items()}, "the next day's transmission is not in it"
    assert r.audio_files == 3 and r.report_files == 1

    wipe(db, data)
    restart_sequences(db)
    assert snapshot(db, DAY)["transmissions"] == []
    done = restore(db, data, out)
    assert done.inserted["transmissions"] == 3 and done.already == 0 and done.audio_written == 3
    assert snapshot(db, DAY) == before, "every row back, with its id"
    assert _files(data / "recordings") == recordings, "every recording back, byte for byte"
    report = data / "reports" / DAY.isoformat() / "laporan-situasi-2026-11-20-r1.json"
    assert report.read_text() == '{"r": 1}\n'

    again = restore(db, data, out)  # idempotent
    assert sum(again.inserted.values()) == 0 and again.already == 3 and again.audio_written == 0
    assert snapshot(db, DAY) == before and _files(data / "recordings") == recordings
    # what is recorded next gets a new id (PostgreSQL: the sequences moved past the restored ids)
    tx_id = add_recorded(db, cfg, data, at("07:00", DAY + timedelta(days=1)), "101", "situasi aman ganti")[0]
    assert tx_id > max(r["id"] for r in before["transmissions"])


def test_restoring_into_a_database_that_has_other_rows_renumbers_and_links(db: Database, cfg: Config,
                                                                           tmp_path: Path) -> None:
    data = tmp_path / "data"
    build_day(db, cfg, data, next_day=False)
    before = snapshot(db, DAY)
    out = tmp_path / "day.tar"
    make_backup(db, data, DAY, cfg.tz, out)
    wipe(db, data)
    restart_sequences(db)
    # another day recorded meanwhile takes the ids the archived rows had
    other = build_day(db, cfg, tmp_path / "other", day=DAY - timedelta(days=3), next_day=False)
    assert len(other.sha) == 3
    done = restore(db, data, out)
    assert done.inserted["transmissions"] == 3 and done.renumbered > 0
    after = snapshot(db, DAY)
    by_uid = {r["uid"]: r for r in after["transmissions"]}
    for old in before["transmissions"]:
        new = by_uid[old["uid"]]
        assert {k: v for k, v in new.items() if k != "id"} == {k: v for k, v in old.items() if k != "id"}
        texts_old = sorted(t["text"] for t in before["transcripts"] if t["transmission_id"] == old["id"])
        texts_new = sorted(t["text"] for t in after["transcripts"] if t["transmission_id"] == new["id"])
        assert texts_new == texts_old and texts_new, "transcripts follow their transmission's new id"
    assert len(after["report_revisions"]) == 2  # the other day's and this one's
    assert len(after["transmissions"]) == 6
    # rows written after the restore get ids of their own (PostgreSQL: the sequence moved past)
    add_recorded(db, cfg, data, at("10:00", DAY + timedelta(days=2)), None, "tes")
    assert len(snapshot(db, DAY)["transmissions"]) == 7


def _flip_byte_in(path: Path, member_prefix: str) -> None:
    with tarfile.open(path) as tar:
        m = next(m for m in tar.getmembers() if m.name.startswith(member_prefix))
        offset = m.offset_data + m.size // 2
    with path.open("r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x01]))


@pytest.mark.parametrize("member", ["audio/", "rows/transcripts", "manifest.json"])
def test_one_damaged_byte_is_refused_and_nothing_changes(db: Database, cfg: Config, tmp_path: Path,
                                                         member: str) -> None:
    data = tmp_path / "data"
    build_day(db, cfg, data)
    out = tmp_path / "day.tar"
    make_backup(db, data, DAY, cfg.tz, out)
    wipe(db, data)
    _flip_byte_in(out, member)
    with pytest.raises(RestoreError, match="damaged") as e:
        restore(db, data, out)
    assert "\n" not in str(e.value)
    assert all(v == [] for v in snapshot(db, DAY).values()) and _files(data) == {}


def test_a_damaged_gzip_archive_is_refused(sqlite_db: Database, cfg: Config, tmp_path: Path) -> None:
    data = tmp_path / "data"
    build_day(sqlite_db, cfg, data)
    out = tmp_path / "day.tar.gz"
    make_backup(sqlite_db, data, DAY, cfg.tz, out)
    raw = bytearray(out.read_bytes())
    raw[len(raw) // 2] ^= 0x40
    out.write_bytes(bytes(raw))
    with pytest.raises(RestoreError):
        verify(out)


def test_a_recording_that_does_not_match_its_row_stops_the_backup(sqlite_db: Database, cfg: Config,
                                                                  tmp_path: Path) -> None:
    data = tmp_path / "data"
    day = build_day(sqlite_db, cfg, data)
    path = next(iter(day.path.values()))
    path.write_bytes(path.read_bytes()[:-10])
    out = tmp_path / "day.tar.gz"
    with pytest.raises(BackupError, match="does not match"):
        make_backup(sqlite_db, data, DAY, cfg.tz, out)
    assert not out.exists() and not list(tmp_path.glob(".day.tar.gz.*"))


def test_backup_reads_beside_an_open_writer_on_sqlite_wal(sqlite_db: Database, cfg: Config,
                                                          tmp_path: Path) -> None:
    data = tmp_path / "data"
    build_day(sqlite_db, cfg, data, next_day=False)
    writer = sqlite3.connect(sqlite_db.engine.url.database, isolation_level=None, timeout=0.1)
    writer.execute("BEGIN IMMEDIATE")  # the daemon's writer, holding SQLite's write lock
    writer.execute("INSERT INTO transmissions (uid, started_at, audio_started_at, status, kerchunk, stuck, "
                   "recovered, source, created_at) VALUES ('uncommitted', '2026-11-20 01:00:00', "
                   "'2026-11-20 01:00:00', 'complete', 0, 0, 0, 'x', '2026-11-20 01:00:00')")
    try:
        t0 = time.monotonic()
        r = make_backup(sqlite_db, data, DAY, cfg.tz, tmp_path / "day.tar")
        took = time.monotonic() - t0
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert r.counts["transmissions"] == 3, "the committed rows only"
    assert took < 5, f"a WAL reader does not wait for the writer (busy_timeout is 10 s): {took:.1f} s"


def _cli(tmp_path: Path, data: Path, *args: str) -> int:
    return main(["--config", str(Path(__file__).resolve().parent.parent / "config" / "tapanuli-utara.toml"),
                 "--data-dir", str(data), *args])


def test_command_line_round_trip_into_an_empty_data_dir(cfg: Config, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "src"
    src.mkdir()
    db = Database(default_url(src))
    db.migrate()
    day = build_day(db, cfg, src)
    db.close()
    out = tmp_path / "backup.tar.gz"
    assert _cli(tmp_path, src, "backup", "--date", DAY.isoformat(), "--out", str(out)) == 0
    assert "3 transmission(s), 3 recording(s)" in capsys.readouterr().out

    dst = tmp_path / "dst"
    dst.mkdir()
    assert _cli(tmp_path, dst, "db", "upgrade") == 0
    assert _cli(tmp_path, dst, "restore", str(out)) == 0
    assert "3 transmission(s) restored" in capsys.readouterr().out
    db2 = Database(default_url(dst))
    try:
        client = logged_in(make_web(db2, dst, cfg), "vivi")
        page = client.get(f"/log?date={DAY.isoformat()}")
        ids = {int(x) for x in __import__("re").findall(r'<td><a href="/tx/(\d+)">', page.text)}
        assert len(ids) == 3
        from gateway.store.models import Transmission

        for tx_id in ids:
            with db2.read() as s:
                uid = s.get_one(Transmission, tx_id).uid
            r = client.get(f"/audio/{tx_id}")
            assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == day.sha[uid]
    finally:
        db2.close()


def test_command_line_refusals_are_one_line(cfg: Config, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for bad in ("2026-13-01", "20-11-2026", "1999-12-31", "kemarin"):
        with pytest.raises(SystemExit) as e:
            _cli(tmp_path, data, "backup", "--date", bad)
        assert e.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert "argument --date" in err[-1] and bad in err[-1]
    with pytest.raises(SystemExit) as e:
        _cli(tmp_path, data, "backup", "--date", "2026-11-20", "--gateway", "Taput 1")
    assert e.value.code == 2 and "argument --gateway" in capsys.readouterr().err.strip().splitlines()[-1]
    assert _cli(tmp_path, data, "backup", "--date", "2026-11-20", "--out", str(tmp_path / "x.zip")) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert _cli(tmp_path, data, "db", "upgrade") == 0
    db = Database(default_url(data))
    build_day(db, cfg, data)
    db.close()
    out = tmp_path / "d.tar"
    assert _cli(tmp_path, data, "backup", "--date", "2026-11-20", "--out", str(out)) == 0
    capsys.readouterr()
    with DataDirLock(data, "ht-gateway run"):  # a daemon holds the data directory
        assert _cli(tmp_path, data, "backup", "--date", "2026-11-20", "--out", str(tmp_path / "e.tar")) == 0
        capsys.readouterr()
        assert _cli(tmp_path, data, "restore", str(out)) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "refused while pid" in err
    _flip_byte_in(out, "rows/transmissions")
    assert _cli(tmp_path, data, "restore", str(out)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "damaged" in err
    assert _cli(tmp_path, data, "restore", str(tmp_path / "missing.tar")) == 2
    assert "no such file" in capsys.readouterr().err


def test_the_backup_reads_one_snapshot(db: Database, cfg: Config, tmp_path: Path) -> None:
    """Rows committed by another writer while the backup reads are not half in it."""
    from sqlalchemy import func, select

    from gateway.backup import snapshot as read_snapshot
    from gateway.store.models import Transmission

    data = tmp_path / "data"
    build_day(db, cfg, data, next_day=False)
    other = Database(db.url)  # another process's connection: the daemon's writer
    try:
        with read_snapshot(db) as conn:
            count = select(func.count()).select_from(Transmission)
            first = conn.execute(count).scalar()
            add_recorded(other, cfg, data, at("10:00"), None, "masuk saat backup")
            assert conn.execute(count).scalar() == first == 3
        with db.read() as s:
            assert s.scalar(count) == 4
    finally:
        other.close()


def test_only_the_named_gateways(sqlite_db: Database, cfg: Config, tmp_path: Path) -> None:
    data = tmp_path / "data"
    build_day(sqlite_db, cfg, data, next_day=False)
    other = dataclasses.replace(cfg, gateway=dataclasses.replace(cfg.gateway, id="taput-2"))
    add_recorded(sqlite_db, other, data, at("09:00"), None, "di sini kanal dua")
    assert make_backup(sqlite_db, data, DAY, cfg.tz, tmp_path / "all.tar").counts["transmissions"] == 4
    r = make_backup(sqlite_db, data, DAY, cfg.tz, tmp_path / "two.tar", ["taput-2"])
    assert r.counts["transmissions"] == r.audio_files == 1
    assert verify(tmp_path / "two.tar").manifest["gateway_ids"] == ["taput-2"]


def test_retention_command_line(cfg: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = Path(__file__).resolve().parent.parent
    conf = tmp_path / "retention.toml"
    conf.write_text((repo / "config" / "tapanuli-utara.toml").read_text() + "\n[retention]\naudio_days = 3\n")
    data = tmp_path / "data"
    data.mkdir()

    def cli(*args: str) -> int:
        return main(["--config", str(conf), "--data-dir", str(data), *args])

    assert cli("db", "upgrade") == 0
    db = Database(default_url(data))
    day = build_day(db, cfg, data, day=DAY - timedelta(days=30), next_day=False)
    db.close()
    capsys.readouterr()
    with DataDirLock(data, "ht-gateway run"):
        assert cli("retention", "--dry-run") == 0  # reads only: allowed beside the daemon
        assert capsys.readouterr().out.strip() == \
            "2026-10-21 audio: would delete 3 recording(s) of 3 transmission(s)"
        assert cli("retention") == 1
        assert "refused while pid" in capsys.readouterr().err
    assert all(p.is_file() for p in day.path.values())
    assert cli("retention") == 0
    assert capsys.readouterr().out.strip() == "2026-10-21 audio: deleted 3 recording(s) of 3 transmission(s)"
    assert not any(p.exists() for p in day.path.values())


def test_an_interrupted_restore_is_finished_by_running_it_again(sqlite_db: Database, cfg: Config,
                                                                tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import gateway.restore as restore_mod

    data = tmp_path / "data"
    day = build_day(sqlite_db, cfg, data, next_day=False)
    before, recordings = snapshot(sqlite_db, DAY), _files(data / "recordings")
    out = tmp_path / "day.tar"
    make_backup(sqlite_db, data, DAY, cfg.tz, out)
    wipe(sqlite_db, data)
    # killed before the commit: only a temporary file is left, which recovery ignores
    dest = next(iter(day.path.values()))
    dest.parent.mkdir(parents=True)
    stale = dest.with_name(f".{dest.name}.restore-99999.tmp")
    stale.write_bytes(b"half")
    assert recover_interrupted(sqlite_db, data, cfg) == []
    # killed after the commit, before the renames
    real = restore_mod.os.replace

    def killed(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(restore_mod.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        restore(sqlite_db, data, out)
    monkeypatch.setattr(restore_mod.os, "replace", real)
    assert snapshot(sqlite_db, DAY) == before and not dest.exists()
    again = restore(sqlite_db, data, out)
    assert again.inserted["transmissions"] == 0 and again.audio_written == 3
    assert _files(data / "recordings") == recordings and not stale.exists()
    assert snapshot(sqlite_db, DAY) == before
