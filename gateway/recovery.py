"""Start-up recovery: finish what a killed process left behind.

A row still in status ``recording`` means the process died mid-transmission. Its temporary Ogg file
decodes up to the last page written (≤ 1 s before the kill); it is renamed to its final name and the
row completed and flagged ``recovered``. A row whose file holds no audio is removed, with an event
saying so. A temporary file that no row names is moved to ``recordings/orphans/`` and reported.
Nothing here deletes audio that can be decoded.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from gateway.config import SegmenterConfig
from gateway.recorder import TEMP_SUFFIX, recover
from gateway.store.db import Database
from gateway.store.models import Event, Transmission, utcnow

log = logging.getLogger(__name__)


def recover_interrupted(db: Database, data_dir: Path, seg: SegmenterConfig) -> list[int]:
    """Complete every interrupted transmission; returns the ids recovered."""
    done: list[int] = []
    with db.read() as s:
        pending = s.scalars(select(Transmission.id).where(Transmission.status == "recording")).all()
    for tx_id in pending:
        with db.write() as s:
            row = s.get_one(Transmission, tx_id)
            temp = data_dir / (row.temp_path or "")
            final = data_dir / (row.audio_path or "")
            result = recover(temp, final) if row.temp_path and temp.is_file() else None
            if result is None:
                s.add(Event(at=utcnow(), kind="recording_lost",
                            message=f"transmission {row.uid} started {row.started_at.isoformat()} "
                                    "was interrupted before any audio was saved"))
                s.delete(row)
                log.warning("interrupted transmission %d had no audio; removed", tx_id)
                continue
            ended = row.audio_started_at + timedelta(seconds=result.duration_s)
            row.ended_at = max(ended, row.started_at)
            row.duration_s = round((row.ended_at - row.started_at).total_seconds(), 3)
            row.kerchunk = row.duration_s < seg.min_s
            row.status, row.recovered, row.temp_path = "complete", True, None
            row.audio_path = str(result.path.relative_to(data_dir))
            row.sha256, row.audio_bytes = result.sha256, result.size
            row.audio_duration_s = round(result.duration_s, 3)
            row.peak_dbfs, row.rms_dbfs = round(result.peak_dbfs, 2), round(result.rms_dbfs, 2)
            s.add(Event(at=utcnow(), kind="recovered", transmission_id=row.id,
                        message=f"recovered {result.duration_s:.1f} s of an interrupted transmission"))
            done.append(tx_id)
            log.warning("recovered interrupted transmission %d (%.1f s of audio)", tx_id,
                        result.duration_s)
    _adopt_orphans(db, data_dir)
    return done


def _adopt_orphans(db: Database, data_dir: Path) -> None:
    root = data_dir / "recordings"
    if not root.is_dir():
        return
    with db.read() as s:
        known = set(s.scalars(select(Transmission.temp_path).where(Transmission.temp_path.is_not(None))))
    for temp in root.rglob(f"*{TEMP_SUFFIX}"):
        if str(temp.relative_to(data_dir)) in known:
            continue
        dest = root / "orphans" / temp.name.lstrip(".").replace(TEMP_SUFFIX, ".ogg")
        dest.parent.mkdir(parents=True, exist_ok=True)
        temp.replace(dest)
        moved_to = dest.relative_to(data_dir)
        with db.write() as s:
            s.add(Event(at=utcnow(), kind="orphan_audio",
                        message=f"temporary file without a transmission moved to {moved_to}"))
        log.warning("orphan temporary recording moved to %s", dest)
