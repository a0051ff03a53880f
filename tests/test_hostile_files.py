"""What a hostile tester found: odd files and arguments that gave a traceback, a crash at start, or
a wrong answer. Each ends as one line (or a page that says so), leaves nothing behind, and loses
nothing that was recorded.

Truth here is independent of the code under test: the bytes of the files before and after, the
generator's times of the sample morning (tests/data/sample_morning.truth.json), the WAV header
written by hand (``struct``), the kernel's own answer on a busy port.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import socket
import struct
import threading
import time
import urllib.request
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sqlalchemy import select

from gateway.audio.source import AudioSourceError, FileSource
from gateway.config import Config
from gateway.health import _SHAPE, Health, status, write_atomic
from gateway.store.db import Database, default_url
from gateway.store.models import Transmission

from conftest import DATA, run_cli

START = "2026-11-20T07:05:00+07:00"


def _one_line_error(r, *needles: str) -> str:
    assert r.returncode != 0, r.stdout
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("ht-gateway: error:")]
    assert len(errors) == 1, r.stderr[-3000:]
    for n in needles:
        assert n in errors[0], errors[0]
    return errors[0]


def _config(tmp_path: Path) -> Path:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[asr]\nengine = "none"\n')
    return cfg


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- 1: an odd name in the recordings tree -----------------------------------------------------

def test_process_starts_beside_recordings_with_impossible_names(tmp_path: Path) -> None:
    data = tmp_path / "data"
    day = data / "recordings" / "2026" / "12" / "04"
    day.mkdir(parents=True)
    junk = day / ("20261399T999999.000+0700_" + "c" * 32 + ".ogg")
    junk.write_text("x\n")
    far = day / ("99991231T235959.999+1400_" + "d" * 32 + ".ogg")
    tone = (0.3 * np.sin(np.arange(32000) * 0.2)).astype(np.float32)
    sf.write(str(far), tone, 16000, format="OGG", subtype="OPUS")
    kept = {p: _sha(p) for p in (junk, far)}
    quiet = tmp_path / "quiet.wav"
    sf.write(str(quiet), np.zeros(32000, np.float32), 16000)
    r = run_cli("--config", str(_config(tmp_path)), "--data-dir", str(data), "process", str(quiet),
                "--start", START)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr[-3000:]
    for p in kept:
        assert [ln for ln in r.stderr.splitlines() if p.name in ln and "left as it is" in ln], r.stderr
    assert {p: _sha(p) for p in kept} == kept  # nothing that was there is lost or changed
    assert _rows(data) == []


# -- 2: a database file SQLite cannot read ----------------------------------------------------

@pytest.mark.parametrize("damage", ["garbage", "pages"])
def test_an_unreadable_database_is_one_line_naming_it(tmp_path: Path, damage: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    db_file = data / "gateway.sqlite3"
    if damage == "garbage":
        db_file.write_bytes(b"garbage\n")
    else:  # a real database, its pages after the header overwritten: readable header, damaged tables
        db = Database(default_url(data))
        db.migrate()
        db.close()
        raw = bytearray(db_file.read_bytes())
        (data / "gateway.sqlite3-wal").unlink(missing_ok=True)
        raw[4096:] = b"\x55" * (len(raw) - 4096)
        db_file.write_bytes(bytes(raw))
    before = _sha(db_file)
    cfg = _config(tmp_path)
    for args in (["db", "status"], ["export", "transmissions", "--date", "2026-11-20"], ["user", "list"],
                 ["process", str(DATA / "sample_morning.flac"), "--start", START]):
        r = run_cli("--config", str(cfg), "--data-dir", str(data), *args)
        line = _one_line_error(r, str(db_file), "not a readable database")
        assert "restore" in line and r.returncode == 1, line
        assert _sha(db_file) == before  # left as it was, to be saved by hand
    assert not (data / "recordings").exists()  # process stored nothing


# -- 3: --start in the years every other command takes ----------------------------------------

@pytest.mark.parametrize("start", ["9999-12-31T23:59:50+00:00", "0001-01-01T00:00:00+00:00",
                                   "2100-01-01T00:00:00+07:00", "1999-12-31T23:59:59"])
def test_process_start_outside_the_command_line_years_is_refused(tmp_path: Path, start: str) -> None:
    r = run_cli("--config", str(_config(tmp_path)), "--data-dir", str(tmp_path / "d"), "process",
                str(DATA / "sample_morning.flac"), "--start", start)
    _one_line_error(r, f"--start {start!r}", "2000-01-01", "2099-12-31")
    assert r.returncode == 2
    assert not (tmp_path / "d").exists()


def test_without_start_a_file_time_outside_those_years_is_refused(tmp_path: Path) -> None:
    from gateway.cli.main import ConfigError, parse_start

    old = tmp_path / "old.flac"
    old.write_bytes((DATA / "sample_morning.flac").read_bytes())
    os.utime(old, (0, 0))  # 1970: a file that lost its time
    with pytest.raises(ConfigError, match="give --start"):
        parse_start(None, Config().tz, old)
    edge = parse_start("2099-12-31T23:59:59+07:00", Config().tz, old)
    assert edge == datetime.fromisoformat("2099-12-31T23:59:59+07:00")


# -- 4: a truncated WAV is cut short, as a truncated FLAC is ----------------------------------

def _wav_bytes(audio: np.ndarray, rate: int, extra_chunk: bytes = b"", data_size: int | None = None) -> bytes:
    """A 16-bit PCM mono WAV written by hand (so the header is not the code under test's reading)."""
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    size = len(pcm) if data_size is None else data_size
    body = (b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + extra_chunk
            + b"data" + struct.pack("<I", size) + pcm)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def test_the_header_count_of_a_wav(tmp_path: Path) -> None:
    from gateway.audio.source import wav_declared_frames

    audio = np.zeros(16000, np.float32)
    whole = tmp_path / "whole.wav"
    whole.write_bytes(_wav_bytes(audio, 16000, extra_chunk=b"LIST" + struct.pack("<I", 5) + b"abcde\0"))
    assert sf.info(str(whole)).frames == 16000  # libsndfile reads the hand-made file as written
    assert wav_declared_frames(whole) == 16000  # an odd-sized chunk before data is skipped with its pad
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole.read_bytes()[:-10000])
    assert wav_declared_frames(cut) == 16000 and sf.info(str(cut)).frames == 16000 - 5000
    streamed = tmp_path / "streamed.wav"
    streamed.write_bytes(_wav_bytes(audio, 16000, data_size=0xFFFFFFFF))
    assert wav_declared_frames(streamed) is None  # a writer that could not seek back says nothing
    assert wav_declared_frames(DATA / "sample_morning.flac") is None


def test_a_truncated_wav_raises_after_its_last_sample(tmp_path: Path) -> None:
    rate = 16000
    audio = (0.1 * np.sin(np.arange(3 * rate) * 0.05)).astype(np.float32)
    cut = tmp_path / "cut.wav"
    cut.write_bytes(_wav_bytes(audio, rate)[: 44 + 2 * rate * 2])  # 2 s of the 3 s the header says
    src = FileSource(cut, 0.0, block_ms=20)
    got: list[np.ndarray] = []
    with pytest.raises(AudioSourceError, match="truncated"):
        got.extend(b.samples for b in src.blocks(threading.Event()))
    assert sum(len(g) for g in got) == 2 * rate  # everything that is there was delivered first
    whole = tmp_path / "whole.wav"
    whole.write_bytes(_wav_bytes(audio, rate))
    assert sum(len(b.samples) for b in FileSource(whole, 0.0).blocks(threading.Event())) == 3 * rate


def _rows(data: Path) -> list[Transmission]:
    db = Database(default_url(data))
    try:
        with db.read() as s:
            return list(s.scalars(select(Transmission).order_by(Transmission.id)))
    finally:
        db.close()


def test_a_truncated_wav_is_cut_short_and_completed_by_running_again(tmp_path: Path,
                                                                        sample_truth: dict) -> None:
    first = sample_truth["transmissions"][0]  # the generator's own times of the first call
    audio, rate = sf.read(str(DATA / "sample_morning.flac"), dtype="float32")
    audio = audio[: int((first["end_s"] + 3.0) * rate)]  # the first call and 3 s of the channel after
    wav = tmp_path / "talk.wav"
    whole = _wav_bytes(audio, rate)
    cut_at_s = first["start_s"] + 4.0  # the file breaks off 4 s into the call
    wav.write_bytes(whole[: 44 + int(cut_at_s * rate) * 2])
    data, cfg = tmp_path / "data", _config(tmp_path)
    t0 = datetime.fromisoformat(START).timestamp()

    r = run_cli("--config", str(cfg), "--data-dir", str(data), "process", str(wav), "--start", START)
    _one_line_error(r, "talk.wav", "truncated")
    (row,) = _rows(data)
    assert row.cut_short and row.status == "complete"
    assert row.started_at.timestamp() - t0 == pytest.approx(first["start_s"], abs=0.3)
    assert row.ended_at.timestamp() - t0 == pytest.approx(cut_at_s, abs=0.3)

    wav.write_bytes(whole)  # the repaired copy, same name, same --start
    r = run_cli("--config", str(cfg), "--data-dir", str(data), "process", str(wav), "--start", START)
    assert r.returncode == 0, r.stderr[-3000:]
    (again,) = _rows(data)
    assert again.id == row.id and not again.cut_short  # recorded again whole, in its place
    assert again.ended_at.timestamp() - t0 == pytest.approx(first["end_s"], abs=0.5)


# -- 5: process FILE that is not a regular file -----------------------------------------------

def test_process_says_what_the_input_is(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    for path, says in ((tmp_path, "is a directory"), (fifo, "is not a regular file (a FIFO)"),
                       (tmp_path / "nope.wav", "file not found")):
        r = run_cli("--config", str(_config(tmp_path)), "--data-dir", str(tmp_path / "d"), "process",
                    str(path), "--start", START, timeout=60)
        _one_line_error(r, str(path), says)
        assert not (tmp_path / "d").exists()


# -- 6: a health file that is not what the daemon writes --------------------------------------

def _bad_health(now: float) -> list[object]:
    return [[], "x", {"written_epoch": "x"}, {"written_epoch": now, "capture": 5},
            {"written_epoch": float("inf")}, {"written_epoch": now, "pid": 1},
            {"written_epoch": now, "pid": 1, "capture": {"state": "up", "since": 5},
             "squelch": {"state": "none"}},
            {"written_epoch": 1e300, "pid": 1, "capture": {"state": "up"}, "squelch": {"state": "none"}},
            {"written_epoch": now, "pid": 1, "capture": {"state": "up"}, "squelch": {"state": "none"},
             "workers": {"web": 3}},
            {"written_epoch": now, "pid": 1, "capture": {"state": "up"}, "squelch": {"state": "none"},
             "workers": [1]}]


def test_status_reports_a_foreign_health_file_as_unknown(sqlite_db, tmp_path: Path,
                                                         example_config: Config) -> None:
    from test_web_helpers import logged_in, make_web

    now = time.time()
    web = logged_in(make_web(sqlite_db, tmp_path, example_config), "vivi")
    for bad in _bad_health(now):
        text = json.dumps(bad).replace("Infinity", "1e400")  # as a tester writes it by hand
        (tmp_path / "health.json").write_text(text)
        code, out = status(tmp_path, now=now)
        assert code == 3 and "is not what the daemon writes" in out, (bad, out)
        code, out = status(tmp_path, as_json=True, now=now)
        assert code == 3, bad
        page = web.get("/status")
        assert page.status_code == 200 and "is not what the daemon writes" in page.text, bad
        assert "berkas statusnya tidak terbaca" in page.text  # said in Indonesian, not only "not running"
    write_atomic(tmp_path / "health.json", Health().snapshot())  # what the daemon writes: still read
    code, out = status(tmp_path)
    assert code == 0 and "capture: starting" in out


def _against_shape(part: dict[str, object], shape: str) -> list[str]:
    """Where one part of a health record and its ``_SHAPE`` disagree, either way."""
    described, at = _SHAPE.get(shape), f"{shape}." if shape else ""
    if described is None:
        return [f"{shape}: no shape describes its keys"]
    return ([f"{at}{k}: not in _SHAPE" for k in part if k not in described]
            + [f"{at}{k} = {part[k]!r}: not of {types}" for k, (_, types) in described.items()
               if k in part and (isinstance(part[k], bool) or not isinstance(part[k], types))]
            + [f"{at}{k}: required, not written" for k, (required, _) in described.items()
               if required and k not in part])


def test_the_health_shape_describes_every_record_the_daemon_writes(sqlite_db: Database,
                                                                   tmp_path: Path) -> None:
    """``status`` tells a foreign health.json from ours by ``_SHAPE``: every key ``Health.snapshot``
    writes is described there with its type, and every key it requires is written, with and without
    a database (reachable or not), a transcription stage and workers."""
    from gateway.asr.fake import FakeRecognizer
    from gateway.supervisor import WorkerState
    from gateway.transcribe import TranscriptionStage

    away = Database(f"sqlite:///{tmp_path}/no-such-dir/gateway.sqlite3")  # unreachable: no directory
    busy = Health()
    busy.frame()
    busy.capture_state(False, "device gone")
    busy.alarm("stuck_squelch", time.time(), "stuck")
    workers = {"web": WorkerState("web", "backoff", 1, "OSError: x", time.time()).as_dict()}
    try:
        for health in (Health(), busy):
            for db in (None, sqlite_db, away):
                stage = TranscriptionStage(FakeRecognizer(), db or sqlite_db, tmp_path)  # not started
                for args in ((db, None, None), (db, stage, workers)):
                    write_atomic(tmp_path / "health.json", health.snapshot(*args))
                    snap = json.loads((tmp_path / "health.json").read_text())  # as status reads it
                    wrong = _against_shape(snap, "")
                    for key, part in snap.items():
                        if isinstance(part, dict) and key != "workers":
                            wrong += _against_shape(part, key)
                    for worker in snap["workers"].values():
                        wrong += _against_shape(worker, "workers.*")
                    assert wrong == [], snap
    finally:
        away.close()


# -- 7: a data directory that is a file -------------------------------------------------------

def test_a_data_directory_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for data in (blocker, blocker / "sub"):
        for args in (["db", "status"], ["db", "upgrade"], ["transcribe"], ["status"]):
            r = run_cli("--config", str(_config(tmp_path)), "--data-dir", str(data), *args, timeout=60)
            _one_line_error(r, f"data directory {data}", f"{blocker} is not a directory")
    assert blocker.read_text() == "x" and sorted(p.name for p in tmp_path.iterdir()) == ["c.toml", "file"]


# -- 8: the web port in use -------------------------------------------------------------------

def test_a_busy_web_port_is_one_line_each_try_then_served(tmp_path: Path, caplog) -> None:
    from gateway.daemon import open_store, run_services
    from gateway.sdnotify import SystemdNotifier
    from gateway.squelch.base import ScriptedSquelch

    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    cfg = Config()
    cfg = dataclasses.replace(cfg, web=dataclasses.replace(cfg.web, port=port))
    db = open_store(cfg, tmp_path)
    stop = threading.Event()
    caplog.set_level(logging.INFO)
    t = threading.Thread(target=run_services, args=(cfg, tmp_path, None, ScriptedSquelch([]), db, None, stop,
                                                    Health(), SystemdNotifier({})), daemon=True)
    t.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len([r for r in caplog.records if "web" in r.getMessage()
                                                   and r.levelno >= logging.ERROR]) < 2:
            time.sleep(0.1)
        health: dict = {}
        while time.monotonic() < deadline + 3 and health.get("workers", {}).get("web", {}).get("state") \
                != "backoff":  # the health file (rewritten every 2 s) shows the web UI waiting
            time.sleep(0.2)
            health = json.loads((tmp_path / "health.json").read_text())
        blocker.close()  # the port is free again: the next try serves
        served = None
        while time.monotonic() < deadline + 10 and served is None:
            try:
                served = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2).status
            except OSError:
                time.sleep(0.2)
    finally:
        stop.set()
        t.join(30)
        blocker.close()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) >= 2, [r.getMessage() for r in caplog.records]
    for r in errors:  # each failure: one line, no traceback
        assert r.exc_info is None and "\n" not in r.getMessage(), r.getMessage()
        assert f"127.0.0.1:{port}" in r.getMessage() and "in use" in r.getMessage()
    assert health["workers"]["web"]["state"] == "backoff" and health["workers"]["web"]["restarts"] >= 1
    assert served == 200
    assert not t.is_alive()

