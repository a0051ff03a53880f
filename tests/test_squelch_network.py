"""The serial squelch over a network serial port (RFC 2217): the COS line is followed, and a port
that goes away is read as down and closed, never as the last pin state, then picked up again."""

from __future__ import annotations

import time

import numpy as np
import pytest

from gateway.config import SerialSquelchConfig
from gateway.squelch.serial_pin import SerialPinSquelch

from rfc2217 import CosServer

FRAME = np.zeros(320, np.float32)


class Listener:
    def __init__(self) -> None:
        self.states: list[tuple[bool, str]] = []

    def squelch_state(self, up: bool, reason: str) -> None:
        self.states.append((up, reason))


def _until(squelch: SerialPinSquelch, want: bool, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if squelch.update(FRAME, 0.0) == want:
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def server():
    s = CosServer()
    yield s
    s.close()


def test_cos_line_followed_and_unplug_is_not_a_stale_open_pin(server: CosServer,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    listener = Listener()
    squelch = SerialPinSquelch(SerialSquelchConfig(port=server.url, pin="cts"), listener=listener,
                               reopen_s=0.2, check_s=0.05)
    try:
        assert _until(squelch, False)
        server.cos(True)
        assert _until(squelch, True), "CTS raised at the server never reached the squelch"
        server.unplug()  # while the line was open: the old code kept answering "open" for ever
        assert _until(squelch, False), "an unplugged port still reads as an open squelch"
        assert not squelch.up
        assert listener.states and listener.states[0][0] is False
        downs = [r for r in caplog.records if "down" in r.getMessage()]
        assert len(downs) == 1, [r.getMessage() for r in caplog.records]
        server.plug()
        server.cos(True)
        assert _until(squelch, True, timeout=5.0), "the port came back but the squelch never followed"
        assert squelch.up and listener.states[-1][0] is True
        server.cos(False)
        assert _until(squelch, False)
    finally:
        squelch.close()
