"""Correcting what was heard against the lexicon, for the report (``lexicon.correct``).

The report extractor (:mod:`gateway.report.extract`) matches incident, count, unit, commodity and
need words exactly, then fuzzily (rapidfuzz), and with correction on also by sound
(:func:`gateway.lexicon.phonetic.phonetic_key`): "longsong" is longsor, "kebakaram" kebakaran.
Place names after desa/dusun/kelurahan are matched against the gazetteer (:class:`Places`): the
station's own kecamatan first, then the rest of the kabupaten. The words as heard always stay the
evidence, with the score in ``Evidence.match``; a name that matches nothing well enough stays as
heard (with no score), so nothing is reported that no words support.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from gateway.config import Config, Station
from gateway.lexicon import gazetteer
from gateway.lexicon.phonetic import normalise, phonetic_key
from gateway.lexicon.report import (
    NEED_ITEMS,
    NEED_MIN_RATIO,
    NEED_MIN_SPELLING,
    NEED_SOUND_RATIO,
    NEED_SOUND_WORDS,
    NEED_UNKNOWN_MATCH,
)
from gateway.report.numbers_id import SCALES, SE_SCALES, UNITS

log = logging.getLogger(__name__)

#: A place heard this close (rapidfuzz ratio) to a gazetteer name is that name.
PLACE_MIN_RATIO = 85.0
#: Sound-alikes: the same sound key and this spelling similarity; scored like report words.
PLACE_MIN_SPELLING = 0.6
PHONETIC_FACTOR = 0.9
MIN_LETTERS = 5
#: The best name must beat the next one by this much (ratio points), else nothing is corrected:
#: "Parbubu" is Parbubu I, II, Dolok or Pea, and the report keeps what was heard.
PLACE_MARGIN = 5.0
#: With a gazetteer to check against, a place name it does not know is reported as heard with this
#: matcher score, under ``report.review_below``, so an operator checks it ("desa pertolongan": a word
#: heard where "Desa Partoli Toruan" was said). Without a gazetteer a name as heard has no score.
PLACE_UNKNOWN_MATCH = 0.5


@dataclass(frozen=True)
class Places:
    """Desa/kelurahan names to correct heard place names against, nearest first."""

    groups: tuple[tuple[str, ...], ...] = ()
    _norm: list[list[tuple[str, str, str]]] = field(default_factory=list, compare=False, repr=False)

    def __post_init__(self) -> None:
        for names in self.groups:
            self._norm.append([(n, normalise(n), phonetic_key(n)) for n in names if normalise(n)])

    def __bool__(self) -> bool:
        return any(self.groups)

    def match(self, heard: str) -> tuple[str, float] | None:
        """The gazetteer name ``heard`` is (exactly, fuzzily or by sound) and the score, or None."""
        norm = normalise(heard)
        if len(norm) < MIN_LETTERS:
            return None
        key = phonetic_key(norm)
        for group in self._norm:
            for name, n, _ in group:
                if n == norm:
                    return name, 1.0
            if sum(n.startswith(norm) for _, n, _ in group) > 1:
                return None  # "Parbubu": the start of Parbubu I, II, Dolok, Pea: which one is not said
            near = process.extract(norm, [n for _, n, _ in group], scorer=fuzz.ratio, limit=2,
                                   score_cutoff=PLACE_MIN_RATIO - PLACE_MARGIN)
            if near and near[0][1] >= PLACE_MIN_RATIO:
                if len(near) > 1 and near[0][1] - near[1][1] < PLACE_MARGIN:
                    return None  # two names as likely: keep what was heard
                return group[near[0][2]][0], round(near[0][1] / 100.0, 3)
            sounds = sorted(((Levenshtein.normalized_similarity(norm, n), name) for name, n, k in group
                             if k == key), reverse=True)
            sounds = [(sp, name) for sp, name in sounds if sp >= PLACE_MIN_SPELLING]
            if sounds:
                if len(sounds) > 1 and sounds[0][0] - sounds[1][0] < PLACE_MARGIN / 100.0:
                    return None
                return sounds[0][1], round(PHONETIC_FACTOR * (1.0 + sounds[0][0]) / 2, 3)
        return None


@functools.lru_cache(maxsize=8)
def _kabupaten(path: str, code: str) -> gazetteer.Kabupaten | None:
    """The kabupaten's desa, or None (and one warning: cached, so once) when the gazetteer cannot
    be read. The configured file was checked when the config was loaded; this is a file removed or
    changed since, or a kabupaten with no shipped gazetteer."""
    try:
        return gazetteer.load(Path(path) if path else None, code)
    except (gazetteer.GazetteerError, OSError, ValueError) as e:
        log.warning("lexicon.gazetteer = %r: %s; desa names are not corrected", path,
                    str(e).splitlines()[0] if str(e) else e.__class__.__name__)
        return None


def places_for(cfg: Config, station: Station | None) -> Places:
    """The station's kecamatan's desa, then the kabupaten's others (empty without a gazetteer)."""
    code = gazetteer.kabupaten_of([st.code for st in cfg.stations])
    if code is None:
        return Places()
    kab = _kabupaten(str(cfg.resolve_path(cfg.lexicon.gazetteer)) if cfg.lexicon.gazetteer else "", code)
    if kab is None:
        return Places()
    own = kab.desa_of(station.code) if station is not None else ()
    return Places((own, tuple(d for d in kab.all_desa() if d not in own)))


def extract_options(cfg: Config, station: Station | None) -> dict[str, Any]:
    """Keyword arguments of :func:`gateway.report.extract.extract` for this configuration."""
    if not cfg.lexicon.correct:
        return {"correct": False}
    return {"correct": True, "places": places_for(cfg, station)}


# --- number words -------------------------------------------------------------------------------

#: The number words a heard word may be corrected to (digits, teens/tens/hundreds, scales).
NUMBER_WORDS = ("satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan", "sepuluh",
                "sebelas", "belas", "puluh", "ratus", "seratus", "ribu", "seribu", "juta")
#: Letters a heard word may be off its number word: 1 up to 5 letters, 2 from 6 ("sempilang").
NUMBER_SLACK = ((5, 1), (99, 2))
NUMBER_MIN_LETTERS = 4  # "dia", "tua" are words, not misheard numbers
NUMBER_PASSES = 3
GLUED_SCALES = ("ribu", "ratus", "puluh", "belas", "juta")


def number_word(word: str, extra: int = 0) -> tuple[str, float] | None:
    """The one number word ``word`` is a few letters (``extra`` more) off, and the spelling
    similarity; None when none is near enough or two are equally near."""
    if len(word) < NUMBER_MIN_LETTERS or not word.isalpha() or word in NUMBER_WORDS:
        return None
    slack = next(s for n, s in NUMBER_SLACK if len(word) <= n) + extra
    near = sorted((Levenshtein.distance(word, w), w) for w in NUMBER_WORDS)
    d, best = near[0]
    if d > slack or (len(near) > 1 and near[1][0] == d):
        return None
    if len(word) > len(best) + 1 and word.startswith(best):
        return None  # "ribuli": ribu with the next word glued on, not a mishearing of ribu
        # (one letter more is a mishearing: "sembilang" is sembilan; no number word is one letter)
    return best, round(Levenshtein.normalized_similarity(word, best), 3)


def number_words(norms: list[str], known: frozenset[str],
                 after: frozenset[str]) -> dict[int, tuple[str, float]]:
    """Words of one clause heard a few letters off a number word ("tujur pelas rumah", "semelas
    ribu", "lima puuh"), by position: (number word, similarity). A word counts only next to a number
    word (as heard or corrected) or right before a word of ``after`` (units and count nouns); a word
    the lexicon knows (``known``: "putus", "rindu") only between two number words, where it may be
    one letter further off ("lima putus sembilan ribu"). Nothing else is changed, so no number
    appears where no number-like word was said."""
    fixed: dict[int, tuple[str, float]] = {}

    def is_number(k: int) -> bool:
        return 0 <= k < len(norms) and (norms[k] in NUMBER_WORDS or k in fixed)

    for _ in range(NUMBER_PASSES):
        grew = False
        for k, word in enumerate(norms):
            between = is_number(k - 1) and is_number(k + 1)
            if k in fixed or (found := number_word(word, 1 if between else 0)) is None:
                continue
            if word in known:
                ok = between
            else:
                ok = is_number(k - 1) or is_number(k + 1) or (k + 1 < len(norms) and norms[k + 1] in after)
            if ok:
                fixed[k] = found
                grew = True
        if not grew:
            break
    # a run that goes on in a glued word ("dura belas ribuli maratus": ribu lima ratus) cannot be
    # read whole: correcting its start would report a value that was not said, so it is left alone
    k = 0
    while k < len(norms):
        if not is_number(k):
            k += 1
            continue
        end = k
        while is_number(end):
            end += 1
        nxt = norms[end] if end < len(norms) else ""
        if any(nxt.startswith(w) and nxt != w for w in GLUED_SCALES):
            for j in range(k, end):
                fixed.pop(j, None)
        k = end
    return fixed


#: Words a glued run of number words may be cut into ("ribuli maratus" is ribu lima ratus).
GLUED_PIECES = frozenset(NUMBER_WORDS) | {"nol"}
#: Number words a heard word may hold whole, run into a neighbour ("ngempat": empat): next to a
#: number word or "rupiah" (:data:`NUMBER_NEIGHBOURS`, two words either side) such a word is not read
#: as a misheard phrase that does not hold it ("ngempat kurut satu ribu" is no "gempa"; "gempat
#: rasa" is still gempa terasa). Five letters or more: shorter ones ("lima") sit in ordinary words.
HELD_NUMBER_WORDS = tuple(sorted(w for w in {*NUMBER_WORDS, *SE_SCALES} if len(w) >= 5))
NUMBER_NEIGHBOURS = frozenset({*GLUED_PIECES, *UNITS, *SCALES, *SE_SCALES, "rupiah"})
NUMBER_NEIGHBOUR_SPAN = 2
GLUED_MAX_PIECE = 8


def held_number_words(heard: str) -> list[str]:
    """The :data:`HELD_NUMBER_WORDS` inside ``heard`` when it is not itself one ("ngempat": empat)."""
    return [n for n in HELD_NUMBER_WORDS if n in heard and n != heard]


def glued_number_words(letters: str, units: frozenset[str] = frozenset()) -> list[str] | None:
    """Letters the recogniser ran across number words, cut into them: "puuhenam" -> ["puluh",
    "enam"] (one piece misheard); "ribulimaratus" -> ["ribu", "lima", "ratus"]. Each piece is a number
    word, or one of 4+ letters a few letters off one (:func:`number_word`); the cut with the fewest
    misheard pieces, then the fewest pieces, wins. The last piece may be one of ``units`` (exact, or
    a letter off from 4 letters): "enambelasekol" -> enam belas ekor. None when the letters cannot
    be cut so, when more than one piece in two (the unit counted) is a misheard number word, or
    when no number word in it was heard right."""
    if not letters.isalpha() or len(letters) < 6:
        return None
    n = len(letters)
    best: list[tuple[int, int, list[str]] | None] = [None] * (n + 1)
    best[0] = (0, 0, [])
    for i in range(1, n + 1):
        for j in range(max(0, i - GLUED_MAX_PIECE - 2), i):
            before = best[j]
            if before is None:
                continue
            piece = letters[j:i]
            if piece in GLUED_PIECES:
                word, miss = piece, 0
            elif (found := number_word(piece, extra=0)) is not None:
                word, miss = found[0], 1
            else:
                continue
            cand = (before[0] + miss, before[1] + 1, [*before[2], word])
            if best[i] is None or cand[:2] < best[i][:2]:  # type: ignore[index]
                best[i] = cand
    done, unit = best[n], None
    if done is None and units:  # numbers, then a unit word: "belasekol", "melasoran"
        for j in range(max(1, n - 6), n - 1):
            head, tail = best[j], letters[j:]
            unit = heard_unit(tail, units)
            if head is None or unit is None:
                continue
            done = (head[0], head[1], [*head[2], unit])
            break
    if done is None or done[1] < (1 if unit else 2) or 2 * done[0] > done[1] + (unit is not None):
        return None
    if done[0] == done[1]:
        return None  # no number word heard right: "simarumat" is not (lima) rumah
    return done[2]


def near_unit(tail: str, unit: str) -> bool:
    """A unit word as heard at the end of glued number words: exact, or one letter off from 4."""
    return tail == unit or (len(unit) >= 4 and Levenshtein.distance(tail, unit) <= 1)


def heard_unit(word: str, units: frozenset[str]) -> str | None:
    """The unit of ``units`` that ``word`` is as heard (:func:`near_unit`, same first letter)."""
    return next((u for u in sorted(units) if word[:1] == u[0] and near_unit(word, u)), None)


def misheard_unit(word: str, units: frozenset[str], known: frozenset[str]) -> tuple[str, float] | None:
    """A word right after a number heard one letter off a unit of ``units`` ("tiga belas rumak",
    "enam belas ekon"): (the unit, spelling similarity). Never a word the lexicon knows (``known``:
    "harga" is not "warga")."""
    if not word.isalpha() or word in units or word in known or (unit := heard_unit(word, units)) is None:
        return None
    return unit, round(Levenshtein.normalized_similarity(word, unit), 3)


@functools.cache
def _need_items() -> tuple[tuple[str, str], ...]:
    return tuple((item, normalise(item)) for item in sorted(NEED_ITEMS))


def need_item(heard: str, correct: bool) -> tuple[str, float | None]:
    """A need item as heard -> (the item to report, the matcher's score). With ``correct``: a known
    item (1.0); the known item it is a few letters off (the ratio); else as heard, scored
    ``NEED_UNKNOWN_MATCH`` so that an operator checks it. Without: as heard, no score."""
    if not correct:
        return heard, None
    norm = normalise(heard)
    items = _need_items()
    if any(n == norm for _, n in items):
        return heard, 1.0  # as heard: "obat-obatan" and "obat obatan" are both known
    if len(norm) >= MIN_LETTERS:
        found = process.extractOne(norm, [n for _, n in items], scorer=fuzz.ratio,
                                   score_cutoff=NEED_MIN_RATIO)
        if found is not None:
            return items[found[2]][0], round(found[1] / 100.0, 3)
    return heard, NEED_UNKNOWN_MATCH


_BANTUAN = phonetic_key("bantuan")


def need_cue(word: str, triggers: frozenset[str], known: frozenset[str]) -> float | None:
    """The score of a word not on the trigger list read as opening a need phrase, or None: "bantuan"
    by sound, alone or with what was said before it glued on ("pantu", "panturan", "mantuan",
    "perumantuan"; the key ratio times ``PHONETIC_FACTOR``), or a trigger of 5+ letters with more
    glued on ("perluman" for perlu bantuan; ``PHONETIC_FACTOR``). Never a word the lexicon knows
    (``known``). What such a cue opens gives only known items (:func:`heard_needs`)."""
    if not word.isalpha() or word in known or word in triggers:
        return None
    if any(len(t) >= MIN_LETTERS and word.startswith(t) for t in triggers):
        return PHONETIC_FACTOR
    key = phonetic_key(word)
    ratio = max(fuzz.ratio(key, _BANTUAN), fuzz.ratio(key[-len(_BANTUAN):], _BANTUAN))
    return round(PHONETIC_FACTOR * ratio / 100.0, 3) if ratio >= NEED_SOUND_RATIO else None


@functools.cache
def _need_keys() -> tuple[tuple[str, str, str], ...]:
    return tuple((item, n, phonetic_key(n)) for item, n in _need_items())


def _heard_as_need(letters: str) -> tuple[str, float] | None:
    """The known need item ``letters`` (one or more words, run together) is by sound, and its score:
    1.0 spelled so; else sound keys ``NEED_SOUND_RATIO`` close and spelling ``NEED_MIN_SPELLING``,
    scored like a sound-alike report word (the mean of the two, times ``PHONETIC_FACTOR``)."""
    if len(letters) < 4:
        return None
    key, best = phonetic_key(letters), None
    for item, n, item_key in _need_keys():
        if n == letters:
            return item, 1.0
        sound = fuzz.ratio(key, item_key)
        spelling = Levenshtein.normalized_similarity(letters, n)
        if sound >= NEED_SOUND_RATIO and spelling >= NEED_MIN_SPELLING:
            score = round(PHONETIC_FACTOR * (sound / 100.0 + spelling) / 2, 3)
            if best is None or score > best[1]:
                best = (item, score)
    return best


def heard_needs(words: list[str]) -> list[tuple[str, float]]:
    """Known need items heard in a need phrase's words, in order, each from one to
    ``NEED_SOUND_WORDS`` words (the best reading at each word; words used once): "tuan selimut" is
    selimut, "dua makanan sempat terpel" makanan and terpal. Number words (``GLUED_PIECES``) are
    never part of an item: "enam belas" is not beras."""
    norms = [normalise(w) for w in words]
    out: list[tuple[str, float]] = []
    i = 0
    while i < len(norms):
        found = None
        for k in range(1, NEED_SOUND_WORDS + 1):
            span = norms[i:i + k]
            if len(span) < k or any(w in GLUED_PIECES or not w for w in span):
                break
            heard = _heard_as_need("".join(span))
            if heard is not None and (found is None or heard[1] > found[0][1]):
                found = (heard, k)
        if found is None:
            i += 1
            continue
        if found[0][0] not in {item for item, _ in out}:
            out.append(found[0])
        i += found[1]
    return out
