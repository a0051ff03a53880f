"""The AudioSource contract, run over every implementation, plus device lookup and its CLI errors.

The contract suite plays one known signal (quiet noise floor, a 1 kHz tone burst at -12 dBFS) through
each source: :class:`FileSource` reading the WAV (as fast as it can, and paced in real time) and
:class:`PyAudioSource` capturing PortAudio's "pulse" input while the WAV is played into a private
PulseAudio null sink (``tests/pulse.py``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from gateway.audio.pyaudio_source import InputDevice, PyAudioSource, find_input, list_inputs
from gateway.audio.source import AudioBlock, AudioSource, AudioSourceError, FileSource

import pulse

RATE = 48000
TONE_HZ = 1000.0
TONE_AT_S, TONE_S = 0.8, 1.0
TONE_DBFS = -12.0  # RMS of the burst
FLOOR_DBFS = -70.0
SIGNAL_S = 2.6
FILE_EPOCH = 1_795_000_000.0  # an arbitrary fixed date for the file source's clock
SENSIBLE_RATES = (8000, 16000, 22050, 32000, 44100, 48000)

pulse_sink = pulse.fixture(scope="module")


def _signal() -> np.ndarray:
    rng = np.random.default_rng(5)
    x = rng.normal(0.0, 10 ** (FLOOR_DBFS / 20), int(SIGNAL_S * RATE))
    n0, n = int(TONE_AT_S * RATE), int(TONE_S * RATE)
    x[n0:n0 + n] += np.sqrt(2) * 10 ** (TONE_DBFS / 20) * np.sin(2 * np.pi * TONE_HZ * np.arange(n) / RATE)
    return x.astype(np.float32)


def _dbfs(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-12))


@dataclass
class Rig:
    """One source under test and how to get the test signal through it."""

    kind: str
    source: AudioSource
    wav: Path
    sink: str | None = None
    play_started: float | None = None  # epoch when paplay was started (live only)
    first_block_at: float | None = None  # epoch when the first block came out
    blocks: list[AudioBlock] = field(default_factory=list)

    def capture(self, timeout_s: float = 20.0) -> list[AudioBlock]:
        """Read the whole test signal (live: from the first block until paplay is done + 0.5 s)."""
        stop = threading.Event()
        player: subprocess.Popen[bytes] | None = None
        done_at: float | None = None
        t0 = time.monotonic()
        for block in self.source.blocks(stop):
            self.blocks.append(block)
            if self.first_block_at is None:
                self.first_block_at = time.time()
                if self.sink is not None:
                    self.play_started = time.time()
                    player = pulse.play(self.wav, self.sink)
            if player is not None and done_at is None and player.poll() is not None:
                assert player.returncode == 0, player.stderr.read() if player.stderr else ""
                done_at = time.monotonic()
            if done_at is not None and time.monotonic() - done_at > 0.5:
                stop.set()
            assert time.monotonic() - t0 < timeout_s, "capture did not finish"
        return self.blocks

    def audio(self) -> np.ndarray:
        return np.concatenate([b.samples for b in self.blocks])


@pytest.fixture(scope="module")
def wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("signal") / "tone.wav"
    sf.write(path, _signal(), RATE, subtype="PCM_16")
    return path


@pytest.fixture(params=["file", "file-realtime", "pyaudio"])
def rig(request: pytest.FixtureRequest, wav: Path) -> Iterator[Rig]:
    if request.param == "pyaudio":
        sink = request.getfixturevalue("pulse_sink")
        r = Rig("pyaudio", PyAudioSource("pulse"), wav, sink=sink)
    else:
        r = Rig(request.param, FileSource(wav, FILE_EPOCH, realtime=request.param == "file-realtime"), wav)
    try:
        yield r
    finally:
        r.source.close()


# --- the contract ------------------------------------------------------------------------------

def test_rate_is_a_sensible_positive_int(rig: Rig) -> None:
    assert isinstance(rig.source.rate, int) and not isinstance(rig.source.rate, bool)
    assert rig.source.rate in SENSIBLE_RATES
    assert isinstance(rig.source.name, str) and rig.source.name


def test_blocks_are_mono_float32_in_range_with_contiguous_indices(rig: Rig) -> None:
    blocks = rig.capture()
    assert blocks
    expected = 0
    for b in blocks:
        assert isinstance(b.samples, np.ndarray)
        assert b.samples.dtype == np.float32 and b.samples.ndim == 1 and len(b.samples) > 0
        assert np.all(np.isfinite(b.samples))
        assert float(b.samples.min()) >= -1.0 and float(b.samples.max()) <= 1.0
        assert b.index == expected, f"gap or overlap at {expected}: block says {b.index}"
        expected += len(b.samples)
    if isinstance(rig.source, PyAudioSource):
        assert rig.source.dropped == 0
    else:
        assert expected == int(SIGNAL_S * RATE)


def test_start_time_is_epoch(rig: Rig) -> None:
    rig.capture()
    if rig.kind.startswith("file"):
        assert rig.source.start_time == FILE_EPOCH
    else:
        assert rig.first_block_at is not None
        # sample 0 was captured one block before the first block came out
        assert abs(rig.source.start_time - rig.first_block_at) < 0.5
        assert abs(rig.source.start_time - time.time()) < 60


def test_played_content_comes_out(rig: Rig) -> None:
    rig.capture()
    x = rig.audio()
    rate = rig.source.rate
    win = rate // 50  # 20 ms windows
    levels = np.array([_dbfs(x[i:i + win]) for i in range(0, len(x) - win + 1, win)])
    loud = np.flatnonzero(levels > TONE_DBFS - 6)
    assert len(loud) > 0, f"no tone burst found (max level {levels.max():.1f} dBFS)"
    onset_s, end_s = loud[0] * win / rate, (loud[-1] + 1) * win / rate
    assert end_s - onset_s == pytest.approx(TONE_S, abs=0.06)
    assert len(loud) == pytest.approx(TONE_S * 50, abs=3), "the burst is broken up"
    burst = x[int((onset_s + 0.1) * rate):int((end_s - 0.1) * rate)]
    spectrum = np.abs(np.fft.rfft(burst * np.hanning(len(burst))))
    assert np.fft.rfftfreq(len(burst), 1 / rate)[np.argmax(spectrum)] == pytest.approx(TONE_HZ, abs=5)
    if rig.kind.startswith("file"):
        assert onset_s == pytest.approx(TONE_AT_S, abs=0.021)
        assert _dbfs(burst) == pytest.approx(TONE_DBFS, abs=0.5)
    else:
        # where the burst lands on the source's clock vs when it was played
        assert rig.play_started is not None
        lag = rig.source.start_time + onset_s - (rig.play_started + TONE_AT_S)
        assert -0.1 < lag < 0.5, f"burst at {lag:+.3f} s from where it was played"
        assert _dbfs(burst) == pytest.approx(TONE_DBFS, abs=3.0)


def test_stop_ends_iteration_promptly(rig: Rig) -> None:
    stop = threading.Event()
    got: list[AudioBlock] = []
    first = threading.Event()
    ended = threading.Event()

    def consume() -> None:
        for b in rig.source.blocks(stop):
            got.append(b)
            first.set()
            if not rig.kind.endswith("realtime") and rig.kind != "pyaudio":
                stop.set()  # a fast file source: ask at once, after the first block
        ended.set()

    t = threading.Thread(target=consume, daemon=True)
    t.start()
    assert first.wait(10), "no block within 10 s"
    time.sleep(0.3)
    t_stop = time.monotonic()
    stop.set()
    assert ended.wait(5), "iteration did not end after stop"
    assert time.monotonic() - t_stop < 1.0
    t.join(1)
    if rig.kind == "file":
        assert len(got) == 1
    else:
        assert got[-1].index + len(got[-1].samples) < int(SIGNAL_S * RATE)


# --- device lookup (not part of the contract) ---------------------------------------------------

DEVICES = [
    InputDevice(0, "HDA Intel PCH: ALC3246 Analog (hw:0,0)", 2, 44100, (48000, 44100)),
    InputDevice(1, "USB Audio CODEC", 1, 48000, (48000, 44100, 16000)),
    InputDevice(2, "USB Audio CODEC: Line (hw:2,0)", 2, 48000, (48000,)),
    InputDevice(3, "pulse", 32, 44100, (48000, 44100, 16000)),
]


def test_find_input_by_exact_name_even_when_it_is_also_a_substring() -> None:
    assert find_input(DEVICES, "USB Audio CODEC").index == 1
    assert find_input(DEVICES, "pulse").index == 3


def test_find_input_by_unique_substring_ignoring_case() -> None:
    assert find_input(DEVICES, "alc3246").index == 0
    assert find_input(DEVICES, "line (HW:2").index == 2


def test_find_input_unknown_lists_the_inputs() -> None:
    with pytest.raises(AudioSourceError) as e:
        find_input(DEVICES, "no-such-card")
    msg = str(e.value)
    assert "audio.device" in msg and "no-such-card" in msg and "\n" not in msg
    for d in DEVICES:
        assert repr(d.name) in msg
    with pytest.raises(AudioSourceError, match="none"):
        find_input([], "pulse")


def test_find_input_ambiguous_substring_names_the_candidates() -> None:
    with pytest.raises(AudioSourceError) as e:
        find_input(DEVICES, "usb audio")
    msg = str(e.value)
    assert "audio.device" in msg and "several" in msg
    assert repr(DEVICES[1].name) in msg and repr(DEVICES[2].name) in msg
    assert repr("pulse") not in msg  # only the inputs that match


def test_list_inputs_offers_pulse_with_a_preferred_rate(pulse_sink: str) -> None:
    devices = {d.name: d for d in list_inputs()}
    assert "pulse" in devices, f"inputs: {sorted(devices)}"
    assert devices["pulse"].channels >= 1
    assert set(devices["pulse"].rates) & {48000, 44100, 16000}


def test_pyaudio_source_unknown_device_raises_one_line(pulse_sink: str) -> None:
    with pytest.raises(AudioSourceError, match=r"audio.device = 'no-such-card'.*'pulse'"):
        PyAudioSource("no-such-card")


def test_pyaudio_source_unopenable_device_raises_one_line(pulse_sink: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import pyaudio

    def busy(*_a: object, **_k: object) -> None:
        raise OSError(-9985, "Device unavailable")

    monkeypatch.setattr(pyaudio.PyAudio, "open", busy)
    with pytest.raises(AudioSourceError, match=r"^audio.device = 'pulse': cannot open .*Device unavailable"):
        PyAudioSource("pulse")


def test_run_with_unknown_device_exits_2_before_creating_the_database(pulse_sink: str,
                                                                      tmp_path: Path) -> None:
    cfg = tmp_path / "gateway.toml"
    cfg.write_text('[audio]\ndevice = "no-such-card"\n', encoding="utf-8")
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HT_GATEWAY_")}
    r = subprocess.run([sys.executable, "-m", "gateway", "--config", str(cfg), "--data-dir", str(data),
                        "run"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "audio.device" in lines[0] and "no-such-card" in lines[0] and "'pulse'" in lines[0]
    # the source is opened before the database: nothing is written (the directory may exist, empty)
    assert not (data / "gateway.sqlite3").exists()
    assert not data.exists() or list(data.iterdir()) == []
