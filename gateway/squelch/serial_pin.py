"""Squelch from a carrier-detect/COS line on a serial port's input pin, read through pyserial.

The radio interface pulls CTS, DSR, DCD or RI when the receiver's squelch opens (``invert`` for
active-low wiring). The pin is read once per audio frame on the pipeline thread (an ioctl, a few µs).
In tests the port is ``loop://``, where pyserial mirrors RTS→CTS and DTR→DSR.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
import time
from collections.abc import Callable
from typing import Protocol

import numpy as np
import serial

from gateway.config import SerialSquelchConfig

log = logging.getLogger(__name__)

_PINS = {"cts": "cts", "dsr": "dsr", "dcd": "cd", "ri": "ri"}


class SerialSquelchError(RuntimeError):
    pass


class SquelchListener(Protocol):
    def squelch_state(self, up: bool, reason: str) -> None: ...


Opener = Callable[[], serial.SerialBase]


class SerialPinSquelch:
    """The pin, read per frame; a port that vanishes is noticed and reopened.

    A port is *down* when reading the pin fails (the ioctl of an unplugged USB adapter fails with
    EIO), when its device path is gone, when its file descriptor reports a hang-up (a pty whose
    other side closed), or when a network port's (``rfc2217://``) connection is lost. Never a stale
    pin: while down the squelch reads closed, the listener (the daemon's health) is told, one line
    is logged, and the port is reopened every ``reopen_s``; a second line says when it is back and
    after how long.
    """

    latency_s = 0.0

    def __init__(self, cfg: SerialSquelchConfig, port: serial.SerialBase | None = None,
                 opener: Opener | None = None, reopen_s: float = 2.0, check_s: float = 1.0,
                 listener: SquelchListener | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.cfg = cfg
        self._attr = _PINS[cfg.pin]
        self._opener = opener or self._open_configured
        self.reopen_s, self.check_s, self.listener, self.clock = reopen_s, check_s, listener, clock
        self.port: serial.SerialBase | None = port if port is not None else self._first_open()
        self.up = True
        self.outages = 0
        self._down_at = 0.0
        self._next_try = 0.0
        self._next_check = 0.0
        self._path = cfg.port if cfg.port.startswith("/") else None
        self._last = False

    def _open_configured(self) -> serial.SerialBase:
        port = serial.serial_for_url(self.cfg.port, do_not_open=True)
        port.exclusive = True  # a second reader (another daemon) gets "busy", not garbage
        port.open()
        return port

    def _first_open(self) -> serial.SerialBase:
        try:
            return self._opener()
        except (serial.SerialException, ValueError, OSError) as e:
            raise SerialSquelchError(f"squelch.serial.port = {self.cfg.port!r}: {_reason(e)}") from None

    def update(self, frame: np.ndarray, t: float) -> bool:
        if self.port is None:
            self._try_reopen()
            if self.port is None:
                return False
        now = self.clock()
        if now >= self._next_check:
            self._next_check = now + self.check_s
            gone = self._gone()
            if gone:
                self._down(gone)
                return False
        try:
            level = bool(getattr(self.port, self._attr))
        except (serial.SerialException, OSError, ValueError) as e:
            self._down(f"pin unreadable ({e})")
            return False
        self._last = level != self.cfg.invert
        return self._last

    def _gone(self) -> str | None:
        if self._path is not None and not os.path.exists(self._path):
            return "device path is gone"
        # A network port (rfc2217://, a device server) whose connection dropped keeps answering the
        # last modem state it was told; its reader thread ending is the only sign (pyserial's own).
        reader = getattr(self.port, "_thread", None)
        if isinstance(reader, threading.Thread) and not reader.is_alive():
            return "connection lost"
        fileno = getattr(self.port, "fd", None)
        if isinstance(fileno, int) and fileno >= 0:
            poller = select.poll()
            poller.register(fileno, select.POLLHUP | select.POLLERR | select.POLLNVAL)
            try:
                events = poller.poll(0)
            except OSError as e:
                return f"port unusable ({e})"
            if events:
                return "port hung up"
        return None

    def _down(self, reason: str) -> None:
        self.up, self._last = False, False
        self.outages += 1
        self._down_at = self.clock()
        self._next_try = self._down_at + self.reopen_s
        log.error("squelch port %s down: %s; reading the channel as closed, reopening every %g s",
                  self.cfg.port, reason, self.reopen_s)
        self._close_port()
        if self.listener is not None:
            self.listener.squelch_state(False, reason)

    def _try_reopen(self) -> None:
        now = self.clock()
        if now < self._next_try:
            return
        self._next_try = now + self.reopen_s
        try:
            port = self._opener()
        except (serial.SerialException, ValueError, OSError) as e:
            log.debug("squelch port %s still down: %s", self.cfg.port, e)
            return
        self.port, self.up = port, True
        self._next_check = 0.0
        log.warning("squelch port %s back after %.1f s", self.cfg.port, now - self._down_at)
        if self.listener is not None:
            self.listener.squelch_state(True, "")

    def _close_port(self) -> None:
        if self.port is not None:
            with contextlib.suppress(Exception):
                self.port.close()
            self.port = None

    def close(self) -> None:
        self._close_port()


def _reason(e: BaseException) -> str:
    text = str(e)
    if "busy" in text.lower() or "lock" in text.lower() or "Errno 16" in text:
        return "port is busy (another program has it open)"
    if "No such file" in text or "Errno 2" in text:
        return "no such port"
    if "Permission denied" in text or "Errno 13" in text:
        return "permission denied (is the user in group dialout?)"
    return text.splitlines()[0] if text else e.__class__.__name__
