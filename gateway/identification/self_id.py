"""Does the caller name himself? ("camat …", "di sini …", "lapor … dari …").

When :func:`~gateway.identification.spoken_id.match_station` finds no configured station, a call
whose words still hold such a self-introduction is someone the matcher cannot resolve, so it is
not handed to the previous caller as a continuation (:mod:`gateway.identification.identify`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz.distance import Levenshtein

from gateway.config import Station
from gateway.identification import name_tokens as nt
from gateway.identification.name_tokens import CUE_REACH, CUES_AFTER, NOT_STATION_BEFORE
from gateway.lexicon.phonetic import phonetic_key
from gateway.lexicon.report import NOT_NAMES

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


@dataclass(frozen=True)
class SelfIntro:
    """A self-introduction in a call's tokens: ``tokens[first:name + 1]`` is "camat perharajar",
    ``tokens[name]`` the first word of the name; ``tokens[start]`` the first word after the cue
    that is no procedure word (before ``name`` when short pieces stand there: "camat si kaum")."""

    tokens: list[nt.Token]
    first: int
    name: int
    start: int
    cue: str  # the cue word as heard ("camat", "kamat", "kecamatan", "sini", "dari")

    @property
    def by_title(self) -> bool:
        """The caller says "camat …" (or "di sini …", "lapor … dari …"), not "kecamatan …", which
        may name a place ("kami berada di kecamatan …" with "di" misheard)."""
        return not nt.is_cue(self.cue, ("kecamatan",)) or nt.is_cue(self.cue, ("camat",))

    @property
    def phrase(self) -> str:
        return nt.words_of(self.tokens[self.first:self.name + 1])


def self_introduction(text: str, words: list[dict[str, Any]] | None,
                      stations: Sequence[Station]) -> SelfIntro | None:
    """Where the caller names himself ("camat …", "di sini …", "lapor … dari …"), or None."""
    procedure = nt.procedure_words(stations)
    tokens = nt.unglue(nt.tokens(text, words), nt.variants(stations)) if stations else nt.tokens(text, words)
    norms = [t.norm for t in tokens]
    for i, norm in enumerate(norms):
        cue_end = None
        # a report word that sounds like a cue is not one: "kecelakaan" is not "kecamatan"
        if nt.is_cue(norm, NAME_CUES) and (norm in NAME_CUES or (
                norm not in procedure and not _report_word_more_like(norm, procedure))):
            cue_end = None if nt.not_the_callers(tokens, i) is not None else i  # "posisi di kecamatan …"
        elif (norm == "sini" and i > 0 and norms[i - 1] == "di") or norm == "disini":
            cue_end = i
        elif norm == "dari" and any(nt.is_cue(n, CUES_AFTER) for n in norms[max(0, i - SELF_ID_REACH):i]):
            cue_end = i
        start = None
        for j in range(cue_end + 1, min(cue_end + 1 + CUE_REACH, len(tokens))) if cue_end is not None else ():
            if norms[j] in NOT_STATION_BEFORE:
                break
            if nt.skippable(tokens[j], procedure):
                continue
            start = j if start is None else start
            if _name_like(norms[j]):
                return SelfIntro(tokens, i - 1 if norm == "sini" and i > 0 else i, j, start, norm)
    return None


def self_named(text: str, words: list[dict[str, Any]] | None, stations: Sequence[Station]) -> str | None:
    """The words where the caller names himself ("camat …", "di sini …", "lapor … dari …") and a
    name, or None: when :func:`match_station` found no station, the caller is someone unresolved."""
    intro = self_introduction(text, words, stations)
    return None if intro is None else intro.phrase
