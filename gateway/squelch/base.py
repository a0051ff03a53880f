"""The Squelch interface and the trivial squelches the tests and the stuck-channel cases use.

A squelch is asked once per 20 ms frame, on the pipeline thread, in audio order: ``update(frame, t)``
returns True while the channel is open. ``latency_s`` says how late an opening is reported (VOX needs
a few frames of signal), so the segmenter can date the onset back. Adding a CM108 GPIO or a hamlib
squelch is one class with these two members.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Squelch(Protocol):
    latency_s: float

    def update(self, frame: np.ndarray, t: float) -> bool:
        """Is the channel open for this frame (``t``: epoch seconds of the frame's first sample)?"""
        ...

    def close(self) -> None: ...


class ScriptedSquelch:
    """Open exactly inside the given (start, end) epoch intervals: a fake for tests and replays."""

    latency_s = 0.0

    def __init__(self, intervals: list[tuple[float, float]]) -> None:
        self.intervals = sorted(intervals)

    def update(self, frame: np.ndarray, t: float) -> bool:
        return any(a <= t < b for a, b in self.intervals)

    def close(self) -> None:
        pass
