"""The transmitter: key, play, unkey — never over a camat, never longer than the TOT.

- **busy-channel lockout**: :class:`ChannelWatch` is a listener on the pipeline's
  :class:`~gateway.pipeline.TransmissionWriter` (``on_open``/``on_close``); the transmitter keys
  only when no transmission is open and the last one ended at least ``transmit.guard_s`` ago,
  else it waits (up to ``transmit.max_wait_s``, then the message expires);
- **pre-key / post-key**: PTT is keyed ``pre_key_s`` before the audio and held ``post_key_s`` after;
- **TOT**: audio is written in short chunks and the keyed time checked between them; past
  ``timeout_s`` the PTT is released and :attr:`Outcome.status` is ``timeout`` (the worker stores an
  ``transmit_timeout`` event and logs it);
- **release on every path**: PTT is unkeyed in a ``finally`` (stop, exception, SIGTERM through the
  daemon's stop event); the output device is opened *before* keying, so a missing device never
  leaves a carrier up;
- **own transmissions**: each keyed window is remembered, and a transmission the pipeline closes
  that began inside one is handed to ``on_own`` (the worker marks it as the gateway's).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from gateway.config_transmit import TransmitConfig
from gateway.ptt.base import Ptt
from gateway.segmenter import TxInfo
from gateway.transmit.player import Player

if TYPE_CHECKING:  # types only: the transmitter needs no database code
    from gateway.transmit.queue import TransmitStatus

    #: What became of a send: the message's status (the worker stores it), or ``stopped``: the
    #: daemon is stopping and the message stays pending.
    Sent = TransmitStatus | Literal["stopped"]

log = logging.getLogger(__name__)

CHUNK_S = 0.05
OWN_LEAD_S = 1.0  # capture clock vs wall clock: a transmission starting this before our key is ours
OWN_TAIL_S = 0.3  # ... and this after our unkey (a camat answering at once must stay a camat)


class ChannelWatch:
    """What the pipeline says about the channel: open or not, since when clear; our own windows."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._cond = threading.Condition()
        self._open: set[str] = set()
        self.clear_since: float = -1e18
        self._own: list[tuple[float, float, int]] = []  # (keyed epoch, unkeyed epoch, message id)
        self.on_own: Callable[[TxInfo, int], None] | None = None
        self.closed_at: list[float] = []  # monotonic close times (the bench reads them)

    def on_open(self, tx: TxInfo) -> None:
        with self._cond:
            self._open.add(tx.uid)

    def on_audio(self, tx: TxInfo, samples: np.ndarray) -> None:
        pass

    def on_close(self, tx: TxInfo) -> None:
        with self._cond:
            self._open.discard(tx.uid)
            self.clear_since = self.clock()
            self.closed_at.append(self.clear_since)
            own = next((m for k, u, m in self._own if k - OWN_LEAD_S <= tx.start <= u + OWN_TAIL_S), None)
            self._own = [w for w in self._own if w[1] > tx.start - 600]
            self._cond.notify_all()
        if own is not None and self.on_own is not None:
            try:
                self.on_own(tx, own)
            except Exception:  # never break the pipeline over a label
                log.exception("could not mark transmission %s as the gateway's own", tx.uid)

    def busy(self) -> bool:
        return bool(self._open)

    def own_window(self, keyed: float, unkeyed: float, message_id: int) -> None:
        with self._cond:
            self._own.append((keyed, unkeyed, message_id))

    def wait_clear(self, guard_s: float, max_wait_s: float, stop: threading.Event) -> bool:
        """Block until the channel has been clear for ``guard_s``; False on stop or after ``max_wait_s``."""
        deadline = self.clock() + max_wait_s
        with self._cond:
            while not stop.is_set():
                now = self.clock()
                if not self._open and now - self.clear_since >= guard_s:
                    return True
                if now >= deadline:
                    return False
                wait = deadline - now if self._open else min(deadline, self.clear_since + guard_s) - now
                self._cond.wait(max(0.005, min(wait, 0.1)))
        return False


@dataclass
class Outcome:
    status: Sent  # sent | timeout | expired | disabled | stopped
    keyed_at: float | None = None  # epoch seconds
    unkeyed_at: float | None = None
    keyed_s: float = 0.0


class Transmitter:
    def __init__(self, cfg: TransmitConfig, ptt: Ptt, player: Player, channel: ChannelWatch,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 wall: Callable[[], float] = time.time) -> None:
        self.cfg, self.ptt, self.player, self.channel = cfg, ptt, player, channel
        self.clock, self.sleep, self.wall = clock, sleep, wall
        self.keyed_mono: list[float] = []  # when each PTT key happened (the bench reads them)

    def send(self, audio: np.ndarray, stop: threading.Event, message_id: int = 0) -> Outcome:
        if not self.cfg.enabled:  # nothing transmits unless transmit.enabled = true
            return Outcome("disabled")
        if not self.channel.wait_clear(self.cfg.guard_s, self.cfg.max_wait_s, stop):
            return Outcome("stopped" if stop.is_set() else "expired")
        self.player.open()
        out = Outcome("sent")
        try:
            self.ptt.key()
            start = self.clock()
            self.keyed_mono.append(start)
            out.keyed_at = self.wall()
            log.info("PTT keyed (%s) for message %d", self.ptt.name, message_id)
            out.status = self._play(audio, start, stop)
        finally:
            try:
                self.ptt.unkey()
            finally:
                if out.keyed_at is not None:
                    out.unkeyed_at = self.wall()
                    out.keyed_s = self.clock() - start
                    self.channel.own_window(out.keyed_at, out.unkeyed_at, message_id)
                    log.info("PTT released (%s) after %.1f s", self.ptt.name, out.keyed_s)
                self.player.close()
        return out

    def _play(self, audio: np.ndarray, start: float, stop: threading.Event) -> Sent:
        tot = self.cfg.timeout_s

        def wait(seconds: float) -> bool:  # False if the TOT or a stop cut it short
            end = self.clock() + seconds
            while (now := self.clock()) < end:
                if now - start >= tot or stop.is_set():
                    return False
                self.sleep(min(CHUNK_S, end - now, tot - (now - start)))
            return True

        if not wait(self.cfg.pre_key_s):
            return "stopped" if stop.is_set() else "timeout"
        n = max(1, int(CHUNK_S * self.player.rate))
        for i in range(0, len(audio), n):
            if self.clock() - start >= tot:
                return "timeout"
            if stop.is_set():
                return "stopped"
            self.player.write(audio[i:i + n])
        if not wait(self.cfg.post_key_s):
            return "stopped" if stop.is_set() else "timeout"
        return "sent"
