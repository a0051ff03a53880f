"""The speech-recognition subcommands: ``transcribe`` and ``models`` (parsing lives in gateway.cli)."""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.cli.common import CommandAdder, iso_date, record_id
from gateway.config import Config, ConfigError

if TYPE_CHECKING:
    from gateway.asr.base import Recognizer
    from gateway.store.db import Database


def add_parsers(cmd: CommandAdder) -> None:
    p = cmd("transcribe", "(re)transcribe stored transmissions, optionally with another engine or model")
    p.add_argument("--id", type=record_id, nargs="+", dest="ids", metavar="ID", help="these transmissions")
    p.add_argument("--from", dest="date_from", type=iso_date, metavar="YYYY-MM-DD",
                   help="transmissions from this day (configured time zone)")
    p.add_argument("--to", dest="date_to", type=iso_date, metavar="YYYY-MM-DD", help="…to this day")
    p.add_argument("--failed", action="store_true", help="those whose transcription failed")
    p.add_argument("--engine", choices=["vosk", "whisper"], help="instead of asr.engine")
    p.add_argument("--model", help="instead of asr.model (a name under asr.models_dir or a path)")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--queue", action="store_true",
                   help="do not transcribe here: queue them for the transcription workers and the daemon "
                        "(after live calls; docs/channels.md)")
    p = cmd("worker", "transcription worker: claim pending transcriptions from PostgreSQL and do them "
                      "(docs/channels.md)")
    p.add_argument("--once", action="store_true", help="stop when no job is pending")
    p = cmd("models", "list, verify or install speech recognition models")
    msub = p.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    msub.add_parser("list", help="models installed in asr.models_dir")
    v = msub.add_parser("verify", help="check a model directory's layout")
    v.add_argument("path", type=Path)
    i = msub.add_parser("install", help="install a Vosk model (zip or directory) or 'whisper-base'")
    i.add_argument("source", help="a .zip, a model directory, or whisper-base")
    i.add_argument("--name", help="directory name under asr.models_dir")



def models(args: argparse.Namespace, cfg: Config) -> int:
    from gateway.asr import models as m
    from gateway.asr.factory import models_dir

    where = models_dir(cfg)
    if args.models_command == "list":
        found = m.list_models(where)
        if not found:
            print(f"no models in {where} (see asr_models/README.md)")
        for c in found:
            state = "ok" if c.ok else "INCOMPLETE: missing " + ", ".join(c.missing)
            extra = f", {c.rate} Hz" if c.rate else ""
            graph = ", dynamic graph" if c.dynamic_graph else ""
            print(f"{c.path.name}: {c.kind}{extra}{graph}: {state}")
            for w in c.warnings:
                print(f"  warning: {w}")
        return 0
    if args.models_command == "verify":
        c = m.require(args.path)
        print(f"{args.path}: {c.kind} model OK" + (f", {c.rate} Hz" if c.rate else "")
              + (", dynamic graph (phrase lists possible)" if c.dynamic_graph else ""))
        for w in c.warnings:
            print(f"warning: {w}")
        return 0
    if args.source == "whisper-base":
        from gateway.asr.whisper_install import install_whisper_base

        path = install_whisper_base(where, args.name or "whisper-base")
        print(f"installed {path}")
        return 0
    c = m.install(Path(args.source), where, args.name)
    print(f"installed {c.kind} model {c.path}")
    for w in c.warnings:
        print(f"warning: {w}")
    return 0


def worker(args: argparse.Namespace, cfg: Config, data_dir: Path, stop: threading.Event) -> int:
    from gateway.asr.base import RecognizerError
    from gateway.asr.factory import build_recognizer
    from gateway.worker import open_worker_db, run_worker

    db = open_worker_db(cfg)  # before loading a model for nothing
    try:
        recognizer = build_recognizer(cfg)
        if recognizer is None:
            raise RecognizerError("no recogniser: set asr.engine / install a model (ht-gateway models list)")
        recognizer.ready()
        result = run_worker(cfg, data_dir, recognizer, db, stop, once=args.once)
    finally:
        db.close()
    print(f"worker: {result.claimed} claimed, {result.stored} stored"
          + (f", {result.not_stored} not stored (taken over after the lease ran out, or already "
             "transcribed)" if result.not_stored else ""))
    return 0


def queue(args: argparse.Namespace, cfg: Config, data_dir: Path) -> int:
    """``transcribe --queue``: mark the chosen transmissions for re-transcription (one statement)."""
    from sqlalchemy import update

    from gateway.cli.db import ROW, open_db
    from gateway.jobs import PRIORITY_REDO
    from gateway.store.models import Transmission

    if not (args.ids or args.date_from or args.date_to or args.failed):
        raise ConfigError("transcribe --queue: name what to queue (--id, --from/--to or --failed); "
                          "new transmissions are queued by themselves")
    with open_db(cfg, data_dir, "transcribe --queue", ROW) as db:
        ids = _chosen(args, cfg, db)
        with db.write() as s:
            for i in range(0, len(ids), 1000):
                s.execute(update(Transmission).where(Transmission.id.in_(ids[i:i + 1000]))
                          .values(asr_pending=True, asr_redo=True, asr_priority=PRIORITY_REDO))
    print(f"queued {len(ids)} transmission(s) for transcription (after live calls)")
    return 0


def transcribe(args: argparse.Namespace, cfg: Config, data_dir: Path) -> int:
    # the imports are here: building the parser must not import the database layer
    if args.date_from and args.date_to and args.date_to < args.date_from:  # as compliance refuses it
        raise ConfigError(f"--to {args.date_to} is before --from {args.date_from}")
    if args.queue:
        if args.engine or args.model:
            raise ConfigError("transcribe --queue: --engine/--model do not apply (each worker uses its own "
                              "asr.engine and asr.model)")
        return queue(args, cfg, data_dir)
    from gateway.asr.base import RecognizerError
    from gateway.asr.factory import build_recognizer
    from gateway.cli.db import EXCLUSIVE, open_db, refuse_if_held

    refuse_if_held(data_dir, "transcribe")  # before loading a model for nothing
    recognizer = build_recognizer(cfg, args.engine, args.model)
    if recognizer is None:
        raise RecognizerError("no recogniser: set asr.engine / install a model (ht-gateway models list)")
    recognizer.ready()  # a model that cannot be loaded fails here, before any transcript is written
    with open_db(cfg, data_dir, "transcribe", EXCLUSIVE) as db:  # the daemon transcribes too
        return _transcribe(args, cfg, data_dir, db, recognizer)


def _chosen(args: argparse.Namespace, cfg: Config, db: Database) -> list[int]:
    """The transmissions ``--id``, ``--from``/``--to`` or ``--failed`` name; else the pending ones."""
    from sqlalchemy import select

    from gateway.store.models import TranscriptRow, Transmission
    from gateway.timeutil import day_bounds
    from gateway.transcribe import pending_query

    with db.read() as s:
        if args.ids:
            ids = list(s.scalars(select(Transmission.id).where(Transmission.id.in_(args.ids),
                                                               Transmission.status == "complete")))
            unknown = sorted(set(args.ids) - set(ids))
            if unknown:
                raise ConfigError(f"--id {' '.join(map(str, unknown))}: no such complete transmission")
            return ids
        if args.date_from or args.date_to:
            lo = day_bounds(args.date_from or args.date_to, cfg.tz)[0]
            hi = day_bounds(args.date_to or args.date_from, cfg.tz)[1]
            return list(s.scalars(select(Transmission.id).where(
                Transmission.started_at >= lo, Transmission.started_at < hi,
                Transmission.status == "complete").order_by(Transmission.started_at)))
        if args.failed:
            return list(s.scalars(select(TranscriptRow.transmission_id).where(
                TranscriptRow.current, TranscriptRow.status == "failed")))
        return list(s.scalars(pending_query()))


def _transcribe(args: argparse.Namespace, cfg: Config, data_dir: Path, db: Database,
                recognizer: Recognizer) -> int:
    from sqlalchemy import select

    from gateway.asr.vocabulary import station_words
    from gateway.identification import identify
    from gateway.identification.name_check import checker
    from gateway.jobs import Claims, holder_name
    from gateway.report.extracts import on_transcript
    from gateway.store.models import TranscriptRow, Transmission
    from gateway.transcribe import transcribe_file

    explicit = bool(args.ids or args.date_from or args.failed)
    ids = _chosen(args, cfg, db)
    words = station_words(cfg.stations)
    bar = None
    if sys.stderr.isatty() and not args.no_progress:
        from tqdm import tqdm

        bar = tqdm(total=len(ids), unit="tx", desc="transcribing", file=sys.stderr)
    failed = held = 0
    extract_new = on_transcript(db, cfg)  # what the report reads, stored with each new transcript
    # Claimed like every other transcriber (gateway/jobs.py): a job a worker on another machine
    # holds is left to it, and a worker does not take one this command is doing.
    claims = Claims(db, holder_name(cfg.gateway.id, "cli"), cfg.worker.lease_s).start()
    try:
        for tx_id in ids:
            with db.read() as s:
                uid = s.get_one(Transmission, tx_id).uid
            if claims.take(uid) is None:
                held += 1
            else:
                transcribe_file(db, data_dir, tx_id, recognizer, words, replace=explicit,
                                after=lambda s, t: identify.reidentify(s, t, cfg),  # as the daemon does
                                prepare=extract_new, claims=claims, check=checker(cfg))
                with db.read() as s:
                    status = s.scalar(select(TranscriptRow.status).where(
                        TranscriptRow.transmission_id == tx_id, TranscriptRow.current))
                failed += status == "failed"
            if bar is not None:
                bar.update(1)
    finally:
        claims.stop(release=True)
    if bar is not None:
        bar.close()
    done = len(ids) - failed - held
    print(f"transcribed {done} of {len(ids)} transmission(s) with {recognizer.engine} "
          f"({recognizer.model_id})" + (f"; {failed} failed" if failed else "")
          + (f"; {held} left to the process that holds them (a worker or a daemon)" if held else ""))
    return 1 if failed else 0
