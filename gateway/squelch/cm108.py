"""Squelch from a CM108/CM119 button input (volume up/down, mute) read through hidraw.

Many radio interfaces and the AIOC wire the receiver's COS to one of the sound card's button
inputs. The chip sends a 4-byte HID *input report* on every change; byte 0 holds the buttons
(C-Media CM108 datasheet, "HID input report", HID_IR0; the same bits SvxLink's hidraw squelch
reads): bit 0 volume up, bit 1 volume down, bit 2 playback mute, bit 3 record mute. A background
thread reads the reports (gateway/squelch/polled.py); until the first one arrives the line reads
closed (the chip reports a pressed button at once, so COS active at start is seen within a report).
"""

from __future__ import annotations

import contextlib
import os
import select

from gateway.config_radio import Cm108SquelchConfig
from gateway.squelch.polled import PolledSquelch, SquelchInputError
from gateway.squelch.serial_pin import SquelchListener

BUTTON_BITS = {"vol_up": 0x01, "vol_down": 0x02, "mute_play": 0x04, "mute_rec": 0x08}
REPORT_LEN = 4


class Cm108Squelch(PolledSquelch):
    what = "squelch cm108"

    def __init__(self, cfg: Cm108SquelchConfig, listener: SquelchListener | None = None,
                 reopen_s: float = 2.0) -> None:
        # reports only come on a change: the last one stays true however old (stale_s: forever)
        super().__init__(cfg.device, 0.0, reopen_s=reopen_s, stale_s=float("inf"), listener=listener)
        self.cfg = cfg
        self._bit = BUTTON_BITS[cfg.line]
        self._fd: int | None = None
        self._buf = b""
        try:
            self._open()
        except OSError as e:
            what = {2: "no such device (see hardware/99-ht-gateway.rules)",
                    13: "permission denied (is the user in group plugdev?)"}.get(e.errno or 0,
                                                                               e.strerror or str(e))
            raise SquelchInputError(f"squelch.cm108.device = {cfg.device!r}: {what}") from None
        self.start()

    def _open(self) -> None:
        self._close_device()
        self._fd = os.open(self.cfg.device, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
        self._buf = b""
        self._state = False  # no report yet: read closed until the chip says otherwise

    def _read(self) -> bool | None:
        fd = self._fd
        if fd is None:
            raise OSError("device closed")
        if not os.path.exists(self.cfg.device):
            raise OSError("device path is gone")
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        events = poller.poll(200)
        if not events:
            return None
        if any(ev & (select.POLLHUP | select.POLLERR | select.POLLNVAL) and not ev & select.POLLIN
               for _, ev in events):
            raise OSError("device hung up")
        data = os.read(fd, 64)
        if not data:
            raise OSError("device hung up")
        self._buf += data
        state = None
        while len(self._buf) >= REPORT_LEN:
            report, self._buf = self._buf[:REPORT_LEN], self._buf[REPORT_LEN:]
            state = bool(report[0] & self._bit) != self.cfg.invert
        return state

    def _close_device(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
