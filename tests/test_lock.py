"""The data-directory lock: a second holder is refused with the first one's pid; death releases it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.lock import DataDirBusy, DataDirLock, holder_of

HOLD = ("import sys, time; from pathlib import Path; from gateway.lock import DataDirLock;"
        "DataDirLock(Path(sys.argv[1]), 'ht-gateway run').acquire(); print('held', flush=True);"
        "time.sleep(60)")


def _holder(tmp_path: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_second_process_is_refused_with_the_holders_pid(tmp_path: Path) -> None:
    proc = _holder(tmp_path)
    try:
        with pytest.raises(DataDirBusy) as e:
            DataDirLock(tmp_path, "ht-gateway process").acquire()
        assert f"pid {proc.pid} (ht-gateway run)" in str(e.value)
        assert str(tmp_path) in str(e.value)
        assert holder_of(tmp_path) == f"pid {proc.pid} (ht-gateway run)"
    finally:
        proc.kill()
        proc.wait()


def test_sigkill_releases_the_lock(tmp_path: Path) -> None:
    proc = _holder(tmp_path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert holder_of(tmp_path) is None  # the stale file names a dead pid but holds nothing
    with DataDirLock(tmp_path, "ht-gateway run") as lock:
        assert lock.held
        assert holder_of(tmp_path) == f"pid {os.getpid()} (ht-gateway run)"
    assert not lock.held


def test_no_lock_file_means_no_holder(tmp_path: Path) -> None:
    assert holder_of(tmp_path) is None
