"""The shipped sample morning (tests/data, a copy of shared/samples) through `process` then `export`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import DATA, run_cli


def test_process_then_export_gives_the_three_reports_and_the_kerchunk(tmp_path: Path,
                                                                      sample_truth: dict) -> None:
    data_dir = tmp_path / "data"
    r = run_cli("--data-dir", str(data_dir), "process", str(DATA / "sample_morning.flac"),
                "--start", sample_truth["recording_start"])
    assert r.returncode == 0, r.stderr
    assert "4 transmission(s)" in r.stdout
    r = run_cli("--data-dir", str(data_dir), "export", "transmissions", "--date", "2026-11-20",
                "--format", "json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    truth = sample_truth["transmissions"]
    assert len(rows) == len(truth) == 4
    from datetime import datetime

    t0 = datetime.fromisoformat(sample_truth["recording_start"])
    for row, want in zip(rows, truth, strict=True):
        start = (datetime.fromisoformat(row["start"]) - t0).total_seconds()
        end = (datetime.fromisoformat(row["end"]) - t0).total_seconds()
        assert start == pytest.approx(want["start_s"], abs=0.3), (row, want)
        assert end == pytest.approx(want["end_s"], abs=0.3), (row, want)
        assert row["start"].endswith("+07:00")
        assert row["flags"] == (["kerchunk"] if want.get("kind") == "kerchunk" else [])
        assert (data_dir / row["audio_path"]).is_file() and len(row["sha256"]) == 64
    r = run_cli("--data-dir", str(data_dir), "export", "transmissions", "--date", "2026-11-20",
                "--format", "csv")
    lines = r.stdout.strip().splitlines()
    assert lines[0] == "id,start,end,duration_s,station,audio_path,sha256,flags" and len(lines) == 5
    assert lines[2].endswith(",kerchunk")
