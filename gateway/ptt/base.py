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


class SwitchedPtt:
    """The bookkeeping the serial and rigctld backends share: a subclass sets the line in
    :meth:`_set` (raising :class:`PttError`) and releases its device in :meth:`_release`."""

    name = "ptt"

    def __init__(self) -> None:
        self._keyed = False
        self._closed = False

    @property
    def keyed(self) -> bool:
        return self._keyed

    def _set(self, keyed: bool) -> None:
        raise NotImplementedError

    def _release(self) -> None:
        raise NotImplementedError

    def key(self) -> None:
        if self._closed:
            raise PttError(f"ptt {self.name}: closed")
        self._set(True)

    def unkey(self) -> None:
        if not self._closed:
            self._set(False)

    def close(self) -> None:
        """Unkey, then release the device; twice, or after a failure to unkey, is safe."""
        if self._closed:
            return
        try:
            self.unkey()
        finally:
            self._closed, self._keyed = True, False
            self._release()
