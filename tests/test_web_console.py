"""Every page in a real browser at a desk (1366x768) and on a phone (390x844), and the keyboard flows.

Uses the seeded site and Chromium of ``test_web_browser`` (espeak-ng reports with known word times).
The pages are the app's own GET routes (``app.routes``), so a new page is covered without touching
this file. For each page at each size, logged in as admin: no sideways scrolling
(``document.scrollingElement.scrollWidth`` <= the viewport width), axe-core (the npm package, the
reference checker) reports no serious or critical violation, and a screenshot is saved under
``test-artifacts/console/``. Then, by keyboard only: play and pause, move word by word (the recording
seeks to the word's stored start), jump to the low-confidence word, replace it in place (the stored
word keeps the recogniser's times), verify, and go to the next call.

axe-core: ``scripts/setup.sh test`` fetches it (``npm pack axe-core@4``) into
``~/.cache/ht-gateway/axe/package/axe.min.js``; ``$HT_GATEWAY_AXE`` names another copy.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.routing import Route
from test_web_browser import Site, browser, site  # noqa: F401 - fixtures
from test_web_helpers import PASSWORDS, WIB

from gateway.store.models import FollowUp, TranscriptRow
from gateway.web.app import create_app

from conftest import REPO, need

pytestmark = pytest.mark.slow

SHOTS = REPO / "test-artifacts" / "console"
SIZES = {"desk": (1366, 768), "phone": (390, 844)}
AXE = Path(os.environ.get("HT_GATEWAY_AXE", Path.home() / ".cache/ht-gateway/axe/package/axe.min.js"))
SKIP = re.compile(r"^/(static|events|fragment|audio|login|logout)|\.\{fmt\}$")


def _pages(where: Site) -> list[str]:
    """Every GET page of the app, path parameters filled with real records."""
    values = {"tx_id": str(where.tx["Tarutung"]), "day": where.day.isoformat(), "rev": "1"}
    out = []
    for r in create_app(where.cfg, where.db, where.data_dir).routes:
        if isinstance(r, Route) and "GET" in (r.methods or ()) and not SKIP.search(r.path):
            out.append(re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], r.path))
    return out


def _seed_report(where: Site) -> None:
    """A filed revision and a follow-up, so that their pages show content."""
    from gateway.report.filing import file_report

    with where.db.read() as s:
        have = s.scalar(select(FollowUp.id).limit(1))
    if have is None:
        file_report(where.db, where.cfg, where.day, datetime.now(WIB) + timedelta(minutes=1), force=True)
        with where.db.write() as s:
            s.add(FollowUp(day=where.day, station="Tarutung", category="banjir", item="terpal",
                           phrase="mohon bantuan terpal", transmission_id=where.tx["Tarutung"]))


def _context(chromium, size: tuple[int, int]):
    """A browser context at ``size`` that serves axe-core from the site's own origin (the app's CSP
    allows scripts from 'self' only, and stays on)."""
    ctx = chromium.new_context(viewport={"width": size[0], "height": size[1]}, locale="id-ID")
    ctx.set_default_timeout(15000)
    ctx.route("**/__test__/axe.min.js", lambda route: route.fulfill(
        body=AXE.read_bytes() if AXE.exists() else b"", content_type="text/javascript"))
    return ctx


def _login(chromium, site: Site, name: str, size: tuple[int, int]):  # noqa: F811
    page = _context(chromium, size).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.js_errors = errors  # type: ignore[attr-defined]
    page.goto(site.url + "/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORDS[name])
    page.click("button:has-text('Masuk')")
    page.wait_for_url(site.url + "/")
    return page


def _check(page, label: str, failures: list[str]) -> None:
    width = page.evaluate("window.innerWidth")
    scroll = page.evaluate("document.scrollingElement.scrollWidth")
    if scroll > width:
        failures.append(f"{label}: page {scroll} px wide in a {width} px viewport")
    page.add_script_tag(url="/__test__/axe.min.js")
    violations = page.evaluate("async () => (await axe.run()).violations.map(v => "
                               "({id: v.id, impact: v.impact, n: v.nodes.length, "
                               "at: v.nodes.slice(0, 2).map(n => n.target.join(' '))}))")
    bad = [v for v in violations if v["impact"] in ("serious", "critical")]
    if bad:
        failures.append(f"{label}: axe {bad}")


def test_every_page_fits_a_phone_and_passes_axe(browser, site: Site) -> None:  # noqa: F811
    if not AXE.exists():
        need("axe-core", f"{AXE} missing: scripts/setup.sh test (npm pack axe-core@4)")
    _seed_report(site)
    SHOTS.mkdir(parents=True, exist_ok=True)
    pages = _pages(site)
    assert {"/", "/log", "/followups", "/admin/users", "/admin/audit", "/reports/draft"} <= set(pages)
    failures: list[str] = []
    for size_name, size in SIZES.items():
        # the login form, before logging in
        ctx = _context(browser, size)
        anon = ctx.new_page()
        anon.goto(site.url + "/login")
        _check(anon, f"/login {size_name}", failures)
        anon.screenshot(path=SHOTS / f"{size_name}-login.png", full_page=True)
        ctx.close()
        page = _login(browser, site, "ana", size)
        for path in pages:
            r = page.goto(site.url + path)
            assert r is not None and r.status == 200, (path, r and r.status)
            page.wait_for_load_state("load")
            _check(page, f"{path} {size_name}", failures)
            shot = re.sub(r"[^a-z0-9]+", "-", path.strip("/")) or "today"
            page.screenshot(path=SHOTS / f"{size_name}-{shot}.png", full_page=True)
        assert page.js_errors == []
        page.context.close()
    assert failures == [], "\n".join(failures)


def test_keyboard_only_play_correct_verify_next(browser, site: Site) -> None:  # noqa: F811
    tx_id = site.tx["Sipoholon"]
    words = site.words[tx_id]
    page = _login(browser, site, "opi", SIZES["phone"])
    page.goto(f"{site.url}/tx/{tx_id}")
    page.wait_for_function("() => document.getElementById('audio').readyState >= 1")
    # Tab from the top of the page to the first word of the transcript (no mouse)
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "w-0":
            break
    assert page.evaluate("document.activeElement.id") == "w-0"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # a visible focus
    page.keyboard.press("k")
    page.wait_for_function("() => !document.getElementById('audio').paused")
    page.keyboard.press("k")
    page.wait_for_function("() => document.getElementById('audio').paused")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.id") == "w-1"
    assert abs(page.evaluate("document.getElementById('audio').currentTime") - words[1]["start"]) < 0.05
    page.keyboard.press("n")  # the next low-confidence word: the fourth (conf 0.3 in the seed)
    assert page.evaluate("document.activeElement.id") == "w-3"
    assert abs(page.evaluate("document.getElementById('audio').currentTime") - words[3]["start"]) < 0.05
    page.keyboard.press("Enter")
    page.wait_for_selector("input.wordedit")
    page.keyboard.press("Control+a")
    page.keyboard.type("sipoholonan")
    page.screenshot(path=SHOTS / "keyboard-word-typing.png", full_page=True)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/tx/{tx_id}?ok=edit")
    assert page.locator("#w-3").inner_text() == "sipoholonan"
    assert page.evaluate("document.activeElement.id") == "w-3"  # the focus comes back to the word
    with site.db.read() as s:
        cur = s.scalars(select(TranscriptRow).where(TranscriptRow.transmission_id == tx_id,
                                                    TranscriptRow.current)).one()
    assert cur.words[3]["word"] == "sipoholonan" and cur.model == "opi"
    assert [(w["start"], w["end"]) for w in cur.words] == [(w["start"], w["end"]) for w in words]
    page.screenshot(path=SHOTS / "keyboard-word-corrected.png", full_page=True)
    page.keyboard.press("v")
    page.wait_for_url(f"**/tx/{tx_id}?ok=verify")
    with site.db.read() as s:
        assert s.get_one(TranscriptRow, cur.id).verified_by == "opi"
    next_id = page.locator("#next-tx").get_attribute("href")
    page.locator("body").focus()
    page.keyboard.press("]")
    page.wait_for_url(f"**{next_id}")
    assert page.js_errors == []
    page.context.close()
