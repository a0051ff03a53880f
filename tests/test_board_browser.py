"""The listening-first log and the board's call feed in Debian's Chromium (Playwright): play from a row,
next/previous with the keyboard. The site, browser and login come from test_web_browser (real Ogg Opus
recordings of espeak-ng speech, uvicorn). Truth: the <audio> elements' own state (playing, position)
and which row the keys select, against the rows' order on the page (newest first, as put in).
"""

from __future__ import annotations

import pytest
from test_web_browser import SHOTS, Site, browser, page_as, site  # noqa: F401 - fixtures

pytestmark = pytest.mark.slow


def _playing(page, tx_id: int) -> bool:
    return page.evaluate(f"""() => {{ const a = document.querySelector('tr[data-tx="{tx_id}"] audio');
        return !!a && !a.paused && a.currentTime > 0; }}""")


def test_log_plays_inline_and_moves_with_the_keyboard(page_as, site: Site) -> None:  # noqa: F811
    page = page_as("vivi")
    page.goto(site.url + "/log?date=" + site.day.isoformat())
    rows = page.locator("table.log tbody tr[data-tx]")
    ids = [int(rows.nth(i).get_attribute("data-tx")) for i in range(rows.count())]
    assert len(ids) >= 3 and "j" in page.locator("#tombol").inner_text()
    page.locator("body").press("j")  # first row: selected and playing
    page.wait_for_function(f"""() => {{ const a = document.querySelector('tr[data-tx="{ids[0]}"] audio');
        return !a.paused && a.currentTime > 0.2; }}""")
    assert rows.nth(0).get_attribute("aria-current") == "true"
    page.locator("body").press("ArrowDown")  # next: the second row plays, the first stops
    page.wait_for_function(f"""() => {{ const a = document.querySelector('tr[data-tx="{ids[1]}"] audio');
        return !a.paused && a.currentTime > 0.2; }}""")
    assert not _playing(page, ids[0]) and rows.nth(1).get_attribute("aria-current") == "true"
    assert rows.nth(0).get_attribute("aria-current") is None
    page.screenshot(path=SHOTS / "10-log-keyboard.png", full_page=True)
    page.locator("body").press("k")  # previous
    page.wait_for_function(f"""() => !document.querySelector('tr[data-tx="{ids[0]}"] audio').paused""")
    assert rows.nth(0).get_attribute("aria-current") == "true" and not _playing(page, ids[1])
    page.locator("body").press(" ")  # pause
    page.wait_for_function(f"""() => document.querySelector('tr[data-tx="{ids[0]}"] audio').paused""")
    assert page.js_errors == []


def test_board_feed_plays_a_call_inline(page_as, site: Site) -> None:  # noqa: F811
    page = page_as("vivi")
    feed = page.locator("#feed tbody tr[data-tx]")
    assert feed.count() >= 3
    assert page.locator("#autoplay").is_checked() is False  # off by default
    tx_id = int(feed.first.get_attribute("data-tx"))
    audio = f"""document.querySelector('#feed tr[data-tx="{tx_id}"] audio')"""
    page.evaluate(f"() => {{ const a = {audio}; a.dataset.mine = '1'; a.play(); }}")
    page.wait_for_function(f"() => {{ const a = {audio}; return !a.paused && a.currentTime > 0.2; }}")
    at = page.evaluate(f"() => {audio}.currentTime")
    page.screenshot(path=SHOTS / "11-board.png", full_page=True)

    # A new call arrives while the operator listens (autoplay off): the board shows it on top, and the
    # call being heard goes on as the same element, from where it was, not restarted or stopped.
    new_id = site.report("Garoga", (11, 55), "di sini camat garoga situasi aman")
    page.locator(f'#feed tbody tr[data-tx="{new_id}"]').wait_for()
    assert int(feed.first.get_attribute("data-tx")) == new_id
    state = page.evaluate(
        f"() => {{ const a = {audio}; return [a.dataset.mine, a.paused && !a.ended, a.currentTime]; }}")
    assert state[0] == "1" and state[1] is False and state[2] >= at
    assert page.evaluate(f"""() => document.querySelector('#feed tr[data-tx="{new_id}"] audio').paused""")
    assert page.js_errors == []
