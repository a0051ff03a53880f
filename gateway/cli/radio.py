"""``ht-gateway ptt off`` (unkey the transmitter: the systemd unit's ExecStopPost, after any stop
including SIGKILL) and ``ptt test SECONDS`` (key for that long, then unkey; Ctrl-C unkeys too)."""

from __future__ import annotations

import argparse
import sys
import time

from gateway.cli.common import CommandAdder
from gateway.config import Config, ConfigError


def add_parsers(cmd: CommandAdder) -> None:
    p = cmd("ptt", "push-to-talk: 'off' unkeys the radio ([ptt]); 'test SECONDS' keys it that long")
    p.add_argument("action", choices=["off", "test"])
    p.add_argument("seconds", nargs="?", type=float, metavar="SECONDS")


def dispatch(args: argparse.Namespace, cfg: Config) -> int:
    from gateway.ptt.base import PttError
    from gateway.ptt.factory import build_ptt

    if args.action == "test" and (args.seconds is None or not 0 < args.seconds <= 60):
        raise ConfigError("ptt test SECONDS: a number of seconds from 0 to 60")
    try:
        ptt = build_ptt(cfg)  # opening unkeys (serial: line held unkeyed; cm108/rigctld: unkey sent)
        if ptt is None:
            print("ptt.type = 'none': no transmitter configured, nothing to do")
            return 0
        try:
            if args.action == "test":
                print(f"keying {ptt.name} for {args.seconds:g} s", flush=True)
                ptt.key()
                time.sleep(args.seconds)
        finally:
            ptt.close()
    except PttError as e:
        print(f"ht-gateway: error: {e}", file=sys.stderr)
        return 1
    print(f"{ptt.name}: unkeyed")
    return 0
