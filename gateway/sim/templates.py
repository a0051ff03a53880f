"""The text templates of the generated mornings (:mod:`gateway.sim.morning`): one set per half.

Every set says the same facts in its own words; ``tests/test_accuracy_corpus.py`` checks that no
sentence pattern is shared between a tuning set and a held-out set, or between two held-out sets.
A held-out set is written and committed before any morning of it is rendered or decoded.
"""

from __future__ import annotations

from typing import Any

#: The template sets. {st} station, {kec} kecamatan, {desa} place, {n} a count, {c} commodity,
#: {p} price, {a}/{b} needed items. Every set says the same facts in different words.
TEMPLATES: dict[str, dict[str, Any]] = {
    "tune": {
        "open": ["Bupati, di sini Camat {st}.", "Pusdalops, Camat {st} melapor."],
        "mid": ["Izin melapor Bupati, dari kami Camat {st}, selamat pagi."],
        "status": {"aman": ["Situasi aman dan kondusif."], "waspada": ["Status kami waspada."],
                   "siaga": ["Situasi siaga."]},
        "incident": {
            "banjir": "Banjir di Desa {desa}, {n} rumah terendam.",
            "longsor": "Longsor di Desa {desa}, jalan tertutup.",
            "kebakaran": "Kebakaran di Desa {desa}, {n} rumah terbakar.",
            "pohon_tumbang": "Pohon tumbang di Desa {desa}.",
            "kecelakaan": "Kecelakaan lalu lintas di Desa {desa}, {n} orang luka ringan.",
            "penyakit": "Penyakit babi di Desa {desa}, {n} ekor babi mati.",
        },
        "price": "Harga {c} {p} rupiah per kilogram.",
        "need": "Mohon bantuan {a} dan {b}.",
        "close": "Ganti.", "hold": "Sebentar.", "cue": "Tambahan.",
        "patrol": ["Patroli satu ke Pusdalops, posisi di Kecamatan {kec}, arus lalu lintas lancar. Ganti."],
    },
    "heldout": {
        "open": ["Selamat pagi Bapak Bupati, ini Camat {st}.", "Lapor, Camat {st} masuk."],
        "mid": ["Mohon izin Bapak, yang melapor Camat {st}, terima kasih."],
        "status": {"aman": ["Keadaan wilayah aman terkendali."], "waspada": ["Kondisi wilayah waspada."],
                   "siaga": ["Status wilayah kami siaga."]},
        "incident": {
            "banjir": "Di Desa {desa} terjadi banjir, sebanyak {n} rumah warga terendam.",
            "longsor": "Di Desa {desa} ada tanah longsor, akses jalan terganggu.",
            "kebakaran": "Di Desa {desa} terjadi kebakaran, {n} rumah hangus terbakar.",
            "pohon_tumbang": "Di Desa {desa} ada pohon tumbang menutup badan jalan.",
            "kecelakaan": "Di Desa {desa} terjadi kecelakaan, korban {n} orang luka ringan.",
            "penyakit": "Di Desa {desa} ada wabah penyakit, ternak mati sebanyak {n} ekor.",
        },
        "price": "Untuk harga {c} hari ini {p} rupiah per kilo.",
        "need": "Kami membutuhkan {a} dan {b}.",
        "close": "Demikian, ganti.", "hold": "Tunggu.", "cue": "Tambahan laporan.",
        "patrol": ["Mobil rescue BPBD memonitor, kami melintas di Kecamatan {kec}, jalan ramai lancar. "
                   "Ganti."],
    },
    # A second tuning set (seeds TUNE[4:]), added after the first held-out figures: other wording
    # again, so rules developed on the tuning half meet more than one way of saying each fact.
    "tune2": {
        "open": ["Pusdalops, Pusdalops, Camat {st} memanggil.", "Izin Bupati, Camat {st} siap melapor."],
        "mid": ["Laporan pagi untuk Bapak Bupati, disampaikan oleh Camat {st}."],
        "status": {"aman": ["Wilayah kami dalam keadaan aman."], "waspada": ["Kami dalam status waspada."],
                   "siaga": ["Wilayah kami berstatus siaga."]},
        "incident": {
            "banjir": "Terjadi banjir di Desa {desa}, ada {n} rumah yang terendam air.",
            "longsor": "Tanah longsor menimpa jalan di Desa {desa}.",
            "kebakaran": "Musibah kebakaran di Desa {desa}, {n} rumah habis terbakar.",
            "pohon_tumbang": "Ada pohon tumbang di Desa {desa}, sudah ditangani warga.",
            "kecelakaan": "Kecelakaan motor di Desa {desa}, {n} warga luka ringan.",
            "penyakit": "Wabah penyakit ternak di Desa {desa}, babi yang mati {n} ekor.",
        },
        "price": "Harga {c} di pasar sekarang {p} rupiah sekilo.",
        "need": "Kami perlu bantuan {a} serta {b}.",
        "close": "Sekian laporan kami, ganti.", "hold": "Mohon tunggu sebentar.", "cue": "Lanjut.",
        "patrol": ["Unit patroli dua, kami berada di Kecamatan {kec}, lalu lintas normal. Ganti."],
    },
    # The second held-out set (seeds HELDOUT2), written after every rule of the time: words a camat
    # might use that no other set uses ("pantauan harga", "izin tambahan"); the counted things are
    # still said as the generator's count keys name them ("rumah terendam", not "tergenang").
    "heldout2": {
        "open": ["Pusdalops, ini Camat {st}, mohon izin melapor.",
                 "Monitor Bapak Bupati, Camat {st} di sini."],
        "mid": ["Sesuai arahan Bapak Bupati, kami Camat {st} menyampaikan laporan."],
        "status": {"aman": ["Secara umum wilayah kami aman."], "waspada": ["Saat ini wilayah kami waspada."],
                   "siaga": ["Kami tetapkan status siaga."]},
        "incident": {
            "banjir": "Desa {desa} dilanda banjir, {n} rumah terendam.",
            "longsor": "Terjadi longsor di Desa {desa}, jalan belum bisa dilalui.",
            "kebakaran": "Kebakaran melanda Desa {desa}, sebanyak {n} rumah terbakar.",
            "pohon_tumbang": "Pohon tumbang di jalan Desa {desa}, sedang dibersihkan.",
            "kecelakaan": "Kecelakaan tunggal di Desa {desa}, {n} orang mengalami luka ringan.",
            "penyakit": "Ternak babi terserang penyakit di Desa {desa}, {n} ekor sudah mati.",
        },
        "price": "Pantauan harga, {c} {p} rupiah per kilogram.",
        "need": "Kami mohon dikirimkan {a} dan {b}.",
        "close": "Laporan selesai, ganti.", "hold": "Sebentar, Pak.", "cue": "Izin tambahan.",
        "patrol": ["Polsek memonitor, kami sedang di Kecamatan {kec}, jalan lancar. Ganti."],
    },
    # The third held-out set (seeds HELDOUT3), written on 2026-12-03 (evening) before any of it was
    # rendered or run, after the rules made from what the second held-out half showed: other words
    # again ("menyampaikan laporan harian", "air sungai meluap", "harganya", "memerlukan", "cukup
    # sekian"), a patrol whose call sign no list holds ("Truk tangki air PDAM").
    "heldout3": {
        "open": ["Pusdalops, Camat {st} menyampaikan laporan harian.",
                 "Bapak Bupati, salam sejahtera, Camat {st} hadir."],
        "mid": ["Izin Bapak, saya Camat {st} melaporkan situasi pagi ini."],
        "status": {"aman": ["Kondisi di wilayah kami aman dan tertib."],
                   "waspada": ["Wilayah kami masih waspada."],
                   "siaga": ["Kami naikkan status menjadi siaga."]},
        "incident": {
            "banjir": "Air sungai meluap di Desa {desa}, {n} rumah terendam.",
            "longsor": "Ada longsor kecil di Desa {desa}, jalan setapak tertimbun.",
            "kebakaran": "Kebakaran rumah warga di Desa {desa}, {n} rumah terbakar.",
            "pohon_tumbang": "Pohon besar tumbang di Desa {desa}, jalan sempat tertutup.",
            "kecelakaan": "Ada kecelakaan di Desa {desa}, {n} orang luka ringan dan sudah dirawat.",
            "penyakit": "Di Desa {desa} penyakit ternak menyerang, {n} ekor babi mati.",
        },
        "price": "Untuk {c}, harganya {p} rupiah per kilogram.",
        "need": "Warga memerlukan {a} dan {b}.",
        "close": "Cukup sekian, ganti.", "hold": "Sebentar, masih ada.", "cue": "Ada tambahan, Pak.",
        "patrol": ["Pusdalops, Babinsa Koramil memonitor, kami di wilayah Kecamatan {kec}, "
                   "arus jalan lancar. Ganti.",
                   "Truk tangki air PDAM, kami melintas di Kecamatan {kec}, perjalanan normal. Ganti."],
    },
    # The fourth held-out set (seeds HELDOUT4), written on 2026-12-03 (late) before any of it was
    # rendered or run, after the rules made from what the third half showed: other words again (a
    # price said with "naik, sekarang", "butuh", "terima kasih, ganti", a cue "Lanjutan laporan",
    # a first call left open with "Masih ada lagi", an ambulance and a fire engine on the channel).
    "heldout4": {
        "open": ["Pusdalops, Camat {st} izin masuk.",
                 "Selamat pagi Pusdalops, Camat {st} siap memberikan laporan."],
        "mid": ["Melapor kepada Bapak Bupati, saya Camat {st}, situasi sebagai berikut."],
        "status": {"aman": ["Wilayah kami aman, tidak ada kejadian menonjol."],
                   "waspada": ["Untuk hari ini kami waspada."],
                   "siaga": ["Sejak semalam wilayah kami siaga."]},
        "incident": {
            "banjir": "Hujan deras semalam, banjir di Desa {desa}, {n} rumah terendam.",
            "longsor": "Tebing longsor di Desa {desa}, jalan tertutup material.",
            "kebakaran": "Telah terjadi kebakaran di Desa {desa}, {n} rumah terbakar habis.",
            "pohon_tumbang": "Angin kencang, pohon tumbang di Desa {desa}.",
            "kecelakaan": "Di Desa {desa} terjadi kecelakaan lalu lintas, {n} orang luka ringan.",
            "penyakit": "Ternak warga Desa {desa} terkena penyakit, {n} ekor babi mati.",
        },
        "price": "Harga {c} naik, sekarang {p} rupiah per kilogram.",
        "need": "Kami butuh bantuan {a} dan {b} secepatnya.",
        "close": "Terima kasih, ganti.", "hold": "Masih ada lagi.", "cue": "Lanjutan laporan, Pak.",
        "patrol": ["Ambulans Puskesmas memonitor, kami menuju Kecamatan {kec}, kondisi jalan baik. Ganti.",
                   "Unit Damkar di Kecamatan {kec}, kami kembali ke pos. Ganti."],
    },
    # The fifth held-out set (seeds HELDOUT5), written on 2026-12-04 before any of it was rendered
    # or run, after the rules made from what the fourth half showed (hum as the carrier's floor, a
    # hyphenated cue, far too few words, a repeated name, thefts) and the glued "di Desa" of this
    # session: other words again (a report "dari wilayah", "terpantau", prices "per kilonya",
    # "sangat membutuhkan", a first call left open with "Izin, sebentar", a cue "Menambahkan",
    # a bus and a PLN car on the channel).
    "heldout5": {
        "open": ["Bapak Bupati, Camat {st} melaporkan dari wilayah.",
                 "Pusdalops monitor, ini Camat {st}."],
        "mid": ["Mohon izin Bapak Bupati, kami Camat {st} menyampaikan situasi wilayah."],
        "status": {"aman": ["Sampai pagi ini terpantau aman."],
                   "waspada": ["Kondisi saat ini waspada."],
                   "siaga": ["Mulai hari ini status kami naik menjadi siaga."]},
        "incident": {
            "banjir": "Terjadi banjir di Desa {desa}, sebanyak {n} rumah terendam air.",
            "longsor": "Longsor menutup badan jalan di Desa {desa}.",
            "kebakaran": "Tadi malam kebakaran di Desa {desa}, {n} rumah ikut terbakar.",
            "pohon_tumbang": "Ada pohon tumbang melintang di Desa {desa}.",
            "kecelakaan": "Kecelakaan sepeda motor di Desa {desa}, korban {n} orang luka ringan.",
            "penyakit": "Wabah penyakit babi di Desa {desa} berlanjut, {n} ekor babi mati.",
        },
        "price": "Harga {c} hari ini {p} rupiah per kilonya.",
        "need": "Warga sangat membutuhkan {a} juga {b}.",
        "close": "Demikian laporan kami, ganti.", "hold": "Izin, sebentar.", "cue": "Menambahkan, Pak.",
        "patrol": ["Bus ALS dari Medan, kami lewat Kecamatan {kec}, jalan ramai lancar. Ganti.",
                   "Mobil PLN di Kecamatan {kec}, sedang perbaikan jaringan. Ganti."],
    },
}
