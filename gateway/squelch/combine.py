"""Several squelch inputs combined: ``squelch.type = "any"`` (open while any input is open, e.g. a
COS line or VOX as a fallback) or ``"all"`` (open only while every input is, e.g. COS *and* VOX to
ignore a carrier with no speech). Every input is asked on every frame (VOX must see all audio to
track its noise floor). The onset is dated back by the largest latency among the inputs."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import numpy as np

from gateway.squelch.base import Squelch


class CombinedSquelch:
    def __init__(self, mode: str, inputs: Sequence[Squelch]) -> None:
        if mode not in ("any", "all") or len(inputs) < 2:
            raise ValueError(f"combined squelch: mode {mode!r} with {len(inputs)} input(s)")
        self.mode, self.inputs = mode, list(inputs)
        self.latency_s = max(s.latency_s for s in self.inputs)
        self.states: list[bool] = [False] * len(self.inputs)

    def update(self, frame: np.ndarray, t: float) -> bool:
        self.states = [bool(s.update(frame, t)) for s in self.inputs]
        return any(self.states) if self.mode == "any" else all(self.states)

    def close(self) -> None:
        for s in self.inputs:
            with contextlib.suppress(Exception):
                s.close()
