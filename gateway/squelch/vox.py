"""Adaptive VOX on the radio's speaker audio, for HTs that have no squelch output.

Per 20 ms frame: the voice-band level (250–3400 Hz) is compared with a tracked noise floor. The
floor follows quiet frames down at once and creeps up slowly (``floor_rise_db_per_s``) while the
channel is closed, so it learns the room/hiss level without learning speech. The channel opens after
``attack_ms`` of frames above ``floor + open_db`` and closes on the first frame below
``floor + close_db`` (hysteresis); pauses inside a transmission are bridged by the segmenter's hang
time, not here. ``min_open_dbfs`` keeps a dead-silent input from opening on tiny noise.

Its state can never become NaN: samples are cleaned before they get here (``dsp.SampleGuard`` in
the pipeline's resampler), and should a non-finite value still reach it, the band-pass state is
reset and the level counts as silence, and the floor is only ever moved by finite amounts.
"""

from __future__ import annotations

import dataclasses
import logging
import math

import numpy as np

from gateway.audio.dsp import FLOOR_DBFS, dbfs
from gateway.audio.iir import butter_sos, sosfilt  # not scipy.signal (70 MiB to import)
from gateway.config import VoxConfig

log = logging.getLogger(__name__)


class VoxSquelch:
    def __init__(self, cfg: VoxConfig, rate: int, frame_s: float = 0.02) -> None:
        if not all(math.isfinite(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)):
            # config.py refuses these; a VoxConfig built in code falls back to the defaults
            log.warning("VOX settings with NaN/inf (%s): using the defaults", cfg)
            cfg = VoxConfig()
        self.cfg = cfg
        self.frame_s = frame_s
        self.attack_frames = max(1, round(cfg.attack_ms / 1000 / frame_s))
        self.latency_s = (self.attack_frames - 1) * frame_s
        self._sos = butter_sos(4, [250, min(3400, rate * 0.45)], "bandpass", rate)
        self._zi = np.zeros((self._sos.shape[0], 2))
        self.floor: float | None = None
        self.is_open = False
        self._above = 0
        self.level = -120.0

    @property
    def open_threshold(self) -> float:
        return max((self.floor or -120.0) + self.cfg.open_db, self.cfg.min_open_dbfs)

    @property
    def close_threshold(self) -> float:
        margin = self.cfg.open_db - self.cfg.close_db
        return max((self.floor or -120.0) + self.cfg.close_db, self.cfg.min_open_dbfs - margin)

    def update(self, frame: np.ndarray, t: float) -> bool:
        if self._zi.any() or frame.any():
            y, self._zi = sosfilt(self._sos, frame, self._zi)
            level = dbfs(y)
        else:  # digital silence into a filter at rest: the output is zeros (and cheap)
            level = FLOOR_DBFS
        if not (math.isfinite(level) and np.isfinite(self._zi).all()):
            self._zi = np.zeros_like(self._zi)  # NaN in the filter state would stay there forever
            level = FLOOR_DBFS
        self.level = level
        if self.floor is None:
            self.floor = level
        if self.is_open:
            if level < self.close_threshold:
                self.is_open = False
                self._above = 0
        else:
            self._above = self._above + 1 if level >= self.open_threshold else 0
            if self._above >= self.attack_frames:
                self.is_open = True
            else:
                self._track_floor(level)
        return self.is_open

    def _track_floor(self, level: float) -> None:
        assert self.floor is not None
        if level < self.floor:
            floor = self.floor + 0.5 * (level - self.floor)
        else:
            floor = self.floor + min(level - self.floor, self.cfg.floor_rise_db_per_s * self.frame_s)
        if math.isfinite(floor):  # a NaN/inf setting (refused by config validation) cannot stick
            self.floor = max(floor, self.cfg.floor_min_dbfs)

    def close(self) -> None:
        pass
