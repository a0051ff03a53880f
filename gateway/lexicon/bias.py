"""Biasing the recogniser with the lexicon (``asr.bias``).

* faster-whisper: the prompt keeps naming the stations (``gateway.asr.whisper_engine.build_prompt``)
  and gets :func:`hotwords`: the incident, count, unit and procedure words a report turns on. Hotwords
  share Whisper's 223-token prompt budget, so they are kept short (:data:`MAX_HOTWORDS_CHARS`);
  the desa names are too many for it and are left to correction (:mod:`gateway.lexicon.correct`).
* Vosk with a dynamic graph and ``asr.phrase_list``: :func:`phrases` adds every lexicon word and
  every desa/kelurahan of the stations' kabupaten to today's list (names, report words, numbers);
  Vosk keeps only the words its model knows.

``asr.bias = false`` gives today's behaviour: no hotwords, the phrase list of
:func:`gateway.asr.vocabulary.phrases`.
"""

from __future__ import annotations

import logging

from gateway.asr.vocabulary import phrases as base_phrases
from gateway.config import Config
from gateway.lexicon import gazetteer
from gateway.lexicon.report import CATEGORIES, COUNT_NOUNS, UNITS_AFTER
from gateway.lexicon.words import CLOSING, CONTINUATION_CUES, UNIT_WORDS

log = logging.getLogger(__name__)

#: Hotwords in the order worth keeping when the budget runs out: incidents, continuation cues
#: (attribution depends on them), counts, units.
HOTWORD_GROUPS = (
    ("banjir", "longsor", "kebakaran", "kecelakaan", "puting beliung", "pohon tumbang", "gempa"),
    ("tambahan", "ralat", "koreksi"),
    ("meninggal", "hilang", "luka", "mengungsi", "terendam", "rusak"),
    ("rupiah", "per kilogram", "kepala keluarga", "ekor", "jiwa"),
)
#: faster-whisper puts hotwords before the prompt (station names, up to 400 characters) in the same
#: 448-token context the transcript is decoded into, without a combined limit: keep them short.
MAX_HOTWORDS_CHARS = 160


def hotwords() -> str:
    """The words faster-whisper is biased towards (``hotwords``), most important first."""
    out: list[str] = []
    for group in HOTWORD_GROUPS:
        for w in group:
            if sum(len(x) + 2 for x in out) + len(w) > MAX_HOTWORDS_CHARS:
                return ", ".join(out)
            out.append(w)
    return ", ".join(out)


def kabupaten(cfg: Config) -> gazetteer.Kabupaten | None:
    """The gazetteer of the stations' kabupaten (``lexicon.gazetteer`` or the shipped file); None when
    the station codes name no single kabupaten or no data is there (logged, never fatal)."""
    code = gazetteer.kabupaten_of([st.code for st in cfg.stations])
    if code is None:
        return None
    try:
        path = cfg.resolve_path(cfg.lexicon.gazetteer) if cfg.lexicon.gazetteer else None
        return gazetteer.load(path, code)
    except gazetteer.GazetteerError as e:
        log.warning("no gazetteer: %s", e)
        return None


def phrases(cfg: Config) -> list[str]:
    """The Vosk phrase list: today's, then the lexicon's words and the gazetteer's desa names."""
    if not cfg.asr.bias:
        return base_phrases(cfg.stations)
    words = [*CATEGORIES, *COUNT_NOUNS, *UNITS_AFTER, *UNIT_WORDS, *CLOSING, *CONTINUATION_CUES]
    kab = kabupaten(cfg)
    desa = [d.lower() for d in kab.all_desa()] if kab else []
    return list(dict.fromkeys([*base_phrases(cfg.stations), *(w.lower() for w in words), *desa]))
