"""A squelch input read by a background thread, so the pipeline thread never waits on a device.

Subclasses open the device, read one state (blocking at most ``read_timeout_s``) and close it. The
thread keeps the last state and when it was read; :meth:`update` (the pipeline thread) only looks
at those. Like gateway/squelch/serial_pin.py: a device that fails is *down* — read as closed (never
its last state), one log line, the listener (the daemon's health) told — and is reopened every
``reopen_s``; a second line says when it is back. A state older than ``stale_s`` (a device that
hangs without failing) also reads as closed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import numpy as np

from gateway.squelch.serial_pin import SerialSquelchError, SquelchListener

log = logging.getLogger(__name__)


class SquelchInputError(SerialSquelchError):
    """The squelch device cannot be opened at start (one line, naming the key); a kind of
    SerialSquelchError so that every command reports it as the serial one is (gateway/cli/main.py)."""


class PolledSquelch:
    latency_s = 0.0
    what = "squelch input"

    def __init__(self, where: str, interval_s: float, reopen_s: float = 2.0, stale_s: float = 1.0,
                 listener: SquelchListener | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.where, self.interval_s, self.reopen_s = where, interval_s, reopen_s
        self.stale_s, self.listener, self.clock = stale_s, listener, clock
        self.up = True
        self.outages = 0
        self.polls = 0
        self._state = False
        self._at = clock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- for subclasses ----------------------------------------------------------------------
    def _open(self) -> None: raise NotImplementedError
    def _read(self) -> bool | None: raise NotImplementedError  # None: no news yet
    def _close_device(self) -> None: raise NotImplementedError

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"squelch {self.where}", daemon=True)
        self._thread.start()

    # --- the pipeline thread ------------------------------------------------------------------
    def update(self, frame: np.ndarray, t: float) -> bool:
        if not self.up or self._thread is None or not self._thread.is_alive():
            return False
        return self._state and self.clock() - self._at <= self.stale_s

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=3)
        self._close_device()

    # --- the background thread ----------------------------------------------------------------
    def _run(self) -> None:
        down_at = 0.0
        while not self._stop.is_set():
            if not self.up:
                if self._stop.wait(self.reopen_s):
                    return
                try:
                    self._open()
                except (OSError, RuntimeError) as e:
                    log.debug("%s %s still down: %s", self.what, self.where, e)
                    continue
                self._at = self.clock()
                self.up = True
                log.warning("%s %s back after %.1f s", self.what, self.where, self.clock() - down_at)
                if self.listener is not None:
                    self.listener.squelch_state(True, "")
            started = self.clock()
            try:
                state = self._read()
            except (OSError, RuntimeError) as e:
                self._state, self.up = False, False
                self.outages += 1
                down_at = self.clock()
                reason = str(e).splitlines()[0] if str(e) else e.__class__.__name__
                log.error("%s %s down: %s; reading the channel as closed, reopening every %g s",
                          self.what, self.where, reason, self.reopen_s)
                self._close_device()
                if self.listener is not None:
                    self.listener.squelch_state(False, reason)
                continue
            self.polls += 1
            now = self.clock()
            if state is not None:
                self._state = state
            self._at = now
            rest = self.interval_s - (now - started)
            if rest > 0 and self._stop.wait(rest):
                return
