"""Recorder: one Ogg Opus file per transmission, written while it is live.

The file grows under a temporary name (``.NAME.ogg.part`` in the day's folder) as audio arrives;
we ask libsndfile's Ogg/Opus writer for a page every 500 ms (``SFC_SET_OGG_PAGE_LATENCY_MS``), which
with the segmenter's 0.4 s tail hold-back means a process killed mid-transmission loses < 1 s.
On close the file is fsynced, renamed to its final name and hashed. :func:`decode` reads back what
a crash left (gateway/recovery.py finishes it).

Layout: ``<data>/recordings/YYYY/MM/DD/YYYYMMDDTHHMMSS.mmm+ZZZZ_<uid>.ogg`` (temporary:
``.<that name>.part``), the date in the configured time zone. The name carries the first sample's
time to the millisecond with its UTC offset and the full uid, so a file whose row was never committed
can be adopted (:func:`parse_name`). Older names (``YYYYMMDDTHHMMSS_<uid8>.ogg``, ``.<uid>.ogg.part``)
are still read. Bitrate: libsndfile maps ``compression_level`` 0..1 onto ~256..5 kbit/s linearly; we pick the
level for ``recorder.bitrate_kbps`` (bench/bench_spine.py prints the bytes per hour actually stored).
libsndfile's Opus writer offers no other setting (application, frame size and bitrate mode are
fixed: 20 ms frames, VBR; ``SFC_SET_BITRATE_MODE`` is refused). On close, before the rename, the
file is compacted (:func:`gateway.audio.ogg.compact`: a minimal OpusTags instead of ~800 padded
bytes, 5 s pages instead of 0.5 s ones; the same packets) through a sibling ``….part.compact``
file replaced onto the temporary one, so a crash leaves either whole version.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import soundfile as sf

from gateway.audio.dsp import Resampler
from gateway.audio.ogg import compact
from gateway.config import RecorderConfig
from gateway.faults import fault_point
from gateway.timeutil import MAX_DATE, MIN_DATE

log = logging.getLogger(__name__)

TEMP_SUFFIX = ".ogg.part"
PAGE_LATENCY_MS = 500.0
_SFC_SET_OGG_PAGE_LATENCY_MS = 0x1302  # from sndfile.h; soundfile has no wrapper for it


@dataclass(frozen=True)
class RecordingResult:
    path: Path
    sha256: str
    duration_s: float
    peak_dbfs: float
    rms_dbfs: float
    size: int


def compression_level(bitrate_kbps: float) -> float:
    return float(min(1.0, max(0.0, 1.0 - (bitrate_kbps * 1000.0 - 5000.0) / 250000.0)))


def _to_db(x: float, power: bool = False) -> float:
    return max(-120.0, (10.0 if power else 20.0) * float(np.log10(x + 1e-20)))


class LiveRecording:
    def __init__(self, temp_path: Path, final_path: Path, in_rate: int, cfg: RecorderConfig) -> None:
        self.temp_path, self.final_path = temp_path, final_path
        self.rate = cfg.sample_rate
        self._resampler = Resampler(in_rate, cfg.sample_rate)
        temp_path.parent.mkdir(parents=True, exist_ok=True)
        self._file = sf.SoundFile(str(temp_path), "w", samplerate=cfg.sample_rate, channels=1,
                                  format="OGG", subtype="OPUS",
                                  compression_level=compression_level(cfg.bitrate_kbps))
        _set_page_latency(self._file, PAGE_LATENCY_MS)
        self._peak = 0.0
        self._sumsq = 0.0
        self._n = 0

    def write(self, samples: np.ndarray) -> None:
        y = self._resampler.process(samples)
        self._write(y)

    def _write(self, y: np.ndarray) -> None:
        if len(y) == 0:
            return
        self._file.write(y)
        self._peak = max(self._peak, float(np.max(np.abs(y))))
        self._sumsq += float(np.dot(y, y))
        self._n += len(y)

    def finish(self) -> RecordingResult:
        self._write(self._resampler.process(np.zeros(0, np.float32), last=True))
        self._file.close()
        _compact_file(self.temp_path)
        _fsync(self.temp_path)
        fault_point("before_rename")
        os.replace(self.temp_path, self.final_path)
        fsync_dir(self.final_path.parent)
        fault_point("after_rename")
        return RecordingResult(
            path=self.final_path, sha256=sha256_file(self.final_path), duration_s=self._n / self.rate,
            peak_dbfs=_to_db(self._peak), rms_dbfs=_to_db(self._sumsq / max(1, self._n), power=True),
            size=self.final_path.stat().st_size,
        )

    def close_partial(self) -> None:
        """Close the file under its temporary name (left for gateway/recovery.py)."""
        if not self._file.closed:
            self._file.close()


class Recorder:
    def __init__(self, root: Path, in_rate: int, cfg: RecorderConfig, tz: ZoneInfo) -> None:
        self.root, self.in_rate, self.cfg, self.tz = root, in_rate, cfg, tz

    def paths_for(self, uid: str, audio_start: float) -> tuple[Path, Path]:
        local = datetime.fromtimestamp(round(audio_start, 3), self.tz)
        day = self.root / f"{local:%Y}" / f"{local:%m}" / f"{local:%d}"
        name = f"{local:%Y%m%dT%H%M%S}.{local.microsecond // 1000:03d}{local:%z}_{uid}.ogg"
        return day / f".{name}.part", day / name

    def begin(self, uid: str, audio_start: float) -> LiveRecording:
        temp, final = self.paths_for(uid, audio_start)
        return LiveRecording(temp, final, self.in_rate, self.cfg)


_NAME = re.compile(r"^\.?(\d{8}T\d{6})\.(\d{3})([+-]\d{4})_([0-9a-zA-Z-]{1,32})\.ogg(\.part)?$")
_OLD_FINAL = re.compile(r"^(\d{8}T\d{6})_([0-9a-f]{8})\.ogg$")
_OLD_TEMP = re.compile(r"^\.([0-9a-f]{32})\.ogg\.part$")


@dataclass(frozen=True)
class NamedFile:
    """What a recording's file name says: its uid (None: an old name without the full uid), the
    first sample's time (None: an old temporary name), and whether it is a temporary file."""

    uid: str | None
    audio_start: datetime | None
    temp: bool


def check_time(t: datetime, what: str) -> datetime:
    """``t`` if its day is one a recording can have (:data:`gateway.timeutil.MIN_DATE` ..
    ``MAX_DATE``, the command line's: a name outside them was not written by a gateway, and its time
    plus a duration could overflow ``datetime`` or give rows retention cannot date), else
    ValueError naming ``what``."""
    if not MIN_DATE <= t.date() <= MAX_DATE:
        raise ValueError(f"{what} {t.isoformat()} is outside {MIN_DATE}..{MAX_DATE}")
    return t


def parse_name(name: str, tz: ZoneInfo) -> NamedFile | None:
    """Read a recording's file name (current or older layout); None if it is not one of ours.
    ValueError (one line) for a name of our form whose time is impossible (``20261399T999999``) or
    outside the days a recording can have (:func:`check_time`): recovery skips such a file rather
    than stop."""
    if m := _NAME.match(name):
        t = _name_time(m[1] + m[3], "%Y%m%dT%H%M%S%z", None)
        return NamedFile(m[4], t + timedelta(milliseconds=int(m[2])), bool(m[5]))
    if m := _OLD_FINAL.match(name):
        return NamedFile(None, _name_time(m[1], "%Y%m%dT%H%M%S", tz), False)
    if m := _OLD_TEMP.match(name):
        return NamedFile(m[1], None, True)
    return None


def _name_time(text: str, fmt: str, tz: ZoneInfo | None) -> datetime:
    try:
        t = datetime.strptime(text, fmt)
    except ValueError:
        raise ValueError(f"the name's time {text!r} is not a valid time") from None
    return check_time(t if tz is None else t.replace(tzinfo=tz), "the name's time")


@dataclass(frozen=True)
class Decoded:
    """A recording read back: its samples (float32, mono), rate, hash and size."""

    audio: np.ndarray
    rate: int
    sha256: str
    size: int

    def result(self, path: Path) -> RecordingResult:
        a = self.audio
        return RecordingResult(
            path=path, sha256=self.sha256, duration_s=len(a) / self.rate,
            peak_dbfs=_to_db(float(np.max(np.abs(a)))) if len(a) else -120.0,
            rms_dbfs=_to_db(float(np.mean(a.astype(np.float64) ** 2)), power=True) if len(a) else -120.0,
            size=self.size)


def decode(path: Path) -> Decoded | None:
    """Read a recording whole (a file cut off mid-page decodes up to its last complete page);
    None if nothing in it decodes."""
    try:
        audio, rate = sf.read(str(path), dtype="float32", always_2d=False)
    except (sf.LibsndfileError, RuntimeError) as e:
        log.warning("%s: does not decode (%s)", path, e)
        return None
    if len(audio) == 0:
        return None
    return Decoded(audio, int(rate), sha256_file(path), path.stat().st_size)


def _set_page_latency(f: sf.SoundFile, ms: float) -> None:
    value = sf._ffi.new("double*", ms)
    if sf._snd.sf_command(f._file, _SFC_SET_OGG_PAGE_LATENCY_MS, value, sf._ffi.sizeof("double")):
        log.warning("libsndfile refused an Ogg page latency of %.0f ms", ms)


def _compact_file(path: Path) -> None:
    """Replace the closed file by its compact form (same packets), atomically; as is on any doubt."""
    data = path.read_bytes()
    small = compact(data)
    if small is data or len(small) >= len(data):
        return
    side = path.with_name(path.name + ".compact")
    with open(side, "wb") as f:
        f.write(small)
        f.flush()
        os.fsync(f.fileno())
    os.replace(side, path)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make a rename (or a new file) in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
