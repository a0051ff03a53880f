"""Durability: SIGKILL mid-transmission loses at most the last second; SIGTERM finishes the file.

Both run the real command line on the sample channel paced in real time (``--realtime``) and watch
the SQLite database from outside, as an operator's tools would.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import DATA, REPO, run_cli

START = "2026-11-20T07:05:00+07:00"


def _start_realtime(data_dir: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gateway", "--data-dir", str(data_dir), "process",
         str(DATA / "sample_morning.flac"), "--start", START, "--realtime"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _rows(data_dir: Path) -> list[sqlite3.Row]:
    db = data_dir / "gateway.sqlite3"
    if not db.exists():
        return []
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    con.row_factory = sqlite3.Row
    try:
        return con.execute("select * from transmissions order by id").fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        con.close()


def _wait_for_recording(proc: subprocess.Popen, data_dir: Path, timeout: float = 30) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(r["status"] == "recording" for r in _rows(data_dir)):
            return time.monotonic()
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    proc.kill()
    raise AssertionError("no transmission started")


def test_sigkill_mid_transmission_loses_at_most_one_second(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    proc = _start_realtime(data_dir)
    seen = _wait_for_recording(proc, data_dir)
    time.sleep(5.0)
    proc.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    proc.wait()
    (row,) = _rows(data_dir)
    assert row["status"] == "recording"
    temp = data_dir / row["temp_path"]
    assert temp.is_file()

    # restart: any start of the gateway recovers first
    silence = tmp_path / "silence.wav"
    sf.write(silence, np.zeros(16000, np.float32), 16000)
    r = run_cli("--data-dir", str(data_dir), "process", str(silence), "--start", START)
    assert r.returncode == 0, r.stderr

    (row,) = _rows(data_dir)
    assert row["status"] == "complete" and row["recovered"] and row["temp_path"] is None
    assert not list(data_dir.rglob("*.part")), "no temporary file left"
    audio = data_dir / row["audio_path"]
    decoded, rate = sf.read(audio)
    preroll = 0.5
    heard = killed - seen + preroll  # audio the process had received for this transmission
    got = len(decoded) / rate
    assert heard - 1.0 <= got <= heard + 0.3, f"heard {heard:.2f} s, recovered {got:.2f} s"
    import hashlib

    assert hashlib.sha256(audio.read_bytes()).hexdigest() == row["sha256"]
    con = sqlite3.connect(data_dir / "gateway.sqlite3")
    assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
    kinds = [k for (k,) in con.execute("select kind from events")]
    con.close()
    assert kinds == ["recovered"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_finishes_the_current_transmission_and_exits_cleanly(tmp_path: Path, sig) -> None:
    data_dir = tmp_path / "data"
    proc = _start_realtime(data_dir)
    _wait_for_recording(proc, data_dir)
    time.sleep(2.0)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    (row,) = _rows(data_dir)
    assert row["status"] == "complete" and not row["recovered"]
    assert 1.5 < row["duration_s"] < 3.5
    assert (data_dir / row["audio_path"]).is_file()
    assert not list(data_dir.rglob("*.part"))
    assert "1 transmission(s)" in out


def test_run_without_radio_processes_the_demo_and_notifies_systemd(tmp_path: Path) -> None:
    import socket

    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(120)
    data_dir = tmp_path / "data"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cfg = tmp_path / "c.toml"
    cfg.write_text(f"[web]\nport = {port}\n[asr]\nengine = \"none\"\n")  # no model: say so
    env = {**os.environ, "NOTIFY_SOCKET": str(sock_path), "WATCHDOG_USEC": "2000000"}
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "--config", str(cfg), "--data-dir",
                             str(data_dir), "run"],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    messages: list[str] = []
    try:
        while "READY=1" not in messages:
            messages += sock.recv(4096).decode().splitlines()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not any("idle" in m for m in messages):
            messages += sock.recv(4096).decode().splitlines()
        assert any(m == "WATCHDOG=1" for m in messages)
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as page:
            assert page.status == 200 and "Masuk" in page.read().decode()  # the web UI is served
        rows = _rows(data_dir)
        assert len(rows) >= 5 and all(r["status"] == "complete" for r in rows)
        assert sum(r["kerchunk"] for r in rows) == 1
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        messages += sock.recv(4096).decode().splitlines()
    finally:
        if proc.poll() is None:
            proc.kill()
        sock.close()
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    assert "STOPPING=1" in messages
    # a second start the same day does not process the demo again
    r = subprocess.run([sys.executable, "-m", "gateway", "--config", str(cfg), "--data-dir",
                        str(data_dir), "run"],
                       cwd=REPO, capture_output=True, text=True, timeout=60,
                       env={**os.environ, "NOTIFY_SOCKET": ""}, input=None,
                       preexec_fn=lambda: signal.alarm(8))
    assert "already processed" in r.stderr
    assert len(_rows(data_dir)) == len(rows)
