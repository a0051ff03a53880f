"""Values the configuration must refuse at start with one line naming the key (a hostile tester's
findings): a malformed ``store.url``, a letter number pattern that reaches attributes or asks for a
huge width, a gazetteer that is missing or is no gazetteer, mail addresses that are none,
acknowledgement lists naming stations that are not configured, and a transmit output that is not
there (``config check``, like ``audio.device``).

Truth: the values written into the files here, the shipped Tapanuli Utara gazetteer (its "Huta
Raja"), and the number of 20 November 2026 counted by hand (day 324).
"""

from __future__ import annotations

import contextlib
import io
import logging
import shutil
import time
import wave
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from gateway.cli import main
from gateway.config import ConfigError, parse
from gateway.lexicon import correct
from gateway.lexicon.gazetteer import DATA
from gateway.report.letter import number

GAZETTEER = DATA / "12.02.csv"
STATIONS = ('[[stations]]\nname = "Tarutung"\ncode = "12.02.01"\nani = ["101"]\n'
            '[[stations]]\nname = "Sipoholon"\ncode = "12.02.04"\nani = ["104"]\n')
BASE = '[asr]\nengine = "none"\n'


def _refused(text: str, where: Path, needle: str) -> str:
    with pytest.raises(ConfigError) as e:
        parse(text, str(where))
    msg = str(e.value)
    assert needle in msg and "\n" not in msg and msg.startswith(str(where)), msg
    return msg


def _config_check(tmp_path: Path, text: str) -> tuple[int, str, list[str]]:
    """``ht-gateway --config F --data-dir D config check`` in-process: exit code, stdout, error lines."""
    cfg = tmp_path / "gateway.toml"
    cfg.write_text(BASE + text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["--config", str(cfg), "--data-dir", str(tmp_path / "data"), "config", "check"])
    assert "Traceback" not in err.getvalue()
    return rc, out.getvalue(), [ln for ln in err.getvalue().splitlines() if ": error: " in ln]


# --- 1. store.url ----------------------------------------------------------------------------------

@pytest.mark.parametrize("url, needle", [
    ("not a url", "store.url = 'not a url': not a database URL"),
    ("foo://host/db", "store.url = 'foo://host/db': unknown database 'foo'"),
    ("postgresql+psycopg://u:s3cret@h:port/db", "store.url = 'postgresql+psycopg://u:***@h:port/db'"),
    # a password holding "/" or "@" in a URL that does not parse: hidden all the same
    ("postgresql+psycopg://u:s3/cret@h:port/db", "store.url = 'postgresql+psycopg://u:***@h:port/db'"),
    ("postgresql+psycopg://u:s3cret@x@h:port/db", "store.url = 'postgresql+psycopg://u:***@h:port/db'"),
])
def test_a_malformed_store_url_is_one_line(tmp_path: Path, url: str, needle: str) -> None:
    msg = _refused(f'[store]\nurl = "{url}"\n', tmp_path / "g.toml", needle)
    assert "s3cret" not in msg
    rc, _, errors = _config_check(tmp_path, f'[store]\nurl = "{url}"\n')
    assert rc == 2 and len(errors) == 1 and needle in errors[0], errors


def test_good_store_urls_pass(tmp_path: Path) -> None:
    for url in ("", "sqlite:////tmp/x.sqlite3", "postgresql+psycopg://u:p@h/db", "postgresql://h/db"):
        assert parse(f'[store]\nurl = "{url}"\n', str(tmp_path / "g.toml")).store.url == url


# --- 2. report.letter.number_pattern ------------------------------------------------------------------

@pytest.mark.parametrize("pattern", ["{seq.__class__}", "{seq:>99999999}", "{seq!r}", "{seq[0]}", "{0}",
                                     "{}", "{year:03d}", "{seq}/{bulan}", "{seq", "seq}", "{" + "x" * 200])
def test_number_pattern_takes_plain_fields_only(tmp_path: Path, pattern: str) -> None:
    text = f"[report.letter]\nnumber_pattern = {pattern!r}\n".replace("'", '"')
    _refused(text, tmp_path / "g.toml", "report.letter.number_pattern = ")


def test_number_pattern_plain_fields_and_braces(tmp_path: Path) -> None:
    pattern = "{{{seq}}}/LAPSIT-{rev}/{day}.{month}/{month_roman}/{year}"
    cfg = parse(f'[report.letter]\nnumber_pattern = "{pattern}"\n', str(tmp_path / "g.toml"))
    assert number(cfg.report.letter.number_pattern, date(2026, 11, 20), 2) == "{324}/LAPSIT-2/20.11/XI/2026"
    assert number(pattern, date(2026, 11, 20), None) == "{324}/LAPSIT-1/20.11/XI/2026"  # a draft: rev 1


def test_a_stored_pattern_never_reaches_attributes_or_a_huge_width() -> None:
    """A report filed before the check carries its pattern: rendering it fills plain fields only."""
    t0 = time.monotonic()
    assert number("{seq:>99999999}/{year}", date(2026, 11, 20), 1) == "{seq:>99999999}/2026"
    assert number("{seq.__class__}", date(2026, 11, 20), 1) == "{seq.__class__}"
    assert time.monotonic() - t0 < 1.0


# --- 3. lexicon.gazetteer -------------------------------------------------------------------------------

def _wav(path: Path) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(bytes(range(256)) * 125)
    return path


def test_a_bad_gazetteer_is_refused_at_start(tmp_path: Path) -> None:
    where = tmp_path / "g.toml"
    (tmp_path / "other.csv").write_text("12,SUMATERA UTARA\n12.03,KAB. TAPANULI TENGAH\n", encoding="utf-8")
    cases = {
        "/nonexistent.csv": "lexicon.gazetteer = '/nonexistent.csv': /nonexistent.csv: no such file",
        str(_wav(tmp_path / "radio.wav")): "lexicon.gazetteer = ",
        str(tmp_path): "not a file",
        "other.csv": "no kabupaten 12.02",
    }
    for value, needle in cases.items():
        _refused(f'[lexicon]\ngazetteer = "{value}"\n' + STATIONS, where, needle)
    _refused(f'[lexicon]\ngazetteer = "{GAZETTEER}"\n[[stations]]\nname = "A"\n', where,
             "the stations' codes name no one kabupaten")
    rc, _, errors = _config_check(tmp_path, '[lexicon]\ngazetteer = "/nonexistent.csv"\n' + STATIONS)
    assert rc == 2 and len(errors) == 1 and "lexicon.gazetteer = '/nonexistent.csv'" in errors[0]


def test_a_good_gazetteer_corrects_and_a_lost_one_warns_once(tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    own = shutil.copyfile(GAZETTEER, tmp_path / "taput.csv")
    cfg = parse('[lexicon]\ngazetteer = "taput.csv"\n' + STATIONS, str(tmp_path / "g.toml"))
    sipoholon = cfg.stations[1]
    assert "Huta Raja" in correct.places_for(cfg, sipoholon).groups[0]
    correct._kabupaten.cache_clear()
    own.unlink()  # removed while the daemon runs
    with caplog.at_level(logging.WARNING, logger="gateway.lexicon.correct"):
        for _ in range(3):
            assert not correct.places_for(cfg, sipoholon)
    warned = [r for r in caplog.records if "lexicon.gazetteer" in r.getMessage()]
    assert len(warned) == 1 and str(own) in warned[0].getMessage()
    correct._kabupaten.cache_clear()


# --- 4. mail, acknowledgements, transmit.device --------------------------------------------------------

@pytest.mark.parametrize("email, needle", [
    ('to = ["not-an-email"]\nsender = "g@taput.example"\nsmtp_host = "mail.example"',
     "report.email.to = 'not-an-email': not a mail address"),
    ('to = ["a@taput.example"]\nsender = "also bad"\nsmtp_host = "mail.example"',
     "report.email.sender = 'also bad': not a mail address"),
    ('to = ["Bupati <a@taput.example>"]\nsender = "g@taput.example"\nsmtp_host = "mail.example"',
     "report.email.to = 'Bupati <a@taput.example>'"),
    ('to = ["a@taput.example"]\nsender = "g@taput.example"\nsmtp_host = "smtp://mail.example:25"',
     "report.email.smtp_host = 'smtp://mail.example:25': not a host name"),
    ('to = ["a@taput.example"]\nsender = "g@taput.example"\nsmtp_host = "mail example"',
     "report.email.smtp_host = 'mail example'"),
])
def test_mail_addresses_and_host_are_checked(tmp_path: Path, email: str, needle: str) -> None:
    _refused(f"[report.email]\n{email}\n", tmp_path / "g.toml", needle)


def test_alert_recipients_are_checked_and_good_mail_settings_pass(tmp_path: Path) -> None:
    _refused('[alerts]\nrecipients = ["kepala bpbd"]\n', tmp_path / "g.toml",
             "alerts.recipients = 'kepala bpbd': not a mail address")
    for host in ("mail.taput.example", "localhost", "127.0.0.1", "::1"):
        cfg = parse(f'[report.email]\nto = ["bupati@taput.example", "x.y+z@dinas.go.id"]\n'
                    f'sender = "gateway@taput.example"\nsmtp_host = "{host}"\n', str(tmp_path / "g.toml"))
        assert cfg.report.email.smtp_host == host


@pytest.mark.parametrize("table, needle", [
    ('ack_stations = ["Nowhere"]', "transmit.ack_stations = 'Nowhere': not a configured station"),
    ('ack_skip = ["Muara"]', "transmit.ack_skip = 'Muara': not a configured station"),
    ('ack_skip = ["tarutung"]', "did you mean 'Tarutung'"),
    ('ack_stations = ["Tarutung", "Tarutung"]', "transmit.ack_stations = 'Tarutung': listed twice"),
])
def test_acknowledgement_lists_name_configured_stations(tmp_path: Path, table: str, needle: str) -> None:
    _refused(f"[transmit]\n{table}\n" + STATIONS, tmp_path / "g.toml", needle)


def test_acknowledgement_lists_of_configured_stations_pass(tmp_path: Path) -> None:
    cfg = parse('[transmit]\nack_stations = ["Tarutung"]\nack_skip = ["Sipoholon"]\n' + STATIONS,
                str(tmp_path / "g.toml"))
    assert cfg.transmit.ack_stations == ("Tarutung",) and cfg.transmit.ack_skip == ("Sipoholon",)


def test_config_check_flags_a_transmit_device_that_is_not_there(tmp_path: Path) -> None:
    pytest.importorskip("pyaudio")
    rc, out, errors = _config_check(tmp_path, '[transmit]\nenabled = true\ndevice = "HT-no-such-output-7"\n')
    assert rc == 2 and len(errors) == 1, errors
    assert errors[0].startswith("ht-gateway: error: transmit.device = 'HT-no-such-output-7': "
                                "no such audio output")
    assert "transmit output     unusable (see below)" in out
    # not looked up when nothing transmits, nor when the file is only read (like audio.device)
    rc, out, errors = _config_check(tmp_path, '[transmit]\ndevice = "HT-no-such-output-7"\n')
    assert (rc, errors) == (0, []) and "off (transmit.enabled = false)" in out
    parse('[transmit]\nenabled = true\ndevice = "HT-no-such-output-7"\n', str(tmp_path / "g.toml"))


class _FakePyAudio:
    """PortAudio with one output device, "USB Audio CODEC" (index 4), that takes 48 kHz."""

    paFloat32 = 1

    class PyAudio:
        def get_device_count(self) -> int:
            return 5

        def get_device_info_by_index(self, i: int) -> dict[str, Any]:
            out = i == 4
            return {"name": "USB Audio CODEC" if out else f"in-{i}", "maxOutputChannels": 2 if out else 0}

        def get_default_output_device_info(self) -> dict[str, Any]:
            return {"index": 4}

        def is_format_supported(self, rate: int, **_: Any) -> bool:
            return rate == 48000

        def terminate(self) -> None:
            pass


def test_config_check_names_the_transmit_output_it_found(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.audio import pyaudio_source

    monkeypatch.setattr(pyaudio_source, "_pyaudio", lambda: _FakePyAudio)
    rc, out, errors = _config_check(tmp_path, '[transmit]\nenabled = true\ndevice = "usb audio"\n')
    assert (rc, errors) == (0, [])
    assert "transmit output     'usb audio' (PortAudio output 4, 48000 Hz)" in out
