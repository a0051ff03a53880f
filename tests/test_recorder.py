"""Recorder: Ogg Opus written while live under a temporary name, renamed and hashed on close."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from gateway.config import RecorderConfig
from gateway.recorder import Recorder, decode

DATA = Path(__file__).with_name("data")
WIB = ZoneInfo("Asia/Jakarta")
T = 1763596800.0  # 2025-11-20 07:00 WIB


def speech_16k() -> np.ndarray:
    x, rate = sf.read(DATA / "sample_morning.flac", dtype="float32")
    return resample_poly(x[int(2.6 * rate):int(12.0 * rate)], 1, 3).astype(np.float32)


def test_file_grows_under_temp_name_then_is_renamed_and_hashed(tmp_path: Path) -> None:
    rec = Recorder(tmp_path, 16000, RecorderConfig(), WIB).begin("ab" * 16, T)
    assert rec.temp_path.name.startswith(".") and rec.temp_path.name.endswith(".ogg.part")
    assert rec.final_path.parent == tmp_path / "2025" / "11" / "20"
    x = speech_16k()
    for i in range(0, len(x), 320):
        rec.write(x[i:i + 320])
    assert rec.temp_path.stat().st_size > 2000, "audio reaches the disk while live"
    assert not rec.final_path.exists()
    result = rec.finish()
    assert not rec.temp_path.exists() and result.path == rec.final_path
    assert result.sha256 == hashlib.sha256(rec.final_path.read_bytes()).hexdigest()
    info = sf.info(str(rec.final_path))
    assert info.format == "OGG" and info.subtype == "OPUS" and info.channels == 1
    assert result.duration_s == pytest.approx(len(x) / 16000, abs=0.03)
    assert info.duration == pytest.approx(result.duration_s, abs=0.03)
    assert -30 < result.rms_dbfs < -15 and -12 < result.peak_dbfs <= 0.5


@pytest.mark.parametrize("kbps", [6.0, 12.0])
def test_stored_size_follows_the_configured_bitrate(tmp_path: Path, kbps: float) -> None:
    """What is stored per hour of speech stays within the configured Opus bitrate plus 10 % for the
    container: 6 kbit/s (≤ 3 MB/h, the space-saving setting) and the default 12 kbit/s (≤ 6 MB/h)."""
    rec = Recorder(tmp_path, 16000, RecorderConfig(bitrate_kbps=kbps), WIB).begin("cd" * 16, T)
    x = speech_16k()
    rec.write(x)
    result = rec.finish()
    mb_per_hour = result.size / result.duration_s * 3600 / 1e6
    assert mb_per_hour <= kbps * 1000 / 8 * 3600 / 1e6 * 1.10, f"{mb_per_hour:.2f} MB/h"


def test_partial_file_from_a_crash_is_recovered_up_to_the_last_second(tmp_path: Path) -> None:
    rec = Recorder(tmp_path, 16000, RecorderConfig(), WIB).begin("ef" * 16, T)
    x = speech_16k()
    rec.write(x)
    # what a SIGKILL leaves: the bytes on disk right now, without the closing pages
    crashed = tmp_path / "crashed.ogg.part"
    shutil.copy(rec.temp_path, crashed)
    rec.close_partial()
    got = decode(crashed)
    assert got is not None
    duration = len(got.audio) / got.rate
    assert len(x) / 16000 - 1.0 <= duration <= len(x) / 16000 + 0.05


def test_an_empty_partial_file_decodes_to_nothing(tmp_path: Path) -> None:
    p = tmp_path / ".x.ogg.part"
    p.write_bytes(b"")
    assert decode(p) is None
