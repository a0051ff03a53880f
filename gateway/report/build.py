"""The day's situation report (laporan situasi): builds the :class:`~gateway.report.document.Report`.

Built from the check-ins
(gateway.identification.checkins) and each report transmission's current transcript, read
by the extractor (gateway.report.extract). Every incident, price and need names the transmission it
came from and keeps its evidence (words, seconds from that recording's start, confidence), so the
office can hear the exact phrase. Renderers (gateway.report.render) only format the model; a filed
revision stores its JSON unchanged, so a filed report always renders the same.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import select

from gateway.config import Config, Station
from gateway.identification.checkins import STATUS_ID, Checkin, checkins_for, on_channel
from gateway.lexicon.report import LEVELS as LEVELS_ORDER
from gateway.report.document import (
    CheckinWindows,
    FollowUpItem,
    IncidentItem,
    NeedItem,
    Period,
    PriceItem,
    Report,
    Signature,
    SituationItem,
    StationEntry,
    Summary,
    TxRef,
    as_report,
)
from gateway.report.extracts import extracts_for
from gateway.report.letter import info as letter_info
from gateway.report.model import StationExtract
from gateway.report.review import combine, incident_confidence, review_queue
from gateway.store.db import Database
from gateway.store.models import FollowUp, TranscriptRow, Transmission
from gateway.timeutil import day_bounds

SITUATION_ID = {"aman": "Aman", "waspada": "Waspada", "siaga": "Siaga", "awas": "Awas"}
CATEGORY_ID = {
    "banjir": "Banjir", "longsor": "Tanah longsor", "kebakaran": "Kebakaran",
    "kecelakaan": "Kecelakaan lalu lintas", "puting_beliung": "Angin puting beliung",
    "pohon_tumbang": "Pohon tumbang", "gempa": "Gempa", "penyakit": "Penyakit/wabah",
    "infrastruktur": "Infrastruktur", "kamtibmas": "Kamtibmas", "harga": "Harga bahan pokok",
}


Spoken = dict[str, list[tuple[Transmission, TranscriptRow | None]]]


def _station_transcripts(db: Database, cfg: Config, day: date, channel: str = "") -> Spoken:
    lo, hi = day_bounds(day, cfg.tz)
    with db.read() as s:
        rows = s.execute(select(Transmission, TranscriptRow).outerjoin(
            TranscriptRow, (TranscriptRow.transmission_id == Transmission.id) & TranscriptRow.current)
            .where(Transmission.started_at >= lo, Transmission.started_at < hi,
                   Transmission.status == "complete", Transmission.station.is_not(None),
                   Transmission.kerchunk.is_(False), Transmission.stuck.is_(False), *on_channel(channel))
            .order_by(Transmission.started_at, Transmission.id)).all()
    out: dict[str, list[tuple[Transmission, TranscriptRow | None]]] = defaultdict(list)
    for tx, tr in rows:
        out[tx.station or ""].append((tx, tr))
    return out


def _strongest(levels: list[str]) -> str | None:
    known = [lv for lv in levels if lv in LEVELS_ORDER]
    return max(known, key=LEVELS_ORDER.index) if known else None


def _ref(tx: Transmission, tz: tzinfo) -> TxRef:
    return TxRef(transmission_id=tx.id, start=tx.started_at.astimezone(tz).isoformat(timespec="seconds"),
                 audio_path=tx.audio_path,
                 preroll_s=round((tx.started_at - tx.audio_started_at).total_seconds(), 3))


def _station(st: Station, c: Checkin,
             said: list[tuple[TxRef, bool, StationExtract | None]]) -> StationEntry:
    """One kecamatan's entry from its report transmissions (ref, verified, what was read)."""
    levels: list[str] = []
    situation_items: dict[str, SituationItem] = {}
    incidents: list[IncidentItem] = []
    prices: list[PriceItem] = []
    needs: list[NeedItem] = []
    for ref, ok, ex in said:
        if ex is None:
            continue
        tx_id = ref.transmission_id
        if ex.status:
            levels.append(ex.status)
            situation_items.setdefault(ex.status, SituationItem(tx_id, combine(ex.status_evidence), ok))
        for inc in ex.incidents:
            incidents.append(IncidentItem(
                category=inc.category, place=inc.place, counts=dict(inc.counts), evidence=inc.evidence,
                place_evidence=inc.place_evidence, count_evidence=dict(inc.count_evidence), station=st.name,
                label=CATEGORY_ID.get(inc.category, inc.category), transmission_id=tx_id, start=ref.start,
                audio_path=ref.audio_path, preroll_s=ref.preroll_s, confidence=incident_confidence(inc),
                verified=ok))
        prices += [PriceItem(p.commodity, p.rupiah_per_kg, p.evidence, tx_id, combine(p.evidence), ok)
                   for p in ex.prices]
        needs += [NeedItem(n.item, n.phrase, n.evidence, st.name, tx_id, combine(n.evidence), ok)
                  for n in ex.needs]
    situation = _strongest(levels)
    return StationEntry(
        station=st.name, code=st.code, checkin=c.status, checkin_label=STATUS_ID[c.status],
        first_report=c.first_report, identified_by=c.identified_by, note=c.note, situation=situation,
        situation_label=SITUATION_ID.get(situation or "", "-"),
        situation_item=situation_items.get(situation or ""), incidents=tuple(incidents),
        prices=tuple(prices), needs=tuple(needs), verified=bool(said) and all(ok for _, ok, _ in said),
        transmissions=tuple(ref for ref, _, _ in said))


def build_report(db: Database, day: date, cfg: Config, now: datetime, backfill: bool = False,
                 channel: str = "") -> Report:
    """The day's report as drafted at ``now``. What each transcript says is read from its stored
    extraction (gateway/report/extracts.py), extracted now where there is none or it is stale;
    ``backfill``: store those (a short write; callers that may write: the filer, the board).
    ``channel``: only what was heard on that channel (the web's ``?channel=``); filed reports merge
    every channel."""
    checkins = {c.station: c for c in checkins_for(db, day, cfg, channel)}
    spoken = _station_transcripts(db, cfg, day, channel)
    read = extracts_for(db, cfg, spoken, backfill=backfill)
    lo, hi = day_bounds(day, cfg.tz)
    stations = []
    for st in cfg.stations:
        said = []
        for tx, tr in spoken.get(st.name, []):
            ok = bool(tr is not None and tr.status == "done" and (tr.verified or tr.origin == "edit"))
            said.append((_ref(tx, cfg.tz), ok, read.get(tr.id) if tr is not None and tr.status == "done"
                         else None))
        stations.append(_station(st, checkins[st.name], said))
    incidents = tuple(i for s in stations for i in s.incidents)
    report = Report(
        kabupaten=cfg.gateway.kabupaten, date=day.isoformat(), timezone=cfg.gateway.timezone,
        period=Period(lo.isoformat(), hi.isoformat()),
        checkin_windows=CheckinWindows(cfg.checkins.on_time_until, cfg.checkins.late_until),
        generated_at=now.astimezone(cfg.tz).isoformat(timespec="seconds"),
        summary=Summary(
            total=len(stations), reported=sum(s.checkin != "missing" for s in stations),
            on_time=tuple(s.station for s in stations if s.checkin == "on_time"),
            late=tuple(s.station for s in stations if s.checkin == "late"),
            missing=tuple(s.station for s in stations if s.checkin == "missing"), incidents=len(incidents)),
        stations=tuple(stations), incidents=incidents, needs=tuple(n for s in stations for n in s.needs),
        followups=open_followups(db, day, cfg),
        signature=Signature(cfg.report.signatory_title, cfg.report.signatory_name,
                            cfg.report.signatory_place),
        letter=letter_info(cfg),  # letterhead, nomor surat, NIP (gateway/report/letter.py)
    )
    report = replace(report, content_sha256=report.content_hash())
    return replace(report, review=review_queue(db, report, day, cfg.tz, cfg.report.review_below, channel))


def content_hash(report: Report | dict[str, Any]) -> str:
    """SHA-256 of what the report says (not when it was generated or filed)."""
    return as_report(report).content_hash()


def open_followups(db: Database, day: date, cfg: Config) -> tuple[FollowUpItem, ...]:
    """Follow-ups from earlier days still open: carried into ``day``'s report (the day's own needs
    are in its ``needs``)."""
    with db.read() as s:
        rows = s.scalars(select(FollowUp).where(FollowUp.day < day, FollowUp.status != "selesai")
                         .order_by(FollowUp.id)).all()
    return tuple(FollowUpItem.from_json(f.as_dict(cfg.tz)) for f in rows)
