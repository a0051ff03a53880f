"""``ht-gateway calibrate``: a live view of the radio input for setting levels, VOX and PTT.

Several times a second the terminal shows the input level (RMS and peak, dBFS) with a bar, how many
samples clipped, the noise floor the VOX tracks and a suggested ``squelch.vox.open_db``, whether VOX
(and a COS line, with ``squelch.type = "serial"``) is open, the PTT state, and the DTMF digits
decoded since the squelch last opened. Ctrl-C stops it. ``--ptt-test SECONDS`` keys the PTT
(``[ptt]`` backend) for that long at the start, and always releases it.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from typing import TextIO

import numpy as np

from gateway.audio.dsp import Framer, Resampler
from gateway.config import Config
from gateway.identification.dtmf import DtmfDecoder

RATE = 16000
FRAME = 320
CLIP = 0.999
REFRESH_S = 0.2


@dataclass
class Meter:
    """Levels over the last refresh period, and what the VOX and DTMF decoder made of them."""

    cfg: Config
    rms_dbfs: float = -120.0
    peak_dbfs: float = -120.0
    clipped: int = 0
    vox_open: bool = False
    floor_dbfs: float = -120.0
    digits: str = ""
    _peak: float = 0.0
    _sq: float = 0.0
    _n: int = 0
    _dtmf: DtmfDecoder | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        from gateway.squelch.vox import VoxSquelch

        self._vox = VoxSquelch(self.cfg.squelch.vox, RATE)
        self._t = 0.0

    def frame(self, x: np.ndarray) -> None:
        self._peak = max(self._peak, float(np.max(np.abs(x))) if len(x) else 0.0)
        self._sq += float(np.sum(x.astype(np.float64) ** 2))
        self._n += len(x)
        self.clipped += int(np.count_nonzero(np.abs(x) >= CLIP))
        was = self.vox_open
        self.vox_open = self._vox.update(x, self._t)
        self.floor_dbfs = float(getattr(self._vox, "floor", -120.0))
        if self.vox_open and not was:
            self._dtmf, self.digits = DtmfDecoder(RATE, self.cfg.dtmf), ""
        if self._dtmf is not None:
            self._dtmf.feed(x, self._t)
            seen = [d for d, _, _ in self._dtmf._runs] + ["".join(d for d, _, _ in self._dtmf._digits)]
            self.digits = " ".join(s for s in seen if s)
        self._t += len(x) / RATE

    def period(self) -> None:
        """Close the refresh period: RMS and peak over it."""
        self.rms_dbfs = 10 * np.log10(self._sq / self._n + 1e-12) if self._n else -120.0
        self.peak_dbfs = 20 * np.log10(self._peak + 1e-12) if self._n else -120.0
        self._peak = self._sq = 0.0
        self._n = 0

    @property
    def suggested_open_db(self) -> float:
        """Open the VOX 8 dB over the floor, but never below -66 dBFS nor above -20 dBFS."""
        return round(min(max(self.floor_dbfs + 8.0, -66.0), -20.0) - self.floor_dbfs, 1)


def bar(level_dbfs: float, width: int = 40) -> str:
    n = int(round(max(0.0, min(1.0, (level_dbfs + 80) / 80)) * width))
    return "[" + "#" * n + "." * (width - n) + "]"


def screen(m: Meter, source: str, cos: str, ptt: str, elapsed: float) -> str:
    return "\n".join([
        f"ht-gateway calibrate — {source} — {elapsed:6.1f} s (Ctrl-C to stop)",
        f"level    {m.rms_dbfs:7.1f} dBFS  {bar(m.rms_dbfs)}",
        f"peak     {m.peak_dbfs:7.1f} dBFS  clipped samples: {m.clipped}",
        f"floor    {m.floor_dbfs:7.1f} dBFS  suggested squelch.vox.open_db = {m.suggested_open_db}",
        f"vox      {'OPEN' if m.vox_open else 'closed'}",
        f"cos      {cos}",
        f"ptt      {ptt}",
        f"dtmf     {m.digits or '-'}",
    ]) + "\n"


def run(cfg: Config, device: str, seconds: float = 0.0, ptt_test: float = 0.0,
        out: TextIO = sys.stdout, stop: threading.Event | None = None) -> int:
    from gateway.audio.pyaudio_source import PyAudioSource

    stop = stop or threading.Event()
    source = PyAudioSource(device, cfg.audio.rate, cfg.audio.channel, cfg.audio.block_ms, cfg.audio.buffer_s)
    cos_sq = None
    if cfg.squelch.type == "serial":
        from gateway.squelch.factory import build_squelch

        cos_sq = build_squelch(cfg)
    ptt = None
    if ptt_test > 0:
        from gateway.transmit.setup import build_ptt

        ptt = build_ptt(cfg)
    meter = Meter(cfg)
    resampler, framer = Resampler(source.rate, RATE), Framer(FRAME)
    start = last = time.monotonic()
    tty = out.isatty()
    try:
        if ptt is not None:
            ptt.key()
        for block in source.blocks(stop):
            for f in framer.push(resampler.process(block.samples)):
                meter.frame(f)
                cos = "-" if cos_sq is None else ("OPEN" if cos_sq.update(f, 0.0) else "closed")
            now = time.monotonic()
            if ptt is not None and ptt.keyed and now - start >= ptt_test:
                ptt.unkey()
            if now - last >= REFRESH_S:
                last = now
                meter.period()
                state = "-" if ptt is None else f"{'KEYED' if ptt.keyed else 'released'} ({ptt.name})"
                out.write(("\x1b[H\x1b[2J" if tty else "") + screen(meter, source.name, cos if cos_sq
                                                                     else "-", state, now - start))
                out.flush()
            if seconds and now - start >= seconds:
                break
    except KeyboardInterrupt:
        pass
    finally:
        if ptt is not None:
            ptt.close()
        source.close()
        if cos_sq is not None:
            cos_sq.close()
    return 0
