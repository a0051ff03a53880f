"""Who is calling: find a configured station's name in a recogniser transcript.

Analog FM carries no caller ID; when no DTMF ANI came with a transmission the station is named in
speech ("Bupati, di sini Camat Sipoholon, ..."), and the recogniser mangles the place names it
does not know ("camat si poforong", "kecematan siada sarita", "Siburong-Rong-Rong").
:func:`match_station`

1. splits the transcript into tokens: the recogniser's words with their times and probabilities
   when given (hyphen-joined pieces kept together), else the text at spaces; a cue word glued to
   the name is split off ("Camathuara" -> "Camat" "huara"), and one glued to the end of a word
   ("Narikamikhamat" -> "Narikami" "khamat", "Jaramelapol" -> "Jara" "melapol");
2. compares every run of adjacent tokens, joined without spaces (names come split or merged:
   "Si atas barita", "Siatasbarita"), with every station name and alias, by spelling and by an
   Indonesian sound key (:func:`phonetic_key`). Radio procedure and report words (ganti, monitor,
   delapan enam, bupati, situasi, ...) end a run, so they never make a name on their own;
3. weighs the context (:data:`PENALTY`): a name right after a cue ("camat", "kecamatan",
   "di sini", "dari"; procedure words in between skipped; misheard cues such as "kamat",
   "kecemasan" count) or right before "melapor"/"lapor"/"memanggil" keeps its score (between both it gains
   :data:`BOTH_CUES_BONUS`; a name heard inexactly that leaves a word over before that cue is only
   part of the name said and loses :data:`PART_PENALTY`); a name that opens the call
   loses a little; a name anywhere else loses so much that it cannot pass on its own (reports
   mention other places: "jalan ke Sipoholon putus"); after "desa"/"dusun" it is a village, and
   after "posisi di kecamatan", "ke camat" (:data:`~gateway.lexicon.words.PLACE_BEFORE`), or
   after "kecamatan"/"camat" in a call that opens with another unit's call sign ("Mobil PLN di
   kecamatan …": :func:`~gateway.identification.name_tokens.unit_opening`), it is where the
   caller is or whom he calls, not who he is;
4. distrusts what the recogniser did not hear: names it lists one after another (Whisper echoing
   its prompt of station names: "kecamatan Tarutung, Siatas Barita, Adian Koting") are dropped,
   a name it gives a tiny word probability (copied from the prompt) cannot pass on its own;
5. never guesses: the best station must reach ``threshold`` and beat every other station by
   :data:`MARGIN`, else the answer is "unknown" with a one-line reason.

Everything station-specific comes from the configured :class:`~gateway.config.Station` list.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz.distance import Levenshtein

from gateway.config import Station
from gateway.identification import name_tokens as nt
from gateway.identification.name_tokens import CUE_REACH, CUES_BEFORE, NOT_STATION_BEFORE
from gateway.lexicon.phonetic import normalise, phonetic_key
from gateway.lexicon.words import FILLERS
from gateway.reasons import Reason, say_all

__all__ = ["FILLERS", "SpokenMatch", "match_station", "normalise", "phonetic_key"]

#: What may stand between listed names ("Tarutung, Siatas Barita dan di sini camat Garoga");
#: report words may not: "camat Tarutung, jalan ke Sipoholon putus" is no list.
LIST_SEPARATORS = frozenset("dan serta atau di sini camat kecamatan dari".split())

#: Subtracted from a name's similarity, by where it stands in the call.
PENALTY = {"cue": 0.0, "opening": 0.10, "none": 0.25, "village": 0.35, "place": 0.35}
#: A name the recogniser gives less probability than this (geometric mean over its words) is its
#: guess, not what it heard (Whisper writes a name from its prompt over one it did not catch).
UNSURE_WORD_CONF = 0.02
UNSURE_PENALTY = PENALTY["none"]
#: The best station must beat the next one by this much.
MARGIN = 0.05
#: Below this nothing is worth calling a candidate.
FLOOR = 0.50
#: Names this similar (before context) count towards a list.
LIST_SIMILARITY = 0.85
#: One station's name this many times back to back is no caller's: the office calling that station
#: ("Tarutung, Tarutung, Tarutung, ini Pusdalops"), or the recogniser repeating itself ("Khamat
#: Sipoholon, Sipoholon, Sipoholon" for Camat Siborongborong, fourth held-out morning 509).
REPEATED_MIN = 3
#: Longest run of tokens tried as one name ("Si a tas ba ri ta"), and how many letters it may
#: have beyond the longest name.
MAX_TOKENS = 6
EXTRA_LETTERS = 4
#: Subtracted from a name heard inexactly that leaves words over before the cue after it (part of
#: a longer name: :func:`_cue_after`).
PART_PENALTY = 0.10
#: A name this similar to a station's (spelling or sound, before context) is "said" even where it
#: cannot identify the caller (:attr:`SpokenMatch.said`).
SAID_SIMILARITY = 0.90
#: Added to a name standing between a cue before it and one after it ("camat para Garan melapor"):
#: both sides say it is the caller's own name.
BOTH_CUES_BONUS = 0.05


def _similarity(a: str, b: str) -> float:
    """1 - Levenshtein distance / longer length: a wrong letter costs as much as a missing one.

    (The Indel ratio forgives missing letters: it puts "Pangaran" at 0.84 from Pangaribuan.)"""
    return Levenshtein.normalized_similarity(a, b)


@dataclass(frozen=True)
class SpokenMatch:
    """The answer: ``station`` None means unknown; ``reason`` says why in one line either way.

    ``phrase`` is the transcript's words taken for the name, ``start``/``end`` their times (None
    without word times); ``candidates`` are the best stations with their confidences.
    """

    station: str | None
    confidence: float
    phrase: str
    start: float | None
    end: float | None
    reason: str  # ``reasons`` in English
    candidates: list[tuple[str, float]] = field(default_factory=list)
    reasons: tuple[Reason, ...] = ()
    #: When unknown: station names said clearly (:data:`SAID_SIMILARITY`) where they count for no
    #: caller (no cue word), not as a village, place or list, nor words the recogniser doubts, as
    #: (station, phrase), strongest first. They cannot identify the call, but they speak against
    #: its being the previous caller's continuation (:mod:`gateway.identification.identify`).
    said: tuple[tuple[str, str], ...] = ()





@dataclass
class _Hit:
    station: str
    first: int  # tokens [first, last]
    last: int
    similarity: float
    how: str  # "exact", "spelling" or "phonetic"
    confidence: float = 0.0
    context: dict[str, Any] = field(default_factory=dict)  # gateway.reasons.CONTEXT: kind, words, unsure_p
    listed: bool = False



def _context(tokens: list[nt.Token], hit: _Hit, procedure: set[str]) -> tuple[str, dict[str, Any]]:
    """Where the name stands: ("cue" | "opening" | "village" | "place" | "none", the reason's context)."""
    for i in range(hit.first - 1, max(hit.first - 1 - CUE_REACH, -1), -1):
        if tokens[i].norm in NOT_STATION_BEFORE:
            return "village", {"kind": "village", "words": nt.words_of(tokens[i:hit.first])}
        if (nt.is_cue(tokens[i].norm, ("camat", "kecamatan"))
                and (k := nt.not_the_callers(tokens, i)) is not None):
            return "place", {"kind": "place", "words": nt.words_of(tokens[k:hit.first])}
        if nt.is_cue(tokens[i].norm, CUES_BEFORE):
            lead = i
            while lead > 0 and i - lead < 2 and nt.skippable(tokens[lead - 1], procedure):
                lead -= 1  # show "di sini camat", not just "camat"
            context = {"kind": "after", "words": nt.words_of(tokens[lead:hit.first])}
            if (after := _cue_after(tokens, hit, procedure)) is not None:
                # "camat para Garan melapor": both sides; "camat paharan ujusif melapol": more
                # name than was matched
                context["then" if after[1] else "rest"] = after[0]
            return "cue", context
        if not nt.skippable(tokens[i], procedure):
            break
    if (after := _cue_after(tokens, hit, procedure)) is not None and after[1]:
        return "cue", {"kind": "before", "words": after[0]}
    if all(nt.skippable(t, procedure) for t in tokens[:hit.first]):
        return "opening", {"kind": "opening"}
    return "none", {"kind": "none"}


def _cue_after(tokens: list[nt.Token], hit: _Hit, procedure: set[str]) -> tuple[str, bool] | None:
    """The words up to a cue ("melapor", "lapor", "memanggil") within reach after the name, and
    whether only procedure words stand between (the cue then says the name is the caller's); when
    another word stands there, the match is of part of the name only: the caller's name fills the
    slot between "camat" and "melapor" ("jamat paharan ujusif melapol": 'paharan' alone is one
    letter from Pagaran, but the name said was longer). None when no cue follows."""
    for i in range(hit.last + 1, min(hit.last + 1 + CUE_REACH, len(tokens))):
        if nt.is_cue_after(tokens[i].norm):
            clean = all(nt.skippable(t, procedure) for t in tokens[hit.last + 1:i])
            return nt.words_of(tokens[hit.last + 1:i + 1]), clean
    return None


def _best_hits(tokens: list[nt.Token], variants: list[nt.Variant], procedure: set[str]) -> list[_Hit]:
    """For every run of tokens: the best similarity to each station (spelling or sound)."""
    hits: list[_Hit] = []
    longest = max(len(v.compact) for v in variants) + EXTRA_LETTERS
    for first in range(len(tokens)):
        joined = ""
        for last in range(first, min(first + MAX_TOKENS, len(tokens))):
            # A name may start with what is also a common word ("di atas baritah": Siatas Barita).
            if last > first and nt.skippable(tokens[last], procedure):
                break
            joined += tokens[last].norm
            if len(joined) > longest:
                break
            if len(joined) < 3 or nt.skippable(tokens[last], procedure):
                continue
            key = phonetic_key(joined)
            best: dict[str, _Hit] = {}
            for v in variants:
                spelling = _similarity(joined, v.compact)
                # A sound-alike counts half way: "Siborong" sounds like Sipoholon but is spelled
                # like Siborongborong; "taruh tun" is Tarutung by sound (1.0) and spelling (0.75).
                phonetic = (spelling + _similarity(key, v.key)) / 2
                sim, how = (spelling, "spelling") if spelling >= phonetic else (phonetic, "phonetic")
                if joined == v.compact:
                    sim, how = 1.0, "exact"
                if sim >= FLOOR and (v.station not in best or sim > best[v.station].similarity):
                    best[v.station] = _Hit(v.station, first, last, sim, how)
            hits += best.values()
    return hits


def _mark_lists(hits: list[_Hit], tokens: list[nt.Token]) -> tuple[list[str], tuple[str, int] | None]:
    """Flag names of two or more stations said back to back, and one station's name said
    :data:`REPEATED_MIN` times or more back to back; returns the first such list and the first
    such repeated name (station, times)."""
    chosen: list[_Hit] = []  # the strongest name per start, not overlapping
    for h in sorted((h for h in hits if h.similarity >= LIST_SIMILARITY), key=lambda h: (h.first, h.last)):
        if chosen and h.first <= chosen[-1].last:
            if h.first == chosen[-1].first and h.similarity > chosen[-1].similarity:
                chosen[-1] = h
            continue
        chosen.append(h)
    runs: list[list[_Hit]] = []
    for h in chosen:
        between = tokens[runs[-1][-1].last + 1:h.first] if runs else []
        if runs and all(not t.norm or t.norm in LIST_SEPARATORS for t in between):
            runs[-1].append(h)
        else:
            runs.append([h])
    listed: list[str] = []
    repeated: tuple[str, int] | None = None
    for run in runs:
        names = list(dict.fromkeys(h.station for h in run))
        if len(names) >= 2 or len(run) >= REPEATED_MIN:
            for h in hits:
                h.listed = h.listed or (run[0].first <= h.first and h.last <= run[-1].last)
        if len(names) >= 2:
            listed = listed or names
        elif len(run) >= REPEATED_MIN:
            repeated = repeated or (names[0], len(run))
    return listed, repeated


def _word_probability(tokens: list[nt.Token]) -> float | None:
    """Geometric mean of the recogniser's word probabilities (None: it gave none)."""
    confs = [max(t.conf, 1e-6) for t in tokens if t.conf is not None]
    return math.exp(sum(map(math.log, confs)) / len(confs)) if confs else None


def _phrase(tokens: list[nt.Token], hit: _Hit) -> str:
    return " ".join(t.text for t in tokens[hit.first:hit.last + 1]).strip(" ,.;:!?")


def _unknown(reasons: list[Reason], candidates: list[tuple[str, float]],
             confidence: float = 0.0, said: tuple[tuple[str, str], ...] = ()) -> SpokenMatch:
    return SpokenMatch(None, round(confidence, 3), "", None, None, say_all(reasons), candidates,
                       tuple(reasons), said)


def _said(ranked: list[_Hit], tokens: list[nt.Token]) -> tuple[tuple[str, str], ...]:
    """Station names said clearly but without standing (:attr:`SpokenMatch.said`)."""
    return tuple((h.station, _phrase(tokens, h)) for h in ranked
                 if h.similarity >= SAID_SIMILARITY and h.context.get("kind") in ("none", "opening")
                 and "unsure_p" not in h.context)


def match_station(text: str, words: list[dict[str, Any]] | None, stations: Sequence[Station],
                  threshold: float = 0.80) -> SpokenMatch:
    """The station whose name ``text`` (or its recogniser ``words``) speaks, or None with the reason.

    ``words`` are the transcript's words as stored (``word``, ``start``, ``end``, ``conf``); when
    given they are used instead of ``text`` and the match carries the phrase's start and end.
    """
    variants = nt.variants(stations)
    if not variants:
        return _unknown([Reason("no_stations")], [])
    procedure = nt.procedure_words(stations)
    tokens = nt.unglue(nt.tokens(text, words), variants)
    if all(nt.skippable(t, procedure) for t in tokens):
        return _unknown([Reason("no_name" if tokens else "empty_transcript")], [])

    hits = _best_hits(tokens, variants, procedure)
    listed, repeated = _mark_lists(hits, tokens)
    for h in hits:
        kind, h.context = _context(tokens, h, procedure)
        h.confidence = h.similarity - PENALTY[kind] + (BOTH_CUES_BONUS if "then" in h.context else 0.0)
        if "rest" in h.context and h.how != "exact":
            h.confidence -= PART_PENALTY
        p = _word_probability(tokens[h.first:h.last + 1])
        if p is not None and p < UNSURE_WORD_CONF:
            h.confidence -= UNSURE_PENALTY
            h.context["unsure_p"] = round(p, 3)
        h.confidence = max(0.0, h.confidence)
    per_station: dict[str, _Hit] = {}
    for h in hits:
        best = per_station.get(h.station)
        if not h.listed and (best is None or h.confidence > best.confidence):
            per_station[h.station] = h
    ranked = sorted(per_station.values(), key=lambda h: -h.confidence)
    candidates = [(h.station, round(h.confidence, 3)) for h in ranked[:3]]

    if not ranked or ranked[0].confidence < FLOOR:
        if listed:
            return _unknown([Reason("prompt_echo", {"names": listed})], candidates)
        if repeated:
            return _unknown([Reason("name_repeated", {"station": repeated[0], "times": repeated[1]})],
                            candidates)
        if not ranked:
            return _unknown([Reason("no_name")], candidates)
        return _unknown([Reason("no_name_closest", {"station": ranked[0].station,
                                                    "confidence": round(ranked[0].confidence, 3)})],
                        candidates, ranked[0].confidence)
    top = ranked[0]
    ignored = [Reason("ignored_list", {"names": listed})] if listed else []
    if repeated:
        ignored.append(Reason("name_repeated", {"station": repeated[0], "times": repeated[1]}))
    if top.confidence < threshold:
        return _unknown([Reason("below_threshold", {
            "station": top.station, "confidence": round(top.confidence, 3), "threshold": threshold,
            "phrase": _phrase(tokens, top), "context": top.context}), *ignored], candidates, top.confidence,
            _said(ranked, tokens))
    if len(ranked) > 1 and top.confidence - ranked[1].confidence < MARGIN:
        return _unknown([Reason("two_equal", {
            "station": top.station, "confidence": round(top.confidence, 3), "other": ranked[1].station,
            "other_confidence": round(ranked[1].confidence, 3)})], candidates, top.confidence,
            _said(ranked, tokens))
    phrase = _phrase(tokens, top)
    reasons = [Reason("voice", {"phrase": phrase, "station": top.station, "how": top.how,
                                "similarity": round(top.similarity, 3), "context": top.context}), *ignored]
    return SpokenMatch(top.station, round(top.confidence, 3), phrase, tokens[top.first].start,
                       tokens[top.last].end, say_all(reasons), candidates, tuple(reasons))
