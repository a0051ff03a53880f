"""Spoken messages in Indonesian: what the gateway says, as parts, and the audio for them.

A message is a list of parts ``(kind, value)``: ``phrase`` (a fixed phrase with a key, e.g.
``diterima``), ``station`` (a station's name) or ``text`` (anything else, e.g. the time in words).
Each part is spoken from a recorded clip when ``transmit.clips_dir`` holds one (``<phrase>.wav`` /
``station-<name>.wav``), else by espeak-ng with ``transmit.voice``; so an office can record its
own voice phrase by phrase and station by station.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import numpy as np

from gateway.config_transmit import TransmitConfig

log = logging.getLogger(__name__)

Part = tuple[str, str]  # (phrase|station|text, value)

PHRASES = {
    "laporan_camat": "Laporan Camat",
    "diterima": "diterima,",
    "terima_kasih_ganti": "Terima kasih, ganti.",
    "panggilan": "Panggilan untuk Camat",
    "mohon_melapor": "belum melapor. Mohon segera melapor, ganti.",
    "pengingat": "Pengingat: laporan situasi ditutup",
    "semua_melapor": "Semua camat sudah melapor. Terima kasih, ganti.",
    "ringkasan": "Ringkasan hari ini:",
    "dan": "dan",
}

_UNITS = ["nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan"]


def number_words(n: int) -> str:
    """0..9999 in Indonesian words ("dua belas", "sebelas", "dua puluh tiga", "seratus lima")."""
    if not 0 <= n <= 9999:
        raise ValueError(f"{n}: only 0..9999")
    if n < 10:
        return _UNITS[n]
    if n < 20:
        return {10: "sepuluh", 11: "sebelas"}.get(n, f"{_UNITS[n - 10]} belas")
    if n < 100:
        tens, rest = divmod(n, 10)
        return f"{_UNITS[tens]} puluh" + (f" {_UNITS[rest]}" if rest else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        head = "seratus" if hundreds == 1 else f"{_UNITS[hundreds]} ratus"
        return head + (f" {number_words(rest)}" if rest else "")
    thousands, rest = divmod(n, 1000)
    head = "seribu" if thousands == 1 else f"{_UNITS[thousands]} ribu"
    return head + (f" {number_words(rest)}" if rest else "")


def time_words(t: datetime) -> str:
    """"pukul tujuh lewat dua belas" (12-hour, as said on the radio), "pukul delapan tepat"."""
    hour = t.hour % 12 or 12
    if t.minute == 0:
        return f"pukul {number_words(hour)} tepat"
    return f"pukul {number_words(hour)} lewat {number_words(t.minute)}"


def _names(names: list[str]) -> list[Part]:
    parts: list[Part] = []
    for i, name in enumerate(names):
        if i and i == len(names) - 1:
            parts.append(("phrase", "dan"))
        parts.append(("station", name))
    return parts


def acknowledgement(station: str, at: datetime) -> list[Part]:
    """"Laporan Camat Sipoholon diterima, pukul tujuh lewat dua belas. Terima kasih, ganti." """
    return [("phrase", "laporan_camat"), ("station", station), ("phrase", "diterima"),
            ("text", time_words(at) + "."), ("phrase", "terima_kasih_ganti")]


def roll_call(missing: list[str]) -> list[Part]:
    """"Panggilan untuk Camat A, B dan C: belum melapor. Mohon segera melapor, ganti." """
    if not missing:
        return [("phrase", "semua_melapor")]
    return [("phrase", "panggilan"), *_names(missing), ("phrase", "mohon_melapor")]


def reminder(cutoff: datetime, missing: list[str]) -> list[Part]:
    return [("phrase", "pengingat"), ("text", time_words(cutoff) + "."), *roll_call(missing)]


def summary(reported: int, total: int, missing: list[str]) -> list[Part]:
    head = f"{number_words(reported)} dari {number_words(total)} kecamatan sudah melapor."
    return [("phrase", "ringkasan"), ("text", head), *(roll_call(missing) if missing else
                                                       [("phrase", "terima_kasih_ganti")])]


def announcement(text: str) -> list[Part]:
    return [("text", text)]


def as_text(parts: Iterable[Part]) -> str:
    """What the message says, as one line (stored in the queue, shown in the log and the web UI)."""
    words = [PHRASES[v] if k == "phrase" else v for k, v in parts]
    text = " ".join(words).replace(" ,", ",").replace(" .", ".")
    return text[0].upper() + text[1:] if text else text


def clip_name(kind: str, value: str) -> str:
    if kind == "station":
        return "station-" + "-".join(value.casefold().split())
    return value


class Voice:
    """Turns parts into audio at ``rate``: a clip from ``clips_dir`` where one exists, else espeak-ng."""

    GAP_S = 0.12

    def __init__(self, cfg: TransmitConfig, rate: int, clips_dir: Path | None = None) -> None:
        self.cfg, self.rate, self.clips_dir = cfg, rate, clips_dir

    def _clip(self, kind: str, value: str) -> np.ndarray | None:
        if kind == "text" or self.clips_dir is None:
            return None
        for ext in (".wav", ".flac", ".ogg"):
            path = self.clips_dir / (clip_name(kind, value) + ext)
            if path.is_file():
                import soundfile as sf

                from gateway.sim.speech import resample

                audio, rate = sf.read(path, dtype="float32", always_2d=True)
                return resample(audio.mean(axis=1), rate, self.rate)
        return None

    def render(self, parts: list[Part]) -> np.ndarray:
        from gateway.sim.speech import speak

        pieces: list[np.ndarray] = []
        pending: list[str] = []  # consecutive espeak parts are spoken in one go (natural prosody)
        gap = np.zeros(int(self.GAP_S * self.rate), np.float32)

        def flush() -> None:
            if pending:
                pieces.append(speak(" ".join(pending), self.cfg.voice, self.cfg.speed, rate=self.rate))
                pieces.append(gap)
                pending.clear()

        for kind, value in parts:
            clip = self._clip(kind, value)
            if clip is None:
                pending.append(PHRASES[value] if kind == "phrase" else value)
            else:
                flush()
                pieces += [clip.astype(np.float32), gap]
        flush()
        audio = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
        peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
        if peak > 0:
            audio = audio * (10 ** (self.cfg.level_dbfs / 20) / peak)
        return audio.astype(np.float32)
