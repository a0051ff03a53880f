"""Helpers for the fault-injection suite (tests/test_faults*.py): a short generated channel, the
command line in a child process (optionally stopped at a fault point), and the check every test ends
with, against the generator's truth and the files on disk."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import soundfile as sf
from sqlalchemy import select

from gateway.store.db import Database, default_url
from gateway.store.models import Event, TranscriptRow, Transmission

from conftest import REPO

SCENARIO = {
    "seed": 5, "recording_start": "2026-11-25T07:00:00+07:00", "timezone": "Asia/Jakarta", "lead_s": 1.5,
    "transmissions": [
        {"station": "Tarutung", "ani": "101", "voice": "id+m2", "speed": 175,
         "text": "Di sini Camat Tarutung. Situasi aman. Ganti.", "then_gap_s": 3},
        {"station": "Sipahutar", "ani": "112", "voice": "id+f3", "speed": 175,
         "text": "Camat Sipahutar melapor, situasi aman terkendali. Ganti.", "then_gap_s": 3},
        {"station": "Pahae Jae", "voice": "id+m7", "speed": 175,
         "text": "Camat Pahae Jae, situasi aman. Ganti.", "then_gap_s": 2},
    ],
}
START = SCENARIO["recording_start"]
T0 = datetime.fromisoformat(START).timestamp()

# the command line with the model-free fake recogniser (gateway/asr/fake.py) as its speech engine
FAKE_ASR = ("import sys; import gateway.daemon as d; from gateway.asr.fake import FakeRecognizer;"
            "d.build_recognizer = lambda cfg: FakeRecognizer(); from gateway.cli import main;"
            "sys.exit(main(sys.argv[1:]))")


def config(path: Path, url: str | None = None) -> Path:
    text = '[asr]\nengine = "none"\n'
    if url:
        text += f'[store]\nurl = "{url}"\n'
    path.write_text(text)
    return path


def cli(data_dir: Path, cfg: Path, *args: str, fault: str | None = None, fake_asr: bool = False,
        timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "HT_GATEWAY_FAULT": fault or ""}
    head = [sys.executable, "-c", FAKE_ASR] if fake_asr else [sys.executable, "-m", "gateway"]
    return subprocess.run([*head, "--config", str(cfg), "--data-dir", str(data_dir), *args],
                          capture_output=True, text=True, env=env, timeout=timeout, cwd=REPO)


def popen(data_dir: Path, cfg: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "gateway", "--config", str(cfg), "--data-dir",
                             str(data_dir), *args], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "HT_GATEWAY_FAULT": ""})


def silence(tmp: Path) -> Path:
    path = tmp / "silence.wav"
    if not path.exists():
        sf.write(path, np.zeros(16000, np.float32), 16000)
    return path


def url_of(data_dir: Path, url: str | None) -> str:
    return url or default_url(data_dir)


def rows(data_dir: Path, url: str | None) -> list[Transmission]:
    db = Database(url_of(data_dir, url))
    try:
        with db.read() as s:
            return list(s.scalars(select(Transmission).order_by(Transmission.audio_started_at)))
    finally:
        db.close()


def events(data_dir: Path, url: str | None) -> list[str]:
    db = Database(url_of(data_dir, url))
    try:
        with db.read() as s:
            return list(s.scalars(select(Event.kind).order_by(Event.id)))
    finally:
        db.close()


def current_transcripts(data_dir: Path, url: str | None) -> list[int]:
    db = Database(url_of(data_dir, url))
    try:
        with db.read() as s:
            return list(s.scalars(select(TranscriptRow.transmission_id).where(TranscriptRow.current)))
    finally:
        db.close()


def check(data_dir: Path, url: str | None, truth: dict, expect: set[int],
          cut_ani_ok: bool = False) -> dict[int, Transmission]:
    """The store and the disk agree, and agree with what the generator put in:

    every row complete, unique uid and file; every .ogg on disk listed exactly once, no .part left
    (0 orphans); every file decodes and its sha256 is the row's; each row overlaps exactly one
    generated transmission, each generated one at most once (0 duplicates), ``expect`` (indices into
    the truth) are all there, and the ANI is the digits the generator sent (``cut_ani_ok``: or none,
    for a recovered transmission, which may have been cut before its ANI ended). Returns truth
    index → row.
    """
    got = rows(data_dir, url)
    assert all(r.status == "complete" and r.temp_path is None for r in got), \
        [(r.id, r.status, r.temp_path) for r in got]
    assert len({r.uid for r in got}) == len(got)
    listed = [r.audio_path for r in got]
    assert len(set(listed)) == len(listed)
    rec = data_dir / "recordings"
    on_disk = sorted(str(p.relative_to(data_dir)) for p in rec.rglob("*.ogg")) if rec.is_dir() else []
    parts = sorted(str(p) for p in rec.rglob("*.part")) if rec.is_dir() else []
    assert not parts, f"temporary files left: {parts}"
    assert on_disk == sorted(listed), f"files on disk {on_disk} vs rows {sorted(listed)}"
    matched: dict[int, Transmission] = {}
    items = truth["transmissions"]
    for r in got:
        path = data_dir / r.audio_path
        audio, rate = sf.read(path)
        assert len(audio) > 0
        assert hashlib.sha256(path.read_bytes()).hexdigest() == r.sha256
        a = r.audio_started_at.timestamp() - T0
        b = a + len(audio) / rate
        # the generated span, widened by the pre-roll (0.5 s) before it: a transmission killed in
        # its first second may have kept only its pre-roll
        hits = [i for i, t in enumerate(items) if a < t["end_s"] + 0.1 and b > t["start_s"] - 0.6]
        assert len(hits) == 1, f"row {r.id} ({a:.2f}-{b:.2f} s) overlaps generated {hits}"
        assert hits[0] not in matched, f"generated transmission {hits[0]} stored twice"
        matched[hits[0]] = r
        if not (cut_ani_ok and r.recovered and r.ani is None):
            assert r.ani == items[hits[0]].get("ani"), (r.id, r.ani, items[hits[0]].get("ani"))
    assert expect <= set(matched), f"missing: {expect - set(matched)}"
    return matched

