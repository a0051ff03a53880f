"""faster-whisper through the full pipeline on the Indonesian sample channel (`process` as a user runs
it): Indonesian text for each speech transmission, none for the kerchunk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rapidfuzz import fuzz
from sqlalchemy import select

from gateway.store.db import Database, default_url
from gateway.store.models import TranscriptRow, Transmission

from conftest import DATA, REPO, need, run_cli

pytestmark = pytest.mark.slow


def test_sample_channel_gives_indonesian_text_and_nothing_for_the_kerchunk(tmp_path: Path,
                                                                             sample_truth: dict) -> None:
    try:
        from gateway.asr.whisper_install import install_whisper_base

        install_whisper_base(tmp_path / "models")
    except Exception as e:
        need("faster-whisper", str(e))
    cfg = tmp_path / "c.toml"
    cfg.write_text((REPO / "config" / "tapanuli-utara.toml").read_text().replace(
        'models_dir = "../asr_models"', f'models_dir = "{tmp_path / "models"}"'))
    r = run_cli("--config", str(cfg), "--data-dir", str(tmp_path / "data"), "process",
                str(DATA / "sample_morning.flac"), "--start", sample_truth["recording_start"],
                env={"HF_HUB_OFFLINE": "1"})
    assert r.returncode == 0, r.stderr
    assert "4 transmission(s)" in r.stdout and "4 transcribed" in r.stdout
    db = Database(default_url(tmp_path / "data"))
    with db.read() as s:
        rows = s.execute(select(Transmission, TranscriptRow).join(
            TranscriptRow, TranscriptRow.transmission_id == Transmission.id)
            .order_by(Transmission.started_at)).all()
    db.close()
    assert len(rows) == 4
    for (tx, tr), want in zip(rows, sample_truth["transmissions"], strict=True):
        assert tr.engine == "whisper" and tr.status == "done"
        if want.get("kind") == "kerchunk":
            assert tx.kerchunk and tr.text == "" and tr.words == []
            continue
        words = tr.text.lower().replace(",", " ").replace(".", " ").split()
        assert words, want["station"]
        vocab = ["camat", "ganti", "desa", "lapor", "situasi", "banjir", "rumah", "jalan", "harga",
                 "rupiah", want["station"].lower().split()[-1]]
        hits = {v for v in vocab for w in words if fuzz.ratio(v, w) >= 75}
        assert len(hits) >= 2, (want["station"], tr.text)
        length = (tx.ended_at - tx.audio_started_at).total_seconds()
        assert all(0 <= w["start"] <= w["end"] <= length + 0.05 for w in tr.words)

    # identity: Tarutung and Sipahutar by ANI, Siatas Barita by voice (or unknown with a reason)
    by_station = {tx.station: tx for tx, _ in rows if tx.station}
    assert by_station["Tarutung"].identity_source == "ani"
    assert by_station["Sipahutar"].identity_source == "ani"
    siatas = rows[2][0]
    assert siatas.station in ("Siatas Barita", None) and siatas.identity_reason
    if siatas.station:
        assert siatas.identity_source == "voice"
    assert rows[1][0].station is None, "the kerchunk is ignored"
    r = run_cli("--config", str(cfg), "--data-dir", str(tmp_path / "data"), "checkins", "--date",
                "2026-11-20", "--format", "json")
    stations = json.loads(r.stdout)["stations"]
    missing = {c["station"] for c in stations if c["status"] == "missing"}
    expected = {st["station"] for st in stations} - {"Tarutung", "Sipahutar", siatas.station}
    assert missing == expected and len(missing) == (12 if siatas.station else 13)
    # the day's situation report, end to end from the channel recording
    r = run_cli("--config", str(cfg), "--data-dir", str(tmp_path / "data"), "report", "--date",
                "2026-11-20", "--format", "json", "--draft")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    named = {s["station"] for s in report["stations"] if s["checkin"] != "missing"}
    assert {"Tarutung", "Sipahutar"} <= named
    assert len(report["summary"]["missing"]) == (12 if siatas.station else 13)
    by_cat = {i["category"]: i for i in report["incidents"]}
    assert "longsor" in by_cat and by_cat["longsor"]["station"] == "Sipahutar"
    prices = {p["commodity"]: p["rupiah_per_kg"] for s in report["stations"] for p in s["prices"]}
    assert prices.get("beras") == 11000
    # said: "Tujuh rumah terendam". Whether whisper-base hears the number depends on the CPU's
    # int8 kernels and library versions; a count the report gives must be the one said, and when
    # the transcript holds "tujuh" the report must read it.
    heard = rows[2][1].text.lower()
    assert by_cat["banjir"]["counts"] in ({}, {"rumah_terendam": 7}), by_cat["banjir"]
    if "tujuh rumah terendam" in heard:
        assert by_cat["banjir"]["counts"] == {"rumah_terendam": 7}, heard
    assert by_cat["banjir"]["station"] == (siatas.station or by_cat["banjir"]["station"])
