"""Report subcommands: ``report`` (render, or file a revision now) and ``followups``."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.cli.common import CommandAdder, check_out, iso_date, record_id, write_out
from gateway.config import Config, ConfigError
from gateway.report.model import FOLLOWUP_STATUSES as STATUSES

if TYPE_CHECKING:
    from gateway.store.db import Database



def add_parsers(cmd: CommandAdder) -> None:
    p = cmd("report", "the daily situation report: the latest filed revision, a draft, or file one now")
    p.add_argument("--date", required=True, type=iso_date, metavar="YYYY-MM-DD")
    p.add_argument("--format", choices=["pdf", "html", "csv", "json"], default="pdf")
    p.add_argument("--out", type=Path, help="file to write (default: stdout for text formats)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--revision", type=record_id, help="this filed revision")
    which.add_argument("--draft", action="store_true", help="build it now from the current data, unfiled")
    which.add_argument("--file", action="store_true",
                       help="file a new revision now if the report changed (as the schedule would; "
                            "refused while the daemon runs, which files by itself)")
    which.add_argument("--status", action="store_true",
                       help="the day's filed revisions and their mail delivery (delivered, or pending "
                            "with attempts and the last error)")
    p = cmd("followups", "what camats asked for: list, or set status / OPD")
    p.add_argument("action", choices=["list", "set"],
                   help="list: the open ones (narrowed by --status/--opd); set ID: its --status and/or --opd")
    p.add_argument("id", nargs="?", type=record_id, help="the follow-up to set (an id from list)")
    p.add_argument("--status", choices=STATUSES,
                   help="list: only those with this status (selesai ones too); set: the new status")
    p.add_argument("--opd", metavar="OPD",
                   help="list: only those assigned to this OPD; set: assign it (one of report.opd)")
    p.add_argument("--all", action="store_true", help="list closed (selesai) ones too")


def dispatch(args: argparse.Namespace, cfg: Config, data_dir: Path) -> int:
    from gateway.cli.db import EXCLUSIVE, READ, ROW, open_db

    check_out(getattr(args, "out", None))
    if not cfg.stations:
        raise ConfigError(f"{cfg.source_path or 'built-in defaults'}: no [[stations]] configured")
    if args.command == "followups":
        with open_db(cfg, data_dir, f"followups {args.action}", ROW if args.action == "set" else READ) as db:
            return _followups(args, cfg, db)
    # report --file competes with the daemon's filing job: the database guard would keep it from
    # filing a duplicate, but the daemon files (and mails) by itself, so it is refused while it runs
    with open_db(cfg, data_dir, "report --file" if args.file else "report",
                 EXCLUSIVE if args.file else READ) as db:
        return _report(args, cfg, db, data_dir)


def _report(args: argparse.Namespace, cfg: Config, db: Database, data_dir: Path) -> int:
    from gateway.report import filing
    from gateway.report.build import build_report
    from gateway.report.document import Report
    from gateway.report.render import render

    now = datetime.now(cfg.tz)
    if args.status:
        from gateway.report import delivery

        rows = delivery.states(db, args.date)
        for st in rows:
            print(delivery.describe(st, cfg))
        if not rows:
            print(f"{args.date}: not filed yet")
        return 0
    if args.file:
        rev = filing.file_report(db, cfg, args.date, now, reason=None)
        if rev is None:
            print(f"{args.date}: nothing changed since the last revision; nothing filed")
            return 0
        from gateway.report import delivery
        from gateway.report.schedule import write_files

        paths = write_files(data_dir, rev)
        print(f"{args.date}: revision {rev.revision} filed ({rev.reason}): {paths[0].parent}")
        if cfg.report.email.to:  # one attempt now; the daemon retries what is still pending
            delivery.deliver_due(db, cfg, data_dir)
            for st in delivery.states(db, args.date):
                if st.revision == rev.revision:
                    print(delivery.describe(st, cfg))
        return 0
    if args.draft:
        report = build_report(db, args.date, cfg, now)
    else:
        revs = filing.revisions(db, args.date)
        if args.revision is not None:
            chosen = [r for r in revs if r.revision == args.revision]
            if not chosen:
                raise ConfigError(f"--revision {args.revision}: {args.date} has revisions "
                                  f"{[r.revision for r in revs] or 'none'}")
            report = Report.from_json(chosen[0].content)
        elif revs:
            report = Report.from_json(revs[-1].content)
        else:
            report = build_report(db, args.date, cfg, now)
            print(f"{args.date}: not filed yet; showing a draft", file=sys.stderr)
    data = render(report, args.format)
    if args.out:
        write_out(args.out, data)
    elif args.format == "pdf" and sys.stdout.isatty():
        raise ConfigError("--format pdf: give --out FILE (a PDF is not for the terminal)")
    else:
        sys.stdout.buffer.write(data)
    return 0


def _followups(args: argparse.Namespace, cfg: Config, db: Database) -> int:
    from sqlalchemy import select

    from gateway.report.filing import set_followup
    from gateway.store.models import FollowUp

    if args.action == "set":
        if args.id is None or (args.status is None and args.opd is None):
            raise ConfigError("followups set: give an ID and --status and/or --opd")
        try:
            f = set_followup(db, args.id, args.status, args.opd, cfg)
        except ValueError as e:
            raise ConfigError(f"followups set: {e}") from None
        print(f"follow-up {f.id}: {f.status}, {f.opd or 'no OPD'}")
        return 0
    with db.read() as s:
        q = select(FollowUp).order_by(FollowUp.id)
        if args.status is not None:  # asking for a status shows it, closed or not
            q = q.where(FollowUp.status == args.status)
        elif not args.all:
            q = q.where(FollowUp.status != "selesai")
        if args.opd is not None:
            q = q.where(FollowUp.opd == args.opd)
        rows = s.scalars(q).all()
    for f in rows:
        print(f"{f.id}\t{f.day}\t{f.station}\t{f.status}\t{f.opd or '-'}\t{f.item}\t«{f.phrase}»")
    return 0
