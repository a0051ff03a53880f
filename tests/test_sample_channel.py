"""The shipped sample morning (tests/data, a copy of shared/samples) through `process` then `export`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import DATA, REPO, run_cli


def test_process_then_export_gives_the_three_reports_and_the_kerchunk(tmp_path: Path,
                                                                      sample_truth: dict) -> None:
    data_dir = tmp_path / "data"
    cfg = tmp_path / "c.toml"  # the cut and the export, whatever recogniser this machine has installed
    cfg.write_text('[asr]\nengine = "none"\n')
    r = run_cli("--config", str(cfg), "--data-dir", str(data_dir), "process",
                str(DATA / "sample_morning.flac"), "--start", sample_truth["recording_start"])
    assert r.returncode == 0, r.stderr
    assert "4 transmission(s)" in r.stdout
    r = run_cli("--config", str(cfg), "--data-dir", str(data_dir), "export", "transmissions",
                "--date", "2026-11-20", "--format", "json")
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
    r = run_cli("--config", str(cfg), "--data-dir", str(data_dir), "export", "transmissions",
                "--date", "2026-11-20", "--format", "csv")
    lines = r.stdout.strip().splitlines()
    assert lines[0] == "id,start,end,duration_s,station,audio_path,sha256,flags,gateway_id,channel_id"
    assert len(lines) == 5
    assert lines[2].endswith(",kerchunk,gw1,ch1")  # no gateway.id / channel.id configured: the defaults


def test_sample_identities_and_checkins_without_speech_recognition(tmp_path: Path,
                                                                   sample_truth: dict) -> None:
    """ANI alone: Tarutung and Sipahutar; Siatas Barita (no ANI, nothing transcribed) stays unknown
    with the reason; the kerchunk is ignored; the other 12 kecamatan are missing."""
    cfg = tmp_path / "c.toml"
    cfg.write_text((REPO / "config" / "tapanuli-utara.toml").read_text()
                   .replace('engine = "auto"', 'engine = "none"'))
    base = ("--config", str(cfg), "--data-dir", str(tmp_path / "data"))
    r = run_cli(*base, "process", str(DATA / "sample_morning.flac"), "--start",
                sample_truth["recording_start"])
    assert r.returncode == 0, r.stderr
    rows = json.loads(run_cli(*base, "export", "transmissions", "--date", "2026-11-20").stdout)
    assert [row["station"] for row in rows] == ["Tarutung", None, None, "Sipahutar"]
    r = run_cli(*base, "identify", "--date", "2026-11-20")
    reasons = [line.split("\t") for line in r.stdout.strip().splitlines()]
    assert reasons[0][3:] == ["ani", "ANI 101 (bot) is Tarutung"]
    assert reasons[1][2:] == ["-", "-", "no ANI; kerchunk"]
    assert reasons[2][2:] == ["-", "-", "no ANI; not transcribed yet"]
    assert reasons[3][3:] == ["ani", "ANI 112 (bot) is Sipahutar"]
    r = run_cli(*base, "checkins", "--date", "2026-11-20", "--format", "json")
    stations = {c["station"]: c for c in json.loads(r.stdout)["stations"]}
    assert stations["Tarutung"]["status"] == "on_time" and stations["Tarutung"]["identified_by"] == "ani"
    assert stations["Sipahutar"]["status"] == "on_time"
    missing = sorted(n for n, c in stations.items() if c["status"] == "missing")
    assert len(missing) == 13 and "Siatas Barita" in missing  # unknown voice: not counted
