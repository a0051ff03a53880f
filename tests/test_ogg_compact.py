"""gateway.audio.ogg.compact: a finished recording rewritten smaller with the very same packets.

Truth comes from elsewhere: libsndfile's own page checksums (our CRC must reproduce every one),
libsndfile's and FFmpeg's (PyAV) decoders (the compacted file must decode to the same samples as
the file libsndfile wrote), and the Ogg layout rules (RFC 3533 / RFC 7845: one OpusHead page, one
OpusTags page, granule positions of the audio unchanged).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from gateway.audio.ogg import compact, parse_pages
from gateway.config import RecorderConfig
from gateway.recorder import PAGE_LATENCY_MS, Recorder, _set_page_latency, compression_level

DATA = Path(__file__).with_name("data")
T = 1763596800.0


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    x, rate = sf.read(DATA / "sample_morning.flac", dtype="float32")
    return resample_poly(x[int(2.6 * rate):int(12.0 * rate)], 1, 3).astype(np.float32)


@pytest.fixture(scope="module")
def libsndfile_ogg(speech: np.ndarray, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The file exactly as the live recorder's writer leaves it (libsndfile, 500 ms pages)."""
    path = tmp_path_factory.mktemp("ogg") / "raw.ogg"
    f = sf.SoundFile(str(path), "w", samplerate=16000, channels=1, format="OGG", subtype="OPUS",
                     compression_level=compression_level(RecorderConfig().bitrate_kbps))
    _set_page_latency(f, PAGE_LATENCY_MS)
    for i in range(0, len(speech), 320):
        f.write(speech[i:i + 320])
    f.close()
    return path


def test_our_crc_reproduces_every_libsndfile_page_checksum(libsndfile_ogg: Path) -> None:
    pages = parse_pages(libsndfile_ogg.read_bytes())  # None if any page's CRC differs
    assert pages is not None and len(pages) > 10


def test_compacted_file_decodes_to_the_same_samples_in_libsndfile(libsndfile_ogg: Path,
                                                                  tmp_path: Path) -> None:
    raw = libsndfile_ogg.read_bytes()
    small = compact(raw)
    out = tmp_path / "small.ogg"
    out.write_bytes(small)
    assert len(small) < len(raw) - 700, (len(raw), len(small))  # padded tags alone are ~800 B
    a, ra = sf.read(str(libsndfile_ogg), dtype="float32")
    b, rb = sf.read(str(out), dtype="float32")
    assert ra == rb == 16000
    assert np.array_equal(a, b)


def test_compacted_file_decodes_to_the_same_samples_in_ffmpeg(libsndfile_ogg: Path, tmp_path: Path) -> None:
    av = pytest.importorskip("av")  # PyAV (FFmpeg), installed with faster-whisper
    out = tmp_path / "small.ogg"
    out.write_bytes(compact(libsndfile_ogg.read_bytes()))

    def decode(path: Path) -> np.ndarray:
        with av.open(str(path), options={"err_detect": "crccheck"}) as c:
            return np.concatenate([f.to_ndarray().reshape(-1) for f in c.decode(audio=0)])

    a, b = decode(libsndfile_ogg), decode(out)
    assert len(a) > 16000 * 9
    assert np.array_equal(a, b)


def test_layout_follows_the_ogg_opus_rules(libsndfile_ogg: Path) -> None:
    raw_pages = parse_pages(libsndfile_ogg.read_bytes())
    pages = parse_pages(compact(libsndfile_ogg.read_bytes()))
    assert raw_pages is not None and pages is not None
    assert pages[0].body == raw_pages[0].body and pages[0].flags & 0x02  # OpusHead, BOS
    assert pages[1].body.startswith(b"OpusTags") and b"libopus" in pages[1].body
    assert len(pages[1].body) < 64 and pages[1].granule == 0
    assert pages[-1].flags & 0x04 and sum(1 for p in pages if p.flags & 0x04) == 1  # one EOS, last
    assert pages[-1].granule == raw_pages[-1].granule  # the end (and so the length) is unchanged
    assert {p.granule for p in pages[2:]} <= {p.granule for p in raw_pages[2:]}
    assert all(len(p.lacing) <= 255 for p in pages)
    assert len(pages) < len(raw_pages) / 3
    packets = [sum(p.lacing) for p in raw_pages[2:]]
    assert sum(len(p.body) for p in pages[2:]) == sum(packets)  # every audio byte kept


@pytest.mark.parametrize("mangle", ["garbage", "bad_crc", "truncated"])
def test_anything_unexpected_is_returned_unchanged(libsndfile_ogg: Path, mangle: str) -> None:
    raw = libsndfile_ogg.read_bytes()
    data = {"garbage": b"not an ogg file at all" * 10,
            "bad_crc": raw[:200] + bytes([raw[200] ^ 0xFF]) + raw[201:],
            "truncated": raw[:-7]}[mangle]
    assert compact(data) is data


def test_the_recorder_stores_the_compact_file(speech: np.ndarray, libsndfile_ogg: Path,
                                              tmp_path: Path) -> None:
    rec = Recorder(tmp_path, 16000, RecorderConfig(), ZoneInfo("Asia/Jakarta")).begin("ab" * 16, T)
    for i in range(0, len(speech), 320):
        rec.write(speech[i:i + 320])
    result = rec.finish()
    assert [p.name for p in result.path.parent.iterdir()] == [result.path.name]  # no .part, no .compact
    assert result.size == result.path.stat().st_size < libsndfile_ogg.stat().st_size - 700
    assert result.sha256 == hashlib.sha256(result.path.read_bytes()).hexdigest()
    stored, _ = sf.read(str(result.path), dtype="float32")
    reference, _ = sf.read(str(libsndfile_ogg), dtype="float32")
    assert len(stored) == len(reference)
