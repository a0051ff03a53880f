"""bench/accuracy_score.py counts what it says it counts: a hand-made truth, a hand-made perfect result,
and the same result with one known fault at a time (merge, split, wrong station, wrong values)."""

from __future__ import annotations

import copy
import sys
from typing import Any

from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
from accuracy_score import Stored, score_morning

TRUTH: dict[str, Any] = {"seed": 1, "missing": ["Muara"], "transmissions": [
    {"station": "Tarutung", "start_s": 2.0, "end_s": 10.0, "status": "siaga", "continues": False,
     "incidents": [{"category": "banjir", "place": "Hutauruk", "counts": {"rumah_terendam": 7}}],
     "prices": [{"commodity": "beras", "rupiah_per_kg": 11000}], "needs": ["terpal"]},
    {"station": "Tarutung", "start_s": 13.0, "end_s": 17.0, "status": None, "continues": True,
     "incidents": [{"category": "longsor", "place": "Parbubu", "counts": {}}], "prices": [], "needs": []},
    {"kind": "kerchunk", "start_s": 20.0, "end_s": 20.5},
    {"speaker": "patrol", "start_s": 21.3, "end_s": 26.0, "status": None, "incidents": [], "prices": [],
     "needs": [], "continues": False},
]}


def _stored() -> list[Stored]:
    return [Stored(1, 2.0, 10.1, "Tarutung", "...", False, False),
            Stored(2, 13.0, 17.0, "Tarutung", "...", False, False),
            Stored(3, 21.3, 26.2, None, "...", False, False)]


def _report() -> dict[str, Any]:
    inc = [{"category": "banjir", "place": "Hutauruk", "counts": {"rumah_terendam": 7}, "transmission_id": 1},
           {"category": "harga", "place": None, "counts": {"harga_beras_rp_per_kg": 11000},
            "transmission_id": 1},
           {"category": "longsor", "place": "Parbubu", "counts": {}, "transmission_id": 2}]
    return {"summary": {"missing": ["Muara"]}, "review": [], "stations": [
        {"station": "Tarutung", "situation": "siaga", "incidents": inc,
         "prices": [{"commodity": "beras", "rupiah_per_kg": 11000, "transmission_id": 1}],
         "needs": [{"item": "terpal", "transmission_id": 1}]},
        {"station": "Muara", "situation": None, "incidents": [], "prices": [], "needs": []}]}


def test_a_perfect_result_scores_perfect() -> None:
    sc = score_morning(TRUTH, _stored(), _report())
    assert (sc.speech, sc.cut_right, sc.merges, sc.splits, sc.not_stored) == (3, 3, 0, 0, 0)
    assert (sc.camat_calls, sc.attr_right, sc.attr_wrong, sc.attr_unknown) == (2, 2, 0, 0)
    assert (sc.other_calls, sc.other_attributed, sc.missing_exact) == (1, 0, 1)
    assert (sc.inc_truth, sc.inc_reported, sc.inc_matched, sc.place_exact, sc.counts_exact) == (2, 2, 2, 2, 1)
    assert (sc.price_exact, sc.price_truth, sc.need_exact, sc.status_exact) == (1, 1, 1, 1)
    assert (sc.wrong_values, sc.empty_speech) == (0, 0)


def test_a_merge_a_split_and_a_wrong_station_are_counted() -> None:
    merged = [Stored(1, 2.0, 17.0, "Tarutung", "...", False, False),
              Stored(3, 21.3, 23.0, "Muara", "...", False, False),
              Stored(4, 23.5, 26.0, None, "", True, False)]
    rep = _report()
    rep["summary"]["missing"] = []
    sc = score_morning(TRUTH, merged, rep)
    assert (sc.merges, sc.merges_no_end_mark, sc.splits, sc.cut_right) == (1, 0, 1, 0)
    assert (sc.other_attributed, sc.wrong_values, sc.wrong_flagged) == (1, 1, 0)
    assert sc.missing_exact == 0 and "Muara" in sc.missing_diff[0]
    assert (sc.missing_wrong, sc.missing_caveat) == (0, 0)  # Muara, missing, is not listed: no caveat
    assert (sc.empty_speech, sc.empty_flagged) == (1, 1)  # the patrol's best cover (id 4) is empty


def test_a_kecamatan_wrongly_missing_and_whether_the_report_said_it_was_unsure() -> None:
    stored = _stored()
    stored[1] = Stored(2, 13.0, 17.0, None, "...", False, False)  # Tarutung's second call: no station
    rep = _report()
    rep["summary"]["missing"] = ["Muara", "Tarutung"]  # as if Tarutung's calls were all unknown
    sc = score_morning(TRUTH, stored, rep)
    assert (sc.missing_exact, sc.missing_wrong, sc.missing_caveat) == (0, 1, 0)
    rep["review"] = [{"kind": "unknown_station", "transmission_id": 2, "station": None}]
    sc = score_morning(TRUTH, stored, rep)
    assert (sc.missing_exact, sc.missing_wrong, sc.missing_caveat) == (0, 1, 1)
    rep["review"] = [{"kind": "station", "transmission_id": 1, "station": "Tarutung"}]  # not unknown
    assert score_morning(TRUTH, stored, rep).missing_caveat == 0


def test_a_merge_after_a_radio_without_tail_or_eot_is_told_apart() -> None:
    truth = copy.deepcopy(TRUTH)
    truth["transmissions"][0]["tail"] = False
    merged = [Stored(1, 2.0, 17.0, "Tarutung", "...", False, False), *_stored()[2:]]
    assert score_morning(truth, merged, _report()).merges_no_end_mark == 1
    truth["transmissions"][0]["ani_at"] = "eot"  # an EOT ANI marks the end as well as a tail
    assert score_morning(truth, merged, _report()).merges_no_end_mark == 0


def test_wrong_values_and_whether_review_flagged_them() -> None:
    rep = copy.deepcopy(_report())
    st = rep["stations"][0]
    st["incidents"][0]["counts"] = {"rumah_terendam": 8}  # wrong count
    st["incidents"].append({"category": "kebakaran", "place": None, "counts": {}, "transmission_id": 2})
    st["prices"][0]["rupiah_per_kg"] = 1000  # wrong price
    rep["review"] = [{"kind": "price", "transmission_id": 1}, {"kind": "incident", "transmission_id": 2}]
    sc = score_morning(TRUTH, _stored(), rep)
    assert (sc.counts_exact, sc.price_exact, sc.inc_reported, sc.inc_matched) == (0, 0, 3, 2)
    # wrong: the count (tx 1, no incident flag on tx 1), the invented incident (tx 2, flagged),
    # the price (tx 1, flagged)
    assert (sc.wrong_values, sc.wrong_flagged) == (3, 2)


def test_the_bench_transcript_cache_decodes_each_audio_and_setting_once(tmp_path) -> None:
    import numpy as np
    from bench_accuracy import CachedRecognizer

    from gateway.asr.base import transcribe_all
    from gateway.asr.fake import FakeRecognizer

    rng = np.random.default_rng(1)
    audio = np.zeros(16000 * 3, np.float32)
    audio[8000:24000] = 0.3 * rng.standard_normal(16000)  # one loud second: one word
    inner = FakeRecognizer()
    direct = transcribe_all(FakeRecognizer(), audio)
    rec = CachedRecognizer(inner, tmp_path, "settings A")
    first, again = transcribe_all(rec, audio), transcribe_all(rec, audio)
    assert first == again == direct and direct.text == "kata1"
    assert (rec.misses, rec.hits, inner.runs) == (1, 1, ["filtered"])
    transcribe_all(rec, audio, unfiltered=True)  # the retry is its own entry
    transcribe_all(CachedRecognizer(inner, tmp_path, "settings B"), audio)  # so are other settings
    transcribe_all(rec, audio[:-1])  # and other audio
    assert inner.runs == ["filtered", "unfiltered", "filtered", "filtered"]
