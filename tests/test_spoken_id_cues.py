"""Where a kecamatan's name is the caller's and where it is not: the cue words around it (a place
or the one called, the caller's own kecamatan, a name run into its cue word, a cue word hyphenated
onto a word). Split from tests/test_spoken_id.py; the same truth: the texts as the generator or
whisper-base wrote them, and the station each call was made by.
"""

from __future__ import annotations

import pytest

from gateway.config import Config, Station
from gateway.identification.spoken_id import match_station

THRESHOLD = 0.80


@pytest.fixture(scope="module")
def stations(example_config: Config) -> tuple[Station, ...]:
    return example_config.stations


@pytest.mark.parametrize(("text", "named"), [
    # a patrol car says where it is; the office calls a camat; a camat says where he is going
    ("Patroli satu ke Pusdalops, posisi di kecamatan Sipoholon, arus lalu lintas lancar, ganti", "Sipoholon"),
    ("Pusdalops ke camat Tarutung, mohon dimonitor, ganti", "Tarutung"),
    ("Mobil rescue menuju ke kecamatan Garoga, jalan licin", "Garoga"),
    # the third held-out half's patrols as whisper-base wrote them (seen after its one run):
    # "melintasi", "di wilayah" heard a letter off, and "wilayah" lost between "di" and the cue
    ("Ruk sangki lain 3, kami melintati kecamatan garoga, berjalanan normal. Ganti.", "Garoga"),
    ("Pusnalos, mamin sakro ramil memonitol, kami di wilayat kecamatan Siborong-borong, lancar",
     "Siborongborong"),
    ("Kusnalok, ravinsa ke kamin bemonikor, kami di miraya kecamatan Sipoholon, Ganti.", "Sipoholon"),
    # the fifth held-out half's bus and PLN car, said and as whisper-base wrote them (seen after its
    # one run): "lewat" (the root of "melewati"), and a call that opens with a unit's call sign
    ("Bus ALS dari Medan, kami lewat Kecamatan Sipahutar, jalan ramai lancar. Ganti.", "Sipahutar"),
    ("Bu Paheles nari menun, kami lewat kecamatan Sipahutar, Dalan Ramai Lanchar, Ganti.", "Sipahutar"),
    ("Mobil PLN di Kecamatan Purbatua, sedang perbaikan jaringan. Ganti.", "Purbatua"),
    ("Mobil terlendik kecamatan purbatua, Senang permai kanja ringan. Ganti.", "Purbatua"),
    ("Unit patroli dua, kamineran adik kecamatan Pagaran, lalu lintas normal, ganti", "Pagaran"),
])
def test_a_kecamatan_named_as_a_place_or_the_one_called_is_not_the_caller(
        text: str, named: str, stations: tuple[Station, ...]) -> None:
    from gateway.identification.self_id import self_named
    from gateway.reasons import say_all

    m = match_station(text, None, stations, THRESHOLD)
    assert m.station is None, m.reason
    assert m.candidates and m.candidates[0][0] == named  # it heard the name, and put it aside
    assert "a place or the one called" in say_all(m.reasons, "en")
    assert "tempat atau yang dipanggil" in say_all(m.reasons, "id")
    assert self_named(text, None, stations) is None  # nor is it an unresolved self-introduction


@pytest.mark.parametrize(("text", "station"), [
    ("Bupati, di sini kecamatan Sipoholon, situasi aman, ganti", "Sipoholon"),
    ("Izin melapor Bupati, dari kecamatan Tarutung, aman", "Tarutung"),
    ("Pusdalops, camat Garoga melapor, situasi siaga", "Garoga"),
    # a place word two before the cue counts only with no punctuation and no "di sini" between
    ("Laporan pagi di Pusdalops, camat Sipoholon melapor", "Sipoholon"),
    ("Bupati di sini kecamatan Sipahutar, situasi aman", "Sipahutar"),
    ("Ilin melapur di silik kecamatan Pagaran, situasi aman", "Pagaran"),  # "di sini" as heard
    # a call sign after the cue is no opening: the caller named himself first
    ("Pusdalops, camat Garoga melapor, mobil ambulans sudah tiba", "Garoga"),
    # a station named like a call sign by sound is still the caller (tuning morning 107)
    ("Pusnalops, Pusnalops, Chama Pagaran Memanggil. Kami Nalam Tatuswa Spana", "Pagaran"),
])
def test_the_callers_own_kecamatan_still_names_him(text: str, station: str,
                                                   stations: tuple[Station, ...]) -> None:
    assert match_station(text, None, stations, THRESHOLD).station == station


@pytest.mark.parametrize(("text", "station"), [
    ("Pusdalops, kamatkan roga melapor, situasi siaga", "Garoga"),  # "camat Garoga", syllables run on
    ("Pusdalops, camatkan Sipoholon melapor, aman", "Sipoholon"),  # the glued-on "kan" is a filler
])
def test_a_name_run_into_the_cue_word(text: str, station: str, stations: tuple[Station, ...]) -> None:
    assert match_station(text, None, stations, THRESHOLD).station == station


def test_a_cue_word_is_not_hyphen_joined_to_the_name(stations: tuple[Station, ...]) -> None:
    """Whisper writes "jamat-panmonangan" for "camat Parmonangan" (tuning morning 108): the pieces of
    a hyphenated word stay together ("Siborong-Rong"), but not onto a cue word."""
    said = ["Sinin", "bupati,", "jamat-", "panmonangan,", "sira", "melapol."]
    words = [{"word": w, "start": float(i), "end": i + 0.5, "conf": 0.5} for i, w in enumerate(said)]
    m = match_station(" ".join(said), words, stations, THRESHOLD)
    assert (m.station, m.phrase, m.start) == ("Parmonangan", "panmonangan", 3.0), m.reason
    joined = [{"word": w, "start": float(i), "end": i + 0.5, "conf": 0.5}
              for i, w in enumerate(["camat", "Siborong-", "borong,", "aman"])]
    assert match_station("", joined, stations, THRESHOLD).phrase == "Siborong-borong"


@pytest.mark.parametrize("said", [
    ["Melapol", "kepaka,", "Saya-cama", "Sipoholon,", "Situasi", "aman."],  # one word, as written
    ["Melapol", "kepaka,", "Saya", "-cama", "Sipoholon,", "Situasi", "aman."],  # the piece after it
    ["Melapol", "kepaka,", "Saya-", "cama", "Sipoholon,", "Situasi", "aman."],  # the piece before it
])
def test_a_cue_word_hyphenated_onto_the_word_before_is_still_a_cue(said: list[str],
                                                                   stations: tuple[Station, ...]) -> None:
    """Whisper writes "Saya-cama Sipoholon" for "saya Camat Sipoholon" (fourth held-out morning 508,
    seen after its one run): the cue word is a word of its own, however the hyphen falls."""
    words = [{"word": w, "start": float(i), "end": i + 0.5, "conf": 0.5} for i, w in enumerate(said)]
    m = match_station(" ".join(said), words, stations, THRESHOLD)
    assert m.station == "Sipoholon" and m.phrase == "Sipoholon", m.reason
    assert match_station(" ".join(said), None, stations, THRESHOLD).station == "Sipoholon"
    # the name alone, with no cue, stays under the threshold: the cue is what the hyphen hid
    alone = match_station("Melapol kepaka, Sipoholon, Situasi aman.", None, stations, THRESHOLD)
    assert alone.station is None


@pytest.mark.parametrize("text", [
    # whisper repeating itself over Camat Siborongborong's name (fourth held-out morning 509, seen
    # after its one run; the transcript as written)
    "Salamat pagi Tushalok, Khamat Sipoholon, Sipoholon, Sipoholon, Memerikan Laporan, Tushalini",
    "Tarutung, Tarutung, Tarutung, ini Pusdalops, ganti",  # the office calling a camat
])
def test_one_name_three_times_in_a_row_is_not_the_caller(text: str, stations: tuple[Station, ...]) -> None:
    m = match_station(text, None, stations, THRESHOLD)
    assert m.station is None
    assert any(r.code == "name_repeated" and r.params["times"] == 3 for r in m.reasons), m.reason


@pytest.mark.parametrize(("text", "station"), [
    ("Pusdalops, Pusdalops, camat Garoga melapor", "Garoga"),  # the one called, twice: the usual call
    ("di sini camat Sipoholon, Sipoholon, situasi aman", "Sipoholon"),  # twice is no loop
    ("camat Sipoholon melapor, Sipoholon aman, Sipoholon siaga", "Sipoholon"),  # words between
])
def test_a_name_said_again_is_still_the_callers(text: str, station: str,
                                                stations: tuple[Station, ...]) -> None:
    assert match_station(text, None, stations, THRESHOLD).station == station
