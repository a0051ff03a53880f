"""Configuration: every key documented, one-line errors naming key and value, the example config."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.config import ConfigError, documented_keys, load, parse

REPO = Path(__file__).resolve().parent.parent


def test_every_key_is_documented() -> None:
    doc = (REPO / "docs" / "configuration.md").read_text()
    documented = set(re.findall(r"^\| `([a-z0-9_\[\].]+)` \|", doc, flags=re.M))
    missing = [k for k in documented_keys() if k not in documented]
    assert not missing, f"undocumented configuration keys: {missing}"
    stale = sorted(documented - set(documented_keys()))
    assert not stale, f"docs/configuration.md documents keys that do not exist: {stale}"


def test_defaults_without_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HT_GATEWAY_CONFIG", raising=False)
    cfg = load(None)
    assert cfg.gateway.timezone == "Asia/Jakarta"
    assert cfg.audio.device == "" and cfg.stations == ()
    assert cfg.segmenter.hang_s == 1.5 and cfg.segmenter.pre_roll_s == 0.5


def test_env_variable_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "c.toml"
    p.write_text('[segmenter]\nhang_s = 2\n')
    monkeypatch.setenv("HT_GATEWAY_CONFIG", str(p))
    assert load(None).segmenter.hang_s == 2.0


@pytest.mark.parametrize("text, needle", [
    ("[segmenter]\nhang_s = 'lama'\n", "segmenter.hang_s = 'lama': expected a number"),
    ("[segmenter]\nhang_s = 99\n", "segmenter.hang_s = 99.0: expected 0..10 s"),
    ("[segmenter]\nhang = 1\n", "unknown key segmenter.hang"),
    ("[squelch]\ntype = 'magic'\n", "squelch.type = 'magic'"),
    ("[squelch]\ntype = 'serial'\n", "squelch.serial.port = ''"),
    ("[squelch.serial]\npin = 'dtr'\n", "squelch.serial.pin = 'dtr'"),
    ("[squelch.vox]\nopen_db = 5\nclose_db = 6\n", "squelch.vox.close_db = 6.0"),
    ("[gateway]\ntimezone = 'Mars/Olympus'\n", "gateway.timezone = 'Mars/Olympus'"),
    ("[audio]\nrate = 12345\n", "audio.rate = 12345"),
    ("[audio]\nchannel = true\n", "audio.channel = True: expected a whole number"),
    ("[[stations]]\ncode = '12.02.01'\n", "stations[0].name is required"),
    ("[[stations]]\nname = 'A'\nani = ['12']\n", "stations[0].ani = '12': expected 3-5 DTMF digits"),
    ("[[stations]]\nname = 'A'\nani = ['101']\n[[stations]]\nname = 'B'\nani = ['101']\n",
     "stations[1].ani = '101': already used by A"),
    ("[[stations]]\nname = 'A'\n[[stations]]\nname = 'a'\n", "stations[1].name = 'a': duplicate"),
    ("[segmenter\n", "not valid TOML"),
    ("[asr.whisper]\nwindow_s = 2\n", "asr.whisper.window_s = 2.0: expected 0, or 3..25 s"),
    ("[dtmf]\nmin_tone_ms = 10\n", "dtmf.min_tone_ms = 10.0: must be >= 25"),
    ("[checkins]\non_time_until = '9 pagi'\n", "checkins.on_time_until = '9 pagi'"),
    ("[checkins]\non_time_until = '10:00'\nlate_until = '09:00'\n", "checkins.late_until = '09:00'"),
])
def test_bad_values_give_one_line_naming_key_and_value(text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse(text, "cfg.toml")
    msg = str(e.value)
    assert needle in msg and msg.startswith("cfg.toml") and "\n" not in msg


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=re.escape("nope.toml: config file not found")):
        load(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="cannot read config file"):
        load(tmp_path)  # a directory


def test_example_config_has_the_15_kecamatan(example_config) -> None:
    st = example_config.stations
    assert len(st) == 15
    for s in st:
        nn = s.code.rsplit(".", 1)[1]
        assert s.code == f"12.02.{nn}" and s.ani == (f"1{nn}",)
    by_name = {s.name: s for s in st}
    assert by_name["Tarutung"].ani == ("101",) and by_name["Sipahutar"].ani == ("112",)
    assert "Adian Koting" in by_name["Adiankoting"].aliases
    assert "Purba Tua" in by_name["Purbatua"].aliases
    assert "Siborong-borong" in by_name["Siborongborong"].aliases
