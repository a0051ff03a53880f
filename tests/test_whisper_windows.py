"""Whisper decoding windows while the call is live (gateway.asr.whisper_engine), model-free: a stub
recognizer records which audio it was given. The truth is the audio put in: where the pauses are,
and a marker value in each stretch that tells which stretch the stub received."""

from __future__ import annotations

import numpy as np
import pytest

from gateway.asr.base import Transcript, Word, transcribe_all
from gateway.asr.whisper_engine import RATE, WINDOW_MAX_S, WhisperStream, window_cut

rng = np.random.default_rng(5)


def speech(seconds: float, amp: float) -> np.ndarray:
    """Loud band-noise standing in for speech; ``amp`` marks which stretch it is."""
    return (rng.standard_normal(int(seconds * RATE)) * 0.05 + amp).astype(np.float32)


def pause(seconds: float) -> np.ndarray:
    return (rng.standard_normal(int(seconds * RATE)) * 0.0005).astype(np.float32)


class Stub:
    """Transcribes a window as one word per stretch it holds, at the stretch's place."""

    def __init__(self) -> None:
        self.windows: list[int] = []

    def start(self, prompt_words: tuple[str, ...] = ()) -> WhisperStream:
        return WhisperStream(self, "")  # type: ignore[arg-type]

    def transcribe(self, audio: np.ndarray, prompt: str) -> Transcript:
        self.windows.append(len(audio))
        frames = audio[: len(audio) // 320 * 320].reshape(-1, 320).mean(axis=1)
        words: list[Word] = []
        for i, m in enumerate(np.round(frames, 2)):
            if m >= 0.1 and (not words or words[-1].word != f"w{m:.1f}"):
                words.append(Word(f"w{m:.1f}", i * 0.02, i * 0.02 + 0.02, 0.9))
        return Transcript(" ".join(w.word for w in words), tuple(words), {"no_speech_prob": 0.01})


def test_short_audio_is_not_cut() -> None:
    assert window_cut(np.concatenate([speech(2, 0.1), pause(0.5), speech(2, 0.2)])) is None


def test_cut_falls_in_the_first_pause_after_the_minimum() -> None:
    audio = np.concatenate([speech(3, 0.1), pause(0.5), speech(3, 0.2), pause(0.6), speech(2, 0.3)])
    cut = window_cut(audio) / RATE
    assert 6.5 < cut < 7.1  # inside the second pause (6.5-7.1 s): the first ends before 5 s


def test_no_pause_forces_a_cut_only_at_the_maximum() -> None:
    assert window_cut(speech(7.5, 0.1)) is None
    cut = window_cut(speech(WINDOW_MAX_S + 0.5, 0.1))
    assert cut is not None and (WINDOW_MAX_S + 0.5 - 3.0) * RATE <= cut <= (WINDOW_MAX_S + 0.5) * RATE


def test_a_long_call_is_decoded_in_windows_with_words_in_place() -> None:
    parts = [speech(4, 0.1), pause(0.5), speech(2, 0.2), pause(0.5), speech(4, 0.3), pause(0.5),
             speech(2, 0.4), pause(0.5), speech(1, 0.5)]
    starts = np.cumsum([0] + [len(p) for p in parts])[:-1] / RATE
    stub = Stub()
    stream = WhisperStream(stub, "")  # type: ignore[arg-type]
    audio = np.concatenate(parts)
    for i in range(0, len(audio), 4000):
        stream.accept(audio[i:i + 4000])
    live = len(stub.windows)
    assert live >= 1, "decoded while the call was live"
    t = stream.finish()
    assert len(stub.windows) == live + 1 and sum(stub.windows) == len(audio)
    assert [w.word for w in t.words] == ["w0.1", "w0.2", "w0.3", "w0.4", "w0.5"]
    for w, want in zip(t.words, starts[::2], strict=True):  # each word where its stretch began
        assert w.start == pytest.approx(want, abs=0.03)
    windows = t.extra["windows"]
    assert len(windows) == live + 1 and windows[0]["start"] == 0.0
    assert windows[-1]["end"] == pytest.approx(len(audio) / RATE, abs=0.001)


def test_an_empty_window_does_not_empty_the_call() -> None:
    class Deaf(Stub):
        def transcribe(self, audio: np.ndarray, prompt: str) -> Transcript:
            t = super().transcribe(audio, prompt)
            if len(self.windows) == 1:  # the first window comes back empty
                return Transcript("", (), {"no_speech_prob": 0.9})
            return t

    stub = Deaf()
    audio = np.concatenate([speech(5.5, 0.1), pause(0.5), speech(3, 0.2)])
    t = transcribe_all(stub, audio)  # type: ignore[arg-type]
    assert [w.word for w in t.words] == ["w0.2"]
    assert [w["words"] for w in t.extra["windows"]] == [0, 1]
    assert t.extra["no_speech_prob"] == 0.9


def test_short_call_is_one_window_as_before() -> None:
    stub = Stub()
    audio = np.concatenate([speech(2, 0.1), pause(0.5), speech(1, 0.2)])
    t = transcribe_all(stub, audio)  # type: ignore[arg-type]
    assert stub.windows == [len(audio)] and [w.word for w in t.words] == ["w0.1", "w0.2"]
