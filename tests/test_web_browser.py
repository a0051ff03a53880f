"""Web UI in a real browser: Debian's Chromium driven by Playwright against the app served by uvicorn.

One SQLite data directory is seeded for the module: the users of ``test_web_helpers`` (admin, operator,
viewer), and today's transmissions with real Ogg Opus recordings of espeak-ng speech whose transcripts
carry the words' real times (each word is spoken on its own and the pieces are joined, so the times are
known exactly). The tests log in through the form, look at Hari ini (and see it update live), search the
log, play a recording (the playhead moves, the waveform fills, the word being spoken is highlighted),
correct a transcript as operator and see the history, and check that a viewer gets no edit form.

Screenshots of every step go to ``test-artifacts/browser/`` for people to look at. Needs the Debian
package ``chromium`` and the PyPI package ``playwright`` (``scripts/setup.sh test`` installs both; no
browser is downloaded).
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import uvicorn
from test_web_helpers import PASSWORDS, ROLES, WIB

from gateway.config import Config
from gateway.store.db import Database, default_url
from gateway.store.models import TranscriptRow, Transmission
from gateway.web.app import create_app
from gateway.web.board import window_state
from gateway.web.users import add_user

from conftest import REPO, need

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
# --mute-audio: headless Chromium has no audio output otherwise, and <audio> would not advance
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--mute-audio",
                 "--autoplay-policy=no-user-gesture-required", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = REPO / "test-artifacts" / "browser"
RATE = 16000
LEAD_S, GAP_S = 0.3, 0.12
#: (station, local time, what the camat says); the last is the one the operator corrects.
REPORTS = [
    ("Sipoholon", (7, 30), "di sini camat sipoholon jalan longsor di desa hutaraja"),
    ("Tarutung", (10, 5), "di sini camat tarutung banjir di desa hutatoruan"),
    ("Pahae Jae", (8, 15), "di sini camat pahae jae situasi aman"),
]
#: Recognisers give short words ("di", "ke") spans of about 0.1 s, less than the 250 ms between two
#: "timeupdate" events: the player must still light them. This word of this report gets such a span.
SHORT_WORD, SHORT_WORD_S = ("Sipoholon", 6), 0.12
TIMEOUT_MS = 15000


@dataclass
class Site:
    url: str
    db: Database
    data_dir: Path
    cfg: Config
    day: date
    sse_lifetime_s: float = 2.0  # short, so that reconnecting (and its refusal) happens within a test
    tx: dict[str, int] = field(default_factory=dict)  # station -> transmission id
    words: dict[int, list[dict]] = field(default_factory=dict)

    def report(self, station: str, hhmm: tuple[int, int], text: str) -> int:
        """A report from ``station`` heard today at ``hhmm`` (WIB), identified by its ANI."""
        start = datetime.combine(self.day, dt_time(*hhmm), WIB)
        tx_id, words = _add_report(self.db, self.data_dir, self.cfg, station, start, text,
                                   short=SHORT_WORD[1] if station == SHORT_WORD[0] else None)
        self.tx[station], self.words[tx_id] = tx_id, words
        return tx_id


def _speech(text: str) -> tuple[np.ndarray, list[dict]]:
    """espeak-ng speech at 16 kHz, one word at a time, with each word's start and end in the result."""
    from gateway.sim.speech import speak

    parts = [np.zeros(int(LEAD_S * RATE), np.float32)]
    words, t = [], LEAD_S
    for i, word in enumerate(text.split()):
        audio = 0.6 * speak(word, voice="id", speed=140, rate=RATE)
        dur = len(audio) / RATE
        words.append({"word": word, "start": round(t, 3), "end": round(t + dur, 3),
                      "conf": 0.3 if i == 3 else 0.9})
        parts += [audio, np.zeros(int(GAP_S * RATE), np.float32)]
        t += dur + GAP_S
    parts.append(np.zeros(int(LEAD_S * RATE), np.float32))
    return np.concatenate(parts), words


def _add_report(db: Database, data_dir: Path, cfg: Config, station: str, start: datetime,
                text: str, short: int | None = None) -> tuple[int, list]:
    ani = next(st.ani[0] for st in cfg.stations if st.name == station)
    audio, words = _speech(text)
    if short is not None:
        words[short]["end"] = round(words[short]["start"] + SHORT_WORD_S, 3)
    uid = uuid.uuid4().hex
    rel = f"recordings/{start:%Y/%m/%d}/{start:%Y%m%dT%H%M%S}_{uid[:8]}.ogg"
    (data_dir / rel).parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(data_dir / rel), audio, RATE, format="OGG", subtype="OPUS")
    seconds = len(audio) / RATE
    with db.write() as s:
        tx = Transmission(uid=uid, started_at=start, ended_at=start + timedelta(seconds=seconds),
                          audio_started_at=start, duration_s=seconds, audio_duration_s=seconds,
                          status="complete", audio_path=rel, source="test", station=station, ani=ani,
                          ani_position="bot", identity_source="ani", identity_confidence=1.0,
                          identity_reason=f"ANI {ani} (bot) is {station}")
        s.add(tx)
        s.flush()
        s.add(TranscriptRow(transmission_id=tx.id, status="done", engine="vosk", model="vosk-model-id",
                            text=text, words=words, confidence=0.85, origin="live", current=True))
        return tx.id, words


@pytest.fixture(scope="module")
def site(tmp_path_factory, example_config: Config) -> Iterator[Site]:
    if shutil.which("espeak-ng") is None:
        need("espeak-ng", "not installed")
    data_dir = tmp_path_factory.mktemp("browser_site")
    db = Database(default_url(data_dir))
    db.migrate()
    for name, role in ROLES.items():
        add_user(db, name, role, PASSWORDS[name], "test")
    site = Site("", db, data_dir, example_config, datetime.now(WIB).date())
    for station, hhmm, text in REPORTS:
        site.report(station, hhmm, text)

    app = create_app(example_config, db, data_dir)
    app.state.sse_poll_s = 0.2
    app.state.sse_lifetime_s = site.sse_lifetime_s
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False,
                                           timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="uvicorn")
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    site.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    yield site
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    db.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need("chromium", "the Python package playwright is not installed (part of the test extra)")
    if not Path(CHROMIUM).exists():
        need("chromium", f"{CHROMIUM} missing: apt-get install chromium (scripts/setup.sh test)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page_as(browser, site: Site):
    """``page_as(name)``: a fresh browser context, logged in as ``name`` through the login form."""
    contexts = []

    def open_as(name: str, shot: str | None = None):
        ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID")
        ctx.set_default_timeout(TIMEOUT_MS)
        contexts.append(ctx)
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(f"{m.text} {m.location}") if m.type == "error" else None)
        page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.js_errors = errors  # type: ignore[attr-defined]
        page.goto(site.url + "/")
        assert "/login" in page.url  # no session: the form
        page.fill("input[name=name]", name)
        page.fill("input[name=password]", PASSWORDS[name])
        if shot:
            page.screenshot(path=SHOTS / shot, full_page=True)
        page.click("button:has-text('Masuk')")
        page.wait_for_url(site.url + "/")
        role_words = {"admin": "pengelola", "operator": "operator", "viewer": "pembaca"}  # gateway/web/fmt.py
        assert page.locator("header .who").inner_text() == f"{name} ({role_words[ROLES[name]]})"
        return page

    yield open_as
    for ctx in contexts:
        ctx.close()


def _row(page, station: str):
    return page.locator("#today table.roster tbody tr").filter(
        has=page.locator(f"td:first-child:text-is('{station}')"))


def test_login_and_today_updates_live(page_as, site: Site) -> None:
    page = page_as("ana", shot="01-login.png")
    assert page.locator("h1").inner_text().startswith("Hari ini")
    assert page.locator("#today table.roster tbody tr").count() == 15  # every kecamatan of the config
    assert _row(page, "Sipoholon").get_attribute("class") == "st-on_time"
    assert "tepat waktu" in _row(page, "Sipoholon").inner_text()
    assert _row(page, "Tarutung").get_attribute("class") == "st-late"
    assert "terlambat" in _row(page, "Tarutung").inner_text()
    # not reported yet: pending, overdue or missing by the wall clock's place in the report window
    phases = {window_state(site.cfg, site.day, datetime.now(WIB)).phase}
    muara = _row(page, "Muara").get_attribute("class")
    phases.add(window_state(site.cfg, site.day, datetime.now(WIB)).phase)  # a boundary crossed meanwhile
    by_phase = {"before": "st-pending", "late": "st-overdue", "closed": "st-missing"}
    assert muara in {by_phase[p] for p in phases}, (muara, phases)
    assert page.locator("#today p.counts").inner_text().startswith("3 dari 15 kecamatan melapor")
    page.screenshot(path=SHOTS / "02-today.png", full_page=True)

    # A report stored after the page was rendered but before its event stream connected: the stream's
    # "hello" brings it (the stream is held back until the report is stored, so this is deterministic).
    def store_then_connect(route) -> None:
        site.report("Garoga", (7, 50), "di sini camat garoga aman")
        route.continue_()

    page.route("**/events", store_then_connect, times=1)
    page.reload()
    _row(page, "Garoga").and_(page.locator("tr.st-on_time")).wait_for()
    assert page.locator("#today p.counts").inner_text().startswith("4 dari 15")
    # one heard while the page is open and connected: its "change" event brings it, without a reload
    site.report("Muara", (8, 40), "di sini camat muara aman")
    _row(page, "Muara").and_(page.locator("tr.st-on_time")).wait_for()
    assert page.locator("#today p.counts").inner_text().startswith("5 dari 15")
    page.screenshot(path=SHOTS / "03-today-live.png", full_page=True)
    assert page.js_errors == []

    # logged out in another tab: the open page's stream is refused on reconnecting, and it goes to the
    # login form instead of showing a table that no longer updates
    other = page.context.new_page()
    other.goto(site.url + "/")
    other.click("button:has-text('Keluar')")
    other.wait_for_url("**/login")
    page.wait_for_url("**/login**", timeout=(site.sse_lifetime_s + 10) * 1000)
    assert page.locator("input[name=password]").is_visible()


def test_log_search_finds_the_transmission(page_as, site: Site) -> None:
    page = page_as("vivi")
    page.click("header nav a:has-text('Log transmisi')")
    page.wait_for_url("**/log")
    page.fill("input[name=q]", "banjir")
    page.click("form.filters button:has-text('Tampilkan')")
    page.wait_for_url("**/log?**q=banjir**")
    rows = page.locator("table.log tbody tr")
    assert rows.count() == 1
    assert rows.first.locator("mark").inner_text() == "banjir"
    assert "Tarutung" in rows.first.inner_text()
    assert "1 transmisi yang memuat «banjir»" in page.locator("p.counts").inner_text()
    page.screenshot(path=SHOTS / "04-log-search.png", full_page=True)
    rows.first.locator("a").click()
    page.wait_for_url(f"**/tx/{site.tx['Tarutung']}")
    assert "banjir" in page.locator("#transcript").inner_text()
    assert page.js_errors == []


WAVE_PLAYED = """() => {
  const c = document.getElementById('wave'), ctx = c.getContext('2d');
  const d = ctx.getImageData(0, 0, c.width, c.height).data;
  let played = 0, all = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] === 0) continue;
    all++;
    if (d[i] === 0x1a && d[i + 1] === 0x3c && d[i + 2] === 0x5a) played++;
  }
  return [played, all];
}"""

WATCH_HIGHLIGHT = """() => {
  window.__lit = [];
  const obs = new MutationObserver(() => {
    for (const el of document.querySelectorAll('#transcript .w.now')) {
      const last = window.__lit[window.__lit.length - 1];
      if (last !== el.textContent) window.__lit.push(el.textContent);
    }
  });
  obs.observe(document.getElementById('transcript'),
              {subtree: true, attributes: true, attributeFilter: ['class']});
}"""


def _audio(page, prop: str):
    return page.evaluate(f"document.getElementById('audio').{prop}")


def _until(page, condition: str, timeout_s: float = TIMEOUT_MS / 1000) -> None:
    """Wait until ``condition`` (JavaScript over the <audio> element ``a``) holds; a function, not a
    string to evaluate: the app's Content-Security-Policy forbids eval, as it should."""
    page.wait_for_function(f"() => {{ const a = document.getElementById('audio'); return {condition}; }}",
                           timeout=timeout_s * 1000)


def test_playback_moves_the_playhead_and_highlights_words(page_as, site: Site) -> None:
    tx_id = site.tx["Sipoholon"]
    words = site.words[tx_id]
    page = page_as("vivi")
    page.goto(f"{site.url}/tx/{tx_id}")
    spans = page.locator("#transcript .w")
    assert spans.all_inner_texts() == [w["word"] for w in words]
    assert spans.nth(3).get_attribute("class") == "w low"  # confidence below 0.5 is marked
    _until(page, "a.readyState >= 1 && isFinite(a.duration) && a.duration > 0")
    duration = _audio(page, "duration")
    assert abs(duration - words[-1]["end"] - LEAD_S - GAP_S) < 0.3, duration
    page.wait_for_function(f"() => ({WAVE_PLAYED})()[1] > 0")  # the waveform is drawn, nothing played yet
    assert page.evaluate(WAVE_PLAYED)[0] == 0
    page.screenshot(path=SHOTS / "05-tx-before-play.png", full_page=True)

    page.evaluate(WATCH_HIGHLIGHT)
    page.evaluate("document.getElementById('audio').play()")
    _until(page, "a.currentTime > 0.2")
    t1 = _audio(page, "currentTime")
    page.wait_for_selector("#transcript .w.now")
    _until(page, f"a.currentTime > {words[3]['start'] + 0.1}")
    t2 = _audio(page, "currentTime")
    assert t2 > t1  # the playhead moves
    page.screenshot(path=SHOTS / "06-tx-playing.png", full_page=True)
    played, drawn = page.evaluate(WAVE_PLAYED)
    assert 0 < played < drawn  # the waveform shows the progress
    _until(page, "a.ended", timeout_s=duration + 5)
    # every word was highlighted, one after another in spoken order, the 120 ms one too
    assert page.evaluate("window.__lit") == [w["word"] for w in words]
    assert page.locator("#transcript .w.now").count() == 0  # nothing lit once the recording ended

    # clicking a word plays from that word; clicking the waveform seeks
    target = words[5]
    spans.nth(5).click()
    _until(page, f"!a.paused && a.currentTime >= {target['start']} && a.currentTime < {target['end'] + 1}")
    page.wait_for_selector("#transcript .w.now")
    page.evaluate("document.getElementById('audio').pause()")
    box = page.locator("#wave").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] / 2)
    t = _audio(page, "currentTime")
    assert abs(t - 0.25 * duration) < 0.5, (t, duration)
    assert page.js_errors == []


def test_operator_corrects_a_transcript_and_sees_the_history(page_as, site: Site) -> None:
    tx_id = site.tx["Pahae Jae"]
    old, new = REPORTS[2][2], "di sini camat pahae jae situasi aman terkendali"
    page = page_as("opi")
    page.goto(f"{site.url}/tx/{tx_id}")
    assert page.locator("textarea#text").input_value() == old
    page.fill("textarea#text", new)
    page.screenshot(path=SHOTS / "07-edit-form.png", full_page=True)
    page.click("button:has-text('Simpan perbaikan')")
    page.wait_for_url(f"**/tx/{tx_id}?ok=edit")
    assert page.locator("p.notice").inner_text() == "Transkrip disimpan."
    assert page.locator("#transcript").inner_text().split() == new.split()  # words re-timed, still playable
    rows = page.locator("table.history tbody tr")
    assert rows.count() == 2
    current = page.locator("table.history tbody tr.current")
    assert current.count() == 1
    cells = current.locator("td").all_inner_texts()
    assert cells[0].endswith("(kini)") and cells[2] == "diketik operator" and cells[3] == "opi"
    assert cells[4] == new
    older = [r for r in rows.all() if r.get_attribute("class") != "current"]
    assert len(older) == 1 and older[0].locator("td").nth(4).inner_text() == old
    assert older[0].locator("td").nth(2).inner_text() == "pengenal suara"  # the engine, in words
    assert "opi" in page.locator("ul.audit").inner_text()
    assert page.locator("textarea#text").input_value() == new
    page.locator("table.history").scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / "08-edit-history.png", full_page=True)

    page.click("button:has-text('Tandai terverifikasi')")
    page.wait_for_url(f"**/tx/{tx_id}?ok=verify")
    assert "terverifikasi oleh opi" in page.locator("h2").filter(has_text="Transkrip").first.inner_text()
    assert page.js_errors == []


def test_viewer_sees_no_edit_form(page_as, site: Site) -> None:
    page = page_as("vivi")
    page.goto(f"{site.url}/tx/{site.tx['Tarutung']}")
    assert page.locator("#transcript .w").count() > 0
    assert page.locator("section.edit").count() == 0
    assert page.locator("textarea").count() == 0 and page.locator("form[action*='/tx/']").count() == 0
    assert page.get_by_role("button", name="Simpan perbaikan").count() == 0
    assert page.locator("table.history tbody tr").count() >= 1
    page.screenshot(path=SHOTS / "09-viewer-tx.png", full_page=True)
    # the server refuses a viewer's change too, whatever the page shows
    token = page.locator("header form.logout input[name=csrf]").input_value()
    r = page.request.post(f"{site.url}/tx/{site.tx['Tarutung']}/transcript",
                          form={"csrf": token, "base": "", "text": "diubah"}, max_redirects=0)
    assert r.status == 403
    assert page.js_errors == []
