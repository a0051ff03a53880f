"""The Ptt contract, run over every backend with the hardware's state read back independently:
the fake's own change log, pyserial's loop:// (RTS→CTS, DTR→DSR), hamlib's rigctld dummy rig (asked
with ``t`` on a connection of its own), and a pty standing in for a CM108 hidraw node (the bytes
written, compared with the report layout of the CM108 datasheet)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import serial
from radio_helpers import FakeHidraw, rigctld
from serial.urlhandler import protocol_loop

from gateway.config import parse
from gateway.config_radio import Cm108PttConfig, RigctldConfig, SerialPttConfig
from gateway.ptt.base import Ptt, PttError
from gateway.ptt.cm108 import Cm108Ptt
from gateway.ptt.factory import build_ptt
from gateway.ptt.fake import FakePtt
from gateway.ptt.rigctld import RigctldPtt
from gateway.ptt.serial_line import SerialPtt

# CM108 datasheet, HID output report: [report id 0, HID_OR0 = 0 (GPIO write), HID_OR1 = GPIO data,
# HID_OR2 = GPIO direction (1 = output), HID_OR3 = 0]; GPIO3 is bit 2 (0x04).
GPIO3_KEYED = bytes([0x00, 0x00, 0x04, 0x04, 0x00])
GPIO3_UNKEYED = bytes([0x00, 0x00, 0x00, 0x04, 0x00])


class RecordingLoop(protocol_loop.Serial):
    """pyserial's loop:// port, logging every level the port actually drives on RTS and DTR."""

    def __init__(self, *a, **kw) -> None:
        self.driven: list[tuple[str, bool]] = []
        super().__init__(*a, **kw)

    def _update_rts_state(self) -> None:
        self.driven.append(("rts", self._rts_state))

    def _update_dtr_state(self) -> None:
        self.driven.append(("dtr", self._dtr_state))


def recording_loop(url: str) -> RecordingLoop:
    port = RecordingLoop(None)
    port.port = url
    return port


@dataclass
class Rig:
    ptt: Ptt
    hardware_keyed: Callable[[], bool]  # read back from the device, not from the Ptt object
    break_device: Callable[[], None] | None


@pytest.fixture(params=["fake", "serial-rts", "serial-dtr-inverted", "rigctld", "cm108"])
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    kind = request.param
    if kind == "fake":
        p = FakePtt()
        yield Rig(p, lambda: bool(p.changes) and p.changes[-1][1], None)
    elif kind.startswith("serial"):
        line = "rts" if kind == "serial-rts" else "dtr"
        invert = kind.endswith("inverted")
        ports: list[RecordingLoop] = []

        def factory(url: str) -> RecordingLoop:
            ports.append(recording_loop(url))
            return ports[-1]

        p = SerialPtt(SerialPttConfig(port="loop://", line=line, invert=invert), factory=factory)
        port = ports[0]
        # loop:// wires RTS to CTS and DTR to DSR; the radio keys on the line's active level
        yield Rig(p, lambda: (port._rts_state if line == "rts" else port._dtr_state) != invert, None)
    elif kind == "rigctld":
        with rigctld() as r:
            p = RigctldPtt(RigctldConfig(port=r.port), timeout_s=1.0)
            yield Rig(p, lambda: r.ask("t") == "1", r.stop)
            p.close()
    else:
        node = FakeHidraw()
        p = Cm108Ptt(Cm108PttConfig(device=node.path, gpio=3))
        last = [node.read_written()]

        def keyed() -> bool:
            data = node.read_written(0.2)
            if data:
                assert len(data) % 5 == 0, data
                last[0] = data[-5:]
            assert last[0] in (GPIO3_KEYED, GPIO3_UNKEYED), last[0]
            return last[0] == GPIO3_KEYED

        yield Rig(p, keyed, node.unplug)
        p.close()
        node.close()


def test_open_does_not_key(rig: Rig) -> None:
    assert rig.ptt.keyed is False
    assert rig.hardware_keyed() is False


def test_key_and_unkey_are_reflected_and_idempotent(rig: Rig) -> None:
    rig.ptt.key()
    assert rig.ptt.keyed and rig.hardware_keyed()
    rig.ptt.key()
    assert rig.ptt.keyed and rig.hardware_keyed()
    rig.ptt.unkey()
    assert not rig.ptt.keyed and not rig.hardware_keyed()
    rig.ptt.unkey()
    assert not rig.ptt.keyed and not rig.hardware_keyed()


def test_close_unkeys_and_is_idempotent(rig: Rig) -> None:
    rig.ptt.key()
    assert rig.hardware_keyed()
    rig.ptt.close()
    assert not rig.ptt.keyed
    assert not rig.hardware_keyed()
    rig.ptt.close()
    with pytest.raises(PttError):
        rig.ptt.key()


# the backends whose device can be taken away (a loop:// port cannot; the fake's faults are injected:
# test_fake_fault below)
@pytest.mark.parametrize("rig", ["rigctld", "cm108"], indirect=True)
def test_a_vanished_device_raises_one_line(rig: Rig) -> None:
    assert rig.break_device is not None
    rig.break_device()
    with pytest.raises(PttError) as e:
        rig.ptt.key()
    assert "\n" not in str(e.value) and rig.ptt.name.split()[0] in str(e.value)
    assert rig.ptt.keyed is False
    try:  # after a failure close() may report that it could not unkey, as a PttError only...
        rig.ptt.close()
    except PttError as e:
        assert "\n" not in str(e)
    rig.ptt.close()  # ...and is then closed: a second close is quiet
    with pytest.raises(PttError):
        rig.ptt.key()


def test_fake_fault() -> None:
    with pytest.raises(PttError, match="cannot key"):
        FakePtt(fail_on="key").key()


@pytest.mark.parametrize("line,invert", [("rts", False), ("dtr", False), ("rts", True)])
def test_serial_open_never_drives_the_line_keyed(line: str, invert: bool) -> None:
    """The open-time glitch: pyserial drives RTS and DTR on open (asserted by default). Every level
    the port drove from creation to after open must be the unkeyed one."""
    ports: list[RecordingLoop] = []

    def factory(url: str) -> RecordingLoop:
        ports.append(recording_loop(url))
        return ports[-1]

    p = SerialPtt(SerialPttConfig(port="loop://", line=line, invert=invert), factory=factory)
    keyed_level = not invert
    assert ports[0].driven, "open drives the lines: the recording must see it"
    assert (line, keyed_level) not in ports[0].driven
    p.close()


def test_the_glitch_test_catches_a_naive_open() -> None:
    """The check above fails for the usual way of opening a port and then clearing RTS."""
    port = recording_loop("loop://")
    port.open()
    port.rts = False
    assert ("rts", True) in port.driven


def test_serial_ptt_on_a_port_without_modem_lines_is_one_line() -> None:
    master, slave = os.openpty()  # a pty has no RTS/DTR: keying it would silently do nothing
    try:
        with pytest.raises(PttError) as e:
            SerialPtt(SerialPttConfig(port=os.ttyname(slave)))
        assert str(e.value) == (f"ptt.serial.port = {os.ttyname(slave)!r}: "
                                "this port cannot drive RTS/DTR (no modem control lines)")
    finally:
        os.close(master)
        os.close(slave)


def test_missing_devices_are_one_line() -> None:
    with pytest.raises(PttError, match=r"ptt.serial.port = '/dev/ttyNOPE7': no such port"):
        SerialPtt(SerialPttConfig(port="/dev/ttyNOPE7"))
    with pytest.raises(PttError, match=r"ptt.cm108.device = '/dev/hidrawNOPE': no such device"):
        Cm108Ptt(Cm108PttConfig(device="/dev/hidrawNOPE"))
    with pytest.raises(PttError, match=r"ptt.rigctld: rigctld 127.0.0.1:\d+: cannot connect"):
        from radio_helpers import free_port

        RigctldPtt(RigctldConfig(port=free_port()))


def test_cm108_other_gpio_and_inverted() -> None:
    node = FakeHidraw()
    try:
        p = Cm108Ptt(Cm108PttConfig(device=node.path, gpio=1, invert=True))
        # GPIO1 = bit 0; inverted: unkeyed drives the pin high
        assert node.read_written() == bytes([0, 0, 0x01, 0x01, 0])
        p.key()
        assert node.read_written() == bytes([0, 0, 0x00, 0x01, 0])
        p.close()
        assert node.read_written() == bytes([0, 0, 0x01, 0x01, 0])
    finally:
        node.close()


def test_build_ptt_from_config() -> None:
    assert build_ptt(parse("")) is None
    p = build_ptt(parse('[ptt]\ntype = "serial"\n[ptt.serial]\nport = "loop://"\n'))
    assert isinstance(p, SerialPtt) and not p.keyed
    p.close()
    with pytest.raises(serial.SerialException):
        serial.serial_for_url("/dev/ttyNOPE7")
