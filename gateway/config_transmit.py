"""The ``[transmit]`` table: talking back on the radio (gateway.transmit).

A settings dataclass that checks itself (as :class:`gateway.identification.dtmf.DtmfConfig` does): a bad value
raises ``ValueError`` with the key and what it must be, which gateway.config turns into one line.
Nothing transmits unless ``enabled`` is true.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


def _check(ok: bool, key: str, value: object, expected: str) -> None:
    if not ok:
        raise ValueError(f"transmit.{key} = {value!r}: expected {expected}")


@dataclass(frozen=True)
class TransmitConfig:
    enabled: bool = False
    device: str = ""  # PortAudio output device (name or part of it); empty: the default output
    rate: int = 0  # 0: negotiate 48000, 44100, 16000
    level_dbfs: float = -6.0  # peak level of what is played
    pre_key_s: float = 0.3  # PTT keyed this long before audio starts
    post_key_s: float = 0.2  # PTT held this long after audio ends
    timeout_s: float = 60.0  # TOT: unkey and alarm after this long keyed
    guard_s: float = 0.5  # never key within this long after a transmission on the channel ended
    max_wait_s: float = 600.0  # a message waiting for a clear channel longer than this is dropped
    voice: str = "id"  # espeak-ng voice
    speed: int = 150  # espeak-ng words per minute
    clips_dir: str = ""  # recorded clips (<phrase>.wav, station-<name>.wav) beat espeak-ng
    ack: bool = True  # acknowledge each identified report
    ack_stations: tuple[str, ...] = ()  # acknowledge only these stations (empty: all)
    ack_skip: tuple[str, ...] = ()  # never acknowledge these stations
    ack_within_s: float = 120.0  # only reports that ended this recently are acknowledged
    ack_repeat_s: float = 600.0  # one acknowledgement per station within this long
    roll_call_at: tuple[str, ...] = ()  # HH:MM times: call the camats still missing
    reminder_before_min: int = 0  # minutes before report.file_at: remind who is missing (0: off)
    summary_at: str = ""  # HH:MM: say how many reported today (empty: off)

    def __post_init__(self) -> None:
        _check(self.rate in (0, 8000, 16000, 22050, 32000, 44100, 48000), "rate", self.rate,
               "0 or a standard rate")
        _check(-40 <= self.level_dbfs <= 0, "level_dbfs", self.level_dbfs, "-40..0 dBFS")
        _check(0 <= self.pre_key_s <= 5, "pre_key_s", self.pre_key_s, "0..5 s")
        _check(0 <= self.post_key_s <= 5, "post_key_s", self.post_key_s, "0..5 s")
        _check(5 <= self.timeout_s <= 600, "timeout_s", self.timeout_s, "5..600 s")
        _check(0 <= self.guard_s <= 60, "guard_s", self.guard_s, "0..60 s")
        _check(1 <= self.max_wait_s <= 86400, "max_wait_s", self.max_wait_s, "1..86400 s")
        _check(bool(re.fullmatch(r"[A-Za-z0-9_+-]{1,40}", self.voice)), "voice", self.voice,
               "an espeak-ng voice such as 'id' or 'id+f2'")
        _check(80 <= self.speed <= 450, "speed", self.speed, "80..450 words per minute")
        _check(0 <= self.ack_within_s <= 3600, "ack_within_s", self.ack_within_s, "0..3600 s")
        _check(0 <= self.ack_repeat_s <= 86400, "ack_repeat_s", self.ack_repeat_s, "0..86400 s")
        for t in self.roll_call_at:
            _check(bool(_HHMM.fullmatch(t)), "roll_call_at", t, "times of day HH:MM")
        _check(0 <= self.reminder_before_min <= 720, "reminder_before_min", self.reminder_before_min,
               "0..720 min")
        _check(self.summary_at == "" or bool(_HHMM.fullmatch(self.summary_at)), "summary_at",
               self.summary_at, "a time of day HH:MM, or '' for none")


def problem(cfg: Any) -> str | None:
    """The stations ``ack_stations`` and ``ack_skip`` name must be configured ``[[stations]]``,
    by name exactly as written there, each once (``cfg`` is a gateway.config.Config)."""
    names = {st.name for st in cfg.stations}
    folded = {st.name.casefold(): st.name for st in cfg.stations}
    for key in ("ack_stations", "ack_skip"):
        seen: set[str] = set()
        for name in getattr(cfg.transmit, key):
            if name in seen:
                return f"transmit.{key} = {name!r}: listed twice"
            seen.add(name)
            if name in names:
                continue
            hint = (f"did you mean {folded[name.casefold()]!r}?" if name.casefold() in folded
                    else "names must be as in [[stations]]")
            return f"transmit.{key} = {name!r}: not a configured station ({hint})"
    return None
