"""Indonesian-aware search words: stems, affixed forms, and what a filed report read per transmission.

:func:`stem` takes the common affixes off a word (prefixes di-, ke-, se-, ter-, ber-, per-, me-/pe- with
their nasal forms; suffixes -kan, -an, -i, -nya, -lah, -kah), keeping at least three letters, so that
"terendam", "direndam", "merendam" and "rendaman" all become "rendam". :func:`forms` goes the other
way: the stem and the forms a search should also find in raw transcripts (which are not stemmed:
the FTS index holds the words as heard). :func:`report_terms` lists, for one filed report, the
stems of each incident's category and label, place, each need's item and each station's status,
per transmission (table ``report_terms``, migration 0016).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from gateway.lexicon.words import PREFIXES
from gateway.report.document import Report

_WORD = re.compile(r"\w+", re.UNICODE)
MIN_STEM = 3
SUFFIXES = ("nya", "lah", "kah", "kan", "an", "i")
#: words never stemmed (place names and category keys that only look affixed)
KEEP = frozenset({"banjir", "bantuan", "beras", "bensin", "terpal", "desa", "kecamatan", "selimut",
                  "pangan", "makanan", "mengungsi", "tenda", "pakaian", "siaga", "awas", "aman",
                  "waspada", "jembatan", "jalan", "kebakaran", "kecelakaan", "penyakit", "kamtibmas",
                  "gempa", "longsor", "tanah", "pohon", "tumbang", "angin", "harga", "obat"})


def words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


def _strip_suffix(w: str) -> str:
    for suf in SUFFIXES:
        if w.endswith(suf) and len(w) - len(suf) >= MIN_STEM + 1:
            return w[: -len(suf)]
    return w


def stem(word: str) -> str:
    """The word without its affixes (lower case); words in :data:`KEEP` and short words stay."""
    w = word.casefold()
    if w in KEEP or len(w) <= MIN_STEM + 1 or not w.isalpha():
        return w
    w = _strip_suffix(w)
    for pre, restore in PREFIXES:
        if w.startswith(pre) and len(w) - len(pre) >= MIN_STEM:
            rest = w[len(pre):]
            # ter+rendam is written "terendam": prefer the restored letter when the rest starts
            # with a vowel and a restoration exists
            if rest[0] in "aeiou" and restore[-1]:
                return restore[-1] + rest
            return rest
    return w


def forms(word: str) -> list[str]:
    """The word, its stem and the stem's common affixed forms: what to look for in raw text."""
    w = word.casefold()
    s = stem(w)
    out = [w, s]
    vowel = s[:1] in tuple("aeiou")
    r = s.startswith("r")
    out += [("te" if r else "ter") + s, ("be" if r else "ber") + s, "di" + s, s + "an", s + "kan",
            "di" + s + "kan", s + "nya", "ke" + s + "an"]
    if s[:1] in ("b", "f", "v"):
        out.append("mem" + s)
    elif s[:1] == "p":
        out.append("mem" + s[1:])
    elif s[:1] in ("d", "c", "j", "z"):
        out.append("men" + s)
    elif s[:1] == "t":
        out.append("men" + s[1:])
    elif s[:1] == "s":
        out.append("meny" + s[1:])
    elif s[:1] == "k":
        out.append("meng" + s[1:])
    elif vowel or s[:1] in ("g", "h"):
        out.append("meng" + s)
    else:
        out.append("me" + s)
    seen: dict[str, None] = {}
    for f in out:
        if len(f) >= 2:
            seen.setdefault(f, None)
    return list(seen)


def report_terms(content: Report) -> list[tuple[int, str, str]]:
    """(transmission id, kind, stem) for every value the report ``content`` read, without repeats."""
    out: dict[tuple[int, str, str], None] = {}

    def add(tx_id: int | None, kind: str, text: str | None) -> None:
        if not isinstance(tx_id, int) or not text:
            return
        for w in words(text.replace("_", " ")):
            if len(w) >= 2 and not w.isdigit():
                out.setdefault((tx_id, kind, stem(w)[:64]), None)

    for inc in content.incidents:
        tx = inc.transmission_id
        if isinstance(tx, int) and inc.category:  # the category filter's exact key
            out.setdefault((tx, "category", str(inc.category)[:64]), None)
        add(tx, "incident", inc.category)
        add(tx, "incident", inc.label)
        add(tx, "desa", inc.place)
    for need in content.needs:
        add(need.transmission_id, "need", need.item)
    for st in content.stations:
        add(st.situation_item.transmission_id if st.situation_item else None, "status", st.situation)
    return list(out)


def store_terms(session: Any, day: date, content: Report) -> int:
    """Replace ``day``'s rows in ``report_terms`` by those of ``content`` (in the caller's transaction)."""
    from sqlalchemy import delete

    from gateway.store.models import ReportTerm

    session.execute(delete(ReportTerm).where(ReportTerm.day == day))
    rows = report_terms(content)
    session.add_all(ReportTerm(day=day, transmission_id=t, kind=k, term=term) for t, k, term in rows)
    return len(rows)
