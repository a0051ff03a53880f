"""Radio-side settings: the ``[ptt]`` table and the squelch inputs beyond VOX and the serial pin.

Kept out of ``gateway/config.py`` (which only hooks these in): the dataclasses, their range rules
(:data:`RULES`, same form as config.py's) and the cross-key checks (:func:`problem`).
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, field
from typing import Any

SQUELCH_INPUTS = ("vox", "serial", "cm108", "rigctld")
CM108_BUTTONS = ("vol_up", "vol_down", "mute_play", "mute_rec")


@dataclass(frozen=True)
class Cm108SquelchConfig:
    device: str = ""  # a hidraw node: /dev/hidraw0 or the udev name /dev/ht-cm108
    line: str = "vol_down"  # which button input of the HID input report carries COS
    invert: bool = False


@dataclass(frozen=True)
class RigctldConfig:
    host: str = "127.0.0.1"
    port: int = 4532


@dataclass(frozen=True)
class RigctldSquelchConfig:
    host: str = "127.0.0.1"
    port: int = 4532
    poll_ms: int = 100


@dataclass(frozen=True)
class SerialPttConfig:
    port: str = ""
    line: str = "rts"
    invert: bool = False


@dataclass(frozen=True)
class Cm108PttConfig:
    device: str = ""
    gpio: int = 3
    invert: bool = False


@dataclass(frozen=True)
class PttConfig:
    type: str = "none"
    serial: SerialPttConfig = field(default_factory=SerialPttConfig)
    cm108: Cm108PttConfig = field(default_factory=Cm108PttConfig)
    rigctld: RigctldConfig = field(default_factory=RigctldConfig)


RULES: list[tuple[str, typing.Callable[[Any], bool], str]] = [
    ("squelch.type", lambda v: v in ("vox", "serial", "cm108", "rigctld", "any", "all"),
     "'vox', 'serial', 'cm108', 'rigctld', 'any' or 'all'"),
    ("squelch.inputs", lambda v: all(i in SQUELCH_INPUTS for i in v) and len(set(v)) == len(v),
     "a list of distinct inputs from 'vox', 'serial', 'cm108', 'rigctld'"),
    ("squelch.cm108.line", lambda v: v in CM108_BUTTONS, "'vol_up', 'vol_down', 'mute_play' or 'mute_rec'"),
    ("squelch.rigctld.port", lambda v: 1 <= v <= 65535, "1..65535"),
    ("squelch.rigctld.poll_ms", lambda v: 50 <= v <= 1000, "50..1000 ms"),
    ("ptt.type", lambda v: v in ("none", "serial", "cm108", "rigctld"),
     "'none', 'serial', 'cm108' or 'rigctld'"),
    ("ptt.serial.line", lambda v: v in ("rts", "dtr"), "'rts' or 'dtr'"),
    ("ptt.cm108.gpio", lambda v: 1 <= v <= 8, "1..8 (GPIO3 on most interfaces)"),
    ("ptt.rigctld.port", lambda v: 1 <= v <= 65535, "1..65535"),
]


def problem(cfg: Any) -> str | None:
    """The first cross-key problem of the radio settings (``cfg`` is a gateway.config.Config)."""
    sq, ptt = cfg.squelch, cfg.ptt
    used = tuple(sq.inputs) if sq.type in ("any", "all") else (sq.type,)
    if sq.type in ("any", "all") and len(sq.inputs) < 2:
        return f"squelch.inputs = {list(sq.inputs)!r}: squelch.type = {sq.type!r} needs two or more inputs"
    if "cm108" in used and not sq.cm108.device:
        return "squelch.cm108.device = '': required when the cm108 squelch input is used"
    if "serial" in used and not sq.serial.port:
        return "squelch.serial.port = '': required when the serial squelch input is used"
    if ptt.type == "serial" and not ptt.serial.port:
        return "ptt.serial.port = '': required when ptt.type = 'serial'"
    if ptt.type == "cm108" and not ptt.cm108.device:
        return "ptt.cm108.device = '': required when ptt.type = 'cm108'"
    if ptt.type == "serial" and "serial" in used and ptt.serial.port == sq.serial.port:
        return (f"ptt.serial.port = {ptt.serial.port!r}: the squelch reads the same port; one program "
                "opens a serial port at a time, use a second adapter or ptt.type = 'cm108'")
    return None
