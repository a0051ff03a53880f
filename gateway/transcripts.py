"""Storing a transcript, and transcribing a stored transmission from its recording.

Used by the daemon's transcription stage (gateway/transcribe.py), by ``ht-gateway worker``
(gateway/worker.py) and by ``ht-gateway transcribe``. A run that claimed its job (gateway/jobs.py)
stores only while it still holds the claim, and clears it in the same transaction.

Before a recording is decoded its bytes are checked against the sha256 stored on the row; a reader
without the file (a worker with no shared directory) or with a file that does not match takes the
database copy (``store.audio_in_db``, gateway/audiostore.py), checked the same way. A recording
found nowhere intact (changed or damaged, or a different file under the same name on a shared
directory, and no good copy in the database) fails the job with that reason, stored as a
``failed`` transcript like any other fault, so it is not retried automatically (``ht-gateway
transcribe --failed`` retries it by hand).
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np
import soundfile as sf
from sqlalchemy import Select, exists, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from gateway.asr.base import Recognizer, Transcript, transcribe_all
from gateway.asr.vocabulary import echoed_names, echoed_report
from gateway.audio.dsp import Resampler, dbfs
from gateway.audiostore import read_recording
from gateway.faults import fault_point
from gateway.store.db import Database
from gateway.store.models import TranscriptRow, Transmission

if TYPE_CHECKING:
    from gateway.jobs import Claims

log = logging.getLogger("gateway.transcribe")

#: A transcript's ``status``: ``done`` (a recogniser's text, here, or an operator's edit:
#: gateway/web/actions.py) or ``failed`` (``error`` says why). The only ones the code sets
#: (tests/test_restore_rows.py scans it); restore accepts no other.
TranscriptStatus = Literal["done", "failed"]
TRANSCRIPT_STATUSES: tuple[TranscriptStatus, ...] = get_args(TranscriptStatus)


def pending_query(exclude_uids: set[str] | None = None) -> Select[int]:
    """Complete transmissions without a current transcript, oldest first."""
    has_current = exists().where(TranscriptRow.transmission_id == Transmission.id, TranscriptRow.current)
    q = select(Transmission.id).where(Transmission.status == "complete", ~has_current)
    if exclude_uids:
        q = q.where(Transmission.uid.not_in(exclude_uids))
    return q.order_by(Transmission.started_at, Transmission.id)


AfterStore = Callable[[Session, int], None]
#: Work for a new transcript done BEFORE the write transaction (CPU work stays outside the lock):
#: (transmission id, result) -> what to write with the transcript in its transaction, given the
#: session and the new transcript row's id (e.g. gateway.report.extracts.on_transcript), or None.
Prepare = Callable[[int, Transcript], Callable[[Session, int], None] | None]
#: A second look at a stored transcript while its audio is at hand: (recogniser, audio at its rate,
#: transcript) -> what to store in ``transcripts.name_check``, or None
#: (gateway.identification.name_check.checker; run by :func:`check_stored`).
Check = Callable[[Recognizer, np.ndarray, Transcript], dict[str, Any] | None]

#: Speech energy (:func:`has_speech_energy`): at least this much audio in 20 ms frames at or above
#: SPEECH_DBFS. A kerchunk is < 0.4 s; squelch noise between calls is not recorded.
SPEECH_MIN_S = 0.6
SPEECH_DBFS = -40.0
#: A transcript whose mean word confidence is below this, after the unfiltered retry, needs listening.
LISTEN_CONFIDENCE = 0.35
#: Too few words for the speech: under this many per second of speech energy, from SPARSE_MIN_S of
#: it. People speak 2-3 words a second (so does espeak-ng at 130-175 wpm); whisper writing one
#: greeting, or a closing, for 30 s of report ("Assalamualaikum warahmatullahi wabarakatuh") has
#: lost the call as surely as an empty transcript. Hum counted as speech energy halves the rate at
#: worst, still well above this.
SPARSE_WORDS_PER_S = 0.5
SPARSE_MIN_S = 6.0


def speech_seconds(audio: np.ndarray, rate: int) -> float:
    """A cheap voice-activity measure: the seconds of loud 20 ms frames."""
    n = max(1, rate // 50)
    loud = sum(1 for i in range(0, len(audio) - n + 1, n) if dbfs(audio[i:i + n]) >= SPEECH_DBFS)
    return loud * n / rate


def has_speech_energy(audio: np.ndarray, rate: int) -> bool:
    """Enough loud 20 ms frames to hold words."""
    return speech_seconds(audio, rate) >= SPEECH_MIN_S


def too_few_words(result: Transcript, speech_s: float) -> bool:
    """Far fewer words than ``speech_s`` of speech holds (:data:`SPARSE_WORDS_PER_S`)."""
    return speech_s >= SPARSE_MIN_S and len(result.words) < SPARSE_WORDS_PER_S * speech_s


def needs_listening(result: Transcript | None, speech_s: float = 0.0) -> bool:
    return result is not None and (not result.words or (result.confidence or 0.0) < LISTEN_CONFIDENCE
                                   or too_few_words(result, speech_s))


def retry_if_empty(recognizer: Recognizer, audio: np.ndarray, result: Transcript,
                   prompt_words: tuple[str, ...] = ()) -> tuple[Transcript, bool]:
    """The retry without filters for speech that came back empty, or with far too few words for
    it (:func:`too_few_words`): (transcript to store, flag). ``audio`` is at ``recognizer.rate``.
    The retry's words are kept when there are more of them. A transcript with enough words is
    returned unchanged, but for the retry without the prompt's names when it lists them
    (:func:`_without_echo`)."""
    speech_s = speech_seconds(audio, recognizer.rate)
    if speech_s < SPEECH_MIN_S:
        return result, False  # nothing that sounds like words: an empty transcript is right
    if result.words and not too_few_words(result, speech_s):
        result = _without_echo(recognizer, audio, result, prompt_words)
        return result, needs_listening(result, speech_s)  # of the words stored: maybe too unsure
    log.warning("%.1f s of speech came back with %d words: retrying without the recogniser's filters",
                speech_s, len(result.words))
    again = transcribe_all(recognizer, audio, prompt_words=prompt_words, unfiltered=True)
    if len(again.words) > len(result.words):
        result = Transcript(again.text, again.words, {**again.extra, "retried_unfiltered": True})
    flag = needs_listening(result, speech_s)
    if flag:
        log.warning("transmission flagged perlu didengar (too few confident words after the retry)")
    return result, flag


def _without_echo(recognizer: Recognizer, audio: np.ndarray, result: Transcript,
                  prompt_words: tuple[str, ...]) -> Transcript:
    """A transcript that lists names of the prompt back to back (:func:`echoed_names`: Whisper
    writing out its prompt for a name it did not catch) is decoded again without the names in the
    prompt; the new words are kept if there are any (``extra["retried_without_names"]``). One that
    lists the report words of an engine's prompt (``recognizer.report_phrases``,
    :func:`echoed_report`: "Banjir, pohon tumbang, rumah terendam" for words it did not catch) is
    decoded again with the names but without those words (``plain``), kept likewise
    (``extra["retried_without_report"]``)."""
    echo = echoed_names(result.text, prompt_words) if prompt_words else []
    if echo:
        log.info("transcript lists the prompt's names (%s): decoding again without them", ", ".join(echo))
        again = transcribe_all(recognizer, audio)
        if not again.words:
            return result
        return Transcript(again.text, again.words, {**again.extra, "retried_without_names": echo})
    said = echoed_report(result.text, getattr(recognizer, "report_phrases", ()))
    if not said:
        return result
    log.info("transcript lists the prompt's report words (%s): decoding again without them",
             ", ".join(said))
    again = transcribe_all(recognizer, audio, prompt_words=prompt_words, plain=True)
    if not again.words:
        return result
    return Transcript(again.text, again.words, {**again.extra, "retried_without_report": said})


def store_transcript(db: Database, tx_id: int, recognizer: Recognizer, result: Transcript | None,
                     origin: str, error: str | None = None, latency_s: float | None = None,
                     processing_s: float | None = None, replace: bool = False,
                     after: AfterStore | None = None, listen: bool = False,
                     prepare: Prepare | None = None, claims: Claims | None = None) -> bool:
    """Write one run's result as the transmission's current transcript.

    Without ``replace`` it is written only if the transmission has no current transcript yet, so a
    transmission is transcribed automatically exactly once. Returns whether it was written.
    ``listen``: flag the transmission "perlu didengar" (cleared when False). ``prepare``: see
    :data:`Prepare` (run here, before the write). ``claims``: the job was claimed through these
    (gateway/jobs.py): nothing is written unless the claim is still held; a re-transcription job
    (``asr_redo``) replaces the current transcript.
    """
    with_row = prepare(tx_id, result) if prepare is not None and result is not None and not error else None
    with db.write() as s:
        if claims is not None:
            redo = claims.finish_in(s, tx_id)
            if redo is None:
                return False
            replace = replace or redo
        current = s.scalar(select(TranscriptRow.id).where(TranscriptRow.transmission_id == tx_id,
                                                          TranscriptRow.current).limit(1))
        if current is not None and not replace:
            return False
        fault_point("transcript_store")
        s.execute(update(TranscriptRow).where(TranscriptRow.transmission_id == tx_id)
                  .values(current=False))
        status: TranscriptStatus = "failed" if error else "done"
        row = TranscriptRow(
            transmission_id=tx_id, status=status, engine=recognizer.engine,
            model=recognizer.model_id, text=result.text if result else "",
            words=result.words_json() if result else [], confidence=result.confidence if result else None,
            error=error, origin=origin, latency_s=latency_s, processing_s=processing_s, current=True)
        s.add(row)
        if with_row is not None:
            s.flush()
            with_row(s, row.id)
        s.execute(update(Transmission).where(Transmission.id == tx_id)
                  .values(needs_listening=listen, asr_pending=False))  # the job is done (gateway/jobs.py)
        if after is not None:
            s.flush()
            after(s, tx_id)  # e.g. identify the speaker from the new text, in the same transaction
    return True


def transcribe_file(db: Database, data_dir: Path, tx_id: int, recognizer: Recognizer,
                    prompt_words: tuple[str, ...] = (), replace: bool = False,
                    after: AfterStore | None = None, prepare: Prepare | None = None,
                    claims: Claims | None = None, by_gateway: bool = False,
                    check: Check | None = None) -> bool:
    """Transcribe a stored transmission from its recording; a failure is stored, not raised.
    ``by_gateway`` (a worker): the recording is under ``data_dir/<gateway_id>/`` when that folder
    exists (each gateway's data directory mounted there), else under ``data_dir``; when it is not
    there (or does not match), the database copy is read (gateway/audiostore.py). ``check``: see
    :data:`Check`."""
    t0 = time.monotonic()
    with db.read() as s:
        tx = s.get_one(Transmission, tx_id)
        audio_path, noise, sha256 = tx.audio_path, tx.kerchunk or tx.stuck, tx.sha256
        if by_gateway and (data_dir / tx.gateway_id).is_dir():
            data_dir = data_dir / tx.gateway_id
        purged = tx.audio_purged
    if purged:  # retention deleted the recording: keep the transcript it has, close the job
        log.info("transmission %d: its recording was deleted by retention; not transcribed", tx_id)
        if claims is not None:
            with db.write() as s:
                claims.finish_in(s, tx_id)
        return False
    listen = False
    try:
        data = read_recording(db, data_dir, tx_id, audio_path, sha256)
        audio, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=False)
        audio = Resampler(rate, recognizer.rate).process(audio, last=True)
        result = transcribe_all(recognizer, audio, prompt_words=prompt_words)
        if not noise:
            result, listen = retry_if_empty(recognizer, audio, result, prompt_words)
    except SQLAlchemyError:  # reading the database copy failed: the database is away, not the job
        raise
    except Exception as e:  # any engine fault is recorded on this transmission
        log.error("transmission %d: transcription failed: %s", tx_id, e)
        return store_transcript(db, tx_id, recognizer, None, "file", error=_one_line(e), replace=replace,
                                after=after, claims=claims)
    stored = store_transcript(db, tx_id, recognizer, result, "file",
                              processing_s=round(time.monotonic() - t0, 3), replace=replace, after=after,
                              listen=listen, prepare=prepare, claims=claims)
    if stored and check is not None and not noise:
        check_stored(db, tx_id, recognizer, audio, result, check, after)
    return stored


#: Identity sources a second look cannot improve on (gateway/identification/identify.py).
SURE_SOURCES = ("operator", "ani", "voice")


def check_stored(db: Database, tx_id: int, recognizer: Recognizer, audio: np.ndarray, result: Transcript,
                 check: Check, after: AfterStore | None = None) -> None:
    """Run ``check`` on a transcript just stored, after its write, so the transcript's latency does
    not wait for it: only when the transmission's station is not already known from an operator,
    an ANI or a spoken name; outside any transaction (CPU work); its answer is stored on the same
    transcript row, if that is still the current one with the same words, and ``after`` runs
    (identification again) in that second short write. A failure is logged, never raised: the
    transcript stands either way (a crash between the writes loses only the second look)."""
    try:
        with db.read() as s:
            source = s.scalar(select(Transmission.identity_source).where(Transmission.id == tx_id))
        if source in SURE_SOURCES:
            return
        found = check(recognizer, audio, result)
        if found is None:
            return
        with db.write() as s:
            row = s.scalar(select(TranscriptRow).where(TranscriptRow.transmission_id == tx_id,
                                                       TranscriptRow.current))
            if row is None or row.text != result.text:
                return  # replaced or edited meanwhile: the check was of other words
            row.name_check = found
            s.flush()
            if after is not None:
                after(s, tx_id)
    except Exception as e:  # the transcript is stored; only the second look is lost
        log.warning("transmission %d: second look at the transcript failed: %s", tx_id, _one_line(e))


def _one_line(e: BaseException) -> str:
    return (str(e).splitlines() or [e.__class__.__name__])[0][:500]

