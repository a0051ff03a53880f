"""The store contract, run over SQLite and a real PostgreSQL (the `db` fixture is parametrised)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from gateway import export
from gateway.config import RecorderConfig
from gateway.pipeline import TransmissionWriter
from gateway.recorder import Recorder
from gateway.segmenter import TxInfo
from gateway.store.db import Database, StoreError
from gateway.store.models import Base, Event, Transmission

WIB = ZoneInfo("Asia/Jakarta")


def _tx(start: datetime, seconds: float, **kw) -> TxInfo:
    t = start.timestamp()
    return TxInfo(uid=f"{int(t * 1000):x}{seconds:.0f}", start=t, audio_start=t - 0.5, **kw)


def _record(db: Database, data_dir: Path, tx: TxInfo, seconds: float) -> int:
    writer = TransmissionWriter(db, Recorder(data_dir / "recordings", 16000, RecorderConfig(), WIB),
                                data_dir, "test")
    writer.on_open(tx)
    rng = np.random.default_rng(0)
    for _ in range(int((seconds + 0.5) / 0.02)):
        writer.on_audio(tx, (0.1 * rng.standard_normal(320)).astype(np.float32))
    tx.end = tx.start + seconds
    writer.on_close(tx)
    return writer.closed[-1]


def test_schema_is_migrated_and_matches_the_models(db: Database) -> None:
    assert {"transmissions", "events", "alembic_version"} <= db.tables()
    def ours(name, type_, parent_names) -> bool:  # the FTS5 index and its shadow tables
        return not (type_ == "table" and name and name.startswith("transcripts_fts"))

    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_name": ours})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], f"migrations and models differ: {diff}"
    db.migrate()  # idempotent


def test_times_come_back_aware_and_equal(db: Database, tmp_path: Path) -> None:
    start = datetime(2026, 11, 20, 7, 5, 2, 250000, tzinfo=WIB)
    tx_id = _record(db, tmp_path, _tx(start, 3.0), 3.0)
    with db.read() as s:
        row = s.get_one(Transmission, tx_id)
    assert row.started_at == start and row.started_at.tzinfo is not None
    assert row.ended_at == start + timedelta(seconds=3)
    assert row.status == "complete" and row.temp_path is None
    assert (tmp_path / row.audio_path).is_file() and len(row.sha256) == 64
    assert row.audio_duration_s == pytest.approx(3.5, abs=0.05)


def test_row_is_committed_as_recording_before_audio_arrives(db: Database, tmp_path: Path) -> None:
    writer = TransmissionWriter(db, Recorder(tmp_path / "recordings", 16000, RecorderConfig(), WIB),
                                tmp_path, "test")
    tx = _tx(datetime(2026, 11, 20, 8, 0, tzinfo=WIB), 1)
    writer.on_open(tx)
    with db.read() as s:
        row = s.scalars(select(Transmission)).one()
    assert row.status == "recording" and (tmp_path / row.temp_path).is_file()
    writer.abandon_all()


def test_a_failed_write_leaves_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError), db.write() as s:
        s.add(Event(at=datetime.now(UTC), kind="x", message="y"))
        s.flush()
        raise RuntimeError("boom")
    with db.read() as s:
        assert s.scalars(select(Event)).all() == []


def test_export_selects_the_day_in_the_configured_zone(db: Database, tmp_path: Path) -> None:
    # 23:30 WIB on the 19th is 16:30 UTC on the 19th; 00:30 WIB on the 20th is 17:30 UTC on the 19th.
    _record(db, tmp_path, _tx(datetime(2026, 11, 19, 23, 30, tzinfo=WIB), 2.0), 2.0)
    second = _record(db, tmp_path, _tx(datetime(2026, 11, 20, 0, 30, tzinfo=WIB), 0.4, kerchunk=True), 0.4)
    rows = export.transmissions_on(db, date(2026, 11, 20), WIB)
    assert [r["id"] for r in rows] == [second]
    r = rows[0]
    assert r["start"] == "2026-11-20T00:30:00.000+07:00" and r["end"] == "2026-11-20T00:30:00.400+07:00"
    assert r["station"] is None and r["flags"] == ["kerchunk"] and r["duration_s"] == 0.4
    csv_text = export.render(rows, "csv")
    assert csv_text.splitlines()[0] == ",".join(export.FIELDS)


def test_bad_url_is_one_line() -> None:
    with pytest.raises(StoreError, match=re.escape("store.url")):
        Database("nosuchdb://x/y")
    with pytest.raises(StoreError, match=re.escape("store.url = 'postgresql+psycopg://u:***@127.0.0.1:1/x'")):
        Database("postgresql+psycopg://u:secret@127.0.0.1:1/x").migrate()
