"""Sample-count time is dated by when the card handed the samples over, not by when the pipeline
read them: a pipeline working through a backlog is late, not off the wall clock."""

from __future__ import annotations

import pytest

from gateway.audio.clock import SampleClock

RATE = 16000


class Clocks:
    def __init__(self) -> None:
        self.t = 1000.0

    def mono(self) -> float:
        return self.t

    def wall(self) -> float:
        return 1_800_000_000.0 + self.t


def _run(clocks: Clocks, clock: SampleClock, backlog_s: float, use_arrival: bool) -> list[float]:
    """60 s of audio arriving in 0.1 s callbacks; the pipeline reads each block ``backlog_s`` late.
    Returns, per block, the error of its dated start against when it really was heard."""
    errors = []
    block = RATE // 10
    for n in range(600):
        heard_at = 1000.0 + n * 0.1  # the first sample of block n reached the card then (mono)
        arrived = heard_at + 0.1     # the callback handing it over fires when the block is full
        clocks.t = arrived + backlog_s
        end = (n + 1) * block
        start = clock.observe(end, arrived if use_arrival else None)
        errors.append(start + n * block / RATE - (1_800_000_000.0 + heard_at))
    return errors


@pytest.mark.parametrize("backlog_s", [0.0, 5.0, 17.0])
def test_a_late_pipeline_keeps_the_time_the_audio_was_heard(backlog_s: float) -> None:
    clocks = Clocks()
    clock = SampleClock(RATE, wall=clocks.wall, mono=clocks.mono)
    errors = _run(clocks, clock, backlog_s, use_arrival=True)
    assert clock.jumps == 0
    assert max(abs(e) for e in errors) < 0.01


def test_without_the_arrival_time_a_backlog_is_misread_as_an_overrun() -> None:
    """The contrast (why the capture callback records its time): dated by the reading time, a
    17 s backlog moves every timestamp 17 s late."""
    clocks = Clocks()
    clock = SampleClock(RATE, wall=clocks.wall, mono=clocks.mono)
    errors = _run(clocks, clock, 17.0, use_arrival=False)
    assert max(abs(e) for e in errors) > 16.0
