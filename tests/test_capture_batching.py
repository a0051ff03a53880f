"""PyAudioSource's consumer side without a sound card: callback blocks batched per wake-up.

What goes in is known (numbered int16 samples, indices as the callback counts them); what comes out
must be the same samples, in order, split exactly where samples were dropped, with the drop counted.
"""

from __future__ import annotations

import threading
from collections import deque

import numpy as np

from gateway.audio.pyaudio_source import PyAudioSource, _contiguous


def _blocks(n: int, size: int, start: int = 0) -> list[tuple[bytes, int]]:
    return [(np.arange(start + k * size, start + (k + 1) * size, dtype=np.int16).tobytes(), start + k * size)
            for k in range(n)]


def test_contiguous_blocks_are_joined_and_a_gap_splits_them() -> None:
    got = _blocks(3, 4) + _blocks(2, 4, start=20)  # samples 12..19 never arrived
    runs = list(_contiguous(got, frame_bytes=2))
    assert [i for _, i in runs] == [0, 20]
    assert np.array_equal(np.frombuffer(runs[0][0], np.int16), np.arange(0, 12))
    assert np.array_equal(np.frombuffer(runs[1][0], np.int16), np.arange(20, 28))


def test_blocks_of_unequal_size_are_joined_by_their_own_length() -> None:
    got = [(np.arange(0, 3, dtype=np.int16).tobytes(), 0), (np.arange(3, 10, dtype=np.int16).tobytes(), 3)]
    runs = list(_contiguous(got, frame_bytes=2))
    assert len(runs) == 1 and np.array_equal(np.frombuffer(runs[0][0], np.int16), np.arange(10))


def _bare_source(batch: int, max_blocks: int) -> PyAudioSource:
    src = PyAudioSource.__new__(PyAudioSource)  # no PortAudio: only the callback's state
    src._captured, src.overruns, src.dropped = 0, 0, 0
    src._batch, src._max_blocks = batch, max_blocks
    src._pending = deque()
    src._ready = threading.Event()
    return src


def test_callback_wakes_the_consumer_once_a_batch_is_waiting_and_drops_beyond_the_buffer() -> None:
    src = _bare_source(batch=5, max_blocks=8)
    block = np.zeros(960, np.int16).tobytes()
    for k in range(4):
        src._callback(block, 960, None, 0)
        assert not src._ready.is_set(), f"woken after {k + 1} blocks"
    src._callback(block, 960, None, 0)
    assert src._ready.is_set()
    for _ in range(5):  # 10 blocks in all; the buffer holds 8
        src._callback(block, 960, None, 0)
    assert len(src._pending) == 8 and src.dropped == 2 * 960
    assert [i for _, i in src._pending] == [k * 960 for k in range(8)]  # the newest were dropped
