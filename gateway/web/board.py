"""The situation board (Hari ini): every kecamatan by urgency, the report window, who to call, the
call feed and the review queue.

Situations, incidents and needs come from the day's report as it would be drafted now
(:func:`gateway.report.build.build_report`, the same rules as the filed report), check-ins and "last
heard" from :func:`gateway.web.queries.today_view`. The draft is cached per day and per
:func:`gateway.web.queries.change_marker` (it changes whenever something is stored), so a page that
refreshes on every live event builds it once per change, not once per viewer.

The window (see :func:`window_state`): before ``checkins.on_time_until`` a kecamatan without a
report is "belum lapor"; from then until ``checkins.late_until`` it is "lewat batas" (late if it
reports now) and on the "perlu dihubungi" list; after that it is "tidak lapor". The switch follows
the clock passed in (``app.state.clock`` in the web app), and ``/events`` pushes a ``window`` event
at both times, so an open page flips at the minute without polling.
"""

from __future__ import annotations

import gc
import threading
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, select

from gateway.config import Config, parse_hhmm
from gateway.identification.checkins import on_channel
from gateway.report.document import Report, ReviewItem, StationEntry
from gateway.store.db import Database
from gateway.store.models import TranscriptRow, Transmission
from gateway.timeutil import day_bounds
from gateway.web.queries import StationRow, change_marker, today_view

SEVERE = ("awas", "siaga")
LEVEL_RANK = {"awas": 0, "siaga": 1, "waspada": 2, "aman": 3}
FEED_SIZE = 30
ZONE_ABBR = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


@dataclass
class BoardIncident:
    label: str
    place: str | None
    counts: str  # "7 rumah terendam, ..." (text)
    transmission_id: int | None


@dataclass
class BoardRow:
    row: StationRow  # check-in state, first report, last heard
    situation: str | None  # aman | waspada | siaga | awas | None (nothing said)
    situation_label: str
    incidents: list[BoardIncident]
    needs: list[str]
    rank: int  # 0 severe or incidents, 1 missing once the window closed, 2 the rest
    call: bool = False  # on the "perlu dihubungi" list


@dataclass
class Window:
    phase: str  # before | late | closed | past (another day)
    text: str
    on_time_until: str
    late_until: str


@dataclass
class BoardView:
    day: date
    is_today: bool
    window: Window
    rows: list[BoardRow]
    to_call: list[BoardRow]
    feed: list[tuple[Transmission, TranscriptRow | None]]
    review: list[ReviewItem]
    counts: dict[str, int] = field(default_factory=dict)


def zone_abbr(cfg: Config) -> str:
    return ZONE_ABBR.get(cfg.gateway.timezone, cfg.gateway.timezone)


def hhmm_id(value: str) -> str:
    """"09:00" -> "09.00" (the Indonesian way of writing a time)."""
    return value.replace(":", ".")


def window_state(cfg: Config, day: date, now: datetime) -> Window:
    local = now.astimezone(cfg.tz)
    on_time, late = cfg.checkins.on_time_until, cfg.checkins.late_until
    z = zone_abbr(cfg)
    if day != local.date():
        phase = "past" if day < local.date() else "before"
    elif local.time() <= parse_hhmm(on_time):
        phase = "before"
    elif local.time() <= parse_hhmm(late):
        phase = "late"
    else:
        phase = "closed"
    text = {"before": f"jendela lapor tepat waktu sampai pukul {hhmm_id(on_time)} {z}",
            "late": f"batas tepat waktu lewat pukul {hhmm_id(on_time)} {z}; lapor terlambat sampai "
                    f"pukul {hhmm_id(late)} {z}",
            "closed": f"jendela lapor tutup pukul {hhmm_id(late)} {z}",
            "past": f"jendela lapor tutup pukul {hhmm_id(late)} {z}"}[phase]
    return Window(phase, text, on_time, late)


def deadlines(cfg: Config, now: datetime) -> list[datetime]:
    """Today's and tomorrow's window times still to come after ``now`` (for ``/events``)."""
    from datetime import timedelta

    local = now.astimezone(cfg.tz)
    out = []
    for d in (local.date(), local.date() + timedelta(days=1)):
        for hhmm in (cfg.checkins.on_time_until, cfg.checkins.late_until):
            # a status changes once the time is *passed* (<= is still inside): the next second
            at = datetime.combine(d, parse_hhmm(hhmm), cfg.tz) + timedelta(seconds=1)
            if at > now:
                out.append(at)
    return sorted(out)


_cache: dict[tuple[date, str, tuple[int, ...]], Report] = {}
_cache_lock = threading.Lock()


def draft(db: Database, cfg: Config, day: date, now: datetime, channel: str = "") -> Report:
    """The day's report as drafted now (on ``channel``, or every channel), cached per change marker."""
    from gateway.report.build import build_report

    key = (day, channel, change_marker(db))
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None:
        return hit
    report = build_report(db, day, cfg, now, backfill=True, channel=channel)  # outside the lock: CPU-heavy
    with _cache_lock:
        if len(_cache) >= 8:
            _cache.clear()
        _cache[key] = report
    # The cached report is a large, long-lived object graph (a day of 50 busy gateways): left to the
    # cyclic collector, every full collection walked it again, one board request in six took 220 ms
    # instead of 63 (bench/bench_office.py). Frozen, it is skipped; reference counting still frees
    # what the cache lets go of (only objects in reference cycles would stay).
    gc.freeze()
    return report


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items())


def board_view(db: Database, cfg: Config, day: date, now: datetime, channel: str = "") -> BoardView:
    """The board of ``day``: on ``channel`` only, or ("") every channel merged."""
    base = today_view(db, cfg, day, now, channel)
    window = window_state(cfg, day, now)
    report = draft(db, cfg, day, now, channel)
    by_name = {s.station: s for s in report.stations}
    rows: list[BoardRow] = []
    for r in base.stations:
        if r.status == "pending" and window.phase == "late":
            r.status, r.label = "overdue", "belum lapor, lewat batas"
        st = by_name.get(r.station) or StationEntry(r.station)
        incidents = [BoardIncident(i.label or i.category, i.place, _counts_text(i.counts), i.transmission_id)
                     for i in st.incidents if i.category != "harga"]
        needs = [n.item for n in st.needs]
        situation = st.situation
        if situation in SEVERE or incidents:
            rank = 0
        elif r.status == "missing":
            rank = 1
        else:
            rank = 2
        call = r.status in ("overdue", "missing")
        rows.append(BoardRow(r, situation, st.situation_label, incidents, needs, rank, call))
    order = {st.name: n for n, st in enumerate(cfg.stations)}
    rows.sort(key=lambda b: (b.rank, LEVEL_RANK.get(b.situation or "", 4) if b.rank == 0 else 0,
                             -len(b.incidents), order.get(b.row.station, 0)))
    return BoardView(day=day, is_today=base.is_today, window=window, rows=rows,
                     to_call=[b for b in rows if b.call], feed=call_feed(db, cfg, day, channel=channel),
                     review=list(report.review), counts=base.counts)


def call_feed(db: Database, cfg: Config, day: date, limit: int = FEED_SIZE, channel: str = "") -> list[
        tuple[Transmission, TranscriptRow | None]]:
    """The day's newest complete transmissions (no kerchunks), newest first, with their transcripts."""
    lo, hi = day_bounds(day, cfg.tz)
    with db.read() as s:
        ids = list(s.scalars(select(Transmission.id).where(
            Transmission.started_at >= lo, Transmission.started_at < hi, Transmission.status == "complete",
            Transmission.kerchunk.is_(False), *on_channel(channel))
            .order_by(Transmission.started_at.desc(), Transmission.id.desc()).limit(limit)))
        if not ids:
            return []
        got = {tx.id: (tx, tr) for tx, tr in s.execute(
            select(Transmission, TranscriptRow).outerjoin(
                TranscriptRow, and_(TranscriptRow.transmission_id == Transmission.id, TranscriptRow.current))
            .where(Transmission.id.in_(ids)))}
    return [got[i] for i in ids]


__all__ = ["BoardIncident", "BoardRow", "BoardView", "Window", "board_view", "call_feed", "deadlines",
           "draft", "window_state"]
