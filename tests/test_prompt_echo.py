"""Whisper writing out its prompt: a transcript that lists the prompt's station names back to back
("kecamatan Tarutung, Siatas Barita, Muara") instead of the name it did not catch is decoded again
without the names in the prompt, and the new words are kept.

Truth: the names as configured and the words the scripted recogniser returns for each prompt."""

from __future__ import annotations

import numpy as np
import pytest

from gateway.asr.base import Transcript, Word
from gateway.asr.vocabulary import echoed_names
from gateway.transcripts import retry_if_empty

NAMES = ("Tarutung", "Siatas Barita", "Adian Koting", "Sipoholon", "Pahae Julu", "Muara")


@pytest.mark.parametrize(("text", "listed"), [
    ("Inin bupati, kecamatan Tarutung, Siatas Barita, Muara kami siaga.",
     ["Tarutung", "Siatas Barita", "Muara"]),
    ("camat Pahae Julu, Siatas Barita, kami dalam keadaan aman", ["Pahae Julu", "Siatas Barita"]),
    ("Tarutung dan Sipoholon, ganti", ["Tarutung", "Sipoholon"]),
    ("Siatasbarita, Adian-Koting", ["Siatas Barita", "Adian Koting"]),  # glued or hyphenated
    ("di sini camat Tarutung, jalan ke Sipoholon putus, ganti", []),  # names apart: no list
    ("Bupati, di sini camat Tarutung, situasi aman", []),
    ("Tarutung, Tarutung, ganti", []),  # one name said twice is no list
])
def test_names_listed_back_to_back(text: str, listed: list[str]) -> None:
    assert echoed_names(text, NAMES) == listed


class Scripted:
    """Says the prompt back when it has names; hears the call when it has none."""

    engine, model_id, rate = "scripted", "scripted@1", 16000

    def __init__(self) -> None:
        self.prompts: list[tuple[str, ...]] = []

    def start(self, prompt_words: tuple[str, ...] = (), *, unfiltered: bool = False) -> Scripted:
        self.prompts.append(tuple(prompt_words))
        self._text = ("kecamatan Tarutung, Siatas Barita, Muara, situasi aman" if prompt_words
                      else "camat Pahae Julu melapor, situasi aman")
        return self

    def accept(self, samples: np.ndarray) -> None:
        pass

    def finish(self) -> Transcript:
        words = tuple(Word(w, i * 0.4, i * 0.4 + 0.3, 0.8) for i, w in enumerate(self._text.split()))
        return Transcript(self._text, words)

    def ready(self) -> None:
        pass


def _speech() -> np.ndarray:
    t = np.arange(16000 * 2) / 16000
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def test_a_prompt_echo_is_decoded_again_without_the_names() -> None:
    rec = Scripted()
    audio = _speech()
    first = rec.start(NAMES).finish()
    result, listen = retry_if_empty(rec, audio, first, NAMES)
    assert result.text == "camat Pahae Julu melapor, situasi aman"
    assert result.extra["retried_without_names"] == ["Tarutung", "Siatas Barita", "Muara"]
    assert rec.prompts[-1] == () and not listen


def test_no_echo_no_second_decode() -> None:
    rec = Scripted()
    said = Transcript("camat Pahae Julu melapor", (Word("camat", 0.0, 0.3, 0.9),))
    result, _ = retry_if_empty(rec, _speech(), said, NAMES)
    assert result is said and rec.prompts == []


def test_the_listening_flag_is_of_the_words_kept() -> None:
    """The echo came back unsure (it would need listening); the retry's words are sure: the stored
    transcript is the retry's, so it is not flagged."""
    rec = Scripted()
    echo = Transcript("kecamatan Tarutung, Siatas Barita", (Word("Tarutung", 0.0, 0.3, 0.1),))
    result, listen = retry_if_empty(rec, _speech(), echo, NAMES)
    assert result.text.startswith("camat Pahae Julu") and not listen
