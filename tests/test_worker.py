"""Transcription workers on one real PostgreSQL (``ht-gateway worker``, gateway/jobs.py).

Each job's recording is generated here with a known number of tone bursts; the shipped fake
recogniser hears one word per burst (``kata1 kata2 ...``), so every transcript is checked against
what the generator made, never against an earlier run's output. Workers run as real processes
(with the fake recogniser patched in, slow on purpose where a job must be caught mid-way).
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sqlalchemy import func, select, update

from gateway.store.db import Database
from gateway.store.models import TranscriptRow, Transmission

REPO = Path(__file__).resolve().parent.parent
RATE = 16000
DAY = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
#: A worker process with the fake recogniser; argv: seconds of work per second of audio, then the CLI's.
WORKER = ("import sys; from gateway.asr import factory; from gateway.asr.fake import FakeRecognizer; "
          "sps = float(sys.argv[1]); "
          "factory.build_recognizer = lambda cfg, *a, **k: FakeRecognizer(seconds_per_second=sps); "
          "from gateway.cli.main import main; sys.exit(main(sys.argv[2:]))")


def bursts(n: int, on_s: float = 0.4, off_s: float = 0.5) -> np.ndarray:
    """``n`` 1 kHz bursts at -12 dBFS with silence between: the fake recogniser hears n words."""
    t = np.arange(int(on_s * RATE)) / RATE
    tone = (0.25 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    gap = np.zeros(int(off_s * RATE), np.float32)
    return np.concatenate([gap, *[np.concatenate([tone, gap]) for _ in range(n)]])


def expected(n: int) -> str:
    return " ".join(f"kata{k + 1}" for k in range(n))


def add_job(db: Database, data_dir: Path, words: int, start: datetime, priority: int = 0,
            sha256: str | None = None, gateway_id: str = "gw1") -> int:
    """A complete transmission with a FLAC recording of ``words`` bursts, pending transcription."""
    uid = uuid.uuid4().hex
    rel = f"recordings/{start:%Y/%m/%d}/{start:%H%M%S}_{uid[:8]}.flac"
    path = data_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    audio = bursts(words)
    sf.write(path, audio, RATE, format="FLAC")
    digest = sha256 or hashlib.sha256(path.read_bytes()).hexdigest()
    with db.write() as s:
        tx = Transmission(uid=uid, started_at=start, audio_started_at=start, status="complete",
                          ended_at=start + timedelta(seconds=len(audio) / RATE), duration_s=len(audio) / RATE,
                          kerchunk=False, stuck=False, audio_path=rel, sha256=digest, source="test",
                          asr_priority=priority, gateway_id=gateway_id,
                          asr_pending=True)  # as the writer completes a row
        s.add(tx)
        s.flush()
        return tx.id


def write_config(tmp: Path, url: str, lease_s: float = 10.0) -> Path:
    cfg = tmp / "worker.toml"
    cfg.write_text(f'[store]\nurl = "{url}"\n[worker]\nlease_s = {lease_s}\npoll_s = 0.2\n'
                   '[gateway]\nid = "office"\n')
    return cfg


def worker(cfg: Path, data_dir: Path, sps: float, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", WORKER, str(sps), "--config", str(cfg), "--data-dir",
                             str(data_dir), "worker", *args], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def transcripts(db: Database) -> dict[int, list[tuple[str, str, str | None]]]:
    """Every transcript row (not just current ones) per transmission: (status, text, error)."""
    out: dict[int, list[tuple[str, str, str | None]]] = {}
    with db.read() as s:
        for tx_id, status, text, error in s.execute(select(
                TranscriptRow.transmission_id, TranscriptRow.status, TranscriptRow.text, TranscriptRow.error)
                .order_by(TranscriptRow.id)):
            out.setdefault(tx_id, []).append((status, text, error))
    return out


@pytest.fixture
def pg(pg_url: str):
    database = Database(pg_url)
    database.migrate()
    yield database
    database.close()


def test_two_workers_transcribe_every_job_exactly_once(pg: Database, pg_url: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "shared"
    words = {add_job(pg, data_dir, 1 + i % 4, DAY + timedelta(minutes=i)): 1 + i % 4 for i in range(12)}
    cfg = write_config(tmp_path, pg_url)
    procs = [worker(cfg, data_dir, 0.3, "--once") for _ in range(2)]
    outs = [p.communicate(timeout=180) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    got = transcripts(pg)
    assert got == {tx: [("done", expected(n), None)] for tx, n in words.items()}
    claimed = [int(out.split("worker: ")[1].split(" claimed")[0]) for out, _ in outs]
    assert sum(claimed) == 12 and min(claimed) > 0, outs  # both did some, none twice
    with pg.read() as s:
        assert s.scalar(select(func.count()).where(Transmission.asr_claimed_by.is_not(None))) == 0


def test_a_worker_killed_mid_job_leaves_it_to_the_other_after_the_lease(pg: Database, pg_url: str,
                                                                         tmp_path: Path) -> None:
    data_dir = tmp_path / "shared"
    slow = add_job(pg, data_dir, 3, DAY)  # ~3.2 s of audio: ~16 s of work at 5 s/s
    cfg = write_config(tmp_path, pg_url, lease_s=10)
    a = worker(cfg, data_dir, 5.0)
    try:
        deadline = time.monotonic() + 60
        lease = None
        while time.monotonic() < deadline and lease is None:
            with pg.read() as s:
                lease = s.scalar(select(Transmission.asr_lease_until).where(Transmission.id == slow,
                                                                            Transmission.asr_claimed_by.is_not(None)))
            time.sleep(0.1)
        assert lease is not None, "worker A never claimed the job"
        time.sleep(1.0)  # A is mid-job (its recogniser needs ~16 s)
    finally:
        a.send_signal(signal.SIGKILL)
        a.communicate(timeout=30)
    killed_at = datetime.now(UTC)
    assert transcripts(pg) == {}, "A stored nothing"
    b = worker(cfg, data_dir, 0.0)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not transcripts(pg):
            time.sleep(0.2)
    finally:
        b.send_signal(signal.SIGTERM)
        _out, err = b.communicate(timeout=60)
    assert b.returncode == 0, err
    assert transcripts(pg) == {slow: [("done", expected(3), None)]}
    with pg.read() as s:
        tx = s.get_one(Transmission, slow)
        made = s.scalar(select(TranscriptRow.created_at).where(TranscriptRow.transmission_id == slow))
    assert tx.asr_attempts == 2 and tx.asr_claimed_by is None
    assert made is not None and made >= killed_at and made >= lease - timedelta(seconds=1), (made, lease)


def test_a_recording_whose_hash_does_not_match_fails_once_with_its_reason(pg: Database, pg_url: str,
                                                                          tmp_path: Path) -> None:
    data_dir = tmp_path / "shared"
    good = add_job(pg, data_dir, 2, DAY)
    bad = add_job(pg, data_dir, 2, DAY + timedelta(minutes=1), sha256="0" * 64)
    cfg = write_config(tmp_path, pg_url)
    for round_ in range(2):  # the second run finds nothing to do: the failure is not retried
        p = worker(cfg, data_dir, 0.0, "--once")
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert out.startswith(f"worker: {2 if round_ == 0 else 0} claimed"), out
    got = transcripts(pg)
    assert got[good] == [("done", expected(2), None)]
    [(status, text, error)] = got[bad]
    assert status == "failed" and text == "" and error is not None
    assert "sha256" in error and "does not match" in error and "0000000000000000" in error


def test_a_job_every_holder_died_on_is_failed_after_max_attempts(pg: Database, pg_url: str,
                                                                 tmp_path: Path) -> None:
    data_dir = tmp_path / "shared"
    tx_id = add_job(pg, data_dir, 1, DAY)
    with pg.write() as s:  # three earlier holders, all gone (their leases ran out)
        s.execute(update(Transmission).where(Transmission.id == tx_id).values(
            asr_attempts=3, asr_claimed_by="gw9:worker@gone:1:abc", asr_lease_until=DAY))
    p = worker(write_config(tmp_path, pg_url), data_dir, 0.0, "--once")
    _out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    [(status, _, error)] = transcripts(pg)[tx_id]
    assert status == "failed" and error is not None and "given up after 3 claims" in error


@pytest.mark.parametrize("store", ["", '[store]\nurl = "sqlite:///{tmp}/g.sqlite3"\n'])
def test_the_worker_refuses_sqlite_with_one_line(tmp_path: Path, store: str) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[worker]\nlease_s = 30\n" + store.format(tmp=tmp_path))
    p = worker(cfg, tmp_path, 0.0, "--once")
    out, err = p.communicate(timeout=60)
    assert p.returncode == 2 and out == ""
    assert err.count("\n") == 1 and "worker needs PostgreSQL" in err and "store.url" in err


def test_a_worker_finds_each_gateways_recordings_under_its_id(pg: Database, pg_url: str,
                                                               tmp_path: Path) -> None:
    """Two gateways' data directories mounted at DATA_DIR/<gateway.id>: the same relative paths."""
    root = tmp_path / "gateways"
    a = add_job(pg, root / "taput-1", 2, DAY, gateway_id="taput-1")
    b = add_job(pg, root / "taput-2", 3, DAY, gateway_id="taput-2")
    p = worker(write_config(tmp_path, pg_url), root, 0.0, "--once")
    _out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert transcripts(pg) == {a: [("done", expected(2), None)], b: [("done", expected(3), None)]}
