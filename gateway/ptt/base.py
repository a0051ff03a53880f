"""The Ptt interface: what keys the radio's transmitter.

A backend (serial RTS/DTR, CM108/AIOC GPIO through hidraw, hamlib ``rigctld``) is one class with
these members; every backend, the fake included, passes the same contract suite
(tests/test_ptt_contract.py). Rules every backend keeps:

- opening never keys: a backend holds the line unkeyed from the moment it opens (a serial port
  asserts RTS and DTR when it is opened, so the serial backend must clear them first);
- ``key()``/``unkey()`` are idempotent and ``keyed`` says what the hardware was last told;
- ``close()`` unkeys first, and is safe to call twice and after a failure;
- a failure to key or unkey raises :class:`PttError` with one line naming the device.
"""

from __future__ import annotations

from typing import Protocol


class PttError(RuntimeError):
    """The transmitter could not be keyed or unkeyed (one line, naming the device)."""


class Ptt(Protocol):
    name: str

    @property
    def keyed(self) -> bool: ...

    def key(self) -> None: ...

    def unkey(self) -> None: ...

    def close(self) -> None: ...
