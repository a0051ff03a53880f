"""Sample-count time, re-anchored to the wall clock.

Within a block, time is the sample count: ``start_time + index / rate``. A sound card's crystal is
not the wall clock, though (0.1-0.5 % off is common), and an overrun below PortAudio loses samples
without telling anyone; left alone both accumulate for weeks. :class:`SampleClock` therefore
compares the sample time with a monotonic-clock-based wall time every ``check_s`` seconds and moves
``start_time``: a small error is *slewed* (corrected by at most ``max_slew`` of the interval, so
timestamps stay monotonic and smooth), a large one (an overrun, a reopened device) is *jumped*.
Drift and jumps are logged, rate-limited. A step of the system clock itself (NTP setting the time
after boot) is followed: the monotonic reference is re-based on the new wall time.

The pipeline reads ``source.start_time`` for every frame, so the source only has to copy
:attr:`SampleClock.start_time` into its own attribute after each :meth:`observe`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from gateway.logutil import RateLimitedLog

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class SampleClock:
    def __init__(self, rate: int, wall: Clock = time.time, mono: Clock = time.monotonic,
                 check_s: float = 5.0, max_slew: float = 0.01, jump_s: float = 1.0,
                 step_s: float = 1.0) -> None:
        self.rate, self.wall, self.mono = rate, wall, mono
        self.check_s, self.max_slew, self.jump_s, self.step_s = check_s, max_slew, jump_s, step_s
        self.start_time: float | None = None
        self.jumps = 0
        self.corrected_s = 0.0  # total slew applied (sample time minus wall time, summed)
        self._offset = 0.0  # wall - mono at the last anchor
        self._next = 0.0
        self._since = 0.0  # mono time of the first anchor (for the drift figure)
        self._jump_log = RateLimitedLog(log, 60.0, mono)
        self._drift_log = RateLimitedLog(log, 600.0, mono)

    def now(self) -> float:
        """The reference: wall time that advances with the monotonic clock."""
        return self._offset + self.mono()

    def anchor(self, end_index: int, arrived: float | None = None) -> float:
        """Samples up to ``end_index`` (exclusive) arrived at monotonic time ``arrived`` (default:
        now): date them by the wall clock."""
        mono = self.mono()
        self._offset = self.wall() - mono
        at = mono if arrived is None else arrived
        self.start_time = self._offset + at - end_index / self.rate
        self._next = mono + self.check_s
        if not self._since:
            self._since = mono
        return self.start_time

    def observe(self, end_index: int, arrived: float | None = None) -> float:
        """Samples up to ``end_index`` arrived at monotonic time ``arrived`` (default: now); returns
        the (possibly corrected) start time.

        ``arrived`` is when the sound card handed them over (the capture callback's time), not when
        the pipeline got round to them: a pipeline working through a backlog (a busy machine, the
        seconds after a start) is late, not off the wall clock, and must not be "corrected"."""
        if self.start_time is None:
            return self.anchor(end_index, arrived)
        mono = self.mono()
        if mono < self._next:
            return self.start_time
        interval = self.check_s + (mono - self._next)
        self._next = mono + self.check_s
        step = self.wall() - mono - self._offset
        if abs(step) > self.step_s:  # the system clock was set (NTP after boot, an operator)
            log.warning("system clock stepped by %+.3f s: audio timestamps follow it", step)
            self._offset += step
        elif step:
            self._offset += step  # NTP's own slewing is followed as it happens
        at = mono if arrived is None else arrived
        error = self.start_time + end_index / self.rate - (self._offset + at)  # >0: audio ahead
        if abs(error) > self.jump_s:
            self.jumps += 1
            self._jump_log.warning("audio clock off the wall clock by %+.3f s (an overrun or a "
                                   "stalled card): re-anchored", error)
            self.start_time -= error
            return self.start_time
        limit = self.max_slew * interval
        correction = max(-limit, min(limit, error))
        self.start_time -= correction
        self.corrected_s += correction
        elapsed = mono - self._since
        if elapsed > 0 and abs(self.corrected_s) > 0.05:
            self._drift_log.warning("sound card clock drift %+.0f ppm against the wall clock "
                                    "(%+.3f s corrected so far)", self.corrected_s / elapsed * 1e6,
                                    self.corrected_s)
        return self.start_time
