"""The capture journal's file (gateway/audio/journal.py) and the replay's pieces (gateway/replay.py).

Each test writes known samples (a ramp, so every sample says where it came from) through a journal,
opens the file again as the next process would, and compares what it reads back with the ramp; the
bad files are built by hand (wrong magic, a flipped header byte, another rate, random bytes).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np
import pytest

from gateway.audio.journal import CARRY_S, HEADER, NAME, CaptureJournal
from gateway.audio.source import AudioBlock
from gateway.replay import Replay, ReplaySource, ReplaySquelch

RATE = 16000
SECONDS = 10.0


def _ramp(start: int, n: int) -> np.ndarray:
    return ((np.arange(start, start + n) % 65536) - 32768).astype(np.int16)


def _open(tmp_path: Path, rate: int = RATE, seconds: float = SECONDS, device: str = "card",
          channel: int = 0) -> CaptureJournal:
    j = CaptureJournal.open(tmp_path, rate, seconds, device, channel)
    assert j is not None
    return j


def _write(j: CaptureJournal, total: int, block: int = 960) -> None:
    for k in range(0, total, block):
        j.write(_ramp(k, min(block, total - k)))


def test_wraps_and_reads_back_the_newest_samples(tmp_path: Path) -> None:
    j = _open(tmp_path)
    total = int(2.5 * SECONDS * RATE) + 123  # wraps twice, ends mid-ring
    _write(j, total)
    j.close()
    tail = _open(tmp_path).tail
    assert tail is not None
    assert tail.written == total
    assert len(tail.audio) == int(SECONDS * RATE)
    assert np.array_equal(tail.audio, _ramp(total - len(tail.audio), len(tail.audio)))


def test_short_session_and_marks_read_back(tmp_path: Path) -> None:
    j = _open(tmp_path)
    _write(j, 5000)
    j.mark_read(4800, 1_700_000_000.3)
    j.mark_consumed(4000)
    j.mark_squelch(1_700_000_000.1, True, True)
    j.mark_squelch(1_700_000_000.2, False, True)
    j.mark_squelch(1_700_000_000.22, False, False)
    j.mark_open("ab" * 16, 1_700_000_000.05)
    j.close()
    tail = _open(tmp_path).tail
    assert tail is not None
    assert np.array_equal(tail.audio, _ramp(0, 5000))
    assert (tail.consumed, tail.anchor_j, tail.anchor_t) == (4000, 4800, 1_700_000_000.3)
    assert tail.events == [(1_700_000_000.1, True), (1_700_000_000.2, False)]
    assert (tail.squelch_known_t, tail.squelch_last) == (1_700_000_000.22, False)
    assert (tail.tx_uid, tail.tx_audio_start) == ("ab" * 16, 1_700_000_000.05)
    assert tail.time_of(4800 - RATE) == pytest.approx(1_700_000_000.3 - 1.0)
    assert tail.index_at(1_700_000_000.3 - 0.25) == 4800 - RATE // 4


def test_a_new_session_opens_with_the_last_one_carried_over_as_read(tmp_path: Path) -> None:
    j = _open(tmp_path, seconds=20.0)
    total = int(15 * RATE)
    _write(j, total)
    j.close()
    _open(tmp_path, seconds=20.0).close()  # read the tail, started afresh, wrote nothing live
    tail = _open(tmp_path, seconds=20.0).tail
    assert tail is not None
    assert tail.written == tail.consumed == int(CARRY_S * RATE)  # history only, nothing to replay
    assert np.array_equal(tail.audio, _ramp(total - int(CARRY_S * RATE), int(CARRY_S * RATE)))


@pytest.mark.parametrize("case", ["torn", "magic", "rate", "device", "channel", "size", "garbage",
                                  "marks"])
def test_a_bad_or_foreign_journal_is_one_warning_and_ignored(tmp_path: Path, caplog, case: str) -> None:
    j = _open(tmp_path)
    _write(j, 4000)
    j.mark_consumed(3000)
    j.close()
    path = tmp_path / NAME
    data = bytearray(path.read_bytes())
    kwargs: dict = {}
    if case == "torn":
        data[20] ^= 0xFF  # inside the CRC'd part: a header half written
    elif case == "magic":
        data[:8] = b"NOTAJRNL"
    elif case == "garbage":
        data[:] = np.random.default_rng(1).integers(0, 256, len(data), dtype=np.uint8).tobytes()
    elif case == "marks":
        data[72:80] = (10**9).to_bytes(8, "little")  # consumed beyond written
    elif case == "size":
        data = data[:HEADER + 100]
    elif case == "rate":
        kwargs = {"rate": 48000}
    else:
        kwargs = {case: "other" if case == "device" else 1}
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING):
        j2 = _open(tmp_path, **kwargs)
    assert j2.tail is None
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "capture journal" in warnings[0].getMessage()
    j2.write(_ramp(0, 500))  # usable all the same
    j2.close()
    tail = _open(tmp_path, **kwargs).tail
    assert tail is not None and np.array_equal(tail.audio, _ramp(0, 500))


def test_an_unusable_path_is_a_warning_not_fatal(tmp_path: Path, caplog) -> None:
    (tmp_path / NAME).mkdir()
    with caplog.at_level(logging.WARNING):
        assert CaptureJournal.open(tmp_path, RATE, SECONDS, "card", 0) is None
    assert "capturing without it" in caplog.text


class _Live:
    """A live source stand-in whose sample 0 is at ``t0`` (epoch)."""

    def __init__(self, t0: float, n: int) -> None:
        self.rate, self.name, self.start_time, self.n = RATE, "live", 0.0, n
        self.t0 = t0

    def blocks(self, stop: threading.Event):
        for k in range(0, self.n, 320):
            self.start_time = self.t0
            yield AudioBlock(np.full(320, 0.5, np.float32), k)

    def close(self) -> None:
        pass


def test_replay_source_jumps_over_the_restart_to_the_live_audio(tmp_path: Path) -> None:
    audio = _ramp(0, RATE)  # 1 s replayed from t=1000.0, live from t=1001.5 (0.5 s gap)
    j = _open(tmp_path)
    j.close()
    replay = Replay(audio, 1000.0, RATE, _open(tmp_path).tail, np.zeros(0, np.int16))  # type: ignore[arg-type]
    src = ReplaySource(_Live(1001.5, 640), replay)  # type: ignore[arg-type]
    got = list(src.blocks(threading.Event()))
    replayed = np.concatenate([b.samples for b in got if b.index < RATE])
    assert np.array_equal(np.round(replayed * 32768).astype(np.int16), audio)
    first_live = next(b for b in got if b.samples[0] == 0.5)
    # right after the replayed samples (no silence for the restart), at the live source's own time
    assert first_live.index == RATE and first_live.resume
    assert src.start_time + first_live.index / RATE == pytest.approx(1001.5)
    assert [b.resume for b in got].count(True) == 1


class _Fixed:
    latency_s = 0.0

    def __init__(self, answer: bool) -> None:
        self.answer, self.calls = answer, 0

    def update(self, frame: np.ndarray, t: float) -> bool:
        self.calls += 1
        return self.answer

    def close(self) -> None:
        pass


@pytest.mark.parametrize("follows_audio", [False, True])
def test_replay_squelch_answers_what_was_journaled(tmp_path: Path, follows_audio: bool) -> None:
    j = _open(tmp_path)
    _write(j, RATE)
    j.mark_read(RATE, 101.0)
    j.mark_squelch(100.2, True, True)
    j.mark_squelch(100.5, False, True)
    j.mark_squelch(100.6, True, True)
    j.mark_squelch(100.7, True, False)  # known up to 100.7, open then
    j.close()
    tail = _open(tmp_path).tail
    assert tail is not None
    live = _Fixed(False)
    sq = ReplaySquelch(live, Replay(tail.audio, 100.0, RATE, tail, tail.audio[:0]), follows_audio)
    frame = np.zeros(320, np.float32)
    answers = {t: sq.update(frame, t) for t in (100.1, 100.3, 100.55, 100.65, 100.8, 101.2)}
    assert answers[100.1] is False and answers[100.3] is True and answers[100.55] is False
    assert answers[100.65] is True
    assert answers[100.8] is (not follows_audio)  # never processed: VOX, or the pin's last
    assert answers[101.2] is False  # live
    assert live.calls == 6


@pytest.fixture
def db(tmp_path: Path):
    from gateway.store.db import Database, default_url

    (tmp_path / "db").mkdir()
    database = Database(default_url(tmp_path / "db"))
    database.migrate()
    yield database
    database.close()


def _journal_at(tmp_path: Path, seconds: float, t_end: float) -> CaptureJournal:
    """A journal holding ``seconds`` of ramp whose last sample ends at epoch ``t_end``."""
    tmp_path.mkdir(exist_ok=True)
    j = _open(tmp_path)
    n = int(seconds * RATE)
    _write(j, n)
    j.mark_read(n, t_end)
    return j


def test_plan_replays_from_the_end_of_the_recovered_file(tmp_path: Path, db) -> None:
    from datetime import UTC, datetime

    from gateway.replay import plan_replay
    from gateway.store.models import Transmission

    j = _journal_at(tmp_path, 8.0, 1008.0)  # samples 0..8 s ↔ epoch 1000..1008
    j.mark_consumed(int(7.5 * RATE))
    j.mark_open("c" * 32, 1003.0)
    j.close()
    tail = _open(tmp_path).tail
    with db.write() as s:  # recovery completed it with 2.5 s of audio: 1003.0 .. 1005.5
        s.add(Transmission(uid="c" * 32, started_at=datetime.fromtimestamp(1003.5, UTC),
                           audio_started_at=datetime.fromtimestamp(1003.0, UTC), status="complete",
                           audio_duration_s=2.5, recovered=True))
    plan = plan_replay(tail, db, 0.5)
    assert plan is not None
    assert plan.start_t == pytest.approx(1005.5)
    assert np.array_equal(plan.audio, _ramp(int(5.5 * RATE), int(2.5 * RATE)))


def test_plan_replays_all_of_a_transmission_that_left_no_audio(tmp_path: Path, db) -> None:
    from gateway.replay import plan_replay

    j = _journal_at(tmp_path, 8.0, 1008.0)
    j.mark_open("d" * 32, 1006.25)  # no row: recovery found nothing that decodes
    j.close()
    plan = plan_replay(_open(tmp_path).tail, db, 0.5)
    assert plan is not None and plan.start_t == pytest.approx(1006.25)
    assert len(plan.audio) == int(1.75 * RATE)


def test_plan_when_idle_keeps_the_pre_roll_but_not_the_last_transmission(tmp_path: Path, db) -> None:
    from gateway.replay import plan_replay

    j = _journal_at(tmp_path, 8.0, 1008.0)
    j.mark_consumed(int(7.0 * RATE))  # read to 1007.0
    j.close()
    plan = plan_replay(_open(tmp_path).tail, db, 0.5)
    assert plan is not None and plan.start_t == pytest.approx(1006.5)  # 0.5 s of pre-roll
    j = _journal_at(tmp_path / "b", 8.0, 1008.0)
    j.mark_consumed(int(7.0 * RATE))
    j.mark_open("e" * 32, 1001.0)
    j.mark_squelch(1006.8, False, True)  # the frame at which it closed
    j.mark_closed()
    j.close()
    plan = plan_replay(_open(tmp_path / "b").tail, db, 0.5)
    assert plan is not None and plan.start_t == pytest.approx(1006.8)


@pytest.mark.parametrize("warm_s", [0.0, 3.0])
def test_vox_hears_the_audio_before_the_replay(tmp_path: Path, warm_s: float) -> None:
    """Restarted in the middle of a call, a cold VOX takes the call for the noise floor and stays
    shut; warmed on the journal's audio before the replay (a quiet channel, then the call's start)
    it is open for the replayed frames no squelch answer was journaled for."""
    from gateway.config_model import VoxConfig
    from gateway.squelch.vox import VoxSquelch
    from gateway.writer import FRAME, PROCESSING_RATE

    rng = np.random.default_rng(3)
    quiet = (rng.normal(0, 30, int(2.0 * RATE))).astype(np.int16)  # -60 dBFS hiss
    t = np.arange(int(3.0 * RATE)) / RATE
    call = (8000 * np.sin(2 * np.pi * 900 * t)).astype(np.int16)
    history = np.concatenate([quiet, call[:RATE]])  # the call began 1 s before the replay
    warm = history[len(history) - int(warm_s * RATE):] if warm_s else history[:0]
    j = _open(tmp_path)
    j.close()
    tail = _open(tmp_path).tail
    assert tail is not None  # no squelch answers journaled: every replayed frame asks the VOX
    replay = Replay(call[RATE:], 500.0, RATE, tail, warm)
    sq = ReplaySquelch(VoxSquelch(VoxConfig(), PROCESSING_RATE), replay, follows_audio=True)
    x = replay.audio.astype(np.float32) / 32768
    x = x[::RATE // PROCESSING_RATE] if RATE != PROCESSING_RATE else x
    answers = [sq.update(x[k:k + FRAME], 500.0 + k / PROCESSING_RATE)
               for k in range(0, len(x) - FRAME, FRAME)]
    assert bool(np.mean(answers) > 0.95) == bool(warm_s), np.mean(answers)


def test_plan_after_a_close_the_journal_did_not_hear_of(tmp_path: Path, db) -> None:
    """Killed after the live close stored the row (complete, not recovered) but before the journal
    was told: replay from the last frame the pipeline saw, not from the row's end (its trimmed tail
    and hang frames would come back as a call)."""
    from datetime import UTC, datetime

    from gateway.replay import plan_replay
    from gateway.store.models import Transmission

    j = _journal_at(tmp_path, 8.0, 1008.0)
    j.mark_consumed(int(7.4 * RATE))
    j.mark_open("f" * 32, 1001.0)
    j.mark_squelch(1007.3, False, False)  # the last frame processed
    j.close()
    with db.write() as s:
        s.add(Transmission(uid="f" * 32, started_at=datetime.fromtimestamp(1001.5, UTC),
                           audio_started_at=datetime.fromtimestamp(1001.0, UTC), status="complete",
                           audio_duration_s=5.0, recovered=False))
    plan = plan_replay(_open(tmp_path).tail, db, 0.5)
    assert plan is not None and plan.start_t == pytest.approx(1007.3)
