"""Generated radio channel (espeak-ng Indonesian, radio band, hiss, tails, kerchunks, a pause inside a
transmission, two transmissions 3 s apart, a stuck squelch) through the full pipeline: the cuts must
match the synthesiser's ground truth within ±0.3 s, with nothing split or merged."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.config import Config, SegmenterConfig
from gateway.daemon import process_file
from gateway.store.db import Database, default_url
from gateway.store.models import Event, Transmission

TOL = 0.3


@pytest.fixture(scope="module")
def processed(test_channel, tmp_path_factory) -> tuple[list[Transmission], list[Event], dict, float]:
    audio, truth = test_channel
    data_dir = tmp_path_factory.mktemp("data")
    cfg = dataclasses.replace(Config(), segmenter=SegmenterConfig(max_s=20.0))
    start = datetime.fromisoformat(truth["recording_start"])
    result = process_file(cfg, data_dir, audio, start)
    db = Database(default_url(data_dir))
    with db.read() as s:
        rows = list(s.scalars(select(Transmission).order_by(Transmission.started_at)))
        events = list(s.scalars(select(Event).order_by(Event.at)))
    db.close()
    assert [r.id for r in rows] == sorted(result.transmission_ids)
    return rows, events, truth, start.timestamp()


def _span(row: Transmission, t0: float) -> tuple[float, float]:
    assert row.ended_at is not None
    return row.started_at.timestamp() - t0, row.ended_at.timestamp() - t0


def test_every_transmission_is_found_once_with_boundaries_within_tolerance(processed) -> None:
    rows, _, truth, t0 = processed
    spans = [_span(r, t0) for r in rows]
    expected = [t for t in truth["transmissions"] if t.get("kind") != "stuck"]
    for want in expected:
        hits = [s for s in spans if s[0] < want["end_s"] and s[1] > want["start_s"]]
        assert len(hits) == 1, f"{want.get('station', want.get('kind'))}: {len(hits)} detections {hits}"
        (start, end), = hits
        assert start == pytest.approx(want["start_s"], abs=TOL)
        assert end == pytest.approx(want["end_s"], abs=TOL)
    stuck_truth = [t for t in truth["transmissions"] if t.get("kind") == "stuck"]
    assert len(rows) == len(expected) + len(stuck_truth), "no extra (split) transmissions"


def test_pause_inside_a_transmission_does_not_split_it(processed) -> None:
    rows, _, truth, t0 = processed
    paused = next(t for t in truth["transmissions"] if t.get("ssml"))
    (row,) = [r for r in rows if abs(_span(r, t0)[0] - paused["start_s"]) < TOL]
    assert row.duration_s == pytest.approx(paused["end_s"] - paused["start_s"], abs=2 * TOL)


def test_kerchunks_are_flagged_and_reports_are_not(processed) -> None:
    rows, _, truth, t0 = processed
    for want in truth["transmissions"]:
        (row,) = [r for r in rows if abs(_span(r, t0)[0] - want["start_s"]) < TOL]
        assert row.kerchunk == (want.get("kind") == "kerchunk"), want
        assert row.audio_path and row.sha256 and row.status == "complete"


def test_stuck_squelch_is_cut_at_max_flagged_and_alarmed(processed) -> None:
    rows, events, truth, t0 = processed
    stuck_truth = next(t for t in truth["transmissions"] if t.get("kind") == "stuck")
    (row,) = [r for r in rows if r.stuck]
    start, end = _span(row, t0)
    assert start == pytest.approx(stuck_truth["start_s"], abs=TOL)
    assert end - start == pytest.approx(20.0, abs=0.05)
    kinds = [e.kind for e in events]
    assert kinds == ["stuck_squelch", "stuck_squelch_cleared"]
    assert events[0].transmission_id == row.id
    cleared = events[1].at.timestamp() - t0
    assert stuck_truth["end_s"] < cleared < stuck_truth["end_s"] + 2.0
    after = [r for r in rows if _span(r, t0)[0] > stuck_truth["end_s"]]
    assert len(after) == 1 and not after[0].stuck, "listening resumes after the stuck squelch"


def test_recordings_hold_pre_roll_and_audio(processed, tmp_path: Path) -> None:
    rows, _, _, _ = processed
    for r in rows:
        assert r.audio_duration_s is not None and r.duration_s is not None
        pre = (r.started_at - r.audio_started_at).total_seconds()
        assert 0.45 <= pre <= 0.6
        assert r.audio_duration_s == pytest.approx(r.duration_s + pre, abs=0.05)
