"""An outage of the sound card mid-transmission ends the transmission where the audio broke off.

The 60-minute chaos soak (bench/README.md) found two calls stored as one: the card went away while a
transmission was in its hang time, and when audio returned the pipeline filled the gap with silence
but asked the squelch about each filled frame *now* — a COS line already raised by the next caller.
The truth here is the generator's: where its audio stops and starts again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import select

from gateway.audio.source import AudioBlock
from gateway.config import Config
from gateway.daemon import run_pipeline
from gateway.store.db import Database, default_url
from gateway.store.models import Transmission

RATE = 16000
T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC).timestamp()


class GappedSource:
    """A 1 kHz carrier, ``on_s`` seconds, then nothing for ``gap_s`` (the card away), then ``on_s``."""

    rate, name = RATE, "gapped"

    def __init__(self, on_s: float, gap_s: float) -> None:
        self.on_s, self.gap_s, self.start_time = on_s, gap_s, T0

    def blocks(self, stop: threading.Event) -> Iterator[AudioBlock]:
        n, step = round(self.on_s * RATE), RATE // 10
        t = np.arange(n) / RATE
        tone = (0.3 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
        for base in (0, n + round(self.gap_s * RATE)):
            for i in range(0, n, step):
                yield AudioBlock(tone[i:i + step], base + i)

    def close(self) -> None:
        pass


class CosUpNow:
    """A COS pin read at processing time; up, because the next caller keyed up as the card came back."""

    latency_s = 0.0

    def update(self, frame: np.ndarray, t: float) -> bool:
        return True

    def close(self) -> None:
        pass


def _rows(cfg: Config, tmp_path: Path, gap_s: float) -> list[Transmission]:
    db = Database(default_url(tmp_path))
    db.migrate()
    try:
        run_pipeline(cfg, tmp_path, GappedSource(3.0, gap_s), CosUpNow(), db)  # type: ignore[arg-type]
        with db.read() as s:
            return list(s.scalars(select(Transmission).order_by(Transmission.started_at)))
    finally:
        db.close()


def test_an_outage_ends_the_open_transmission_where_the_audio_broke_off(example_config: Config,
                                                                        tmp_path: Path) -> None:
    rows = _rows(example_config, tmp_path, gap_s=8.0)
    spans = [(round(r.started_at.timestamp() - T0, 1), round(r.ended_at.timestamp() - T0, 1), r.cut_short)
             for r in rows if r.ended_at is not None]
    # the generator's truth: audio 0-3 s, the card away 3-11 s, audio 11-14 s
    assert spans == [(0.0, 3.0, True), (11.0, 14.0, False)], spans


def test_a_short_gap_inside_a_call_does_not_split_it(example_config: Config, tmp_path: Path) -> None:
    rows = _rows(example_config, tmp_path, gap_s=0.2)  # a few lost blocks (an overrun), under hang_s
    assert [(round(r.started_at.timestamp() - T0, 1), round(r.ended_at.timestamp() - T0, 1))
            for r in rows if r.ended_at is not None] == [(0.0, 6.2)]
