"""The transcription stage: never blocks the pipeline, defers when behind, keeps pending work in the
database, records failures on the transmission, finishes everything after a restart exactly once."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import soundfile as sf
from sqlalchemy import func, select

from gateway.asr.fake import FakeRecognizer
from gateway.config import Config
from gateway.daemon import open_store, process_file
from gateway.store.db import Database, default_url
from gateway.store.models import TranscriptRow, Transmission
from gateway.transcribe import pending_query

from conftest import DATA, REPO, run_cli

START = datetime.fromisoformat("2026-11-20T07:05:00+07:00")


def _transcripts(data_dir: Path) -> list[tuple[Transmission, TranscriptRow]]:
    db = Database(default_url(data_dir))
    with db.read() as s:
        rows = s.execute(select(Transmission, TranscriptRow).join(
            TranscriptRow, TranscriptRow.transmission_id == Transmission.id)
            .order_by(Transmission.started_at, TranscriptRow.id)).all()
    db.close()
    return [tuple(r) for r in rows]


def test_every_transmission_is_transcribed_live_when_the_recogniser_keeps_up(tmp_path: Path) -> None:
    res = process_file(Config(), tmp_path, DATA / "sample_morning.flac", START, recognizer=FakeRecognizer())
    rows = _transcripts(tmp_path)
    assert res.transcribed == 4 and len(rows) == 4
    assert all(tr.origin == "live" and tr.status == "done" and tr.current for _, tr in rows)
    speech = [tr for tx, tr in rows if not tx.kerchunk]
    assert all(tr.text.startswith("kata1") for tr in speech)
    assert all(tr.latency_s is not None and tr.latency_s >= 0 for _, tr in rows)


def test_a_slow_recogniser_defers_to_the_recording_and_drops_no_audio(tmp_path: Path) -> None:
    cfg = Config()
    slow = FakeRecognizer(seconds_per_second=0.3)  # 10 s of speech take 3 s to recognise
    import dataclasses

    cfg = dataclasses.replace(cfg, asr=dataclasses.replace(cfg.asr, queue_s=3.0))
    t0 = time.monotonic()
    res = process_file(cfg, tmp_path, DATA / "sample_morning.flac", START, recognizer=slow)
    took = time.monotonic() - t0
    assert res.stats.gaps == 0 and len(res.transmission_ids) == 4
    rows = _transcripts(tmp_path)
    origins = [tr.origin for _, tr in rows]
    assert "file" in origins, "transmissions beyond the queue were transcribed from their recordings"
    assert len(rows) == 4 and all(tr.status == "done" for _, tr in rows), "each exactly once"
    assert took < 30
    # the same audio from the recording gives the same words as live (fake engine: by energy)
    for tx, tr in rows:
        if not tx.kerchunk:
            assert tr.text.startswith("kata1")


def test_a_failure_is_recorded_on_that_transmission_and_the_rest_go_on(tmp_path: Path) -> None:
    picky = FakeRecognizer(fail_when=lambda audio: len(audio) < 16000)  # fails on the kerchunk only
    res = process_file(Config(), tmp_path, DATA / "sample_morning.flac", START, recognizer=picky)
    rows = _transcripts(tmp_path)
    assert len(res.transmission_ids) == 4 and len(rows) == 4
    failed = [(tx, tr) for tx, tr in rows if tr.status == "failed"]
    assert len(failed) == 1 and failed[0][0].kerchunk
    assert "fake recogniser asked to fail" in failed[0][1].error
    db = Database(default_url(tmp_path))
    with db.read() as s:
        assert s.scalars(pending_query()).all() == [], "a failure is not retried automatically"
    db.close()


def test_pending_work_in_the_database_is_finished_at_start(tmp_path: Path) -> None:
    process_file(Config(), tmp_path, DATA / "sample_morning.flac", START, recognizer=None)
    db = open_store(Config(), tmp_path)
    with db.read() as s:
        assert len(s.scalars(pending_query()).all()) == 4
    db.close()
    silence = tmp_path / "silence.wav"
    sf.write(silence, np.zeros(16000, np.float32), 16000)
    res = process_file(Config(), tmp_path, silence, START, recognizer=FakeRecognizer())
    assert res.transcribed == 4
    rows = _transcripts(tmp_path)
    assert len(rows) == 4 and {tr.origin for _, tr in rows} == {"file"}


def test_killed_with_transcriptions_pending_then_restarted_does_each_once(tmp_path: Path,
                                                                           vosk_ko_path: Path) -> None:
    """The real engine and a real SIGKILL: the Korean Vosk model is slower than the file is read."""
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[asr]\nengine = "vosk"\nmodel = "{vosk_ko_path}"\nqueue_s = 2.0\n')
    data_dir = tmp_path / "data"
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "--config", str(cfg), "--data-dir",
                             str(data_dir), "process", str(DATA / "sample_morning.flac"), "--start",
                             START.isoformat()], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    db_path = data_dir / "gateway.sqlite3"
    deadline = time.monotonic() + 120
    state = (0, 0)
    while time.monotonic() < deadline and proc.poll() is None:
        if db_path.exists():
            con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
            try:
                done = con.execute("select count(*) from transmissions where status='complete'").fetchone()[0]
                tr = con.execute("select count(*) from transcripts").fetchone()[0]
                state = (done, tr)
            except sqlite3.OperationalError:
                pass
            con.close()
            if state[0] == 4 and state[1] < 4:
                break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert state[0] == 4 and state[1] < 4, f"expected pending transcriptions at the kill, saw {state}"

    silence = tmp_path / "silence.wav"
    sf.write(silence, np.zeros(16000, np.float32), 16000)
    r = run_cli("--config", str(cfg), "--data-dir", str(data_dir), "process", str(silence), "--start",
                START.isoformat())
    assert r.returncode == 0, r.stderr
    db = Database(default_url(data_dir))
    with db.read() as s:
        per_tx = dict(s.execute(select(TranscriptRow.transmission_id, func.count())
                                .group_by(TranscriptRow.transmission_id)).all())
        n_tx = s.scalar(select(func.count()).select_from(Transmission))
    db.close()
    assert n_tx == 4 and per_tx == dict.fromkeys(per_tx, 1) and len(per_tx) == 4, per_tx
