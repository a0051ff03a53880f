"""A gateway through a database outage: the rows it keeps on disk (gateway/pending.py), recovery that
touches only its own gateway's rows, and a daemon killed while PostgreSQL is away (issue 15).

The process-level test runs ``ht-gateway process --realtime`` on a generated channel against the
test's own PostgreSQL server (tests/officekit.py), stops the server after the first transmission is
stored, SIGKILLs the process once the next two are closed, starts the server again and lets a new
process's start-up recovery store them. Truth: the generator's transmissions (tests/faultkit.py
``check``) and the kernel (the kill).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from faultkit import START, check, config, silence
from officekit import PrivatePostgres, wait_for
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from gateway.config import parse
from gateway.pending import FILE, PendingRows
from gateway.recovery import recover_interrupted
from gateway.store.db import Database
from gateway.store.models import Event, Transmission

from conftest import REPO

AT = datetime(2026, 12, 1, 0, 30, tzinfo=UTC)


def _cols(uid: str, rel: str, digest: str, gateway_id: str = "gw1") -> dict:
    return {"uid": uid, "started_at": AT, "audio_started_at": AT - timedelta(seconds=0.5),
            "ended_at": AT + timedelta(seconds=4), "duration_s": 4.0, "kerchunk": False, "stuck": False,
            "cut_short": False, "recovered": False, "status": "complete", "asr_pending": True,
            "temp_path": None, "audio_path": rel, "sha256": digest, "audio_bytes": 5, "source": "pulse",
            "gateway_id": gateway_id, "channel_id": "ch1", "ani": "101", "dtmf": [{"digits": "101"}]}


def _file(data: Path, uid: str) -> tuple[str, str]:
    rel = f"recordings/2026/12/01/073000_{uid[:8]}.ogg"
    (data / rel).parent.mkdir(parents=True, exist_ok=True)
    (data / rel).write_bytes(b"OggS\0")
    return rel, hashlib.sha256(b"OggS\0").hexdigest()


def test_pending_rows_survive_a_torn_line_and_replay_once(sqlite_db: Database, tmp_path: Path) -> None:
    data = tmp_path
    pending = PendingRows(data)
    rel_a, digest = _file(data, "a" * 32)
    rel_b, _ = _file(data, "b" * 32)
    rel_c, _ = _file(data, "c" * 32)
    pending.add("a" * 32, _cols("a" * 32, rel_a, digest))
    pending.add("b" * 32, _cols("b" * 32, rel_b, digest))
    pending.add("c" * 32, _cols("c" * 32, rel_c, digest))
    with open(data / FILE, "a") as f:
        f.write('{"uid": "dddd", "cols": {"sta')  # a crash while appending
    assert [u[0] for u, _ in pending.entries()] == ["a", "b", "c"]
    assert pending.entries()[0][1]["started_at"] == AT  # datetimes come back as datetimes
    with sqlite_db.write() as s:  # a: stored already (the writer, from memory); b: its open committed
        s.add(Transmission(**_cols("a" * 32, rel_a, digest)))
        s.add(Transmission(uid="b" * 32, started_at=AT, audio_started_at=AT, status="recording",
                           temp_path="recordings/2026/12/01/.x.ogg.part", kerchunk=False, stuck=False))
    calls: list[str] = []
    stored = pending.replay(sqlite_db, data, lambda s, row: calls.append(row.uid))
    assert len(stored) == 2 and sorted(calls) == ["b" * 32, "c" * 32]  # a is not stored twice
    assert not (data / FILE).exists()
    with sqlite_db.read() as s:
        rows = {r.uid: r for r in s.scalars(select(Transmission))}
    assert sorted(rows) == ["a" * 32, "b" * 32, "c" * 32]
    for r in rows.values():
        assert (r.status, r.temp_path, r.recovered, r.duration_s, r.source, r.ani) == \
            ("complete", None, False, 4.0, "pulse", "101")
    assert pending.replay(sqlite_db, data, lambda s, row: calls.append(row.uid)) == []


def test_a_pending_row_whose_recording_is_gone_is_dropped(sqlite_db: Database, tmp_path: Path) -> None:
    pending = PendingRows(tmp_path)
    pending.add("e" * 32, _cols("e" * 32, "recordings/2026/12/01/gone.ogg", "0" * 64))
    assert pending.replay(sqlite_db, tmp_path, lambda s, row: None) == []
    with sqlite_db.read() as s:
        assert s.scalar(select(Transmission.id)) is None
    assert not (tmp_path / FILE).exists()


def test_recovery_leaves_another_gateways_live_rows_alone(sqlite_db: Database, tmp_path: Path) -> None:
    """On a shared database another gateway's row in ``recording`` is its live transmission, its
    file in that gateway's data directory: recovery here must neither complete nor delete it."""
    cfg = parse('[gateway]\nid = "taput-1"\n', "t.toml")
    with sqlite_db.write() as s:
        for gw in ("taput-1", "taput-2"):
            s.add(Transmission(uid=f"{gw:x<32}", started_at=AT, audio_started_at=AT, status="recording",
                               temp_path=f"recordings/2026/12/01/.{gw}.ogg.part", kerchunk=False,
                               stuck=False, gateway_id=gw))
    recover_interrupted(sqlite_db, tmp_path, cfg)
    with sqlite_db.read() as s:
        left = {r.gateway_id: r.status for r in s.scalars(select(Transmission))}
        lost = list(s.scalars(select(Event.message).where(Event.kind == "recording_lost")))
    assert left == {"taput-2": "recording"}  # ours had no audio at all: removed, with an event
    assert len(lost) == 1 and "taput-1" in lost[0]


@pytest.mark.slow
def test_killed_while_postgresql_is_away_stores_the_live_rows_at_the_next_start(
        private_pg: PrivatePostgres, tmp_path: Path, channel) -> None:
    path, truth = channel
    data, cfg = tmp_path / "data", config(tmp_path / "c.toml", private_pg.url)
    db = Database(private_pg.url)
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "--config", str(cfg), "--data-dir", str(data),
                             "process", str(path), "--start", START, "--realtime"], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def stored() -> bool:
            try:
                with db.read() as s:
                    return s.scalar(select(Transmission.id).where(Transmission.status == "complete")) \
                        is not None
            except SQLAlchemyError:  # the process has not created the schema yet
                return False

        assert wait_for(stored, 60, 0.05), proc.stderr
        db.close()
        private_pg.stop()
        assert wait_for(lambda: len(PendingRows(data).entries()) == 2, 60, 0.05)
        proc.kill()  # SIGKILL: what was in memory is gone
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        with contextlib.suppress(RuntimeError):  # (already running when the test failed early)
            private_pg.start()
    kept = [json.loads(line)["uid"] for line in (data / FILE).read_text().splitlines()]
    # the next start (any command that opens the store: here `process` of a second of silence)
    again = subprocess.run([sys.executable, "-m", "gateway", "--config", str(cfg), "--data-dir", str(data),
                            "process", str(silence(tmp_path)), "--start", "2026-11-25T09:00:00+07:00"],
                           cwd=REPO, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "stored 2 transmission(s) kept in pending-rows.jsonl" in again.stderr, again.stderr
    got = check(data, private_pg.url, truth, {0, 1, 2})
    by_uid = {r.uid: r for r in got.values()}
    for uid in kept:  # stored with the live columns, not rebuilt from the file ("recovered")
        assert not by_uid[uid].recovered and by_uid[uid].source.startswith("file:"), uid
    assert not (data / FILE).exists()
    Database(private_pg.url).close()



#: A PostgreSQL server that is not there: the kernel refuses the connection at once (no such socket).
AWAY = "postgresql+psycopg://postgres@/office?host=/nonexistent-ht-socket-dir&port=5999"


def test_health_is_written_while_the_database_is_away(tmp_path: Path) -> None:
    from gateway.health import Health, _text

    db = Database(AWAY)
    try:
        snap = Health().snapshot(db, None, {"capture": {"state": "running"}})
    finally:
        db.close()
    assert snap["database"]["state"] == "unreachable" and "No such file" in snap["database"]["reason"]
    assert snap["capture"]["state"] == "starting" and "reports" not in snap
    assert "database: unreachable" in _text(snap, 0.0)


def test_web_answers_503_with_a_page_while_the_database_is_away(tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from gateway.web.app import create_app
    from gateway.web.auth import SESSION_COOKIE

    db = Database(AWAY)
    try:
        client = TestClient(create_app(parse("", "t.toml"), db, tmp_path), raise_server_exceptions=False)
        client.cookies.set(SESSION_COOKIE, "a-session-token")  # checking it needs the database
        page = client.get("/log")
        assert page.status_code == 503 and page.headers["retry-after"] == "10"
        assert "Basis data tidak terjangkau" in page.text and "Traceback" not in page.text
        api = client.get("/audio/1/peaks.json")
        assert (api.status_code, api.text) == (503, "database unreachable; try again shortly")
        client.cookies.clear()
        assert client.get("/login").status_code == 200  # the login form needs no database
    finally:
        db.close()


def test_a_gateways_daemon_claims_only_its_own_recordings(sqlite_db: Database, tmp_path: Path) -> None:
    """Two gateways on one database: a daemon reads recordings from its own data directory, so it
    must not claim another gateway's job (it would store "No such file" as that job's transcript)."""
    from gateway.jobs import Claims

    ids = {}
    with sqlite_db.write() as s:
        for gw in ("taput-1", "taput-2"):
            row = Transmission(uid=f"{gw:y<32}", started_at=AT, audio_started_at=AT, status="complete",
                               kerchunk=False, stuck=False, gateway_id=gw, asr_pending=True,
                               audio_path="recordings/x.ogg")
            s.add(row)
            s.flush()
            ids[gw] = row.id
    daemon = Claims(sqlite_db, "taput-2:daemon@h:1:a", 60, gateway_id="taput-2")
    first = daemon.next()
    assert first is not None and first.tx_id == ids["taput-2"]
    assert daemon.next() is None  # taput-1's job is not its own
    worker = Claims(sqlite_db, "office:worker@h:2:b", 60)
    job = worker.next()
    assert job is not None and job.tx_id == ids["taput-1"]  # left for a worker


def test_the_transcription_stage_waits_out_an_outage_without_dying(tmp_path: Path, caplog) -> None:
    from gateway.asr.fake import FakeRecognizer
    from gateway.transcribe import TranscriptionStage

    db = Database(AWAY)
    stage = TranscriptionStage(FakeRecognizer(), db, tmp_path).start()
    try:
        time.sleep(5.0)  # catch-up scans every 2 s: two or three failing tries
        assert stage.restarts == 0 and stage._thread is not None and stage._thread.is_alive()
    finally:
        stage.stop()
        db.close()
    lines = [r for r in caplog.records if r.name == "gateway.transcribe"]
    assert len(lines) == 1 and "database error" in lines[0].getMessage(), [r.getMessage() for r in lines]
