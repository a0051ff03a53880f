"""The configured Ptt (``[ptt]``), or None when the gateway has no transmitter (``type = "none"``)."""

from __future__ import annotations

from typing import Any

from gateway.ptt.base import Ptt


def build_ptt(cfg: Any) -> Ptt | None:
    """``cfg``: a gateway.config.Config. Raises PttError (one line) when the device cannot be opened."""
    p = cfg.ptt
    if p.type == "serial":
        from gateway.ptt.serial_line import SerialPtt

        return SerialPtt(p.serial)
    if p.type == "cm108":
        from gateway.ptt.cm108 import Cm108Ptt

        return Cm108Ptt(p.cm108)
    if p.type == "rigctld":
        from gateway.ptt.rigctld import RigctldPtt

        return RigctldPtt(p.rigctld)
    return None
