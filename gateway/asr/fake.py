"""A recogniser with no model, shipped for tests and dry runs; honours the same contract as Vosk.

It "hears" one word per stretch of sound (20 ms frames above ``threshold_dbfs``, gaps under 0.3 s
joined) and names it ``kata1``, ``kata2``… with the stretch's times, so transcripts are
deterministic functions of the audio. ``seconds_per_second`` makes it slow on purpose (a recogniser
slower than real time) and ``fail_when`` makes it raise, to exercise the queueing and fault paths.
``drop_filtered`` stands for a voice-activity filter that drops everything: ``"filtered"`` empties
every stream not started ``unfiltered``, ``"always"`` empties every stream (speech the model cannot
hear at all).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from gateway.asr.base import RecognizerError, Transcript, Word
from gateway.audio.dsp import dbfs


class FakeStream:
    def __init__(self, owner: FakeRecognizer, unfiltered: bool = False) -> None:
        self.owner = owner
        self.unfiltered = unfiltered
        self._chunks: list[np.ndarray] = []

    def accept(self, samples: np.ndarray) -> None:
        self._chunks.append(np.asarray(samples, np.float32))
        if self.owner.seconds_per_second:
            time.sleep(len(samples) / self.owner.rate * self.owner.seconds_per_second)

    def finish(self) -> Transcript:
        audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.float32)
        if self.owner.fail_when and self.owner.fail_when(audio):
            raise RecognizerError("fake recogniser asked to fail on this audio")
        self.owner.runs.append("unfiltered" if self.unfiltered else "filtered")
        drop = self.owner.drop_filtered
        if drop == "always" or (drop == "filtered" and not self.unfiltered):
            return Transcript("", (), {"dropped_segments": 1})
        n = self.owner.rate // 50
        loud = [dbfs(audio[i:i + n]) >= self.owner.threshold_dbfs for i in range(0, len(audio) - n + 1, n)]
        spans: list[list[float]] = []
        for i, on in enumerate(loud):
            if not on:
                continue
            t = i * 0.02
            if spans and t - spans[-1][1] < 0.3:
                spans[-1][1] = t + 0.02
            else:
                spans.append([t, t + 0.02])
        words = tuple(Word(f"kata{k + 1}", round(a, 3), round(b, 3), 1.0)
                      for k, (a, b) in enumerate(spans) if b - a >= 0.1)
        return Transcript(" ".join(w.word for w in words), words)


class FakeRecognizer:
    engine = "fake"

    def __init__(self, rate: int = 16000, threshold_dbfs: float = -35.0, seconds_per_second: float = 0.0,
                 fail_when: Callable[[np.ndarray], bool] | None = None, drop_filtered: str = "never") -> None:
        self.rate = rate
        self.model_id = f"fake@{threshold_dbfs:g}"
        self.threshold_dbfs = threshold_dbfs
        self.seconds_per_second = seconds_per_second
        self.fail_when = fail_when
        self.drop_filtered = drop_filtered  # never | filtered | always (see the module docstring)
        self.runs: list[str] = []  # "filtered" / "unfiltered", one per finished stream

    def start(self, prompt_words: tuple[str, ...] = (), *, unfiltered: bool = False) -> FakeStream:
        return FakeStream(self, unfiltered)

    def ready(self) -> None:
        """Nothing to load."""
