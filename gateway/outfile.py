"""Writing an ``--out`` file (export, report, stations, backup): checked before any work is done,
then written whole or not at all (a temporary file beside it, renamed over it), except a FIFO or a
device, which is written through: renaming a file over it would replace it.

Here, not in the CLI, because :mod:`gateway.backup` writes its archive the same way.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gateway.config import ConfigError


def _target(path: Path) -> tuple[Path, bool]:
    """Where ``--out`` goes, and whether it is written through: an existing FIFO or device (or a
    symlink to one) is opened and written, never replaced by a file; a symlink to a regular file
    (or to a new path) is written at the file it points to, so the link stays a link."""
    try:
        through = not stat.S_ISREG(path.stat().st_mode)
    except FileNotFoundError:
        through = False
    except OSError as e:
        raise ConfigError(f"--out {path}: {e.strerror or e.__class__.__name__}") from None
    if through or not path.is_symlink():
        return path, through
    return Path(os.path.realpath(path)), False


def check_out(path: Path | None) -> None:
    """Refuse an ``--out`` that cannot be written, before any work is done (no rows, no files)."""
    if path is None:
        return
    if path.is_dir():
        raise ConfigError(f"--out {path}: is a directory, not a file")
    target, through = _target(path)
    if through:
        if not os.access(path, os.W_OK):
            raise ConfigError(f"--out {path}: not writable")
        return
    parent = target.parent
    if not parent.is_dir():
        raise ConfigError(f"--out {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise ConfigError(f"--out {path}: not writable")


def _cannot(path: Path, e: OSError) -> ConfigError:
    return ConfigError(f"--out {path}: cannot write: {e.strerror or e.__class__.__name__}")


class OutFile:
    """An ``--out`` being written: unbuffered, so a failed write (a full disk, a FIFO whose reader
    left) is one line naming the path, raised where it happens; ``size`` counts the bytes."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path, self.fd, self.size = path, fd, 0

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.fd, view)
            except OSError as e:
                raise _cannot(self.path, e) from None
            view = view[n:]
        self.size += len(data)
        return len(data)


@contextmanager
def out_file(path: Path) -> Iterator[OutFile]:
    """Write ``--out`` whole or not at all: a temporary file beside the target, renamed over it when
    the block ends without an error (removed otherwise). A FIFO or a device is written through:
    renaming a file over it would replace it (``--out /proc/self/fd/1`` would write nothing)."""
    check_out(path)
    target, through = _target(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    flags = os.O_WRONLY | os.O_CLOEXEC  # through: no O_CREAT, no O_TRUNC (it exists, and is no file)
    try:
        fd = os.open(path, flags) if through else \
            os.open(tmp, flags | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o666)
    except OSError as e:
        raise _cannot(path, e) from None
    try:
        yield OutFile(path, fd)
        try:
            if not through:
                os.fsync(fd)
            os.close(fd)
            fd = -1
            if not through:
                os.replace(tmp, target)
        except OSError as e:
            raise _cannot(path, e) from None
    finally:
        if fd >= 0:
            os.close(fd)
        if not through:
            tmp.unlink(missing_ok=True)


def write_out(path: Path, data: bytes) -> None:
    """Write ``--out`` whole or not at all (see :func:`out_file`)."""
    with out_file(path) as f:
        f.write(data)
