"""Web UI hardening: no CPU-heavy work under the write lock, login throttling per account and per
address, X-Forwarded-For only from trusted proxies, relative redirects, control characters, event
streams that end with their session.

The write lock is watched by wrapping ``Database._write_lock`` (hold times measured from acquire to
release, and which thread holds it), not by wall-clock guesses about the whole request.
"""

from __future__ import annotations

import dataclasses
import difflib
import gc
import random
import re
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from test_web_helpers import PASSWORDS, WIB, Web, add_tx, csrf_of, logged_in, login, make_web

from gateway.config import Config, ConfigError, WebConfig, parse
from gateway.identification import identify
from gateway.store.db import Database
from gateway.store.models import AuditEntry, TranscriptRow, Transmission
from gateway.web import actions, align, auth, users

# --- the write lock, watched ---------------------------------------------------------------------


class WatchedLock:
    """Stands in for the database's write lock: records how long each hold lasted (wall clock, and CPU
    time of the holding thread, which a busy machine does not inflate) and who holds it."""

    def __init__(self, lock: Any) -> None:
        self.lock, self.holds, self.cpu, self.holder = lock, [], [], None
        self._t = self._c = 0.0

    def __enter__(self) -> WatchedLock:
        self.lock.acquire()
        self.holder, self._t, self._c = threading.get_ident(), time.perf_counter(), time.thread_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.holds.append(time.perf_counter() - self._t)
        self.cpu.append(time.thread_time() - self._c)
        self.holder = None
        self.lock.release()

    def held_here(self) -> bool:
        return self.holder == threading.get_ident()


@pytest.fixture
def watch(sqlite_db: Database) -> WatchedLock:
    w = WatchedLock(sqlite_db._write_lock)
    sqlite_db._write_lock = w  # type: ignore[assignment]
    return w


def _calls_under_lock(monkeypatch: pytest.MonkeyPatch, watch: WatchedLock, module: Any,
                      name: str) -> list[bool]:
    """Wrap ``module.name``; the list gets, per call, whether it ran inside ``db.write()``."""
    seen: list[bool] = []
    original = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        seen.append(watch.held_here())
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return seen


# --- alignment ----------------------------------------------------------------------------------


def _difflib_realign(old_words: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """The reference: the same timing rule over difflib's opcodes (the implementation this replaced)."""
    tokens = text.split()
    out: list[dict[str, Any]] = []
    sm = difflib.SequenceMatcher(a=[align.key(w["word"]) for w in old_words],
                                 b=[align.key(t) for t in tokens], autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            out += [{"word": tokens[j1 + k], "start": old_words[i1 + k]["start"],
                     "end": old_words[i1 + k]["end"], "conf": 1.0} for k in range(j2 - j1)]
        elif tag in ("replace", "insert"):
            if i2 > i1:
                lo, hi = float(old_words[i1]["start"]), float(old_words[i2 - 1]["end"])
            else:
                lo = float(old_words[i1 - 1]["end"]) if i1 > 0 else float(old_words[0]["start"])
                hi = float(old_words[i1]["start"]) if i1 < len(old_words) else lo
            step = max(0.0, hi - lo) / (j2 - j1)
            out += [{"word": tokens[j1 + k], "start": round(lo + k * step, 3),
                     "end": round(lo + (k + 1) * step, 3), "conf": 1.0} for k in range(j2 - j1)]
    return out


def _timed(words: list[str]) -> list[dict[str, Any]]:
    return [{"word": w, "start": round(i * 0.4, 3), "end": round(i * 0.4 + 0.3, 3), "conf": 0.7}
            for i, w in enumerate(words)]


def _edit(rng: random.Random, words: list[str], n_edits: int) -> list[str]:
    out = list(words)
    for _ in range(n_edits):
        i = rng.randrange(len(out) + 1)
        kind = rng.choice(("replace", "insert", "delete"))
        new = f"baru{rng.randrange(10**6)}"
        if kind == "insert" or not out or i == len(out):
            out.insert(i, new)
        elif kind == "replace":
            out[i] = new
        else:
            del out[i]
    return out


def test_alignment_agrees_with_difflib_on_ordinary_edits() -> None:
    """On texts of distinct words (where the best alignment is unambiguous) the linear alignment gives
    exactly what difflib gives, for short and long texts and a few or many edits."""
    rng = random.Random(7)
    for n, edits in ((6, 1), (12, 3), (40, 5), (300, 10), (800, 40)):
        for _ in range(5):
            words = [f"kata{i}" for i in rng.sample(range(10**6), n)]
            old = _timed(words)
            text = " ".join(_edit(rng, words, edits))
            assert align.realign(old, text) == _difflib_realign(old, text), (n, edits)


def test_long_edit_aligns_in_linear_time_and_keeps_unchanged_words() -> None:
    rng = random.Random(3)
    words = [f"w{rng.randrange(1500)}" for _ in range(5000)]  # repeated words, like real speech
    old = _timed(words)
    new = list(words)
    new[2500:2503] = ["jembatan", "putus", "total"]
    new.insert(100, "tambahan")
    started = time.perf_counter()
    out = align.realign(old, " ".join(new))
    elapsed = time.perf_counter() - started
    assert [w["word"] for w in out] == new
    # every word outside the edits keeps its recogniser time (we know where they are)
    assert out[:100] == [{**w, "conf": 1.0} for w in old[:100]]
    assert out[101:2501] == [{**w, "conf": 1.0} for w in old[100:2500]]
    assert out[2504:] == [{**w, "conf": 1.0} for w in old[2503:]]
    assert out[2501]["start"] == old[2500]["start"] and out[2503]["end"] == old[2502]["end"]
    assert elapsed < 2.0  # difflib took tens of seconds on this


def test_a_5000_word_edit_holds_the_write_lock_briefly(sqlite_db: Database, tmp_path: Path,
                                                       example_config: Config, watch: WatchedLock,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    web = make_web(sqlite_db, tmp_path, example_config)
    tx_id = add_tx(web, datetime(2026, 11, 20, 7, 30, tzinfo=WIB), "Sipoholon", audio_path=None)
    rng = random.Random(5)
    words = ["di", "sini", "camat", "sipoholon"] + [f"laporan{rng.randrange(2000)}" for _ in range(4996)]
    with sqlite_db.write() as s:
        cur = s.scalars(select(TranscriptRow).where(TranscriptRow.transmission_id == tx_id)).one()
        cur.text, cur.words = " ".join(words), _timed(words)
        base = cur.id
    client = logged_in(web, "opi")
    token = csrf_of(client, f"/tx/{tx_id}")
    edited = list(words)
    edited[3000:3002] = ["jalan", "longsor", "parah"]
    realigned = _calls_under_lock(monkeypatch, watch, actions, "realign")
    heard = _calls_under_lock(monkeypatch, watch, identify, "hear")
    watch.holds.clear()
    watch.cpu.clear()
    gc.collect()
    gc.disable()  # a collection of the test's own garbage is not work the code put under the lock
    try:
        r = client.post(f"/tx/{tx_id}/transcript",
                        data={"csrf": token, "base": str(base), "text": " ".join(edited)})
    finally:
        gc.enable()
    assert r.status_code == 303, r.text
    assert realigned == [False]  # aligned once, outside the lock
    assert heard == [False]  # the spoken-name matching too (~0.15 s CPU for 5,000 words)
    # the write itself: new row, FTS index, the identity stored (0.05-0.08 s CPU, also with both cores
    # busy); it was ~30 s with the quadratic alignment inside, ~0.2 s with the spoken-name matching
    assert watch.cpu and max(watch.cpu) < 0.12, (watch.cpu, watch.holds)
    assert max(watch.holds) < 1.0, watch.holds
    with sqlite_db.read() as s:
        row = s.scalars(select(TranscriptRow).where(TranscriptRow.current)).one()
    assert [w["word"] for w in row.words] == edited and row.words[2999]["start"] == round(2999 * 0.4, 3)


# --- logins -------------------------------------------------------------------------------------


def test_argon2_never_runs_inside_the_write_lock_and_commits_are_not_stalled(
        sqlite_db: Database, tmp_path: Path, example_config: Config, watch: WatchedLock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    web = make_web(sqlite_db, tmp_path, example_config)
    verified = _calls_under_lock(monkeypatch, watch, users, "verify_password")
    hashed = _calls_under_lock(monkeypatch, watch, users, "hash_password")
    h = users.hash_password("satu-dua-tiga-empat")
    started = time.perf_counter()
    users.verify_password(h, "salah")
    one_check = time.perf_counter() - started  # what one password check costs on this machine now
    latencies: list[float] = []
    stop = threading.Event()

    def recorder() -> None:  # like the pipeline: a row at open, completed at close
        while not stop.is_set():
            t = time.perf_counter()
            with sqlite_db.write() as s:
                now = datetime.now(WIB)
                tx = Transmission(uid=uuid.uuid4().hex, started_at=now, audio_started_at=now,
                                  status="recording", source="test")
                s.add(tx)
            with sqlite_db.write() as s:
                s.get_one(Transmission, tx.id).status = "complete"
            latencies.append(time.perf_counter() - t)
            time.sleep(0.005)

    cfg = web.cfg.web
    attempts = [("opi", PASSWORDS["opi"]), ("vivi", "salah-salah-salah"), ("ana", PASSWORDS["ana"]),
                ("siapa", "salah-salah-salah"), ("vivi", PASSWORDS["vivi"]), ("opi", "salah-salah-salah")]
    results: list[auth.LoginResult] = []
    rec = threading.Thread(target=recorder)
    rec.start()
    try:
        logins = [threading.Thread(target=lambda n=n, p=p, i=i: results.append(
            auth.attempt_login(sqlite_db, cfg, n, p, f"10.0.0.{i}"))) for i, (n, p) in enumerate(attempts)]
        for t in logins:
            t.start()
        for t in logins:
            t.join()
    finally:
        stop.set()
        rec.join()
    assert sorted(r.user or "-" for r in results) == ["-", "-", "-", "ana", "opi", "vivi"]
    assert len(verified) == 1 + len(attempts) and not any(verified) and not any(hashed)
    assert len(latencies) > 5
    # Held behind one password check a commit would wait at least that long, and the recorder commits
    # all through the burst, so with checks inside the lock most of its commits would. 90 % of them
    # must be faster than one check (not every one: on a loaded machine one commit can be starved of
    # CPU for longer than a check without any lock involved; CI saw a single 0.44 s commit).
    p90 = sorted(latencies)[int(0.9 * (len(latencies) - 1))]
    assert p90 < one_check, (p90, one_check, sorted(latencies)[-3:])


def test_a_burst_of_guesses_checks_no_more_passwords_than_the_limit(sqlite_db: Database, tmp_path: Path,
                                                                    example_config: Config) -> None:
    web = make_web(sqlite_db, tmp_path, example_config)
    cfg = web.cfg.web
    barrier = threading.Barrier(9)
    results: list[auth.LoginResult] = []

    def guess(i: int) -> None:
        barrier.wait()
        results.append(auth.attempt_login(sqlite_db, cfg, "vivi", f"tebakan-{i}-salah", f"10.2.0.{i}"))

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with sqlite_db.read() as s:
        failed = s.scalar(select(func.count()).select_from(AuditEntry)
                          .where(AuditEntry.action == "login_failed"))
    assert failed <= cfg.login_max_failures
    assert sum(r.retry_after is not None for r in results) == 9 - failed


def test_a_success_resets_only_its_own_account(db: Database, tmp_path: Path, example_config: Config) -> None:
    """One address guessing many names cannot wipe its count by logging into its own account."""
    web = make_web(db, tmp_path, example_config)
    for name in ("ana", "tebak0", "tebak1", "tebak2"):
        assert login(web.client("10.3.3.3"), name, "salah-salah-salah").status_code == 401
    assert login(web.client("10.3.3.3"), "opi").status_code == 303  # the sprayer's own account
    assert login(web.client("10.3.3.3"), "tebak3", "salah-salah-salah").status_code == 401
    r = login(web.client("10.3.3.3"), "tebak4", "salah-salah-salah")
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert login(web.client("10.3.3.3"), "opi").status_code == 429  # the address is throttled
    # one name from many addresses: a success for another account does not help it either
    for i in range(4):
        assert login(web.client(f"10.4.0.{i}"), "vivi", "salah-salah-salah").status_code == 401
    assert login(web.client("10.4.1.1"), "ana").status_code == 303
    assert login(web.client("10.4.0.9"), "vivi", "salah-lagi-salah").status_code == 401
    assert login(web.client("10.4.0.10"), "vivi").status_code == 429
    with db.read() as s:
        blocked = list(s.scalars(select(AuditEntry.actor).where(AuditEntry.action == "login_blocked")))
    assert blocked == ["tebak4", "opi", "vivi"]


# --- addresses, redirects, text -----------------------------------------------------------------


def _failed_ips(db: Database) -> list[str | None]:
    with db.read() as s:
        return list(s.scalars(select(AuditEntry.ip).where(AuditEntry.action == "login_failed")
                              .order_by(AuditEntry.id)))


def test_forwarded_for_only_from_trusted_proxies(sqlite_db: Database, tmp_path: Path,
                                                 example_config: Config) -> None:
    plain = make_web(sqlite_db, tmp_path, example_config)
    c = plain.client("10.0.0.5")
    c.headers["X-Forwarded-For"] = "1.2.3.4"
    login(c, "opi", "salah-salah-salah")
    cfg = dataclasses.replace(example_config, web=WebConfig(trusted_proxies=("10.0.0.0/24", "::1")))
    proxied = Web(make_web(sqlite_db, tmp_path, cfg, with_users=False).app, sqlite_db, tmp_path, cfg)
    for i, (peer, header) in enumerate((("10.0.0.5", "1.2.3.4"), ("10.0.0.5", "1.2.3.4, 10.0.0.7"),
                                        ("10.0.0.5", "evil, 5.6.7.8"), ("10.0.0.5", "bukan-alamat"),
                                        ("192.168.1.1", "1.2.3.4"), ("10.0.0.5", "2001:db8::1"))):
        c = proxied.client(peer)
        c.headers["X-Forwarded-For"] = header
        login(c, f"tamu{i}", "salah-salah-salah")  # a new name each time: no per-name limit
    assert _failed_ips(sqlite_db) == ["10.0.0.5", "1.2.3.4", "1.2.3.4", "5.6.7.8", "10.0.0.5",
                                      "192.168.1.1", "2001:db8::1"]


@pytest.mark.parametrize("value", ["'bukan'", "['10.0.0.0/33']", "['proxy.example']", "[1]"])
def test_trusted_proxies_are_checked_at_start(value: str) -> None:
    with pytest.raises(ConfigError, match=r"web\.trusted_proxies"):
        parse(f"[web]\ntrusted_proxies = {value}\n", "x.toml")
    assert parse("[web]\ntrusted_proxies = ['127.0.0.1', '10.0.0.0/8', '::1']\n",
                 "x.toml").web.trusted_proxies == ("127.0.0.1", "10.0.0.0/8", "::1")


def test_slash_redirects_are_relative_whatever_the_host(sqlite_db: Database, tmp_path: Path,
                                                        example_config: Config) -> None:
    web = make_web(sqlite_db, tmp_path, example_config)
    client = logged_in(web, "vivi")
    for path, expect in (("/log/", "/log"), ("/compliance/?from=2026-11-01", "/compliance?from=2026-11-01"),
                         ("/reports//", "/reports")):
        r = client.get(path, headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"})
        assert r.status_code == 307 and r.headers["location"] == expect, (path, r.headers.get("location"))
    r = client.get("//evil.example/", headers={"Host": "evil.example"})
    assert "evil" not in r.headers.get("location", "")


def test_control_characters_are_stripped_from_edits_and_notes(sqlite_db: Database, tmp_path: Path,
                                                               example_config: Config) -> None:
    web = make_web(sqlite_db, tmp_path, example_config)
    tx_id = add_tx(web, datetime(2026, 11, 20, 7, 30, tzinfo=WIB), "Sipoholon", audio_path=None)
    client = logged_in(web, "opi")
    token = csrf_of(client, f"/tx/{tx_id}")
    dirty = "di sini\x00 camat\x1b[31m sipoholon\u202e jalan\x85 longsor\x7f\tparah"
    r = client.post(f"/tx/{tx_id}/transcript", data={"csrf": token, "base": "1", "text": dirty})
    assert r.status_code == 303
    r = client.post(f"/tx/{tx_id}/assign", data={"csrf": token, "station": "Muara\x00",
                                                 "note": "suara\x07 jelas\u2066"})
    assert r.status_code == 303
    with sqlite_db.read() as s:
        row = s.scalars(select(TranscriptRow).where(TranscriptRow.current)).one()
        notes = list(s.scalars(select(AuditEntry.after).where(AuditEntry.action == "assign")))
    assert row.text == "di sini camat[31m sipoholon jalan longsor parah"
    assert notes[0]["note"] == "suara jelas" and notes[0]["station"] == "Muara"
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]",
                         " ".join(w["word"] for w in row.words))


# --- event streams ------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["logout", "disable", "passwd"])
def test_an_event_stream_ends_when_its_session_does(sqlite_db: Database, tmp_path: Path,
                                                    example_config: Config, how: str) -> None:
    web = make_web(sqlite_db, tmp_path, example_config)
    web.app.state.sse_poll_s = 0.1  # type: ignore[attr-defined]
    web.app.state.sse_lifetime_s = 20.0  # type: ignore[attr-defined]
    client = logged_in(web, "vivi")
    other = web.client()
    other.cookies.update(client.cookies)
    token = csrf_of(client)

    def end_it() -> None:
        time.sleep(0.5)
        if how == "logout":
            assert other.post("/logout", data={"csrf": token}).status_code == 303
        elif how == "disable":
            users.set_disabled(sqlite_db, "vivi", True, "test")
        else:
            users.set_password(sqlite_db, "vivi", "kata-sandi-baru-sekali", "test")

    t = threading.Thread(target=end_it)
    t.start()
    started = time.monotonic()
    r = client.get("/events")
    elapsed = time.monotonic() - started
    t.join()
    assert r.status_code == 200
    events = [blk for blk in r.text.split("\n\n") if blk.strip()]
    assert events[-1].startswith("event: logout")
    assert elapsed < 5.0  # closed within a few polls, not at the 20 s lifetime
    assert client.get("/events").status_code == 401
