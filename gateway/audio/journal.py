"""The capture journal: the last ``audio.journal_s`` of raw samples in a file-backed ring.

The capture buffer (``audio.buffer_s``) is memory, and the recorder flushes an Ogg page only every
0.5 s, so a process killed mid-transmission used to lose what the pipeline had not yet written. The
journal closes that gap: the capture callback also copies every block of the captured channel
(int16) into ``<data>/capture.journal``, a fixed-size file mapped into memory. A write into a shared
mapping lands in the kernel's page cache at once, so it survives the process being killed (even by
SIGKILL); it does **not** survive a power cut or a kernel crash (nothing is fsynced: the callback
must never wait on a disk).

The file: an 8 KiB header, then ``capacity`` int16 samples used as a ring (sample ``j`` of the
session at ``j % capacity``). The header's first 64 bytes are fixed for the file (magic, version,
rate, capacity, a fingerprint of the device and channel, a CRC); the rest is written while running,
each field by one thread only, so no lock is needed:

- ``written`` (the capture callback): samples written this session;
- ``consumed``, ``anchor_j``/``anchor_t`` (the capture consumer): how far the pipeline has read,
  and which epoch time sample ``anchor_j`` has (the sample clock, re-anchored as it goes);
- the squelch decisions (the pipeline): up to which time they are known, the state then, and the
  last :data:`EVENTS` open/close transitions with their times;
- the open transmission (the pipeline, through :class:`JournalMarks`): its uid and first sample's
  time, and the time the last one closed.

At start :meth:`CaptureJournal.open` reads what a killed process left (:class:`JournalTail`, a copy
in memory) and only then starts a new session in the same file; gateway/replay.py decides which
part of the tail is stored nowhere and replays it. A file that is not a journal, is torn or comes
from another rate, device or channel is reported in one warning and started afresh.
"""

from __future__ import annotations

import hashlib
import logging
import mmap
import os
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

NAME = "capture.journal"
MAGIC = b"HTGJRNL1"
VERSION = 1
HEADER = 8192
EVENTS = 256  # squelch transitions kept (a ring of (time, state))
_STATIC = struct.Struct("<8sIIQ16s")  # magic, version, rate, capacity, fingerprint: 40 bytes
_CRC_AT = 48
# dynamic fields (8 bytes each, from byte 64): index into the u64 / f64 views
_WRITTEN, _CONSUMED, _ANCHOR_J, _SQ_COUNT, _TX_OPEN = 8, 9, 10, 11, 12
_ANCHOR_T, _SQ_KNOWN_T, _SQ_LAST, _TX_AUDIO_START, _CLOSED_T = 13, 14, 15, 16, 17
# The newest CARRY_S of the previous session open each new one: what a VOX squelch hears first after
# a second restart (gateway/replay.py warms it on the audio before what it replays), so a restart in
# the middle of a call does not take the call's level for the channel's noise floor.
CARRY_S = 10.0
_UID_AT = 160  # 32 bytes: the open transmission's uid (ASCII hex)
_EVENTS_AT = 256  # EVENTS × (f64 time, f64 state)


def fingerprint(device: str, channel: int) -> bytes:
    return hashlib.sha256(f"{device}|{channel}".encode()).digest()[:16]


@dataclass
class JournalTail:
    """What the previous session left: its samples (the newest ``len(audio)`` of them, ending at
    ``written``) and the marks the daemon needs to decide what to replay."""

    rate: int
    written: int
    audio: np.ndarray  # int16, samples [written - len(audio), written)
    consumed: int
    anchor_j: int
    anchor_t: float
    squelch_known_t: float
    squelch_last: bool
    events: list[tuple[float, bool]] = field(default_factory=list)  # oldest first
    tx_uid: str | None = None  # a transmission was open when it stopped
    tx_audio_start: float = 0.0
    closed_t: float = 0.0  # when the last transmission before it closed (pipeline time)

    @property
    def first(self) -> int:
        return self.written - len(self.audio)

    def time_of(self, j: int) -> float:
        return self.anchor_t + (j - self.anchor_j) / self.rate

    def index_at(self, t: float) -> int:
        """The sample index at epoch time ``t``, clamped to the samples held."""
        j = self.anchor_j + round((t - self.anchor_t) * self.rate)
        return max(self.first, min(self.written, j))


class CaptureJournal:
    """The open journal file. :meth:`write` is the capture callback's (copy, no lock, no syscall)."""

    def __init__(self, path: Path, rate: int, seconds: float, device: str, channel: int) -> None:
        self.path, self.rate = path, rate
        self.capacity = max(rate, int(seconds * rate))
        self.size = HEADER + 2 * self.capacity
        self._static = _STATIC.pack(MAGIC, VERSION, rate, self.capacity, fingerprint(device, channel))
        self.tail: JournalTail | None = None
        self._written = 0
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            if os.fstat(fd).st_size == self.size:
                self.tail = self._read_tail(fd)
            elif os.fstat(fd).st_size:
                log.warning("capture journal %s: %s; started afresh", path,
                            "not a journal of this size (audio.journal_s or the rate changed?)")
            os.ftruncate(fd, 0)  # a fresh file of the right size (the old tail is in memory)
            os.ftruncate(fd, self.size)
            self._mm = mmap.mmap(fd, self.size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        finally:
            os.close(fd)
        self._u64 = np.ndarray((32,), np.uint64, buffer=self._mm, offset=0)
        self._f64 = np.ndarray((32,), np.float64, buffer=self._mm, offset=0)
        self._events = np.ndarray((EVENTS, 2), np.float64, buffer=self._mm, offset=_EVENTS_AT)
        self._ring = np.ndarray((self.capacity,), np.int16, buffer=self._mm, offset=HEADER)
        self._ring[::2048] = 0  # pre-fault every page now: the callback must never fault to disk
        self._mm[:len(self._static)] = self._static
        struct.pack_into("<I", self._mm, _CRC_AT, zlib.crc32(self._static))
        if self.tail is not None and len(self.tail.audio):  # carried over: see CARRY_S
            carry = self.tail.audio[-min(len(self.tail.audio), int(CARRY_S * rate)):]
            self.write(carry)
            self.mark_consumed(len(carry))  # history, never to be replayed again

    @classmethod
    def open(cls, data_dir: Path, rate: int, seconds: float, device: str,
             channel: int) -> CaptureJournal | None:
        """The journal in ``data_dir`` (its previous session's tail in ``.tail``); None when it
        cannot be used (one warning: capture goes on without it)."""
        try:
            return cls(data_dir / NAME, rate, seconds, device, channel)
        except (OSError, ValueError) as e:
            log.warning("capture journal %s: cannot be used (%s); capturing without it",
                        data_dir / NAME, e)
            return None

    def _read_tail(self, fd: int) -> JournalTail | None:
        with mmap.mmap(fd, self.size, mmap.MAP_SHARED, mmap.PROT_READ) as old:
            why = self._check(old)
            if why:
                log.warning("capture journal %s: %s; ignored", self.path, why)
                return None
            u64 = np.ndarray((32,), np.uint64, buffer=old, offset=0).copy()
            f64 = u64.view(np.float64)
            written, consumed = int(u64[_WRITTEN]), int(u64[_CONSUMED])
            if consumed > written or int(u64[_SQ_COUNT]) > 1 << 40 or not np.isfinite(f64[_ANCHOR_T]):
                log.warning("capture journal %s: inconsistent marks; ignored", self.path)
                return None
            n = min(written, self.capacity)
            ring = np.ndarray((self.capacity,), np.int16, buffer=old, offset=HEADER)
            pos = written % self.capacity
            audio = np.concatenate([ring[pos:], ring[:pos]])[self.capacity - n:] \
                if written >= self.capacity else ring[:n].copy()
            count = int(u64[_SQ_COUNT])
            ev = np.ndarray((EVENTS, 2), np.float64, buffer=old, offset=_EVENTS_AT)
            events = [(float(ev[k % EVENTS, 0]), bool(ev[k % EVENTS, 1]))
                      for k in range(max(0, count - EVENTS), count)]
            uid = bytes(old[_UID_AT:_UID_AT + 32]).rstrip(b"\0").decode("ascii", "replace")
            return JournalTail(
                rate=self.rate, written=written, audio=audio, consumed=consumed,
                anchor_j=int(u64[_ANCHOR_J]), anchor_t=float(f64[_ANCHOR_T]),
                squelch_known_t=float(f64[_SQ_KNOWN_T]), squelch_last=bool(f64[_SQ_LAST]),
                events=events, tx_uid=uid if int(u64[_TX_OPEN]) and uid else None,
                tx_audio_start=float(f64[_TX_AUDIO_START]), closed_t=float(f64[_CLOSED_T]))

    def _check(self, old: mmap.mmap) -> str:
        magic, version, rate, capacity, fp = _STATIC.unpack_from(old, 0)
        if magic != MAGIC:
            return "not a capture journal"
        (crc,) = struct.unpack_from("<I", old, _CRC_AT)
        if crc != zlib.crc32(bytes(old[:_STATIC.size])) or version != VERSION:
            return "torn or unknown header"
        if rate != self.rate:
            return f"written at {rate} Hz, capturing at {self.rate} Hz"
        if capacity != self.capacity:
            return "another audio.journal_s"
        if fp != self._static[-16:]:
            return "written from another device or channel"
        return ""

    # -- the capture callback ---------------------------------------------------------------------
    def write(self, samples: np.ndarray) -> None:
        """Append int16 samples (the callback's thread only)."""
        n = len(samples)
        if n > self.capacity:
            samples = samples[n - self.capacity:]
        w = self._written
        pos = w % self.capacity
        first = min(len(samples), self.capacity - pos)
        self._ring[pos:pos + first] = samples[:first]
        if first < len(samples):
            self._ring[:len(samples) - first] = samples[first:]
        self._written = w + n
        self._u64[_WRITTEN] = w + n

    @property
    def written(self) -> int:
        return self._written

    # -- the capture consumer -------------------------------------------------------------------
    def mark_read(self, j: int, t: float) -> None:
        """Sample ``j`` (exclusive end of what the consumer handed on) has epoch time ``t``."""
        self._f64[_ANCHOR_T] = t
        self._u64[_ANCHOR_J] = j

    def mark_consumed(self, j: int) -> None:
        self._u64[_CONSUMED] = j

    # -- the pipeline ---------------------------------------------------------------------------
    def mark_squelch(self, t: float, is_open: bool, changed: bool) -> None:
        if changed:
            k = int(self._u64[_SQ_COUNT])
            self._events[k % EVENTS] = (t, 1.0 if is_open else 0.0)
            self._u64[_SQ_COUNT] = k + 1
        self._f64[_SQ_LAST] = 1.0 if is_open else 0.0
        self._f64[_SQ_KNOWN_T] = t

    def mark_open(self, uid: str, audio_start: float) -> None:
        self._mm[_UID_AT:_UID_AT + 32] = uid.encode("ascii")[:32].ljust(32, b"\0")
        self._f64[_TX_AUDIO_START] = audio_start
        self._u64[_TX_OPEN] = 1

    def mark_closed(self) -> None:
        """The open transmission is stored; replay nothing before the last frame the squelch saw."""
        self._u64[_TX_OPEN] = 0
        self._f64[_CLOSED_T] = self._f64[_SQ_KNOWN_T]

    def close(self) -> None:
        """Unmap (what was written stays in the file)."""
        del self._u64, self._f64, self._events, self._ring
        self._mm.close()
