"""Squelch from a carrier-detect/COS line on a serial port's input pin, read through pyserial.

The radio interface pulls CTS, DSR, DCD or RI when the receiver's squelch opens (``invert`` for
active-low wiring). The pin is read once per audio frame on the pipeline thread (an ioctl, a few µs).
In tests the port is ``loop://``, where pyserial mirrors RTS→CTS and DTR→DSR.
"""

from __future__ import annotations

import logging

import numpy as np
import serial

from gateway.config import SerialSquelchConfig
from gateway.logutil import RateLimitedLog

log = logging.getLogger(__name__)

_PINS = {"cts": "cts", "dsr": "dsr", "dcd": "cd", "ri": "ri"}


class SerialSquelchError(RuntimeError):
    pass


class SerialPinSquelch:
    latency_s = 0.0

    def __init__(self, cfg: SerialSquelchConfig, port: serial.SerialBase | None = None) -> None:
        self.cfg = cfg
        self._attr = _PINS[cfg.pin]
        if port is None:
            try:
                port = serial.serial_for_url(cfg.port, do_not_open=True)
                port.exclusive = True  # a second reader (another daemon) gets "busy", not garbage
                port.open()
            except (serial.SerialException, ValueError, OSError) as e:
                raise SerialSquelchError(f"squelch.serial.port = {cfg.port!r}: {_reason(e)}") from None
        self.port = port
        self._fault = RateLimitedLog(log, 60.0)
        self._last = False

    def update(self, frame: np.ndarray, t: float) -> bool:
        try:
            level = bool(getattr(self.port, self._attr))
        except (serial.SerialException, OSError) as e:
            self._fault.error("squelch pin %s on %s unreadable: %s", self.cfg.pin, self.cfg.port, e)
            return self._last
        self._last = level != self.cfg.invert
        return self._last

    def close(self) -> None:
        self.port.close()


def _reason(e: BaseException) -> str:
    text = str(e)
    if "busy" in text.lower() or "lock" in text.lower() or "Errno 16" in text:
        return "port is busy (another program has it open)"
    if "No such file" in text or "Errno 2" in text:
        return "no such port"
    if "Permission denied" in text or "Errno 13" in text:
        return "permission denied (is the user in group dialout?)"
    return text.splitlines()[0] if text else e.__class__.__name__
