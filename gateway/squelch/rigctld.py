"""Squelch from hamlib ``rigctld``'s DCD (``\\get_dcd``): the rig's own busy/squelch state over CAT.

Polled every ``squelch.rigctld.poll_ms`` (50..1000 ms, 100 by default) from a background thread
(gateway/squelch/polled.py); the pipeline reads the cached answer, so a slow or hung rigctld never
stalls audio. A DCD answer older than three polls (at least 0.5 s) reads as closed.
"""

from __future__ import annotations

from gateway.config_radio import RigctldSquelchConfig
from gateway.ptt.rigctld import RigctlConnection, RigctlError
from gateway.squelch.polled import PolledSquelch, SquelchInputError
from gateway.squelch.serial_pin import SquelchListener


class RigctldSquelch(PolledSquelch):
    what = "squelch rigctld"

    def __init__(self, cfg: RigctldSquelchConfig, listener: SquelchListener | None = None,
                 reopen_s: float = 2.0) -> None:
        interval = cfg.poll_ms / 1000
        super().__init__(f"{cfg.host}:{cfg.port}", interval, reopen_s=reopen_s,
                         stale_s=max(0.5, 3 * interval), listener=listener)
        self.cfg = cfg
        self._conn = RigctlConnection(cfg.host, cfg.port, timeout_s=max(0.3, 2 * interval))
        try:
            self._open()
        except RigctlError as e:
            raise SquelchInputError(f"squelch.rigctld: {e}") from None
        self.start()

    def _open(self) -> None:
        self._conn.close()
        self._conn.get_bool("\\get_dcd")  # connects and checks the rig answers DCD at all

    def _read(self) -> bool:
        return self._conn.get_bool("\\get_dcd")

    def _close_device(self) -> None:
        self._conn.close()
