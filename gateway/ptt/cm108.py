"""PTT on a GPIO pin of a C-Media CM108/CM119 sound card (most radio interfaces, the AIOC).

The GPIO is driven through the card's HID interface: one HID *output report* written to its hidraw
node with a plain ``os.write`` (no hidapi needed). Layout, from the C-Media CM108 datasheet (section
"HID output report", registers HID_OR0..HID_OR3; CM119 the same), as Dire Wolf's ``cm108.c`` and
SvxLink's hidraw PTT write it:

    byte 0  report number: 0 (the device has no numbered reports; hidraw strips it)
    byte 1  HID_OR0: 0x00 = "the next bytes are GPIO data and direction"
    byte 2  HID_OR1: GPIO output levels, bit n-1 = GPIOn
    byte 3  HID_OR2: GPIO direction, bit n-1 = 1 makes GPIOn an output
    byte 4  HID_OR3: 0x00 (SPDIF, unused)

So keying GPIO3 writes ``00 00 04 04 00`` and unkeying ``00 00 00 04 00``. The node is opened and
the pin set to its unkeyed level at once (the chip powers up with its GPIOs as inputs, i.e. not
driven; the interface's pull-down keeps the radio unkeyed until then).
"""

from __future__ import annotations

import contextlib
import os

from gateway.config_radio import Cm108PttConfig
from gateway.ptt.base import PttError


def gpio_report(gpio: int, level: bool) -> bytes:
    """The 5 bytes that set CM108 GPIO ``gpio`` (1..8) as an output at ``level``."""
    mask = 1 << (gpio - 1)
    return bytes([0, 0, mask if level else 0, mask, 0])


class Cm108Ptt:
    def __init__(self, cfg: Cm108PttConfig) -> None:
        self.cfg = cfg
        self.name = f"cm108 GPIO{cfg.gpio} on {cfg.device}"
        self._keyed = False
        self._fd: int | None = None
        try:
            self._fd = os.open(cfg.device, os.O_WRONLY | os.O_NOCTTY)
        except OSError as e:
            raise PttError(f"ptt.cm108.device = {cfg.device!r}: {_reason(e)}") from None
        self._set(False)

    @property
    def keyed(self) -> bool:
        return self._keyed

    def _set(self, keyed: bool) -> None:
        if self._fd is None:
            if keyed:
                raise PttError(f"ptt {self.name}: closed")
            return
        report = gpio_report(self.cfg.gpio, keyed != self.cfg.invert)
        try:
            n = os.write(self._fd, report)
        except OSError as e:
            raise PttError(f"ptt {self.name}: cannot {'key' if keyed else 'unkey'}: {_reason(e)}") from None
        if n != len(report):
            raise PttError(f"ptt {self.name}: short write ({n} of {len(report)} bytes)")
        self._keyed = keyed

    def key(self) -> None:
        self._set(True)

    def unkey(self) -> None:
        self._set(False)

    def close(self) -> None:
        if self._fd is None:
            return
        try:
            self._set(False)
        finally:
            self._keyed = False
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None


def _reason(e: OSError) -> str:
    if e.errno == 2:
        return "no such device (see hardware/99-ht-gateway.rules)"
    if e.errno == 13:
        return "permission denied (is the user in group plugdev? see hardware/99-ht-gateway.rules)"
    if e.errno in (5, 19):
        return "device gone (unplugged?)"
    return e.strerror or str(e)
