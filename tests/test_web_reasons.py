"""The identity reason, said in Indonesian on the web UI, for every shape the identifier writes.

The reasons come from the real code: ``match_station`` over every recorded case of
tests/data/spoken_id_cases.json (what Whisper and Vosk heard on simulated radio), and
``identify.resolve`` for the ANI, operator, kerchunk and continuation paths.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from test_web_helpers import WIB, add_tx, logged_in, make_web

from gateway.config import Config, load
from gateway.identification.identify import resolve
from gateway.identification.spoken_id import match_station
from gateway.store.db import Database
from gateway.store.models import Assignment, Transmission
from gateway.web.reasons import reason_id

from conftest import REPO

DATA = Path(__file__).parent / "data"
ENGLISH = re.compile(r"\b(candidate|spoken|station|after|before|likely|recogniser|continues|assigned|"
                     r"belongs|transcri\w*|closest|ignored|list of|opens|phonetic|spelling|exact|no ANI|"
                     r"stuck|empty|yet|failed|cue|word|unsure|call)\b")


def _english_left(text: str) -> list[str]:
    """English words outside the quoted phrases (which are what was heard) and station names."""
    return ENGLISH.findall(re.sub(r"'[^']*'", "''", text))


def test_every_spoken_id_reason_is_said_in_indonesian() -> None:
    cfg = load(REPO / "config" / "tapanuli-utara.toml")
    cases = json.loads((DATA / "spoken_id_cases.json").read_text(encoding="utf-8"))["cases"]
    seen = set()
    for case in cases:
        words = [{"word": w, "start": a, "end": b, "conf": c} for w, a, b, c in case["words"]]
        reason = match_station(case["text"], words, cfg.stations, cfg.identity.spoken_threshold).reason
        said = reason_id(reason)
        assert not _english_left(said), (reason, said)
        seen.add(re.sub(r"[^a-z ]", "", said.split(" ")[0]))
    assert len(seen) >= 4, seen  # the cases cover several shapes, not one


@pytest.mark.parametrize("reason, said", [
    ("no ANI; no station name spoken", "tanpa ANI; tidak ada nama stasiun yang diucapkan"),
    ("ANI 104 (bot) is Sipoholon", "ANI 104 (bot) milik Sipoholon"),
    ("ANI 999 belongs to no configured station; kerchunk",
     "ANI 999 tidak terdaftar pada stasiun mana pun; kerchunk"),
    ("no ANI; best candidate Muara 0.62 < 0.80 ('di sini camat muara', after 'di sini camat'; "
     "the recogniser is unsure of it (p 0.210))",
     "tanpa ANI; calon terbaik Muara 0.62 < 0.80 ('di sini camat muara', setelah 'di sini camat'; "
     "pengenal ragu akan kata itu (p 0.210))"),
    ("'camat si popolong' ≈ Sipoholon (phonetic 0.91, after 'di sini'); ignored a list of names (Garoga)",
     "'camat si popolong' ≈ Sipoholon (bunyi 0.91, setelah 'di sini'); deretan nama diabaikan (Garoga)"),
    ("continues transmission 12 (Tarutung) 3.5 s later", "lanjutan transmisi 12 (Tarutung), 3.5 s kemudian"),
    ("something new the identifier says", "something new the identifier says"),  # shown as it is
    (None, ""),
])
def test_known_shapes(reason: str | None, said: str) -> None:
    assert reason_id(reason) == said


def test_resolve_paths_are_said_in_indonesian(db: Database, example_config: Config) -> None:
    t0 = datetime(2026, 11, 20, 7, 0, tzinfo=WIB)
    with db.write() as s:
        rows = [Transmission(uid=f"r{i}", started_at=t0 + timedelta(seconds=20 * i),
                             ended_at=t0 + timedelta(seconds=20 * i + 5), audio_started_at=t0,
                             status="complete", kerchunk=(i == 2), stuck=False, source="t") for i in range(4)]
        rows[0].ani, rows[0].ani_position = "104", "bot"
        rows[1].ani = "999"
        s.add_all(rows)
        s.flush()
        s.add(Assignment(transmission_id=rows[3].id, station="Muara", by="opi", at=t0))
        s.flush()
        rows[0].station = "Sipoholon"
        reasons = [resolve(s, tx, example_config).reason for tx in rows]
    for reason in reasons:
        said = reason_id(reason)
        assert said and not _english_left(said), (reason, said)


def test_transmission_page_shows_the_reason_in_indonesian(db: Database, tmp_path: Path,
                                                         example_config: Config) -> None:
    web = make_web(db, tmp_path, example_config)
    tx_id = add_tx(web, datetime(2026, 11, 20, 8, 0, tzinfo=WIB), None, text="halo", audio_path=None)
    with web.db.write() as s:
        s.get(Transmission, tx_id).identity_reason = "no ANI; no station name spoken"
    page = logged_in(web, "vivi").get(f"/tx/{tx_id}").text
    assert "tanpa ANI; tidak ada nama stasiun yang diucapkan" in page and "no station name" not in page
