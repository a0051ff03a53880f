"""Recordings reachable from the office (issue 15): ``store.audio_in_db`` copies each recording into
``transmission_audio`` after its row; the web UI and the worker read that copy when the file is not on
their machine, with the sha256 checked at every hop (gateway/audiostore.py).

Recordings are made by the real writer (real Ogg Opus files); every copy is compared with the bytes
of the file on disk and with hashlib over them, never with what the code under test computed.
Over SQLite and a real PostgreSQL (tests/conftest.py); the worker and the outage need PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from faultkit import START, cli
from sqlalchemy import create_engine, func, select, text, update
from test_web_helpers import assert_audio_served, logged_in, make_web

from gateway.audiostore import AudioPusher
from gateway.config import Config, StoreConfig
from gateway.recorder import Recorder
from gateway.segmenter import TxInfo
from gateway.store.db import Database, default_url
from gateway.store.models import Event, Transmission, TransmissionAudio
from gateway.writer import TransmissionWriter

WIB = ZoneInfo("Asia/Jakarta")
DAY = datetime(2026, 11, 20, 7, 0, tzinfo=WIB)


def cfg_with(base: Config, db: Database, audio_in_db: bool = True) -> Config:
    return dataclasses.replace(base, store=StoreConfig(url=db.url, audio_in_db=audio_in_db))


def record(db: Database, data_dir: Path, cfg: Config, n: int, seconds: float = 1.5) -> list[int]:
    """``n`` transmissions through the real writer (noise bursts), as the pipeline closes them."""
    writer = TransmissionWriter(db, Recorder(data_dir / "recordings", 16000, cfg.recorder, WIB), data_dir,
                                "test", cfg=cfg)
    rng = np.random.default_rng(7)
    for i in range(n):
        t = (DAY + timedelta(minutes=i)).timestamp()
        tx = TxInfo(uid=f"aud{i:03d}{int(t)}", start=t, audio_start=t - 0.5)
        writer.on_open(tx)
        for _ in range(int((seconds + 0.5) / 0.02)):
            writer.on_audio(tx, (0.1 * rng.standard_normal(320)).astype(np.float32))
        tx.end = t + seconds
        writer.on_close(tx)
    writer.finish()
    return list(writer.closed)


def copies(db: Database) -> dict[int, tuple[str, bytes]]:
    with db.read() as s:
        return {r.transmission_id: (r.sha256, bytes(r.data)) for r in s.scalars(select(TransmissionAudio))}


def files(db: Database, data_dir: Path) -> dict[int, bytes]:
    with db.read() as s:
        return {r.id: (data_dir / r.audio_path).read_bytes() for r in s.scalars(select(Transmission))}


def pending(db: Database) -> set[int]:
    with db.read() as s:
        return set(s.scalars(select(Transmission.id).where(Transmission.audio_push_pending)))


def test_each_recording_is_pushed_once_after_its_row(db: Database, tmp_path: Path,
                                                     example_config: Config) -> None:
    cfg = cfg_with(example_config, db)
    ids = record(db, tmp_path, cfg, 3)
    assert pending(db) == set(ids) and copies(db) == {}  # the row's commit carries no audio
    pusher = AudioPusher(db, tmp_path, cfg.gateway.id)
    got = pusher.push_pending()
    assert (got.pushed, got.refused) == (3, 0)
    on_disk = files(db, tmp_path)
    with db.read() as s:
        row_hash = {i: h for i, h in s.execute(select(Transmission.id, Transmission.sha256))}
    assert copies(db) == {i: (hashlib.sha256(on_disk[i]).hexdigest(), on_disk[i]) for i in ids}
    assert all(hashlib.sha256(on_disk[i]).hexdigest() == row_hash[i] for i in ids)
    assert pending(db) == set()
    again = pusher.push_pending()
    assert (again.pushed, again.refused) == (0, 0)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(TransmissionAudio)) == 3


def test_nothing_is_pushed_with_audio_in_db_off_or_for_another_gateway(db: Database, tmp_path: Path,
                                                                       example_config: Config) -> None:
    record(db, tmp_path / "off", cfg_with(example_config, db, audio_in_db=False), 2)
    assert pending(db) == set()
    on = cfg_with(example_config, db)
    ids = record(db, tmp_path / "on", on, 1)
    assert AudioPusher(db, tmp_path / "on", "some-other-gw").push_pending().pushed == 0
    assert pending(db) == set(ids)  # left for the gateway that has the file
    assert AudioPusher(db, tmp_path / "on", on.gateway.id).push_pending().pushed == 1


def test_a_file_gone_or_changed_before_the_push_is_not_pushed(db: Database, tmp_path: Path,
                                                               example_config: Config) -> None:
    cfg = cfg_with(example_config, db)
    gone, changed, good = record(db, tmp_path, cfg, 3)
    on_disk = files(db, tmp_path)
    with db.read() as s:
        paths = {r.id: tmp_path / r.audio_path for r in s.scalars(select(Transmission))}
    paths[gone].unlink()
    paths[changed].write_bytes(on_disk[changed][:-1] + bytes([on_disk[changed][-1] ^ 1]))
    got = AudioPusher(db, tmp_path, cfg.gateway.id).push_pending()
    assert (got.pushed, got.refused) == (1, 2)
    assert copies(db) == {good: (hashlib.sha256(on_disk[good]).hexdigest(), on_disk[good])}
    assert pending(db) == set()  # not retried for ever; the events say why
    with db.read() as s:
        said = {i: m for i, m in s.execute(select(Event.transmission_id, Event.message)
                                           .where(Event.kind == "audio_not_pushed"))}
    assert set(said) == {gone, changed}
    assert "not on this gateway's disk" in said[gone] and "does not match" in said[changed]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_process_killed_in_the_push_pushes_at_the_next_run(backend: str, request: pytest.FixtureRequest,
                                                              tmp_path: Path,
                                                              channel: tuple[Path, dict]) -> None:
    """``ht-gateway process`` SIGKILLed inside the first push's transaction: every row is stored and
    still pending, no copy; the next run of the same file stores nothing twice and pushes them all."""
    path, truth = channel
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    data = tmp_path / "data"
    cfg = tmp_path / "c.toml"
    cfg.write_text('[asr]\nengine = "none"\n[store]\naudio_in_db = true\n'
                   + (f'url = "{url}"\n' if url else ""))
    r = cli(data, cfg, "process", str(path), "--start", START, fault="audio_push_commit")
    assert r.returncode == -9, r.stderr
    db = Database(url or default_url(data))
    try:
        with db.read() as s:
            rows = list(s.scalars(select(Transmission).order_by(Transmission.id)))
        assert len(rows) == len(truth["transmissions"]) and all(r.status == "complete" for r in rows)
        assert pending(db) == {r.id for r in rows} and copies(db) == {}
        r = cli(data, cfg, "process", str(path), "--start", START)
        assert r.returncode == 0, r.stderr
        with db.read() as s:
            assert s.scalar(select(func.count()).select_from(Transmission)) == len(rows)
        on_disk = files(db, data)
        assert copies(db) == {i: (hashlib.sha256(b).hexdigest(), b) for i, b in on_disk.items()}
        assert {r.id: r.sha256 for r in rows} == {i: hashlib.sha256(b).hexdigest()
                                                  for i, b in on_disk.items()}
        assert pending(db) == set()
    finally:
        db.close()


def test_a_database_outage_leaves_the_pushes_pending_until_it_returns(pg_url: str, pg_server_url: str,
                                                                      tmp_path: Path,
                                                                      example_config: Config) -> None:
    """PostgreSQL refuses every connection to the database while the pusher runs (its connections
    killed, new ones refused); it keeps the work pending and pushes everything once it is back."""
    db = Database(pg_url)
    db.migrate()
    cfg = cfg_with(example_config, db)
    ids = record(db, tmp_path, cfg, 2)
    name = pg_url.rsplit("/", 1)[1]
    admin = create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    pusher_db = Database(pg_url)
    pusher = AudioPusher(pusher_db, tmp_path, cfg.gateway.id, interval_s=1.0)
    stop = threading.Event()
    thread = threading.Thread(target=pusher.run, args=(stop,), daemon=True)
    try:
        with pusher_db.read() as s:
            s.execute(text("select 1"))  # a pooled connection, killed below
        db.close()
        with admin.connect() as c:
            c.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            c.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                      {"n": name})
        thread.start()
        time.sleep(3.0)  # three passes or more, each failing
        assert thread.is_alive() and pusher.total.pushed == 0
        with admin.connect() as c:
            c.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        pusher.wake()
        deadline = time.monotonic() + 20
        while pusher.total.pushed < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert pusher.total.pushed == 2
        on_disk = files(pusher_db, tmp_path)
        assert copies(pusher_db) == {i: (hashlib.sha256(on_disk[i]).hexdigest(), on_disk[i]) for i in ids}
        assert pending(pusher_db) == set()
    finally:
        stop.set()
        pusher.wake()
        thread.join(10) if thread.is_alive() else None
        with admin.connect() as c:
            c.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()
        pusher_db.close()
    assert not thread.is_alive()


# -- the office's web UI: no gateway disk ------------------------------------------------------------

@pytest.fixture
def pushed(db: Database, tmp_path: Path, example_config: Config) -> tuple[int, bytes]:
    """One recording pushed by its gateway (data dir ``gw``); returns its id and the file's bytes."""
    cfg = cfg_with(example_config, db)
    [tx_id] = record(db, tmp_path / "gw", cfg, 1, seconds=2.5)
    assert AudioPusher(db, tmp_path / "gw", cfg.gateway.id).push_pending().pushed == 1
    return tx_id, files(db, tmp_path / "gw")[tx_id]


def test_the_office_plays_a_recording_from_the_database(db: Database, tmp_path: Path,
                                                        example_config: Config,
                                                        pushed: tuple[int, bytes]) -> None:
    tx_id, data = pushed
    office = tmp_path / "office"  # the central web UI: an empty data directory
    office.mkdir()
    client = logged_in(make_web(db, office, example_config), "vivi")
    assert_audio_served(client, tx_id, data, unsatisfiable=("bytes=-0",))
    for header in ("bytes=0-9,20-29", "bytes=9-3", "items=0-9"):  # ignored (RFC 9110): the whole
        r = client.get(f"/audio/{tx_id}", headers={"Range": header})
        assert r.status_code == 200 and r.content == data, header
    peaks = client.get(f"/audio/{tx_id}/peaks.json").json()
    assert peaks["duration"] == pytest.approx(3.0, abs=0.1) and max(peaks["peaks"]) == 1.0


def test_a_changed_database_copy_is_refused(db: Database, tmp_path: Path, example_config: Config,
                                            pushed: tuple[int, bytes]) -> None:
    tx_id, data = pushed
    office = tmp_path / "office"
    office.mkdir()
    client = logged_in(make_web(db, office, example_config), "vivi")
    bad = data[:200] + bytes([data[200] ^ 0xFF]) + data[201:]
    for copy_hash in (hashlib.sha256(data).hexdigest(), hashlib.sha256(bad).hexdigest()):
        # the bytes changed; then the bytes and the copy's own hash (only the row's still says no)
        with db.write() as s:
            s.execute(update(TransmissionAudio).where(TransmissionAudio.transmission_id == tx_id)
                      .values(data=bad, sha256=copy_hash))
        for path in (f"/audio/{tx_id}", f"/audio/{tx_id}/peaks.json"):
            r = client.get(path, headers={"Range": "bytes=0-10"})
            assert r.status_code == 404, (copy_hash, path)
            assert b"OggS" not in r.content and f"transmisi {tx_id}".encode() in r.content
            assert "tidak cocok" in r.text


def test_the_local_file_first_and_the_copy_when_the_file_is_changed(db: Database, tmp_path: Path,
                                                                    example_config: Config,
                                                                    pushed: tuple[int, bytes]) -> None:
    tx_id, data = pushed
    gw = tmp_path / "gw"  # the gateway's own web UI
    client = logged_in(make_web(db, gw, example_config), "vivi")
    with db.write() as s:  # a database copy that differs: served only if the file were not good
        s.execute(update(TransmissionAudio).where(TransmissionAudio.transmission_id == tx_id)
                  .values(data=b"x" + data[1:]))
    assert client.get(f"/audio/{tx_id}").content == data  # the file, whose hash matches
    with db.write() as s:
        s.execute(update(TransmissionAudio).where(TransmissionAudio.transmission_id == tx_id)
                  .values(data=data))
        rel = s.scalar(select(Transmission.audio_path).where(Transmission.id == tx_id))
    (gw / rel).write_bytes(data[:-10])  # the file changed on disk: the intact copy instead
    r = client.get(f"/audio/{tx_id}")
    assert r.status_code == 200 and r.content == data
    with db.write() as s:
        s.execute(update(TransmissionAudio).where(TransmissionAudio.transmission_id == tx_id)
                  .values(data=data[:-10]))
    r = client.get(f"/audio/{tx_id}")  # neither matches: nothing is served
    assert r.status_code == 404 and b"OggS" not in r.content


def test_a_recording_nowhere_is_a_404_naming_the_transmission(db: Database, tmp_path: Path,
                                                              example_config: Config) -> None:
    cfg = cfg_with(example_config, db, audio_in_db=False)
    [tx_id] = record(db, tmp_path / "gw", cfg, 1)
    office = tmp_path / "office"
    office.mkdir()
    r = logged_in(make_web(db, office, example_config), "vivi").get(f"/audio/{tx_id}")
    assert r.status_code == 404 and f"transmisi {tx_id}" in r.text and "basis data" in r.text


# -- a transcription worker with no shared directory (PostgreSQL) -----------------------------------

def test_a_worker_with_an_empty_data_dir_transcribes_from_the_database(pg_url: str, tmp_path: Path) -> None:
    from test_worker import DAY as WDAY
    from test_worker import add_job, expected, transcripts, worker, write_config

    db = Database(pg_url)
    db.migrate()
    try:
        gw = tmp_path / "gw"
        jobs = {add_job(db, gw, n, WDAY + timedelta(minutes=n)): n for n in (2, 3)}
        bad = add_job(db, gw, 1, WDAY + timedelta(minutes=9))
        with db.write() as s:  # as the writer completes a row with store.audio_in_db on
            s.execute(update(Transmission).values(audio_push_pending=True))
        assert AudioPusher(db, gw, "gw1").push_pending().pushed == 3
        with db.write() as s:  # one copy changed in the database after the push
            s.execute(update(TransmissionAudio).where(TransmissionAudio.transmission_id == bad)
                      .values(data=func.substr(TransmissionAudio.data, 1, 100)))
        empty = tmp_path / "worker"
        empty.mkdir()
        p = worker(write_config(tmp_path, pg_url), empty, 0.0, "--once")
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert out.startswith("worker: 3 claimed"), out
        got = transcripts(db)
        assert {tx: got[tx] for tx in jobs} == {tx: [("done", expected(n), None)] for tx, n in jobs.items()}
        [(status, text_, error)] = got[bad]
        assert status == "failed" and text_ == "" and error is not None
        assert "No such file" in error and "database copy" in error and "does not match" in error
        assert not any(empty.iterdir())  # it read nothing from disk, wrote nothing there
    finally:
        db.close()


def test_the_daemon_pushes_while_it_runs(tmp_path: Path) -> None:
    """``ht-gateway run`` (the demo channel: no radio configured) with ``store.audio_in_db``: its
    pusher thread copies every recording while the daemon runs; SIGTERM stops it cleanly."""
    import os
    import signal
    import subprocess
    import sys

    from conftest import REPO

    data = tmp_path / "data"
    cfg = tmp_path / "c.toml"
    cfg.write_text('[web]\nserve = false\n[asr]\nengine = "none"\n[store]\naudio_in_db = true\n')
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "--config", str(cfg), "--data-dir", str(data),
                             "run"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "NOTIFY_SOCKET": ""})
    try:
        deadline = time.monotonic() + 150
        done = False
        while time.monotonic() < deadline and not done and proc.poll() is None:
            time.sleep(0.5)
            if not (data / "gateway.sqlite3").exists():
                continue
            db = Database(default_url(data))
            try:
                if "transmission_audio" not in db.tables():
                    continue
                with db.read() as s:
                    n = s.scalar(select(func.count()).select_from(Transmission)
                                 .where(Transmission.status == "complete"))
                    idle = s.scalar(select(func.count()).select_from(Transmission)
                                    .where(Transmission.status != "complete")) == 0
                got = copies(db)
                done = idle and n is not None and n >= 5 and len(got) == n
                if done:
                    on_disk = files(db, data)
                    assert got == {i: (hashlib.sha256(b).hexdigest(), b) for i, b in on_disk.items()}
            finally:
                db.close()
        assert done, "the daemon did not copy its recordings"
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
