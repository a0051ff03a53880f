"""Hear the caller's name again: which configured station's name does the audio support best?

Whisper writes a name it does not know as words it does: "camat perharajar" for "camat Pahae
Jae", "camat kepada garan" for "camat Pagaran". Spelling and sound keys cannot get back from
there (:mod:`gateway.identification.spoken_id` stays below its threshold, rightly). The recogniser
can: asked how well a *given* text fits the audio (``Recognizer.rescore``, a teacher-forced
log-probability; faster-whisper only), it tells "camat Pahae Jae, selamat pagi" from "camat
Parmonangan, selamat pagi" on the sounds themselves.

:func:`check_name` runs in the transcription stage, where the call's audio is at hand, and only
when the words hold a self-introduction (:func:`~gateway.identification.self_id.self_introduction`)
whose name the matcher could not resolve, and only one by title ("camat …", "di sini …", "lapor …
dari …"; not "kecamatan …", which names where a patrol is as often as who calls). It puts each
station's name (and each alias spelt differently) in place of the heard name words — one, two or
three of them, since a name may be heard as several words ("kepada garan") — keeps the same
words after them, and has the recogniser score every such text against the same audio. The
station whose best text scores :data:`MARGIN` nats (natural-log units) above every other
station's is what the audio supports; otherwise none.

It runs after the transcript is stored (so the transcript's latency does not wait for it: a check
costs about 12 s of CPU with whisper-base on 2 cores), only while the station is not known from
an operator, an ANI or a spoken name (gateway/transcripts.py ``check_stored``). The result
(:class:`NameCheck`) is stored with the transcript (``transcripts.name_check``) as
evidence next to the words heard, which are never rewritten. Identification takes its station
with a confidence under ``report.review_below`` (``identify.NAME_CHECK_CONFIDENCE``), so an
operator is asked to confirm it ("stasiun kurang yakin" in the review queue).
``identity.name_check`` turns it on; it is off by default: on the held-out mornings it named two
callers wrong and none right (bench/README.md, "Run of 2026-12-03").
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from gateway.asr.base import Transcript
from gateway.config import Config, Station

log = logging.getLogger(__name__)

#: The best station's text must score this many nats above every other station's. Tuned on the
#: tuning mornings only (bench/README.md, "Run of 2026-12-03"): over 26 checks of their
#: transcripts, right names led by 5.3-14.8 nats, the one wrong leader by 4.6 (whisper writing a
#: prompt name over "Pangaribuan"); in the product on that half, 3 right and 0 wrong. The held-out
#: mornings gave 2 wrong and 0 right at this margin, hence ``identity.name_check`` off by default.
MARGIN = 5.0
#: How many heard words the name may replace.
MAX_NAME_WORDS = 3
#: Words kept after the replaced ones (the same in every text, so the scores compare).
AFTER_WORDS = 6


class Rescorer(Protocol):
    """What an engine offers to be asked (gateway/asr/whisper_engine.py): a score per text."""

    def rescore(self, audio: np.ndarray, prompt_words: tuple[str, ...], texts: list[str]) -> list[float]:
        ...


#: The transcription stage's hook: (recogniser, the call's audio at its rate, transcript) -> the
#: stored form of the check, or None (gateway/transcripts.py ``Check``).
Check = Callable[[object, np.ndarray, Transcript], dict[str, Any] | None]


@dataclass(frozen=True)
class NameCheck:
    """What the audio says of a name the words left unresolved."""

    phrase: str  # the self-introduction as heard ("camat perharajar")
    best: str  # the station whose name fits the audio best
    margin: float  # nats it leads the next station by
    runner_up: str  # the next station

    @property
    def station(self) -> str | None:
        """The station the audio supports: the best one, when it leads by :data:`MARGIN`."""
        return self.best if self.margin >= MARGIN else None

    def to_json(self) -> dict[str, Any]:
        return {"phrase": self.phrase, "best": self.best, "margin": self.margin, "runner_up": self.runner_up}

    @classmethod
    def from_json(cls, d: Any) -> NameCheck | None:
        """The stored form back; None for anything else (no check, or a malformed value)."""
        if not isinstance(d, dict) or not all(isinstance(d.get(k), str)
                                              for k in ("phrase", "best", "runner_up")):
            return None
        margin = d.get("margin")
        if not isinstance(margin, (int, float)) or isinstance(margin, bool):
            return None
        return cls(d["phrase"], d["best"], float(margin), d["runner_up"])


def spoken_forms(station: Station) -> list[str]:
    """The station's name and each alias spelt differently (not only in its spaces)."""
    forms: dict[str, str] = {}
    for name in (station.name, *station.aliases):
        forms.setdefault("".join(name.casefold().split()), name)
    return list(forms.values())


def hypotheses(words: list[str], name_at: int, stations: Sequence[Station],
               start: int | None = None) -> tuple[list[str], list[str]]:
    """(texts, station of each text): ``words`` with each station's spoken form in place of the
    words from ``start`` (default ``name_at``) up to ``name_at`` and then 0 to
    :data:`MAX_NAME_WORDS` - 1 more, all ending at the same word."""
    start = name_at if start is None else start
    end = min(len(words), name_at + MAX_NAME_WORDS + AFTER_WORDS)
    before = words[:start]
    texts: list[str] = []
    owners: list[str] = []
    for k in range(1, MAX_NAME_WORDS + 1):
        if name_at + k > end:
            break
        after = words[name_at + k:end]
        last = words[name_at + k - 1]  # the last word replaced
        tail = last[len(last.rstrip(",.;:!?")):]  # "perharajar," -> "Pahae Jae,"
        for st in stations:
            for form in spoken_forms(st):
                texts.append(" ".join([*before, form + tail, *after]))
                owners.append(st.name)
    return texts, owners


def check_name(recognizer: object, audio: np.ndarray, result: Transcript, stations: Sequence[Station],
               prompt_words: tuple[str, ...] = (), threshold: float = 0.80) -> NameCheck | None:
    """The check (see the module docstring), or None when it does not apply: an engine that cannot
    rescore, no words, a name the matcher resolved, no self-introduction, or one by "kecamatan …"
    (a place as often as a caller: "kami berada di kecamatan …" with "di" misheard)."""
    rescore = getattr(recognizer, "rescore", None)
    if rescore is None or not result.words or len(stations) < 2:
        return None
    from gateway.identification.self_id import self_introduction
    from gateway.identification.spoken_id import match_station

    words = result.words_json()
    if match_station(result.text, words, stations, threshold).station is not None:
        return None
    intro = self_introduction(result.text, words, stations)
    if intro is None or not intro.by_title:
        return None  # "kecamatan X" may be where a patrol is, not who calls
    texts, owners = hypotheses([t.text for t in intro.tokens], intro.name, stations, intro.start)
    scores = rescore(audio, prompt_words, texts)
    best: dict[str, float] = {}
    for owner, score in zip(owners, scores, strict=True):
        best[owner] = max(score, best.get(owner, -np.inf))
    ranked = sorted(best.items(), key=lambda kv: -kv[1])
    (top, top_score), (second, second_score) = ranked[0], ranked[1]
    margin = round(top_score - second_score, 2)
    check = NameCheck(intro.phrase, top, margin, second)
    log.info("name heard again for %r: %s (%.1f nats ahead of %s)", check.phrase,
             check.station or f"none stands out ({top} best)", margin, second)
    return check


def checker(cfg: Config) -> Check | None:
    """The transcription stage's check for ``cfg`` (None when ``identity.name_check`` is off): what
    to store in ``transcripts.name_check`` when :func:`check_name` applies (run after the transcript
    is stored: gateway/transcripts.py ``check_stored``)."""
    if not cfg.identity.name_check:
        return None
    from gateway.asr.vocabulary import station_words

    prompt = station_words(cfg.stations)

    def check(recognizer: object, audio: np.ndarray, result: Transcript) -> dict[str, Any] | None:
        found = check_name(recognizer, audio, result, cfg.stations, prompt, cfg.identity.spoken_threshold)
        return None if found is None else found.to_json()

    return check
