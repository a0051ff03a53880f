"""Spoken station identification (:mod:`gateway.identification.spoken_id`): real recogniser
transcripts and hand cases.

``tests/data/spoken_id_cases.json`` holds what faster-whisper "base" (with the daemon's prompt of
station names, and without it) and the Korean Vosk model made of camat calls spoken by espeak-ng
and sent through the radio simulator; ``tests/data/make_spoken_id_cases.py`` regenerates it (the
tests never run an engine). A person labelled every transcript by reading it against the station
list (the labels do not come from the matcher):

* ``clear``: someone who knows the 15 names would name the caller from the transcript alone;
* ``garbled``: the name is lost ("Laporan camat kepada bupati.") or too mangled to be sure;
* ``substituted``: the prompted recogniser wrote a station name that was not said;
* ``no-station``: no station was said (procedure only, villages, other regencies' places).

The contract: clear cases are matched (but for the listed misses, which come out unknown), no case
ever names a wrong station (but for the listed substitutions the recogniser itself wrote), cases
without a legible station name come out unknown with a reason.

Tuning set and held-out set. ``spoken_id_cases.json`` is the TUNING set: the matcher's thresholds
(``THRESHOLD`` and the constants in gateway/identification/spoken_id.py) and the lists above were
set while reading it, so passing it says little about calls it has not seen.
``spoken_id_heldout.json`` is the HELD-OUT set (``make_spoken_id_cases.py --held-out``: other
sentences, other voice/speed pairings, another noise seed; whisper "base" with the daemon's prompt),
made after the thresholds were fixed and never used to change them. It has no labels: it is scored
against what was said only (``said_station``) in :func:`test_held_out_accuracy`, at the floors given
there. Lower a floor only with a reason; do not tune on this set (make a new one instead).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import pytest

from gateway.config import Config, Station
from gateway.identification.spoken_id import SpokenMatch, match_station, normalise, phonetic_key
from gateway.reasons import Reason

from conftest import DATA

THRESHOLD = 0.80
CASES: list[dict[str, Any]] = json.loads((DATA / "spoken_id_cases.json").read_text(encoding="utf-8"))["cases"]
BY_ID = {c["id"]: c for c in CASES}

#: Legible to a reader, but not sure enough for the matcher: these must come out unknown.
KNOWN_MISSES = {
    "004-whisper": "'taruh tujuan': Tarutung and 'hujan' run together (0.62)",
    "013-whisper": "'nanti langkotin' (0.67)",
    "017-whisper": "'dari angkotin': 'Adian' heard as the cue word 'dari' (0.62)",
    "018-whisper": "'tanci pohonong': the name's first syllable glued to 'kacama' (0.38)",
    "020-whisper": "'cipobolong' (0.70)",
    "021-whisper": "'si pokok long' (0.63)",
    "042-whisper": "'kurwa tuah' (0.71)",
    "043-whisper": "'Pumatura' (0.69)",
    "045-whisper": "'purnah tuat' (0.72)",
    "046-whisper": "'purnatura' (0.78)",
    "047-whisper": "'purnatur' (0.75)",
    "052-whisper": "'siperong-ong-ong-ong' (0.68)",
    "053-whisper": "'si potong-potong' (0.77)",
    "055-whisper": "'pandaran' (0.75; 'panggilan' for Parmonangan scores the same for Pagaran)",
    "063-whisper": "'padmonghanya' (0.68)",
    "066-whisper": "'Sita Puthar' (0.74)",
    "068-whisper": "'Sipaputa' (0.78)",
    "069-whisper": "'sifah puter' (0.78)",
    "071-whisper": "'siapatuhar' (0.70)",
    "078-whisper+prompt": "'Garoga' right, but Whisper gave it p 0.016: taken for a prompt copy",
    "083-whisper": "'antaroga' (0.62)",
}
#: The prompted recogniser wrote a station name that was not said, with a fair probability: no
#: transcript-only matcher can tell. Strict xfail: the day one of these passes, drop it here.
KNOWN_WRONG = {
    "048-whisper+prompt": "Siborongborong said; Whisper wrote 'Khamat, Sipoholon, Morgong' (p 0.32)",
    "110-whisper+prompt": "Pangururan (not a station) said; Whisper wrote 'kecamatan Tarutungan' (p 0.21)",
    "111-whisper+prompt": "Pangururan (not a station) said; Whisper wrote 'kecamatan Tarutungan' (p 0.23)",
}


def as_words(case: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(zip(("word", "start", "end", "conf"), w, strict=True)) for w in case["words"]]


@pytest.fixture(scope="module")
def stations(example_config: Config) -> tuple[Station, ...]:
    return example_config.stations


def _param(case: dict[str, Any]) -> Any:
    wrong = KNOWN_WRONG.get(case["id"])
    marks = [pytest.mark.xfail(strict=True, reason=wrong)] if wrong else []
    return pytest.param(case, id=case["id"], marks=marks)


def test_fixture_is_labelled_and_lists_are_current() -> None:
    labels = Counter(c["label"] for c in CASES)
    assert set(labels) <= {"clear", "garbled", "substituted", "no-station"}, labels
    assert all(BY_ID[i]["label"] == "clear" for i in KNOWN_MISSES), "known misses are clear cases"
    assert all(BY_ID[i]["label"] == "substituted" for i in KNOWN_WRONG)
    assert all(c["said_station"] is None for c in CASES if c["label"] == "no-station")
    assert {c["engine"] for c in CASES} == {"whisper", "whisper+prompt", "vosk-ko"}
    assert labels["clear"] >= 90 and labels["garbled"] + labels["no-station"] >= 150


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_recorded_transcript(case: dict[str, Any], stations: tuple[Station, ...]) -> None:
    words = as_words(case)
    m = match_station(case["text"], words, stations, THRESHOLD)
    said, label = case["said_station"], case["label"]
    assert m.reason and "\n" not in m.reason
    if label == "clear" and case["id"] not in KNOWN_MISSES:
        assert m.station == said, f"{case['text']!r}: {m.reason}"
        assert m.confidence >= THRESHOLD
        # The phrase is where the recogniser put it: its words, their times.
        inside = [w for w in words if m.start <= w["start"] and w["end"] <= m.end]
        assert inside and inside[0]["start"] == m.start and inside[-1]["end"] == m.end
        assert normalise(m.phrase) in normalise(" ".join(w["word"] for w in inside))
    elif label in ("clear", "substituted", "no-station") or case["engine"] == "vosk-ko":
        assert m.station is None, f"{case['text']!r}: {m.reason}"
        assert m.start is None and m.end is None and m.phrase == ""
    else:  # garbled: unknown, or right by luck; never another station
        assert m.station in (None, said), f"{case['text']!r}: {m.reason}"


@pytest.mark.parametrize("case", [_param(c) for c in CASES if c["said_station"]])
def test_caller_not_configured_is_never_someone_else(case: dict[str, Any],
                                                     stations: tuple[Station, ...]) -> None:
    """Leave the caller's own station out of the configuration: nobody else may be named instead."""
    others = [s for s in stations if s.name != case["said_station"]]
    m = match_station(case["text"], as_words(case), others, THRESHOLD)
    assert m.station is None, f"{case['text']!r}: {m.reason}"


@pytest.mark.parametrize("case", [_param(c) for c in CASES if c["engine"] != "whisper+prompt"])
def test_text_alone_is_never_wrong(case: dict[str, Any], stations: tuple[Station, ...]) -> None:
    """Without word times and probabilities (e.g. an edited transcript) the answer may only be poorer.

    (Prompted transcripts need the word probabilities to spot names copied from the prompt.)"""
    with_words = match_station(case["text"], as_words(case), stations, THRESHOLD)
    text_only = match_station(case["text"], None, stations, THRESHOLD)
    assert text_only.station in (None, case["said_station"]), text_only.reason
    assert text_only.station == with_words.station
    assert text_only.start is None and text_only.end is None


def test_corpus_summary_and_speed(stations: tuple[Station, ...]) -> None:
    """Zero wrong stations over the corpus (but the listed substitutions), recall, and timing."""
    t0 = time.perf_counter()
    results = {c["id"]: match_station(c["text"], as_words(c), stations, THRESHOLD) for c in CASES}
    elapsed = time.perf_counter() - t0
    wrong = {i for i, m in results.items() if m.station not in (None, BY_ID[i]["said_station"])}
    assert wrong == set(KNOWN_WRONG)
    clear = [c for c in CASES if c["label"] == "clear"]
    hits = sum(results[c["id"]].station == c["said_station"] for c in clear)
    assert hits == len(clear) - len(KNOWN_MISSES)
    assert elapsed / len(CASES) < 0.02, f"{1000 * elapsed / len(CASES):.1f} ms a transcript"


# --- hand-written cases -------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "station", "phrase"), [
    ("Bupati, di sini Camat Sipoholon, situasi aman, ganti", "Sipoholon", "Sipoholon"),
    ("Lapor, Camat Siatas Barita. Situasi aman terkendali, ganti.", "Siatas Barita", "Siatas Barita"),
    ("Camat Adian Koting melapor", "Adiankoting", "Adian Koting"),
    ("Bupati, di sini Kamat si Popolong, ganti", "Sipoholon", "si Popolong"),
    ("camat diatas Barita, situasi aman", "Siatas Barita", "diatas Barita"),
    ("di sini camat Siborong borong, ganti", "Siborongborong", "Siborong borong"),
    ("Siborong-borong melapor, aman", "Siborongborong", "Siborong-borong"),
    ("camat Adian Kuting melapor", "Adiankoting", "Adian Kuting"),
    ("di sini Si atas barita, ganti", "Siatas Barita", "Si atas barita"),
    ("Siatasbarita melapor", "Siatas Barita", "Siatasbarita"),
    ("Selamat pagi Bapak Bupati, dari kecamatan Purba Tua, ganti", "Purbatua", "Purba Tua"),
    ("Khamat Camathuara melapur, aman", "Muara", "huara"),  # cue glued to the name
    # cue glued to the end of the word before ("dari kami camat"), or "melapor" to the name's end
    ("Kimin melapor bupati, Narikamikhamat, Sipahutar, situasi aman", "Sipahutar", "Sipahutar"),
    ("Chamat Pahae Jaramelapol, situasi siaga", "Pahae Jae", "Pahae Jara"),
    ("Sipoholon, situasi aman, ganti", "Sipoholon", "Sipoholon"),  # opens the call, no cue
    ("di sini camat Tarutung, jalan ke Sipoholon putus, ganti", "Tarutung", "Tarutung"),
    ("Di sini camat Muara, banjir di muara sungai", "Muara", "Muara"),
    # "memanggil" (calling) after the name, the tune2 opening as whisper heard it on morning 108
    ("Kusnalok, kusnalok, kamer siatasbarita memanggil. Kami nalam katuswaspaga.", "Siatas Barita",
     "siatasbarita"),
    ("Pusdalops, Pusdalops, Camat Sipahutar memanggil", "Sipahutar", "Sipahutar"),
])
def test_spoken_names(text: str, station: str, phrase: str, stations: tuple[Station, ...]) -> None:
    m = match_station(text, None, stations, THRESHOLD)
    assert (m.station, m.phrase) == (station, phrase), m.reason
    assert m.confidence >= THRESHOLD and f"≈ {station}" in m.reason
    assert m.candidates[0] == (station, m.confidence)


def test_a_name_between_a_cue_before_and_one_after_counts_a_little_more(
        stations: tuple[Station, ...]) -> None:
    """"camat para Garan melapor": both sides say it is the caller's name (BOTH_CUES_BONUS); with
    only one of them the same spelling (0.78) stays below the threshold."""
    from gateway.identification.spoken_id import BOTH_CUES_BONUS
    from gateway.reasons import say_all

    both = match_station("Pusnalops, camat para Garan Malapol, status waspada", None, stations, THRESHOLD)
    one = match_station("Pusnalops, camat para Garan, status waspada", None, stations, THRESHOLD)
    assert (both.station, one.station) == ("Pagaran", None)
    assert both.confidence == pytest.approx(one.confidence + BOTH_CUES_BONUS, abs=1e-3)
    assert "after 'camat' and before 'Malapol'" in both.reason
    assert "setelah 'camat' dan sebelum 'Malapol'" in say_all(both.reasons, "id")


def test_an_inexact_name_that_leaves_a_word_before_the_cue_is_part_of_a_longer_name(
        stations: tuple[Station, ...]) -> None:
    """Tuning morning 107: Camat Pahae Julu's "jamat paharan ujusif melapol". 'paharan' alone is
    one letter from Pagaran (0.86), but the name between "camat" and "melapor" was longer; the same
    word with nothing left over still names Pagaran."""
    from gateway.identification.spoken_id import PART_PENALTY
    from gateway.reasons import say_all

    part = match_station("Inin bupati, jamat paharan ujusif melapol. Wira kami", None, stations, THRESHOLD)
    whole = match_station("Inin bupati, jamat paharan melapol. Wira kami", None, stations, THRESHOLD)
    assert part.station is None and whole.station == "Pagaran"
    assert "part of the name only: 'ujusif melapol' follows" in part.reason
    assert "hanya sebagian nama: diikuti 'ujusif melapol'" in say_all(part.reasons, "id")
    alone = match_station("Inin bupati, jamat paharan. Wira kami", None, stations, THRESHOLD)
    assert part.confidence == pytest.approx(alone.confidence - PART_PENALTY, abs=1e-3)
    exact = match_station("camat Sipahutar ujusif melapor", None, stations, THRESHOLD)
    assert exact.station == "Sipahutar"  # a name heard exactly keeps its score


@pytest.mark.parametrize("text", ["Tarutung memang aman, harga beras naik", "camat Sipoholon memang melapor"])
def test_a_short_word_like_memanggil_is_no_cue(text: str, stations: tuple[Station, ...]) -> None:
    """"memang" (indeed) is two sounds from "memanggil" but no cue after a name."""
    m = match_station(text, None, stations, THRESHOLD)
    assert "memang'" not in m.reason, m.reason


@pytest.mark.parametrize(("text", "why"), [
    ("", "empty transcript"),
    ("situasi aman terkendali, ganti", "no station name spoken"),
    ("monitor monitor, delapan enam, roger, ganti", "no station name spoken"),
    ("86, izin melapor, selamat pagi bupati, di sini camat, ganti", "no station name spoken"),
    ("학위 뒤 가 따로 로 돌아 수위가 아이들이", "no station name spoken"),
    ("[unk] [unk] [unk] ganti", "no station name spoken"),
    ("Di sini Desa Sitampurung, situasi aman, ganti", "no station name spoken"),
    ("Camat Onan Runggu melapor, aman", "no station name spoken"),
    ("Lapor, dari desa Lobu Siregar, pohon tumbang", "no station name spoken"),
    ("dari kecamatan Pangururan, kondusif", "best candidate Pangaribuan"),
    ("Lapor, Camat Sipirok, jalan rusak", "best candidate Sipoholon"),
    ("di sini desa Pagaran, aman", "best candidate Pagaran"),  # a village of that name
    ("banjir kecil di muara sungai, ganti", "best candidate Muara 0.75 < 0.80 ('muara', no cue word)"),
    ("Camat Pahae melapor, aman", "best candidate Pahae Jae"),
    ("di sini camat sipo, ganti", "best candidate Sipoholon"),
    ("camat Pahae Jaelu melapor", "two stations equally likely: Pahae"),
    ("di sini kecamatan Tarutung, Siatas Barita, Adian Koting.", "only a list of station names"),
])
def test_must_stay_unknown(text: str, why: str, stations: tuple[Station, ...]) -> None:
    m = match_station(text, None, stations, THRESHOLD)
    assert m.station is None and m.phrase == "" and m.start is None
    assert why in m.reason, m.reason


def test_procedure_words_never_match(stations: tuple[Station, ...]) -> None:
    text = ("Bupati bupati, di sini, izin melapor, selamat pagi, monitor, roger, delapan enam, 86, "
            "situasi aman terkendali kondusif, terima kasih, siap, ganti")
    assert match_station(text, None, stations).candidates == []


def test_word_times_give_the_span(stations: tuple[Station, ...]) -> None:
    words = [{"word": w, "start": 0.5 * i, "end": 0.5 * i + 0.4, "conf": 0.6}
             for i, w in enumerate("Bupati, di sini Kamat si Popolong, situasi aman, ganti.".split())]
    m = match_station("ignored when words are given", words, stations)
    assert (m.station, m.phrase, m.start, m.end) == ("Sipoholon", "si Popolong", 2.0, 2.9)
    assert m.reason == "'si Popolong' ≈ Sipoholon (spelling 0.80, after 'di sini Kamat')"


def test_a_name_the_recogniser_barely_believes_is_not_enough(stations: tuple[Station, ...]) -> None:
    heard = [("Kamat", 0.5), ("Pahae", 0.004), ("Jullu,", 0.003), ("ganti", 0.6)]  # copied from the prompt
    words = [{"word": w, "start": i, "end": i + 0.5, "conf": c} for i, (w, c) in enumerate(heard)]
    m = match_station("", words, stations)
    assert m.station is None and "unsure" in m.reason
    sure = [dict(w, conf=0.4) for w in words]
    assert match_station("", sure, stations).station == "Pahae Julu"


def test_threshold_is_the_callers() -> None:
    st = [Station("Siatas Barita"), Station("Sipoholon")]
    assert match_station("camat diatas Barita", None, st).station == "Siatas Barita"
    strict = match_station("camat diatas Barita", None, st, threshold=0.95)
    assert strict.station is None and strict.reason.startswith("best candidate Siatas Barita 0.92 < 0.95")


def test_another_regency() -> None:
    """Nothing is specific to Tapanuli Utara: the stations come from the configuration."""
    samosir = [Station("Pangururan"), Station("Simanindo"), Station("Onan Runggu"), Station("Nainggolan"),
               Station("Palipi"), Station("Harian"), Station("Ronggur Nihuta"),
               Station("Sianjur Mula Mula", aliases=("Sianjur Mulamula",)),
               Station("Sitio-tio", aliases=("Sitiotio",))]
    cases = {
        "Bupati, di sini camat Onan Runggu, aman, ganti": "Onan Runggu",
        "dari kecamatan Pangururan, kondusif": "Pangururan",
        "Kamat Simanindo melapor": "Simanindo",
        "di sini kecematan sianjur mulamula, ganti": "Sianjur Mula Mula",
        "lapor, camat Sitio tio": "Sitio-tio",
        "camat Ronggur Nihuta melapor": "Ronggur Nihuta",
        "Bupati, di sini Camat Sipoholon, ganti": None,
        "di sini desa Palipi, aman": None,
    }
    for text, want in cases.items():
        m = match_station(text, None, samosir)
        assert m.station == want, (text, m.reason)


def test_station_names_may_hold_procedure_words() -> None:
    st = [Station("Pagi Raya"), Station("Aek Nauli")]
    assert match_station("di sini camat Pagi Raya, ganti", None, st).station == "Pagi Raya"
    assert match_station("selamat pagi, ganti", None, st).station is None


def test_no_stations_configured() -> None:
    m = match_station("di sini camat Sipoholon", None, [])
    assert m == SpokenMatch(None, 0.0, "", None, None, "no stations configured", [], (Reason("no_stations"),))


def test_phonetic_key_folds_what_the_recognisers_confuse() -> None:
    assert phonetic_key("Sipoholon") == phonetic_key("si Poholong") == phonetic_key("si pohonong")
    assert phonetic_key("Tarutung") == phonetic_key("taruh tun")
    assert phonetic_key("Adiankoting") == phonetic_key("Adian Kuting")
    assert phonetic_key("Siborong-borong") == phonetic_key("siborongborong")
    assert normalise("Siborong-borong!") == "siborongborong"


# --- the held-out set ---------------------------------------------------------------------------

HELD_OUT: list[dict[str, Any]] = json.loads(
    (DATA / "spoken_id_heldout.json").read_text(encoding="utf-8"))["cases"]
#: Floors on the held-out set (see the module docstring); the matching is deterministic, so they
#: are the measured shares. When it was made: 21 of 36 calls answered right, 15 of the 30 station
#: calls named, two of the 30 naming a wrong station, each one the prompted recogniser wrote in place
#: of the one said ("kecamatan Tarutung" for Adian Koting, "Sipoholon" for Sipahutar). After the
#: glued-tail and both-cues rules (tuned on the tuning set only, 2026-12-02): 22, 16 and 1.
HELD_OUT_ACCURACY_FLOOR = 22 / 36
HELD_OUT_RECALL_FLOOR = 16 / 30
HELD_OUT_MAX_WRONG = 1


def test_held_out_accuracy(stations: tuple[Station, ...]) -> None:
    """On calls the thresholds were not tuned on, scored against what was said: the share answered
    right (the station said, or unknown when none was said) stays at its floor, and a wrong station is
    named only where the recogniser itself wrote that station's name (no transcript-only matcher can
    tell; see KNOWN_WRONG), never from a garbled word."""
    assert len(HELD_OUT) >= 30 and {c["engine"] for c in HELD_OUT} == {"whisper+prompt"}
    tuned = {c["said"] for c in CASES}
    assert not tuned & {c["said"] for c in HELD_OUT}, "a held-out sentence is in the tuning set"
    right = wrong = 0
    for case in HELD_OUT:
        m = match_station(case["text"], as_words(case), stations, THRESHOLD)
        said = case["said_station"]
        right += m.station == said
        if m.station not in (None, said):
            wrong += 1
            named = next(s for s in stations if s.name == m.station)
            spellings = {normalise(n) for n in (named.name, *named.aliases)}
            assert any(sp in normalise(case["text"]) for sp in spellings), f"{case['text']!r}: {m.reason}"
    calls = [c for c in HELD_OUT if c["said_station"]]
    recall = sum(match_station(c["text"], as_words(c), stations, THRESHOLD).station == c["said_station"]
                 for c in calls) / len(calls)
    assert right / len(HELD_OUT) >= HELD_OUT_ACCURACY_FLOOR, right / len(HELD_OUT)
    assert recall >= HELD_OUT_RECALL_FLOOR, recall
    assert wrong <= HELD_OUT_MAX_WRONG
