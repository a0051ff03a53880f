"""Identity subcommands: ``assign``, ``identify``, ``checkins``, ``compliance``."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.cli.common import CommandAdder, iso_date, record_id
from gateway.config import Config, ConfigError

if TYPE_CHECKING:
    from gateway.store.db import Database


def add_parsers(cmd: CommandAdder) -> None:
    p = cmd("assign", "say which station made a transmission (an operator's word beats ANI and voice)")
    p.add_argument("tx_id", type=record_id, metavar="TX_ID")
    p.add_argument("station", nargs="?", help="a configured station; omit with --clear")
    p.add_argument("--clear", action="store_true", help="remove the assignment (back to ANI/voice)")
    p.add_argument("--by", default=os.environ.get("SUDO_USER") or getpass.getuser(),
                   help="who assigns (default: the logged-in user)")
    p.add_argument("--note", default="")
    p = cmd("identify", "identify the transmissions of a day again (e.g. after changing stations)")
    p.add_argument("--date", required=True, type=iso_date, metavar="YYYY-MM-DD")
    p = cmd("checkins", "which station reported on a day: on time, late or missing")
    p.add_argument("--date", required=True, type=iso_date, metavar="YYYY-MM-DD")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p = cmd("compliance", "per station over a date range: days on time, late and missing")
    p.add_argument("--from", dest="date_from", required=True, type=iso_date, metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", required=True, type=iso_date, metavar="YYYY-MM-DD")
    p.add_argument("--format", choices=["table", "json"], default="table")


def dispatch(args: argparse.Namespace, cfg: Config, data_dir: Path) -> int:
    from gateway.cli.db import EXCLUSIVE, READ, ROW, open_db

    if not cfg.stations and args.command in ("checkins", "compliance", "assign"):
        raise ConfigError(f"{cfg.source_path or 'built-in defaults'}: no [[stations]] configured")
    # assign: one transmission's rows, a short transaction next to a running daemon; identify
    # rewrites a whole day, which the daemon is identifying too: exclusive (see gateway.cli.db)
    access = {"assign": ROW, "identify": EXCLUSIVE}.get(args.command, READ)
    with open_db(cfg, data_dir, args.command, access) as db:
        return _COMMANDS[args.command](args, cfg, db)


def _assign(args: argparse.Namespace, cfg: Config, db: Database) -> int:
    from gateway.identification import identify

    if args.clear == bool(args.station):
        raise ConfigError("assign: give a STATION, or --clear (not both)")
    try:
        with db.write() as s:
            ident = identify.assign(s, args.tx_id, None if args.clear else args.station, args.by, cfg,
                                    args.note)
    except ValueError as e:
        raise ConfigError(f"assign: {e}") from None
    print(f"transmission {args.tx_id}: {ident.station or 'unknown'} ({ident.reason})")
    return 0


def _identify(args: argparse.Namespace, cfg: Config, db: Database) -> int:
    from sqlalchemy import select  # here: building the parser must not import the database layer

    from gateway.identification import identify
    from gateway.reasons import loads, say_all
    from gateway.store.models import Transmission
    from gateway.timeutil import day_bounds

    lo, hi = day_bounds(args.date, cfg.tz)
    with db.read() as s:
        ids = list(s.scalars(select(Transmission.id).where(
            Transmission.started_at >= lo, Transmission.started_at < hi,
            Transmission.status == "complete").order_by(Transmission.started_at)))
    for tx_id in ids:
        with db.write() as s:
            identify.apply(s, s.get_one(Transmission, tx_id), cfg)
    with db.read() as s:
        for tx_id in ids:
            tx = s.get_one(Transmission, tx_id)
            why = say_all(loads(tx.identity_reason_data, tx.identity_reason))
            print(f"{tx.id}\t{tx.started_at.astimezone(cfg.tz):%H:%M:%S}\t{tx.station or '-'}\t"
                  f"{tx.identity_source or '-'}\t{why}")
    return 0


def _checkins(args: argparse.Namespace, cfg: Config, db: Database) -> int:
    from gateway.identification.checkins import checkins_for, render_table

    rows = checkins_for(db, args.date, cfg)
    if args.format == "json":
        json.dump({"date": args.date.isoformat(), "timezone": cfg.gateway.timezone,
                   "stations": [r.as_dict() for r in rows]}, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_table(rows, args.date, cfg.gateway.timezone))
    return 0


def _compliance(args: argparse.Namespace, cfg: Config, db: Database) -> int:
    from dataclasses import asdict

    from gateway.identification.checkins import compliance, render_compliance

    if args.date_to < args.date_from:
        raise ConfigError(f"--to {args.date_to} is before --from {args.date_from}")
    rows = compliance(db, args.date_from, args.date_to, cfg)
    if args.format == "json":
        json.dump([asdict(r) for r in rows], sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_compliance(rows, args.date_from, args.date_to))
    return 0


_COMMANDS = {"assign": _assign, "identify": _identify, "checkins": _checkins, "compliance": _compliance}
