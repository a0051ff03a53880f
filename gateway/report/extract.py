"""One transmission's transcript -> a :class:`StationExtract`: status, incidents, prices and needs.

Rule-based and explainable: every value comes with the :class:`Evidence` it was read from (the
words as recognised, their time span in seconds from the start of the recording and their mean
recogniser confidence), so an operator can listen to the phrase and confirm it. Values are only
read where the words say them: a count needs a number next to its noun, a price a number after its
commodity; words the recogniser garbled give nothing rather than a guess. The rules:

* **status** -- the strongest status word mentioned: aman (aman, kondusif, terkendali, nihil,
  "tidak ada kejadian") < waspada < siaga < awas (awas, darurat). A denied word ("tidak aman",
  "kurang kondusif") counts for nothing, and so does advice ("warga diminta tetap waspada").
* **incidents** -- one per category keyword (see :mod:`gateway.lexicon.report`), unless denied
  ("tidak ada banjir maupun longsor"); an infrastructure incident is a road/bridge noun followed
  by a damage word ("jembatan ... putus"); "rumah terendam", "babi mati" and "rumah terbakar" imply
  banjir, penyakit and kebakaran when no keyword names them. Mentions of one category merge into
  one incident unless they name different places.
* **places** -- the words after desa/dusun/kelurahan/kampung, up to three, that are not known
  words, numbers or (lower-case) verb forms; in a cased transcript a capitalised name stays capitalised.
  A place or count belongs to the nearest incident mentioned before it in the same sentence, else the
  nearest after it in the sentence, else the nearest before it anywhere.
* **counts** -- a number right before its noun ("tiga orang luka ringan", "tujuh rumah terendam",
  "dua belas KK atau empat puluh lima jiwa mengungsi") or right after it, past "sebanyak"-like words
  ("rumah terendam sebanyak tujuh unit"); the unit must fit the noun (houses for rumah_*, people
  for casualties, ekor for livestock), KK and jiwa are kept apart for mengungsi, and each number
  is used once. Counts with no incident go to an incident of category "lainnya".
* **prices** -- a commodity, then within a few words a number of Rp 500..2 000 000, optionally
  followed by rupiah and per kilo/kilogram/kg; other units (liter, butir...) and changes ("naik
  lima ribu") are not prices per kg. They are also reported as a "harga" incident with counts
  ``harga_<commodity>_rp_per_kg``, as the simulator's ground truth does; "harga ... naik/langka"
  without a number makes a "harga" incident with no counts.
* **needs** -- after butuh/membutuhkan/mohon/perlu/memerlukan/minta (not "mohon izin", "perlu kami
  sampaikan"), up to the end of the sentence: the items split on "dan"/commas, "bantuan" and
  "berupa" dropped; each item keeps the whole phrase as its evidence. With ``lexicon.correct`` an
  item that is not a known one is read as the known items heard in it by sound ("tuan selimut",
  "aybersi"), and "bantuan" as heard ("panturan", "perumantuan") also opens a need phrase, which
  then gives known items only (:func:`gateway.lexicon.correct.need_cue`, ``heard_needs``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

from gateway.asr.base import Transcript
from gateway.lexicon import report as lx
from gateway.lexicon.correct import PLACE_UNKNOWN_MATCH, Places, heard_needs, need_cue, need_item
from gateway.report.categories import CATEGORY_SET, category_hits
from gateway.report.model import EXTRACTOR_VERSION, Evidence, Incident, Need, Price, StationExtract
from gateway.report.numbers_id import parse_number
from gateway.report.quantities import Count, counts, numbers, price_trouble, prices
from gateway.report.tokenize import clean_word
from gateway.report.tokens import FUZZY_MIN_RATIO, Doc, Hit, PhraseSet

__all__ = ["EXTRACTOR_VERSION", "Evidence", "Incident", "Need", "Price", "StationExtract", "extract",
           "extract_transcript"]

STATUS_SET = PhraseSet(lx.STATUS)
COUNT_SET = PhraseSet(lx.COUNT_NOUNS)
NEED_SET = PhraseSet(lx.NEED_TRIGGERS)
NEED_TRIGGER_WORDS = frozenset(t for t in lx.NEED_TRIGGERS if " " not in t)
PLACE_SET = PhraseSet(lx.PLACE_TRIGGERS)
_VERB_LIKE = re.compile(r"^(me|di|ter|ber)[a-z]{3,}$|^[a-z]{3,}(kan|nya)$")


@dataclass
class _Anchor:
    """One incident mention, with the places attached to it."""

    category: str
    start: int
    end: int
    places: list[tuple[str, int, int, float | None]] = field(default_factory=list)  # name, tokens, match


# --- status ---------------------------------------------------------------------------------

def _advisory(norm: str) -> bool:
    """An advice word, also glued to the word before it as recognisers do ("minatetap")."""
    return norm in lx.ADVISORY or any(norm.endswith(a) for a in lx.ADVISORY if len(a) >= 5)


def _in_place_name(doc: Doc, i: int) -> bool:
    """Whether token ``i`` stands where a place's name does: within PLACE_MAX_WORDS after "desa",
    "dusun", ... in the same clause ("di Desa Lumban Siagian Julu": "siagian" is no "siaga")."""
    for j in range(i - 1, max(-1, i - 1 - lx.PLACE_MAX_WORDS), -1):
        if doc.toks[j].clause_end:
            return False
        if doc.norm(j) in lx.PLACE_TRIGGERS:
            return True
    return False


def _status(doc: Doc) -> tuple[str | None, Evidence | None]:
    hits = []
    for h in doc.denied(doc.find(STATUS_SET)):
        if h.label != "aman" and any(_advisory(doc.norm(j)) and not doc.breaks_after(j)
                                     for j in range(max(0, h.start - 3), h.start)):
            continue
        if not h.exact and _in_place_name(doc, h.start):
            continue
        hits.append(h)
    if not hits:
        return None, None
    best = max(lx.LEVELS.index(h.label) for h in hits)
    first = next(k for k, h in enumerate(hits) if lx.LEVELS.index(h.label) == best)
    a, b = hits[first].start, hits[first].end
    for h in hits[first + 1:]:
        if h.start != b or h.label != hits[first].label or doc.toks[b - 1].clause_end:
            break
        b = h.end
    if doc.norm(a - 1) in lx.STATUS_LEAD and not doc.toks[a - 1].clause_end:
        a -= 1
    return lx.LEVELS[best], doc.evidence(a, b)


# --- places and incidents -------------------------------------------------------------------

def _gazetteer_place(doc: Doc, start: int, places: Places, head: str = "") -> tuple[str, int, float] | None:
    """The gazetteer name the 1-3 words from token ``start`` are (the best, then longest match),
    where those words end, and the match score. Words the lexicon knows may be part of it when the
    gazetteer says so ("hutan tinggi": Hutatinggi); a longer match must score at least as well.
    ``head``: letters of the name the recogniser glued onto the word before ``start`` ("dibesasi
    langkitan": "si"); the name is then those letters and the words after them."""
    best: tuple[str, int, float] | None = None
    heard = head
    if head and (found := places.match(head)) is not None:
        best = (found[0], start, found[1])
    # a cue with letters glued on that ends its clause holds the whole name
    stop = start if head and doc.toks[start - 1].clause_end else start + lx.PLACE_MAX_WORDS - bool(head)
    for j in range(start, min(doc.n, stop)):
        t = doc.toks[j]
        if not t.norm.isalpha():
            break
        heard += t.norm
        found = places.match(heard)
        if found is not None and (best is None or found[1] >= best[2]):
            best = (found[0], j + 1, found[1])
        if t.clause_end:
            break
    return best


#: "desa" as the recogniser writes it after "di" on radio audio ("di mesa", "dibesa", "divesa",
#: "vivesa", "pimesa"): one consonant off, perhaps with a sound after it ("di besah", "dibesar"),
#: and "di" itself one consonant off when glued on. The place name's first letters may be glued on
#: too ("dibesasi langkitan": Silangkitang; "vesapansur napitu": Pansur Napitu; group ``head``).
#: With correction on, the letters and words after it are a place only if the gazetteer knows them.
_MISHEARD_DESA = re.compile(r"^(?P<di>[bdjpv]i)?[bdmnptv]esa(?:[hr](?![aeiou]))?(?P<head>[a-z]*)$")


def _misheard_desa(doc: Doc) -> list[tuple[Hit, str]]:
    """Misheard "desa" cues, each with the letters of the name glued onto it ("" for none)."""
    out = []
    for i, t in enumerate(doc.toks):
        m = _MISHEARD_DESA.match(t.norm)
        if t.norm == "desa" or m is None or (t.clause_end and not m["head"]):
            continue
        if m["di"] or (i > 0 and doc.norm(i - 1) == "di" and not doc.toks[i - 1].clause_end):
            out.append((Hit(i, i + 1, "desa", t.norm, True), m["head"]))
    return out


def _places(doc: Doc, places: Places) -> list[tuple[str, int, int, float | None]]:
    out: list[tuple[str, int, int, float | None]] = []
    for h, head in _misheard_desa(doc) if places else ():
        if (known := _gazetteer_place(doc, h.end, places, head)) is not None:
            out.append((known[0], h.start, known[1], known[2]))
    for h in doc.find(PLACE_SET, fuzzy=False):
        if doc.toks[h.end - 1].clause_end:
            continue
        if places and (known := _gazetteer_place(doc, h.end, places)) is not None:
            out.append((known[0], h.start, known[1], known[2]))
            continue
        names: list[int] = []
        j, first_cap = h.end, False
        while j < doc.n and len({doc.toks[k].word for k in names}) < lx.PLACE_MAX_WORDS:
            t = doc.toks[j]
            cap = t.raw[:1].isupper()
            if (not t.norm.isalpha() or len(t.norm) < 2 or t.norm in lx.NOT_NAMES or _VERB_LIKE.match(t.norm)
                    or parse_number([t.norm], 0) is not None):
                break
            if names and first_cap and doc.cased and not cap:
                break
            if not names:
                first_cap = cap
            names.append(j)
            j += 1
            if t.clause_end:
                break
        if names:  # kept as heard: unchecked without a gazetteer, unknown to the one there is
            raws = dict.fromkeys(clean_word(doc.words[doc.toks[k].word].text) for k in names)
            out.append((" ".join(w[:1].upper() + w[1:] for w in raws), h.start, j,
                        PLACE_UNKNOWN_MATCH if places else None))
    return out


def _nearest(anchors: list[_Anchor], pos: int, sent: list[int]) -> _Anchor:
    """The incident a place or count at ``pos`` belongs to: the nearest before it in its sentence,
    else the nearest after it in its sentence, else the nearest before it, else the first."""
    same = [a for a in anchors if sent[a.start] == sent[pos]]
    pool = same or anchors
    before = [a for a in pool if a.start <= pos]
    if before:
        return max(before, key=lambda a: a.start)
    return min(pool, key=lambda a: a.start)


def _incidents(doc: Doc, counts: list[Count], nouns: list[Hit],
               places: Places) -> list[tuple[Incident, int]]:
    hits = category_hits(doc)
    anchors = [_Anchor(h.label, h.start, h.end) for h in hits]
    named = {a.category for a in anchors}
    counted = {c.at for c in counts}  # a bare "mati" counts only in "ekor": then it is livestock
    for noun in nouns:
        cat = lx.IMPLIED_CATEGORY.get(noun.label)
        if cat and cat not in named and (noun.phrase != "mati" or noun.start in counted):
            anchors.append(_Anchor(cat, noun.start, noun.end))
            named.add(cat)
    if counts and not anchors:
        anchors.append(_Anchor("lainnya", counts[0].start, counts[0].end))
    if not anchors:
        return []
    anchors.sort(key=lambda a: a.start)
    for found_place in _places(doc, places):
        _nearest(anchors, found_place[1], doc.sent).places.append(found_place)
    merged: list[_Anchor] = []
    owner: dict[int, _Anchor] = {}
    for a in anchors:
        names = {p[0] for p in a.places}
        into = next((m for m in merged if m.category == a.category
                     and (not names or not m.places or names <= {p[0] for p in m.places})), None)
        if into is None:
            merged.append(a)
            into = a
        else:
            into.places += [p for p in a.places if p[0] not in {q[0] for q in into.places}]
        owner[id(a)] = into
    found: dict[int, dict[str, tuple[int, int, int]]] = {id(m): {} for m in merged}
    for c in counts:
        cat = lx.IMPLIED_CATEGORY.get(c.key)
        pool = [a for a in anchors if a.category == cat] or anchors
        target = owner[id(_nearest(pool, c.at, doc.sent))]
        found[id(target)].setdefault(c.key, (c.value, c.start, c.end))
    out = []
    for m in merged:
        got = found[id(m)]
        place = ", ".join(p[0] for p in m.places) or None
        place_ev = None
        if m.places:  # match: the gazetteer's score (None for a name kept as heard)
            scores = [p[3] for p in m.places]
            known = [s for s in scores if s is not None]
            place_ev = dataclasses.replace(doc.evidence(m.places[0][1], m.places[-1][2]),
                                           match=min(known) if len(known) == len(scores) else None)
        values = {k: v[0] for k, v in got.items()}
        evidence = {k: doc.evidence(v[1], v[2]) for k, v in got.items()}
        incident = Incident(m.category, place, values, doc.evidence(m.start, m.end), place_ev, evidence)
        out.append((incident, m.start))
    return out


# --- needs ------------------------------------------------------------------------------------

def _is_bantuan(word: str) -> bool:
    """"bantuan" (help), also as recognisers hear it ("pantuan")."""
    return fuzz.ratio(word, "bantuan") >= FUZZY_MIN_RATIO


def _is_leading(word: str) -> bool:
    """A word dropped from the ends of a need item: "bantuan", "berupa", "segera"..."""
    return word in lx.NEED_LEADING or _is_bantuan(word)


def _without_sending(words: list[str]) -> list[str]:
    """An item without the verb of sending before it: "dikirimkan terpal", "di kirimkan terpal"."""
    while words and (words[0] in lx.NEED_SENDING
                     or (words[0] == "di" and len(words) > 1 and "di" + words[1] in lx.NEED_SENDING)):
        words = words[2:] if words[0] == "di" else words[1:]
    return words


def _need_openings(doc: Doc) -> list[tuple[Hit, bool]]:
    """Where need phrases open, in order: the trigger words, and with ``lexicon.correct`` the cues
    heard by sound (:func:`gateway.lexicon.correct.need_cue`); (hit, by sound)."""
    hits = list(doc.find(NEED_SET))  # a copy: Doc keeps the found list
    by_sound: set[int] = set()
    if doc.correct:
        taken = {j for h in hits for j in range(h.start, h.end)}
        for i in range(doc.n):
            score = None if i in taken else need_cue(doc.norm(i), NEED_TRIGGER_WORDS, lx.NOT_NAMES)
            if score is not None:
                hits.append(Hit(i, i + 1, "need", doc.norm(i), False, score))
                doc.mark(i, i + 1, score)
                by_sound.add(i)
        hits.sort(key=lambda h: h.start)
    return [(h, h.start in by_sound) for h in doc.denied(hits)]


def _needs(doc: Doc, stops: set[int]) -> list[tuple[Need, int]]:
    out: list[tuple[Need, int]] = []
    end_of_last = -1
    for h, by_sound in _need_openings(doc):
        if h.start < end_of_last or doc.norm(h.end) in lx.NEED_SKIP or doc.breaks_after(h.end - 1):
            continue
        e = h.end
        while e < doc.n and e - h.start < lx.NEED_MAX_TOKENS:
            if doc.norm(e) in lx.NEED_STOP or e in stops:
                break
            e += 1
            if doc.breaks_after(e - 1):
                break
        end_of_last = e
        items: list[list[str]] = [[]]
        for j in range(h.end, e):
            t = doc.toks[j]
            if t.norm in lx.NEED_SEPARATORS:
                items.append([])
                continue
            if t.norm:
                items[-1].append(t.norm)
            if t.clause_end:
                items.append([])
        read: dict[str, float | None] = {}
        for words in items:
            words = _without_sending(words)
            cut = next((k for k, w in enumerate(words) if w in lx.NEED_ITEM_END), len(words))
            words = words[:cut]
            while words and _is_leading(words[0]):
                words = words[1:]
            while words and _is_leading(words[-1]):
                words = words[:-1]
            if not words:
                continue
            item, score = need_item(" ".join(words[:lx.NEED_ITEM_MAX_WORDS]), doc.correct)
            if doc.correct and score == lx.NEED_UNKNOWN_MATCH:
                # not a known item as a whole: the known items in it, by sound ("tuan selimut")
                found = heard_needs(words)
                for known, by_ear in found:
                    read.setdefault(known, by_ear)
                if found or by_sound:
                    continue  # a cue heard by sound gives known items only
            read.setdefault(item, score)
        if not read and not by_sound and any(_is_bantuan(doc.norm(j)) for j in range(h.start, e)):
            read = dict([need_item("bantuan", doc.correct)])  # "mohon bantuan, ganti": help, unspecified
        if not read:
            continue
        ev = doc.evidence(h.start, e)
        for item, score in read.items():
            match = ev.match if score is None else score if ev.match is None else min(ev.match, score)
            out.append((Need(item, ev.text, dataclasses.replace(ev, match=match)), h.start))
    return out


# --- entry points ---------------------------------------------------------------------------

def extract(text: str = "", words: Iterable[Any] | None = None, correct: bool = False,
            places: Places | None = None) -> StationExtract:
    """Read one transmission. ``words``: ``Word`` objects or ``{word, start, end, conf}`` dicts (as
    stored); when given they are what is read (``text`` is then only a fallback). ``correct``
    (``lexicon.correct``, see :mod:`gateway.lexicon.correct`): words matched by sound too, and place
    names corrected against ``places`` (:func:`gateway.lexicon.correct.extract_options`)."""
    doc = Doc(text, words, correct)
    places = places if correct and places is not None else Places()
    if not doc.toks:
        return StationExtract(None, None)
    status, status_ev = _status(doc)
    nouns = doc.denied(doc.find(COUNT_SET))
    nums = numbers(doc)
    bound, used = counts(doc, nums, nouns)
    stops = {h.start for h in (*doc.find(CATEGORY_SET), *nouns, *doc.find(STATUS_SET))}
    priced = prices(doc, nums, used, stops)
    incidents = _incidents(doc, bound, nouns, places)
    trouble = price_trouble(doc)
    if priced or trouble:
        mentions = [(p.evidence, at) for p, at in priced] + ([trouble] if trouble else [])
        first_ev, first_at = min(mentions, key=lambda x: x[1])
        by_key = {f"harga_{p.commodity.replace(' ', '_')}_rp_per_kg": p for p, _ in priced}
        harga = Incident("harga", None, {k: p.rupiah_per_kg for k, p in by_key.items()}, first_ev, None,
                         {k: p.evidence for k, p in by_key.items()})
        incidents.append((harga, first_at))
    incidents.sort(key=lambda x: x[1])
    needs = _needs(doc, stops)
    return StationExtract(status, status_ev, tuple(i for i, _ in incidents), tuple(p for p, _ in priced),
                          tuple(n for n, _ in needs))


def extract_transcript(transcript: Transcript) -> StationExtract:
    """:func:`extract` over a recogniser's :class:`~gateway.asr.base.Transcript`."""
    return extract(transcript.text, transcript.words)

