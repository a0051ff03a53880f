"""Squelches: adaptive VOX on levels, and the serial pin through pyserial's loop:// port."""

from __future__ import annotations

import os

import numpy as np
import pytest
import serial

from gateway.config import SerialSquelchConfig, VoxConfig
from gateway.squelch.serial_pin import SerialPinSquelch, SerialSquelchError
from gateway.squelch.vox import VoxSquelch

RATE, N = 16000, 320
rng = np.random.default_rng(7)


def noise(dbfs: float) -> np.ndarray:
    return (rng.standard_normal(N) * 10 ** (dbfs / 20)).astype(np.float32)


def tone(dbfs: float, f: float = 800.0) -> np.ndarray:
    t = np.arange(N) / RATE
    return (np.sqrt(2) * 10 ** (dbfs / 20) * np.sin(2 * np.pi * f * t)).astype(np.float32)


def run(vox: VoxSquelch, frames: list[np.ndarray]) -> list[bool]:
    return [vox.update(f, i * 0.02) for i, f in enumerate(frames)]


def test_vox_opens_after_attack_time_not_on_a_click() -> None:
    vox = VoxSquelch(VoxConfig(attack_ms=60), RATE)
    states = run(vox, [noise(-72)] * 50 + [tone(-20)] + [noise(-72)] * 10 + [tone(-20)] * 5)
    assert not any(states[:61]), "a 20 ms click must not open VOX"
    assert states[61:] == [False, False, True, True, True]
    assert vox.latency_s == pytest.approx(0.04)


def test_vox_hysteresis_keeps_it_open_between_close_and_open_thresholds() -> None:
    vox = VoxSquelch(VoxConfig(open_db=8, close_db=5, min_open_dbfs=-100), RATE)
    run(vox, [noise(-72)] * 100)
    floor = vox.floor
    assert floor is not None and -80 < floor < -70  # white noise at -72, voice band only
    mid = floor + 6.5  # between close (floor+5) and open (floor+8)
    assert run(vox, [tone(mid)] * 20) == [False] * 20, "never opens below the open threshold"
    assert run(vox, [tone(-20)] * 3)[-1]
    assert all(run(vox, [tone(mid)] * 20)), "stays open above the close threshold"
    assert run(vox, [noise(-72)])[-1] is False


def test_vox_floor_follows_down_fast_and_up_slowly() -> None:
    vox = VoxSquelch(VoxConfig(floor_rise_db_per_s=0.5), RATE)
    run(vox, [noise(-40)] * 10)
    run(vox, [noise(-72)] * 10)
    assert vox.floor is not None and vox.floor < -65
    before = vox.floor
    run(vox, [noise(before + 6)] * 50)  # 1 s of a slightly higher floor, below the open threshold
    assert before + 0.3 < vox.floor < before + 0.8


def test_vox_does_not_open_on_a_dead_silent_input() -> None:
    vox = VoxSquelch(VoxConfig(min_open_dbfs=-66), RATE)
    states = run(vox, [np.zeros(N, np.float32)] * 20 + [noise(-80)] * 20)
    assert not any(states)


def test_serial_loop_cts_follows_rts() -> None:
    port = serial.serial_for_url("loop://")
    sq = SerialPinSquelch(SerialSquelchConfig(port="loop://", pin="cts"), port=port)
    frame = np.zeros(N, np.float32)
    port.rts = False
    assert sq.update(frame, 0.0) is False
    port.rts = True
    assert sq.update(frame, 0.02) is True
    port.rts = False
    assert sq.update(frame, 0.04) is False


def test_serial_loop_dsr_follows_dtr_inverted() -> None:
    port = serial.serial_for_url("loop://")
    sq = SerialPinSquelch(SerialSquelchConfig(port="loop://", pin="dsr", invert=True), port=port)
    frame = np.zeros(N, np.float32)
    port.dtr = True
    assert sq.update(frame, 0.0) is False
    port.dtr = False
    assert sq.update(frame, 0.02) is True


def test_serial_squelch_opens_the_url_itself() -> None:
    sq = SerialPinSquelch(SerialSquelchConfig(port="loop://", pin="cts"))
    sq.port.rts = True
    assert sq.update(np.zeros(N, np.float32), 0.0) is True
    sq.close()


def test_missing_port_is_one_clear_line() -> None:
    with pytest.raises(SerialSquelchError, match=r"squelch.serial.port = '/dev/ttyNOPE9': no such port"):
        SerialPinSquelch(SerialSquelchConfig(port="/dev/ttyNOPE9"))


def test_busy_port_is_reported_busy() -> None:
    master, slave = os.openpty()
    name = os.ttyname(slave)
    try:
        first = SerialPinSquelch(SerialSquelchConfig(port=name))
        with pytest.raises(SerialSquelchError, match="port is busy"):
            SerialPinSquelch(SerialSquelchConfig(port=name))
        first.close()
    finally:
        os.close(master)
        os.close(slave)
