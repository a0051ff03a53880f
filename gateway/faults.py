"""Fault points: named steps where the fault-injection tests (tests/test_faults*.py) stop the process.

``HT_GATEWAY_FAULT`` names one or more points, comma-separated, each ``POINT[:ACTION][@N]``:

- ``POINT``: a name passed to :func:`fault_point` somewhere in the code (``after_rename``, ...);
- ``ACTION``: ``kill`` (SIGKILL this process, the default), ``enospc`` (raise ``OSError(ENOSPC)``)
  or ``locked`` (raise SQLAlchemy's ``OperationalError`` "database is locked");
- ``N``: act on the N-th time the point is reached (default 1), e.g. ``mid_audio@150``.

Unset (always, outside tests), :func:`fault_point` is one global lookup and a return.
"""

from __future__ import annotations

import errno
import os
import signal
import sqlite3
from typing import Any

ENV = "HT_GATEWAY_FAULT"


def _parse(spec: str) -> dict[str, list[Any]]:
    armed: dict[str, list[Any]] = {}
    for item in filter(None, (p.strip() for p in spec.split(","))):
        item, _, nth = item.partition("@")
        point, _, action = item.partition(":")
        armed[point] = [action or "kill", int(nth or 1)]
    return armed


_ARMED: dict[str, list[Any]] | None = _parse(os.environ[ENV]) if os.environ.get(ENV) else None


def fault_point(name: str) -> None:
    """Act here if ``HT_GATEWAY_FAULT`` names this point (see the module docstring)."""
    if _ARMED is None or name not in _ARMED:
        return
    armed = _ARMED[name]
    armed[1] -= 1
    if armed[1] != 0:
        return
    action = armed[0]
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if action == "enospc":
        raise OSError(errno.ENOSPC, f"No space left on device (fault point {name})")
    if action == "locked":
        from sqlalchemy.exc import OperationalError

        raise OperationalError(f"fault point {name}", None, sqlite3.OperationalError("database is locked"))
    raise ValueError(f"{ENV}: unknown action {action!r} for {name}")
