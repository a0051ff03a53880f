"""Does the caller name himself? ("camat …", "di sini …", "lapor … dari …").

When :func:`~gateway.identification.spoken_id.match_station` finds no configured station, a call
whose words still hold such a self-introduction is someone the matcher cannot resolve, so it is
not handed to the previous caller as a continuation (:mod:`gateway.identification.identify`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from rapidfuzz.distance import Levenshtein

from gateway.config import Station
from gateway.identification.spoken_id import (
    CUE_REACH,
    CUES_AFTER,
    NOT_STATION_BEFORE,
    _is_cue,
    _procedure_words,
    _skippable,
    _tokens,
    _unglue,
    _variants,
    _words,
)
from gateway.lexicon.phonetic import phonetic_key
from gateway.lexicon.report import NOT_NAMES
from gateway.lexicon.words import PLACE_BEFORE

#: Words that may stand between "lapor"/"melapor" and the "dari" naming the caller.
SELF_ID_REACH = 4
_VERB_LIKE = re.compile(r"^(me|di|ter|ber|se)[a-z]{3,}$|^[a-z]{3,}(kan|nya|lah)$")


def _name_like(norm: str) -> bool:
    """A word that can be (part of) a name: not a report word, not a verb form ("laporkan")."""
    return len(norm) >= 3 and norm not in NOT_NAMES and not _VERB_LIKE.match(norm)


NAME_CUES = ("camat", "kecamatan")


def _report_word_more_like(norm: str, procedure: set[str]) -> bool:
    """Whether a word heard a sound or two off "camat"/"kecamatan" sounds even more like a report
    or procedure word: "kecelakan" is "kecelakaan", not "kecamatan"."""
    key = phonetic_key(norm)
    to_cue = min(Levenshtein.distance(key, phonetic_key(c)) for c in NAME_CUES)
    return any(Levenshtein.distance(key, phonetic_key(w)) < to_cue for w in procedure if len(w) >= 5)


def self_named(text: str, words: list[dict[str, Any]] | None, stations: Sequence[Station]) -> str | None:
    """The words where the caller names himself ("camat …", "di sini …", "lapor … dari …") and a
    name, or None: when :func:`match_station` found no station, the caller is someone unresolved."""
    procedure = _procedure_words(stations)
    tokens = _unglue(_tokens(text, words), _variants(stations)) if stations else _tokens(text, words)
    norms = [t.norm for t in tokens]
    for i, norm in enumerate(norms):
        cue_end = None
        # a report word that sounds like a cue is not one: "kecelakaan" is not "kecamatan"
        if _is_cue(norm, NAME_CUES) and (norm in NAME_CUES or (
                norm not in procedure and not _report_word_more_like(norm, procedure))):
            cue_end = None if i > 0 and norms[i - 1] in PLACE_BEFORE else i  # "posisi di kecamatan …"
        elif (norm == "sini" and i > 0 and norms[i - 1] == "di") or norm == "disini":
            cue_end = i
        elif norm == "dari" and any(_is_cue(n, CUES_AFTER) for n in norms[max(0, i - SELF_ID_REACH):i]):
            cue_end = i
        for j in range(cue_end + 1, min(cue_end + 1 + CUE_REACH, len(tokens))) if cue_end is not None else ():
            if norms[j] in NOT_STATION_BEFORE:
                break
            if not _skippable(tokens[j], procedure) and _name_like(norms[j]):
                first = i - 1 if norm == "sini" and i > 0 else i
                return _words(tokens[first:j + 1])
    return None
