"""A reported day with real recordings, for the backup, restore and retention tests.

Each transmission gets a real Ogg Opus file (soundfile) whose sha256 the test computes itself with
hashlib from the bytes on disk; the day's report is filed by the real filer (gateway.report.filing),
which opens follow-ups and report terms from the transcripts' words.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from test_web_helpers import write_ogg

from gateway import dayrows
from gateway.config import Config
from gateway.identification import identify
from gateway.report.filing import file_due
from gateway.store.db import Database
from gateway.store.models import (
    Assignment,
    Event,
    ReportDelivery,
    TranscriptRow,
    Transmission,
    TransmitMessage,
)

WIB = ZoneInfo("Asia/Jakarta")
DAY = date(2026, 11, 20)
MORNING = [
    ("07:05", "101", "situasi aman kondusif harga beras sebelas ribu rupiah per kilogram"),
    ("07:40", None, "lapor camat siatas barita banjir di desa sitampurung tujuh rumah terendam mohon bantuan "
                    "terpal dan beras ganti"),
    ("08:10", "104", "di sini camat sipoholon situasi aman ganti"),
]


def at(hhmm: str, day: date = DAY) -> datetime:
    return datetime.combine(day, datetime.strptime(hhmm, "%H:%M").time(), WIB)


@dataclass
class Day:
    day: date
    sha: dict[str, str] = field(default_factory=dict)  # uid -> sha256 of the file the test wrote
    path: dict[str, Path] = field(default_factory=dict)  # uid -> the recording


def add_recorded(db: Database, cfg: Config, data_dir: Path, when: datetime, ani: str | None, text: str,
                 seconds: float = 1.5) -> tuple[int, str, str, Path]:
    """A complete transmission with a real recording: (id, uid, sha256 by hashlib, file)."""
    uid = uuid.uuid4().hex
    rel = f"recordings/{when:%Y/%m/%d}/{when:%Y%m%dT%H%M%S}.000{when:%z}_{uid}.ogg"
    write_ogg(data_dir / rel, seconds)
    data = (data_dir / rel).read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    with db.write() as s:
        tx = Transmission(uid=uid, started_at=when, audio_started_at=when - timedelta(seconds=0.5),
                          ended_at=when + timedelta(seconds=seconds), duration_s=seconds, status="complete",
                          kerchunk=False, stuck=False, recovered=False, source="test", ani=ani,
                          ani_position="bot" if ani else None, audio_path=rel, sha256=sha,
                          audio_bytes=len(data), gateway_id=cfg.gateway.id, channel_id=cfg.channel.id)
        s.add(tx)
        s.flush()
        s.add(TranscriptRow(transmission_id=tx.id, status="done", engine="fake", model="m", text=text,
                            words=[], origin="live", current=True))
        s.flush()
        identify.reidentify(s, tx.id, cfg)
        return tx.id, uid, sha, data_dir / rel


def build_day(db: Database, cfg: Config, data_dir: Path, day: date = DAY, file: bool = True,
              next_day: bool = True) -> Day:
    """The morning of ``day`` with an operator's assignment and a squelch event, its report filed
    at 12:00 (``file``); and (``next_day``) one transmission on the day after, which is not ``day``'s."""
    out = Day(day)
    for i, (hhmm, ani, text) in enumerate(MORNING):
        tx_id, uid, sha, path = add_recorded(db, cfg, data_dir, at(hhmm, day), ani, text, 1.0 + 0.5 * i)
        out.sha[uid], out.path[uid] = sha, path
    with db.write() as s:
        s.add(Assignment(transmission_id=tx_id, station="Sipoholon", by="opi", at=at("09:00", day),
                         note="didengar ulang"))
        s.add(Event(at=at("09:30", day), kind="stuck_squelch", message="squelch open 120 s"))
    with db.write() as s:  # the gateway's acknowledgement, heard back as this transmission
        s.add(TransmitMessage(created_at=at("09:01", day), kind="ack", dedupe=f"ack:{uuid.uuid4().hex}",
                              text="diterima", parts=[["text", "diterima"]], station="Sipoholon",
                              status="sent", transmission_id=tx_id))
    if file:
        (rev,) = file_due(db, cfg, at("12:00", day))
        with db.write() as s:  # as with report.email.to set: its mail delivery
            s.add(ReportDelivery(revision_id=rev.id, created_at=at("12:00", day), attempts=1,
                                 next_attempt_at=at("12:00", day), delivered_at=at("12:01", day)))
    if next_day:
        add_recorded(db, cfg, data_dir, at("07:00", day + timedelta(days=1)), "101", "situasi aman ganti")
    return out


def snapshot(db: Database, day: date) -> dict[str, list[dict[str, object]]]:
    """Every row of the day's tables (independent of gateway/dayrows.py: whole tables, by id)."""
    out = {}
    with db.engine.connect() as conn:
        for name in dayrows.TABLES:
            t = dayrows.table(name)
            out[name] = [dict(r._mapping) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
    return out


def wipe(db: Database, data_dir: Path) -> None:
    """Every row of the day tables deleted, the recordings and report files gone."""
    import shutil

    with db.write() as s:
        for name in reversed(dayrows.TABLES):
            s.execute(dayrows.table(name).delete())
    shutil.rmtree(data_dir / "recordings", ignore_errors=True)
    shutil.rmtree(data_dir / "reports", ignore_errors=True)
