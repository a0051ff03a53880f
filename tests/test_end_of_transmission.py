"""End of transmission at the squelch tail / DTMF EOT (``segmenter.end_at_tail``), through the real
pipeline (FileSource, VOX, segmenter, writer with the ANI analyzer, SQLite) on a generated channel.

The truth is the generator's: each call's ``start_s``/``end_s`` (key-up to the end of its squelch
tail) and the gaps the scenario puts between calls. Nothing here is compared with earlier output.
"""

from __future__ import annotations

import dataclasses
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.config import Config, SegmenterConfig
from gateway.daemon import process_file
from gateway.store.db import Database, default_url
from gateway.store.models import Transmission

TOL = 0.3
HANG_S = SegmenterConfig().hang_s

# Calls 0.5-1.0 s apart; "tail": false is a radio with squelch-tail elimination (its unkey shows
# only as the carrier hiss falling to the closed channel's floor, -72 dBFS). The paused call has
# breaks of up to 1.2 s inside (quiet carrier, so the VOX does close in them).
SCENARIO = {
    "seed": 11, "recording_start": "2026-11-25T07:00:00+07:00", "timezone": "Asia/Jakarta",
    "lead_s": 1.5,
    "transmissions": [
        {"id": "a", "voice": "id+m2", "text": "Camat Tarutung, situasi aman. Ganti.", "then_gap_s": 0.5},
        {"id": "b", "voice": "id+f1", "text": "Camat Sipoholon, aman terkendali. Ganti.", "then_gap_s": 0.7},
        {"id": "c", "voice": "id+m4", "text": "Camat Pahae Jae, situasi aman. Ganti.", "then_gap_s": 1.0},
        {"id": "d", "voice": "id+f3", "text": "Camat Adian Koting melapor, aman. Ganti.", "then_gap_s": 4.0},
        {"id": "e", "voice": "id+m5", "tail": False, "text": "Camat Garoga, situasi aman. Ganti.",
         "then_gap_s": 0.6},
        {"id": "f", "voice": "id+m3", "tail": False, "text": "Camat Pangaribuan, aman. Ganti.",
         "then_gap_s": 4.0},
        {"id": "g", "voice": "id+f4", "ssml": True, "hiss_dbfs": -66,
         "text": "Camat Siborongborong. <break time=\"1200ms\"/> Situasi aman. "
                 "<break time=\"1000ms\"/> Ganti.", "then_gap_s": 4.0},
        {"id": "h", "voice": "id+m7", "ani": "113", "ani_at": "eot", "tail": False,
         "text": "Camat Pangaribuan, situasi aman. Ganti.", "then_gap_s": 0.6},
        {"id": "i", "voice": "id+m2", "ani": "104", "text": "Camat Sipoholon, aman. Ganti.",
         "then_gap_s": 3.0},
        # no tail, no ANI, and a carrier hiss only 2 dB above the closed channel's floor (-72):
        # nothing tells the unkey from a pause
        {"id": "j", "voice": "id+m5", "tail": False, "hiss_dbfs": -70,
         "text": "Camat Muara, situasi aman. Ganti.", "then_gap_s": 0.6},
        {"id": "k", "voice": "id+f1", "tail": False, "hiss_dbfs": -70,
         "text": "Camat Purbatua, aman. Ganti.", "then_gap_s": 3.0},
    ],
}


def _run(channel: tuple[Path, dict], data_dir: Path, end_at_tail: bool) -> list[tuple[float, float]]:
    audio, truth = channel
    cfg = dataclasses.replace(Config(), segmenter=SegmenterConfig(end_at_tail=end_at_tail))
    start = datetime.fromisoformat(truth["recording_start"])
    process_file(cfg, data_dir, audio, start, recognizer=None)
    db = Database(default_url(data_dir))
    with db.read() as s:
        rows = list(s.scalars(select(Transmission).order_by(Transmission.started_at)))
    db.close()
    t0 = start.timestamp()
    return [(r.started_at.timestamp() - t0, r.ended_at.timestamp() - t0) for r in rows]  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def channel(tmp_path_factory) -> tuple[Path, dict]:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed")
    from gateway.sim.channel import write_channel

    out = tmp_path_factory.mktemp("eot") / "eot.flac"
    return out, write_channel(SCENARIO, out)


@pytest.fixture(scope="module")
def cuts(channel, tmp_path_factory) -> dict[bool, list[tuple[float, float]]]:
    return {flag: _run(channel, tmp_path_factory.mktemp(f"data{int(flag)}"), flag) for flag in (True, False)}


def _truth(channel: tuple[Path, dict]) -> dict[str, dict]:
    return {t["id"]: t for t in channel[1]["transmissions"]}


def _hits(spans: list[tuple[float, float]], want: dict) -> list[tuple[float, float]]:
    return [s for s in spans if s[0] < want["end_s"] and s[1] > want["start_s"]]


def _alone(spans: list[tuple[float, float]], want: dict) -> None:
    """``want`` is exactly one stored transmission, and that one is nothing but ``want``."""
    hits = _hits(spans, want)
    assert len(hits) == 1, f"{want['id']}: {len(hits)} transmissions {hits}"
    (start, end), = hits
    assert start == pytest.approx(want["start_s"], abs=TOL), want["id"]
    assert end == pytest.approx(want["end_s"], abs=TOL), want["id"]


def test_the_scenario_has_the_gaps_it_claims(channel) -> None:
    t = _truth(channel)
    for a, b, gap in (("a", "b", 0.5), ("b", "c", 0.7), ("c", "d", 1.0), ("e", "f", 0.6), ("h", "i", 0.6),
                      ("j", "k", 0.6)):
        assert t[b]["start_s"] - t[a]["end_s"] == pytest.approx(gap, abs=0.001)
        assert gap < HANG_S  # these would merge if every pause waited out the hang time


def test_calls_ending_with_a_squelch_tail_are_cut_apart_at_half_a_second(cuts, channel) -> None:
    t = _truth(channel)
    for name in "abcd":
        _alone(cuts[True], t[name])


def test_a_dtmf_eot_without_tail_ends_the_call(cuts, channel) -> None:
    t = _truth(channel)
    _alone(cuts[True], t["h"])
    _alone(cuts[True], t["i"])


def test_pauses_inside_a_call_without_tail_keep_it_whole(cuts, channel) -> None:
    t = _truth(channel)
    _alone(cuts[True], t["g"])


def test_a_carrier_drop_without_tail_ends_the_call(cuts, channel) -> None:
    """Squelch-tail elimination and no ANI, but the carrier hiss (-56..-42 dBFS here) falls to the
    floor at the unkey: e and f, 0.6 s apart, are two transmissions, each cut at its key-down."""
    t = _truth(channel)
    _alone(cuts[True], t["e"])
    _alone(cuts[True], t["f"])


def test_without_tail_eot_or_carrier_drop_the_hang_time_still_decides(cuts, channel) -> None:
    """No tail, no ANI and a hiss too close to the floor to see the unkey: a 0.6 s gap (< hang_s)
    is bridged, as documented: j and k become one transmission spanning both."""
    t = _truth(channel)
    (span,) = _hits(cuts[True], t["j"])
    assert span == _hits(cuts[True], t["k"])[0]
    assert span[0] == pytest.approx(t["j"]["start_s"], abs=TOL)
    # k's last 0.35-0.42 s are hiss as quiet as the floor, so the stored end is its last word
    assert t["k"]["end_s"] - 0.42 - TOL <= span[1] <= t["k"]["end_s"] + TOL


def test_end_at_tail_false_is_the_old_hang_time_rule(cuts, channel) -> None:
    t = _truth(channel)
    old = cuts[False]
    for first, second in (("a", "b"), ("e", "f"), ("h", "i")):
        (span,) = _hits(old, t[first])
        assert _hits(old, t[second]) == [span], f"{first}+{second} merge without end_at_tail"
    _alone(old, t["g"])
    # with the key on, the same channel gives more (and the right number of) transmissions
    assert len(cuts[True]) == len(SCENARIO["transmissions"]) - 1  # j+k: the documented fallback
