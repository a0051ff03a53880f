"""What the extractor read from each transcript, stored with it (table ``transcript_extracts``).

A transcript's extraction (gateway.report.extract: status, incidents, prices, needs) only changes
when the transcript does, or when the extractor does. So it is computed once, when a transcript is
stored or corrected -- before the write transaction (it is CPU work; :func:`prepare`), written in
that transaction (:func:`store`) -- and the report and the board read it (:func:`extracts_for`)
instead of extracting every transcript of the last days again every few minutes.

Each row keeps ``version`` (:data:`gateway.report.model.EXTRACTOR_VERSION`) and ``key``: a digest of
the extractor's and the lexicon's source and data files, of that version, and of the options it
ran with (``lexicon.correct`` and the gazetteer places of the transcript's station). A row whose key
is not the running one's -- a new release changed the rules or the words, the configuration
changed, an operator assigned another station, or an old database has no row at all -- is
extracted again when read, and stored again (``backfill``). Re-extraction is automatic: there is
no command for it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from gateway.asr.base import Transcript
from gateway.config import Config, Station
from gateway.lexicon.correct import extract_options
from gateway.report.extract import extract
from gateway.report.model import EXTRACTOR_VERSION, StationExtract
from gateway.store.db import Database
from gateway.store.models import TranscriptExtract, TranscriptRow, Transmission

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
#: The files whose content decides what the extractor reads (its rules and its words).
SOURCES = ("extract.py", "tokens.py", "tokenize.py", "quantities.py", "numbers_id.py", "model.py")
CHUNK = 500  # ids per IN (...) query


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    h = hashlib.sha256(f"v{EXTRACTOR_VERSION}".encode())
    lexicon = HERE.parent / "lexicon"
    files = [HERE / n for n in SOURCES] + sorted(lexicon.glob("*.py")) + sorted((lexicon / "data").glob("*"))
    for f in files:
        if f.is_file():
            h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def key_for(options: Mapping[str, Any]) -> str:
    """The key of an extraction run with ``options`` (:func:`extract_options`) by this code."""
    places = options.get("places")
    opts = {"correct": bool(options.get("correct")),
            "places": [list(g) for g in places.groups] if places is not None else None}
    return hashlib.sha256((code_digest() + json.dumps(opts, ensure_ascii=False)).encode()).hexdigest()


@dataclass(frozen=True)
class Extraction:
    key: str
    result: StationExtract


def run(cfg: Config, station: Station | None, text: str, words: Iterable[Any] | None,
        keys: dict[str | None, tuple[str, dict[str, Any]]] | None = None) -> Extraction:
    """Extract one transcript as the report does for ``station`` (``keys``: a cache per station)."""
    name = station.name if station is not None else None
    if keys is not None and name in keys:
        key, options = keys[name]
    else:
        options = extract_options(cfg, station)
        key = key_for(options)
        if keys is not None:
            keys[name] = (key, options)
    return Extraction(key, extract(text, words, **options))


def _station(cfg: Config, name: str | None) -> Station | None:
    return next((st for st in cfg.stations if st.name == name), None)


def prepare(db: Database, cfg: Config, tx_id: int, text: str, words: Iterable[Any] | None) -> Extraction:
    """The extraction of a transcript about to be stored for ``tx_id`` (call it before the write
    transaction: the extraction is CPU work). Read for the transmission's station as it is now; if
    identification in the write gives it another station, the key no longer fits and the report
    extracts it again."""
    with db.read() as s:
        name = s.scalar(select(Transmission.station).where(Transmission.id == tx_id))
    return run(cfg, _station(cfg, name), text, words)


def on_transcript(db: Database, cfg: Config) -> Callable[[int, Transcript], Callable[[Session, int], None]]:
    """The transcription stage's ``prepare`` (gateway.transcribe.Prepare): extract a new transcript
    before its write, store the result in the same transaction."""
    def prepare_one(tx_id: int, result: Transcript) -> Callable[[Session, int], None]:
        ex = prepare(db, cfg, tx_id, result.text, result.words_json())
        return lambda s, transcript_id: store(s, transcript_id, ex)

    return prepare_one


def store(s: Session, transcript_id: int, ex: Extraction) -> None:
    """Write (or replace) a transcript's extraction, in the caller's transaction."""
    s.execute(delete(TranscriptExtract).where(TranscriptExtract.transcript_id == transcript_id))
    s.add(TranscriptExtract(transcript_id=transcript_id, version=EXTRACTOR_VERSION, key=ex.key,
                            result=ex.result.to_dict()))


Spoken = Mapping[str, Sequence[tuple[Transmission, TranscriptRow | None]]]


def extracts_for(db: Database, cfg: Config, spoken: Spoken,
                 backfill: bool = False) -> dict[int, StationExtract]:
    """Transcript id -> what it says, for the finished transcripts in ``spoken`` (station name ->
    its transmissions with their current transcripts): the stored extraction where its key is
    current, else extracted now (and, with ``backfill``, stored in one short write)."""
    wanted = {tr.id: (name, tr) for name, rows in spoken.items() for _, tr in rows
              if tr is not None and tr.status == "done"}
    stored: dict[int, tuple[str, dict[str, Any]]] = {}
    ids = sorted(wanted)
    with db.read() as s:
        for i in range(0, len(ids), CHUNK):
            for row in s.scalars(select(TranscriptExtract).where(
                    TranscriptExtract.transcript_id.in_(ids[i:i + CHUNK]))):
                stored[row.transcript_id] = (row.key, row.result)
    keys: dict[str | None, tuple[str, dict[str, Any]]] = {}
    out: dict[int, StationExtract] = {}
    fresh: dict[int, Extraction] = {}
    for tr_id, (name, tr) in wanted.items():
        station = _station(cfg, name)
        if name not in keys:
            options = extract_options(cfg, station)
            keys[name] = (key_for(options), options)
        have = stored.get(tr_id)
        if have is not None and have[0] == keys[name][0]:
            out[tr_id] = StationExtract.from_dict(have[1])
            continue
        ex = run(cfg, station, tr.text, tr.words, keys)
        out[tr_id] = ex.result
        fresh[tr_id] = ex
    if backfill and fresh:
        _backfill(db, fresh)
    return out


def _backfill(db: Database, fresh: dict[int, Extraction]) -> None:
    try:
        with db.write() as s:
            for tr_id, ex in fresh.items():
                store(s, tr_id, ex)
    except SQLAlchemyError as e:  # e.g. another process backfilled the same rows: next time, then
        log.warning("storing %d transcript extractions failed (they are read again next time): %s",
                    len(fresh), " ".join(str(e).split())[:200])
    else:
        log.debug("stored %d transcript extractions", len(fresh))
