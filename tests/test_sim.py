"""The channel simulator (gateway.sim): determinism, levels against the truth, ANI tones, errors, CLI."""

from __future__ import annotations

import copy
import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy import signal

from gateway.sim import dtmf, load_scenario, render, speak
from gateway.sim.radio import DTMF_FREQS, rms_dbfs

from conftest import need

REPO = Path(__file__).resolve().parent.parent
FRAME_S = 0.02
FLOOR_DBFS = -72.0

# Short texts keep the whole file fast; every kind of item and option appears once.
SCENARIO: dict = {
    "seed": 11,
    "recording_start": "2026-11-23T06:58:00+07:00",
    "timezone": "Asia/Jakarta",
    "lead_s": 1.0,
    "transmissions": [
        {"station": "Tarutung", "ani": "101", "voice": "id+m3", "text": "Camat Tarutung, aman. Ganti.",
         "then_gap_s": 2},
        {"kind": "kerchunk", "ms": 200, "then_gap_s": 1.5},
        {"station": "Sipoholon", "voice": "id+f2", "ssml": True, "hiss_dbfs": -66, "tail": False,
         "text": 'Sipoholon. <break time="1000ms"/> Ganti.', "then_gap_s": 1.5},
        {"station": "Pangaribuan", "ani": "113", "ani_at": "eot", "voice": "id+m1", "speed": 170,
         "text": "Pangaribuan aman. Ganti.", "then_gap_s": 1.5},
        {"kind": "stuck", "s": 2, "then_gap_s": 1.0},
    ],
}


@pytest.fixture(scope="module")
def rendered() -> tuple[np.ndarray, dict]:
    return render(copy.deepcopy(SCENARIO))


def frame_levels(audio: np.ndarray, rate: int, start_s: float, end_s: float) -> np.ndarray:
    """dBFS of the 20 ms frames lying entirely inside [start_s, end_s] (1 ms of slack each side)."""
    n = int(rate * FRAME_S)
    first = math.ceil((start_s + 0.001) * rate / n)
    last = math.floor((end_s - 0.001) * rate / n)
    frames = audio[first * n:last * n].astype(np.float64).reshape(-1, n)
    return 10 * np.log10(np.mean(frames**2, axis=1) + 1e-20)


def gaps(truth: dict) -> list[tuple[float, float]]:
    """Closed-squelch stretches: before, between and after the truth spans."""
    edges = [0.0]
    for tx in truth["transmissions"]:
        edges += [tx["start_s"], tx["end_s"]]
    edges.append(truth["duration_s"])
    return list(zip(edges[::2], edges[1::2], strict=True))


def test_render_is_deterministic_for_a_seed(rendered: tuple[np.ndarray, dict]) -> None:
    audio, truth = rendered
    again, truth_again = render(copy.deepcopy(SCENARIO))
    assert np.array_equal(audio, again)
    assert truth == truth_again
    other, _ = render({**copy.deepcopy(SCENARIO), "seed": 12})
    assert not np.array_equal(audio[: len(other)], other[: len(audio)])


def test_truth_describes_the_audio(rendered: tuple[np.ndarray, dict]) -> None:
    audio, truth = rendered
    assert audio.dtype == np.float32 and np.max(np.abs(audio)) <= 1.0
    assert truth["rate"] == 48000 and truth["duration_s"] == pytest.approx(len(audio) / 48000, abs=0.001)
    first, kerchunk, paused, eot, stuck = truth["transmissions"]
    assert "voice" not in first and first["station"] == "Tarutung"  # espeak-only keys are dropped
    assert first["start_s"] == pytest.approx(1.0)
    assert first["start_s"] < first["ani_start_s"] < first["ani_end_s"] < first["speech_start_s"]
    assert first["speech_end_s"] < first["end_s"]
    assert first["ani_end_s"] - first["ani_start_s"] == pytest.approx(3 * 0.08 + 2 * 0.06, abs=0.002)
    assert kerchunk["end_s"] - kerchunk["start_s"] == pytest.approx(0.2 + 0.14, abs=0.002)
    assert "ani_start_s" not in paused and paused["speech_end_s"] < paused["end_s"]
    assert eot["speech_end_s"] < eot["ani_start_s"] < eot["ani_end_s"] < eot["end_s"]
    assert stuck["end_s"] - stuck["start_s"] == pytest.approx(2.0, abs=0.001)
    for before, after in zip(truth["transmissions"], truth["transmissions"][1:], strict=False):
        assert after["start_s"] - before["end_s"] == pytest.approx(before["then_gap_s"], abs=0.001)


def test_spans_are_well_above_the_floor_and_gaps_are_at_it(rendered: tuple[np.ndarray, dict]) -> None:
    audio, truth = rendered
    rate = truth["rate"]
    for tx in truth["transmissions"]:
        levels = frame_levels(audio, rate, tx["start_s"], tx["end_s"])
        assert len(levels) > 5
        # the quietest case is the SSML pause under -66 dBFS hiss: about 7 dB over the floor
        assert levels.min() > FLOOR_DBFS + 4, tx
    for start, end in gaps(truth):
        levels = frame_levels(audio, rate, start, end)
        assert len(levels) > 10
        assert np.all(np.abs(levels - FLOOR_DBFS) < 1.5), (start, end)


def test_levels_follow_the_sample_recording(rendered: tuple[np.ndarray, dict]) -> None:
    """Hiss -50, DTMF -13, tail -9, kerchunk hiss -60, stuck squelch -30 dBFS, as in sample_morning."""
    audio, truth = rendered
    rate = truth["rate"]
    first, kerchunk, paused, _, stuck = truth["transmissions"]
    hiss = frame_levels(audio, rate, first["ani_end_s"] + 0.01, first["speech_start_s"] - 0.01)
    assert np.median(hiss) == pytest.approx(-50, abs=1.5)
    ani = audio[int((first["ani_start_s"] + 0.01) * rate):int((first["ani_start_s"] + 0.07) * rate)]
    assert rms_dbfs(ani) == pytest.approx(-13, abs=0.5)
    tail = frame_levels(audio, rate, first["end_s"] - 0.12, first["end_s"])
    assert np.median(tail) == pytest.approx(-9, abs=1.0)
    chunk = frame_levels(audio, rate, kerchunk["start_s"], kerchunk["start_s"] + 0.2)
    assert np.median(chunk) == pytest.approx(-60, abs=1.5)
    speech = frame_levels(audio, rate, first["speech_start_s"], first["speech_end_s"])
    assert -35 < 10 * np.log10(np.mean(10 ** (speech / 10))) < -18
    no_tail = frame_levels(audio, rate, paused["end_s"] - 0.1, paused["end_s"])
    assert np.max(no_tail) < -55
    assert np.median(frame_levels(audio, rate, stuck["start_s"], stuck["end_s"])) == pytest.approx(-30, abs=1)


def test_dtmf_level_twist_and_frequency_error() -> None:
    rate = 48000
    tone = dtmf("5", rate, tone_ms=200, level_dbfs=-13.0, twist_db=3.0, freq_error=0.015)
    assert rms_dbfs(tone) == pytest.approx(-13.0, abs=0.2)
    spectrum = np.abs(np.fft.rfft(tone * np.hanning(len(tone)), n=1 << 20))
    freqs = np.fft.rfftfreq(1 << 20, 1 / rate)
    low, high = (f * 1.015 for f in DTMF_FREQS["5"])
    peak_low = freqs[np.argmax(spectrum * (freqs < 1000))]
    peak_high = freqs[np.argmax(spectrum * (freqs > 1000))]
    assert peak_low == pytest.approx(low, abs=1) and peak_high == pytest.approx(high, abs=1)
    twist = 20 * np.log10(spectrum[freqs == peak_high][0] / spectrum[freqs == peak_low][0])
    assert twist == pytest.approx(3.0, abs=0.3)
    assert len(dtmf("0123456789ABCD*#", rate)) == int(16 * 0.08 * rate + 15 * 0.06 * rate)
    with pytest.raises(ValueError, match="DTMF"):
        dtmf("12E", rate)


def multimon_digits(audio: np.ndarray, rate: int, tmp_path: Path) -> str:
    """Resample to 22050 Hz, write a 16-bit WAV and decode it with multimon-ng."""
    if shutil.which("multimon-ng") is None or shutil.which("sox") is None:
        need("multimon-ng", "multimon-ng (and sox, which it needs to read WAV) not installed: "
             "apt-get install multimon-ng sox")
    g = math.gcd(rate, 22050)
    wav = tmp_path / "channel_22050.wav"
    sf.write(wav, signal.resample_poly(audio, 22050 // g, rate // g), 22050, subtype="PCM_16")
    done = subprocess.run(["multimon-ng", "-q", "-c", "-a", "DTMF", "-t", "wav", str(wav)],
                          capture_output=True, text=True, timeout=60, check=True)
    return "".join(line.split(":", 1)[1].strip() for line in done.stdout.splitlines()
                   if line.startswith("DTMF:"))


def test_ani_digits_are_decoded_by_multimon(rendered: tuple[np.ndarray, dict], tmp_path: Path) -> None:
    audio, truth = rendered
    expected = "".join(tx["ani"] for tx in truth["transmissions"] if "ani" in tx)
    assert expected == "101113"
    assert multimon_digits(audio, truth["rate"], tmp_path) == expected


def test_all_sixteen_dtmf_keys_are_decoded_by_multimon(tmp_path: Path) -> None:
    keys = "0123456789ABCD*#"
    quiet = np.zeros(4800, dtype=np.float32)
    audio = np.concatenate([quiet, dtmf(keys, 48000, twist_db=2.0, freq_error=-0.008), quiet])
    assert multimon_digits(audio, 48000, tmp_path) == keys


def write_json(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(("break_it", "key"), [
    (lambda s: s.pop("seed"), "seed"),
    (lambda s: s.update(seed="three"), "seed"),
    (lambda s: s.update(recording_start="tomorrow morning"), "recording_start"),
    (lambda s: s.update(timezone="Asia/Tapanuli"), "timezone"),
    (lambda s: s["transmissions"][0].pop("text"), "text"),
    (lambda s: s["transmissions"][0].update(speed="fast"), "speed"),
    (lambda s: s["transmissions"][0].update(tail=1), "tail"),
    (lambda s: s["transmissions"][0].update(ani="1O1"), "ani"),
    (lambda s: s["transmissions"][3].update(ani_at="middle"), "ani_at"),
    (lambda s: s["transmissions"][1].pop("ms"), "ms"),
    (lambda s: s["transmissions"][1].update(then_gap_s=True), "then_gap_s"),
    (lambda s: s["transmissions"][4].update(s=-1), "s"),
    (lambda s: s["transmissions"][4].update(kind="jammed"), "kind"),
])
def test_bad_scenario_names_the_file_and_key(tmp_path: Path, break_it, key: str) -> None:
    scenario = copy.deepcopy(SCENARIO)
    break_it(scenario)
    path = write_json(tmp_path / "broken.json", scenario)
    with pytest.raises(ValueError, match=f"broken.json.*'{key}'"):
        load_scenario(path)


def test_not_json_is_a_value_error(tmp_path: Path) -> None:
    path = tmp_path / "garbled.json"
    path.write_text('{"seed": 3,', encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape("garbled.json")):
        load_scenario(path)


def test_shipped_scenarios_are_valid() -> None:
    for path in sorted((REPO / "gateway/sim/scenarios").glob("*.json")):
        assert load_scenario(path)["transmissions"], path


def test_command_line_writes_audio_and_truth(tmp_path: Path) -> None:
    scenario = copy.deepcopy(SCENARIO)
    scenario["transmissions"] = scenario["transmissions"][:2]
    path = write_json(tmp_path / "short.json", scenario)
    out = tmp_path / "out" / "short.wav"
    done = subprocess.run([sys.executable, "-m", "gateway.sim", str(path), str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    info = sf.info(out)
    truth = json.loads((tmp_path / "out" / "short.truth.json").read_text(encoding="utf-8"))
    assert (info.samplerate, info.channels, info.subtype) == (48000, 1, "PCM_16")
    assert info.frames / info.samplerate == pytest.approx(truth["duration_s"], abs=0.001)
    assert [tx.get("station") for tx in truth["transmissions"]] == ["Tarutung", None]
    bad = subprocess.run([sys.executable, "-m", "gateway.sim", str(path), str(tmp_path / "x.mp3")],
                         cwd=REPO, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and ".flac or .wav" in bad.stderr


def test_speak_returns_trimmed_float_audio() -> None:
    audio = speak("Satu dua tiga.", voice="id+f1", rate=16000)
    assert audio.dtype == np.float32 and 0.5 < len(audio) / 16000 < 3
    assert np.max(np.abs(audio)) <= 1.0
    edge = int(0.01 * 16000)
    loudest = max(rms_dbfs(audio[i:i + edge]) for i in range(0, len(audio) - edge, edge))
    assert rms_dbfs(audio[:edge]) > loudest - 46 and rms_dbfs(audio[-edge:]) > loudest - 46


def test_speak_without_espeak_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="apt-get install espeak-ng"):
        speak("halo")
