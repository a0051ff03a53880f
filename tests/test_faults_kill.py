"""SIGKILL at each step of a transmission's life, then restart: nothing whose audio reached disk is lost.

The real command line processes a generated channel (espeak-ng speech with DTMF ANI, gateway/sim)
and kills itself at a named fault point (gateway/faults.py). A restart on a silent file runs
recovery alone; a second run of the channel must then resume it without a duplicate. Both are checked
against the generator's truth (times, ANI digits) and against the files on disk (tests/faultkit.py).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from faultkit import (
    START,
    check,
    cli,
    config,
    current_transcripts,
    events,
    rows,
    silence,
)

from gateway.report.filing import revisions
from gateway.store.db import Database, default_url


def _audio_frames_into_second(truth: dict, seconds: float) -> int:
    """How many 20 ms frames the writer has seen ``seconds`` into the second transmission (the first
    one's frames, pre-roll included, then the second's)."""
    first = truth["transmissions"][0]
    return round((first["end_s"] - first["start_s"] + 0.5) / 0.02) + round((0.5 + seconds) / 0.02)


# point to kill at → (truth indices stored after recovery alone, of which recovered)
STEPS = {
    "after_open_commit@2": ({0}, set()),      # row committed, no file yet: nothing to keep
    "audio": ({0, 1}, {1}),                   # mid-audio of the second (frame count set below)
    "before_rename@2": ({0, 1}, {1}),         # finished and fsynced, still .part
    "after_rename@2": ({0, 1}, {1}),          # final name, row still `recording`
    "after_commit@2": ({0, 1}, set()),        # nothing to do
    "open_commit:locked@2,before_rename@2": ({0, 1}, {1}),  # open not committed: file adopted
}


def _kill_then_restart(tmp_path: Path, channel: tuple[Path, dict], point: str, url: str | None) -> None:
    path, truth = channel
    data = tmp_path / "data"
    cfg = config(tmp_path / "c.toml", url)
    fault = point if point != "audio" else f"audio@{_audio_frames_into_second(truth, 3.0)}"
    r = cli(data, cfg, "process", str(path), "--start", START, fault=fault)
    assert r.returncode == -9, (r.returncode, r.stderr[-2000:])

    r = cli(data, cfg, "process", str(silence(tmp_path)), "--start", START)  # recovery runs at start
    assert r.returncode == 0, r.stderr[-2000:]
    stored, recovered = STEPS[point]
    got = check(data, url, truth, stored)
    assert set(got) == stored
    assert {i for i, row in got.items() if row.recovered} == recovered
    if point == "after_open_commit@2":
        assert "recording_lost" in events(data, url)
    if point.startswith("open_commit"):  # no row was ever committed: rebuilt from the file's name
        assert got[1].source == "adopted"
    if point == "audio":  # killed 3 s into the second: at least 2 s of it (pre-roll, ANI, speech) kept
        assert got[1].audio_duration_s > 2.0

    r = cli(data, cfg, "process", str(path), "--start", START)  # the same file again: resumes
    assert r.returncode == 0, r.stderr[-2000:]
    got = check(data, url, truth, {0, 1, 2})
    assert len(rows(data, url)) == 3
    assert not any(row.recovered for row in got.values())  # recorded again whole, in place
    assert "skipped" in r.stderr or not stored


@pytest.mark.parametrize("point", list(STEPS))
def test_sigkill_at_each_step_sqlite(tmp_path: Path, channel, point: str) -> None:
    _kill_then_restart(tmp_path, channel, point, None)


@pytest.mark.parametrize("point", ["audio", "after_rename@2", "open_commit:locked@2,before_rename@2"])
def test_sigkill_at_each_step_postgresql(tmp_path: Path, channel, pg_url: str, point: str) -> None:
    _kill_then_restart(tmp_path, channel, point, pg_url)


def test_sigkill_while_storing_a_transcript(tmp_path: Path, channel) -> None:
    """Killed inside the transcript's transaction: the restart transcribes what has none, once each."""
    path, truth = channel
    data = tmp_path / "data"
    cfg = config(tmp_path / "c.toml")
    r = cli(data, cfg, "process", str(path), "--start", START, fault="transcript_store@2", fake_asr=True)
    assert r.returncode == -9, r.stderr[-2000:]
    r = cli(data, cfg, "process", str(silence(tmp_path)), "--start", START, fake_asr=True)
    assert r.returncode == 0, r.stderr[-2000:]
    got = check(data, None, truth, {0, 1})
    ids = current_transcripts(data, None)
    assert sorted(ids) == sorted(row.id for row in rows(data, None))  # exactly one current each
    r = cli(data, cfg, "process", str(path), "--start", START, fake_asr=True)
    assert r.returncode == 0, r.stderr[-2000:]
    got = check(data, None, truth, {0, 1, 2})
    assert sorted(current_transcripts(data, None)) == sorted(row.id for row in got.values())


def test_sigkill_while_filing_the_report(tmp_path: Path, channel, example_config) -> None:
    """Killed inside the filing transaction: no revision; filing again makes revision 1, each
    transmission counted once."""
    path, truth = channel
    data = tmp_path / "data"
    cfg = tmp_path / "tapanuli.toml"  # the stations, so ANI names a kecamatan in the report
    cfg.write_text(Path(example_config.source_path).read_text().replace('engine = "auto"', 'engine = "none"'))
    r = cli(data, cfg, "process", str(path), "--start", START)
    assert r.returncode == 0, r.stderr[-2000:]
    day = START[:10]
    r = cli(data, cfg, "report", "--date", day, "--file", fault="report_filing")
    assert r.returncode == -9, r.stderr[-2000:]
    r = cli(data, cfg, "report", "--date", day, "--format", "json", "--file")
    assert r.returncode == 0, r.stderr[-2000:]
    db = Database(default_url(data))
    try:
        revs = revisions(db, date.fromisoformat(day))
    finally:
        db.close()
    assert [rv.revision for rv in revs] == [1]
    got = check(data, None, truth, {0, 1, 2})
    text = json.dumps(revs[0].content)
    for i in (0, 1):  # the two ANI stations are in the filed report
        assert truth["transmissions"][i]["station"] in text
    assert got



def test_a_store_failing_during_recovery_is_one_line_and_loses_nothing(tmp_path: Path, channel) -> None:
    path, truth = channel
    data = tmp_path / "data"
    cfg = config(tmp_path / "c.toml")
    r = cli(data, cfg, "process", str(path), "--start", START, fault="after_rename@2")
    assert r.returncode == -9
    r = cli(data, cfg, "process", str(silence(tmp_path)), "--start", START, fault="recovery_commit:locked")
    assert r.returncode == 1
    assert r.stderr.splitlines()[-1].startswith(f"ht-gateway: error: recovery at start ({data}): "), r.stderr
    assert "database is locked" in r.stderr.splitlines()[-1] and "Traceback" not in r.stderr
    assert [row.status for row in rows(data, None)] == ["complete", "recording"]  # rolled back
    r = cli(data, cfg, "process", str(silence(tmp_path)), "--start", START)
    assert r.returncode == 0, r.stderr
    got = check(data, None, truth, {0, 1})
    assert got[1].recovered
