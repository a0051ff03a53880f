"""The day's situation report (laporan situasi) as one JSON-ready structure.

Built from the check-ins
(gateway.identification.checkins) and each report transmission's current transcript, read
by the extractor (gateway.report.extract). Every incident, price and need names the transmission it
came from and keeps its evidence (words, seconds from that recording's start, confidence), so the
office can hear the exact phrase. Renderers (gateway.report.render) only format this dict; a filed
revision stores it unchanged, so a filed report always renders the same.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import select

from gateway.config import Config
from gateway.identification.checkins import STATUS_ID, checkins_for
from gateway.lexicon.correct import extract_options
from gateway.lexicon.report import LEVELS as LEVELS_ORDER
from gateway.report.extract import extract
from gateway.report.letter import info as letter_info
from gateway.report.model import StationExtract
from gateway.report.review import annotate, combine, incident_confidence, review_queue
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
# Not part of the content hash: when it was made, and the follow-ups' progress (a status change by
# an agency is not a change to the day's report, so it files no revision; each revision shows the
# follow-ups as they stood when it was filed).
# The review queue is derived from the content (and the day's unknown stations): not hashed either.
UNSTABLE = ("generated_at", "revision", "filed_at", "reason", "followups", "review", "letter")


Spoken = dict[str, list[tuple[Transmission, TranscriptRow | None]]]


def _station_transcripts(db: Database, cfg: Config, day: date) -> Spoken:
    lo, hi = day_bounds(day, cfg.tz)
    with db.read() as s:
        rows = s.execute(select(Transmission, TranscriptRow).outerjoin(
            TranscriptRow, (TranscriptRow.transmission_id == Transmission.id) & TranscriptRow.current)
            .where(Transmission.started_at >= lo, Transmission.started_at < hi,
                   Transmission.status == "complete", Transmission.station.is_not(None),
                   Transmission.kerchunk.is_(False), Transmission.stuck.is_(False))
            .order_by(Transmission.started_at, Transmission.id)).all()
    out: dict[str, list[tuple[Transmission, TranscriptRow | None]]] = defaultdict(list)
    for tx, tr in rows:
        out[tx.station or ""].append((tx, tr))
    return out


def _strongest(levels: list[str]) -> str | None:
    known = [lv for lv in levels if lv in LEVELS_ORDER]
    return max(known, key=LEVELS_ORDER.index) if known else None


def _ref(tx: Transmission, tz: tzinfo) -> dict[str, Any]:
    return {"transmission_id": tx.id, "start": tx.started_at.astimezone(tz).isoformat(timespec="seconds"),
            "audio_path": tx.audio_path, "preroll_s": round((tx.started_at - tx.audio_started_at)
                                                           .total_seconds(), 3)}


def build_report(db: Database, day: date, cfg: Config, now: datetime) -> dict[str, Any]:
    checkins = {c.station: c for c in checkins_for(db, day, cfg)}
    spoken = _station_transcripts(db, cfg, day)
    lo, hi = day_bounds(day, cfg.tz)
    stations, incidents, needs_all = [], [], []
    for st in cfg.stations:
        c = checkins[st.name]
        refs, levels, st_incidents, st_prices, st_needs = [], [], [], [], []
        verified: list[bool] = []
        said: dict[str, dict[str, Any]] = {}
        for tx, tr in spoken.get(st.name, []):
            ref = _ref(tx, cfg.tz)
            refs.append(ref)
            ok = bool(tr is not None and tr.status == "done" and (tr.verified or tr.origin == "edit"))
            verified.append(ok)
            if tr is None or tr.status != "done":
                continue
            ex: StationExtract = extract(tr.text, tr.words, **extract_options(cfg, st))
            if ex.status:
                levels.append(ex.status)
                said.setdefault(ex.status, annotate({"transmission_id": tx.id}, ok,
                                                    combine(ex.status_evidence)))
            for inc in ex.incidents:
                item = {**inc.to_dict(), "station": st.name, "label": CATEGORY_ID.get(inc.category,
                                                                                        inc.category), **ref}
                annotate(item, ok, incident_confidence(item))
                st_incidents.append(item)
                incidents.append(item)
            st_prices += [annotate({**p.to_dict(), "transmission_id": tx.id}, ok, combine(p.evidence))
                          for p in ex.prices]
            for n in ex.needs:
                need = annotate({**n.to_dict(), "station": st.name, "transmission_id": tx.id}, ok,
                                combine(n.evidence))
                st_needs.append(need)
                needs_all.append(need)
        situation = _strongest(levels)
        stations.append({
            "station": st.name, "code": st.code, "checkin": c.status, "checkin_label": STATUS_ID[c.status],
            "first_report": c.first_report, "identified_by": c.identified_by, "note": c.note,
            "situation": situation, "situation_label": SITUATION_ID.get(situation or "", "-"),
            "situation_item": said.get(situation or ""),
            "incidents": st_incidents, "prices": st_prices, "needs": st_needs,
            "verified": bool(verified) and all(verified), "transmissions": refs,
        })
    summary = {
        "total": len(stations),
        "reported": sum(s["checkin"] != "missing" for s in stations),
        "on_time": [s["station"] for s in stations if s["checkin"] == "on_time"],
        "late": [s["station"] for s in stations if s["checkin"] == "late"],
        "missing": [s["station"] for s in stations if s["checkin"] == "missing"],
        "incidents": len(incidents),
    }
    report = {
        "kind": "laporan_situasi_harian", "kabupaten": cfg.gateway.kabupaten, "date": day.isoformat(),
        "timezone": cfg.gateway.timezone,
        "period": {"start": lo.isoformat(), "end": hi.isoformat()},
        "checkin_windows": {"on_time_until": cfg.checkins.on_time_until,
                            "late_until": cfg.checkins.late_until},
        "generated_at": now.astimezone(cfg.tz).isoformat(timespec="seconds"),
        "revision": None, "filed_at": None, "reason": None,
        "summary": summary, "stations": stations, "incidents": incidents, "needs": needs_all,
        "followups": open_followups(db, day, cfg),
        "signature": {"title": cfg.report.signatory_title, "name": cfg.report.signatory_name,
                      "place": cfg.report.signatory_place},
        "letter": letter_info(cfg),  # letterhead, nomor surat, NIP (gateway/report/letter.py)
    }
    report["content_sha256"] = content_hash(report)
    report["review"] = review_queue(db, report, day, cfg.tz, cfg.report.review_below)
    return report


def content_hash(report: dict[str, Any]) -> str:
    """SHA-256 of what the report says (not when it was generated or filed)."""
    stable = {k: v for k, v in report.items() if k not in (*UNSTABLE, "content_sha256")}
    return hashlib.sha256(json.dumps(stable, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def open_followups(db: Database, day: date, cfg: Config) -> list[dict[str, Any]]:
    """Follow-ups from earlier days still open: carried into ``day``'s report (the day's own needs
    are in its ``needs``)."""
    with db.read() as s:
        rows = s.scalars(select(FollowUp).where(FollowUp.day < day, FollowUp.status != "selesai")
                         .order_by(FollowUp.id)).all()
    return [f.as_dict(cfg.tz) for f in rows]
