"""``ht-gateway backup``, ``restore`` and ``retention`` (docs/operations.md).

- ``backup --date D [--out FILE] [--gateway ID…]``: READ access (gateway/cli/db.py): it only reads,
  so it runs beside the daemon.
- ``restore FILE``: EXCLUSIVE, like ``transcribe`` and ``report --file``: refused with one line while
  a daemon holds the data directory, and holding the lock itself while it writes.
- ``retention [--dry-run]``: EXCLUSIVE too (the daemon runs the same job itself); ``--dry-run`` only
  reads, so it is READ.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from gateway.cli.common import CommandAdder, check_out, iso_date
from gateway.config import Config, ConfigError


def add_parsers(cmd: CommandAdder) -> None:
    p = cmd("backup", "one day's rows, recordings and filed reports in one checksummed archive")
    p.add_argument("--date", required=True, metavar="YYYY-MM-DD", type=iso_date)
    p.add_argument("--out", type=Path, metavar="FILE",
                   help="the archive (.tar.gz, .tgz or .tar; default ht-gateway-backup-DATE.tar.gz here)")
    p.add_argument("--gateway", action="append", default=[], metavar="ID", type=_gateway_id,
                   help="only this gateway's transmissions (repeatable; default: every gateway's)")
    p = cmd("restore", "bring a day back from a backup archive (verified first; stop the daemon)")
    p.add_argument("file", type=Path, metavar="FILE")
    p = cmd("retention", "delete old recordings and rows as [retention] says (the daemon does it daily)")
    p.add_argument("--dry-run", action="store_true", help="only say what would be deleted")


def _gateway_id(text: str) -> str:
    """An argparse type: a gateway id as ``gateway.id`` takes it (a slug)."""
    import re

    from gateway.config_model import ID_PATTERN

    if re.fullmatch(ID_PATTERN, text) is None:
        raise argparse.ArgumentTypeError(f"{text[:40]!r}: expected a gateway id: 1-32 of a-z, 0-9 and '-'")
    return text


def dispatch(args: argparse.Namespace, cfg: Config, data_dir: Path) -> int:
    from gateway.cli.db import EXCLUSIVE, READ, open_db

    if args.command == "backup":
        from gateway.backup import BackupError, default_name, gzipped, make_backup

        out = args.out or default_name(args.date)
        check_out(out)
        try:
            gzipped(out)
        except BackupError as e:
            raise ConfigError(str(e)) from None
        with open_db(cfg, data_dir, "backup", READ) as db:
            try:
                r = make_backup(db, data_dir, args.date, cfg.tz, out, args.gateway)
            except BackupError as e:
                raise ConfigError(f"backup: {e}") from None
        print(f"{r.path}: {args.date}: {r.counts['transmissions']} transmission(s), {r.audio_files} "
              f"recording(s) ({r.audio_purged} deleted by retention), {r.counts['report_revisions']} report "
              f"revision(s), {r.report_files} report file(s); {sum(r.counts.values())} rows, {r.size} bytes")
        return 0
    if args.command == "restore":
        from gateway.restore import RestoreError, restore, verify

        try:
            arc = verify(args.file)  # a damaged archive is refused before the database is even opened
            with open_db(cfg, data_dir, "restore", EXCLUSIVE) as db:
                done = restore(db, data_dir, args.file, arc)
        except RestoreError as e:
            raise ConfigError(f"restore: {e}") from None
        rows = sum(done.inserted.values())
        renumbered = f"; {done.renumbered} row(s) got new ids (theirs were taken)" if done.renumbered else ""
        print(f"{args.file}: {done.day}: {done.inserted['transmissions']} transmission(s) restored, "
              f"{done.already} already here; {rows} rows, {done.audio_written} recording(s), "
              f"{done.report_files} report file(s) written{renumbered}")
        return 0
    from gateway.retention import run_retention

    with open_db(cfg, data_dir, "retention", READ if args.dry_run else EXCLUSIVE) as db:
        result = run_retention(db, cfg, data_dir, datetime.now(cfg.tz), dry_run=args.dry_run)
    if not (cfg.retention.audio_days or cfg.retention.rows_days):
        print("retention is off (retention.audio_days and retention.rows_days are 0)")
        return 0
    print("\n".join(result.lines(args.dry_run)))
    return 0
