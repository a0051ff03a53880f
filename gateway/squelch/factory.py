"""The configured squelch (``[squelch]``): one input, or several combined (``type = "any"/"all"``)."""

from __future__ import annotations

import contextlib
from typing import Any

from gateway.squelch.base import Squelch


def _one(kind: str, cfg: Any, health: Any) -> Squelch:
    if kind == "serial":
        from gateway.squelch.serial_pin import SerialPinSquelch

        return SerialPinSquelch(cfg.squelch.serial, listener=health)
    if kind == "cm108":
        from gateway.squelch.cm108 import Cm108Squelch

        return Cm108Squelch(cfg.squelch.cm108, listener=health)
    if kind == "rigctld":
        from gateway.squelch.rigctld import RigctldSquelch

        return RigctldSquelch(cfg.squelch.rigctld, listener=health)
    from gateway.squelch.vox import VoxSquelch
    from gateway.writer import PROCESSING_RATE

    return VoxSquelch(cfg.squelch.vox, PROCESSING_RATE)


def build_squelch(cfg: Any, health: Any = None) -> Squelch:
    """``cfg``: a gateway.config.Config; ``health``: told when a device input goes down/comes back.
    Raises SerialSquelchError or SquelchInputError (one line) when a device cannot be opened."""
    kinds = list(cfg.squelch.inputs) if cfg.squelch.type in ("any", "all") else [cfg.squelch.type]
    opened: list[Squelch] = []
    try:
        for kind in kinds:
            opened.append(_one(kind, cfg, health))
    except BaseException:
        for s in opened:  # no partial state: what was opened is closed again
            with contextlib.suppress(Exception):
                s.close()
        raise
    if health is not None and any(k != "vox" for k in kinds):
        health.squelch_state(True, "")
    if len(opened) == 1:
        return opened[0]
    from gateway.squelch.combine import CombinedSquelch

    return CombinedSquelch(cfg.squelch.type, opened)
