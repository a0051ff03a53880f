"""The Squelch contract over every backend, each driven through its real input: scripted intervals,
VOX on generated audio levels, pyserial loop:// (RTS→CTS), CM108 input reports through a pty
standing in for hidraw, hamlib's rigctld dummy rig, and the any/all combination. Plus the device
cases: a vanished input reads closed and says so once, and is back by itself."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pytest
import serial
from radio_helpers import FakeHidraw, free_port, rigctld

from gateway.config import SerialSquelchConfig, VoxConfig, parse
from gateway.config_radio import Cm108SquelchConfig, RigctldSquelchConfig
from gateway.squelch.base import ScriptedSquelch, Squelch
from gateway.squelch.cm108 import Cm108Squelch
from gateway.squelch.combine import CombinedSquelch
from gateway.squelch.factory import build_squelch
from gateway.squelch.polled import SquelchInputError
from gateway.squelch.rigctld import RigctldSquelch
from gateway.squelch.serial_pin import SerialPinSquelch, SerialSquelchError
from gateway.squelch.vox import VoxSquelch

N = 320
SILENT = np.zeros(N, np.float32)
LOUD = (0.3 * np.sin(2 * np.pi * 800 * np.arange(N) / 16000)).astype(np.float32)


class Listener:
    def __init__(self) -> None:
        self.events: list[tuple[bool, str]] = []

    def squelch_state(self, up: bool, reason: str) -> None:
        self.events.append((up, reason))


def wait_for(cond: Callable[[], bool], timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return False


@dataclass
class Input:
    squelch: Squelch
    drive: Callable[[bool], np.ndarray]  # set the channel open/closed at the source; the frame to feed


@pytest.fixture(params=["scripted", "vox", "serial", "cm108", "cm108-inverted", "any", "all"])
def inp(request: pytest.FixtureRequest) -> Iterator[Input]:
    kind = request.param
    if kind == "scripted":
        clock = [0.0]
        sq = ScriptedSquelch([(100.0, 200.0)])

        def drive(on: bool) -> np.ndarray:
            clock[0] = 150.0 if on else 250.0
            return SILENT

        yield Input(_Timed(sq, clock), drive)
    elif kind == "vox":
        vox = VoxSquelch(VoxConfig(attack_ms=0), 16000)
        yield Input(vox, lambda on: LOUD if on else SILENT)
    elif kind == "serial":
        port = serial.serial_for_url("loop://")
        sq = SerialPinSquelch(SerialSquelchConfig(port="loop://", pin="cts"), port=port)

        def drive(on: bool) -> np.ndarray:
            port.rts = on
            return SILENT

        yield Input(sq, drive)
        sq.close()
    elif kind.startswith("cm108"):
        node = FakeHidraw()
        invert = kind.endswith("inverted")
        sq = Cm108Squelch(Cm108SquelchConfig(device=node.path, line="vol_down", invert=invert))

        def drive(on: bool) -> np.ndarray:
            # HID_IR0 bit 1 = volume down (CM108 datasheet); 4-byte input report
            node.send_report(bytes([0x02 if on != invert else 0x00, 0, 0, 0]))
            time.sleep(0.05)
            return SILENT

        yield Input(sq, drive)
        sq.close()
        node.close()
    else:
        port = serial.serial_for_url("loop://")
        cos = SerialPinSquelch(SerialSquelchConfig(port="loop://", pin="cts"), port=port)
        vox = VoxSquelch(VoxConfig(attack_ms=0), 16000)
        sq = CombinedSquelch(kind, [cos, vox])

        def drive(on: bool) -> np.ndarray:
            port.rts = on
            return LOUD if on else SILENT

        yield Input(sq, drive)
        sq.close()


class _Timed:
    """ScriptedSquelch opens by time: feed it the driven time instead of the frame's."""

    def __init__(self, sq: ScriptedSquelch, clock: list[float]) -> None:
        self.sq, self.clock, self.latency_s = sq, clock, sq.latency_s

    def update(self, frame: np.ndarray, t: float) -> bool:
        return self.sq.update(frame, self.clock[0])

    def close(self) -> None:
        self.sq.close()


def feed(inp: Input, on: bool, frames: int = 5) -> list[bool]:
    frame = inp.drive(on)
    return [inp.squelch.update(frame, i * 0.02) for i in range(frames)]


def test_closed_when_quiet_open_when_driven_and_closed_again(inp: Input) -> None:
    assert feed(inp, False)[-1] is False
    assert feed(inp, True)[-1] is True
    assert feed(inp, False)[-1] is False
    assert feed(inp, True)[-1] is True
    assert inp.squelch.latency_s >= 0
    inp.squelch.close()
    inp.squelch.close()  # idempotent


def test_any_and_all_differ_when_only_one_input_is_open() -> None:
    port = serial.serial_for_url("loop://")
    cos = SerialPinSquelch(SerialSquelchConfig(port="loop://", pin="cts"), port=port)
    port.rts = True  # carrier, no speech
    assert CombinedSquelch("any", [cos, VoxSquelch(VoxConfig(attack_ms=0), 16000)]).update(SILENT, 0)
    assert not CombinedSquelch("all", [cos, VoxSquelch(VoxConfig(attack_ms=0), 16000)]).update(SILENT, 0)
    vox = VoxSquelch(VoxConfig(attack_ms=100), 16000)
    assert CombinedSquelch("any", [cos, vox]).latency_s == vox.latency_s > 0


def test_cm108_unplugged_reads_closed_says_so_once_and_comes_back(tmp_path) -> None:
    link = tmp_path / "ht-cm108"  # the udev name; unplugging removes it, replugging makes it again
    node = FakeHidraw()
    link.symlink_to(node.path)
    events = Listener()
    sq = Cm108Squelch(Cm108SquelchConfig(device=str(link)), listener=events, reopen_s=0.2)
    try:
        node.send_report(bytes([0x02, 0, 0, 0]))
        assert wait_for(lambda: sq.update(SILENT, 0))
        node.unplug()
        link.unlink()
        assert wait_for(lambda: not sq.up)
        assert sq.update(SILENT, 0) is False, "a vanished device never reads as its last state"
        time.sleep(0.6)  # three reopen attempts while it is gone: still one outage, no flapping
        assert [e[0] for e in events.events] == [False] and sq.outages == 1
        node.close()
        node = FakeHidraw()
        link.symlink_to(node.path)
        assert wait_for(lambda: sq.up)
        assert sq.update(SILENT, 0) is False, "no report yet after the return: closed"
        node.send_report(bytes([0x02, 0, 0, 0]))
        assert wait_for(lambda: sq.update(SILENT, 0))
        assert [e[0] for e in events.events] == [False, True]
    finally:
        sq.close()
        node.close()


def test_rigctld_dcd_is_polled_in_the_background_and_never_blocks() -> None:
    with rigctld() as rig:
        events = Listener()
        sq = RigctldSquelch(RigctldSquelchConfig(port=rig.port, poll_ms=50), listener=events, reopen_s=0.2)
        try:
            seen = set()
            t0 = time.monotonic()
            polls0 = sq.polls
            while time.monotonic() - t0 < 1.0:
                seen.add(sq.update(SILENT, 0))
                time.sleep(0.01)
            polls = sq.polls - polls0
            # hamlib's dummy rig answers DCD 0 and 1 in turn (dummy.c): both reach the pipeline
            assert seen == {True, False}
            assert 8 <= polls <= 21, f"polled {polls} times in 1 s at poll_ms = 50"
            assert rig.proc is not None
            os.kill(rig.proc.pid, signal.SIGSTOP)  # a hung rigctld: answers stop, socket stays
            try:
                slowest = 0.0
                t0 = time.monotonic()
                states = []
                while time.monotonic() - t0 < 1.0:
                    a = time.monotonic()
                    states.append(sq.update(SILENT, 0))
                    slowest = max(slowest, time.monotonic() - a)
                    time.sleep(0.01)
                assert slowest < 0.01, f"update() waited {slowest:.3f} s on a hung rigctld"
                assert not any(states[-20:]), "a rig that stopped answering reads closed"
            finally:
                os.kill(rig.proc.pid, signal.SIGCONT)
            rig.stop()
            assert wait_for(lambda: not sq.up)
            assert sq.update(SILENT, 0) is False
            rig.start()
            assert wait_for(lambda: sq.up, 5)
            assert [e[0] for e in events.events][-2:] == [False, True]
        finally:
            sq.close()


def test_device_inputs_that_cannot_open_are_one_line() -> None:
    with pytest.raises(SquelchInputError, match=r"^squelch.cm108.device = '/dev/hidrawNOPE': no such device"):
        Cm108Squelch(Cm108SquelchConfig(device="/dev/hidrawNOPE"))
    with pytest.raises(SquelchInputError, match=r"^squelch.rigctld: rigctld 127.0.0.1:\d+: cannot connect"):
        RigctldSquelch(RigctldSquelchConfig(port=free_port()))
    assert issubclass(SquelchInputError, SerialSquelchError)  # reported by the CLI as one line


def test_factory_builds_combinations_and_leaves_nothing_open_on_failure() -> None:
    cfg = parse('[squelch]\ntype = "any"\ninputs = ["vox", "serial"]\n[squelch.serial]\nport = "loop://"\n')
    sq = build_squelch(cfg)
    assert isinstance(sq, CombinedSquelch) and [type(s) for s in sq.inputs] == [VoxSquelch, SerialPinSquelch]
    sq.close()
    master, slave = os.openpty()
    name = os.ttyname(slave)
    try:
        bad = parse('[squelch]\ntype = "all"\ninputs = ["serial", "cm108"]\n'
                    f'[squelch.serial]\nport = "{name}"\n[squelch.cm108]\ndevice = "/dev/hidrawNOPE"\n')
        with pytest.raises(SquelchInputError):
            build_squelch(bad)
        # the serial port opened first was closed again: it can be opened exclusively now
        SerialPinSquelch(SerialSquelchConfig(port=name)).close()
    finally:
        os.close(master)
        os.close(slave)
