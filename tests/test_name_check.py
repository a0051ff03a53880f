"""Hearing an unresolved caller's name again (gateway/identification/name_check.py).

The recogniser's side is stood in for by a scorer that knows what was *said* (the generator's text,
gateway/sim/morning.py): a text scores by how close it is to the words said. The words heard are
whisper-base transcripts of the tuning mornings (bench/bench_accuracy.py --tune --detail). The real
engine's scores are tested on real audio in tests/test_whisper.py.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from rapidfuzz.distance import Levenshtein

from gateway.asr.base import Transcript, Word
from gateway.asr.fake import FakeRecognizer
from gateway.config import Config
from gateway.identification import identify
from gateway.identification.name_check import (
    MARGIN,
    MAX_NAME_WORDS,
    NameCheck,
    check_name,
    checker,
    hypotheses,
    spoken_forms,
)
from gateway.reasons import Reason, say
from gateway.report.review import REVIEW_TEXT
from gateway.sim.morning import morning
from gateway.store.db import Database
from gateway.store.models import TranscriptRow, Transmission
from gateway.transcripts import check_stored, store_transcript

WIB = ZoneInfo("Asia/Jakarta")
AUDIO = np.zeros(16000, np.float32)


def said(seed: int, index: int) -> tuple[str, str | None]:
    """(the words said, the station) of one generated call, without its SSML pauses."""
    tx = morning(seed)["transmissions"][index]
    return " ".join(re.sub(r"<[^>]+>", " ", tx["text"]).split()), tx.get("station")


def heard(text: str) -> Transcript:
    return Transcript(text, tuple(Word(w, i * 0.4, i * 0.4 + 0.3, 0.6) for i, w in enumerate(text.split())))


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z ]", " ", text.casefold()).split())


#: What a word that was not said costs the stand-in scorer, in nats (the real engine's wrong names
#: cost 5-15 nats on the tuning mornings: bench/README.md).
NATS_PER_WORD = 5.0


class SaidScorer:
    """Scores a text by how close its words are to a prefix of the words said (word edits, times
    :data:`NATS_PER_WORD`): what a recogniser's rescoring of the audio approximates."""

    def __init__(self, truth: str) -> None:
        self.truth = _norm(truth).split()
        self.asked: list[list[str]] = []

    def rescore(self, audio: np.ndarray, prompt_words: tuple[str, ...], texts: list[str]) -> list[float]:
        self.asked.append(texts)
        return [-NATS_PER_WORD * min(Levenshtein.distance(_norm(t).split(), self.truth[:n])
                                     for n in range(len(self.truth) + 1)) for t in texts]


# cases: (seed, index in the morning, whisper-base's words for it)
CASES = [
    (102, 2, "Ilin melapol bupati darikami camat perharajar, selamat pagi, status kami waspaga, harga "
             "chamai meberdua puerustiga ribu-rubia per kilogram. Ganti."),
    (105, 0, "Pusnalops, pusnalops, camat kepada garan memanggil. Wihir kami bersatu siaga. Sikiran "
             "Laporan kami, ganti."),
    (108, 9, "Inin bupati, jamat perharunu siap melapol. Kami nalam status waspata. Kecelakaan motos di "
             "desa lumbang, karaga, enam warga luka ringan. Sekilan Laporan Kami, Ganti."),
]


@pytest.mark.parametrize("seed,index,words", CASES, ids=[f"{s}-{i}" for s, i, _ in CASES])
def test_the_name_said_is_found_where_the_words_garbled_it(example_config: Config, seed: int, index: int,
                                                           words: str) -> None:
    truth, station = said(seed, index)
    found = check_name(SaidScorer(truth), AUDIO, heard(words), example_config.stations)
    assert found is not None and found.station == station, (found, truth)
    assert found.margin >= MARGIN


def test_no_check_where_it_does_not_apply(example_config: Config) -> None:
    stations = example_config.stations
    scorer = SaidScorer("Bupati di sini camat Sipoholon")
    # the matcher resolved the name: nothing to hear again
    resolved = heard("Bupati, di sini camat Sipoholon, situasi aman.")
    assert check_name(scorer, AUDIO, resolved, stations) is None
    # no self-introduction: a report with no name
    assert check_name(scorer, AUDIO, heard("Situasi aman kondusif. Ganti."), stations) is None
    assert scorer.asked == []
    # an engine that cannot be asked (Vosk, the fake)
    assert check_name(FakeRecognizer(), AUDIO, heard("camat perharajar selamat pagi"), stations) is None
    assert check_name(scorer, AUDIO, Transcript(""), stations) is None


def test_a_patrol_naming_where_it_is_gets_no_station(example_config: Config) -> None:
    """"kami berada di kecamatan Pagaran" with "berada di" heard as "adik": a place, not the caller
    (seed 106, call 6: a patrol car, no camat)."""
    truth, station = said(106, 6)
    assert station is None and "Kecamatan Pagaran" in truth
    words = "Pulit perroli hua, kamineran adik kecamatan tanahkan, lalu link pas normal, ganti."
    scorer = SaidScorer(truth)
    assert check_name(scorer, AUDIO, heard(words), example_config.stations) is None
    assert scorer.asked == []


def test_no_station_when_two_names_fit_equally(example_config: Config) -> None:
    class Tie:
        def rescore(self, audio: np.ndarray, prompt: tuple[str, ...], texts: list[str]) -> list[float]:
            return [-1.0 if ("Pahae Jae" in t or "Pahae Julu" in t) else -20.0 for t in texts]

    found = check_name(Tie(), AUDIO, heard("camat perharajar selamat pagi"), example_config.stations)
    assert found is not None and found.station is None and found.margin == 0.0
    assert found.phrase == "camat perharajar"


def test_hypotheses_replace_one_to_three_words_and_end_together(example_config: Config) -> None:
    words = "Pusnalops, camat kepada garan memanggil. Wihir kami bersatu siaga. Sikiran Laporan kami".split()
    texts, owners = hypotheses(words, 2, example_config.stations)
    assert "Pusnalops, camat Pagaran memanggil. Wihir kami bersatu siaga. Sikiran Laporan" in texts
    assert "Pusnalops, camat Pagaran garan memanggil. Wihir kami bersatu siaga. Sikiran Laporan" in texts
    assert {t.split()[-1] for t in texts} == {"Laporan"}  # the same words after, so scores compare
    forms = sum(len(spoken_forms(s)) for s in example_config.stations)
    assert len(texts) == len(owners) == MAX_NAME_WORDS * forms
    # short pieces between the cue and the name are part of it: "camat si kaum pandai"
    texts, _ = hypotheses("Lapor camat si kaum pandai melapor".split(), 3, example_config.stations, 2)
    assert "Lapor camat Siatas Barita pandai melapor" in texts
    assert "Lapor camat Siatas Barita melapor" in texts
    assert not any(" si Siatas" in t for t in texts)
    # punctuation after the replaced word stays: "perharajar," -> "Pahae Jae,"
    texts, _ = hypotheses("camat perharajar, selamat pagi".split(), 1, example_config.stations)
    assert "camat Pahae Jae, selamat pagi" in texts


def test_aliases_spelt_only_with_other_spaces_are_not_asked_twice(example_config: Config) -> None:
    siatas = next(s for s in example_config.stations if s.name == "Siatas Barita")
    assert siatas.aliases == ("Siatasbarita",)
    assert spoken_forms(siatas) == ["Siatas Barita"]


def test_stored_form_round_trips_and_rejects_anything_else() -> None:
    check = NameCheck("camat perharajar", "Pahae Jae", 5.2, "Tarutung")
    assert NameCheck.from_json(check.to_json()) == check
    assert check.station == "Pahae Jae"
    assert NameCheck("c", "Pahae Jae", MARGIN - 0.1, "Tarutung").station is None
    for bad in (None, [], "x", {"phrase": 1}, {"phrase": "a", "best": "B", "runner_up": "C", "margin": "big"},
                {"phrase": "a", "margin": 1.0, "best": 3, "runner_up": "C"}, {"phrase": "a", "margin": 1.0}):
        assert NameCheck.from_json(bad) is None


def on(cfg: Config) -> Config:
    """``cfg`` with ``identity.name_check`` on (off in the shipped config)."""
    return dataclasses.replace(cfg, identity=dataclasses.replace(cfg.identity, name_check=True))


def test_checker_follows_the_config(example_config: Config) -> None:
    assert example_config.identity.name_check is False  # opt-in
    assert checker(example_config) is None
    check = checker(on(example_config))
    assert check is not None
    truth, _ = said(102, 2)
    out = check(SaidScorer(truth), AUDIO, heard(CASES[0][2]))
    assert out is not None and out["best"] == "Pahae Jae"
    assert check(SaidScorer(truth), AUDIO, heard("Situasi aman. Ganti.")) is None


# --- identification from the stored check -------------------------------------------------------

def _tx(db: Database, start: datetime, seconds: float = 8.0) -> int:
    with db.write() as s:
        tx = Transmission(uid=uuid.uuid4().hex, started_at=start, audio_started_at=start,
                          ended_at=start + timedelta(seconds=seconds), duration_s=seconds, status="complete",
                          kerchunk=False, stuck=False, recovered=False, source="test", audio_path="x.ogg")
        s.add(tx)
        s.flush()
        return tx.id


class _Rec:
    engine, model_id, rate = "fake", "m", 16000


def _store(db: Database, cfg: Config, tx_id: int, text: str, check: NameCheck | None) -> Transmission:
    """Store ``text`` as the transcription stage does, then the check's answer (``check_stored``)."""
    result = heard(text)
    after = lambda s, t: identify.reidentify(s, t, cfg)  # noqa: E731
    assert store_transcript(db, tx_id, _Rec(), result, "live", after=after)  # type: ignore[arg-type]
    if check is not None:
        check_stored(db, tx_id, _Rec(), AUDIO, result, lambda r, a, t: check.to_json(),  # type: ignore[arg-type]
                     after)
    with db.read() as s:
        return s.get_one(Transmission, tx_id)


def test_a_station_heard_again_is_taken_unsure_and_continued(db: Database, example_config: Config) -> None:
    cfg = on(example_config)
    t0 = datetime(2026, 11, 20, 7, 0, tzinfo=WIB)
    first, cont = _tx(db, t0, 12.0), _tx(db, t0 + timedelta(seconds=15))
    r = _store(db, cfg, first, CASES[0][2], NameCheck("camat perharajar", "Pahae Jae", 5.2, "Tarutung"))
    assert (r.station, r.identity_source, r.identity_confidence) == ("Pahae Jae", "voice",
                                                                    identify.NAME_CHECK_CONFIDENCE)
    assert cfg.report.review_below > identify.NAME_CHECK_CONFIDENCE
    assert "asked again, hears 'camat perharajar' as Pahae Jae (5.2 ahead of Tarutung)" in r.identity_reason
    with db.read() as s:
        assert s.query(TranscriptRow).filter_by(transmission_id=first).one().name_check["best"] == "Pahae Jae"
    c = _store(db, cfg, cont, "Tambahan, longsor dibesasi langkitan, jalan tertutup, ganti.", None)
    assert (c.station, c.identity_source) == ("Pahae Jae", "continuation")


def test_a_check_is_ignored_when_off_unsure_or_of_an_unknown_station(db: Database,
                                                                     example_config: Config) -> None:
    cfg, off = on(example_config), example_config
    t0 = datetime(2026, 11, 20, 8, 0, tzinfo=WIB)
    cases = [(NameCheck("camat perharajar", "Pahae Jae", 5.2, "Tarutung"), off, None),
             (NameCheck("camat perharajar", "Pahae Julu", 1.4, "Pagaran"), cfg,
              "hears no station clearly in 'camat perharajar' (Pahae Julu only 1.4 ahead of Pagaran)"),
             (NameCheck("camat perharajar", "Sipirok", 9.0, "Tarutung"), cfg, None)]  # not configured
    for i, (c, conf, said_why) in enumerate(cases):
        r = _store(db, conf, _tx(db, t0 + timedelta(minutes=i)), CASES[0][2], c)
        assert r.station is None, c
        if said_why:
            assert said_why in r.identity_reason
        else:
            assert "asked again" not in r.identity_reason


def test_the_reason_reads_in_both_languages() -> None:
    reason = Reason("name_check", {"phrase": "camat perharajar", "station": "Pahae Jae", "margin": 5.2,
                                   "other": "Tarutung"})
    assert say(reason, "en") == ("the recogniser, asked again, hears 'camat perharajar' as Pahae Jae "
                                 "(5.2 ahead of Tarutung)")
    assert say(reason, "id") == ("pengenal suara, ditanya ulang, mendengar 'camat perharajar' sebagai "
                                 "Pahae Jae (unggul 5.2 atas Tarutung)")
    unsure = Reason("name_check_unsure", {"phrase": "camat perharajar", "station": "Pahae Julu",
                                          "margin": 1.4, "other": "Pagaran"})
    assert say(unsure, "id") == ("pengenal suara, ditanya ulang, tidak jelas mendengar stasiun dalam "
                                 "'camat perharajar' (Pahae Julu hanya unggul 1.4 atas Pagaran)")
    assert REVIEW_TEXT["station"].startswith("stasiun kurang yakin")



def test_the_second_look_runs_only_where_it_can_help_and_never_fails_the_transcript(
        db: Database, example_config: Config, caplog: pytest.LogCaptureFixture) -> None:
    cfg = on(example_config)
    after = lambda s, t: identify.reidentify(s, t, cfg)  # noqa: E731
    asked: list[str] = []

    def check(rec: object, audio: np.ndarray, result: Transcript) -> dict[str, object] | None:
        asked.append(result.text)
        return NameCheck("camat perharajar", "Pahae Jae", 9.0, "Tarutung").to_json()

    t0 = datetime(2026, 11, 20, 9, 0, tzinfo=WIB)
    # the station is already known by ANI: no second look
    with_ani = _tx(db, t0)
    with db.write() as s:
        tx = s.get_one(Transmission, with_ani)
        tx.ani = "101"
        identify.apply(s, tx, cfg)
    result = heard(CASES[0][2])
    store_transcript(db, with_ani, _Rec(), result, "live", after=after)  # type: ignore[arg-type]
    check_stored(db, with_ani, _Rec(), AUDIO, result, check, after)  # type: ignore[arg-type]
    assert asked == [] and _name_check(db, with_ani) is None
    # the transcript was replaced before the answer came: it is not stored on the new words
    other = _tx(db, t0 + timedelta(minutes=1))
    store_transcript(db, other, _Rec(), heard("camat perharajar ganti"), "live")  # type: ignore[arg-type]
    check_stored(db, other, _Rec(), AUDIO, result, check, after)  # type: ignore[arg-type]
    assert asked == [result.text] and _name_check(db, other) is None
    # a check that fails is logged; the transcript stands
    failing = _tx(db, t0 + timedelta(minutes=2))
    store_transcript(db, failing, _Rec(), result, "live", after=after)  # type: ignore[arg-type]

    def broken(rec: object, audio: np.ndarray, result: Transcript) -> dict[str, object] | None:
        raise RuntimeError("engine gone")

    check_stored(db, failing, _Rec(), AUDIO, result, broken, after)  # type: ignore[arg-type]
    assert "second look at the transcript failed: engine gone" in caplog.text
    with db.read() as s:
        row = s.query(TranscriptRow).filter_by(transmission_id=failing, current=True).one()
        assert row.text == result.text


def _name_check(db: Database, tx_id: int) -> object:
    with db.read() as s:
        return s.query(TranscriptRow).filter_by(transmission_id=tx_id, current=True).one().name_check
