"""A Ptt that keys nothing: it records every change with its time, for tests and dry runs."""

from __future__ import annotations

import time
from collections.abc import Callable

from gateway.ptt.base import PttError


class FakePtt:
    def __init__(self, name: str = "fake", clock: Callable[[], float] = time.monotonic,
                 fail_on: str | None = None) -> None:
        self.name = name
        self.clock = clock
        self.fail_on = fail_on  # "key" or "unkey": raise PttError there, as a broken device would
        self.changes: list[tuple[float, bool]] = []
        self._keyed = False
        self.closed = False

    @property
    def keyed(self) -> bool:
        return self._keyed

    def key(self) -> None:
        if self.closed:
            raise PttError(f"ptt {self.name}: closed")
        if self.fail_on == "key":
            raise PttError(f"ptt {self.name}: cannot key (injected fault)")
        if not self._keyed:
            self._keyed = True
            self.changes.append((self.clock(), True))

    def unkey(self) -> None:
        if self.fail_on == "unkey":
            raise PttError(f"ptt {self.name}: cannot unkey (injected fault)")
        if self._keyed:
            self._keyed = False
            self.changes.append((self.clock(), False))

    def close(self) -> None:
        if not self.closed:
            try:
                self.unkey()
            finally:
                self.closed = True
