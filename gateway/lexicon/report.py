"""Word lists the report extractor matches: status words, incident keywords, count nouns, units,
commodities, need triggers, and the small lists of words that steer the rules.

Phrases are written in lower case, words separated by single spaces. Matching (see
:mod:`gateway.report.tokens`) is exact for words of fewer than five letters and fuzzy above that,
so the lists hold the words as they are spelled, not their misspellings; the few mishearings that
fuzzy matching cannot reach, seen from faster-whisper on espeak-ng radio audio, are in
:data:`ASR_VARIANTS`.
"""

from __future__ import annotations

from gateway.report.numbers_id import SCALES, SE_SCALES, UNITS

#: Status levels, weakest first; the strongest one mentioned is the station's status.
LEVELS = ("aman", "waspada", "siaga", "awas")
STATUS = {
    "aman": "aman", "kondusif": "aman", "terkendali": "aman", "nihil": "aman", "normal kembali": "aman",
    "tidak ada kejadian": "aman", "nihil kejadian": "aman",
    "waspada": "waspada", "siaga": "siaga", "awas": "awas", "darurat": "awas", "tanggap darurat": "awas",
}
#: Words just before a status word that make it a statement about the situation (kept in evidence).
STATUS_LEAD = {"situasi", "status", "kondisi", "keadaan"}
#: Words before waspada/siaga/awas that make it advice or a duty, not the area's status
#: ("warga diminta tetap waspada", "petugas siaga di lokasi").
ADVISORY = {"diminta", "dihimbau", "diimbau", "mengimbau", "menghimbau", "himbauan", "imbauan", "agar",
            "supaya", "harap", "diharapkan", "tetap", "selalu", "berjaga", "petugas", "personel", "posko",
            "tim", "meningkatkan"}

#: Incident keywords -> category.
CATEGORIES = {
    "banjir": "banjir", "banjir bandang": "banjir", "air meluap": "banjir", "sungai meluap": "banjir",
    "meluap": "banjir", "luapan air": "banjir", "luapan sungai": "banjir",
    "longsor": "longsor", "tanah longsor": "longsor", "longsoran": "longsor", "tebing longsor": "longsor",
    "kebakaran": "kebakaran", "terbakar": "kebakaran", "dilalap api": "kebakaran", "karhutla": "kebakaran",
    "kebakaran hutan": "kebakaran", "kebakaran lahan": "kebakaran", "kebakaran rumah": "kebakaran",
    "kecelakaan": "kecelakaan", "kecelakaan lalu lintas": "kecelakaan", "laka lantas": "kecelakaan",
    "lakalantas": "kecelakaan", "laka": "kecelakaan", "tabrakan": "kecelakaan", "tertabrak": "kecelakaan",
    "puting beliung": "puting_beliung", "angin puting beliung": "puting_beliung",
    "pohon tumbang": "pohon_tumbang", "pohon roboh": "pohon_tumbang",
    "gempa": "gempa", "gempa bumi": "gempa", "gempabumi": "gempa", "lindu": "gempa",
    "penyakit": "penyakit", "wabah": "penyakit", "demam berdarah": "penyakit", "dbd": "penyakit",
    "diare": "penyakit", "muntaber": "penyakit", "keracunan": "penyakit", "asf": "penyakit",
    "a s f": "penyakit", "flu babi": "penyakit", "hog cholera": "penyakit", "kolera babi": "penyakit",
    "antraks": "penyakit", "anthrax": "penyakit", "pmk": "penyakit", "penyakit mulut dan kuku": "penyakit",
    "rabies": "penyakit", "flu burung": "penyakit", "campak": "penyakit", "kejadian luar biasa": "penyakit",
    "pencurian": "kamtibmas", "pencuri": "kamtibmas", "curanmor": "kamtibmas", "maling": "kamtibmas",
    "kemalingan": "kamtibmas", "kecurian": "kamtibmas",
    "perampokan": "kamtibmas", "penjambretan": "kamtibmas", "begal": "kamtibmas", "perkelahian": "kamtibmas",
    "berkelahi": "kamtibmas", "pengeroyokan": "kamtibmas", "penganiayaan": "kamtibmas",
    "keributan": "kamtibmas", "tawuran": "kamtibmas", "bentrok": "kamtibmas", "bentrokan": "kamtibmas",
    "pembunuhan": "kamtibmas", "narkoba": "kamtibmas", "perjudian": "kamtibmas", "judi": "kamtibmas",
    "penipuan": "kamtibmas", "unjuk rasa": "kamtibmas",
}
#: An incident said with a word inside its phrase ("pohon besar tumbang", "pohon kelapa roboh"):
#: the first word, then within :data:`SPLIT_GAP` words of the same clause one of the last words.
SPLIT_CATEGORIES = {"pohon": (frozenset({"tumbang", "roboh"}), "pohon_tumbang")}
SPLIT_GAP = 2
#: Infrastructure: one of these nouns, then (within a few words) one of the damage words.
INFRA_NOUNS = {"jalan": "jalan", "jembatan": "jembatan", "tanggul": "tanggul",
               "gorong gorong": "gorong-gorong", "gorong-gorong": "gorong-gorong", "irigasi": "irigasi",
               "bendungan": "bendungan", "saluran": "saluran", "talud": "talud",
               "tiang listrik": "tiang listrik"}
INFRA_DAMAGE = {"rusak", "putus", "terputus", "amblas", "ambles", "ambruk", "roboh", "runtuh", "jebol",
                "retak", "hanyut", "tergerus", "patah", "rusak berat", "rusak parah"}
INFRA_GAP = 5

#: Count nouns -> count key.
COUNT_NOUNS = {
    "meninggal": "meninggal", "meninggal dunia": "meninggal", "tewas": "meninggal", "wafat": "meninggal",
    "korban jiwa": "meninggal", "korban meninggal": "meninggal",
    "hilang": "hilang", "belum ditemukan": "hilang", "korban hilang": "hilang",
    "luka berat": "luka_berat", "luka parah": "luka_berat", "luka ringan": "luka_ringan", "luka": "luka",
    "luka luka": "luka", "luka-luka": "luka", "terluka": "luka", "cedera": "luka",
    "dirawat": "dirawat", "dirawat inap": "dirawat", "dirujuk": "dirawat",
    "mengungsi": "mengungsi", "pengungsi": "mengungsi", "diungsikan": "mengungsi",
    "rusak berat": "rumah_rusak_berat", "rusak sedang": "rumah_rusak_sedang",
    "rusak ringan": "rumah_rusak_ringan",
    "rusak": "rumah_rusak", "terendam": "rumah_terendam", "tergenang": "rumah_terendam",
    "terbakar": "rumah_terbakar", "hangus": "rumah_terbakar", "hangus terbakar": "rumah_terbakar",
    "habis terbakar": "rumah_terbakar", "ludes terbakar": "rumah_terbakar", "ludes": "rumah_terbakar",
    "babi mati": "ternak_mati", "ternak mati": "ternak_mati", "sapi mati": "ternak_mati",
    "ayam mati": "ternak_mati", "kerbau mati": "ternak_mati", "kambing mati": "ternak_mati",
    "mati": "ternak_mati",
}
#: Count keys that say what happened when no incident word does ("tujuh rumah terendam" is a flood).
IMPLIED_CATEGORY = {"rumah_terendam": "banjir", "ternak_mati": "penyakit", "rumah_terbakar": "kebakaran"}
#: Unit of each count key: which number units fit it.
KEY_UNITS = {"house": {"house", "item"}, "person": {"person", "jiwa", "none"}, "animal": {"animal", "none"},
             "mengungsi": {"person", "jiwa", "kk", "none"}}
KEY_KIND = {"meninggal": "person", "hilang": "person", "luka_berat": "person", "luka_ringan": "person",
            "luka": "person", "dirawat": "person", "mengungsi": "mengungsi", "rumah_rusak_berat": "house",
            "rumah_rusak_sedang": "house", "rumah_rusak_ringan": "house", "rumah_rusak": "house",
            "rumah_terendam": "house", "rumah_terbakar": "house", "ternak_mati": "animal"}
#: Words naming houses just before a house count noun ("rumah terendam sebanyak tujuh unit").
HOUSE_WORDS = {"rumah", "bangunan", "unit", "rumah warga", "rumah penduduk", "buah"}

#: Units after a number -> unit class.
UNITS_AFTER = {
    "orang": "person", "warga": "person", "korban": "person", "penduduk": "person", "anak": "person",
    "jiwa": "jiwa", "kk": "kk", "k k": "kk", "ka ka": "kk", "kepala keluarga": "kk", "keluarga": "kk",
    "rumah": "house", "bangunan": "house", "unit rumah": "house", "buah rumah": "house", "unit": "item",
    "buah": "item", "ekor": "animal", "ekor babi": "animal", "ekor ternak": "animal", "ekor sapi": "animal",
    "hektar": "measure", "hektare": "measure", "ha": "measure", "meter": "measure", "km": "measure",
    "kilometer": "measure", "persen": "measure", "hari": "measure", "jam": "measure", "kali": "measure",
    "tahun": "measure", "bulan": "measure", "minggu": "measure",
}
#: Unit words the recogniser runs into the number before them ("enambela sekol": enam belas ekor).
GLUED_UNITS = frozenset({"orang", "ekor", "unit", "jiwa", "rumah", "warga"})
#: ... and the currency of a price ("tujuh belas rinurupian": tujuh belas ribu rupiah).
GLUED_NUMBER_TAILS = GLUED_UNITS | {"rupiah"}
#: Words allowed between a number (and its unit) and the count noun after it.
BEFORE_FILLERS = {"rumah", "warga", "orang", "penduduk", "babi", "ternak", "sapi", "ayam", "kerbau", "yang",
                  "korban", "bangunan", "unit", "masyarakat", "sudah", "telah", "dalam", "keadaan", "kondisi",
                  "mengalami", "dilaporkan", "di", "milik", "dan", "kambing", "ikut", "turut"}
#: Words allowed between a count noun and the number after it ("terendam sebanyak tujuh unit").
AFTER_FILLERS = {"sebanyak", "sejumlah", "berjumlah", "total", "totalnya", "mencapai", "ada", "yaitu",
                 "yakni", "dunia", "korban", "warga", "rumah", "sekitar", "kurang", "lebih", "kurang lebih",
                 "adalah", "tercatat", "ialah", "jumlahnya", "jumlah"}
#: Between the KK and jiwa numbers of one group ("dua belas KK atau empat puluh lima jiwa").
GROUP_JOINERS = {"atau", "dan", "dengan", "sekitar", "serta", "yaitu", "terdiri", "dari"}
#: A number right after one of these is a time, date or address, never a count or price.
NUMBER_CONTEXT = {"pukul", "jam", "tanggal", "tahun", "rt", "rw", "nomor", "no", "km", "kilometer", "lantai",
                  "siaga", "kode", "ani", "ke", "hari", "kelas"}
#: Phrases that contain number words but are not numbers ("delapan enam" = roger).
NOT_NUMBERS = ("delapan enam", "salah satu", "satu satunya", "satu-satunya", "satu per satu", "satu jalur",
               "satu arah", "satu lagi")

#: Commodities (spoken name -> name reported).
COMMODITIES = {
    "beras": "beras", "beras medium": "beras medium", "beras premium": "beras premium",
    "cabai": "cabai", "cabe": "cabai", "cabai merah": "cabai merah", "cabe merah": "cabai merah",
    "cabai rawit": "cabai rawit", "cabe rawit": "cabai rawit", "cabai hijau": "cabai hijau",
    "cabe hijau": "cabai hijau", "cabai keriting": "cabai merah keriting",
    "cabai merah keriting": "cabai merah keriting", "bawang": "bawang", "bawang merah": "bawang merah",
    "bawang putih": "bawang putih", "bawang bombay": "bawang bombay", "gula": "gula",
    "gula pasir": "gula pasir",
    "minyak goreng": "minyak goreng", "telur": "telur ayam", "telur ayam": "telur ayam",
    "daging sapi": "daging sapi", "daging ayam": "daging ayam", "daging babi": "daging babi",
    "daging": "daging", "ayam potong": "daging ayam", "ikan": "ikan", "ikan mas": "ikan mas",
    "garam": "garam", "tepung terigu": "tepung terigu", "terigu": "tepung terigu", "kedelai": "kedelai",
    "jagung": "jagung", "kopi": "kopi", "tomat": "tomat", "kentang": "kentang", "kol": "kol",
}
PRICE_WORDS = {"harga"}
#: ``lexicon.correct``: the words right after "harga" are read as the commodity they are nearest
#: in spelling to at this similarity, this far ahead of any other commodity; scored this factor
#: times the similarity ("harga chamai merat" -> cabai merah, about 0.58: an operator checks it).
COMMODITY_MIN_SIMILARITY = 0.62
COMMODITY_MARGIN = 0.08
COMMODITY_FACTOR = 0.8
#: Words after "harga" that are no commodity, however near one they sound ("barang" ~ bawang).
NOT_COMMODITIES = {"barang", "bahan", "pokok", "sembako", "kebutuhan", "pasar", "di", "stabil", "normal",
                   "naik", "turun", "sekarang", "saat", "hari", "ini", "per", "rata", "eceran", "jual",
                   "beli", "bensin", "solar", "pupuk", "gas", "elpiji", "minyak", "tanah", "sewa", "tiket",
                   "obat"}
#: Movement words after "harga": a price report without (or besides) a number.
PRICE_TROUBLE = {"naik", "melonjak", "meningkat", "mahal", "melambung", "langka", "kelangkaan", "kenaikan",
                 "tinggi"}
#: A number right after these is a change in price, not the price ("naik lima ribu").
PRICE_DELTA = {"naik", "turun", "kenaikan", "penurunan", "bertambah", "berkurang", "selisih", "sebesar"}
PRICE_KG = {"kilogram", "kilo", "kg", "kilonya", "kilogramnya", "kgnya"}
PRICE_OTHER_UNITS = {"liter", "ltr", "tabung", "butir", "ikat", "karung", "sak", "bungkus", "botol", "ons",
                     "gram", "ekor", "papan", "kaleng", "kotak", "pcs", "biji", "tandan"}
PRICE_CURRENCY = {"rp", "rupiah", "perak"}
PRICE_WINDOW = 7
PRICE_MIN, PRICE_MAX = 500, 2_000_000

#: Need triggers; the need is what follows, up to the end of the sentence.
NEED_TRIGGERS = {"butuh", "membutuhkan", "dibutuhkan", "kebutuhan", "mohon", "memohon", "perlu",
                 "diperlukan", "memerlukan", "minta", "meminta", "mengharapkan", "minta bantuan",
                 "mohon bantuan", "butuh bantuan"}
#: A trigger followed by one of these is procedure or politeness, not a need ("mohon izin melapor").
NEED_SKIP = {"izin", "ijin", "maaf", "kami", "saya", "kita", "dilaporkan", "disampaikan", "diketahui",
             "dicatat", "dimonitor", "diinformasikan", "doa", "dimaklumi", "diterima", "waktu",
             "tunggu", "ditunggu", "menunggu", "sebentar", "monitor"}  # "mohon tunggu sebentar": procedure
#: Verbs of sending or giving between the trigger and the item: dropped from its front ("mohon
#: dikirimkan terpal" -> "terpal"), also with the prefix heard apart ("mohon di kirimkan terpal").
NEED_SENDING = {"kirim", "kirimkan", "dikirim", "dikirimkan", "mengirim", "mengirimkan", "salurkan",
                "disalurkan", "menyalurkan", "berikan", "diberikan", "memberikan", "beri", "diberi",
                "antar", "antarkan", "diantar", "diantarkan", "drop", "didrop", "datangkan", "didatangkan"}
#: Words dropped from the front (and back) of a need item.
NEED_LEADING = {"bantuan", "berupa", "segera", "kiriman", "pengiriman", "dukungan", "tambahan", "adanya",
                "secepatnya", "mohon", "kami", "sangat", "perlu", "butuh", "untuk", "juga", "lagi",
                "bapak", "pak", "bupati"}
#: Separators between need items.
NEED_SEPARATORS = {"dan", "serta", "juga", "atau", "&", "dengan"}
#: Words that end a need item ("terpal untuk pengungsi" -> "terpal").
NEED_ITEM_END = {"untuk", "bagi", "ke", "di", "kepada", "dari", "karena", "agar", "supaya", "yang", "buat",
                 "nanti", "sekarang", "besok", "hari"}
#: Words that end a need phrase (procedure words and the start of the next topic).
NEED_STOP = {"ganti", "over", "roger", "monitor", "terima", "sekian", "demikian", "situasi", "selamat",
             "lapor", "melapor", "harga", "laporan", "selesai", "izin", "ijin"}
NEED_MAX_TOKENS = 15
NEED_ITEM_MAX_WORDS = 4
#: What a kecamatan asks the regency for after a disaster (BPBD logistics): a need item heard as one
#: of these is read as it; one heard a few letters off is corrected to it (``lexicon.correct``); any
#: other item is reported as heard, with the matcher's score :data:`NEED_UNKNOWN_MATCH`, so it goes
#: to the review queue ("kebutuhan kurang yakin").
NEED_ITEMS = frozenset((
    "terpal", "tenda", "selimut", "tikar", "kasur", "matras", "kelambu", "beras", "makanan",
    "makanan siap saji", "mi instan", "mie instan", "sembako", "logistik", "air bersih", "air minum",
    "obat", "obat obatan", "obat-obatan", "pakaian", "pakaian layak pakai", "susu", "popok",
    "perlengkapan bayi", "perahu", "perahu karet", "pelampung", "alat berat", "ekskavator", "gergaji mesin",
    "chainsaw", "karung", "karung pasir", "bronjong", "semen", "seng", "genset", "senter", "bahan bakar",
    "minyak goreng", "gula", "telur", "lauk pauk", "dapur umum", "tenaga medis", "ambulans",
    "petugas", "relawan", "tangki air", "truk tangki", "jeriken", "ember", "sabun", "vaksin",
    "disinfektan", "desinfektan", "pakan ternak", "bibit", "pupuk", "bantuan",
))
NEED_UNKNOWN_MATCH = 0.5
#: A need item this close (rapidfuzz ratio) to a known one is that one ("perpal" is terpal).
NEED_MIN_RATIO = 80.0
#: Inside a need phrase (``lexicon.correct``), one to :data:`NEED_SOUND_WORDS` words whose sound key
#: is this close (ratio) to a known item's are that item ("aybersi" is air bersih, "terbel" terpal),
#: and so is a word whose sound key is this close to "bantuan"'s where a need phrase opens.
NEED_SOUND_RATIO = 80.0
NEED_SOUND_WORDS = 3
#: ... and whose letters are this similar (normalised Levenshtein): "bersi" is not beras (0.6).
NEED_MIN_SPELLING = 0.65

#: Words that start a place name.
PLACE_TRIGGERS = {"desa": "Desa", "dusun": "Dusun", "kelurahan": "Kelurahan", "kampung": "Kampung"}
PLACE_MAX_WORDS = 3

#: Negation: one of these shortly before a keyword (only fillers between) cancels it.
NEGATORS = {"tidak", "tak", "tiada", "belum", "bukan", "tanpa", "nihil", "kurang"}
NEG_FILLERS = {"ada", "terdapat", "terjadi", "ditemukan", "dilaporkan", "lagi", "pernah", "yang", "kejadian",
               "laporan", "adanya", "mengalami", "menimbulkan", "menyebabkan", "mengakibatkan", "sampai",
               "terkena", "ikut", "menonjol"}
#: Joiners that carry a negation on to the next keyword ("tidak ada banjir maupun longsor").
NEG_CARRY = {"maupun", "ataupun", "atau", "dan", "serta"}
#: After a keyword and "tidak"/"belum": "korban tidak ada", "banjir tidak terjadi".
NEG_AFTER_VERBS = {"ada", "terjadi", "ditemukan", "terdapat", "dilaporkan"}

#: Procedure and filler words; they end place names and need phrases.
PROCEDURE = {"ganti", "over", "roger", "monitor", "lapor", "melapor", "bupati", "camat", "kecamatan",
             "selamat", "pagi", "siang", "sore", "malam", "terima", "kasih", "sekian", "demikian", "siap",
             "izin", "situasi"}
#: Words that are never part of a place name.
STOPWORDS = {
    "di", "ke", "dari", "dan", "yang", "ada", "sudah", "telah", "masih", "akan", "ini", "itu", "kami", "kita",
    "saya", "tersebut", "sekitar", "pada", "dengan", "untuk", "karena", "akibat", "terjadi", "sebanyak",
    "setempat", "juga", "atau", "serta", "tadi", "kemarin", "hari", "sedang", "belum", "tidak", "bisa",
    "dapat", "setelah", "sejak", "sampai", "hingga", "oleh", "kabupaten", "wilayah", "warga", "kecil",
    "besar", "rumah", "jalan", "sungai", "pasar", "sekolah", "gereja", "masjid", "kantor", "lokasi", "sana",
    "sini", "subuh", "dini", "sebagian", "seluruh", "semua", "beberapa", "para", "mereka", "nya",
    "tetapi", "namun", "sehingga", "lagi", "pun", "hanya", "baru", "lalu", "lintas", "arah", "menuju",
    "antar",
    "dusun", "desa", "kelurahan", "kampung", "rt", "rw", "sementara", "saat", "kini", "sekarang",
    "harga", "stok", "rp", "rupiah", "per", "orang", "jiwa", "kk", "unit", "ekor", "korban", "pemuda",
    "petugas", "polisi", "pelaku", "tim", "posko", "puskesmas", "pukul", "jam",
    "pemantauan", "pantauan", "dipantau", "memantau",  # "dalam pemantauan": not "bantuan" by sound
}
#: Real words within fuzzy reach of a keyword that must not match it.
CONFUSABLE = {"banjar", "bilang", "diminta", "dimintai", "siapa", "memilukan", "terkenal", "kerusakan",
               "masing", "malang",  # "masing(-masing)", "malang": words, a letter from "maling"
               "kemalangan"}  # a death in the family ("ada kemalangan"), a letter from "kemalingan"
#: Mishearings beyond fuzzy reach, seen from faster-whisper on espeak-ng radio audio: word -> words.
ASR_VARIANTS = {"haman": ("aman",), "amen": ("aman",), "rumat": ("rumah",), "kanti": ("ganti",),
                "rupia": ("rupiah",), "rufia": ("rupiah",), "pupia": ("rupiah",),
                "tidakada": ("tidak", "ada"), "tidakana": ("tidak", "ada"),
                "perkilo": ("per", "kilo"), "perkilonya": ("per", "kilo"), "perkilogram": ("per", "kilogram"),
                "perkg": ("per", "kg"), "sekilo": ("per", "kilo"), "sekilonya": ("per", "kilo"),
                "perliter": ("per", "liter"), "perkiloh": ("per", "kilo"), "kilonya": ("kilo",),
                # b heard as m: "kamakaran" kebakaran, "rumah termakar" (for "di mesa" see extract.py)
                "kamakaran": ("kebakaran",), "kemakaran": ("kebakaran",), "termakar": ("terbakar",),
                "permakar": ("terbakar",), "vermakar": ("terbakar",)}

_PHRASE_LISTS = (STATUS, CATEGORIES, INFRA_NOUNS, COUNT_NOUNS, UNITS_AFTER, COMMODITIES, NEED_TRIGGERS,
                 PLACE_TRIGGERS)
#: Every word the lists know, for splitting merged words ("situasiaman" -> "situasi aman").
VOCAB = frozenset(
    {w for lst in _PHRASE_LISTS for phrase in lst for w in phrase.split()}
    | set(UNITS) | set(SCALES) | set(SE_SCALES) | INFRA_DAMAGE | PRICE_TROUBLE | PRICE_KG | PROCEDURE
    | PRICE_WORDS | {"puluh", "belas", "ratus", "sepuluh", "sebelas", "seratus", "situasi", "harga"}
)
#: Words that end a place name (besides stop words and numbers).
NOT_NAMES = VOCAB | STOPWORDS | NEGATORS | NEG_FILLERS | ADVISORY | PRICE_CURRENCY
