"""Why a transmission has (or lacks) a station, in Indonesian for the web UI.

The stored ``identity_reason`` is written by :mod:`gateway.identification.identify` and
:mod:`gateway.identification.spoken_id`
in English (it is also the daemon's log line and ``ht-gateway identify``'s output). Here each of
its parts ("; "-separated) is matched against the shapes those modules write and said again in
Indonesian; a part of any other shape is shown as it is, so nothing is ever hidden.
"""

from __future__ import annotations

import re

_NUM = r"\d+(?:\.\d+)?"

# (the English shape, its Indonesian wording); groups are carried over in order
_PARTS: list[tuple[re.Pattern[str], str]] = [(re.compile(p), r) for p, r in [
    (r"^assigned by (.+) at (.+)$", r"ditetapkan oleh \1 pada \2"),
    (r"^ANI (\S+) \((\w+|\?)\) is (.+)$", r"ANI \1 (\2) milik \3"),
    (r"^ANI (\S+) belongs to no configured station$", r"ANI \1 tidak terdaftar pada stasiun mana pun"),
    (r"^no ANI$", "tanpa ANI"),
    (r"^kerchunk$", "kerchunk"),
    (r"^stuck squelch$", "squelch macet"),
    (r"^not transcribed yet$", "belum ditranskripsi"),
    (r"^transcription failed$", "transkripsi gagal"),
    (r"^no stations configured$", "belum ada stasiun dalam konfigurasi"),
    (r"^empty transcript$", "transkrip kosong"),
    (r"^no station name spoken$", "tidak ada nama stasiun yang diucapkan"),
    (rf"^no station name spoken \(closest: (.+) ({_NUM})\)$",
     r"tidak ada nama stasiun yang diucapkan (terdekat: \1 \2)"),
    (r"^only a list of station names \((.+)\): the recogniser echoing its prompt, not a caller$",
     r"hanya deretan nama stasiun (\1): gema dari petunjuk pengenal, bukan pemanggil"),
    (r"^ignored a list of names \((.+)\)$", r"deretan nama diabaikan (\1)"),
    (rf"^best candidate (.+) ({_NUM}) < ({_NUM}) \((.+)\)$", r"calon terbaik \1 \2 < \3 (\4)"),
    (rf"^two stations equally likely: (.+) ({_NUM}), (.+) ({_NUM})$",
     r"dua stasiun sama kuat: \1 \2, \3 \4"),
    (rf"^continues transmission (\d+) \((.+)\) ({_NUM}) s later$",
     r"lanjutan transmisi \1 (\2), \3 s kemudian"),
]]

# words inside a matched phrase's explanation: "'…' ≈ Sipoholon (phonetic 0.91, after 'di sini camat')"
_WORDS: list[tuple[re.Pattern[str], str]] = [(re.compile(p), r) for p, r in [
    (r"\((exact), ", "(persis, "),
    (r"\(spelling ", "(ejaan "),
    (r"\(phonetic ", "(bunyi "),
    (r"(?<=[(,] )after '", "setelah '"),
    (r"(?<=[(,] )before '", "sebelum '"),
    (r"\bopens the call, no cue word\b", "membuka panggilan, tanpa kata penanda"),
    (r"\bno cue word\b", "tanpa kata penanda"),
    (r"\bthe recogniser is unsure of it \(p ", "pengenal ragu akan kata itu (p "),
]]


def reason_id(reason: str | None) -> str:
    """``reason`` in Indonesian, part by part; parts of an unknown shape stay as they are."""
    if not reason:
        return ""
    out = []
    for part in _parts(reason):
        for pattern, wording in _PARTS:
            if pattern.match(part):
                part = pattern.sub(wording, part)
                break
        for pattern, wording in _WORDS:
            part = pattern.sub(wording, part)
        out.append(part)
    return "; ".join(out)


def _parts(reason: str) -> list[str]:
    """Split on "; " outside parentheses (an explanation in parentheses has its own "; ")."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(reason):
        depth += (ch == "(") - (ch == ")")
        if depth == 0 and reason.startswith("; ", i):
            parts.append(reason[start:i])
            start = i + 2
    parts.append(reason[start:])
    return parts
