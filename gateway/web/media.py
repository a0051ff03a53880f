"""Recordings for the browser: the Ogg file by transmission id (HTTP Range), and waveform peaks.

The path always comes from the transmission's row, never from the URL, and must resolve (symlinks
followed) to a file inside ``<data_dir>/recordings``; anything else is not served from disk (a warning
in the log). The local file is served only when its bytes match the row's sha256 (rows without one:
as they are); otherwise the copy in the database (``transmission_audio``, pushed by the gateway with
``store.audio_in_db``, gateway/audiostore.py), checked the same way on every read, so the office's
web UI plays any gateway's recordings without their disks. Neither: a 404 naming the transmission;
a database copy that does not match is refused (a 404 saying so, an error in the log); a recording
that retention deleted (gateway/retention.py): 410, "dihapus oleh retensi".
Range requests (seeking in ``<audio>``) work for both: the file through Starlette's FileResponse (one
or more ranges → 206 with Content-Range, an unsatisfiable one → 416 with ``Content-Range: bytes
*/SIZE``), the database copy through :func:`bytes_response` (one range → 206, an unsatisfiable one
→ 416; several ranges or a malformed header: the whole recording, 200, as RFC 9110 allows).
"""

from __future__ import annotations

import functools
import io
import itertools
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from gateway.audiostore import AudioMismatch, database_copy, sha256_of
from gateway.store.db import Database
from gateway.store.models import Transmission
from gateway.web.params import path_id

log = logging.getLogger(__name__)

PEAKS_PER_SECOND = 50
MAX_PEAKS = 3000


@dataclass(frozen=True)
class Recording:
    """A transmission's recording, its bytes checked against the row's sha256: the local file
    (``path``) or the database copy (``data``)."""

    tx_id: int
    path: Path | None = None
    data: bytes | None = None


def recording_path(db: Database, data_dir: Path, tx_id: int) -> Path | None:
    """The transmission's finished recording, if it is a file inside ``data_dir/recordings`` whose
    bytes match the row's sha256."""
    with db.read() as s:
        row = s.get(Transmission, tx_id)
        rel = row.audio_path if row is not None and row.status == "complete" else None
        sha256 = row.sha256 if row is not None else None
    if not rel:
        return None
    root = (data_dir / "recordings").resolve()
    try:
        path = (data_dir / rel).resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return None
    if not path.is_relative_to(root) or not path.is_file():
        if not path.is_relative_to(root):
            log.warning("transmission %d: audio_path %r is outside %s; not served", tx_id, rel, root)
        return None
    if sha256:
        try:
            st = path.stat()
            got = _file_sha256(str(path), st.st_mtime_ns, st.st_size)
        except OSError:
            return None
        if got != sha256:
            log.warning("transmission %d: %s does not match the row's sha256; not served from disk",
                        tx_id, rel)
            return None
    return path


PURGED_TEXT = "Rekaman dihapus oleh retensi."


@functools.lru_cache(maxsize=1024)
def _file_sha256(path: str, mtime_ns: int, size: int) -> str:  # mtime and size: a changed file is new
    del mtime_ns, size
    return sha256_of(Path(path).read_bytes())


def find_recording(db: Database, data_dir: Path, tx_id: int) -> Recording | str:
    """The local file when it is there and intact, else the database copy (checked); else why not
    (one line, for the 404; :data:`PURGED_TEXT` when retention deleted it)."""
    path = recording_path(db, data_dir, tx_id)
    if path is not None:
        return Recording(tx_id, path=path)
    with db.read() as s:
        row = s.get(Transmission, tx_id)
        if row is None or row.status != "complete":
            return f"Transmisi {tx_id} tidak punya rekaman."
        if row.audio_purged:
            return PURGED_TEXT
    try:
        data = database_copy(db, tx_id)
    except AudioMismatch as e:
        log.error("%s", e)
        return f"Rekaman transmisi {tx_id} di basis data tidak cocok dengan sha256-nya; tidak diputar."
    if data is None:
        return f"Rekaman transmisi {tx_id} tidak ada di gateway ini maupun di basis data."
    return Recording(tx_id, data=data)


async def _recording_or_404(request: Request) -> Recording:
    """The request's transmission recording (a file inside recordings/ or the database copy,
    hash checked); else 404 saying which transmission and why (410 when retention deleted it)."""
    app = request.app
    found = await run_in_threadpool(find_recording, app.state.db, app.state.data_dir, path_id(request))
    if found == PURGED_TEXT:
        raise HTTPException(410, PURGED_TEXT)
    if isinstance(found, str):
        raise HTTPException(404, found)
    return found


_NO_STORE = {"Cache-Control": "private, no-store"}


async def audio(request: Request) -> Response:
    rec = await _recording_or_404(request)
    if rec.path is not None:
        return FileResponse(rec.path, media_type="audio/ogg", headers=_NO_STORE)
    assert rec.data is not None
    return bytes_response(request, rec.data, "audio/ogg")


_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


def bytes_response(request: Request, data: bytes, media_type: str) -> Response:
    """``data`` with HTTP Range (RFC 9110 §14): one satisfiable range → 206, one unsatisfiable →
    416 ``bytes */SIZE``; no range, several, or a malformed header → the whole body, 200."""
    size = len(data)
    headers = {**_NO_STORE, "Accept-Ranges": "bytes"}
    m = _RANGE.match(request.headers.get("range", ""))
    if m is None or (not m[1] and not m[2]):
        return Response(data, media_type=media_type, headers=headers)
    if m[1] and m[2] and int(m[2]) < int(m[1]):
        return Response(data, media_type=media_type, headers=headers)  # invalid: ignored
    if m[1]:
        first, last = int(m[1]), min(int(m[2]), size - 1) if m[2] else size - 1
    else:  # a suffix: the last N bytes (none: unsatisfiable)
        first, last = (max(0, size - int(m[2])) if int(m[2]) else size), size - 1
    if first >= size:
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    return Response(data[first:last + 1], status_code=206, media_type=media_type,
                    headers={**headers, "Content-Range": f"bytes {first}-{last}/{size}"})


@functools.lru_cache(maxsize=256)
def _peaks(path: str, mtime_ns: int, size: int) -> dict[str, Any]:  # mtime and size: a changed file is new
    del mtime_ns, size
    return _peaks_of(path)


@functools.lru_cache(maxsize=256)
def _peaks_of_copy(sha256: str, data: bytes) -> dict[str, Any]:  # the copy's hash was checked
    del sha256
    return _peaks_of(io.BytesIO(data))


def _peaks_of(source: str | io.BytesIO) -> dict[str, Any]:
    data, rate = sf.read(source, dtype="float32", always_2d=True)
    mono = np.abs(data).max(axis=1) if data.size else np.zeros(0, dtype=np.float32)
    duration = len(mono) / rate if rate else 0.0
    n = int(min(MAX_PEAKS, max(1, round(duration * PEAKS_PER_SECOND))))
    if len(mono) == 0:
        return {"duration": 0.0, "peaks": []}
    edges = np.linspace(0, len(mono), n + 1).astype(int)
    peaks = [float(mono[a:b].max()) if b > a else 0.0 for a, b in itertools.pairwise(edges)]
    top = max(peaks) or 1.0
    return {"duration": round(duration, 3), "peaks": [round(min(1.0, p / top), 3) for p in peaks]}


def peaks_for(rec: Recording) -> dict[str, Any]:
    if rec.path is not None:
        st = rec.path.stat()
        return _peaks(str(rec.path), st.st_mtime_ns, st.st_size)
    assert rec.data is not None
    return _peaks_of_copy(sha256_of(rec.data), rec.data)


async def peaks(request: Request) -> JSONResponse:
    rec = await _recording_or_404(request)
    try:
        result = await run_in_threadpool(peaks_for, rec)
    except (sf.LibsndfileError, RuntimeError, OSError) as e:
        log.warning("transmission %d: cannot read %s: %s", rec.tx_id, rec.path or "the database copy", e)
        raise HTTPException(404, "Rekaman tidak terbaca.") from None
    return JSONResponse(result)
