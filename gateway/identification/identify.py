"""Identification: which station made a transmission, how we know, and why — or why we do not.

Precedence, strongest first:

1. **operator** — the newest assignment (``ht-gateway assign``, later the web UI); kept across
   re-transcription and re-identification; a cleared assignment hands back to the rules below;
2. **ani** — a DTMF PTT-ID heard in the transmission that a configured station sends;
3. **voice** — the station's name found in the current transcript
   (gateway.identification.spoken_id) with at least
   ``identity.spoken_threshold`` confidence;
4. **continuation** — no identity of its own, but it starts within ``identity.continuation_gap_s``
   after the previous transmission (not a kerchunk), which was identified: the same station went on.

Otherwise the station stays unknown and ``identity_reason`` says why. Kerchunks and stuck-squelch
recordings take an operator's or an ANI identity only. Functions here work inside the caller's write
transaction, so identity changes commit together with what caused them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.config import Config, Station
from gateway.store.models import Assignment, TranscriptRow, Transmission

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Identity:
    station: str | None
    source: str | None
    confidence: float | None
    reason: str


def station_by_ani(stations: tuple[Station, ...], code: str) -> Station | None:
    return next((st for st in stations if code in st.ani), None)


def latest_assignment(s: Session, tx_id: int) -> Assignment | None:
    return s.scalar(select(Assignment).where(Assignment.transmission_id == tx_id)
                    .order_by(Assignment.at.desc(), Assignment.id.desc()).limit(1))


def _previous(s: Session, tx: Transmission) -> Transmission | None:
    """The transmission just before this one that could be a report (not kerchunk, not stuck)."""
    return s.scalar(select(Transmission).where(
        Transmission.started_at < tx.started_at, Transmission.status == "complete",
        Transmission.kerchunk.is_(False), Transmission.stuck.is_(False), Transmission.id != tx.id)
        .order_by(Transmission.started_at.desc()).limit(1))


def resolve(s: Session, tx: Transmission, cfg: Config) -> Identity:
    reasons: list[str] = []
    assigned = latest_assignment(s, tx.id)
    if assigned is not None and assigned.station:
        return Identity(assigned.station, "operator", 1.0,
                        f"assigned by {assigned.by} at {assigned.at.astimezone(cfg.tz):%Y-%m-%d %H:%M}")
    if tx.ani:
        st = station_by_ani(cfg.stations, tx.ani)
        if st is not None:
            return Identity(st.name, "ani", 1.0, f"ANI {tx.ani} ({tx.ani_position or '?'}) is {st.name}")
        reasons.append(f"ANI {tx.ani} belongs to no configured station")
    else:
        reasons.append("no ANI")
    if tx.kerchunk or tx.stuck:
        reasons.append("kerchunk" if tx.kerchunk else "stuck squelch")
        return Identity(None, None, None, "; ".join(reasons))
    transcript = s.scalar(select(TranscriptRow).where(TranscriptRow.transmission_id == tx.id,
                                                      TranscriptRow.current))
    if transcript is None:
        reasons.append("not transcribed yet")
    elif transcript.status != "done":
        reasons.append("transcription failed")
    else:
        from gateway.identification.spoken_id import match_station

        m = match_station(transcript.text, transcript.words, cfg.stations, cfg.identity.spoken_threshold)
        if m.station is not None:
            return Identity(m.station, "voice", round(m.confidence, 3), m.reason)
        reasons.append(m.reason)
    prev = _previous(s, tx)
    gap_limit = cfg.identity.continuation_gap_s
    if prev is not None and prev.station and prev.ended_at is not None and gap_limit > 0:
        gap = (tx.started_at - prev.ended_at).total_seconds()
        if gap <= gap_limit:
            return Identity(prev.station, "continuation", prev.identity_confidence,
                            f"continues transmission {prev.id} ({prev.station}) {gap:.1f} s later")
    return Identity(None, None, None, "; ".join(reasons))


def apply(s: Session, tx: Transmission, cfg: Config) -> bool:
    """Store the resolved identity on the row; True if it changed."""
    ident = resolve(s, tx, cfg)
    before = (tx.station, tx.identity_source, tx.identity_confidence, tx.identity_reason)
    after = (ident.station, ident.source, ident.confidence, ident.reason)
    if before == after:
        return False
    tx.station, tx.identity_source, tx.identity_confidence, tx.identity_reason = after
    s.flush()
    if before[0] != ident.station:
        log.info("transmission %d: %s (%s)", tx.id, ident.station or "unknown", ident.reason)
    return True


def reidentify(s: Session, tx_id: int, cfg: Config) -> None:
    """Resolve a transmission, then the ones after it whose continuation may have changed."""
    tx = s.get_one(Transmission, tx_id)
    apply(s, tx, cfg)
    gap_limit = cfg.identity.continuation_gap_s
    while True:
        nxt = s.scalar(select(Transmission).where(
            Transmission.started_at > tx.started_at, Transmission.status == "complete",
            Transmission.kerchunk.is_(False), Transmission.stuck.is_(False))
            .order_by(Transmission.started_at).limit(1))
        if nxt is None or tx.ended_at is None:
            return
        if (nxt.started_at - tx.ended_at).total_seconds() > gap_limit:
            return
        if nxt.identity_source not in (None, "continuation"):
            return
        if not apply(s, nxt, cfg):
            return
        tx = nxt


def assign(s: Session, tx_id: int, station: str | None, by: str, cfg: Config, note: str = "") -> Identity:
    """Record an operator's assignment (``station`` None clears it) and re-identify."""
    if station is not None:
        known = {st.name.casefold(): st.name for st in cfg.stations}
        if station.casefold() not in known:
            raise ValueError(f"station {station!r} is not configured "
                             f"(stations: {', '.join(st.name for st in cfg.stations)})")
        station = known[station.casefold()]
    if s.get(Transmission, tx_id) is None:
        raise ValueError(f"transmission {tx_id} does not exist")
    s.add(Assignment(transmission_id=tx_id, station=station, by=by, note=note))
    s.flush()
    reidentify(s, tx_id, cfg)
    row = s.get_one(Transmission, tx_id)
    return Identity(row.station, row.identity_source, row.identity_confidence, row.identity_reason or "")
