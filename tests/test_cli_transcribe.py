"""``ht-gateway transcribe`` stores new words the way the daemon and the workers do: the transmission
is identified again from them (a caller who names himself gets his station), in the same write."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from gateway.asr.base import Transcript, Word
from gateway.cli.main import main
from gateway.store.db import Database, default_url
from gateway.store.models import Transmission

from conftest import REPO


class _SaysText:
    """A recogniser that hears the generator's words of the call (what a perfect engine would)."""

    engine = "scripted"
    model_id = "scripted"
    rate = 16000

    def __init__(self, text: str) -> None:
        self.text = text

    def ready(self) -> None:
        pass

    def start(self, prompt_words: tuple[str, ...] = (), *, unfiltered: bool = False) -> _SaysText:
        return self

    def accept(self, samples: np.ndarray) -> None:
        pass

    def finish(self) -> Transcript:
        words = tuple(Word(w, k * 0.4, k * 0.4 + 0.3, 0.9) for k, w in enumerate(self.text.split()))
        return Transcript(self.text, words)


def test_transcribe_identifies_the_caller_from_the_new_words(test_channel: tuple[Path, dict], tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    audio, truth = test_channel
    cfg = tmp_path / "c.toml"
    cfg.write_text(re.sub(r'(?m)^engine = "auto".*$', 'engine = "none"',
                          (REPO / "config" / "tapanuli-utara.toml").read_text()))
    data = tmp_path / "data"
    assert main(["--config", str(cfg), "--data-dir", str(data), "process", str(audio),
                 "--start", truth["recording_start"]]) == 0
    call = next(t for t in truth["transmissions"] if t.get("station") == "Siatas Barita")
    assert "ani" not in call  # no DTMF: only its words can name it
    db = Database(default_url(data))
    try:
        with db.read() as s:
            rows = s.scalars(select(Transmission).order_by(Transmission.started_at)).all()
            # the transmission that covers the call (the generator's times, from the recording start)
            start = rows[0].started_at.timestamp() - truth["transmissions"][0]["start_s"]
            tx = next(r for r in rows if abs(r.started_at.timestamp() - start - call["start_s"]) < 1.0)
            # without words it can only be taken for the call before it (3 s earlier)
            assert (tx.station, tx.identity_source) == ("Tarutung", "continuation")
            tx_id = tx.id
        said = re.sub(r"<[^>]+>", "", call["text"])
        monkeypatch.setattr("gateway.asr.factory.build_recognizer", lambda *a, **k: _SaysText(said))
        assert main(["--config", str(cfg), "--data-dir", str(data), "transcribe", "--id", str(tx_id)]) == 0
        with db.read() as s:
            tx = s.get_one(Transmission, tx_id)
            assert (tx.station, tx.identity_source) == ("Siatas Barita", "voice")
    finally:
        db.close()
