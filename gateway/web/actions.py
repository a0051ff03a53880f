"""What operators change on a transmission: the transcript text, its verification, the station.

- **Edit**: a new ``TranscriptRow`` (engine ``manual``, model = the operator's name, origin ``edit``)
  becomes current; earlier rows are kept as the history. Its words keep the recogniser's times where
  the word is unchanged, and share the span of the words they replace otherwise, so playback still
  highlights them; every word of an edit has confidence 1. The station is then identified again
  (the edit may name it), in the same transaction.
- **Verify**: the current transcript is marked checked (``verified``, ``verified_by``, ``verified_at``).
- **Assign**: :func:`gateway.identification.identify.assign` with ``by`` = the operator.

Text from the forms is cleaned of control characters (:func:`gateway.web.params.clean_text`); the
word alignment is computed outside the database write lock. Each form names the transcript it was
shown (``base``); if another one has become current since, the change is refused (409) rather than
overwrite it: the page comes back (409) with the version stored now and the text that was typed, kept
in the form. Every change writes an audit row with before/after.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gateway.config import Config
from gateway.identification import identify
from gateway.report import extracts
from gateway.store.db import Database
from gateway.store.models import TranscriptRow, Transmission, current_transcript, utcnow
from gateway.web.align import realign
from gateway.web.auth import checked_form, client_ip
from gateway.web.params import clean_text, path_id
from gateway.web.users import audit

log = logging.getLogger(__name__)

MAX_TEXT = 100_000  # characters: some 15,000 words, longer than any transmission (segmenter.max_s)


def _check_base(cur: TranscriptRow | None, base: str) -> None:
    if str(cur.id if cur is not None else "") != base:
        raise HTTPException(409, "Transkrip sudah berubah sejak halaman dibuka; muat ulang dan ulangi.")


def _snapshot(tr: TranscriptRow | None) -> dict[str, Any] | None:
    if tr is None:
        return None
    return {"transcript_id": tr.id, "engine": tr.engine, "model": tr.model, "text": tr.text,
            "verified": tr.verified, "verified_by": tr.verified_by}


@dataclass(frozen=True)
class _Shown:
    """The current transcript an edit starts from, read before the write."""
    id: int | None
    done: bool
    text: str
    words: list[dict[str, Any]]


def _shown(db: Database, tx_id: int, base: str) -> _Shown:
    with db.read() as s:
        if s.get(Transmission, tx_id) is None:
            raise HTTPException(404, f"Transmisi {tx_id} tidak ada.")
        cur = current_transcript(s, tx_id)
        _check_base(cur, base)
        if cur is None:
            return _Shown(None, False, "", [])
        return _Shown(cur.id, cur.status == "done", cur.text or "", list(cur.words or []))


def edit_transcript(db: Database, cfg: Config, tx_id: int, text: str, base: str, by: str, ip: str) -> bool:
    """Store ``text`` as the new current transcript; False if it is unchanged.

    The words are aligned (:func:`gateway.web.align.realign`) before the write transaction, from the
    transcript read first; the write then only checks that it is still the current one (else 409).
    """
    text = " ".join(clean_text(text).split())
    if len(text) > MAX_TEXT:
        raise HTTPException(400, f"Teks terlalu panjang (maksimal {MAX_TEXT} karakter).")
    shown = _shown(db, tx_id, base)
    if shown.done and shown.text == text:
        return False
    words = realign(shown.words, text)
    extraction = extracts.prepare(db, cfg, tx_id, text, words)  # CPU work: before the write
    heard = identify.hear(text, words, cfg)  # spoken-name matching too
    with db.write() as s:
        if s.get(Transmission, tx_id) is None:
            raise HTTPException(404, f"Transmisi {tx_id} tidak ada.")
        cur = current_transcript(s, tx_id)
        _check_base(cur, base)  # still the one read above (the base), else 409
        s.execute(update(TranscriptRow).where(TranscriptRow.transmission_id == tx_id).values(current=False))
        row = TranscriptRow(transmission_id=tx_id, status="done", engine="manual", model=by, text=text,
                            words=words, confidence=1.0, error=None, origin="edit", current=True,
                            created_at=utcnow())
        s.add(row)
        s.flush()
        extracts.store(s, row.id, extraction)  # what the report reads from it, stored with it
        identify.reidentify(s, tx_id, cfg, heard)
        audit(s, "transcript_edit", by, f"transmission:{tx_id}", ip, before=_snapshot(cur),
              after=_snapshot(row))
    log.info("transmission %d: transcript edited by %s", tx_id, by)
    return True


def verify_transcript(db: Database, tx_id: int, base: str, by: str, ip: str) -> None:
    with db.write() as s:
        cur = current_transcript(s, tx_id)
        _check_base(cur, base)
        if cur is None or cur.status != "done":
            raise HTTPException(400, "Belum ada transkrip untuk diverifikasi.")
        before = _snapshot(cur)
        cur.verified, cur.verified_by, cur.verified_at = True, by, utcnow()
        s.flush()
        audit(s, "transcript_verify", by, f"transmission:{tx_id}", ip, before=before,
              after={**(_snapshot(cur) or {}), "verified_at": cur.verified_at.isoformat()})
    log.info("transmission %d: transcript %d verified by %s", tx_id, cur.id, by)


def assign_station(db: Database, cfg: Config, tx_id: int, station: str, note: str, by: str, ip: str) -> None:
    station, note = clean_text(station).strip(), clean_text(note).strip()
    with db.write() as s:
        tx = s.get(Transmission, tx_id)
        if tx is None:
            raise HTTPException(404, f"Transmisi {tx_id} tidak ada.")
        before = {"station": tx.station, "identity_source": tx.identity_source}
        try:
            ident = identify.assign(s, tx_id, station or None, by, cfg, note[:500])
        except ValueError as e:
            raise HTTPException(400, str(e)) from None
        audit(s, "assign" if station else "assign_clear", by, f"transmission:{tx_id}", ip, before=before,
              after={"station": ident.station, "identity_source": ident.source, "note": note[:500]})


def _field(form: Any, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def _back(tx_id: int, msg: str) -> RedirectResponse:
    return RedirectResponse(f"/tx/{tx_id}?ok={msg}", status_code=303)


async def post_transcript(request: Request) -> Response:
    user, form = await checked_form(request, "operator")
    tx_id = path_id(request)
    state = request.app.state
    text = _field(form, "text")
    try:
        changed = await run_in_threadpool(edit_transcript, state.db, state.cfg, tx_id, text,
                                          _field(form, "base"), user.name, client_ip(request))
    except HTTPException as e:
        if e.status_code != 409:
            raise
        return await _conflict(request, tx_id, text)
    return _back(tx_id, "edit" if changed else "same")


async def _conflict(request: Request, tx_id: int, typed: str) -> Response:
    """Another edit won: the page again (409), with the version stored now and the text typed, kept
    in the form (whose base is now the current transcript, so saving again is a deliberate overwrite)."""
    from gateway.web.queries import tx_view
    from gateway.web.views import page

    view = await run_in_threadpool(tx_view, request.app.state.db, tx_id)
    if view is None:
        raise HTTPException(404, f"Transmisi {tx_id} tidak ada.")
    typed = clean_text(typed)[:MAX_TEXT]
    return page(request, "tx.html", {"v": view, "can_edit": True, "ok": "", "conflict": {"typed": typed}},
                409)


async def post_verify(request: Request) -> RedirectResponse:
    user, form = await checked_form(request, "operator")
    tx_id = path_id(request)
    await run_in_threadpool(verify_transcript, request.app.state.db, tx_id, _field(form, "base"), user.name,
                            client_ip(request))
    return _back(tx_id, "verify")


async def post_assign(request: Request) -> RedirectResponse:
    user, form = await checked_form(request, "operator")
    tx_id = path_id(request)
    state = request.app.state
    await run_in_threadpool(assign_station, state.db, state.cfg, tx_id, _field(form, "station"),
                            _field(form, "note"), user.name, client_ip(request))
    return _back(tx_id, "assign")
