"""PTT on a serial port's RTS or DTR output (a DigiRig, a USB-serial adapter driving a transistor).

Opening a serial port asserts RTS and DTR (pyserial's defaults, and the Linux tty driver raises both
when the device is opened), which would key a radio wired to either line. So the port is created
with ``do_not_open``, both lines are set to their *unkeyed* level, and only then opened: pyserial's
``open()`` applies the stored levels as its last step, so the line is never driven keyed by this
program. (The kernel's own raise inside ``open(2)`` lasts only until that step, microseconds;
hardware/README.md says how to wire so that even that cannot key: a CM108 GPIO or rigctld.)
The other line is held at its idle level too (deasserted, or asserted with ``invert``).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable

import serial

from gateway.config_radio import SerialPttConfig
from gateway.ptt.base import PttError, SwitchedPtt

PortFactory = Callable[[str], serial.SerialBase]


def _unopened(url: str) -> serial.SerialBase:
    return serial.serial_for_url(url, do_not_open=True)


class SerialPtt(SwitchedPtt):
    def __init__(self, cfg: SerialPttConfig, factory: PortFactory = _unopened) -> None:
        self.cfg = cfg
        self.name = f"serial {cfg.line.upper()} on {cfg.port}"
        super().__init__()
        try:
            port = factory(cfg.port)
            idle = cfg.invert  # the level that means "not keyed"
            port.rts = idle
            port.dtr = idle
            if cfg.port.startswith("/"):
                port.exclusive = True  # a second program keying the same radio gets "busy"
            port.open()
            # pyserial's open() ignores a port that has no modem lines (a pty, some USB gadgets);
            # setting the line again (to the same, unkeyed level) makes that an error here
            setattr(port, cfg.line, idle)
        except (serial.SerialException, OSError, ValueError) as e:
            raise PttError(f"ptt.serial.port = {cfg.port!r}: {_reason(e)}") from None
        self.port = port

    def _set(self, keyed: bool) -> None:
        try:
            setattr(self.port, self.cfg.line, keyed != self.cfg.invert)
        except (serial.SerialException, OSError, ValueError, AttributeError, TypeError) as e:
            raise PttError(f"ptt {self.name}: cannot {'key' if keyed else 'unkey'}: {_reason(e)}") from None
        self._keyed = keyed

    def _release(self) -> None:
        with contextlib.suppress(Exception):
            self.port.close()


def _reason(e: BaseException) -> str:
    text = str(e)
    m = re.search(r"\[Errno (\d+)\]", text)
    errno = int(m.group(1)) if m else getattr(e, "errno", None)
    if "busy" in text.lower() or errno == 16 or "lock" in text.lower():
        return "port is busy (another program has it open)"
    if errno == 2:
        return "no such port"
    if errno == 13:
        return "permission denied (is the user in group dialout?)"
    if errno in (22, 25):
        return "this port cannot drive RTS/DTR (no modem control lines)"
    return text.splitlines()[0] if text else e.__class__.__name__
