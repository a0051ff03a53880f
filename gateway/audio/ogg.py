"""Compacting a finished Ogg Opus recording: the same packets in fewer bytes.

libsndfile's Ogg/Opus writer, which the recorder uses while a transmission is live, spends bytes a
finished file does not need:

- an ``OpusTags`` header padded with zeros to about 800 bytes (room to rewrite tags in place), i.e.
  0.8 kbit/s over an 8 s transmission;
- a page every 500 ms (the recorder asks for it so that a crash loses < 1 s), 27 bytes of page
  header each.

:func:`compact` rewrites a closed file with a minimal ``OpusTags`` (the same vendor string, no
comments) and the audio pages joined into pages of up to 255 lacing values (about 5 s). The Opus
packets, their order and every page-end granule position are unchanged, so the file decodes to the
same samples. It is applied only on close (``LiveRecording.finish``); a file a crash left behind
keeps libsndfile's layout. Anything it does not expect (several logical streams, a packet spanning
pages, a bad checksum) returns the input unchanged.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

_CAPTURE = b"OggS"
_HEADER = struct.Struct("<4sBBqIIIB")  # capture, version, flags, granule, serial, seqno, crc, nsegs
_CONTINUED, _BOS, _EOS = 0x01, 0x02, 0x04
MAX_SEGMENTS = 255


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else (r << 1)
        table.append(r & 0xFFFFFFFF)
    return table


_TABLE = _crc_table()


def ogg_crc(data: bytes) -> int:
    """The Ogg page checksum (CRC-32, polynomial 0x04c11db7, not reflected, initial 0)."""
    crc = 0
    table = _TABLE
    for b in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ table[(crc >> 24) ^ b]
    return crc


@dataclass
class Page:
    flags: int
    granule: int
    serial: int
    lacing: bytes
    body: bytes


def parse_pages(data: bytes) -> list[Page] | None:
    """Every page of ``data``, checksums verified; None if it is not a clean Ogg stream."""
    pages: list[Page] = []
    i = 0
    while i < len(data):
        if len(data) - i < _HEADER.size:
            return None
        capture, version, flags, granule, serial, _seq, crc, nsegs = _HEADER.unpack_from(data, i)
        if capture != _CAPTURE or version != 0:
            return None
        lacing = data[i + _HEADER.size:i + _HEADER.size + nsegs]
        end = i + _HEADER.size + nsegs + sum(lacing)
        if len(lacing) != nsegs or end > len(data):
            return None
        raw = bytearray(data[i:end])
        raw[22:26] = b"\0\0\0\0"
        if ogg_crc(bytes(raw)) != crc:
            return None
        pages.append(Page(flags, granule, serial, lacing, data[i + _HEADER.size + nsegs:end]))
        i = end
    return pages


def build_page(page: Page, seqno: int) -> bytes:
    head = _HEADER.pack(_CAPTURE, 0, page.flags, page.granule, page.serial, seqno, 0, len(page.lacing))
    raw = bytearray(head + page.lacing + page.body)
    raw[22:26] = struct.pack("<I", ogg_crc(bytes(raw)))
    return bytes(raw)


def _lacing(size: int) -> bytes:
    return b"\xff" * (size // 255) + bytes([size % 255])


def _minimal_tags(tags: bytes) -> bytes | None:
    """``OpusTags`` with the same vendor string and no comments; None if ``tags`` is not one."""
    if not tags.startswith(b"OpusTags") or len(tags) < 12:
        return None
    (n,) = struct.unpack_from("<I", tags, 8)
    if 12 + n > len(tags):
        return None
    return tags[:12 + n] + struct.pack("<I", 0)


def compact(data: bytes) -> bytes:
    """``data`` (a whole Ogg Opus file) with a minimal OpusTags and joined audio pages; unchanged
    if it is anything else than a single, clean Ogg Opus stream without packets spanning pages."""
    pages = parse_pages(data)
    if not pages or len(pages) < 3 or len({p.serial for p in pages}) != 1:
        return data
    head, tags_page, audio = pages[0], pages[1], pages[2:]
    if not head.body.startswith(b"OpusHead") or len(head.lacing) != 1:
        return data
    if any(p.flags & _CONTINUED or (p.lacing and p.lacing[-1] == 255) for p in pages[1:]):
        return data  # a packet spans pages: not what libsndfile writes for short packets; keep as is
    tags = _minimal_tags(tags_page.body)
    if tags is None or len(tags_page.lacing) != len(_lacing(len(tags_page.body))):
        return data  # more than one packet on the tags page
    out = [build_page(head, 0),
           build_page(Page(tags_page.flags, tags_page.granule, head.serial, _lacing(len(tags)), tags), 1)]
    merged: Page | None = None
    for p in audio:
        if merged is not None and len(merged.lacing) + len(p.lacing) <= MAX_SEGMENTS:
            merged = Page(merged.flags | p.flags, p.granule, p.serial, merged.lacing + p.lacing,
                          merged.body + p.body)
            continue
        if merged is not None:
            out.append(build_page(merged, len(out)))
        merged = Page(p.flags, p.granule, p.serial, p.lacing, p.body)
    if merged is not None:
        out.append(build_page(merged, len(out)))
    return b"".join(out)
