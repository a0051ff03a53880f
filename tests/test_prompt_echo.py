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


# --- the prompt's report words written out ------------------------------------------------------

def test_the_report_phrases_are_the_prompts_in_its_order() -> None:
    from gateway.asr.whisper_engine import REPORT_PHRASES, REPORT_SENTENCES, build_prompt
    from gateway.lexicon.phonetic import normalise

    said = " ".join(normalise(w) for w in REPORT_SENTENCES.split())
    places = [said.find(p) for p in REPORT_PHRASES]
    assert -1 not in places and places == sorted(places)
    with_report, plain = build_prompt(NAMES), build_prompt(NAMES, report=False)
    assert with_report == plain + REPORT_SENTENCES and "Tarutung" in plain and "Banjir" not in plain


@pytest.mark.parametrize(("text", "listed"), [
    # the second held-out half's 304/03 and the tuning half's 101/01, as whisper-base wrote them
    ("Situasi aman kondusif. Banjir, pohon tumbang, rumah terendam.",
     ["situasi aman kondusif", "banjir", "pohon tumbang", "rumah terendam"]),
    ("Panggir di mesa pohon tumbang, rumah terendam, harga mahuang", ["pohon tumbang", "rumah terendam"]),
    ("banjir dan tanah longsor", ["banjir", "tanah longsor"]),  # a list, said or not: decoded again
    ("Banjir di desa Hutauruk, pohon tumbang di desa Lobu", []),  # words between: no list
    ("Situasi aman kondusif. Ganti.", []),  # one phrase is no list
    ("rumah terendam, banjir", []),  # not in the prompt's order
])
def test_report_words_listed_back_to_back(text: str, listed: list[str]) -> None:
    from gateway.asr.vocabulary import echoed_report
    from gateway.asr.whisper_engine import REPORT_PHRASES

    assert echoed_report(text, REPORT_PHRASES) == listed


class ScriptedReport(Scripted):
    """An engine whose prompt says a report's words: it writes them out unless asked ``plain``."""

    report_phrases = ("situasi aman kondusif", "banjir", "pohon tumbang", "rumah terendam")

    def __init__(self) -> None:
        super().__init__()
        self.plain: list[bool] = []

    def start(self, prompt_words: tuple[str, ...] = (), *, unfiltered: bool = False,
              plain: bool = False) -> Scripted:
        self.prompts.append(tuple(prompt_words))
        self.plain.append(plain)
        self._text = ("camat Pahae Julu melapor, kebakaran di desa Hutauruk" if plain
                      else "camat Pahae Julu melapor, situasi aman kondusif. Banjir, pohon tumbang.")
        return self


def test_a_report_echo_is_decoded_again_without_the_report_words_but_with_the_names() -> None:
    rec = ScriptedReport()
    first = rec.start(NAMES).finish()
    result, listen = retry_if_empty(rec, _speech(), first, NAMES)
    assert result.text == "camat Pahae Julu melapor, kebakaran di desa Hutauruk"
    assert result.extra["retried_without_report"] == ["situasi aman kondusif", "banjir", "pohon tumbang"]
    assert rec.plain == [False, True] and rec.prompts[-1] == NAMES and not listen


def test_an_engine_without_report_words_is_never_asked_plain() -> None:
    """Vosk and the fake have no prompt of report words: the same text is kept, no second decode."""
    rec = Scripted()
    said = Transcript("situasi aman kondusif. Banjir, pohon tumbang.", (Word("banjir", 0.0, 0.3, 0.9),))
    result, _ = retry_if_empty(rec, _speech(), said, ())
    assert result is said and rec.prompts == []
