"""The data-directory lock: one writing process per data directory.

``ht-gateway run`` and ``ht-gateway process`` hold an exclusive ``fcntl`` lock on
``<data-dir>/.ht-gateway.lock`` for as long as they run; a second process that would write (and so
"recover" the first one's live transmission, or run migrations under it) gets one clear line naming
the holder instead. The kernel releases the lock when the holder dies, even by SIGKILL, so a stale
lock file never blocks a restart: the file's contents (pid and command) are only for the message.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_NAME = ".ht-gateway.lock"


class DataDirBusy(RuntimeError):
    """Another process holds the data directory."""

    def __init__(self, data_dir: Path, holder: str) -> None:
        self.data_dir, self.holder = data_dir, holder
        super().__init__(f"data directory {data_dir} is in use by {holder}; "
                         "stop it first (or use another --data-dir)")


class DataDirLock:
    """An exclusive, non-blocking lock on a data directory (use as a context manager, or
    :meth:`acquire` / :meth:`release`)."""

    def __init__(self, data_dir: Path, what: str) -> None:
        self.data_dir, self.what = data_dir, what
        self.path = data_dir / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> DataDirLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise DataDirBusy(self.data_dir, holder) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {self.what}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the descriptor drops the flock

    def __enter__(self) -> DataDirLock:
        return self.acquire()

    def __exit__(self, *_exc: object) -> None:
        self.release()


def holder_of(data_dir: Path) -> str | None:
    """Who holds the lock now (``"pid 123 (ht-gateway run)"``), or None when nobody does."""
    path = data_dir / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):  # no lock file, or no directory: nobody holds it
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _read_holder(fd: int) -> str:
    try:
        text = os.pread(fd, 200, 0).decode(errors="replace").strip()
    except OSError:
        text = ""
    pid, _, what = text.partition(" ")
    if pid.isdigit():
        return f"pid {pid} ({what or 'ht-gateway'})"
    return "another ht-gateway process"
