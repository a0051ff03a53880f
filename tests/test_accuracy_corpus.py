"""The accuracy corpus generator (gateway/sim/morning.py): its truth is what it says.

The truth is checked against the rendered words (the scenario text), against hand-written
Indonesian numbers, against the issue's figure for the gazetteer (252 desa under 12.02), and
against the shipped config; no figure here was produced by the code under test.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import pytest

from gateway.sim import morning as m
from gateway.sim.channel import HISS_DBFS, render, validate

from conftest import REPO

ALL = m.TUNE + m.HELDOUT + m.HELDOUT2 + m.HELDOUT3 + m.HELDOUT4 + m.HELDOUT5


@pytest.fixture(scope="module")
def mornings() -> dict[int, dict]:
    return {seed: m.morning(seed) for seed in ALL}


@pytest.mark.parametrize(("n", "words"), [
    (1, "satu"), (10, "sepuluh"), (11, "sebelas"), (17, "tujuh belas"), (20, "dua puluh"),
    (45, "empat puluh lima"), (100, "seratus"), (115, "seratus lima belas"), (1000, "seribu"),
    (1500, "seribu lima ratus"), (11000, "sebelas ribu"), (12500, "dua belas ribu lima ratus"),
    (48500, "empat puluh delapan ribu lima ratus"), (211000, "dua ratus sebelas ribu"),
])
def test_numbers_are_said_in_indonesian(n: int, words: str) -> None:
    assert m.say(n) == words


def test_gazetteer_has_the_252_desa_of_tapanuli_utara_under_15_kecamatan() -> None:
    with open(m.gazetteer_path(), encoding="utf-8", newline="") as f:  # read here, not by the loader
        rows = list(csv.reader(f))
    kecamatan = [code for code, _ in rows if code.count(".") == 2]
    desa = {code: name for code, name in rows if code.count(".") == 3}
    assert len(kecamatan) == 15 and len(desa) == 252  # the issue's figure
    names = set(desa.values())
    assert "Sitampurung" in names and "Onan Runggu I" in names
    assert {p for k in kecamatan for p in m.places(k)} <= {  # the corpus names only real desa
        " ".join(n.split()[:-1]) if n.split()[-1] in ("I", "II", "III", "IV") else n for n in names}


def test_mornings_are_deterministic_per_seed_and_differ_between_seeds(mornings: dict[int, dict]) -> None:
    assert m.morning(ALL[0]) == mornings[ALL[0]] and m.morning(ALL[-1]) == mornings[ALL[-1]]
    texts = {seed: [t.get("text") for t in mo["transmissions"]] for seed, mo in mornings.items()}
    assert len({tuple(v) for v in texts.values()}) == len(ALL)


def test_tune_and_heldout_share_no_seed_and_no_sentence_pattern(mornings: dict[int, dict]) -> None:
    assert len(ALL) >= 8 and not set(m.TUNE) & set(m.HELDOUT) and not set(m.HELDOUT2) & {*m.TUNE, *m.HELDOUT}
    assert not set(m.HELDOUT3) & {*m.TUNE, *m.HELDOUT, *m.HELDOUT2}
    assert not set(m.HELDOUT4) & {*m.TUNE, *m.HELDOUT, *m.HELDOUT2, *m.HELDOUT3}
    assert not set(m.HELDOUT5) & {*m.TUNE, *m.HELDOUT, *m.HELDOUT2, *m.HELDOUT3, *m.HELDOUT4}
    held = m.TEMPLATES["heldout"]

    def patterns(t: dict) -> set[str]:
        out = set(t["open"] + t["mid"] + t["patrol"])
        out |= {t["price"], t["need"], t["close"], t["hold"], t["cue"]}
        out |= {s for v in t["status"].values() for s in v} | set(t["incident"].values())
        return out

    for name in ("tune", "tune2"):
        assert not patterns(m.TEMPLATES[name]) & patterns(held), name
    assert not patterns(m.TEMPLATES["tune"]) & patterns(m.TEMPLATES["tune2"])
    for name in ("tune", "tune2", "heldout"):  # the second held-out set shares no pattern with any
        assert not patterns(m.TEMPLATES[name]) & patterns(m.TEMPLATES["heldout2"]), name
    for name in ("tune", "tune2", "heldout", "heldout2"):  # nor the third
        assert not patterns(m.TEMPLATES[name]) & patterns(m.TEMPLATES["heldout3"]), name
    for name in ("tune", "tune2", "heldout", "heldout2", "heldout3"):  # nor the fourth
        assert not patterns(m.TEMPLATES[name]) & patterns(m.TEMPLATES["heldout4"]), name
    for name in ("tune", "tune2", "heldout", "heldout2", "heldout3", "heldout4"):  # nor the fifth
        assert not patterns(m.TEMPLATES[name]) & patterns(m.TEMPLATES["heldout5"]), name
    for seed, mo in mornings.items():
        assert mo["templates"] == ("heldout" if seed in m.HELDOUT else "heldout2" if seed in m.HELDOUT2
                                   else "heldout3" if seed in m.HELDOUT3
                                   else "heldout4" if seed in m.HELDOUT4
                                   else "heldout5" if seed in m.HELDOUT5
                                   else "tune2" if seed >= 105 else "tune")


def _said(text: str, phrase: str) -> bool:
    return re.search(rf"\b{re.escape(phrase.lower())}\b", text.lower()) is not None


def test_every_value_in_the_truth_is_in_the_words(mornings: dict[int, dict]) -> None:
    names = {n for n, _, _ in m.stations(REPO / "config" / "tapanuli-utara.toml")}
    codes = {n: c for n, c, _ in m.stations()}
    for mo in mornings.values():
        validate(mo, f"morning {mo['seed']}")
        said_by = set()
        for t in mo["transmissions"]:
            if t.get("kind", "speech") != "speech":
                continue
            text = m.spoken_text(t)
            if t.get("station"):
                assert t["station"] in names and t["speaker"] == "camat"
                said_by.add(t["station"])
                # a camat names himself, a continuation does not (and has no ANI)
                assert _said(text, f"Camat {t['station']}") != t["continues"], text
                if t["continues"]:
                    assert "ani" not in t
            else:
                assert t["speaker"] == "patrol" and _said(text, "Kecamatan")
                assert not re.search(r"\bCamat\b", text)
            for inc in t["incidents"]:
                assert _said(text, f"Desa {inc['place']}"), (inc, text)
                assert inc["place"] in m.places(codes[t["station"]])
                for n in inc["counts"].values():
                    assert _said(text, m.say(n)), (inc, text)
            for p in t["prices"]:
                assert any(_said(sent, p["commodity"]) and _said(sent, f"{m.say(p['rupiah_per_kg'])} rupiah")
                           for sent in text.split(".")), (p, text)
            for item in t["needs"]:
                assert _said(text, item), (item, text)
            assert bool(t["status"]) == any(_said(text, w) for w in ("aman", "waspada", "siaga"))
            if t["status"]:
                assert _said(text, t["status"])
        assert sorted(names - said_by) == mo["missing"]


def test_the_corpus_has_every_hard_case_the_issue_names(mornings: dict[int, dict]) -> None:
    speech = [t for mo in mornings.values() for t in mo["transmissions"] if "text" in t]
    conts = [t for t in speech if t["continues"]]
    assert any(re.match(r"Tambahan", t["text"]) for t in conts)          # with a cue
    assert any(not re.match(r"Tambahan", t["text"]) for t in conts)      # without one
    assert any(t.get("speaker") == "patrol" for t in speech)
    assert any(re.search(r"^\w.*, \w+ .*Camat", m.spoken_text(t).split(".")[0]) for t in speech)  # mid
    assert len({t["voice"] for t in speech}) >= 8
    assert {t.get("tail", True) for t in speech} == {True, False}
    assert any("hum_dbfs" in t for t in speech) and any("hum_dbfs" not in t for t in speech)
    assert min(t["level_dbfs"] for t in speech) < -26 and max(t["level_dbfs"] for t in speech) > -15
    assert len({t["hiss_dbfs"] for t in speech}) > 10 and len({t["ani_twist_db"] for t in speech}) > 10
    assert {t.get("ani_at") for t in speech} >= {"bot", "eot", None}
    for mo in mornings.values():  # back-to-back calls every morning
        assert any(0.5 <= t["then_gap_s"] <= 1.0 for t in mo["transmissions"][:-1])
    breaks = [int(b) for t in speech for b in re.findall(r'<break time="(\d+)ms"/>', t["text"])]
    assert breaks and max(breaks) < m.HANG_S * 1000
    assert all(t.get("ssml") for t in speech if "<break" in t["text"])


def test_a_rendered_call_puts_its_words_where_the_truth_says(tmp_path: Path) -> None:
    """One short morning made of a real generated call: speech lies inside its transmission."""
    mo = m.morning(m.TUNE[0])
    call = next(t for t in mo["transmissions"] if "text" in t and len(t["text"]) < 90)
    audio, truth = render({**mo, "transmissions": [call]})
    item = truth["transmissions"][0]
    rate = truth["rate"]
    assert item["start_s"] < item["speech_start_s"] < item["speech_end_s"] < item["end_s"]
    speech = audio[int(item["speech_start_s"] * rate):int(item["speech_end_s"] * rate)]
    before = audio[: int(item["start_s"] * rate)]
    assert 10 * math.log10(float((speech**2).mean())) > HISS_DBFS["speech"] + 10
    assert float((before**2).mean()) < float((speech**2).mean()) / 1e4


def test_the_extractor_reads_exactly_the_truth_from_the_exact_words(mornings: dict[int, dict]) -> None:
    """The report rules on the generator's words (no recogniser): every status, incident (category,
    place, counts), price and need of every call, nothing more. The tuning half only: the held-out
    half must never become something rules are fitted to (bench_accuracy prints its figure)."""
    from gateway.report.extract import extract

    def norm(s: str | None) -> str:
        return " ".join((s or "").lower().replace("-", " ").split())

    for seed in m.TUNE:
        for t in mornings[seed]["transmissions"]:
            if "text" not in t:
                continue
            ex = extract(m.spoken_text(t))
            assert ex.status == t["status"], t["text"]
            got = sorted((i.category, norm(i.place), sorted(i.counts.items()))
                         for i in ex.incidents if i.category != "harga")
            want = sorted((i["category"], norm(i["place"]), sorted(i["counts"].items()))
                          for i in t["incidents"])
            assert got == want, t["text"]
            assert sorted((p.commodity, p.rupiah_per_kg) for p in ex.prices) == sorted(
                (p["commodity"], p["rupiah_per_kg"]) for p in t["prices"]), t["text"]
            assert sorted(n.item for n in ex.needs) == sorted(t["needs"]), t["text"]
