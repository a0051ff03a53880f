"""Wiring for the daemon: the transmit worker and the channel listener, or nothing when disabled."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from gateway.config import Config
from gateway.store.db import Database
from gateway.transmit.transmitter import ChannelWatch

log = logging.getLogger(__name__)


def build_ptt(cfg: Config) -> Any:
    """The PTT backend of the ``[ptt]`` table; with ``ptt.type = "none"``, a PTT that keys nothing
    (a radio keyed by its own VOX still transmits what is played)."""
    from gateway.ptt.factory import build_ptt as factory
    from gateway.ptt.fake import FakePtt

    ptt = factory(cfg)
    if ptt is None:
        log.warning("transmit: ptt.type = 'none': audio is played but no PTT line is keyed")
        return FakePtt(name="none")
    return ptt


def build_worker(cfg: Config, db: Database, ptt: Any = None, player: Any = None) -> Any:
    """(worker, channel listener) when ``transmit.enabled``, else None: nothing keys."""
    if not cfg.transmit.enabled:
        return None
    from gateway.transmit.messages import Voice
    from gateway.transmit.player import PyAudioPlayer
    from gateway.transmit.transmitter import Transmitter
    from gateway.transmit.worker import TransmitWorker

    player = player or PyAudioPlayer(cfg.transmit.device, cfg.transmit.rate)
    ptt = ptt if ptt is not None else build_ptt(cfg)
    channel = ChannelWatch()
    clips = Path(cfg.transmit.clips_dir) if cfg.transmit.clips_dir else None
    worker = TransmitWorker(cfg, db, Transmitter(cfg.transmit, ptt, player, channel),
                            Voice(cfg.transmit, player.rate, clips))
    log.info("transmit enabled: output %r at %d Hz, PTT %s", cfg.transmit.device or "default",
             player.rate, ptt.name)
    return worker, channel
