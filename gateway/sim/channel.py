"""Scenario JSON -> a radio channel recording plus its exact ground truth.

A scenario lists what happens on the channel, in order, each item followed by ``then_gap_s``
seconds of closed squelch (see ``gateway/sim/scenarios/*.json`` and
``shared/samples/sample_morning.json``)::

    {"seed": 3, "recording_start": "2026-11-20T07:05:00+07:00", "timezone": "Asia/Jakarta",
     "lead_s": 2.0, "rate": 48000, "floor_dbfs": -72,
     "transmissions": [
        {"station": "Tarutung", "ani": "101", "voice": "id+m3", "speed": 150,
         "text": "Bupati, di sini Camat Tarutung. ... Ganti.", "then_gap_s": 6},
        {"kind": "kerchunk", "ms": 300, "then_gap_s": 5},
        {"kind": "stuck", "s": 40, "then_gap_s": 5}]}

A speech transmission sounds like this (times measured in the sample recording); the part in
brackets is there only with an ``ani``, and with ``"ani_at": "eot"`` it moves after the speech
(speech, 0.35-0.42 s hiss, ANI, 0.12 s hiss, tail)::

    key-up, 0.12 s hiss, [ANI tones, 0.3-0.4 s hiss,] speech, 0.35-0.42 s hiss, 140 ms squelch tail
    ^ start_s                                                                                 end_s ^

Carrier hiss runs under everything from key-up to the tail. Optional keys of a speech
transmission: ``pitch``, ``ssml`` (text may hold ``<break time="1200ms"/>``), ``hiss_dbfs``
(-50), ``level_dbfs`` (-22: the speech is peak-normalised to level_dbfs + 15 dB, then
band-passed, which gives the sample's speech levels), ``tail`` (true), ``ani_at`` ("bot"),
``ani_twist_db`` and ``ani_freq_error`` (random around the sample's values by default),
``hum_dbfs`` and ``hum_hz`` (mains hum from that station's receiver path, from key-up to key-down;
none by default, 50 Hz).

A ``kerchunk`` is ``ms`` of hiss (``hiss_dbfs``, -60) then the tail; a ``stuck`` squelch is
``s`` seconds of full-band noise (``hiss_dbfs``, -30) and no tail.

The truth is the scenario (less the espeak-only keys voice/speed/pitch) plus ``duration_s``,
``rate`` and, per item, ``start_s``/``end_s``, ``speech_start_s``/``speech_end_s`` and
``ani_start_s``/``ani_end_s``. Everything random comes from ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

import copy
import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import soundfile as sf

from gateway.sim import radio
from gateway.sim.speech import speak

log = logging.getLogger(__name__)

# Conventions measured in shared/samples/sample_morning.flac.
KEYUP_S = 0.12                    # key-up -> first ANI tone or first word; also last EOT tone -> tail
ANI_TO_SPEECH_S = (0.30, 0.40)    # hiss between the ANI and the first word
SPEECH_TO_UNKEY_S = (0.35, 0.42)  # hiss between the last word and key-down
TAIL_MS = 140.0
TAIL_DBFS = -9.0
ANI_DBFS = -13.0
ANI_TWIST_DB = (1.0, 3.0)         # high group a little louder, as in the sample
ANI_FREQ_ERROR = 0.008            # each digit off by up to +-0.8 % (multimon-ng fails past ~1 %)
SPEECH_CREST_DB = 15.0            # speech peaks sit this far above its nominal level_dbfs
LIMIT = 0.9                       # the receiver's audio clips here (the tails hit it)

DEFAULTS: dict[str, float] = {"lead_s": 2.0, "rate": 48000, "floor_dbfs": -72.0}
HISS_DBFS = {"speech": -50.0, "kerchunk": -60.0, "stuck": -30.0}
SPEECH_DBFS = -22.0

#: Keys that only tell espeak how to speak; they are left out of the truth, as in the sample.
RENDER_ONLY_KEYS = ("voice", "speed", "pitch")


class _Layout:
    """Sounds laid end to end inside one transmission; remembers where each lies (in samples)."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.parts: list[np.ndarray] = []
        self.length = 0

    def add(self, x: np.ndarray) -> tuple[int, int]:
        start = self.length
        self.parts.append(x.astype(np.float32))
        self.length += len(x)
        return start, self.length

    def wait(self, seconds: float) -> None:
        self.add(np.zeros(int(round(seconds * self.rate)), dtype=np.float32))

    def audio(self) -> np.ndarray:
        return np.concatenate(self.parts) if self.parts else np.zeros(0, dtype=np.float32)


def _ani_tones(tx: dict[str, Any], rate: int, rng: np.random.Generator) -> np.ndarray:
    digits = tx["ani"]
    twist = tx["ani_twist_db"] if "ani_twist_db" in tx else float(rng.uniform(*ANI_TWIST_DB))
    if "ani_freq_error" in tx:
        errors: float | list[float] = float(tx["ani_freq_error"])
    else:
        errors = [float(e) for e in rng.uniform(-ANI_FREQ_ERROR, ANI_FREQ_ERROR, len(digits))]
    return radio.dtmf(digits, rate, level_dbfs=ANI_DBFS, twist_db=twist, freq_error=errors)


def _speech(tx: dict[str, Any], rate: int) -> np.ndarray:
    """espeak-ng speech, peak-normalised to level_dbfs + SPEECH_CREST_DB, then band-passed."""
    voice = speak(tx["text"], voice=tx.get("voice", "id"), speed=tx.get("speed", 150),
                  pitch=tx.get("pitch", 50), rate=rate, ssml=tx.get("ssml", False))
    peak = float(np.max(np.abs(voice))) if len(voice) else 0.0
    if peak > 0.0:
        voice = voice * (radio.db_to_amp(tx.get("level_dbfs", SPEECH_DBFS) + SPEECH_CREST_DB) / peak)
    return radio.bandpass(voice, rate)


def _unkey(keyed: np.ndarray, tx: dict[str, Any], rate: int, rng: np.random.Generator) -> np.ndarray:
    """Append the squelch tail unless the transmission says ``"tail": false``."""
    if not tx.get("tail", True):
        return keyed
    return np.concatenate([keyed, radio.squelch_tail(rate, TAIL_MS, TAIL_DBFS, rng)])


def _render_speech(tx: dict[str, Any], rate: int,
                   rng: np.random.Generator) -> tuple[np.ndarray, dict[str, Any]]:
    """One spoken report; returns its audio and the marks (sample spans) of ANI and speech."""
    ani_at = tx.get("ani_at", "bot") if tx.get("ani") else None
    marks: dict[str, tuple[int, int]] = {}
    lay = _Layout(rate)
    lay.wait(KEYUP_S)
    if ani_at == "bot":
        marks["ani"] = lay.add(_ani_tones(tx, rate, rng))
        lay.wait(rng.uniform(*ANI_TO_SPEECH_S))
    marks["speech"] = lay.add(_speech(tx, rate))
    lay.wait(rng.uniform(*SPEECH_TO_UNKEY_S))
    if ani_at == "eot":
        marks["ani"] = lay.add(_ani_tones(tx, rate, rng))
        lay.wait(KEYUP_S)
    keyed = lay.audio() + radio.hiss(lay.length, tx.get("hiss_dbfs", HISS_DBFS["speech"]), rng, rate=rate)
    if "hum_dbfs" in tx:
        # no draw from rng: the same scenario with and without hum differs only by the hum
        keyed = keyed + radio.hum(len(keyed), rate, tx["hum_dbfs"], tx.get("hum_hz", 50.0))
    return _unkey(keyed, tx, rate, rng), marks


def _render_kerchunk(tx: dict[str, Any], rate: int,
                     rng: np.random.Generator) -> tuple[np.ndarray, dict[str, Any]]:
    """A short key-up without speech: ``ms`` of carrier hiss, then the squelch tail."""
    n = int(round(tx["ms"] * rate / 1000.0))
    keyed = radio.hiss(n, tx.get("hiss_dbfs", HISS_DBFS["kerchunk"]), rng, rate=rate)
    return _unkey(keyed, tx, rate, rng), {}


def _render_stuck(tx: dict[str, Any], rate: int,
                  rng: np.random.Generator) -> tuple[np.ndarray, dict[str, Any]]:
    """A squelch stuck open: ``s`` seconds of loud full-band noise, no carrier, no tail."""
    n = int(round(tx["s"] * rate))
    return radio.hiss(n, tx.get("hiss_dbfs", HISS_DBFS["stuck"]), rng, band=False, rate=rate), {}


RENDERERS = {"speech": _render_speech, "kerchunk": _render_kerchunk, "stuck": _render_stuck}


def _seconds(samples: int, rate: int) -> float:
    return round(samples / rate, 3)


def _truth_item(tx: dict[str, Any], start: int, length: int, marks: dict[str, Any],
                rate: int) -> dict[str, Any]:
    item = {k: copy.deepcopy(v) for k, v in tx.items() if k not in RENDER_ONLY_KEYS}
    item["start_s"] = _seconds(start, rate)
    item["end_s"] = _seconds(start + length, rate)
    for name, (a, b) in marks.items():
        item[f"{name}_start_s"] = _seconds(start + a, rate)
        item[f"{name}_end_s"] = _seconds(start + b, rate)
    return item


def render(scenario: dict[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
    """Render ``scenario`` to float32 mono audio (at its ``rate``) and its ground-truth dict."""
    validate(scenario, "scenario")
    rate = int(scenario.get("rate", DEFAULTS["rate"]))
    rng = np.random.default_rng(scenario["seed"])
    cursor = int(round(scenario.get("lead_s", DEFAULTS["lead_s"]) * rate))
    placed: list[tuple[int, np.ndarray]] = []
    items: list[dict[str, Any]] = []
    for tx in scenario["transmissions"]:
        audio, marks = RENDERERS[tx.get("kind", "speech")](tx, rate, rng)
        placed.append((cursor, audio))
        items.append(_truth_item(tx, cursor, len(audio), marks, rate))
        cursor += len(audio) + int(round(tx["then_gap_s"] * rate))
    channel = radio.floor_noise(cursor, scenario.get("floor_dbfs", DEFAULTS["floor_dbfs"]), rng)
    for start, audio in placed:
        channel[start:start + len(audio)] += audio
    np.clip(channel, -LIMIT, LIMIT, out=channel)
    truth = {k: copy.deepcopy(v) for k, v in scenario.items() if k not in ("transmissions", "rate")}
    truth.update(duration_s=_seconds(cursor, rate), rate=rate, transmissions=items)
    log.info("rendered %d items, %.1f s at %d Hz", len(items), cursor / rate, rate)
    return channel, truth


def load_scenario(path: str | Path) -> dict[str, Any]:
    """Read and check a scenario file; raises ValueError naming the file and the bad key."""
    path = Path(path)
    try:
        scenario: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON: {exc}") from exc
    validate(scenario, str(path))
    return scenario


def write_channel(scenario: dict[str, Any], out_path: str | Path) -> dict[str, Any]:
    """Render ``scenario`` to ``out_path`` (.flac or .wav, 16-bit) and ``<stem>.truth.json`` beside it."""
    out_path = Path(out_path)
    fmt = {".flac": "FLAC", ".wav": "WAV"}.get(out_path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{out_path}: output must end in .flac or .wav")
    audio, truth = render(scenario)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(out_path, audio, truth["rate"], subtype="PCM_16", format=fmt)
    truth_path = out_path.with_name(out_path.stem + ".truth.json")
    truth_path.write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    log.info("wrote %s and %s", out_path, truth_path.name)
    return truth


# --- checking a scenario -------------------------------------------------------------------

Number = (int, float)
#: key -> (accepted types, required). Keys not listed are allowed and copied to the truth.
TOP_KEYS: dict[str, tuple[Any, bool]] = {
    "seed": (int, True), "recording_start": (str, True), "timezone": (str, True),
    "transmissions": (list, True), "lead_s": (Number, False), "rate": (int, False),
    "floor_dbfs": (Number, False),
}
ITEM_KEYS: dict[str, dict[str, tuple[Any, bool]]] = {
    "speech": {
        "text": (str, True), "then_gap_s": (Number, True), "station": (str, False), "ani": (str, False),
        "voice": (str, False), "speed": (int, False), "pitch": (int, False), "ssml": (bool, False),
        "hiss_dbfs": (Number, False), "level_dbfs": (Number, False), "tail": (bool, False),
        "ani_at": (str, False), "ani_twist_db": (Number, False), "ani_freq_error": (Number, False),
        "hum_dbfs": (Number, False), "hum_hz": (Number, False),
    },
    "kerchunk": {"ms": (Number, True), "then_gap_s": (Number, True), "hiss_dbfs": (Number, False),
                 "tail": (bool, False)},
    "stuck": {"s": (Number, True), "then_gap_s": (Number, True), "hiss_dbfs": (Number, False)},
}
NON_NEGATIVE = ("lead_s", "then_gap_s", "ms", "s")


def _fail(source: str, where: str, message: str) -> ValueError:
    return ValueError(f"{source}: {where}: {message}")


def _check_keys(obj: dict[str, Any], spec: dict[str, tuple[Any, bool]], source: str, where: str) -> None:
    """Presence and type of each key in ``spec`` (a bool is not accepted as a number)."""
    for key, (types, required) in spec.items():
        path = f"{where}.{key}" if where else key
        if key not in obj:
            if required:
                raise _fail(source, where or "scenario", f"missing key '{key}'")
            continue
        value = obj[key]
        wanted = types if isinstance(types, tuple) else (types,)
        if (isinstance(value, bool) and bool not in wanted) or not isinstance(value, wanted):
            names = " or ".join(t.__name__ for t in wanted)
            raise _fail(source, path, f"key '{key}' must be {names}, got {type(value).__name__} {value!r}")
        if key in NON_NEGATIVE and value < 0:
            raise _fail(source, path, f"key '{key}' must not be negative, got {value!r}")


def _check_item(tx: Any, source: str, where: str) -> None:
    if not isinstance(tx, dict):
        raise _fail(source, where, f"must be an object, got {type(tx).__name__}")
    kind = tx.get("kind", "speech")
    if kind not in ITEM_KEYS:
        raise _fail(source, f"{where}.kind", f"key 'kind' must be one of {sorted(ITEM_KEYS)}, got {kind!r}")
    _check_keys(tx, ITEM_KEYS[kind], source, where)
    ani = tx.get("ani")
    if ani is not None and (not ani or any(d not in radio.DTMF_FREQS for d in ani.upper())):
        raise _fail(source, f"{where}.ani", f"key 'ani' must be DTMF digits 0-9 A-D * #, got {ani!r}")
    ani_at = tx.get("ani_at", "bot")
    if ani_at not in ("bot", "eot"):
        raise _fail(source, f"{where}.ani_at", f"key 'ani_at' must be 'bot' or 'eot', got {ani_at!r}")


def validate(scenario: Any, source: str = "scenario") -> None:
    """Raise ValueError naming ``source`` and the offending key if ``scenario`` is malformed."""
    if not isinstance(scenario, dict):
        raise _fail(source, "scenario", f"must be a JSON object, got {type(scenario).__name__}")
    _check_keys(scenario, TOP_KEYS, source, "")
    start, zone = scenario["recording_start"], scenario["timezone"]
    try:
        datetime.fromisoformat(start)
    except ValueError:
        message = f"key 'recording_start' must be an ISO 8601 time, got {start!r}"
        raise _fail(source, "recording_start", message) from None
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise _fail(source, "timezone", f"key 'timezone' is not a known time zone: {zone!r}") from None
    if scenario.get("rate", DEFAULTS["rate"]) < 8000:
        raise _fail(source, "rate", "key 'rate' must be at least 8000 Hz")
    for i, tx in enumerate(scenario["transmissions"]):
        _check_item(tx, source, f"transmissions[{i}]")
