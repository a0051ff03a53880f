"""Where a transcript names an incident: its category phrases (:data:`CATEGORY_SET`, also misheard),
a phrase said with a word inside it ("pohon besar tumbang"), and damaged infrastructure (a road or
bridge noun, then a damage word). Used by :mod:`gateway.report.extract`."""

from __future__ import annotations

from gateway.lexicon import report as lx
from gateway.report.tokens import Doc, Hit, PhraseSet

CATEGORY_SET = PhraseSet(lx.CATEGORIES)
INFRA_SET = PhraseSet(lx.INFRA_NOUNS)
DAMAGE_SET = PhraseSet(lx.INFRA_DAMAGE)


def category_hits(doc: Doc) -> list[Hit]:
    """Every incident phrase in ``doc`` not negated, then the damaged infrastructure."""
    whole = doc.find(CATEGORY_SET)
    taken = {j for h in whole for j in range(h.start, h.end)}
    split = [h for h in split_categories(doc) if not taken & set(range(h.start, h.end))]
    return doc.denied(whole + split) + infra(doc)


def split_categories(doc: Doc) -> list[Hit]:
    """Incidents said with a word inside the phrase ("pohon besar tumbang"), spelled exactly
    (:data:`~gateway.lexicon.report.SPLIT_CATEGORIES`); the phrase said whole is CATEGORY_SET's."""
    out = []
    for i in range(doc.n):
        if (split := lx.SPLIT_CATEGORIES.get(doc.norm(i))) is None or doc.toks[i].clause_end:
            continue
        ends, category = split
        for j in range(i + 1, min(doc.n, i + 2 + lx.SPLIT_GAP)):
            if doc.norm(j) in ends:
                if j > i + 1:  # "pohon tumbang" whole is CATEGORY_SET's
                    out.append(Hit(i, j + 1, category, f"{doc.norm(i)} … {doc.norm(j)}", True))
                break
            if doc.toks[j].clause_end or doc.norm(j) in lx.NEGATORS:
                break  # "pohon tidak tumbang": no incident
    return out


def infra(doc: Doc) -> list[Hit]:
    """Road/bridge nouns followed, in the same clause and within a few words, by a damage word."""
    damage = doc.denied(doc.find(DAMAGE_SET))
    out = []
    for noun in doc.find(INFRA_SET):
        for d in damage:
            between = range(noun.end, d.start)
            if not 0 <= d.start - noun.end <= lx.INFRA_GAP:
                continue
            if any(doc.toks[j].clause_end for j in range(noun.start, d.start)):
                continue
            if any(doc.norm(j) in ("rumah", "bangunan") or doc.norm(j)[:1].isdigit() for j in between):
                continue  # "jalan ... dua rumah rusak": the houses are damaged, not the road
            out.append(Hit(noun.start, d.end, "infrastruktur", noun.phrase, True))
            break
    return out
