"""Recordings for the browser: the Ogg file by transmission id (HTTP Range), and waveform peaks.

The path always comes from the transmission's row, never from the URL, and must resolve (symlinks
followed) to a file inside ``<data_dir>/recordings``; anything else is a 404 and a warning in the log,
except a recording that retention deleted (gateway/retention.py): 410, "dihapus oleh retensi".
Range requests (seeking in ``<audio>``) are Starlette's FileResponse: one or more ranges → 206 with
Content-Range, an unsatisfiable one → 416 with ``Content-Range: bytes */SIZE``.
"""

from __future__ import annotations

import functools
import itertools
import logging
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse

from gateway.store.db import Database
from gateway.store.models import Transmission
from gateway.web.params import path_id

log = logging.getLogger(__name__)

PEAKS_PER_SECOND = 50
MAX_PEAKS = 3000


def recording_path(db: Database, data_dir: Path, tx_id: int) -> Path | None:
    """The transmission's finished recording, if it is a file inside ``data_dir/recordings``."""
    with db.read() as s:
        row = s.get(Transmission, tx_id)
        rel = row.audio_path if row is not None and row.status == "complete" else None
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
    return path


PURGED_TEXT = "Rekaman dihapus oleh retensi."


def audio_purged(db: Database, tx_id: int) -> bool:
    """Whether retention deleted the transmission's recording (Transmission.audio_purged)."""
    with db.read() as s:
        row = s.get(Transmission, tx_id)
        return row is not None and row.audio_purged


async def _recording_or_404(request: Request) -> Path:
    """The request's transmission recording, checked to lie inside recordings/; else 404 (410 when
    retention deleted it)."""
    app = request.app
    tx_id = path_id(request)
    path = await run_in_threadpool(recording_path, app.state.db, app.state.data_dir, tx_id)
    if path is None:
        if await run_in_threadpool(audio_purged, app.state.db, tx_id):
            raise HTTPException(410, PURGED_TEXT)
        raise HTTPException(404, "Rekaman tidak ada.")
    return path


async def audio(request: Request) -> FileResponse:
    path = await _recording_or_404(request)
    return FileResponse(path, media_type="audio/ogg", headers={"Cache-Control": "private, no-store"})


@functools.lru_cache(maxsize=256)
def _peaks(path: str, mtime_ns: int, size: int) -> dict[str, Any]:  # mtime and size: a changed file is new
    del mtime_ns, size
    data, rate = sf.read(path, dtype="float32", always_2d=True)
    mono = np.abs(data).max(axis=1) if data.size else np.zeros(0, dtype=np.float32)
    duration = len(mono) / rate if rate else 0.0
    n = int(min(MAX_PEAKS, max(1, round(duration * PEAKS_PER_SECOND))))
    if len(mono) == 0:
        return {"duration": 0.0, "peaks": []}
    edges = np.linspace(0, len(mono), n + 1).astype(int)
    peaks = [float(mono[a:b].max()) if b > a else 0.0 for a, b in itertools.pairwise(edges)]
    top = max(peaks) or 1.0
    return {"duration": round(duration, 3), "peaks": [round(min(1.0, p / top), 3) for p in peaks]}


def peaks_for(path: Path) -> dict[str, Any]:
    st = path.stat()
    return _peaks(str(path), st.st_mtime_ns, st.st_size)


async def peaks(request: Request) -> JSONResponse:
    path = await _recording_or_404(request)
    try:
        result = await run_in_threadpool(peaks_for, path)
    except (sf.LibsndfileError, RuntimeError, OSError) as e:
        log.warning("transmission %d: cannot read %s: %s", path_id(request), path, e)
        raise HTTPException(404, "Rekaman tidak terbaca.") from None
    return JSONResponse(result)
