"""Numbers in a transcript and what they count: casualties, houses, evacuees, livestock, prices.

A count is a number right before its noun ("tiga orang luka ringan", "dua belas KK atau empat puluh
lima jiwa mengungsi") or right after it past "sebanyak"-like words ("rumah terendam sebanyak tujuh
unit"), with a unit that fits the noun; a price is a number shortly after a commodity, per kilogram
or with no unit. Each number is used once, counts first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeGuard

from rapidfuzz.distance import Levenshtein

from gateway.lexicon import report as lx
from gateway.lexicon.correct import GLUED_SCALES, held_number_words, misheard_unit, number_word, number_words
from gateway.report.model import Evidence, Price
from gateway.report.numbers_id import SCALES, SE_SCALES, UNITS, Number, parse_number, scan_numbers
from gateway.report.tokens import Doc, Hit, PhraseSet

UNIT_SET = PhraseSet(lx.UNITS_AFTER)
COMMODITY_SET = PhraseSet(lx.COMMODITIES)
NOT_NUMBER_SET = PhraseSet(lx.NOT_NUMBERS)
HOUSE_SET = PhraseSet(lx.HOUSE_WORDS)
#: What may follow a count or a price: a misheard number word right before one of these is read.
NUMBER_FOLLOWERS = frozenset({p.split()[0] for p in (*lx.UNITS_AFTER, *lx.COUNT_NOUNS, *lx.HOUSE_WORDS)}
                             | {"rupiah", "ribu", "ratus", "puluh", "belas"})


@dataclass
class Num:
    """A number in the transcript (token range), with the unit said after it."""

    start: int
    end: int
    value: Number
    unit: str  # unit class after the number ("person", "house", "kk"...) or "none"
    unit_end: int


@dataclass
class Count:
    """A number bound to a count noun."""

    key: str
    value: int
    start: int  # evidence token range
    end: int
    at: int  # where the noun is, for attaching to an incident


# --- numbers and counts -----------------------------------------------------------------------

def numbers(doc: Doc) -> list[Num]:
    """Every number, clause by clause (a number never spans a comma), except times, dates and
    codes ("pukul enam", "delapan enam")."""
    masked = {i for h in doc.find(NOT_NUMBER_SET, fuzzy=False) for i in range(h.start, h.end)}
    units = {h.start: h for h in doc.find(UNIT_SET)}
    out: list[Num] = []
    seg = 0
    for i, t in enumerate(doc.toks):
        if not (t.clause_end or i == doc.n - 1):
            continue
        norms = ["" if k in masked else doc.toks[k].norm for k in range(seg, i + 1)]
        if doc.correct:  # number words heard a few letters off ("tujur pelas", "semelas ribu")
            for k, (word, score) in number_words(norms, lx.VOCAB, NUMBER_FOLLOWERS).items():
                norms[k] = word
                doc.mark(seg + k, seg + k + 1, score)
        for a, b, value in scan_numbers(norms):
            if doc.correct and a > 0 and _lost_head(norms[a - 1], norms[a - 2] if a > 1 else ""):
                continue  # "tempat puru tiga ribu": the number's head was lost, 3000 is not what was said
            a, b = a + seg, b + seg
            if doc.norm(a - 1) in lx.NUMBER_CONTEXT and not doc.toks[a - 1].clause_end:
                continue
            unit = units.get(b) if not doc.toks[b - 1].clause_end else None
            if unit is None and doc.correct and b < doc.n and not doc.toks[b - 1].clause_end:
                unit = _misheard_unit(doc, b)
            out.append(Num(a, b, value, unit.label if unit else "none", unit.end if unit else b))
        seg = i + 1
    return out


def _misheard_unit(doc: Doc, i: int) -> Hit | None:
    """The unit word at token ``i`` heard one letter off ("tiga belas rumak", "enam belas ekon"),
    marked with its similarity so that an operator checks the count it gives."""
    found = misheard_unit(doc.norm(i), lx.GLUED_UNITS, lx.NOT_NAMES)
    if found is None:
        return None
    unit, score = found
    doc.mark(i, i + 1, score)
    return Hit(i, i + 1, lx.UNITS_AFTER[unit], unit, False, score)


#: Longer words before a number are names or other words, not a misheard scale word.
LOST_HEAD_MAX_LETTERS = 6


def _lost_head(word: str, before: str = "") -> bool:
    """Whether the word right before a number (``word``, and the one before it) shows the number
    began earlier and was lost: a scale word belonging to no number ("ribu lima ratus" after a
    garbled head), a short word misheard from one ("puru tiga ribu": puluh), or a word that holds a
    number word run into it, right before or one word back ("ngempat kurut satu ribu": empat
    puluh satu ribu, not 1000)."""
    if word in GLUED_SCALES:
        return True
    if any(w not in lx.VOCAB and held_number_words(w) for w in (word, before) if w):
        return True
    if word in lx.VOCAB or len(word) > LOST_HEAD_MAX_LETTERS:  # "Hutabulu tiga rumah": a place
        return False
    return (number_word(word, extra=1) or ("",))[0] in GLUED_SCALES


def _house_before(doc: Doc, start: int, houses: set[int]) -> bool:
    """A house word ends right before ``start``, perhaps past "warga"/"yang" ("rumah warga yang terendam")."""
    j = start - 1
    while j >= 0 and start - j <= 3 and not doc.toks[j].clause_end:
        if j in houses:
            return True
        if doc.norm(j) not in ("warga", "penduduk", "yang", "milik"):
            return False
        j -= 1
    return False


def _fits(noun: Hit, num: Num, house_ok: bool) -> str | None:
    """The count key when ``num`` can count ``noun``; None when its unit does not fit."""
    if not isinstance(num.value, int) or num.value > 100_000:
        return None
    kind = lx.KEY_KIND[noun.label]
    if kind == "house":
        return noun.label if num.unit in lx.KEY_UNITS["house"] or (num.unit == "none" and house_ok) else None
    if kind == "animal" and noun.phrase == "mati" and num.unit != "animal":
        return None
    if num.unit not in lx.KEY_UNITS[kind]:
        return None
    if kind == "mengungsi":
        return "mengungsi_kk" if num.unit == "kk" else "mengungsi_jiwa"
    return noun.label


def counts(doc: Doc, nums: list[Num], nouns: list[Hit]) -> tuple[list[Count], set[int]]:
    """Numbers bound to count nouns; also the indexes of the numbers used."""
    houses = {h.end - 1 for h in doc.find(HOUSE_SET, fuzzy=False)}
    noun_at = {h.start: h for h in nouns}
    num_at = {x.start: k for k, x in enumerate(nums)}
    used: set[int] = set()
    bound: dict[int, list[Count]] = {}

    def bind(k: int, noun: Hit, key: str, a: int, b: int) -> None:
        used.add(k)
        bound.setdefault(noun.start, []).append(Count(key, int(nums[k].value), a, b, noun.start))

    def partner(k: int, noun: Hit, forward: bool) -> None:
        """mengungsi: the KK number next to the jiwa one, or the other way round."""
        have = {c.key for c in bound[noun.start]}
        x = nums[k]
        if forward:
            p = x.unit_end
            while doc.norm(p) in lx.GROUP_JOINERS and p - x.unit_end < 2:
                p += 1
            cand = num_at.get(p)
        else:
            p = x.start - 1
            while doc.norm(p) in lx.GROUP_JOINERS and x.start - p <= 2:
                p -= 1
            cand = next((j for j, y in enumerate(nums) if y.unit_end == p + 1), None)
        if cand is not None and cand not in used and doc.sent[nums[cand].start] == doc.sent[x.start]:
            key = _fits(noun, nums[cand], False)
            if key and key not in have:
                y = nums[cand]
                bind(cand, noun, key, min(y.start, noun.start), max(y.unit_end, noun.end))

    for k, x in enumerate(nums):  # number before its noun
        p, steps = x.end, 0
        while p < doc.n and steps <= 3 and not doc.toks[p - 1].clause_end:
            noun = noun_at.get(p)
            house_ok = any(j in houses for j in range(x.end, p))  # "tujuh unit rumah terendam"
            if noun and noun.start not in bound and (key := _fits(noun, x, house_ok)):
                bind(k, noun, key, x.start, noun.end)
                if key.startswith("mengungsi"):
                    partner(k, noun, forward=False)
                break
            if p < x.unit_end or doc.norm(p) in lx.BEFORE_FILLERS:
                p, steps = p + 1, steps + 1
                continue
            break
    for noun in nouns:  # number after its noun
        if noun.start in bound:
            continue
        p, steps = noun.end, 0
        while p < doc.n and steps <= 3 and not doc.breaks_after(p - 1):
            at = num_at.get(p)
            if at is not None:
                k = at
                key = _fits(noun, nums[k], _house_before(doc, noun.start, houses)) if k not in used else None
                if key:
                    bind(k, noun, key, noun.start, nums[k].unit_end)
                    if key.startswith("mengungsi"):
                        partner(k, noun, forward=True)
                break
            if doc.norm(p) not in lx.AFTER_FILLERS:
                break
            p, steps = p + 1, steps + 1
    return [c for start in sorted(bound) for c in bound[start]], used


# --- prices ---------------------------------------------------------------------------------

def prices(doc: Doc, nums: list[Num], used: set[int], stops: set[int]) -> list[tuple[Price, int]]:
    """Commodity prices per kg, with where each mention starts; ``used`` numbers are skipped (and
    the ones read here added), ``stops`` end the search for a commodity's number."""
    hits = doc.find(COMMODITY_SET)
    if doc.correct:
        hits = sorted([*hits, *_after_price_word(doc, hits)], key=lambda h: h.start)
    num_at = {x.start: k for k, x in enumerate(nums)}
    seen: set[str] = set()
    out: list[tuple[Price, int]] = []
    for ci, c in enumerate(hits):
        limit = min(hits[ci + 1].start if ci + 1 < len(hits) else doc.n, c.end + lx.PRICE_WINDOW)
        k, p = None, c.end
        while p < limit and not doc.breaks_after(p - 1) and p not in stops:
            if p in num_at:
                k = num_at[p]
                break
            p += 1
        if k is not None and not _is_price(nums[k].value):
            k = None  # "sembilan belas rindu rupiah": 19 is no price; the misheard "ribu" is read below
        if k is None and c.label not in seen:
            repaired = _repaired_price(doc, c.end, limit)
            if repaired is not None:
                value, a, e = repaired
                seen.add(c.label)
                start = c.start - 1 if doc.norm(c.start - 1) in lx.PRICE_WORDS else c.start
                out.append((Price(c.label, value, doc.evidence(start, e)), start))
            continue
        if k is None or k in used or c.label in seen:
            continue
        x = nums[k]
        q = x.start - 1
        while q >= c.end and doc.norm(q) in lx.PRICE_CURRENCY:
            q -= 1
        if q >= c.end and doc.norm(q) in lx.PRICE_DELTA and not doc.toks[q].clause_end:
            continue  # "naik lima ribu": a change, not the price
        e = x.end
        if doc.norm(e) in lx.PRICE_CURRENCY and not doc.toks[e - 1].clause_end:
            e += 1
        unit = doc.norm(e + 1) if doc.norm(e) == "per" else doc.norm(e)
        if not doc.toks[e - 1].clause_end and unit:
            if unit in lx.PRICE_OTHER_UNITS or x.unit not in ("none", "item"):
                continue
            if unit in lx.PRICE_KG:
                e += 2 if doc.norm(e) == "per" else 1
        assert isinstance(x.value, int)  # _is_price, checked where k was found
        used.add(k)
        seen.add(c.label)
        a = c.start - 1 if doc.norm(c.start - 1) in lx.PRICE_WORDS else c.start
        out.append((Price(c.label, x.value, doc.evidence(a, e)), a))
    return out


_COMMODITY_LETTERS = [(p.replace(" ", ""), label) for p, label in lx.COMMODITIES.items()]


def _after_price_word(doc: Doc, hits: list[Hit]) -> list[Hit]:
    """``lexicon.correct``: the one or two words right after "harga" read as the commodity they are
    nearest in spelling to ("harga chamai merat" is cabai merah), where no listed name was found:
    only when the nearest is at least ``COMMODITY_MIN_SIMILARITY`` and beats every other commodity
    by ``COMMODITY_MARGIN`` (a longer name that contains it and is near enough too is preferred).
    The hit scores ``COMMODITY_FACTOR`` times the similarity, so an operator checks it; a price is
    reported from it only if a number stands after it."""
    starts = {h.start for h in hits}
    out: list[Hit] = []
    for i, t in enumerate(doc.toks):
        if t.norm not in lx.PRICE_WORDS or t.clause_end or {i + 1, i + 2} & starts:
            continue
        best: list[tuple[float, int, str]] = []
        for m in (1, 2):
            window = doc.toks[i + 1:i + 1 + m]
            if (len(window) < m or any(w.clause_end for w in window[:-1])
                    or not all(w.norm.isalpha() for w in window)
                    or window[0].norm in lx.NOT_COMMODITIES or window[0].norm in lx.VOCAB):
                break
            heard = "".join(w.norm for w in window)
            best += [(Levenshtein.normalized_similarity(heard, letters), m, label)
                     for letters, label in _COMMODITY_LETTERS]
        if not best:
            continue
        best.sort(reverse=True)
        sim, m, label = best[0]
        longer = [b for b in best if b[2] != label and label in b[2] and b[0] >= lx.COMMODITY_MIN_SIMILARITY]
        if longer:  # "camai merasi": cabai merah, not cabai with a word left over
            sim, m, label = longer[0]
        rival = max((s for s, _, other in best if other not in label and label not in other), default=0.0)
        if sim >= lx.COMMODITY_MIN_SIMILARITY and sim - rival >= lx.COMMODITY_MARGIN:
            score = round(lx.COMMODITY_FACTOR * sim, 3)
            out.append(Hit(i + 1, i + 1 + m, label, label, False, score))
            doc.mark(i + 1, i + 1 + m, score)
    return out


def _is_price(value: Number) -> TypeGuard[int]:
    """A whole number of rupiah a kilogram could cost."""
    return isinstance(value, int) and lx.PRICE_MIN <= value <= lx.PRICE_MAX


_NUMBER_WORDS = tuple({*UNITS, *SCALES, *SE_SCALES, "belas", "puluh", "ratus", "sebelas", "sepuluh",
                        "seratus"})


def _repaired_price(doc: Doc, start: int, limit: int) -> tuple[int, int, int] | None:
    """A price whose number words the recogniser misheard, read only where a price must stand:
    between the commodity and "rupiah" / "per kilo" ("beras semelas rindu rupiah per kilogram" →
    sebelas ribu). Each word must be a number word or one a few letters off it
    (:func:`gateway.lexicon.correct.number_word`, one letter more than elsewhere) and the whole a
    plausible price; the evidence keeps the words as heard, scored below 1, for an operator to check."""
    end, closers = start, {*lx.PRICE_CURRENCY, "per", *lx.PRICE_KG}
    while end < limit and doc.norm(end) not in closers:
        if doc.breaks_after(end):
            return None
        end += 1
    if end == start or end >= limit or end - start > 4:
        return None
    if doc.norm(end) == "per" and doc.norm(end + 1) not in lx.PRICE_KG:
        return None  # per liter, per butir: not a price per kg
    fixed = []
    for i in range(start, end):
        word = doc.norm(i)
        # where a price must stand, a word may be one letter further off (lexicon.correct)
        best = number_word(word, extra=1)
        if word in _NUMBER_WORDS:
            fixed.append(word)
        elif best is not None:
            fixed.append(best[0])
            doc.mark(i, i + 1, best[1])
        else:
            return None
    parsed = parse_number(fixed, 0)
    if parsed is None or parsed[1] != len(fixed) or not _is_price(parsed[0]):
        return None
    e = end + 1 if doc.norm(end) in lx.PRICE_CURRENCY else end
    if doc.norm(e) == "per" and doc.norm(e + 1) in lx.PRICE_KG:
        e += 2
    return parsed[0], start, e


def price_trouble(doc: Doc) -> tuple[Evidence, int] | None:
    """"harga cabai naik", "kelangkaan gas": a price report without a number."""
    for i, t in enumerate(doc.toks):
        if t.norm in lx.PRICE_WORDS:
            for j in range(i + 1, min(doc.n, i + 6)):
                if doc.norm(j) in lx.PRICE_TROUBLE:
                    return doc.evidence(i, j + 1), i
                if doc.breaks_after(j):
                    break
        elif t.norm == "kelangkaan" or (t.norm == "kenaikan" and doc.norm(i + 1) in lx.PRICE_WORDS):
            return doc.evidence(i, min(doc.n, i + 2)), i
    return None


