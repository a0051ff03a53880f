"""DTMF decoder for the PTT-ID / ANI that radios send at key-up (BOT) or key-down (EOT).

Pure numpy/scipy, streaming, fed with the audio of one transmission (any block size; the
pipeline gives 20 ms frames at 16 kHz, pre-roll first). It reports digit sequences with their
times and where they sit in the transmission, and :func:`ani` picks the station's code.

How a tone is found (figures for 16 kHz; everything scales with the rate):

1. A 200 Hz high-pass removes DC, hum and CTCSS sub-tones.
2. Every ``HOP_MS`` (4 ms) a Hann-windowed block of ``BLOCK_MS`` (12 ms, 192 samples) is
   correlated with the eight DTMF frequencies: the Goertzel sums of all blocks of a batch at
   once, as one matrix product.
3. In each group (697-941 Hz, 1209-1633 Hz) the strongest frequency is the candidate. Its true
   frequency comes from the phase advance of its sum from one block to the next (4 ms apart:
   unambiguous within +-125 Hz), far finer than the 83 Hz bins; the tone's energy is then read
   through the window's response at that offset, so a tone 3 % off is still measured in full.
4. A block holds a key when the two tones carry at least ``tone_share(min_snr_db)`` (90 % at
   15 dB) of the block's whole energy, 200 Hz to Nyquist. That is the talk-off guard: speech
   spreads its energy over harmonics and formants, noise over the band, and a second tone in a
   group or 2nd harmonics take their share. It also means the tone must fill most of the block,
   which makes the measured tone length right. Looser per-block gates on twist and frequency
   (whole-tone limits + ``BLOCK_*_SLACK``) and the level complete the test.
5. Consecutive blocks with the same key make a tone; a drop-out shorter than ``min_gap_ms`` is
   bridged. The tone is a digit if it lasts long enough and its frequencies and twist,
   measured over the whole tone, are within limits.
6. Digits at most ``max_interdigit_gap_ms`` apart make a sequence; at :meth:`finish` each
   sequence is labelled ``bot``, ``eot`` or ``mid`` by how close it lies to either end.

The limits in :class:`DtmfConfig` say what must be *accepted*; each is applied with an allowance
for measurement error (``TONE_ALLOWANCE_MS``, ``FREQ_ALLOWANCE``, ``TWIST_ALLOWANCE_DB``), so that
the classic receiver figures hold on both sides: tones of 40 ms, +-1.5 % and 8 dB twist are
accepted; tones of 25 ms or less, +-3.5 % off or 12 dB twist are rejected.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from typing import Literal

import numpy as np

from gateway.audio.iir import butter_sos, sosfilt  # not scipy.signal (70 MiB to import)
from gateway.config_model import DtmfConfig  # the [dtmf] table: settings depend on nothing

log = logging.getLogger(__name__)

LOW_HZ = np.array([697.0, 770.0, 852.0, 941.0])
HIGH_HZ = np.array([1209.0, 1336.0, 1477.0, 1633.0])
FREQS = np.concatenate([LOW_HZ, HIGH_HZ])
#: KEYS[row][column]: row = low-group tone, column = high-group tone.
KEYS = ("123A", "456B", "789C", "*0#D")

BLOCK_MS = 12.0             # analysis block (Hann window)
HOP_MS = 4.0                # block step: time resolution of tone edges
HIGHPASS_HZ = 200.0
BATCH_S = 0.2               # feed() analyses once this much audio has come in
SNR_HEADROOM_DB = 5.0       # noise may take 10^(-(min_snr_db - this)/10) of a block's energy
TONE_ALLOWANCE_MS = 8.0     # tones measuring min_tone_ms - this (two hops) or more are kept
FREQ_ALLOWANCE = 0.010      # whole-tone frequency limit: max_freq_dev + this
TWIST_ALLOWANCE_DB = 2.0    # whole-tone twist limit: max_twist_db + this
BLOCK_FREQ_SLACK = 0.025    # one block's estimates are noisier: its gates are this much looser
BLOCK_TWIST_SLACK_DB = 3.0

Position = Literal["bot", "eot", "mid"]


@dataclass(frozen=True)
class DtmfSequence:
    """Digits sent in one go; ``start``/``end`` in seconds on the caller's clock (see ``feed``)."""

    digits: str
    start: float
    end: float
    position: Position


@dataclass
class _Tone:
    """A key heard over consecutive blocks (possibly across short drop-outs)."""

    key: int            # row * 4 + column
    start: int          # sample index of the first block's start
    end: int            # sample index of the last block's end
    pulse_low: complex  # summed block-to-block phase advances (frequency estimate)
    pulse_high: complex
    energy_low: float   # summed tone energies (twist)
    energy_high: float
    blocks: int = 1     # blocks that held the key (fewer than the span if drop-outs were bridged)


def tone_share(min_snr_db: float) -> float:
    """Share of a block's energy the two tones must carry: 0.9 for 15 dB (see ``min_snr_db``)."""
    return 1.0 - float(10.0 ** (-(min_snr_db - SNR_HEADROOM_DB) / 10.0))


def _window_response(window: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Amplitude response of ``window`` (1 at 0 Hz) at offsets 0..~200 Hz, as a lookup table."""
    offsets = np.linspace(0.0, 200.0, 401)
    n = np.arange(len(window))
    resp = np.abs(np.exp(2j * np.pi * np.outer(offsets, n) / rate) @ window) / window.sum()
    return offsets, resp


class DtmfDecoder:
    """Streaming decoder for one transmission: :meth:`feed` its audio, then :meth:`finish`."""

    def __init__(self, rate: int = 16000, cfg: DtmfConfig = DtmfConfig()) -> None:  # noqa: B008
        if rate < 8000:
            raise ValueError(f"dtmf: rate {rate} Hz too low, need at least 8000")
        self.rate, self.cfg = rate, cfg
        self.block = int(round(rate * BLOCK_MS / 1000.0))
        self.hop = int(round(rate * HOP_MS / 1000.0))
        # Tone length and pause limits in samples (a tone spans first block start..last block end).
        self.min_length = int(round(rate * (cfg.min_tone_ms - TONE_ALLOWANCE_MS) / 1000.0))
        self.min_gap = int(round(rate * cfg.min_gap_ms / 1000.0))
        self.min_share = tone_share(cfg.min_snr_db)
        window = np.hanning(self.block + 2)[1:-1]
        n = np.arange(self.block)
        # Columns: windowed cosines then sines at the 8 frequencies: block @ basis = Re, -Im.
        phase = 2 * np.pi * np.outer(n, FREQS) / rate
        self._basis = np.hstack([np.cos(phase), np.sin(phase)]) * window[:, None]
        self._w2 = window**2
        self._gain = 2.0 * self._w2.sum() / window.sum() ** 2  # |sum|^2 -> windowed tone energy
        self._hop_turn = np.exp(-2j * np.pi * FREQS * self.hop / rate)
        self._resp_hz, self._resp = _window_response(window, rate)
        self._sos = butter_sos(2, HIGHPASS_HZ, "highpass", rate)
        self._zi = np.zeros((self._sos.shape[0], 2))
        self._buf = np.zeros(0)
        self._buf_at = 0           # sample index of _buf[0]
        self._next = 0             # sample index of the next block to analyse
        self._seen = 0             # samples fed so far
        self._pending: list[np.ndarray] = []  # fed, not yet analysed
        self._pending_n = 0
        self._batch = int(rate * BATCH_S)
        self._t0: float | None = None
        self._tone: _Tone | None = None
        self._digits: list[tuple[str, float, float]] = []
        self._runs: list[tuple[str, float, float]] = []  # closed sequences: digits, start, end
        self._finished: list[DtmfSequence] | None = None

    # -- input ----------------------------------------------------------------------------------
    def feed(self, samples: np.ndarray, t: float) -> None:
        """Add ``samples`` (mono float, full scale 1.0); ``t`` = seconds of samples[0] from the
        transmission's audio start. Samples are taken as contiguous; a jump in ``t`` only moves
        the clock (logged)."""
        if self._finished is not None:
            raise RuntimeError("dtmf: feed() after finish()")
        x = np.asarray(samples, dtype=np.float64).ravel()
        expected = None if self._t0 is None else self._t0 + self._seen / self.rate
        if expected is None or abs(t - expected) > self.block / self.rate:
            if expected is not None:
                log.warning("dtmf: audio at t=%.3f s, expected %.3f s: clock moved", t, expected)
            self._t0 = t - self._seen / self.rate
        self._seen += len(x)
        self._pending.append(x)
        self._pending_n += len(x)
        if self._pending_n >= self._batch:
            self._take_pending()

    def _take_pending(self) -> None:
        """Filter and analyse the samples fed since last time (batched: numpy calls are costly)."""
        if self._pending_n:
            y, self._zi = sosfilt(self._sos, np.concatenate(self._pending), self._zi)
            self._buf = np.concatenate([self._buf, y])
            self._pending, self._pending_n = [], 0
            self._analyse()

    def finish(self) -> list[DtmfSequence]:
        """End of the transmission: every sequence heard, in order, with its position."""
        if self._finished is not None:
            return self._finished
        self._take_pending()
        # Silence after the end lets the last blocks be analysed.
        self._buf = np.concatenate([self._buf, np.zeros(self.block + 2 * self.hop)])
        self._analyse()
        self._close_tone()
        self._close_sequence()
        t0 = self._t0 or 0.0
        end = t0 + self._seen / self.rate
        self._finished = [DtmfSequence(d, round(a, 3), round(b, 3), self._position(a, b, end))
                          for d, a, b in self._runs]
        if self._finished:
            log.debug("dtmf: %s", ", ".join(f"{s.digits}@{s.position}" for s in self._finished))
        return self._finished

    def peek(self) -> list[DtmfSequence]:
        """The sequences :meth:`finish` would return if the audio ended now, without ending it
        (a copy is finished; called once per squelch pause, never per frame)."""
        if self._finished is not None:
            return self._finished
        return copy.deepcopy(self).finish()

    @property
    def fed_s(self) -> float:
        """End of the audio fed so far, on the caller's clock (see :meth:`feed`)."""
        return (self._t0 or 0.0) + self._seen / self.rate

    def _position(self, start: float, end: float, audio_end: float) -> Position:
        window = self.cfg.sequence_window_s
        from_start, to_end = start, audio_end - end
        if from_start <= window and (to_end > window or from_start <= to_end):
            return "bot"
        return "eot" if to_end <= window else "mid"

    # -- analysis -------------------------------------------------------------------------------
    def _analyse(self) -> None:
        """Analyse every block whose successor is also complete (for the phase advance)."""
        first = self._next - self._buf_at
        count = (len(self._buf) - first - self.block - self.hop) // self.hop + 1
        if count <= 0:
            return
        frames = np.lib.stride_tricks.sliding_window_view(self._buf[first:], self.block)[::self.hop]
        frames = frames[:count + 1]
        self._blocks(frames, self._buf_at + first)
        self._next += count * self.hop
        drop = self._next - self._buf_at
        self._buf = self._buf[drop:]
        self._buf_at = self._next

    def _blocks(self, frames: np.ndarray, first_sample: int) -> None:
        """Classify ``len(frames) - 1`` blocks, then follow tones through them."""
        proj = frames @ self._basis
        sums = proj[:, :8] - 1j * proj[:, 8:]                 # (blocks + 1, 8) Goertzel sums
        energy = (frames[:-1] ** 2) @ self._w2                # windowed energy of each block
        # Phase advance of each frequency from block j to j+1, less the nominal advance.
        pulse = sums[1:] * np.conj(sums[:-1]) * self._hop_turn
        sums = sums[:-1]
        mag = np.abs(sums)
        rows = np.argmax(mag[:, :4], axis=1)
        cols = np.argmax(mag[:, 4:], axis=1)
        idx = np.arange(len(sums))
        pulse_lo, pulse_hi = pulse[idx, rows], pulse[idx, 4 + cols]
        scale = self.rate / (2 * np.pi * self.hop)
        dev_lo = np.angle(pulse_lo) * scale / LOW_HZ[rows]
        dev_hi = np.angle(pulse_hi) * scale / HIGH_HZ[cols]
        resp_lo = np.interp(np.abs(dev_lo) * LOW_HZ[rows], self._resp_hz, self._resp)
        resp_hi = np.interp(np.abs(dev_hi) * HIGH_HZ[cols], self._resp_hz, self._resp)
        e_lo = self._gain * mag[idx, rows] ** 2 / np.maximum(resp_lo, 0.05) ** 2
        e_hi = self._gain * mag[idx, 4 + cols] ** 2 / np.maximum(resp_hi, 0.05) ** 2
        tiny = 1e-20
        twist = 10 * np.log10((e_hi + tiny) / (e_lo + tiny))
        level = 10 * np.log10((e_lo + e_hi) / self._w2.sum() + tiny)
        ok = (e_lo + e_hi) >= self.min_share * energy
        ok &= np.abs(twist) <= self.cfg.max_twist_db + TWIST_ALLOWANCE_DB + BLOCK_TWIST_SLACK_DB
        ok &= level >= self.cfg.min_level_dbfs
        gate = self.cfg.max_freq_dev + FREQ_ALLOWANCE + BLOCK_FREQ_SLACK
        ok &= (np.abs(dev_lo) <= gate) & (np.abs(dev_hi) <= gate)
        keys = np.where(ok, rows * 4 + cols, -1)
        for j in np.flatnonzero(ok):
            start = first_sample + int(j) * self.hop
            self._add_block(_Tone(int(keys[j]), start, start + self.block, complex(pulse_lo[j]),
                                  complex(pulse_hi[j]), float(e_lo[j]), float(e_hi[j])))

    def _add_block(self, block: _Tone) -> None:
        """Extend the current tone with ``block`` (same key, no real pause) or start a new one."""
        tone = self._tone
        if tone is not None and tone.key == block.key and block.start - tone.end < self.min_gap:
            tone.end = block.end
            tone.pulse_low += block.pulse_low
            tone.pulse_high += block.pulse_high
            tone.energy_low += block.energy_low
            tone.energy_high += block.energy_high
            tone.blocks += 1
            return
        self._close_tone()
        self._tone = block

    def _close_tone(self) -> None:
        """Judge the tone that just ended: a digit if long enough and on frequency."""
        tone, self._tone = self._tone, None
        if tone is None:
            return
        row, col = divmod(tone.key, 4)
        scale = self.rate / (2 * np.pi * self.hop)
        dev_lo = np.angle(tone.pulse_low) * scale / LOW_HZ[row]
        dev_hi = np.angle(tone.pulse_high) * scale / HIGH_HZ[col]
        digit, start, end = KEYS[row][col], self._time(tone.start), self._time(tone.end)
        # Length = time the key was actually heard: a hop per block plus the rest of one block
        # (the span from first to last block for an unbroken tone; bridged drop-outs don't count).
        heard = tone.blocks * self.hop + self.block - self.hop
        if heard < self.min_length:
            log.debug("dtmf: %s at %.3f s too short (%.0f ms)", digit, start, 1000 * heard / self.rate)
            return
        limit = self.cfg.max_freq_dev + FREQ_ALLOWANCE
        if abs(dev_lo) > limit or abs(dev_hi) > limit:
            log.debug("dtmf: %s at %.3f s off frequency (%+.2f %%, %+.2f %%)", digit, start,
                      100 * dev_lo, 100 * dev_hi)
            return
        twist = 10 * np.log10(tone.energy_high / tone.energy_low)
        if abs(twist) > self.cfg.max_twist_db + TWIST_ALLOWANCE_DB:
            log.debug("dtmf: %s at %.3f s twist %+.1f dB", digit, start, twist)
            return
        if self._digits and start - self._digits[-1][2] > self.cfg.max_interdigit_gap_ms / 1000.0:
            self._close_sequence()
        self._digits.append((digit, start, end))

    def _time(self, sample: int) -> float:
        return (self._t0 or 0.0) + sample / self.rate

    def _close_sequence(self) -> None:
        if self._digits:
            digits = "".join(d for d, _, _ in self._digits)
            self._runs.append((digits, self._digits[0][1], self._digits[-1][2]))
            self._digits = []


def decode(audio: np.ndarray, rate: int = 16000, cfg: DtmfConfig = DtmfConfig()) -> list[DtmfSequence]:  # noqa: B008
    """Every DTMF sequence in ``audio`` (one whole transmission, starting at t = 0)."""
    decoder = DtmfDecoder(rate, cfg)
    decoder.feed(audio, 0.0)
    return decoder.finish()


def ani(sequences: list[DtmfSequence], cfg: DtmfConfig = DtmfConfig()) -> tuple[str, Position] | None:  # noqa: B008
    """The station's code among ``sequences``: ``(digits, position)`` or None.

    Only sequences at the start (``bot``) or the end (``eot``) of the transmission with
    ``cfg.min_digits``..``cfg.max_digits`` digits qualify; the first BOT one wins, else the
    last EOT one. Digits in the middle of a transmission are not a PTT-ID.
    """
    fits = [s for s in sequences if cfg.min_digits <= len(s.digits) <= cfg.max_digits]
    bot = [s for s in fits if s.position == "bot"]
    if bot:
        return bot[0].digits, "bot"
    eot = [s for s in fits if s.position == "eot"]
    return (eot[-1].digits, "eot") if eot else None
