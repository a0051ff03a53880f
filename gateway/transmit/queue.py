"""The transmit queue (table ``transmit_queue``): what is to be said, queued by anyone, sent by the
daemon's transmitter only. ``dedupe`` makes acknowledgements and scheduled calls idempotent across
restarts and processes (a unique key: ``ack:<transmission id>``, ``roll_call:<day>T<HH:MM>``)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Literal, get_args

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gateway.config import Config, parse_hhmm
from gateway.store.db import Database
from gateway.store.models import Transmission, TransmitMessage
from gateway.transmit import messages

log = logging.getLogger(__name__)

OWN_STATION = "gateway"  # the station the gateway's own transmissions are assigned to
CATCH_UP_MIN = 10  # a scheduled call missed by less than this (daemon down, busy) is still made
IDENTIFIED = ("ani", "voice", "operator")

#: A queued message's ``status``: ``pending`` until the worker takes it, ``skipped`` for an
#: acknowledgement not said (:func:`enqueue_acks`), else what became of it (worker.py): the
#: transmitter's outcome (``sent``, ``timeout``, ``expired``, ``disabled``; a send ``stopped`` by
#: shutdown stays pending), ``expired`` when queued too long, ``failed`` when not rendered or sent.
#: The only ones the code sets (tests/test_restore_rows.py scans it); restore accepts no other.
TransmitStatus = Literal["pending", "skipped", "sent", "timeout", "expired", "disabled", "failed"]
TRANSMIT_STATUSES: tuple[TransmitStatus, ...] = get_args(TransmitStatus)


def enqueue(db: Database, kind: str, parts: list[messages.Part], by: str = "gateway",
            dedupe: str | None = None, station: str | None = None,
            status: TransmitStatus = "pending") -> int | None:
    """Queue a message; None if one with the same ``dedupe`` key exists already."""
    try:
        with db.write() as s:
            if dedupe is not None and s.scalar(select(TransmitMessage.id).where(
                    TransmitMessage.dedupe == dedupe)) is not None:
                return None
            row = TransmitMessage(kind=kind, dedupe=dedupe, text=messages.as_text(parts),
                                  parts=[list(p) for p in parts], by=by, status=status,
                                  station=station)
            s.add(row)
            s.flush()
            if status == "pending":
                log.info("queued %s message %d: %s", kind, row.id, row.text)
            return row.id
    except IntegrityError:  # another process queued the same one meanwhile
        return None


def enqueue_acks(db: Database, cfg: Config, now: datetime) -> list[int]:
    """An acknowledgement for each recent identified report that has none (``transmit.ack*``); a
    station acknowledged within ``ack_repeat_s`` is not acknowledged again (marked ``skipped``)."""
    t = cfg.transmit
    if not t.ack:
        return []
    names = [st.name for st in cfg.stations if st.name not in t.ack_skip
             and (not t.ack_stations or st.name in t.ack_stations)]
    if not names:
        return []
    with db.read() as s:
        rows = list(s.scalars(select(Transmission).where(
            Transmission.status == "complete", Transmission.station.in_(names),
            Transmission.identity_source.in_(IDENTIFIED), Transmission.kerchunk.is_(False),
            Transmission.stuck.is_(False),
            Transmission.ended_at >= now - timedelta(seconds=t.ack_within_s))
            .order_by(Transmission.ended_at)))
        done = set(s.scalars(select(TransmitMessage.dedupe).where(
            TransmitMessage.dedupe.in_([f"ack:{r.id}" for r in rows])))) if rows else set()
    out = []
    for tx in rows:
        if f"ack:{tx.id}" in done:
            continue
        with db.read() as s:
            recent = s.scalar(select(TransmitMessage.id).where(
                TransmitMessage.kind == "ack", TransmitMessage.station == tx.station,
                TransmitMessage.created_at >= now - timedelta(seconds=t.ack_repeat_s)).limit(1))
        if recent is not None:
            enqueue(db, "ack", [], dedupe=f"ack:{tx.id}", station=tx.station, status="skipped")
            continue
        parts = messages.acknowledgement(tx.station or "", (tx.ended_at or now).astimezone(cfg.tz))
        i = enqueue(db, "ack", parts, dedupe=f"ack:{tx.id}", station=tx.station)
        if i is not None:
            out.append(i)
    return out


def scheduled_times(cfg: Config) -> list[tuple[str, str]]:
    """(kind, HH:MM) for every configured roll call, reminder and summary."""
    t = cfg.transmit
    out = [("roll_call", hhmm) for hhmm in t.roll_call_at]
    if t.reminder_before_min:
        cutoff = datetime.combine(datetime(2000, 1, 1), parse_hhmm(cfg.report.file_at))
        out.append(("reminder", f"{cutoff - timedelta(minutes=t.reminder_before_min):%H:%M}"))
    if t.summary_at:
        out.append(("summary", t.summary_at))
    return out


def enqueue_scheduled(db: Database, cfg: Config, now: datetime) -> list[int]:
    """Queue each scheduled call whose time today has come (within :data:`CATCH_UP_MIN`), once."""
    from gateway.identification.checkins import checkins_for

    now = now.astimezone(cfg.tz)
    queued = []
    for kind, hhmm in scheduled_times(cfg):
        at = datetime.combine(now.date(), parse_hhmm(hhmm), cfg.tz)
        if not at <= now < at + timedelta(minutes=CATCH_UP_MIN):
            continue
        rows = checkins_for(db, now.date(), cfg)
        missing = [c.station for c in rows if c.status == "missing"]
        if kind == "roll_call":
            parts = messages.roll_call(missing)
        elif kind == "reminder":
            parts = messages.reminder(datetime.combine(now.date(), parse_hhmm(cfg.report.file_at),
                                                       cfg.tz), missing)
        else:
            parts = messages.summary(len(rows) - len(missing), len(rows), missing)
        i = enqueue(db, kind, parts, dedupe=f"{kind}:{now.date().isoformat()}T{hhmm}")
        if i is not None:
            queued.append(i)
    return queued
