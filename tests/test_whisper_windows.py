"""Whisper decoding windows while the call is live (gateway.asr.whisper_engine), model-free: a stub
recognizer records which audio (and prompt) it was given. The truth is the audio put in: where the
pauses are, and a marker value in each stretch that tells which stretch the stub received."""

from __future__ import annotations

import numpy as np
import pytest

from gateway.asr.base import Transcript, Word, transcribe_all
from gateway.asr.whisper_engine import RATE, WhisperStream, window_cut

rng = np.random.default_rng(5)


def speech(seconds: float, amp: float) -> np.ndarray:
    """Loud band-noise standing in for speech; ``amp`` marks which stretch it is."""
    return (rng.standard_normal(int(seconds * RATE)) * 0.05 + amp).astype(np.float32)


def pause(seconds: float) -> np.ndarray:
    return (rng.standard_normal(int(seconds * RATE)) * 0.0005).astype(np.float32)


WINDOW_S = 5.0


class Stub:
    """Transcribes a window as one word per stretch it holds, at the stretch's place."""

    def __init__(self, window_s: float = WINDOW_S) -> None:
        self.windows: list[int] = []
        self.prompts: list[str] = []
        self.window_s = window_s

    def start(self, prompt_words: tuple[str, ...] = (), *, unfiltered: bool = False) -> WhisperStream:
        return WhisperStream(self, "P.", unfiltered, self.window_s)  # type: ignore[arg-type]

    def transcribe(self, audio: np.ndarray, prompt: str, unfiltered: bool = False) -> Transcript:
        self.windows.append(len(audio))
        self.prompts.append(prompt)
        frames = audio[: len(audio) // 320 * 320].reshape(-1, 320).mean(axis=1)
        words: list[Word] = []
        for i, m in enumerate(np.round(frames, 2)):
            if m >= 0.1 and (not words or words[-1].word != f"w{m:.1f}"):
                words.append(Word(f"w{m:.1f}", i * 0.02, i * 0.02 + 0.02, 0.9))
        return Transcript(" ".join(w.word for w in words), tuple(words), {"no_speech_prob": 0.01})


def test_short_audio_is_not_cut() -> None:
    assert window_cut(np.concatenate([speech(2, 0.1), pause(0.5), speech(2, 0.2)]), WINDOW_S) is None


def test_cut_falls_in_the_first_pause_after_the_minimum() -> None:
    audio = np.concatenate([speech(3, 0.1), pause(0.5), speech(3, 0.2), pause(0.6), speech(2, 0.3)])
    cut = window_cut(audio, WINDOW_S) / RATE
    assert 6.5 < cut < 7.1  # inside the second pause (6.5-7.1 s): the first ends before 5 s
    assert window_cut(audio, 7.5) is None  # no pause after 7.5 s: wait


def test_speech_without_a_pause_is_never_cut() -> None:
    assert window_cut(np.concatenate([speech(2, 0.1), pause(0.5), speech(28, 0.2)]), WINDOW_S) is None


def test_window_s_zero_decodes_once_at_the_close() -> None:
    stub = Stub(window_s=0.0)
    audio = np.concatenate([speech(4, 0.1), pause(0.5), speech(4, 0.2), pause(0.5), speech(4, 0.3)])
    t = transcribe_all(stub, audio)  # type: ignore[arg-type]
    assert stub.windows == [len(audio)] and "windows" not in t.extra
    assert [w.word for w in t.words] == ["w0.1", "w0.2", "w0.3"]


def test_the_retry_without_filters_decodes_once() -> None:
    stub = Stub()
    audio = np.concatenate([speech(6, 0.1), pause(0.5), speech(4, 0.2)])
    stream = stub.start(unfiltered=True)
    for i in range(0, len(audio), 4000):
        stream.accept(audio[i:i + 4000])
    stream.finish()
    assert stub.windows == [len(audio)]


def test_a_long_call_is_decoded_in_windows_with_words_in_place() -> None:
    parts = [speech(4, 0.1), pause(0.5), speech(2, 0.2), pause(0.5), speech(4, 0.3), pause(0.5),
             speech(2, 0.4), pause(0.5), speech(1, 0.5)]
    starts = np.cumsum([0] + [len(p) for p in parts])[:-1] / RATE
    stub = Stub()
    stream = stub.start()
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
    # each window after the first is prompted with the text decoded before it
    assert stub.prompts[0] == "P."
    for k in range(1, len(stub.prompts)):
        said = " ".join(w.word for w in t.words if w.start < windows[k]["start"])
        assert stub.prompts[k] == "P. " + said


def test_an_empty_window_does_not_empty_the_call() -> None:
    class Deaf(Stub):
        def transcribe(self, audio: np.ndarray, prompt: str, unfiltered: bool = False) -> Transcript:
            t = super().transcribe(audio, prompt, unfiltered)
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


def test_window_s_comes_from_the_config_and_defaults_to_one_decode() -> None:
    from gateway.asr.whisper_engine import WhisperRecognizer
    from gateway.config import parse

    assert parse("", "c.toml").asr.whisper.window_s == 0.0
    cfg = parse("[asr.whisper]\nwindow_s = 6\n", "c.toml").asr.whisper
    rec = object.__new__(WhisperRecognizer)  # no model: only start() and transcribe() are used
    rec.cfg = cfg
    seen: list[int] = []
    rec.transcribe = lambda audio, prompt, unfiltered=False: (  # type: ignore[method-assign]
        seen.append(len(audio)) or Transcript("", (), {"no_speech_prob": None}))
    audio = np.concatenate([speech(6.5, 0.1), pause(0.5), speech(2, 0.2)])
    stream = rec.start(("Tarutung",))
    for i in range(0, len(audio), 4000):
        stream.accept(audio[i:i + 4000])
    assert len(seen) == 1 and 6.5 * RATE < seen[0] < 7.0 * RATE  # cut in the pause, while live
    stream.finish()
    assert sum(seen) == len(audio) and len(seen) == 2


def test_one_sampled_window_marks_the_call_sampled() -> None:
    class Sampling(Stub):
        def transcribe(self, audio: np.ndarray, prompt: str, unfiltered: bool = False) -> Transcript:
            t = super().transcribe(audio, prompt, unfiltered)
            return Transcript(t.text, t.words, {**t.extra, "sampled": len(self.windows) == 2})

    audio = np.concatenate([speech(5.5, 0.1), pause(0.5), speech(3, 0.2)])
    t = transcribe_all(Sampling(), audio)  # type: ignore[arg-type]
    assert len(t.extra["windows"]) == 2 and t.extra["sampled"] is True
    t = transcribe_all(Stub(), audio)  # type: ignore[arg-type]
    assert len(t.extra["windows"]) == 2 and t.extra["sampled"] is False
