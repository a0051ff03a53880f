"""Faults around the store while live, a second process, re-runs and stops: real processes, real files.

- "database is locked": a second, real SQLite connection holds ``BEGIN EXCLUSIVE`` longer than the
  gateway's busy timeout while transmissions open and close;
- disk full: the data directory on a real, small tmpfs, filled up while the gateway records;
- a second ``process``/``run`` on a data directory in use is refused with one line, the first one
  (recording in real time) finishes normally;
- ``process`` run again (and after a truncated copy broke off) stores nothing twice;
- SIGTERM while the squelch is open flags the transmission ``cut_short`` (shown by ``export``).

Everything ends with tests/faultkit.py's check against the generator's truth and the disk.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import os
import re
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from faultkit import START, check, cli, config, popen, rows, silence

from conftest import need


def _sqlite_rows(data: Path) -> list[tuple[int, str]]:
    db = data / "gateway.sqlite3"
    if not db.exists():
        return []
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute("select id, status from transmissions order by id").fetchall()
        finally:
            con.close()
    except sqlite3.OperationalError:
        return []


def _wait(proc: subprocess.Popen, data: Path, pred, timeout: float = 60) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred(_sqlite_rows(data)):
            return time.monotonic()
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("timed out")


def _first_complete(r: list[tuple[int, str]]) -> bool:
    return any(status == "complete" for _, status in r)


def test_a_second_process_is_refused_and_the_first_is_untouched(tmp_path: Path, channel) -> None:
    path, truth = channel
    data, cfg = tmp_path / "data", config(tmp_path / "c.toml")
    first = popen(data, cfg, "process", str(path), "--start", START, "--realtime")
    _wait(first, data, lambda r: any(s == "recording" for _, s in r))
    for args in (("process", str(silence(tmp_path)), "--start", START), ("run",)):
        r = cli(data, cfg, *args, timeout=30)
        assert r.returncode == 2, r.stderr
        assert re.fullmatch(rf"ht-gateway: error: data directory {re.escape(str(data))} is in use by "
                            rf"pid {first.pid} \(ht-gateway process\); stop it first \(or use another "
                            r"--data-dir\)\n", r.stderr), r.stderr
    _out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    got = check(data, None, truth, {0, 1, 2})
    assert not any(row.recovered or row.cut_short for row in got.values())


def test_database_locked_while_live_loses_nothing(tmp_path: Path, channel) -> None:
    """Open and close commits fail ("database is locked", after the 10 s busy timeout): one line,
    recording goes on, and the background reconcile stores everything once the lock is released."""
    path, truth = channel
    data, cfg = tmp_path / "data", config(tmp_path / "c.toml")
    proc = popen(data, cfg, "process", str(path), "--start", START, "--realtime")
    _wait(proc, data, _first_complete)
    hog = sqlite3.connect(data / "gateway.sqlite3", timeout=5, isolation_level=None)
    hog.execute("BEGIN EXCLUSIVE")
    time.sleep(13.0)  # > busy_timeout: the next open fails, the closes find the store still failing
    hog.execute("ROLLBACK")
    hog.close()
    _out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err
    failures = [line for line in err.splitlines() if "store:" in line and "database is locked" in line]
    assert failures and len(failures) <= 2, err  # said once (rate-limited), not once per write
    assert "store works again" in err
    got = check(data, None, truth, {0, 1, 2})
    assert not any(row.recovered for row in got.values())  # stored with the live values, not rebuilt


@contextlib.contextmanager
def _tmpfs(where: Path, size: str):
    where.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        need("tmpfs", f"mount failed: {r.stderr.strip()} (needs root)")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _fill(where: Path) -> Path:
    filler = where / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        for size in (1 << 16, 512):  # to the last block
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)
    with pytest.raises(OSError) as e:
        os.write(os.open(where / "probe", os.O_WRONLY | os.O_CREAT), b"\0" * 4096)
    assert e.value.errno == errno.ENOSPC
    return filler


def test_disk_full_while_live_then_space_returns(tmp_path: Path, channel) -> None:
    """The data directory on a real tmpfs, filled while the second transmission is on air: one clear
    line, the process goes on; once space returns the third is recorded, and everything that reached
    the disk is listed (checked after a restart)."""
    path, truth = channel
    items = truth["transmissions"]
    with _tmpfs(tmp_path / "small", "8m") as mnt:
        data, cfg = mnt / "data", config(tmp_path / "c.toml")
        proc = popen(data, cfg, "process", str(path), "--start", START, "--realtime")
        seen = _wait(proc, data, _first_complete)
        pos = items[0]["end_s"] + 1.5  # where the source was when the first one closed
        filler = _fill(mnt)
        free_at = seen + (items[1]["end_s"] + 2.2 - pos)
        time.sleep(max(0.0, free_at - time.monotonic()))
        filler.unlink()
        _out, err = proc.communicate(timeout=90)
        assert proc.returncode == 0, err
        full = [line for line in err.splitlines()
                if "No space left on device" in line or "database or disk is full" in line]
        assert full, err
        r = cli(data, cfg, "process", str(silence(tmp_path)), "--start", START)  # a restart
        assert r.returncode == 0, r.stderr
        got = check(data, None, truth, {0, 2})
        assert not got[0].recovered and not got[2].recovered


def test_process_again_stores_nothing_twice_and_a_broken_run_resumes(tmp_path: Path, channel) -> None:
    path, truth = channel
    data, cfg = tmp_path / "data", config(tmp_path / "c.toml")
    # a truncated copy under the same name: decoding breaks off in the second transmission
    broken = tmp_path / "broken" / path.name
    broken.parent.mkdir()
    items = truth["transmissions"]
    cut_at = (items[1]["start_s"] + items[1]["end_s"]) / 2 / truth["duration_s"]
    raw = path.read_bytes()
    broken.write_bytes(raw[:int(len(raw) * cut_at)])
    r = cli(data, cfg, "process", str(broken), "--start", START)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1].startswith(f"ht-gateway: error: {broken}: read error")
    got = check(data, None, truth, {0, 1})
    assert got[1].cut_short and not got[0].cut_short  # the one it broke off in says so
    r = cli(data, cfg, "process", str(path), "--start", START)  # the full file: resumes
    assert r.returncode == 0, r.stderr
    got = check(data, None, truth, {0, 1, 2})
    assert not any(row.cut_short for row in got.values())
    first_ids = sorted(row.id for row in rows(data, None))
    r = cli(data, cfg, "process", str(path), "--start", START)  # and once more: nothing new
    assert r.returncode == 0, r.stderr
    assert "0 transmission(s)" in r.stdout
    assert sorted(row.id for row in rows(data, None)) == first_ids
    check(data, None, truth, {0, 1, 2})


def test_sigterm_while_on_air_flags_cut_short(tmp_path: Path, channel) -> None:
    path, truth = channel
    data, cfg = tmp_path / "data", config(tmp_path / "c.toml")
    proc = popen(data, cfg, "process", str(path), "--start", START, "--realtime")
    _wait(proc, data, lambda r: any(s == "recording" for _, s in r))
    time.sleep(2.0)
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    got = check(data, None, truth, {0})
    full = truth["transmissions"][0]["end_s"] - truth["transmissions"][0]["start_s"]
    assert got[0].cut_short and not got[0].recovered and 1.5 < got[0].duration_s < full - 0.5
    r = cli(data, cfg, "export", "transmissions", "--date", START[:10], "--format", "csv")
    assert r.returncode == 0, r.stderr
    [row] = list(csv.DictReader(io.StringIO(r.stdout)))
    assert row["flags"].split() == ["cut_short"], r.stdout
    assert os.path.exists(data / got[0].audio_path)


@pytest.mark.parametrize("fault", ["open_commit:enospc@1", "close_commit:locked@2", "close_commit:enospc@3"])
def test_a_failed_commit_at_each_write_point_is_stored_later(tmp_path: Path, channel, fault: str) -> None:
    """The fault point raises what SQLite raises (ENOSPC, "database is locked") inside the open or
    close transaction: one line, the run goes on, the reconcile stores it with its live values."""
    _failed_commit_is_stored_later(tmp_path, channel, fault, None)


def test_a_failed_commit_is_stored_later_postgresql(tmp_path: Path, channel, pg_url: str) -> None:
    _failed_commit_is_stored_later(tmp_path, channel, "close_commit:enospc@2", pg_url)


def _failed_commit_is_stored_later(tmp_path: Path, channel, fault: str, url: str | None) -> None:
    path, truth = channel
    data, cfg = tmp_path / "data", config(tmp_path / "c.toml", url)
    r = cli(data, cfg, "process", str(path), "--start", START, fault=fault)
    assert r.returncode == 0, r.stderr
    failed = [line for line in r.stderr.splitlines() if "store:" in line and "failed" in line]
    assert len(failed) == 1, r.stderr
    assert ("No space left on device" if "enospc" in fault else "database is locked") in failed[0]
    assert "store works again (1 transmission(s)" in r.stderr or fault.startswith("open"), r.stderr
    assert "3 transmission(s)" in r.stdout
    got = check(data, url, truth, {0, 1, 2})
    assert not any(row.recovered for row in got.values())
