"""Property-based tests (hypothesis), example counts kept modest for the default suite:
the config parser, the command line's date/id types, Indonesian number words against num2words,
and the segmenter against a model of what it must do."""

from __future__ import annotations

import argparse
import contextlib
import itertools
import string
from datetime import date

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gateway.cli.common import MAX_DATE, MAX_ID, MIN_DATE, iso_date, record_id
from gateway.config import ConfigError, documented_keys, parse
from gateway.report.numbers_id import words_to_number
from gateway.segmenter import Segmenter, TxInfo

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- config ------------------------------------------------------------------------------------
KEYS = [k for k in documented_keys() if "[]" not in k]
scalars = st.one_of(
    st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["vox", "serial", "12:00", "Asia/Jakarta", "whisper", "101", "", "\n", "\x00"]),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(string.ascii_lowercase, min_size=1, max_size=5), inner,
                                        max_size=3), max_leaves=6)


def _toml(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(repr(v), repr(v))
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}"
                             for c in v) + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    assert isinstance(v, dict)
    return "{" + ", ".join(f"{k} = {_toml(x)}" for k, x in v.items()) + "}"


@FAST
@given(st.dictionaries(st.sampled_from([*KEYS, "bogus.key", "stations"]), values, max_size=4))
def test_config_parser_raises_nothing_but_config_error(assignments: dict[str, object]) -> None:
    text = "".join(f"{k} = {_toml(v)}\n" for k, v in assignments.items())
    try:
        cfg = parse(text, "prop.toml")
    except ConfigError as e:
        assert "\n" not in str(e) and str(e).startswith("prop.toml")
        return
    for k, v in assignments.items():  # accepted: every value is as written, and sane
        got = cfg
        for part in k.split("."):
            got = getattr(got, part)
        if isinstance(got, float):
            assert np.isfinite(got) and got == float(v)  # type: ignore[arg-type]


@FAST
@given(st.text(max_size=200))
def test_config_parser_on_arbitrary_text(text: str) -> None:
    with contextlib.suppress(ConfigError):
        parse(text, "prop.toml")


# --- command-line types ------------------------------------------------------------------------
@FAST
@given(st.dates())
def test_iso_date_accepts_exactly_the_supported_range(d: date) -> None:
    text = d.isoformat()
    if MIN_DATE <= d <= MAX_DATE:
        assert iso_date(text) == d
    else:
        with pytest.raises(argparse.ArgumentTypeError, match="2000-01-01 to 2099-12-31"):
            iso_date(text)


@FAST
@given(st.text(max_size=30))
def test_iso_date_on_arbitrary_text(text: str) -> None:
    try:
        d = iso_date(text)
    except argparse.ArgumentTypeError:
        return
    assert d.isoformat() == text and MIN_DATE <= d <= MAX_DATE


@FAST
@given(st.integers(min_value=-(2**80), max_value=2**80))
def test_record_id_range(n: int) -> None:
    if 1 <= n <= MAX_ID:
        assert record_id(str(n)) == n
    else:
        with pytest.raises(argparse.ArgumentTypeError):
            record_id(str(n))


@FAST
@given(st.text(max_size=25))
def test_record_id_on_arbitrary_text(text: str) -> None:
    try:
        n = record_id(text)
    except argparse.ArgumentTypeError:
        return
    assert 1 <= n <= MAX_ID and str(n) == text.strip().lstrip("0")


# --- Indonesian numbers ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def say():
    num2words = pytest.importorskip("num2words").num2words
    return lambda n: num2words(n, lang="id")


@settings(max_examples=300, deadline=None)
@given(n=st.integers(min_value=0, max_value=10**12 - 1))
def test_indonesian_words_round_trip_against_num2words(say, n: int) -> None:
    assert words_to_number(say(n)) == n


# --- segmenter ---------------------------------------------------------------------------------
FRAME_S = 0.02


class Sink:
    def __init__(self) -> None:
        self.closed: list[TxInfo] = []
        self.open: TxInfo | None = None

    def on_open(self, tx: TxInfo) -> None:
        assert self.open is None, "two transmissions open at once"
        self.open = tx

    def on_audio(self, tx: TxInfo, samples: np.ndarray) -> None:
        assert tx is self.open

    def on_close(self, tx: TxInfo) -> None:
        assert tx is self.open
        self.closed.append(tx)
        self.open = None


runs = st.lists(st.tuples(st.booleans(), st.integers(min_value=1, max_value=400)), min_size=1, max_size=12)


@settings(max_examples=120, deadline=None)
@given(runs=runs, hang=st.sampled_from([0.0, 0.3, 1.5]), max_s=st.sampled_from([5.0, 8.0]),
       min_s=st.sampled_from([0.0, 1.0]))
@example(runs=[(True, 176), (False, 74), (True, 1)], hang=1.5, max_s=5.0, min_s=0.0)  # max_s in a pause
@example(runs=[(True, 1), (True, 249), (True, 2)], hang=0.0, max_s=5.0, min_s=0.0)
def test_segmenter_transmissions_are_ordered_disjoint_and_cover_every_open_stretch(
        runs: list[tuple[bool, int]], hang: float, max_s: float, min_s: float) -> None:
    from gateway.config import SegmenterConfig

    cfg = SegmenterConfig(pre_roll_s=0.0, hang_s=hang, min_s=min_s, max_s=max_s, tail_trim=False)
    sink = Sink()
    seg = Segmenter(cfg, 16000, sink, 0.0, FRAME_S)
    frame = np.zeros(320, np.float32)
    t0 = 1.7e9
    opens: list[tuple[float, float]] = []  # the open stretches put in (the truth)
    i = 0
    for is_open, n in runs:
        if is_open:
            opens.append((t0 + i * FRAME_S, t0 + (i + n) * FRAME_S))
        for _ in range(n):
            seg.push(frame, t0 + i * FRAME_S, is_open)
            i += 1
    seg.flush()
    txs = sink.closed
    eps = 1e-3
    for a, b in itertools.pairwise(txs):
        assert a.end is not None and a.end <= b.start + eps, "overlap or out of order"
    for tx in txs:
        assert tx.end is not None and tx.start <= tx.end
        assert tx.duration <= max_s + eps, "longer than max_s"
        if tx.stuck:
            assert tx.duration == pytest.approx(max_s, abs=FRAME_S)
        if tx.stuck or tx.duration > min_s + eps:
            assert not tx.kerchunk
        elif tx.duration < min_s - eps:
            assert tx.kerchunk
    # merge stretches separated by less than the hang time, as the segmenter must
    merged: list[list[float]] = []
    for a, b in opens:
        if merged and a - merged[-1][1] < max(hang, FRAME_S / 2) - eps:  # touching, or within hang
            merged[-1][1] = b
        else:
            merged.append([a, b])
    stuck_until = -1.0
    for a, b in merged:
        inside = [tx for tx in txs if tx.start < b - eps and tx.end > a + eps]  # type: ignore[operator]
        if a < stuck_until:  # waiting for the channel to close after a stuck squelch
            continue
        assert inside, f"open stretch {a - t0:.2f}..{b - t0:.2f} s lost"
        covered = sum(min(tx.end, b) - max(tx.start, a) for tx in inside)  # type: ignore[type-var]
        if not any(tx.stuck for tx in inside):
            assert covered == pytest.approx(b - a, abs=eps), "part of an open stretch is missing"
            assert len(inside) == 1, "an open stretch split in two"
        else:
            stuck_until = b + hang + eps
