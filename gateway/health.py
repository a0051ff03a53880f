"""The daemon's health: what is up, since when, and how far behind; written for other processes.

:class:`Health` is told by the capture source and the squelch when they go down and come back, and
by the pipeline on every block. The daemon writes :meth:`Health.snapshot` to
``<data-dir>/health.json`` every few seconds (atomically: a temporary file renamed over the old one),
adding what only the database knows: the transcription backlog and the last report filed and mailed.
``ht-gateway status`` (:func:`status`) prints that file from another process, says when it is stale,
and exits non-zero when the daemon is not running or capture is down. The systemd watchdog is fed
only while :meth:`Health.capture_alive` holds: audio arrived recently (or the capture loop is busy
reopening a vanished input), so a hung capture gets the service restarted.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the daemon makes a Health before the database code is imported (capture first)
    from gateway.store.db import Database

FILE = "health.json"
STALE_S = 20.0
WRITE_EVERY_S = 2.0


def _iso(t: float | None) -> str | None:
    return datetime.fromtimestamp(t, UTC).astimezone().isoformat(timespec="seconds") if t else None


class Health:
    """Thread-safe state of capture and squelch (told by the source, the squelch, the pipeline)."""

    def __init__(self, wall: Callable[[], float] = time.time,
                 mono: Callable[[], float] = time.monotonic) -> None:
        self.wall, self.mono = wall, mono
        self._lock = threading.Lock()
        self.capture: dict[str, Any] = {"state": "starting", "since": wall(), "reason": "", "source": "",
                                        "outages": 0}
        self.squelch: dict[str, Any] = {"state": "none", "since": wall(), "reason": "", "outages": 0}
        self.last_frame: float | None = None  # epoch of the last audio block
        self.stuck_since: float | None = None  # the squelch is stuck open (the segmenter's alarm)
        self._alive_mono: float | None = None  # last block or reopen attempt (monotonic)
        self.first_block = threading.Event()
        self._created_mono = mono()

    # -- told by the parts ---------------------------------------------------------------------
    def capture_state(self, up: bool, reason: str) -> None:
        with self._lock:
            self.capture.update(state="up" if up else "down", since=self.wall(), reason=reason)
            if not up:
                self.capture["outages"] += 1
            self._alive_mono = self.mono()

    def capture_tick(self) -> None:
        """The capture loop is alive though no audio flows (reopening an input)."""
        self._alive_mono = self.mono()

    def capture_idle(self, reason: str) -> None:
        with self._lock:
            self.capture.update(state="idle", since=self.wall(), reason=reason)

    def frame(self) -> None:
        """A block of audio arrived (called by the pipeline per block)."""
        self.last_frame = self.wall()
        self._alive_mono = self.mono()
        if self.capture["state"] != "up":
            with self._lock:
                if self.capture["state"] in ("starting", "down"):
                    self.capture.update(state="up", since=self.wall(), reason="")
        self.first_block.set()

    def squelch_state(self, up: bool, reason: str) -> None:
        with self._lock:
            self.squelch.update(state="up" if up else "down", since=self.wall(), reason=reason)
            if not up:
                self.squelch["outages"] += 1

    def alarm(self, kind: str, t: float, message: str) -> None:
        """The segmenter's alarm (gateway/segmenter.py): a stuck squelch and its clearing."""
        if kind == "stuck_squelch":
            self.stuck_since = t
        elif kind == "stuck_squelch_cleared":
            self.stuck_since = None

    def capture_alive(self, within_s: float = 10.0, start_s: float = 30.0) -> bool:
        """Audio (or a reopen attempt) within ``within_s``; idle (no radio) counts as alive, and so
        does the first ``start_s`` while the first block is awaited."""
        state = self.capture["state"]
        if state == "idle" or (state == "starting" and self.mono() - self._created_mono < start_s):
            return True
        alive = self._alive_mono
        return alive is not None and self.mono() - alive < within_s

    # -- the snapshot --------------------------------------------------------------------------
    def snapshot(self, db: Database | None = None, stage: Any = None,
                 workers: dict[str, dict[str, object]] | None = None) -> dict[str, Any]:
        with self._lock:
            capture, squelch = dict(self.capture), dict(self.squelch)
        now = self.wall()
        out: dict[str, Any] = {
            "written_at": _iso(now), "written_epoch": now, "pid": os.getpid(),
            "capture": {**capture, "since": _iso(capture["since"]), "last_frame": _iso(self.last_frame),
                        "last_frame_age_s": round(now - self.last_frame, 1) if self.last_frame else None},
            "squelch": {**squelch, "since": _iso(squelch["since"]), "stuck_since": _iso(self.stuck_since)},
            "workers": workers or {},
        }
        if stage is not None:
            out["transcription"] = {"queued_s": round(stage.queued_s, 1), "restarts": stage.restarts,
                                    "pending": None}
        if db is not None:
            from gateway.recovery import STORE_ERRORS  # here: this module is imported before SQLAlchemy

            try:  # the database may be away (an outage): the rest of the record is still written
                self._from_db(out, db, stage)
                out["database"] = {"state": "up", "reason": ""}
            except STORE_ERRORS as e:
                out["database"] = {"state": "unreachable",
                                   "reason": (str(e).splitlines() or [type(e).__name__])[0][:200]}
        return out

    @staticmethod
    def _from_db(out: dict[str, Any], db: Database, stage: Any) -> None:
        from sqlalchemy import func, select

        from gateway.store.models import ReportRevision

        if stage is not None:
            out["transcription"]["pending"] = stage.pending_count()
        with db.read() as s:
            filed, day = s.execute(select(ReportRevision.filed_at, ReportRevision.day)
                                   .order_by(ReportRevision.filed_at.desc()).limit(1)).first() \
                or (None, None)
            mailed = s.scalar(select(func.max(ReportRevision.emailed_at)))
        out["reports"] = {"last_filed": _ts(filed), "last_filed_day": day.isoformat() if day else None,
                          "last_emailed": _ts(mailed)}


def _ts(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone().isoformat(timespec="seconds")


def write_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")
    os.replace(tmp, path)


def status(data_dir: Path, as_json: bool = False, now: float | None = None) -> tuple[int, str]:
    """``ht-gateway status``: (exit code, text). 0 running and capturing (or idle), 1 capture or the
    squelch port down, 3 not running (no file, a file not rewritten for ``STALE_S``, or one not
    shaped as the daemon writes it)."""
    path = data_dir / FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return 3, f"not running: no {path} (the daemon writes it every {WRITE_EVERY_S:g} s)"
    except (OSError, ValueError) as e:
        return 3, f"not running: {path} unreadable ({e})"
    now = now or time.time()
    why = _not_ours(data, now)
    if why is not None:  # replaced or hand-edited: nothing in it can be believed
        return 3, f"not running (or unknown): {path} is not what the daemon writes ({why})"
    age = now - float(data["written_epoch"])
    if as_json:
        text = json.dumps({**data, "age_s": round(age, 1), "stale": age > STALE_S}, indent=1)
    else:
        text = _text(data, age)
    if age > STALE_S:
        return 3, text + ("" if as_json else f"\nSTALE: not rewritten for {age:.0f} s: the daemon is "
                          "not running or hung")
    cap, sq = data.get("capture", {}), data.get("squelch", {})
    return (1 if cap.get("state") == "down" or sq.get("state") == "down" else 0), text


_NUM: tuple[type, ...] = (int, float)
_TEXT: tuple[type, ...] = (str, type(None))
#: What :meth:`Health.snapshot` writes, part by part: key -> (required, the types its value may have).
#: ``status`` and the web page read exactly these, so any other shape is "unknown", not a crash.
_SHAPE: dict[str, dict[str, tuple[bool, tuple[type, ...]]]] = {
    "": {"written_epoch": (True, _NUM), "written_at": (False, _TEXT), "pid": (True, (int,)),
         "capture": (True, (dict,)), "squelch": (True, (dict,)), "workers": (False, (dict,)),
         "transcription": (False, (dict,)), "database": (False, (dict,)), "reports": (False, (dict,))},
    "capture": {"state": (True, (str,)), "since": (False, _TEXT), "reason": (False, _TEXT),
                "source": (False, _TEXT), "outages": (False, (int,)), "last_frame": (False, _TEXT),
                "last_frame_age_s": (False, (*_NUM, type(None)))},
    "squelch": {"state": (True, (str,)), "since": (False, _TEXT), "reason": (False, _TEXT),
                "outages": (False, (int,)), "stuck_since": (False, _TEXT)},
    "transcription": {"queued_s": (False, _NUM), "restarts": (False, (int,)),
                      "pending": (False, (int, type(None)))},
    "database": {"state": (True, (str,)), "reason": (False, _TEXT)},
    "reports": {"last_filed": (False, _TEXT), "last_filed_day": (False, _TEXT),
                "last_emailed": (False, _TEXT)},
    "workers.*": {"state": (False, (str,)), "restarts": (False, (int,)), "last_error": (False, _TEXT),
                  "last_error_at": (False, (*_NUM, type(None)))},
}

_PARTS = tuple(key for key in _SHAPE if key not in ("", "workers.*"))  # capture, squelch, ...


def _not_ours(data: Any, now: float) -> str | None:
    """Why ``data`` is not a health record the daemon wrote (one phrase), or None when it is."""
    if not isinstance(data, dict):
        return f"a JSON {type(data).__name__}, not an object"
    parts = [(data, "", ""), *((data[key], key, f"{key}.") for key in _PARTS if key in data)]
    for part, shape, prefix in parts:  # the top level first: below it, each part is known to be a dict
        if (why := _check(part, shape, prefix)) is not None:
            return why
    for name, worker in data.get("workers", {}).items():
        if (why := _check(worker, "workers.*", f"workers.{name}.")) is not None:
            return why
    if float(data["written_epoch"]) > now + STALE_S:
        return f"written_epoch {data['written_epoch']} is in the future"
    return None


def _check(part: Any, shape: str, prefix: str) -> str | None:
    if not isinstance(part, dict):
        return f"{prefix.rstrip('.')} is not an object"
    for key, (required, types) in _SHAPE[shape].items():
        if key not in part:
            if required:
                return f"no {prefix}{key}"
            continue
        value = part[key]
        if isinstance(value, bool) or not isinstance(value, types) \
                or (isinstance(value, float) and not math.isfinite(value)):
            return f"{prefix}{key} = {json.dumps(value)[:40]}"
    return None


def _text(d: dict[str, Any], age: float) -> str:
    cap, sq = d.get("capture", {}), d.get("squelch", {})
    lines = [f"daemon pid {d.get('pid')}, health written {d.get('written_at')} ({age:.0f} s ago)",
             f"capture: {cap.get('state')} since {cap.get('since')} ({cap.get('source')})"
             + (f": {cap['reason']}" if cap.get("reason") else "")
             + f"; last audio {cap.get('last_frame') or 'never'}; outages {cap.get('outages', 0)}",
             f"squelch input: {sq.get('state')} since {sq.get('since')}"
             + (f": {sq['reason']}" if sq.get("reason") else "")
             + (f"; STUCK OPEN since {sq['stuck_since']}" if sq.get("stuck_since") else "")]
    dbs = d.get("database")
    if dbs and dbs.get("state") != "up":
        lines.append(f"database: {dbs.get('state')}: {dbs.get('reason')} (recording to disk; stored "
                     "when it is back)")
    tr = d.get("transcription")
    if tr:
        pending = "?" if tr.get("pending") is None else tr["pending"]  # ?: the database is away
        lines.append(f"transcription: {tr.get('queued_s')} s queued, {pending} pending, "
                     f"{tr.get('restarts')} restart(s)")
    rep = d.get("reports") or {}
    lines.append(f"last report filed: {rep.get('last_filed') or 'none'} (day {rep.get('last_filed_day')}); "
                 f"last mailed: {rep.get('last_emailed') or 'none'}")
    for name, w in (d.get("workers") or {}).items():
        lines.append(f"worker {name}: {w.get('state')}, {w.get('restarts')} restart(s)"
                     + (f", last error: {w['last_error']}" if w.get("last_error") else ""))
    return "\n".join(lines)
