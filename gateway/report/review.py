"""How sure the report is of each value, and what an operator should check ("perlu diperiksa").

Every report value (a station's situation, each incident, price and need) gets

- ``confidence``: the recogniser's confidence in the words it was read from
  (``Evidence.confidence``) times the matcher's score for reading those words as this value
  (``Evidence.match``: 1.0 an exact word, lower a corrected mishearing, None when no matcher was
  involved); one of them alone when the other is None; None when neither is known (a transcript
  typed by an operator). An incident's is the lowest of its category, place and count evidence.
- ``verified``: whether an operator verified the transcript it came from. The filed report marks
  every value that is not (:func:`mark`).

The review queue lists, in the order the report depends on them: transmissions that need listening
(speech with no usable words: anything may be in them), transmissions with no station or a station
below ``report.review_below`` (the recogniser's second hearing of a name, and calls continuing it:
they decide who is on the missing list), then unverified values below ``report.review_below`` and unverified
incidents for which no place was read (however sure the incident word: the office needs to know
where): situations and incidents first (what the bupati acts on), then prices, then needs; within
each, oldest first.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import select

from gateway.identification.checkins import on_channel
from gateway.report.document import Report, ReviewItem
from gateway.store.db import Database
from gateway.store.models import Transmission
from gateway.timeutil import day_bounds

#: Default of ``report.review_below``: values with a combined confidence under this are queued.
REVIEW_BELOW = 0.6
#: Shown after a value no operator verified, in every format, and explained under the tables.
UNVERIFIED_MARK = "*"
UNVERIFIED_NOTE = "* belum diverifikasi operator (hasil pengenalan suara, belum didengar ulang)."
#: Appended to an incident queued because no place was read for it.
NO_PLACE = " (tempat tidak terbaca)"
REVIEW_RANK = {"listen": 0, "unknown_station": 1, "station": 1, "situation": 2, "incident": 2, "price": 3,
               "need": 4}
REVIEW_TEXT = {
    "listen": "perlu didengar: ada suara, tetapi tidak ada kata yang dapat dibaca",
    "unknown_station": "stasiun belum diketahui",
    "station": "stasiun kurang yakin: periksa siapa pemanggilnya",
    "situation": "status situasi kurang yakin",
    "incident": "kejadian kurang yakin",
    "price": "harga kurang yakin",
    "need": "kebutuhan kurang yakin",
}


def combine(ev: Any) -> float | None:
    """Recogniser confidence × matcher score of one Evidence (object or dict); see the docstring."""
    if ev is None:
        return None
    get = ev.get if isinstance(ev, dict) else lambda k, d=None: getattr(ev, k, d)
    parts = [float(x) for x in (get("confidence"), get("match")) if x is not None]
    if not parts:
        return None
    out = 1.0
    for x in parts:
        out *= min(max(x, 0.0), 1.0)
    return round(out, 4)


def lowest(*values: float | None) -> float | None:
    known = [v for v in values if v is not None]
    return min(known) if known else None


def incident_confidence(inc: Any) -> float | None:
    """An incident's (the extractor's or the report's): the lowest of its evidence's."""
    return lowest(combine(inc.evidence), combine(inc.place_evidence),
                  *(combine(e) for e in (inc.count_evidence or {}).values()))


def mark(item: Any, text: str) -> str:
    """``text`` with the unverified mark when the value says it was not verified (older reports,
    which carry no ``verified``, are left unmarked)."""
    return text + UNVERIFIED_MARK if item.verified is False else text


def review_queue(db: Database, report: Report, day: date, tz: Any,
                 below: float = REVIEW_BELOW, channel: str = "") -> tuple[ReviewItem, ...]:
    """The day's "perlu diperiksa" list (see the module docstring), from a built report."""
    lo, hi = day_bounds(day, tz)
    items: list[ReviewItem] = []
    with db.read() as s:
        rows = s.scalars(select(Transmission).where(
            Transmission.started_at >= lo, Transmission.started_at < hi, Transmission.status == "complete",
            Transmission.kerchunk.is_(False), Transmission.stuck.is_(False),
            Transmission.needs_listening.is_(True) | Transmission.station.is_(None)
            | (Transmission.identity_confidence < below), *on_channel(channel))
            .order_by(Transmission.started_at, Transmission.id)).all()
        for tx in rows:
            kind = "listen" if tx.needs_listening else "unknown_station" if tx.station is None else "station"
            items.append(ReviewItem(kind, tx.id, tx.started_at.astimezone(tz).isoformat(timespec="seconds"),
                                    tx.station, tx.identity_reason or "", None, REVIEW_TEXT[kind]))
    starts = {t.transmission_id: t.start or "" for st in report.stations for t in st.transmissions}

    def low(kind: str, item: Any, station: str, what: str, incomplete: bool = False) -> None:
        conf = item.confidence
        if item.verified or ((conf is None or conf >= below) and not incomplete):
            return
        tx_id = int(item.transmission_id or 0)
        items.append(ReviewItem(kind, tx_id, starts.get(tx_id, ""), station, what, conf, REVIEW_TEXT[kind]))

    for st in report.stations:
        name = st.station
        if st.situation_item:
            low("situation", st.situation_item, name, st.situation_label or "")
        for inc in st.incidents:
            # an incident without a place is queued however sure its word was: where did it happen?
            no_place = not inc.place and inc.category != "harga"
            low("incident", inc, name, (inc.label or inc.category or "") + (NO_PLACE if no_place else ""),
                incomplete=no_place)
        for p in st.prices:
            low("price", p, name, f"{p.commodity} Rp {p.rupiah_per_kg}/kg")
        for n in st.needs:
            low("need", n, name, n.item or "")
    items.sort(key=lambda i: (REVIEW_RANK[i.kind], i.start, i.transmission_id))
    return tuple(items)


def unattributed_calls(review: Iterable[Any]) -> int:
    """Calls on the review queue (:class:`ReviewItem` or its dict) with no station: while there are
    any, the missing list is not sure (any kecamatan on it may have made one of them)."""
    def get(item: Any, key: str) -> Any:
        return item.get(key) if isinstance(item, dict) else getattr(item, key)

    return len({get(r, "transmission_id") for r in review
                if get(r, "station") is None and get(r, "kind") in ("unknown_station", "listen")})


def percent(conf: float | None) -> str:
    return "-" if conf is None else f"{conf * 100:.0f} %"
