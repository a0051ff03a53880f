"""Indonesian number words: round trips against num2words, recogniser spellings, digit-by-digit reads."""

from __future__ import annotations

import random

import pytest

from gateway.report.numbers_id import (
    numeral_value,
    parse_number,
    read_digits,
    scan_numbers,
    split_number_text,
    words_to_number,
)

from conftest import need


@pytest.fixture(scope="module")
def say():
    """num2words in Indonesian: the reference spelling (a test-only dependency)."""
    try:
        from num2words import num2words
    except ImportError:
        need("num2words", "pip install num2words (test dependency)")
    return lambda n: num2words(n, lang="id")


def test_round_trip_0_to_10000(say) -> None:
    wrong = {n: say(n) for n in range(10_001) if words_to_number(say(n)) != n}
    assert not wrong


def test_round_trip_random_up_to_a_billion(say) -> None:
    rng = random.Random(20261120)
    samples = [rng.randrange(10**9 + 1) for _ in range(5000)] + [10**6, 10**9, 999_999_999, 1_000_001]
    wrong = {n: say(n) for n in samples if words_to_number(say(n)) != n}
    assert not wrong


def test_round_trip_with_split_se_forms(say) -> None:
    """Recognisers split the se- words: "se belas", "se ratus", "se ribu"."""
    rng = random.Random(7)
    for n in [11, 100, 111, 1000, 11_000, 111_111, *(rng.randrange(10**7) for _ in range(500))]:
        text = say(n)
        for whole in ("sebelas", "sepuluh", "seratus", "seribu"):
            text = text.replace(whole, "se " + whole[2:])
        assert words_to_number(text) == n, text


def test_round_trip_digits_with_thousands_dots() -> None:
    rng = random.Random(3)
    for n in [0, 7, 999, 1000, 60_000, 1_200_000, *(rng.randrange(10**9) for _ in range(500))]:
        assert words_to_number(f"{n:,}".replace(",", ".")) == n
        assert words_to_number(str(n)) == n


def test_decimals_round_trip(say) -> None:
    for value in (0.5, 1.5, 2.25, 12.5, 0.05):
        tokens = split_number_text(say(value))
        assert parse_number(tokens, 0) == (value, len(tokens)), say(value)


@pytest.mark.parametrize(("text", "value"), [
    ("dua belas", 12), ("enam puluh ribu", 60_000), ("seratus lima", 105), ("sebelas ribu", 11_000),
    ("satu juta dua ratus ribu", 1_200_000), ("sejuta", 1_000_000), ("sepuluh", 10), ("sebelas", 11),
    ("seratus", 100), ("seribu", 1000), ("se belas ribu", 11_000), ("se-belas", 11), ("satu ratus", 100),
    ("dua puluh tiga", 23), ("tujuh belas ribu lima ratus", 17_500), ("seribu satu", 1001),
    ("seratus dua puluh lima ribu", 125_000), ("dua miliar", 2_000_000_000), ("satu milyar", 10**9),
    ("12", 12), ("60.000", 60_000), ("60,000", 60_000), ("11 ribu", 11_000), ("60rb", 60_000),
    ("60 rb", 60_000), ("15k", 15_000), ("2jt", 2_000_000), ("1,5 juta", 1_500_000), ("Rp", None),
    ("2 juta 500 ribu", 2_500_000), ("dua setengah juta", 2_500_000), ("setengah juta", 500_000),
    ("sebelas ribuan", 11_000), ("ribuan", None), ("puluhan", None), ("tuju", 7), ("enam puruh ribu", 60_000),
    ("lima rebu", 5000), ("nol", 0), ("satu nol satu", 101), ("nol lima", 5), ("satu dua", None),
    ("delapan enam", None), ("setengah", None), ("dua belas orang", None), ("", None),
])
def test_words_to_number(text: str, value: int | None) -> None:
    assert words_to_number(text) == value


@pytest.mark.parametrize(("text", "i", "expected"), [
    ("setengah kilo", 0, (0.5, 1)),
    ("satu setengah juta", 0, (1_500_000, 3)),
    ("satu setengah", 0, (1.5, 2)),
    ("satu koma lima", 0, (1.5, 3)),
    ("tujuh rumah terendam", 0, (7, 1)),
    ("harga beras sebelas ribu rupiah", 2, (11_000, 2)),
    ("lima ribu dua ribu", 0, (5000, 2)),  # a scale must fall: two numbers
    ("lima ribu dua ribu", 2, (2000, 2)),
    ("seratus lima rumah", 0, (105, 2)),
    ("dua belas KK atau empat puluh lima jiwa", 0, (12, 2)),
    ("dua belas KK atau empat puluh lima jiwa", 4, (45, 3)),
    ("Dua Belas Ribu", 0, (12_000, 3)),
    ("rumah", 0, None),
    ("belas", 0, None),
    ("dua", 5, None),
])
def test_parse_number(text: str, i: int, expected: tuple | None) -> None:
    assert parse_number(text.split(), i) == expected


def test_digit_by_digit_rule() -> None:
    """Two bare digits are a range or a code: nothing; three or more (or "nol ...") read one by one."""
    assert parse_number("satu dua".split(), 0) is None
    assert parse_number("dua tiga rumah".split(), 0) is None
    assert parse_number("satu nol satu".split(), 0) == (101, 3)
    assert parse_number("nol delapan satu dua".split(), 0) == (812, 4)
    assert parse_number("satu dua".split(), 0, digit_by_digit=True) == (12, 2)
    assert parse_number("1 0 1".split(), 0) == (101, 3)
    assert read_digits("nol delapan kosong satu".split(), 0) == ("0801", 4)
    assert read_digits("nol delapan dua belas tiga".split(), 0) == ("08123", 5)
    assert read_digits("satu dua ribu".split(), 0) == ("1", 1)
    assert read_digits("rumah".split(), 0) is None
    # a digit followed by belas/puluh/ratus is part of a number, not of a digit run
    assert parse_number("tiga dua puluh".split(), 0) == (3, 1)
    assert parse_number("tiga dua puluh".split(), 1) == (20, 2)


def test_scan_numbers_skips_ranges_and_finds_the_rest() -> None:
    tokens = "dua tiga rumah rusak dan lima belas rumah terendam pukul 60.000 satu nol satu".split()
    assert scan_numbers(tokens) == [(5, 7, 15), (10, 11, 60_000), (11, 14, 101)]
    assert scan_numbers([]) == []
    assert scan_numbers(["dua", "tiga"]) == []


def test_split_number_text() -> None:
    assert split_number_text("Se-belas ribu, Rupiah.") == ["se", "belas", "ribu", "rupiah"]
    assert split_number_text(" 60.000. ") == ["60.000"]


def test_a_run_of_digits_too_long_for_a_count_is_no_number() -> None:
    """A corrected transcript holding thousands of digits (typed or pasted) must not break the
    extractor (Python refuses int() of more than 4300 digits): it is simply not a quantity."""
    from gateway.report.extract import extract

    assert numeral_value("1" * 5000) is None and numeral_value("1" * 19) is None
    assert numeral_value("123456789012345678") == (123456789012345678, 1)  # 18 digits: still read
    ex = extract("banjir " + "1" * 5000 + " rumah terendam")
    assert [i.category for i in ex.incidents] == ["banjir"] and not ex.incidents[0].counts
