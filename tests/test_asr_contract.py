"""One contract for every Recognizer: the shipped fake and the real Vosk engine (Korean model)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from gateway.asr.base import Recognizer, Transcript, transcribe_all
from gateway.asr.fake import FakeRecognizer
from gateway.audio.dsp import Resampler


@pytest.fixture(params=["fake", "vosk"])
def recognizer(request) -> Recognizer:
    if request.param == "fake":
        return FakeRecognizer()
    return request.getfixturevalue("vosk_ko")


@pytest.fixture(scope="module")
def speech(korean_channel) -> np.ndarray:
    path, truth = korean_channel
    x, rate = sf.read(path, dtype="float32")
    tx = truth["transmissions"][0]
    seg = x[int((tx["start_s"] - 0.3) * rate):int(tx["end_s"] * rate)]
    return Resampler(rate, 16000).process(seg, last=True)


def test_identity(recognizer: Recognizer) -> None:
    assert recognizer.engine and recognizer.model_id and recognizer.rate in (8000, 16000)


def test_ready_returns_once_the_model_is_loaded(recognizer: Recognizer) -> None:
    recognizer.ready()
    recognizer.ready()  # and again, at once
    assert recognizer.start().finish().text == ""


def test_empty_stream_gives_empty_transcript(recognizer: Recognizer) -> None:
    t = recognizer.start().finish()
    assert t.text == "" and t.words == () and t.confidence is None


def test_words_are_ordered_inside_the_audio_with_confidences(recognizer: Recognizer, speech) -> None:
    t = transcribe_all(recognizer, speech)
    assert t.words, "speech gives words"
    dur = len(speech) / recognizer.rate
    starts = [w.start for w in t.words]
    assert starts == sorted(starts)
    for w in t.words:
        assert 0.0 <= w.start <= w.end <= dur + 0.05 and 0.0 <= w.conf <= 1.0 and w.word
    assert t.text.split() == [w.word for w in t.words]


def same(a: Transcript, b: Transcript) -> None:
    """Same words; times and confidences close. Within one process Vosk's word boundaries and
    confidences (lattice posteriors) drift by a few hundredths from run to run on a lookahead graph,
    whose composition is built lazily and cached inside the model. Exact equality holds between
    fresh processes fed the same sequence: tests/test_vosk_pipeline.py checks that."""
    assert a.text == b.text
    assert [w.word for w in a.words] == [w.word for w in b.words]
    assert [w.start for w in a.words] == pytest.approx([w.start for w in b.words], abs=0.06)
    assert [w.end for w in a.words] == pytest.approx([w.end for w in b.words], abs=0.06)
    assert [w.conf for w in a.words] == pytest.approx([w.conf for w in b.words], abs=0.25)


def test_same_audio_same_transcript_whatever_the_block_sizes(recognizer: Recognizer, speech) -> None:
    same(transcribe_all(recognizer, speech, chunk=320), transcribe_all(recognizer, speech, chunk=7777))


def test_streams_are_independent(recognizer: Recognizer, speech) -> None:
    alone = transcribe_all(recognizer, speech)
    s1, s2 = recognizer.start(), recognizer.start()
    noise = (np.random.default_rng(0).standard_normal(len(speech)) * 0.01).astype(np.float32)
    for i in range(0, len(speech), 4000):
        s1.accept(speech[i:i + 4000])
        s2.accept(noise[i:i + 4000])
    same(s1.finish(), alone)
