"""What operators change on a transmission: the transcript text, its verification, the station.

- **Edit**: a new ``TranscriptRow`` (engine ``manual``, model = the operator's name, origin ``edit``)
  becomes current; earlier rows are kept as the history. Its words keep the recogniser's times where
  the word is unchanged, and share the span of the words they replace otherwise, so playback still
  highlights them; every word of an edit has confidence 1. The station is then identified again
  (the edit may name it), in the same transaction.
- **Verify**: the current transcript is marked checked (``verified``, ``verified_by``, ``verified_at``).
- **Assign**: :func:`gateway.identify.assign` with ``by`` = the operator.

Each form names the transcript it was shown (``base``); if another one has become current since, the
change is refused (409) rather than overwrite it. Every change writes an audit row with before/after.
"""

from __future__ import annotations

import difflib
import logging
import re
from typing import Any

from sqlalchemy import select, update
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse

from gateway import identify
from gateway.config import Config
from gateway.store.db import Database
from gateway.store.models import TranscriptRow, Transmission, utcnow
from gateway.web.auth import checked_form, client_ip
from gateway.web.users import audit

log = logging.getLogger(__name__)

MAX_TEXT = 20000
_EDGE_PUNCT = re.compile(r"^\W+|\W+$")


def _key(word: str) -> str:
    return _EDGE_PUNCT.sub("", word).casefold()


def realign(old_words: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """Words for an edited text, timed from the recogniser's words (see the module docstring)."""
    tokens = text.split()
    timed = [w for w in old_words if isinstance(w.get("start"), int | float) and isinstance(w.get("end"),
                                                                                           int | float)]
    if not timed or not tokens:
        return []
    out: list[dict[str, Any]] = []
    sm = difflib.SequenceMatcher(a=[_key(str(w.get("word", ""))) for w in timed],
                                 b=[_key(t) for t in tokens], autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            out += [{"word": tokens[j1 + k], "start": timed[i1 + k]["start"], "end": timed[i1 + k]["end"],
                     "conf": 1.0} for k in range(j2 - j1)]
        elif tag in ("replace", "insert"):
            if i2 > i1:
                lo, hi = float(timed[i1]["start"]), float(timed[i2 - 1]["end"])
            else:  # inserted between two words: the gap between them (may be empty)
                lo = float(timed[i1 - 1]["end"]) if i1 > 0 else float(timed[0]["start"])
                hi = float(timed[i1]["start"]) if i1 < len(timed) else lo
            step = max(0.0, hi - lo) / (j2 - j1)
            out += [{"word": tokens[j1 + k], "start": round(lo + k * step, 3),
                     "end": round(lo + (k + 1) * step, 3), "conf": 1.0} for k in range(j2 - j1)]
    return out


def _current(s, tx_id: int) -> TranscriptRow | None:  # noqa: ANN001
    return s.scalar(select(TranscriptRow).where(TranscriptRow.transmission_id == tx_id, TranscriptRow.current)
                    .order_by(TranscriptRow.id.desc()).limit(1))


def _check_base(cur: TranscriptRow | None, base: str) -> None:
    if str(cur.id if cur is not None else "") != base:
        raise HTTPException(409, "Transkrip sudah berubah sejak halaman dibuka; muat ulang dan ulangi.")


def _snapshot(tr: TranscriptRow | None) -> dict[str, Any] | None:
    if tr is None:
        return None
    return {"transcript_id": tr.id, "engine": tr.engine, "model": tr.model, "text": tr.text,
            "verified": tr.verified, "verified_by": tr.verified_by}


def edit_transcript(db: Database, cfg: Config, tx_id: int, text: str, base: str, by: str, ip: str) -> bool:
    """Store ``text`` as the new current transcript; False if it is unchanged."""
    text = " ".join(text.split())
    if len(text) > MAX_TEXT:
        raise HTTPException(400, f"Teks terlalu panjang (maksimal {MAX_TEXT} karakter).")
    with db.write() as s:
        if s.get(Transmission, tx_id) is None:
            raise HTTPException(404)
        cur = _current(s, tx_id)
        _check_base(cur, base)
        if cur is not None and cur.status == "done" and cur.text == text:
            return False
        s.execute(update(TranscriptRow).where(TranscriptRow.transmission_id == tx_id).values(current=False))
        row = TranscriptRow(transmission_id=tx_id, status="done", engine="manual", model=by, text=text,
                            words=realign(cur.words or [] if cur is not None else [], text), confidence=1.0,
                            error=None, origin="edit", current=True, created_at=utcnow())
        s.add(row)
        s.flush()
        identify.reidentify(s, tx_id, cfg)
        audit(s, "transcript_edit", by, f"transmission:{tx_id}", ip, before=_snapshot(cur),
              after=_snapshot(row))
    log.info("transmission %d: transcript edited by %s", tx_id, by)
    return True


def verify_transcript(db: Database, tx_id: int, base: str, by: str, ip: str) -> None:
    with db.write() as s:
        cur = _current(s, tx_id)
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
    with db.write() as s:
        tx = s.get(Transmission, tx_id)
        if tx is None:
            raise HTTPException(404)
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


async def post_transcript(request: Request) -> RedirectResponse:
    user, form = await checked_form(request, "operator")
    tx_id = request.path_params["tx_id"]
    state = request.app.state
    changed = await run_in_threadpool(edit_transcript, state.db, state.cfg, tx_id, _field(form, "text"),
                                      _field(form, "base"), user.name, client_ip(request))
    return _back(tx_id, "edit" if changed else "same")


async def post_verify(request: Request) -> RedirectResponse:
    user, form = await checked_form(request, "operator")
    tx_id = request.path_params["tx_id"]
    await run_in_threadpool(verify_transcript, request.app.state.db, tx_id, _field(form, "base"), user.name,
                            client_ip(request))
    return _back(tx_id, "verify")


async def post_assign(request: Request) -> RedirectResponse:
    user, form = await checked_form(request, "operator")
    tx_id = request.path_params["tx_id"]
    state = request.app.state
    await run_in_threadpool(assign_station, state.db, state.cfg, tx_id, _field(form, "station"),
                            _field(form, "note"), user.name, client_ip(request))
    return _back(tx_id, "assign")
