"""Command line: argument parsing and one call per subcommand; the work happens elsewhere.

    ht-gateway [--config PATH] [--data-dir PATH] [-v] COMMAND ...

Every known failure (bad config, unknown device, busy port, unreadable file, unwritable data
directory) ends as one line on stderr and exit status 2 (bad input) or 1 (runtime fault).
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from gateway import __version__, logutil
from gateway.cli.common import iso_date
from gateway.config import ConfigError, load
from gateway.timeutil import MAX_DATE, MIN_DATE

if TYPE_CHECKING:
    import threading

    from gateway.config import Config

log = logging.getLogger(__name__)


def _common(p: argparse.ArgumentParser, top: bool) -> None:
    d = None if top else argparse.SUPPRESS
    p.add_argument("--config", metavar="PATH", default=d,
                   help="TOML configuration (default: $HT_GATEWAY_CONFIG, else built-in defaults)")
    p.add_argument("--data-dir", metavar="PATH", default=d,
                   help="where the database and recordings go (default: $HT_GATEWAY_DATA_DIR, "
                        "gateway.data_dir, ~/.local/share/ht-gateway)")
    p.add_argument("-v", "--verbose", action="count", default=0 if top else argparse.SUPPRESS)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr (exit status 2), naming the argument and
    where the usage is, instead of the usage block and then the error. Subcommands' parsers are of
    this class too (``add_subparsers`` makes its parsers of the parent's class)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="ht-gateway", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"ht-gateway {__version__}")
    _common(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def cmd(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        _common(p, top=False)
        return p

    cmd("run", "run the daemon: live capture (or the demo channel when no radio is configured)")
    cmd("status", "the running daemon's health (exit 1: capture or squelch input down, 3: not running)"
        ).add_argument("--format", choices=["text", "json"], default="text")
    p = cmd("process", "run the same pipeline on a recording (WAV/FLAC/Ogg)")
    p.add_argument("file", type=Path)
    p.add_argument("--start", metavar="ISO8601",
                   help="wall-clock time of the file's first sample, e.g. 2026-11-23T06:58:00+07:00 "
                        "(no offset: the configured time zone; default: file time minus duration)")
    p.add_argument("--realtime", action="store_true", help="pace the file like a sound card")
    p.add_argument("--no-progress", action="store_true", help="no progress bar even on a terminal")
    p = cmd("export", "export records")
    p.add_argument("what", choices=["transmissions"])
    p.add_argument("--date", required=True, metavar="YYYY-MM-DD", type=iso_date)
    p.add_argument("--format", choices=["json", "csv"], default="json")
    p.add_argument("--out", type=Path, help="write here instead of stdout")
    cmd("devices", "list audio inputs with the sample rates they accept")
    p = cmd("config", "check the configuration, or list its documented keys")
    p.add_argument("action", choices=["check", "keys"])
    from gateway.cli import asr as cli_asr
    from gateway.cli import db as cli_db
    from gateway.cli import identity as cli_identity
    from gateway.cli import report as cli_report
    from gateway.cli import web as cli_web

    cli_db.add_parsers(cmd)
    cli_asr.add_parsers(cmd)
    cli_identity.add_parsers(cmd)
    cli_report.add_parsers(cmd)
    cli_web.add_parsers(cmd)
    from gateway.cli import radio as cli_radio
    from gateway.cli import stations as cli_stations
    from gateway.cli import transmit as cli_transmit

    cli_radio.add_parsers(cmd)  # ptt
    cli_stations.add_parsers(cmd)  # stations init|gazetteer
    cli_transmit.add_parsers(cmd)  # announce, calibrate
    from gateway.cli import backup as cli_backup

    cli_backup.add_parsers(cmd)  # backup, restore, retention
    return parser



def parse_start(text: str | None, tz: tzinfo, path: Path) -> datetime:
    """``process --start``, or without it the file's time less its duration; either within the
    dates every other command takes (MIN_DATE..MAX_DATE), so that the rows it stores can be dated,
    exported and purged like any other."""
    if text is None:
        import soundfile as sf

        try:
            dur = sf.info(str(path)).duration
            dt = datetime.fromtimestamp(path.stat().st_mtime - dur, tz)
        except Exception:  # the source reports unreadable files properly
            return datetime.now(tz)
        if not MIN_DATE <= dt.date() <= MAX_DATE:
            raise ConfigError(f"{path}: its modification time less its duration ({dt.isoformat()}) is not "
                              f"a date from {MIN_DATE} to {MAX_DATE}; give --start")
        return dt
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--start {text!r}: expected ISO 8601, e.g. 2026-11-23T06:58:00+07:00") from None
    if not MIN_DATE <= dt.date() <= MAX_DATE:
        raise ConfigError(f"--start {text!r}: expected a time from {MIN_DATE} to {MAX_DATE}")
    return dt if dt.tzinfo else dt.replace(tzinfo=tz)


def _check_input(path: Path) -> None:
    """``process FILE``: one line saying what FILE is when it is not a regular file."""
    import stat

    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read ({e.strerror or e})") from None
    if stat.S_ISDIR(mode):
        raise ConfigError(f"{path}: is a directory, not an audio file")
    if not stat.S_ISREG(mode):
        kind = ("a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a file")
        raise ConfigError(f"{path}: is not a regular file ({kind}); expected a WAV/FLAC/Ogg file")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logutil.setup(args.verbose)
    early: tuple[Any, Any] | None = None
    cfg: Config | None = None  # read once for run/process, shared by the steps below
    if args.command == "run":  # the sound card first, before the rest of the program is imported
        from gateway.audio.source import AudioSourceError

        try:
            cfg = load(args.config)
            early = _capture_first(cfg)
        except (ConfigError, AudioSourceError) as e:
            print(f"ht-gateway: error: {e}", file=sys.stderr)
            return 2
    if args.command in ("process", "run"):
        _prefetch_model(args.config, cfg)
    from sqlalchemy.exc import DatabaseError

    from gateway.asr.base import RecognizerError
    from gateway.asr.models import ModelError
    from gateway.audio.source import AudioSourceError
    from gateway.datadir import DataDirError
    from gateway.lock import DataDirBusy
    from gateway.ptt.base import PttError
    from gateway.squelch.serial_pin import SerialSquelchError
    from gateway.store.db import StoreError, unreadable

    try:
        return _dispatch(args, early, cfg)
    except (ConfigError, AudioSourceError, SerialSquelchError, DataDirError, ModelError,
            RecognizerError, DataDirBusy, PttError) as e:
        print(f"ht-gateway: error: {e}", file=sys.stderr)
        return 2
    except StoreError as e:
        print(f"ht-gateway: error: {e}", file=sys.stderr)
        return 1
    except DatabaseError as e:  # one the command did not expect: e.g. a file damaged past its header
        why = unreadable(e, _db_url(args, cfg)) or \
            f"database: {(str(e.orig or e).splitlines() or [type(e).__name__])[0][:200]}"
        print(f"ht-gateway: error: {why}", file=sys.stderr)
        return 1


def _db_url(args: argparse.Namespace, cfg: Config | None) -> str | None:
    """The database the command used (for an error line), as _dispatch found it."""
    from gateway.datadir import resolve_data_dir
    from gateway.store.db import default_url

    try:
        cfg = cfg or load(args.config)
        return cfg.store.url or default_url(resolve_data_dir(args.data_dir, cfg))
    except Exception:  # only to name the file
        return None


def entry() -> None:
    """The ``ht-gateway`` command (and ``python -m gateway``): :func:`main`, then a quick exit.

    A loaded speech model is hundreds of megabytes of C++ structures, and tearing them down at
    interpreter exit takes about a second for nothing. By the time :func:`main` returns everything
    is committed and closed, so once the logs and stdout/stderr are flushed the process leaves with
    ``os._exit``.
    """
    import os

    rc = main()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)


def _capture_first(cfg: Config) -> tuple[Any, Any] | None:
    """``run`` with a sound card: (health, the started source), opened before anything else is
    imported or opened, so a restarted daemon is listening again within a fraction of a second (what
    it hears waits in the capture buffer while the database and recovery start). None: no device."""
    if not cfg.audio.device:
        return None
    from gateway.audio.live import open_live_source
    from gateway.health import Health

    health = Health()
    return health, open_live_source(cfg, health)


def _prefetch_model(config: str | None, cfg: Config | None = None) -> None:
    """Start loading the speech model before the rest of the program is imported (a second or two
    of imports and set-up that the model's load then overlaps). Any problem is left to be reported
    where the recogniser is built."""
    if cfg is None:
        try:
            cfg = load(config)
        except ConfigError:
            return
    from gateway.asr.factory import prefetch

    prefetch(cfg)


def _dispatch(args: argparse.Namespace, early: tuple[Any, Any] | None = None,
              cfg: Config | None = None) -> int:
    from gateway import daemon
    from gateway.datadir import check_data_dir, resolve_data_dir

    cfg = cfg or load(args.config)
    if args.command == "config":
        if args.action == "keys":
            from gateway.config import documented_keys

            print("\n".join(documented_keys()))
            return 0
        from gateway import configcheck

        return configcheck.main(cfg, args.data_dir)
    if args.command == "devices":
        from gateway.audio.pyaudio_source import list_inputs

        for d in list_inputs():
            rates = ", ".join(str(r) for r in d.rates) or "none of 48000/44100/16000"
            print(f"{d.name!r}: {d.channels} ch, default {d.default_rate} Hz, accepts {rates}")
        return 0
    if args.command == "stations":
        from gateway.cli import stations as cli_stations

        return cli_stations.dispatch(args, cfg)
    if args.command == "ptt":
        from gateway.cli import radio as cli_radio

        return cli_radio.dispatch(args, cfg)
    if args.command == "models":
        from gateway.cli import asr as cli_asr

        return cli_asr.models(args, cfg)
    data_dir = check_data_dir(resolve_data_dir(args.data_dir, cfg))
    if args.command == "db":
        from gateway.cli import db as cli_db

        return cli_db.dispatch(args, cfg, data_dir)
    if args.command == "transcribe":
        from gateway.cli import asr as cli_asr

        return cli_asr.transcribe(args, cfg, data_dir)
    if args.command == "worker":
        from gateway.cli import asr as cli_asr

        return cli_asr.worker(args, cfg, data_dir, _stop_on_signals())
    if args.command in ("web", "user"):
        from gateway.cli import web as cli_web

        return cli_web.dispatch(args, cfg, data_dir)
    if args.command in ("report", "followups"):
        from gateway.cli import report as cli_report

        return cli_report.dispatch(args, cfg, data_dir)
    if args.command in ("announce", "calibrate"):
        from gateway.cli import transmit as cli_transmit

        return cli_transmit.dispatch(args, cfg, data_dir)
    if args.command in ("backup", "restore", "retention"):
        from gateway.cli import backup as cli_backup

        return cli_backup.dispatch(args, cfg, data_dir)
    if args.command in ("assign", "identify", "checkins", "compliance"):
        from gateway.cli import identity as cli_identity

        return cli_identity.dispatch(args, cfg, data_dir)
    if args.command == "run":
        return daemon.run_daemon(cfg, data_dir, _stop_on_signals(), early)
    if args.command == "status":
        from gateway.health import status

        rc, text = status(data_dir, args.format == "json")
        print(text)
        return rc
    if args.command == "process":
        return _process(args, cfg, data_dir)
    if args.command == "export":
        from gateway import export
        from gateway.cli.common import check_out, write_out
        from gateway.cli.db import READ, open_db

        check_out(args.out)
        with open_db(cfg, data_dir, "export", READ) as db:
            text = export.render(export.transmissions_on(db, args.date, cfg.tz), args.format)
        if args.out:
            write_out(args.out, text.encode("utf-8"))
        else:
            sys.stdout.write(text)
        return 0
    raise AssertionError(args.command)  # pragma: no cover


def _stop_on_signals() -> threading.Event:
    import threading

    from gateway.daemon import install_signal_handlers

    stop = threading.Event()
    install_signal_handlers(stop)
    return stop


def _process(args: argparse.Namespace, cfg: Config, data_dir: Path) -> int:
    from gateway import daemon

    _check_input(args.file)
    start = parse_start(args.start, cfg.tz, args.file)
    bar = None
    if sys.stderr.isatty() and not args.no_progress:
        import soundfile as sf
        from tqdm import tqdm

        info = sf.info(str(args.file))
        bar = tqdm(total=round(info.duration, 1), unit="s", desc=args.file.name, file=sys.stderr)
        rate = info.samplerate

        def progress(n: int) -> None:
            bar.update(n / rate)
    else:
        progress = None  # type: ignore[assignment]
    try:
        result = daemon.process_file(cfg, data_dir, args.file, start, args.realtime, progress,
                                     _stop_on_signals())
    finally:
        if bar is not None:
            bar.close()
    print(f"{args.file}: {len(result.transmission_ids)} transmission(s) in "
          f"{result.stats.audio_s:.1f} s of audio, {result.transcribed} transcribed -> {data_dir}")
    return 0
