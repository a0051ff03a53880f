"""The channel's word lists: procedure words, status and incident words, number words, fillers.

These were three lists (``gateway/asr/vocabulary.py``, ``gateway/report/lexicon.py``, the
``FILLERS`` of ``gateway/spoken_id.py``); the report extractor's detailed tables are in
:mod:`gateway.lexicon.report`, and the words here are the union the recogniser is biased towards
and the station matcher skips. :mod:`gateway.report.numbers_id` stays the number parser; it is
the source of the number words listed here.
"""

from __future__ import annotations

from gateway.report.numbers_id import SCALES, SE_SCALES, UNITS

PROCEDURE = ("di sini", "ganti", "monitor", "roger", "delapan enam", "izin melapor", "lapor", "melapor",
             "bupati", "camat", "kecamatan", "desa", "dusun", "selamat pagi", "terima kasih", "siap",
             "demikian", "selesai", "over", "tambahan", "lanjut", "ralat", "koreksi")
#: A call that ends with one of these is over: the next call is not its continuation.
CLOSING = ("ganti", "demikian", "selesai", "over", "delapan enam", "86", "sekian", "ganti ganti")
#: A call that opens with one of these goes on with the previous one even after a closing word.
CONTINUATION_CUES = ("tambahan", "menambahkan", "lanjut", "lanjutan", "melanjutkan", "ralat", "koreksi")
#: Call signs of the other units on a regency's disaster net: a call that opens with one is that
#: unit speaking ("Patroli satu ke Pusdalops, …"), not a camat going on with his report.
OTHER_UNITS = ("patroli", "rescue", "bpbd", "basarnas", "tagana", "damkar", "ambulans",
               "polsek", "polres", "koramil", "babinsa", "puskesmas", "mobil", "unit")
#: Words of their own that sound like a cue word ("sangat": "camat" in the sound key), never the cue
#: as spelled. Not fillers: a misheard cue ("jamat") must still sound nearer the cue than these.
NOT_CUES = ("sangat",)
#: Words that introduce the caller's own name ("camat …", "di sini …", "lapor … dari …").
SELF_ID_CUES = ("camat", "kecamatan", "di sini", "dari")
#: Indonesian prefixes -> letters that may have been dropped from the stem's start (me+tebang ->
#: menebang): stemming for search (gateway/report/terms.py), and where a cue glued to a word is
#: another word ("pertambahan", gateway/lexicon/procedure.py).
PREFIXES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("meng", ("k", "")), ("meny", ("s",)), ("mem", ("", "p")), ("men", ("", "t")), ("me", ("",)),
    ("peng", ("k", "")), ("peny", ("s",)), ("pem", ("", "p")), ("pen", ("", "t")),
    ("ter", ("", "r")), ("ber", ("", "r")), ("per", ("",)), ("te", ("r",)), ("be", ("r",)),
    ("pe", ("",)), ("di", ("",)), ("ke", ("",)), ("se", ("",)),
)
#: Before "kecamatan"/"camat" these make what follows a place or the one called, not the caller:
#: "posisi di kecamatan …", "menuju ke kecamatan …", "kami lewat kecamatan …", "Pusdalops ke camat …"
#: ("di sini" is a cue).
PLACE_BEFORE = frozenset(("di", "ke", "menuju", "posisi", "lokasi", "wilayah", "daerah", "sekitar",
                          "dekat", "arah", "perbatasan", "antara", "melintasi", "melewati", "memasuki",
                          "lewat"))
STATUS = ("aman", "kondusif", "terkendali", "nihil", "waspada", "siaga", "awas", "darurat", "situasi")
INCIDENTS = ("banjir", "longsor", "tanah longsor", "kebakaran", "kecelakaan", "angin puting beliung",
             "pohon tumbang", "gempa", "penyakit", "wabah", "babi", "jalan", "jembatan", "rusak", "putus",
             "meninggal", "hilang", "luka", "berat", "ringan", "dirawat", "mengungsi", "rumah",
             "terendam", "warga", "dievakuasi", "harga", "beras", "cabai", "rupiah", "per kilogram",
             "butuh", "mohon", "perlu", "bantuan")
#: Number words, from the number parser's own tables (units, teens and scales).
NUMBERS = tuple(dict.fromkeys(
    (*UNITS, *SCALES, *SE_SCALES, "sepuluh", "sebelas", "belas", "puluh", "seratus", "ratus", "seribu",
     "ribu", "juta")))
#: Units said after a number (from the extractor's table).
UNIT_WORDS = ("orang", "jiwa", "kk", "kepala keluarga", "rumah", "unit", "buah", "ekor", "hektar", "meter",
              "kilogram", "kilo", "liter", "rupiah")
#: Courtesy and filler words: never part of a station name.
FILLERS = tuple("""
pak bapak ibu bu kami saya kita ini itu dan ada tidak yang sudah akan ke di pada untuk dengan kepada kan
sini situ sana dari halo hallo over oke ok ya iya baik selamat pagi siang sore malam terima kasih izin
ijin mohon melaporkan laporan wilayah kabupaten posisi cuaca cerah hujan deras tetapi tapi sedikit
ditangani kejadian kondisi normal terus sampai jumpa copy kopi cek tes test satu dua tiga nanti
""".split())
