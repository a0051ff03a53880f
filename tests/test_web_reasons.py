"""Identity reasons: every code said in English (CLI) and Indonesian (web) from one table.

Truth: each code's expected sentence is written here by hand, in both languages, from what the
code means; the recorded recogniser cases (tests/data/spoken_id_cases.json) and the identifier's
own paths must produce only codes of the table, and their Indonesian must hold no English.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_web_helpers import WIB, add_tx, logged_in, make_web

from gateway.config import Config, load
from gateway.identification.identify import resolve
from gateway.identification.spoken_id import match_station
from gateway.reasons import TEXT, Reason, dumps, loads, say, say_all
from gateway.store.db import Database
from gateway.store.models import Assignment, Transmission
from gateway.web.reasons import reason_id

from conftest import REPO, run_cli

DATA = Path(__file__).parent / "data"
ENGLISH = re.compile(r"\b(candidate|spoken|station|after|before|likely|recogniser|continues|assigned|"
                     r"belongs|transcri\w*|closest|ignored|list of|opens|phonetic|spelling|exact|no ANI|"
                     r"stuck|empty|yet|failed|cue|word|unsure|call|ended|names himself)\b")
CTX = {"kind": "after", "words": "di sini camat"}

#: (reason, English, Indonesian) for every code.
CASES = [
    (Reason("assigned", {"by": "opi", "at": "2026-11-20 07:00"}), "assigned by opi at 2026-11-20 07:00",
     "ditetapkan oleh opi pada 2026-11-20 07:00"),
    (Reason("ani", {"ani": "104", "position": "bot", "station": "Sipoholon"}), "ANI 104 (bot) is Sipoholon",
     "ID otomatis radio 104 milik Sipoholon"),
    (Reason("ani_unknown", {"ani": "999"}), "ANI 999 belongs to no configured station",
     "ID otomatis radio 999 tidak terdaftar pada stasiun mana pun"),
    (Reason("no_ani"), "no ANI", "tanpa ID otomatis radio"),
    (Reason("kerchunk"), "kerchunk", "tekan singkat tanpa suara"),
    (Reason("stuck"), "stuck squelch", "penerima terus terbuka"),
    (Reason("not_transcribed"), "not transcribed yet", "belum ditranskripsi"),
    (Reason("transcription_failed"), "transcription failed", "transkripsi gagal"),
    (Reason("no_stations"), "no stations configured", "belum ada stasiun dalam konfigurasi"),
    (Reason("empty_transcript"), "empty transcript", "transkrip kosong"),
    (Reason("no_name"), "no station name spoken", "tidak ada nama stasiun yang diucapkan"),
    (Reason("no_name_closest", {"station": "Muara", "confidence": 0.553}),
     "no station name spoken (closest: Muara 0.55)",
     "tidak ada nama stasiun yang diucapkan (terdekat: Muara 0.55)"),
    (Reason("prompt_echo", {"names": ["Tarutung", "Garoga"]}),
     "only a list of station names (Tarutung, Garoga): the recogniser echoing its prompt, not a caller",
     "hanya deretan nama stasiun (Tarutung, Garoga): gema dari petunjuk pengenal, bukan pemanggil"),
    (Reason("ignored_list", {"names": ["Garoga"]}), "ignored a list of names (Garoga)",
     "deretan nama diabaikan (Garoga)"),
    (Reason("name_repeated", {"station": "Sipoholon", "times": 3}),
     "Sipoholon said 3 times in a row: the one called, or the recogniser repeating itself, not the caller",
     "Sipoholon disebut 3 kali berturut-turut: yang dipanggil, atau pengenal mengulang-ulang, "
     "bukan pemanggil"),
    (Reason("below_threshold", {"station": "Muara", "confidence": 0.62, "threshold": 0.8,
                                "phrase": "di sini camat muara", "context": {**CTX, "unsure_p": 0.21}}),
     "best candidate Muara 0.62 < 0.80 ('di sini camat muara', after 'di sini camat'; "
     "the recogniser is unsure of it (p 0.210))",
     "calon terbaik Muara 0.62 < 0.80 ('di sini camat muara', setelah 'di sini camat'; "
     "pengenal ragu akan kata itu (p 0.210))"),
    (Reason("name_check", {"phrase": "camat perharajar", "station": "Pahae Jae", "margin": 6.2,
                           "other": "Pahae Julu"}),
     "the recogniser, asked again, hears 'camat perharajar' as Pahae Jae (6.2 ahead of Pahae Julu)",
     "pengenal suara, ditanya ulang, mendengar 'camat perharajar' sebagai Pahae Jae "
     "(unggul 6.2 atas Pahae Julu)"),
    (Reason("name_check_unsure", {"phrase": "kamat kepada dunu", "station": "Pahae Julu", "margin": 0.2,
                                  "other": "Tarutung"}),
     "the recogniser, asked again, hears no station clearly in 'kamat kepada dunu' "
     "(Pahae Julu only 0.2 ahead of Tarutung)",
     "pengenal suara, ditanya ulang, tidak jelas mendengar stasiun dalam 'kamat kepada dunu' "
     "(Pahae Julu hanya unggul 0.2 atas Tarutung)"),
    (Reason("two_equal", {"station": "Muara", "confidence": 0.9, "other": "Garoga",
                          "other_confidence": 0.88}),
     "two stations equally likely: Muara 0.90, Garoga 0.88",
     "dua stasiun sama kuat: Muara 0.90, Garoga 0.88"),
    (Reason("voice", {"phrase": "camat si popolong", "station": "Sipoholon", "how": "phonetic",
                      "similarity": 0.91, "context": {"kind": "before", "words": "melapor"}}),
     "'camat si popolong' ≈ Sipoholon (phonetic 0.91, before 'melapor')",
     "'camat si popolong' ≈ Sipoholon (bunyi 0.91, sebelum 'melapor')"),
    (Reason("continues", {"tx": 12, "station": "Tarutung", "gap": 3.5}),
     "continues transmission 12 (Tarutung) 3.5 s later", "lanjutan transmisi 12 (Tarutung), 3.5 s kemudian"),
    (Reason("closed_by_procedure_word", {"tx": 12, "station": "Tarutung", "word": "ganti"}),
     "no continuation: transmission 12 (Tarutung) ended with 'ganti' and this one opens with no continuation "
     "cue (tambahan, lanjut, ralat, koreksi)",
     "bukan lanjutan: transmisi 12 (Tarutung) ditutup dengan 'ganti' dan transmisi ini tidak dibuka dengan "
     "kata lanjutan (tambahan, lanjut, ralat, koreksi)"),
    (Reason("unresolved_self_id", {"tx": 12, "station": "Tarutung", "phrase": "di sini camat Hutabarat"}),
     "no continuation of transmission 12 (Tarutung): the caller names himself ('di sini camat Hutabarat') as "
     "no configured station",
     "bukan lanjutan transmisi 12 (Tarutung): pemanggil menyebut dirinya ('di sini camat Hutabarat'), bukan "
     "stasiun yang terdaftar"),
    (Reason("other_unit", {"tx": 12, "station": "Tarutung", "words": "patroli"}),
     "no continuation of transmission 12 (Tarutung): the call opens with another unit's call sign "
     "('patroli')",
     "bukan lanjutan transmisi 12 (Tarutung): panggilan dibuka dengan tanda panggil unit lain ('patroli')"),
    (Reason("names_other_station", {"tx": 12, "station": "Sipoholon", "other": "Pahae Julu",
                                    "phrase": "Pahae Julu"}),
     "no continuation of transmission 12 (Sipoholon): the call says another station's name "
     "('Pahae Julu': Pahae Julu) and opens with no continuation cue",
     "bukan lanjutan transmisi 12 (Sipoholon): panggilan menyebut nama stasiun lain "
     "('Pahae Julu': Pahae Julu) dan tidak dibuka dengan kata lanjutan"),
    (Reason("legacy", {"text": "no ANI; something old"}), "no ANI; something old", "no ANI; something old"),
]


def test_every_code_has_a_case() -> None:
    assert {r.code for r, _, _ in CASES} == set(TEXT)


@pytest.mark.parametrize("reason, en, id_", CASES, ids=[r.code for r, _, _ in CASES])
def test_each_code_in_both_languages(reason: Reason, en: str, id_: str) -> None:
    assert say(reason, "en") == en
    assert say(reason, "id") == id_
    assert loads(dumps([reason])) == (reason,)  # stored and read back unchanged


def test_context_kinds_in_both_languages() -> None:
    def voice(ctx: dict) -> Reason:
        return Reason("voice", {"phrase": "x", "station": "S", "how": "exact", "similarity": 1.0,
                                "context": ctx})
    for ctx, en, id_ in [({"kind": "opening"}, "opens the call, no cue word",
                          "membuka panggilan, tanpa kata penanda"),
                         ({"kind": "none"}, "no cue word", "tanpa kata penanda"),
                         ({"kind": "village", "words": "desa"}, "after 'desa'", "setelah 'desa'"),
                         ({"kind": "after", "words": "camat", "rest": "ujusif melapol"},
                          "after 'camat'; part of the name only: 'ujusif melapol' follows",
                          "setelah 'camat'; hanya sebagian nama: diikuti 'ujusif melapol'")]:
        assert say(voice(ctx), "en") == f"'x' ≈ S (exact, {en})"
        assert say(voice(ctx), "id") == f"'x' ≈ S (persis, {id_})"


def test_every_recorded_case_gives_table_codes_and_indonesian_only() -> None:
    cfg = load(REPO / "config" / "tapanuli-utara.toml")
    cases = json.loads((DATA / "spoken_id_cases.json").read_text(encoding="utf-8"))["cases"]
    seen = set()
    for case in cases:
        words = [{"word": w, "start": a, "end": b, "conf": c} for w, a, b, c in case["words"]]
        m = match_station(case["text"], words, cfg.stations, cfg.identity.spoken_threshold)
        assert m.reasons and all(r.code in TEXT for r in m.reasons)
        assert say_all(m.reasons, "en") == m.reason
        said = say_all(m.reasons, "id")
        assert not ENGLISH.findall(re.sub(r"'[^']*'", "''", said)), (m.reason, said)
        seen |= {r.code for r in m.reasons}
    assert len(seen) >= 4, seen  # the cases cover several codes, not one


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
        idents = [resolve(s, tx, example_config) for tx in rows]
    assert [[r.code for r in i.reasons] for i in idents] == [
        ["ani"], ["ani_unknown", "not_transcribed"], ["no_ani", "kerchunk"], ["assigned"]]
    for ident in idents:
        said = say_all(ident.reasons, "id")
        assert said and not ENGLISH.findall(said), said


def test_transmission_page_says_stored_codes_in_indonesian(db: Database, tmp_path: Path,
                                                           example_config: Config) -> None:
    web = make_web(db, tmp_path, example_config)
    tx_id = add_tx(web, datetime(2026, 11, 20, 8, 0, tzinfo=WIB), None, text="halo", audio_path=None)
    old_id = add_tx(web, datetime(2026, 11, 20, 8, 5, tzinfo=WIB), None, text="halo", audio_path=None)
    with web.db.write() as s:
        tx = s.get(Transmission, tx_id)
        tx.identity_reason_data = dumps([Reason("no_ani"), Reason("no_name")])
        tx.identity_reason = "what the CLI shows"  # the page does not read the English text
        old = s.get(Transmission, old_id)
        old.identity_reason, old.identity_reason_data = "no ANI; as stored before 0018", None
    page = logged_in(web, "vivi").get(f"/tx/{tx_id}").text
    assert "tanpa ID otomatis radio; tidak ada nama stasiun yang diucapkan" in page
    assert "what the CLI" not in page
    assert reason_id(old) == "no ANI; as stored before 0018"  # a legacy row: its text, as it is


def test_assignment_time_is_said_in_wib_on_the_page(db: Database, tmp_path: Path,
                                                    example_config: Config) -> None:
    """#12: the reason of an operator's assignment showed "2026-11-20 07:00"; the UI writes times as
    "20-11-2026 07.00 WIB" (hand-written here from the moment put in)."""
    web = make_web(db, tmp_path, example_config)
    tx_id = add_tx(web, datetime(2026, 11, 20, 6, 55, tzinfo=WIB), None, text="halo", audio_path=None)
    with web.db.write() as s:
        s.add(Assignment(transmission_id=tx_id, station="Muara", by="opi",
                         at=datetime(2026, 11, 20, 0, 0, tzinfo=UTC)))  # 07.00 WIB
        s.flush()
        tx = s.get(Transmission, tx_id)
        ident = resolve(s, tx, example_config)
        tx.identity_reason_data = dumps(ident.reasons)
    page = logged_in(web, "vivi").get(f"/tx/{tx_id}").text
    assert "ditetapkan oleh opi pada 20-11-2026 07.00 WIB" in page
    assert "2026-11-20" not in page.split("<dt>Stasiun</dt>", 1)[1].split("</dd>", 1)[0]
    # the CLI's English keeps its own form; a value that is no time is said as it is
    assert say(ident.reasons[0]) == "assigned by opi at 2026-11-20 07:00"
    odd = dumps([Reason("assigned", {"by": "x", "at": "?"})])
    row = type("Row", (), {"identity_reason_data": odd, "identity_reason": None})()
    assert reason_id(row, WIB) == "ditetapkan oleh x pada ?"


def test_cli_identify_says_the_reasons_in_english(tmp_path: Path) -> None:
    from test_identify import add_tx as add_row

    from gateway.config import load as load_cfg

    cfg_path = REPO / "config" / "tapanuli-utara.toml"
    data = tmp_path / "data"
    assert run_cli("--config", str(cfg_path), "--data-dir", str(data), "db", "upgrade").returncode == 0
    cfg = load_cfg(cfg_path)
    db = Database(f"sqlite:///{data / 'gateway.sqlite3'}")
    try:
        add_row(db, cfg, "07:05:00", ani="104", text="situasi aman, ganti")
        add_row(db, cfg, "07:05:11", seconds=5, text="jalan ke pasar tertutup pohon")
    finally:
        db.close()
    r = run_cli("--config", str(cfg_path), "--data-dir", str(data), "identify", "--date", "2026-11-20")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].endswith("\tSipoholon\tani\tANI 104 (bot) is Sipoholon")
    assert lines[1].endswith("ended with 'ganti' and this one opens with no continuation cue "
                             "(tambahan, lanjut, ralat, koreksi)") and "\t-\t-\t" in lines[1]
