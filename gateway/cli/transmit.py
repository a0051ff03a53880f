"""``ht-gateway announce TEXT`` and ``ht-gateway calibrate``.

``announce`` queues the text in the database (table ``transmit_queue``) for the daemon's
transmitter, the same path as the web UI's "Kirim" button: the daemon holds the radio, so a second
process never keys it. It is refused with one line when ``transmit.enabled`` is false.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gateway.cli.common import CommandAdder
from gateway.config import Config, ConfigError

MAX_TEXT = 500


def announce_text(text: str) -> str:
    """The text to say, or ConfigError naming what is wrong (empty, too long, control characters)."""
    from gateway.config_checks import CONTROL

    text = " ".join(text.split())
    if not text:
        raise ConfigError("announce: the text is empty")
    if len(text) > MAX_TEXT:
        raise ConfigError(f"announce: the text is {len(text)} characters long; at most {MAX_TEXT}")
    if CONTROL.search(text):
        raise ConfigError("announce: the text holds control characters")
    return text


def _seconds(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < v <= 30:
        raise argparse.ArgumentTypeError(f"{text}: expected 0..30 s")
    return v


def add_parsers(cmd: CommandAdder) -> None:
    p = cmd("announce", "queue TEXT to be spoken on the radio by the running daemon (transmit.enabled)")
    p.add_argument("text", nargs="+")
    p = cmd("calibrate", "live input levels, VOX/COS/PTT state and DTMF digits; Ctrl-C stops")
    p.add_argument("--device", help="audio input (default: audio.device)")
    p.add_argument("--seconds", type=_seconds_any, default=0.0, help="stop after this long")
    p.add_argument("--ptt-test", type=_seconds, default=0.0, metavar="SECONDS",
                   help="key the PTT for this long at the start (0..30 s)")


def _seconds_any(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 <= v <= 86400:
        raise argparse.ArgumentTypeError(f"{text}: expected 0..86400 s")
    return v


def dispatch(args: argparse.Namespace, cfg: Config, data_dir: Path) -> int:
    if args.command == "calibrate":
        from gateway import calibrate

        device = args.device or cfg.audio.device
        if not device:
            raise ConfigError("calibrate: audio.device is empty and no --device given "
                              "(see ht-gateway devices)")
        return calibrate.run(cfg, device, args.seconds, args.ptt_test)
    text = announce_text(" ".join(args.text))
    if not cfg.transmit.enabled:
        raise ConfigError("announce: transmit.enabled is false in the configuration: nothing would be "
                          "transmitted")
    from gateway.cli.db import ROW, open_db
    from gateway.transmit import messages, queue

    with open_db(cfg, data_dir, "announce", ROW) as db:
        msg = queue.enqueue(db, "announce", messages.announcement(text), by="cli")
    print(f"queued message {msg}: the running daemon sends it when the channel is clear")
    return 0
