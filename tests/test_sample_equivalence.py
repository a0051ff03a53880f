"""The restructuring changed no output: the shared sample through the command line, before and after.

This is the equivalence check issue 14 asks for, not a truth test (tests/test_sample_channel.py
checks the same sample against its generator's truth). ``tests/data/sample_outputs/`` was written
ONCE by ``tests/data/make_sample_outputs.py`` running the code of commit a0f0df6, checked out into a
temporary directory, before the layout change (gateway/identification/, gateway/cli/,
gateway/timeutil.py) and the later splits; here the same function runs the current code. What
differs between two runs of the same code (the draft's build time, the Ogg files' sha256, which
carry a random stream serial) is blanked on both sides.

A deliberate change of behaviour (a new report field, a new reason text) is expected to fail this
test: regenerate the files with the new code and say so in the commit.
"""

from __future__ import annotations

import json
import os
import sys

import pytest

from conftest import DATA, REPO

sys.path.insert(0, str(DATA))
from make_sample_outputs import produce

EXPECTED = DATA / "sample_outputs"


@pytest.fixture(scope="module")
def outputs() -> dict[str, object]:
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), old) if p)  # this checkout's code
    try:
        return produce(REPO / "config" / "tapanuli-utara.toml")
    finally:
        if old is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = old


def test_every_expected_output_is_produced() -> None:
    names = {p.name for p in EXPECTED.iterdir()}
    assert names == {f"{m}-{w}" for m in ("none", "fake") for w in
                     ("export.json", "checkins.json", "compliance.json", "report.json", "report.csv",
                      "identify.txt")}


@pytest.mark.parametrize("name", sorted(p.name for p in EXPECTED.iterdir()))
def test_output_unchanged(outputs: dict[str, object], name: str) -> None:
    got = outputs[name.replace("-", "/", 1)]
    text = (EXPECTED / name).read_text()
    want = text if name.endswith((".txt", ".csv")) else json.loads(text)
    if name.endswith("export.json"):  # keys added since the recording (issue 15): their values first
        assert isinstance(got, list)
        for row in got:
            for key, value in ADDED_SINCE.items():
                assert row.pop(key) == value, (key, row)
    assert got == want


#: Export keys added after the expected outputs were recorded, with the value the sample must get
#: (no ``gateway.id``/``channel.id`` configured: the defaults).
ADDED_SINCE = {"gateway_id": "gw1", "channel_id": "ch1"}
