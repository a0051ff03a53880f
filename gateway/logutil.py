"""Logging helpers: set-up for the CLI and a rate limiter for faults that repeat."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Any


class RateLimitedLog:
    """Logs the first occurrence, then at most once per ``interval`` with a count of the rest.

    Use one per kind of fault: ``overflow = RateLimitedLog(log, 30); overflow.warning("...")``.
    """

    def __init__(self, logger: logging.Logger, interval: float,
                 clock: Callable[[], float] = time.monotonic, quiet_first: bool = False) -> None:
        """``quiet_first``: the first ``interval`` from now is quiet too (the fault was just logged
        elsewhere)."""
        self.logger, self.interval, self.clock = logger, interval, clock
        self._last = clock() if quiet_first else -float("inf")
        self.suppressed = 0

    def log(self, level: int, msg: str, *args: Any) -> bool:
        now = self.clock()
        if now - self._last < self.interval:
            self.suppressed += 1
            return False
        if self.suppressed:
            msg += f" (and {self.suppressed} more like this)"
        self.logger.log(level, msg, *args)
        self._last, self.suppressed = now, 0
        return True

    def warning(self, msg: str, *args: Any) -> bool:
        return self.log(logging.WARNING, msg, *args)

    def error(self, msg: str, *args: Any) -> bool:
        return self.log(logging.ERROR, msg, *args)


def setup(verbose: int = 0) -> None:
    level = logging.DEBUG if verbose > 0 else logging.INFO
    logging.basicConfig(
        level=level, stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%Y-%m-%d %H:%M:%S%z",
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("faster_whisper").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
