"""Recordings without rows are adopted from their names, old layouts included; the ANI is decoded
again from the audio. The DTMF is synthesised here from the standard's frequency table (ITU-T Q.23),
independently of gateway/identification/dtmf.py."""

from __future__ import annotations

import hashlib
import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import soundfile as sf
from sqlalchemy import select

from gateway.config import Config
from gateway.recorder import Recorder, parse_name
from gateway.recovery import recover_interrupted
from gateway.store.models import Transmission

TZ = ZoneInfo("Asia/Jakarta")
ROWS, COLS = (697, 770, 852, 941), (1209, 1336, 1477, 1633)
KEYS = ("123A", "456B", "789C", "*0#D")


def dtmf(digits: str, rate: int = 16000, on: float = 0.08, off: float = 0.06) -> np.ndarray:
    out = [np.zeros(int(0.3 * rate), np.float32)]
    t = np.arange(int(on * rate)) / rate
    for d in digits:
        r = next(i for i, k in enumerate(KEYS) if d in k)
        c = KEYS[r].index(d)
        out.append((0.3 * np.sin(2 * np.pi * ROWS[r] * t) + 0.3 * np.sin(2 * np.pi * COLS[c] * t))
                   .astype(np.float32))
        out.append(np.zeros(int(off * rate), np.float32))
    rng = np.random.default_rng(1)
    out.append((0.05 * rng.standard_normal(2 * rate)).astype(np.float32))  # then "speech"
    return np.concatenate(out)


def _write(path: Path, audio: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with sf.SoundFile(str(path), "w", samplerate=16000, channels=1, format="OGG", subtype="OPUS") as f:
        f.write(audio)


def test_names_round_trip_start_and_uid() -> None:
    rec = Recorder(Path("/x"), 16000, Config().recorder, TZ)
    t = datetime(2026, 11, 20, 7, 5, 3, 456000, TZ).timestamp()
    temp, final = rec.paths_for("ab" * 16, t)
    for p, is_temp in ((temp, True), (final, False)):
        n = parse_name(p.name, TZ)
        assert n is not None and n.uid == "ab" * 16 and n.temp is is_temp
        assert n.audio_start is not None and n.audio_start.timestamp() == pytest.approx(t, abs=1e-6)
    assert final.parent == Path("/x/2026/11/20")
    assert parse_name("notes.txt", TZ) is None


def test_unlisted_files_are_adopted_with_their_ani(sqlite_db, tmp_path: Path) -> None:
    data = Path(sqlite_db.url.removeprefix("sqlite:///")).parent
    cfg = Config()
    day = data / "recordings" / "2026" / "11" / "20"
    old_final = day / "20261120T070500_abcdef12.ogg"  # the layout before names carried the full uid
    _write(old_final, dtmf("104"))
    old_temp = day / f".{'c' * 32}.ogg.part"  # an old temporary name: no time in it
    _write(old_temp, dtmf("109"))
    new_temp, _ = Recorder(data / "recordings", 16000, cfg.recorder, TZ).paths_for(
        "d" * 32, datetime(2026, 11, 20, 7, 9, 0, 250000, TZ).timestamp())
    _write(new_temp, dtmf("112"))
    empty = day / f".{'e' * 32}.ogg.part"
    empty.write_bytes(b"")
    os.utime(old_temp, (1_790_000_000, 1_790_000_000))

    ids = recover_interrupted(sqlite_db, data, cfg)
    assert len(ids) == 3
    with sqlite_db.read() as s:
        got = {r.ani: r for r in s.scalars(select(Transmission))}
    assert set(got) == {"104", "109", "112"}
    assert all(r.recovered and r.status == "complete" and r.source == "adopted" for r in got.values())
    assert got["104"].audio_started_at == datetime(2026, 11, 20, 7, 5, 0, tzinfo=TZ)
    assert got["112"].uid == "d" * 32
    assert got["112"].audio_started_at == datetime(2026, 11, 20, 7, 9, 0, 250000, tzinfo=TZ)
    assert got["109"].uid == "c" * 32
    assert got["109"].audio_started_at.timestamp() == pytest.approx(1_790_000_000 - 2.3 - 0.42, abs=0.1)
    for r in got.values():
        path = data / r.audio_path
        assert not path.name.endswith(".part")
        assert hashlib.sha256(path.read_bytes()).hexdigest() == r.sha256
    assert not empty.exists() and not list(data.rglob("*.part"))
    assert recover_interrupted(sqlite_db, data, cfg) == []  # a second pass finds nothing to do


@pytest.mark.parametrize("name", [
    "20261399T999999.000+0700_" + "c" * 32 + ".ogg",  # month 13, hour 99: no such time
    "99991231T235959.999+1400_" + "d" * 32 + ".ogg",  # a time datetime cannot add a duration to
    "00010101T000000.000+0000_" + "e" * 32 + ".ogg",  # a year no day's bounds reach
    "99991231T235959_abcdef12.ogg",  # the older layout
])
def test_a_name_with_an_impossible_time_is_skipped_not_fatal(sqlite_db, tmp_path: Path, caplog,
                                                             name: str) -> None:
    """One odd file in the recordings tree must not stop the start: it is left as it is with one
    log line, and the good recording beside it is still adopted."""
    data = Path(sqlite_db.url.removeprefix("sqlite:///")).parent
    cfg = Config()
    day = data / "recordings" / "2026" / "12" / "04"
    odd = day / name
    _write(odd, dtmf("104"))  # audio that decodes: only the name is wrong
    good, _ = Recorder(data / "recordings", 16000, cfg.recorder, TZ).paths_for(
        "f" * 32, datetime(2026, 12, 4, 7, 0, 0, tzinfo=TZ).timestamp())
    _write(good, dtmf("112"))
    before = odd.read_bytes()

    ids = recover_interrupted(sqlite_db, data, cfg)

    with sqlite_db.read() as s:
        rows = list(s.scalars(select(Transmission)))
    assert len(ids) == 1 and [(r.uid, r.ani) for r in rows] == [("f" * 32, "112")]
    assert odd.read_bytes() == before  # left where it was, untouched
    lines = [r for r in caplog.records if name in r.getMessage()]
    assert len(lines) == 1 and "left as it is" in lines[0].getMessage()


def test_an_old_temporary_name_with_an_absurd_mtime_is_skipped(sqlite_db, caplog) -> None:
    data = Path(sqlite_db.url.removeprefix("sqlite:///")).parent
    old_temp = data / "recordings" / "2026" / "11" / "20" / f".{'c' * 32}.ogg.part"
    _write(old_temp, dtmf("109"))
    os.utime(old_temp, (0, 0))  # 1970: no gateway recorded then
    assert recover_interrupted(sqlite_db, data, Config()) == []
    assert old_temp.is_file()
    assert any("left as it is" in r.getMessage() for r in caplog.records)


def test_parse_name_refuses_impossible_times() -> None:
    with pytest.raises(ValueError, match="not a valid time"):
        parse_name("20261399T999999.000+0700_" + "c" * 32 + ".ogg", TZ)
    with pytest.raises(ValueError, match=r"outside 2000-01-01\.\.2099-12-31"):
        parse_name("99991231T235959.999+1400_" + "d" * 32 + ".ogg", TZ)
    n = parse_name("20991231T235959.999+0700_" + "d" * 32 + ".ogg", TZ)
    assert n is not None and n.audio_start == datetime(2099, 12, 31, 23, 59, 59, 999000, TZ)
