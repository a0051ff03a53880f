"""Words worth knowing on this channel: station names and aliases, report words, procedure words.

Used as faster-whisper's initial prompt (names only) and, for Vosk models with a dynamic graph, as
the optional phrase list (``asr.phrase_list``), where only the words the model knows are kept.
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway.config import Station

PROCEDURE = ["di sini", "ganti", "monitor", "roger", "delapan enam", "izin melapor", "lapor", "melapor",
             "bupati", "camat", "kecamatan", "desa", "dusun", "selamat pagi", "terima kasih", "siap"]
STATUS = ["aman", "kondusif", "terkendali", "nihil", "waspada", "siaga", "awas", "darurat", "situasi"]
INCIDENTS = ["banjir", "longsor", "tanah longsor", "kebakaran", "kecelakaan", "angin puting beliung",
             "pohon tumbang", "gempa", "penyakit", "wabah", "babi", "jalan", "jembatan", "rusak", "putus",
             "meninggal", "hilang", "luka", "berat", "ringan", "dirawat", "mengungsi", "rumah",
             "terendam", "warga", "dievakuasi", "harga", "beras", "cabai", "rupiah", "per kilogram",
             "butuh", "mohon", "perlu", "bantuan"]
NUMBERS = ["nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan",
           "sepuluh", "sebelas", "belas", "puluh", "seratus", "ratus", "seribu", "ribu", "juta"]


def station_words(stations: Iterable[Station]) -> tuple[str, ...]:
    """Station names and their aliases, in configuration order, without repeats."""
    out: dict[str, None] = {}
    for st in stations:
        for name in (st.name, *st.aliases):
            out[name] = None
    return tuple(out)


def phrases(stations: Iterable[Station]) -> list[str]:
    """Phrase list for a Vosk grammar: names (whole and word by word) and the report vocabulary."""
    names = station_words(stations)
    parts = [w for n in names for w in n.replace("-", " ").split()]
    return [n.lower() for n in names] + [p.lower() for p in parts] + PROCEDURE + STATUS + INCIDENTS + NUMBERS
