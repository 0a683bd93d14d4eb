"""A synthetic source library that follows a configuration table (``libpush sample``).

``write_sample(out, items=F, bytes_fraction=B, seed=N)`` writes the source tree described in
docs/SOURCE-TREE.md: one folder per table row, ``max(1, round(F × row.items))`` items each, a
``metadata.csv`` (UTF-8 with BOM, so Excel opens it) and, where items have marks, a
``segments.csv``. Everything is derived from ``random.Random`` seeded per row and item, so the
same (F, B, seed) always gives a byte-identical tree.

Sizes. A row's bytes are about ``row.tb × 10^12 × B``, shared equally by its items and, within
an item, by its files: each file is padded up to its share. A file whose natural size is already
above its share keeps its natural size, so tiny fractions give a floor, not an error. Row 12
(老照片) has no capacity in the source table (``tb`` is None): no number is invented, its
pictures keep their natural size, unpadded. The same holds for any row whose ``tb`` is None.

Formats are real and padded only where the format allows it:

- ebook  PDF written here by hand: Chinese text in the non-embedded Adobe font STSong-Light
         (Type0 / CIDFontType0, Adobe-GB1, ``UniGB-UCS2-H``, hex UCS-2 strings); padding is an
         extra, unreferenced stream object before the xref. Chapter marks are written as
         ``kind=page`` segments (start/end = the chapter's first/last page), because the
         source-tree format defines ``chapter`` starts as ordinals, and a PDF reader needs pages.
- text   UTF-8 HTML with ``<h2 id="cN">`` chapters, padded with more generated paragraphs
         (text, not random bytes: text shards are LZMA2-compressed); ``kind=chapter`` segments,
         start = N of ``#cN``.
- journal per title a folder ``<id>/`` with issue folders ``2014年第03期/`` of page JPEGs
         ``p001.jpg…``; the metadata lists ``<id>/`` so each issue folder becomes a section.
- video  the committed clip ``data/media/clip.mp4`` (H.264 + AAC, 12 s, moov first) with a
         ``free`` box appended after ``mdat`` (offsets in moov stay right); ``kind=time``
         segments inside the 12 s.
- audio  the committed ``data/media/poem.mp3`` (8 s, four notes) behind an ID3v2.4 tag whose
         PRIV frame carries the padding; ``kind=time`` segments, one per line of the poem.
         (An ID3v2 tag is at most 256 MiB, so an MP3 share above that stays below its share.)
- picture JPEGs drawn with Pillow, padded with COM segments after the APPn headers.
- record small government-information HTML pages, padded with paragraphs.

Media padding bytes come from the seeded RNG so shards cannot compress them away; large files
are written in chunks, never built whole in memory. One picture in ``ethnic-pictures`` (the
row's last item) is left out of its metadata.csv on purpose, so the scanner's fallback (an item
made from the file name) has something to find; ``SampleSummary.unlisted`` names it.
"""
from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import random
import struct
from dataclasses import dataclass, field, asdict
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Callable, Iterable, Iterator

from PIL import Image, ImageDraw, ImageFont, ImageOps

from .folders import build_beside
from .scan import ITEM_COLUMNS, SEGMENT_COLUMNS
from .table import Row, Table, load_table

# 0.003 of the 2015 table is 910 items; 1e-5 of its 4.17 TB is about 42 MB (plus the natural
# floors: old photos, records). Both are the CLI's defaults.
DEFAULT_ITEMS = 0.003
DEFAULT_BYTES = 1e-5

CLIP_SECONDS = 12       # data/media/clip.mp4; three 4-second scenes (tone changes every 4 s)
POEM_SECONDS = 8        # data/media/poem.mp3; four 2-second notes, one per line of a quatrain
ISSUE_YEAR = 2014       # the table's journals are the 2014 volumes

_CHUNK = 1 << 20        # padding is produced and written in pieces of this size
_FLUSH = 1 << 16        # small pieces (HTML paragraphs) are gathered to this before a write

# Short ASCII prefixes for item ids; rows of another table fall back to their key's initials.
_PREFIX = {
    "ebooks": "eb", "classics": "cl", "journals": "jn", "open-courses": "oc", "local-opera": "op",
    "documentaries": "dc", "intangible-heritage": "ih", "children-video": "cv",
    "ethnic-video": "ev", "recited-poems": "rp", "new-year-paintings": "ny", "old-photos": "ph",
    "ethnic-pictures": "ep", "gov-info": "gi",
}
# Which word lists a row of another table borrows, by kind.
_THEME_FOR_KIND = {
    "ebook": "ebooks", "text": "classics", "journal": "journals", "video": "open-courses",
    "audio": "recited-poems", "picture": "ethnic-pictures", "record": "gov-info",
}
_FALLBACK_ROW = "ethnic-pictures"


# --- results ----------------------------------------------------------------------------------

@dataclass
class RowSummary:
    row: int
    key: str
    kind: str
    items: int
    files: int
    bytes: int                   # content files only (not metadata.csv / segments.csv)
    planned_bytes: int | None    # tb × 10^12 × bytes_fraction; None where tb is blank


@dataclass
class SampleSummary:
    out: Path
    items_fraction: float
    bytes_fraction: float
    seed: int
    rows: list[RowSummary] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)   # files left out of metadata.csv
    written: int = 0             # every byte written, metadata included (what progress saw)

    @property
    def items(self) -> int:
        return sum(r.items for r in self.rows)

    @property
    def files(self) -> int:
        return sum(r.files for r in self.rows)

    @property
    def bytes(self) -> int:
        return sum(r.bytes for r in self.rows)

    def to_dict(self) -> dict:
        return {"out": str(self.out), "items_fraction": self.items_fraction,
                "bytes_fraction": self.bytes_fraction, "seed": self.seed,
                "items": self.items, "files": self.files, "bytes": self.bytes,
                "written": self.written, "unlisted": list(self.unlisted),
                "rows": [asdict(r) for r in self.rows]}


@dataclass
class _Segment:
    kind: str
    start: float
    end: float | None
    label: str
    keywords: list[str]
    file: str


@dataclass
class _Item:
    id: str
    title: str
    files: list[str]             # metadata "files" entries (a folder entry ends in "/")
    creator: str
    date: str
    subjects: list[str]
    description: str
    rights: str
    segments: list[_Segment] = field(default_factory=list)


# --- the public entry points ------------------------------------------------------------------

def item_count(row: Row, items: float) -> int:
    """How many items the sample gives a row: at least one, else the fraction, rounded."""
    return max(1, round(items * row.items))


def planned_bytes(table: Table | None = None, bytes_fraction: float = DEFAULT_BYTES) -> int:
    """The padded total the table asks for (rows with a capacity); a lower bound of what
    write_sample writes, since natural sizes and row 12 come on top. For a progress total."""
    table = table or load_table()
    return sum(round(r.capacity_bytes * bytes_fraction) for r in table.rows
               if r.capacity_bytes is not None)


def write_sample(out: Path, items: float = DEFAULT_ITEMS, bytes_fraction: float = DEFAULT_BYTES,
                 seed: int = 1, table: Table | None = None,
                 progress: Callable[[int], None] | None = None) -> SampleSummary:
    """Write a sample source tree to ``out``; ``progress(n)`` hears each n bytes written."""
    out = Path(out)
    if items <= 0 or bytes_fraction < 0:
        raise ValueError("items must be above 0 and bytes_fraction at least 0")
    table = table or load_table()
    # Built beside the target and renamed at the end: an interrupted run leaves no half tree.
    summary = build_beside(out, lambda root: _write_tree(root, table, items, bytes_fraction, seed,
                                                         _Sink(progress)))
    summary.out = out
    return summary


def _write_tree(root: Path, table: Table, items: float, bytes_fraction: float, seed: int,
                sink: "_Sink") -> SampleSummary:
    summary = SampleSummary(out=root, items_fraction=items, bytes_fraction=bytes_fraction,
                            seed=seed)
    fallback = _fallback_row(table)
    for row in table.rows:
        summary.rows.append(_write_row(root, row, items, bytes_fraction, seed, sink,
                                       leave_one_out=row is fallback, unlisted=summary.unlisted))
    summary.written = sink.written
    return summary


def _fallback_row(table: Table) -> Row | None:
    """The row whose last item goes without a metadata line: ethnic-pictures, else the last
    picture row, else none."""
    pictures = [r for r in table.rows if r.kind == "picture"]
    named = [r for r in pictures if r.key == _FALLBACK_ROW]
    return (named or pictures or [None])[-1]


# --- one row ----------------------------------------------------------------------------------

@dataclass
class _RowContext:
    row: Row
    dir: Path
    words: dict          # the theme's word lists (data/sample-words.json)
    sink: "_Sink"
    prefix: str
    width: int

    def item_id(self, index: int) -> str:
        return f"{self.prefix}{index:0{self.width}d}"


def _write_row(root: Path, row: Row, items: float, bytes_fraction: float, seed: int,
               sink: "_Sink", leave_one_out: bool, unlisted: list[str]) -> RowSummary:
    n = item_count(row, items)
    cap = row.capacity_bytes
    share = None if cap is None else cap * bytes_fraction / n
    ctx = _RowContext(row=row, dir=root / row.key, words=_theme_words(row), sink=sink, prefix=_prefix(row.key), width=max(4, len(str(n))))
    ctx.dir.mkdir(parents=True)
    files0, bytes0 = sink.files, sink.bytes
    build = _BUILDERS[row.kind]
    made = [build(ctx, i, _rng(seed, row.key, i), share) for i in range(1, n + 1)]
    if leave_one_out:
        dropped = made.pop()
        unlisted.extend(f"{row.key}/{f}" for f in dropped.files)
    _write_metadata(ctx, made)
    _write_segments(ctx, made)
    return RowSummary(row=row.row, key=row.key, kind=row.kind, items=n,
                      files=sink.files - files0, bytes=sink.bytes - bytes0,
                      planned_bytes=None if cap is None else round(cap * bytes_fraction))


def _rng(seed: int, key: str, index: int) -> random.Random:
    # A string seed is hashed with SHA-512: stable across runs, processes and PYTHONHASHSEED.
    return random.Random(f"libpush-sample/{seed}/{key}/{index}")


def _prefix(key: str) -> str:
    if key in _PREFIX:
        return _PREFIX[key]
    initials = "".join(p[:1] for p in key.split("-") if p[:1].isascii() and p[:1].isalnum())
    return (initials or "it")[:3].lower()


def _share_per_file(share: float | None, files: int) -> int | None:
    return None if share is None else int(share / files)


# --- metadata.csv and segments.csv ------------------------------------------------------------

def _write_metadata(ctx: _RowContext, items: list[_Item]) -> None:
    # Texts and records separate subjects with the full-width "；", the rest with ";": the
    # format allows both and the scanner should be seen to take both.
    sep = "；" if ctx.row.kind in ("text", "record") else ";"
    rows = [{"id": it.id, "title": it.title, "files": "|".join(it.files),
             "creator": it.creator, "date": it.date, "subjects": sep.join(it.subjects),
             "description": it.description, "language": "zh", "rights": it.rights}
            for it in items]
    _write_csv(ctx.sink, ctx.dir / "metadata.csv", ITEM_COLUMNS, rows)


def _write_segments(ctx: _RowContext, items: list[_Item]) -> None:
    rows = [{"item_id": it.id, "kind": s.kind, "start": _number(s.start),
             "end": "" if s.end is None else _number(s.end), "label": s.label,
             "keywords": ";".join(s.keywords), "file": s.file}
            for it in items for s in it.segments]
    if rows:
        _write_csv(ctx.sink, ctx.dir / "segments.csv", SEGMENT_COLUMNS, rows)


def _write_csv(sink: "_Sink", path: Path, columns: tuple[str, ...], rows: list[dict]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    # The BOM is what makes Excel read the file as UTF-8.
    sink.write(path, [buf.getvalue().encode("utf-8-sig")], content=False)


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


# --- writing files ----------------------------------------------------------------------------

class _Sink:
    """Writes files from pieces, counts them and tells ``progress`` as the bytes go out."""

    def __init__(self, progress: Callable[[int], None] | None):
        self._progress = progress or (lambda n: None)
        self.files = 0
        self.bytes = 0
        self.written = 0

    def write(self, path: Path, pieces: Iterable[bytes], content: bool = True) -> int:
        path.parent.mkdir(parents=True, exist_ok=True)
        size = 0
        with open(path, "xb") as f:
            for chunk in _gathered(pieces):
                f.write(chunk)
                size += len(chunk)
                self._progress(len(chunk))
        self.written += size
        if content:
            self.files += 1
            self.bytes += size
        return size


def _gathered(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """Joins small pieces into writes of about _FLUSH bytes; large pieces pass through."""
    held: list[bytes] = []
    held_size = 0
    for piece in pieces:
        if len(piece) >= _FLUSH and not held:
            yield piece
            continue
        held.append(piece)
        held_size += len(piece)
        if held_size >= _FLUSH:
            yield b"".join(held)
            held, held_size = [], 0
    if held:
        yield b"".join(held)


def _random_bytes(rng: random.Random, n: int) -> Iterator[bytes]:
    while n > 0:
        k = min(n, _CHUNK)
        yield rng.randbytes(k)
        n -= k


# --- words ------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _words() -> dict:
    text = resources.files("catalog").joinpath("data/sample-words.json").read_text("utf-8")
    return json.loads(text)


def _theme_words(row: Row) -> dict:
    themes = _words()["themes"]
    return themes.get(row.key) or themes[_THEME_FOR_KIND[row.kind]]


def _theme_name(row: Row) -> str:
    return row.key if row.key in _words()["themes"] else _THEME_FOR_KIND[row.kind]


def _person(rng: random.Random) -> str:
    w = _words()
    return rng.choice(w["surnames"]) + rng.choice(w["given"])


def _date(rng: random.Random, year: int | None = None) -> str:
    """A day in 2013-2015; now and then only a year or a month, as real catalogues have."""
    start = dt.date(year or 2013, 1, 1)
    end = dt.date(year or 2015, 12, 31)
    day = start + dt.timedelta(days=rng.randrange((end - start).days + 1))
    form = rng.random()
    return f"{day.year}" if form < 0.1 else f"{day:%Y-%m}" if form < 0.25 else day.isoformat()


def _subjects(rng: random.Random, words: dict, *extra: str) -> list[str]:
    """2-4 subject words: the collection's own ("always"), the item's, then some at random."""
    picked = words.get("always", []) + list(extra)
    picked += rng.sample(words["subjects"], k=rng.randint(2, 4))
    return list(dict.fromkeys(picked))[:4]


def _ordered_sample(rng: random.Random, words: list[str], k: int) -> list[str]:
    """k of the words, kept in the list's order (概述 before 附录, 原文 before 译文)."""
    return [words[i] for i in sorted(rng.sample(range(len(words)), k=k))]


def _rights(rng: random.Random) -> str:
    return rng.choice(_words()["rights"])


def _sentence(rng: random.Random) -> str:
    p = _words()["prose"]
    opener = rng.choice(p["openers"]) if rng.random() < 0.4 else ""
    return (opener + rng.choice(p["subjects"]) + rng.choice(p["predicates"])
            + rng.choice(p["objects"]) + rng.choice(p["tails"]))


def _paragraph(rng: random.Random, low: int = 3, high: int = 6) -> str:
    return "".join(_sentence(rng) for _ in range(rng.randint(low, high)))


_CN_DIGITS = "〇一二三四五六七八九"


def _cn_year(year: int) -> str:
    return "".join(_CN_DIGITS[int(c)] for c in str(year))


def _cn_number(n: int) -> str:
    """1-99 in Chinese numerals (第三章, 第十二讲); larger numbers stay Arabic."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else "十" if tens == 1 else _CN_DIGITS[tens] + "十"
    return head + (_CN_DIGITS[ones] if ones else "")


# --- ebook: PDF -------------------------------------------------------------------------------

def _build_ebook(ctx: _RowContext, index: int, rng: random.Random, share: float | None) -> _Item:
    w = ctx.words
    topic = rng.choice(w["topics"])
    title = rng.choice(w["prefixes"]) + topic["topic"] + rng.choice(w["suffixes"])
    author, publisher, date = _person(rng), rng.choice(w["publishers"]), _date(rng)
    chapters = _ordered_sample(rng, w["chapters"], rng.randint(2, 4))
    pages, marks = _book_pages(rng, title, author, publisher, date[:4], chapters)
    name = f"{ctx.item_id(index)}.pdf"
    info = {"Title": title, "Author": author, "Subject": topic["topic"]}
    ctx.sink.write(ctx.dir / name, _pdf(pages, info, _share_per_file(share, 1), rng))
    count = "两" if len(chapters) == 2 else _cn_number(len(chapters))
    item = _Item(id=ctx.item_id(index), title=title, files=[name], creator=author, date=date,
                 subjects=_subjects(rng, w, *topic["subjects"]), rights=_rights(rng),
                 description=f"本书由{publisher}出版，共{count}章，介绍{topic['topic']}的"
                             f"{'、'.join(chapters)}等内容。{_sentence(rng)}")
    if index % 2 == 1:      # some books carry chapter marks, some do not
        item.segments = [_Segment("page", first, last, label, [topic["topic"]], name)
                         for label, first, last in marks]
    return item


_PDF_W, _PDF_H, _PDF_MARGIN = 595, 842, 72
_BODY_PT, _LEADING = 12, 20
_LINE_CHARS = (_PDF_W - 2 * _PDF_MARGIN) // _BODY_PT
_PAGE_LINES = 31


def _book_pages(rng: random.Random, title: str, author: str, publisher: str, year: str,
                chapters: list[str]) -> tuple[list[bytes], list[tuple[str, int, int]]]:
    """Content streams of a title page and 1-2 pages per chapter; the chapters' page ranges."""
    pages = [_pdf_title_page(title, author, publisher, year)]
    marks = []
    for number, name in enumerate(chapters, 1):
        heading = f"第{_cn_number(number)}章　{name}"
        lines = _wrap([_paragraph(rng) for _ in range(rng.randint(6, 16))], _LINE_CHARS)
        first = len(pages) + 1
        head_room = _PAGE_LINES - 2      # the heading takes two lines of the chapter's page
        chunks = [lines[:head_room]] + [lines[i:i + _PAGE_LINES]
                                        for i in range(head_room, len(lines), _PAGE_LINES)]
        for k, body in enumerate(chunks):
            pages.append(_pdf_text_page(heading if k == 0 else None, body, len(pages) + 1))
        marks.append((heading, first, len(pages)))
    return pages, marks


def _wrap(paragraphs: list[str], width: int) -> list[str]:
    lines = []
    for p in paragraphs:
        text = "\u3000\u3000" + p          # the customary two-character indent
        line = ""
        for ch in text:
            # Closing punctuation never starts a line: it hangs at the end of the previous one.
            if len(line) >= width and ch not in _NO_LINE_START:
                lines.append(line)
                line = ""
            line += ch
        lines.append(line)
    return lines


_NO_LINE_START = set("，。、；：？！）」』”’》")


def _pdf_hex(text: str) -> str:
    # UniGB-UCS2-H takes UCS-2 big-endian codes; hex keeps the content stream ASCII.
    return "<" + text.encode("utf-16-be").hex().upper() + ">"


def _pdf_show(size: int, x: float, y: float, text: str) -> str:
    return f"BT /F1 {size} Tf {x:.0f} {y:.0f} Td {_pdf_hex(text)} Tj ET"


def _pdf_title_page(title: str, author: str, publisher: str, year: str) -> bytes:
    def centred(size: int, y: int, text: str) -> str:
        return _pdf_show(size, (_PDF_W - size * len(text)) / 2, y, text)
    ops = [centred(24, 560, title), centred(14, 500, f"{author}　著"),
           centred(12, 140, publisher), centred(12, 118, _cn_year(int(year)) + "年")]
    return "\n".join(ops).encode("ascii")


def _pdf_text_page(heading: str | None, lines: list[str], number: int) -> bytes:
    y = _PDF_H - _PDF_MARGIN
    ops = []
    if heading:
        ops.append(_pdf_show(18, _PDF_MARGIN, y - 18, heading))
        y -= 2 * _LEADING
    ops.append(f"BT /F1 {_BODY_PT} Tf {_LEADING} TL {_PDF_MARGIN} {y - _BODY_PT} Td")
    ops.extend(f"{_pdf_hex(line)} Tj T*" for line in lines)
    ops.append("ET")
    ops.append(_pdf_show(9, _PDF_W / 2 - 12, 40, f"- {number} -"))
    return "\n".join(ops).encode("ascii")


# Half-width glyphs (CIDs 1-95: ASCII) of STSong-Light; every other CID is 1000 units wide.
_STSONG_WIDTHS = (
    "207 270 342 467 462 797 710 239 374 374 423 605 238 375 238 334 462 462 462 462 462 462 "
    "462 462 462 462 238 238 605 605 605 344 748 684 560 695 739 563 511 729 793 318 312 666 "
    "526 896 758 772 544 772 628 465 607 753 711 972 647 620 607 374 333 374 606 500 239 417 "
    "503 427 529 415 264 444 518 241 230 495 228 793 527 524 524 504 338 336 277 517 450 652 "
    "466 452 407 370 258 370 605")


def _pdf_fixed_objects(page_count: int, info: dict[str, str]) -> list[bytes]:
    kids = " ".join(f"{7 + 2 * i} 0 R" for i in range(page_count))
    info_entries = " ".join(f"/{k} <FEFF{v.encode('utf-16-be').hex().upper()}>"
                            for k, v in info.items())
    return [
        b"<< /Type /Catalog /Pages 2 0 R /Lang (zh-CN) >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {page_count} >>".encode(),
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H"
        b" /DescendantFonts [4 0 R] >>",
        (b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light"
         b" /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >>"
         b" /FontDescriptor 5 0 R /DW 1000 /W [1 [" + _STSONG_WIDTHS.encode() + b"]] >>"),
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6"
        b" /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 752 /Descent -271"
        b" /CapHeight 737 /StemV 58 >>",
        f"<< {info_entries} /Producer (libpush sample) >>".encode(),
    ]


def _pdf_stream(data: bytes) -> bytes:
    return b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def _pdf(pages: list[bytes], info: dict[str, str], pad_to: int | None,
         rng: random.Random) -> Iterator[bytes]:
    """A whole PDF: objects 1-6 fixed, then page/content pairs, then (when the share asks for
    it) one unreferenced padding stream, then the xref table and trailer."""
    bodies = _pdf_fixed_objects(len(pages), info)
    for i, content in enumerate(pages):
        bodies.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {_PDF_W} {_PDF_H}]"
                      f" /Resources << /Font << /F1 3 0 R >> >> /Contents {8 + 2 * i} 0 R >>"
                      .encode())
        bodies.append(_pdf_stream(content))
    head = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")   # binary comment: "this file is binary"
    offsets = []
    for number, body in enumerate(bodies, 1):
        offsets.append(len(head))
        head += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    pad = _pdf_padding_length(len(head), len(offsets), pad_to)
    if pad is None:
        yield bytes(head)
        yield _pdf_xref(offsets, len(head))
        return
    pad_number = len(offsets) + 1
    opening = b"%d 0 obj\n<< /Length %d >>\nstream\n" % (pad_number, pad)
    closing = b"\nendstream\nendobj\n"
    offsets.append(len(head))
    yield bytes(head) + opening
    yield from _random_bytes(rng, pad)
    yield closing + _pdf_xref(offsets, len(head) + len(opening) + pad + len(closing))


def _pdf_xref(offsets: list[int], xref_at: int) -> bytes:
    entries = "".join(f"{o:010d} 00000 n \n" for o in offsets)   # 20 bytes each, as required
    return (f"xref\n0 {len(offsets) + 1}\n0000000000 65535 f \n{entries}"
            f"trailer\n<< /Size {len(offsets) + 1} /Root 1 0 R /Info 6 0 R >>\n"
            f"startxref\n{xref_at}\n%%EOF\n").encode()


def _pdf_padding_length(head: int, objects: int, target: int | None) -> int | None:
    """The padding stream's length that makes the file ``target`` bytes, or None when the
    PDF is already that large. Digits of the numbers shift the overhead, hence the loop."""
    if target is None:
        return None

    def size(pad: int) -> int:
        opening = len(b"%d 0 obj\n<< /Length %d >>\nstream\n" % (objects + 1, pad))
        closing = len(b"\nendstream\nendobj\n")
        xref_at = head + opening + pad + closing
        return xref_at + len(_pdf_xref([0] * (objects + 1), xref_at))

    pad = target - size(0)
    if pad <= 0:
        return None
    for _ in range(4):
        pad = max(0, pad + target - size(pad))
    return pad


# --- text: classics HTML ----------------------------------------------------------------------

_HTML_STYLE = ("body{max-width:42em;margin:2em auto;padding:0 1em;line-height:1.9;"
               "font-family:serif}h1,h2{font-weight:normal}blockquote{font-size:1.15em}"
               ".sign{text-align:right}th{text-align:left;padding-right:1em}")


def _build_text(ctx: _RowContext, index: int, rng: random.Random, share: float | None) -> _Item:
    w = ctx.words
    work = rng.choice(w["works"])
    title = f"{work['title']}（{rng.choice(w['editions'])}）"
    editor = _person(rng)
    chapters = _ordered_sample(rng, w["chapters"], rng.randint(3, 5))
    name = f"{ctx.item_id(index)}.html"
    body = _classic_chapters(rng, work, chapters)
    intro = f'<h1>{html.escape(title)}</h1>\n<p class="by">{html.escape(work["author"])}　著　' \
            f"{html.escape(editor)}　注</p>\n" + _html_toc(chapters)
    ctx.sink.write(ctx.dir / name, _html_page(title, intro, body, _share_per_file(share, 1), rng))
    headings = [f"第{_cn_number(i)}章　{c}" for i, c in enumerate(chapters, 1)]
    return _Item(id=ctx.item_id(index), title=title, files=[name],
                 creator=f"{work['author']}著；{editor}注", date=_date(rng),
                 subjects=_subjects(rng, w, work["title"]), rights=_rights(rng),
                 description=f"{work['author']}《{work['title']}》，{editor}整理，分"
                             f"{'、'.join(chapters)}等{_cn_number(len(chapters))}章，"
                             f"适合基层读者诵读学习。",
                 segments=[_Segment("chapter", i, None, h, [work["title"], chapters[i - 1]], name)
                           for i, h in enumerate(headings, 1)])


def _html_toc(chapters: list[str]) -> str:
    links = "".join(f'<li><a href="#c{i}">第{_cn_number(i)}章　{html.escape(c)}</a></li>'
                    for i, c in enumerate(chapters, 1))
    return f"<nav><ol>{links}</ol></nav>\n"


def _classic_chapters(rng: random.Random, work: dict, chapters: list[str]) -> list[list[str]]:
    """Per chapter, its natural HTML blocks: heading, a quotation, commentary."""
    out = []
    for i, name in enumerate(chapters, 1):
        quote = work["lines"][(i - 1) % len(work["lines"])]
        blocks = [f'<h2 id="c{i}">第{_cn_number(i)}章　{html.escape(name)}</h2>\n',
                  f"<blockquote>{html.escape(quote)}</blockquote>\n"]
        blocks += [f"<p>{_paragraph(rng)}</p>\n" for _ in range(rng.randint(1, 3))]
        out.append(blocks)
    return out


def _html_page(title: str, intro: str, sections: list[list[str]], pad_to: int | None,
               rng: random.Random, outro: str = "") -> Iterator[bytes]:
    """An HTML page whose sections are each topped up with generated paragraphs, so that the
    padding is spread over the chapters and the page ends near ``pad_to`` bytes (within a
    paragraph). ``outro`` (a signature) follows the padding."""
    head = ("<!doctype html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{_HTML_STYLE}</style>\n</head>\n"
            f"<body>\n<article>\n{intro}").encode()
    tail = (outro + "</article>\n</body>\n</html>\n").encode()
    yield head
    written = len(head)
    target = 0 if pad_to is None else pad_to - len(tail)
    for k, blocks in enumerate(sections, 1):
        for block in blocks:
            data = block.encode()
            written += len(data)
            yield data
        while written < target * k / len(sections):
            data = f"<p>{_paragraph(rng)}</p>\n".encode()
            written += len(data)
            yield data
    yield tail


# --- journal: folders of page JPEGs -----------------------------------------------------------

def _build_journal(ctx: _RowContext, index: int, rng: random.Random,
                   share: float | None) -> _Item:
    w = ctx.words
    jid = ctx.item_id(index)
    name = w["names"][(index - 1) % len(w["names"])]
    if index > len(w["names"]):
        name = f"{name}（{_cn_number((index - 1) // len(w['names']) + 1)}）"
    issues = sorted(rng.sample(range(1, 13), k=rng.randint(2, 4)))
    pages_per_issue = [rng.randint(4, 8) for _ in issues]
    page_share = _share_per_file(share, sum(pages_per_issue))
    colour = _bright(rng)
    for number, pages in zip(issues, pages_per_issue):
        folder = f"{ISSUE_YEAR}年第{number:02d}期"
        for page in range(1, pages + 1):
            image = _journal_page(rng, colour, number, page)
            ctx.sink.write(ctx.dir / jid / folder / f"p{page:03d}.jpg",
                           _jpeg(image, page_share, rng, quality=70))
    return _Item(id=jid, title=f"《{name}》{ISSUE_YEAR}年", files=[f"{jid}/"],
                 creator=f"《{name}》{rng.choice(w['publishers'])}",
                 date=f"{ISSUE_YEAR}-{issues[0]:02d}", subjects=_subjects(rng, w),
                 rights=_rights(rng),
                 description=f"《{name}》{ISSUE_YEAR}年第"
                             f"{'、'.join(f'{n:02d}' for n in issues)}期，原版原式页面图像。")


def _journal_page(rng: random.Random, colour: tuple, issue: int, page: int) -> Image.Image:
    img = Image.new("RGB", (480, 640), (250, 248, 240))
    d = ImageDraw.Draw(img)
    if page == 1:   # the cover: a band of the journal's colour and a large picture block
        d.rectangle((0, 0, 479, 150), fill=colour)
        d.rectangle((40, 190, 440, 520), fill=_muted(rng))
        for _ in range(6):
            x, y = rng.randrange(60, 380), rng.randrange(210, 460)
            d.ellipse((x, y, x + rng.randrange(20, 80), y + rng.randrange(20, 60)),
                      fill=_bright(rng))
    else:           # two columns of "text" lines and now and then a figure
        d.rectangle((30, 24, 450, 30), fill=colour)
        for col in (30, 250):
            y = 50
            while y < 590:
                if rng.random() < 0.06 and y < 460:
                    d.rectangle((col, y, col + 200, y + 110), fill=_muted(rng))
                    y += 124
                    continue
                d.line((col, y, col + rng.randrange(120, 200), y), fill=(90, 90, 90), width=3)
                y += 11
    d.text((30, 610), f"{ISSUE_YEAR}  No.{issue:02d}  p.{page}", fill=(60, 60, 60),
           font=ImageFont.load_default())
    return img


# --- video and audio: committed clips, padded -------------------------------------------------

@lru_cache(maxsize=None)
def _media(name: str) -> bytes:
    return resources.files("catalog").joinpath(f"data/media/{name}").read_bytes()


def _build_video(ctx: _RowContext, index: int, rng: random.Random, share: float | None) -> _Item:
    title, creator, keywords, description = _video_title(ctx, rng)
    name = f"{ctx.item_id(index)}.mp4"
    clip = _media("clip.mp4")
    pad = max(0, (_share_per_file(share, 1) or 0) - len(clip))
    ctx.sink.write(ctx.dir / name, _mp4_with_free_box(clip, pad, rng))
    item = _Item(id=ctx.item_id(index), title=title, files=[name], creator=creator,
                 date=_date(rng), subjects=_subjects(rng, ctx.words, *keywords[:1]),
                 rights=_rights(rng), description=description)
    if index % 2 == 1:      # three 4-second scenes in the clip, one mark each
        labels = sorted(rng.sample(range(len(ctx.words["segments"])), k=3))
        step = CLIP_SECONDS // 3
        item.segments = [_Segment("time", k * step, (k + 1) * step,
                                  ctx.words["segments"][j], keywords, name)
                         for k, j in enumerate(labels)]
    return item


def _video_title(ctx: _RowContext, rng: random.Random) -> tuple[str, str, list[str], str]:
    """Title, creator, keywords and description of a video, in the manner of its row."""
    w, theme = ctx.words, _theme_name(ctx.row)
    episode = _cn_number(rng.randint(1, 12))
    if theme == "local-opera":
        g = rng.choice(w["genres"])
        play, version = rng.choice(g["plays"]), rng.choice(w["versions"])
        return (f"{g['genre']}《{play}》{version}", g["troupe"], [g["genre"], play],
                f"{g['troupe']}演出的{g['genre']}《{play}》{version}。{_sentence(rng)}")
    if theme == "documentaries":
        s = rng.choice(w["series"])
        return (f"{s}（第{episode}集）", rng.choice(w["producers"]), [s],
                f"大型纪录片《{s}》第{episode}集。{_sentence(rng)}")
    if theme == "intangible-heritage":
        c = rng.choice(w["crafts"])
        return (f"非遗传承：{c}", f"传承人 {_person(rng)}", [c],
                f"介绍{c}的历史渊源、工艺流程与传承现状。")
    if theme == "children-video":
        s, kind = rng.choice(w["stories"]), rng.choice(w["kinds"])
        return (f"{kind}：{s}", "国家图书馆少儿馆", [s],
                f"{kind}《{s}》，适合学龄前及小学低年级儿童观看。")
    if theme == "ethnic-video":
        p, t = rng.choice(w["peoples"]), rng.choice(w["topics"])
        return (f"{p}{t}", rng.choice(["国家民委民族影像中心", "云南民族电子音像出版社"]), [p, t],
                f"记录{p}的{t}。{_sentence(rng)}")
    lecturer = f"{_person(rng)}（{rng.choice(w['institutions'])}）"
    if rng.random() < 0.5:
        book = rng.choice(w["books"])
        return (f"《{book}》选讲 第{episode}讲", lecturer, [book],
                f"国图公开课：{lecturer}讲《{book}》。{_sentence(rng)}")
    topic = rng.choice(w["topics"])
    return (f"{topic}专题讲座 第{episode}讲", lecturer, [topic],
            f"国图公开课：{lecturer}讲{topic}。{_sentence(rng)}")


def _mp4_with_free_box(clip: bytes, pad: int, rng: random.Random) -> Iterator[bytes]:
    """The clip, then a top-level ``free`` box of ``pad`` bytes. The clip's moov comes first
    and holds absolute offsets into mdat, so the box goes after mdat, where nothing moves."""
    yield clip
    if pad < 8:                 # a box needs 8 bytes; a few bytes short of the share is fine
        return
    if pad <= 0xFFFFFFFF:
        header = struct.pack(">I4s", pad, b"free")
    else:                       # size 1: the real size follows as 64 bits
        header = struct.pack(">I4sQ", 1, b"free", pad)
    yield header
    yield from _random_bytes(rng, pad - len(header))


def _build_audio(ctx: _RowContext, index: int, rng: random.Random, share: float | None) -> _Item:
    w = ctx.words
    poem = w["poems"][(index - 1) % len(w["poems"])]
    title = f"{poem['poet']}《{poem['title']}》诵读"
    reader = rng.choice(w["readers"])
    if reader == "播音员":
        reader = f"播音员 {_person(rng)}"
    name = f"{ctx.item_id(index)}.mp3"
    ctx.sink.write(ctx.dir / name,
                   _mp3_with_tag(_media("poem.mp3"), title, reader, _share_per_file(share, 1), rng))
    item = _Item(id=ctx.item_id(index), title=title, files=[name], creator=reader,
                 date=_date(rng), subjects=_subjects(rng, w), rights=_rights(rng),
                 description=f"{poem['poet']}的五言绝句《{poem['title']}》：" +
                             "，".join(poem["lines"]) + "。")
    if index % 2 == 1:      # one mark per line of the quatrain, 2 s each
        step = POEM_SECONDS // len(poem["lines"])
        item.segments = [_Segment("time", k * step, (k + 1) * step, line,
                                  [poem["title"], poem["poet"]], name)
                         for k, line in enumerate(poem["lines"])]
    return item


_ID3_MAX = (1 << 28) - 1        # an ID3v2 size is 28 bits, written 7 bits a byte


def _mp3_with_tag(mp3: bytes, title: str, artist: str, pad_to: int | None,
                  rng: random.Random) -> Iterator[bytes]:
    """An ID3v2.4 tag (title, artist and, to reach the share, a PRIV frame of random bytes),
    then the MP3 frames. Players skip the tag by its declared size."""
    frames = _id3_frame(b"TIT2", b"\x03" + title.encode()) + \
        _id3_frame(b"TPE1", b"\x03" + artist.encode())
    owner = b"libpush-sample\x00"
    room = 0 if pad_to is None else pad_to - len(mp3) - 10 - len(frames) - 10 - len(owner)
    room = min(room, _ID3_MAX - len(frames) - 10 - len(owner))
    tag_size = len(frames) + (10 + len(owner) + room if room > 0 else 0)
    yield b"ID3\x04\x00\x00" + _synchsafe(tag_size) + frames
    if room > 0:
        yield b"PRIV" + _synchsafe(len(owner) + room) + b"\x00\x00" + owner
        yield from _random_bytes(rng, room)
    yield mp3


def _id3_frame(frame_id: bytes, body: bytes) -> bytes:
    return frame_id + _synchsafe(len(body)) + b"\x00\x00" + body


def _synchsafe(n: int) -> bytes:
    return bytes(((n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F))


# --- pictures ---------------------------------------------------------------------------------

def _build_picture(ctx: _RowContext, index: int, rng: random.Random,
                   share: float | None) -> _Item:
    w, theme = ctx.words, _theme_name(ctx.row)
    name = f"{ctx.item_id(index)}.jpg"
    if theme == "new-year-paintings":
        place, drawn = rng.choice(w["places"]), rng.choice(w["subjects_drawn"])
        title, creator = f"{place}木版年画《{drawn}》", f"{place}年画社"
        extra, image = [drawn], _new_year_painting(rng)
        description = f"{place}木版年画，题材为“{drawn}”，色彩鲜艳，寓意吉祥。"
    elif theme == "old-photos":
        title, description = _old_photo_caption(rng, w, index)
        creator, extra, image = rng.choice(w["photographers"]), [], _old_photo(rng)
    else:
        people, topic = rng.choice(w["peoples"]), rng.choice(w["topics"])
        title, creator = f"{people}{topic}", f"摄影：{_person(rng)}"
        extra, image = [people], _ethnic_picture(rng)
        description = f"{people}的{topic}。{_sentence(rng)}"
    ctx.sink.write(ctx.dir / name, _jpeg(image, _share_per_file(share, 1), rng))
    return _Item(id=ctx.item_id(index), title=title, files=[name], creator=creator,
                 date=_date(rng), subjects=_subjects(rng, w, *extra), rights=_rights(rng),
                 description=description)


def _old_photo_caption(rng: random.Random, w: dict, index: int) -> tuple[str, str]:
    # Archive captions of old photographs are often in Traditional script: every tenth one is,
    # so that search folding Traditional to Simplified has something to find.
    if index % 10 == 3:
        caption = w["traditional"][(index // 10) % len(w["traditional"])]
        return caption, f"{caption}，原件藏於地方檔案館。"
    place, scene, era = rng.choice(w["places"]), rng.choice(w["scenes"]), rng.choice(w["eras"])
    return f"{place}{scene}（{era}）", f"{era}{place}一带的{scene}，黑白照片，反映当时的城市风貌。"


def _bright(rng: random.Random) -> tuple[int, int, int]:
    return rng.choice([(190, 30, 40), (220, 160, 30), (30, 110, 60), (30, 70, 160),
                       (150, 40, 130), (230, 90, 40), (20, 140, 150)])


def _muted(rng: random.Random) -> tuple[int, int, int]:
    return tuple(rng.randrange(120, 220) for _ in range(3))


def _new_year_painting(rng: random.Random) -> Image.Image:
    """Red ground, gold borders, a medallion and a mirrored pair of figures."""
    w, h = 360, 480
    img = Image.new("RGB", (w, h), (170 + rng.randrange(40), 20, 30))
    d = ImageDraw.Draw(img)
    gold = (235, 190, 60)
    d.rectangle((8, 8, w - 9, h - 9), outline=gold, width=6)
    d.rectangle((22, 22, w - 23, h - 23), outline=gold, width=2)
    cx, cy, r = w // 2, 150, 70
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=gold)
    d.regular_polygon((cx, cy, r - 18), n_sides=rng.choice((4, 6, 8)), fill=_bright(rng))
    for side in (-1, 1):            # the figures mirror each other, as door gods do
        x = cx + side * 85
        colour = _bright(rng)
        d.ellipse((x - 22, 260, x + 22, 304), fill=(245, 215, 180))
        d.polygon([(x - 45, 440), (x + 45, 440), (x + 25, 304), (x - 25, 304)], fill=colour)
        d.rectangle((x - 30, 250, x + 30, 262), fill=(30, 30, 30))
    for _ in range(rng.randint(3, 6)):   # fish and coins scattered around
        x, y = rng.randrange(40, w - 80), rng.randrange(330, h - 60)
        d.ellipse((x, y, x + 40, y + 18), fill=gold)
        d.polygon([(x + 40, y + 9), (x + 52, y), (x + 52, y + 18)], fill=gold)
    return img


def _old_photo(rng: random.Random) -> Image.Image:
    """A street: sky, ground, a row of buildings with windows, in sepia."""
    w, h = 320, 240
    img = Image.new("L", (w, h), 200)
    d = ImageDraw.Draw(img)
    horizon = rng.randrange(h // 3, 2 * h // 3)
    for y in range(horizon):
        d.line((0, y, w, y), fill=215 - y // 3)
    d.rectangle((0, horizon, w, h), fill=100 + rng.randrange(50))
    x = rng.randrange(-20, 10)
    while x < w:
        bw, bh = rng.randrange(30, 70), rng.randrange(30, horizon - 10)
        d.rectangle((x, horizon - bh, x + bw, horizon + 20), fill=rng.randrange(50, 150))
        for wy in range(horizon - bh + 8, horizon + 5, 16):
            for wx in range(x + 5, x + bw - 8, 12):
                d.rectangle((wx, wy, wx + 5, wy + 8), fill=rng.randrange(20, 70))
        x += bw + rng.randrange(0, 8)
    return ImageOps.colorize(img, black=(40, 25, 10), white=(240, 225, 190))


def _ethnic_picture(rng: random.Random) -> Image.Image:
    """Woven bands with diamond patterns, as on brocade and embroidered sleeves."""
    w, h = 400, 300
    img = Image.new("RGB", (w, h), _bright(rng))
    d = ImageDraw.Draw(img)
    y = 0
    while y < h:
        band = rng.randrange(24, 60)
        d.rectangle((0, y, w, y + band), fill=_bright(rng))
        colour, size = _bright(rng), band // 2 - 2
        for x in range(size, w, 2 * size + 4):
            c = y + band // 2
            d.polygon([(x, c - size), (x + size, c), (x, c + size), (x - size, c)], fill=colour)
        y += band + 4
    return img


def _jpeg(image: Image.Image, pad_to: int | None, rng: random.Random,
          quality: int = 80) -> Iterator[bytes]:
    """The image as JPEG, grown to ``pad_to`` bytes with COM segments (comments every decoder
    skips), placed after the SOI and APPn headers where JFIF expects nothing else."""
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality)
    data = buf.getvalue()
    pad = 0 if pad_to is None else pad_to - len(data)
    if pad < 4:                 # a COM segment is at least 4 bytes
        yield data
        return
    at = _after_app_segments(data)
    yield data[:at]
    yield from _com_segments(rng, pad)
    yield data[at:]


def _after_app_segments(jpeg: bytes) -> int:
    at = 2                                          # after SOI
    while jpeg[at] == 0xFF and 0xE0 <= jpeg[at + 1] <= 0xEF:
        at += 2 + struct.unpack(">H", jpeg[at + 2:at + 4])[0]
    return at


def _com_segments(rng: random.Random, total: int) -> Iterator[bytes]:
    """COM segments adding exactly ``total`` (≥ 4) bytes. A segment carries at most 65533 bytes
    after its 4-byte marker and length; sizes are spread evenly so none falls below 4."""
    count = -(-total // 65537)
    base, extra = divmod(total, count)
    for k in range(count):
        size = base + (1 if k < extra else 0)
        yield b"\xff\xfe" + struct.pack(">H", size - 2) + rng.randbytes(size - 4)


# --- records: government information HTML ----------------------------------------------------

def _build_record(ctx: _RowContext, index: int, rng: random.Random, share: float | None) -> _Item:
    w = ctx.words
    province, short = rng.choice(w["provinces"])
    dept, form = rng.choice(w["departments"]), rng.choice(w["forms"])
    date = _date(rng)
    year = int(date[:4])
    topic = rng.choice(dept["topics"])
    title = form["title"].format(year=_cn_year(year), topic=topic)
    issuer = province + dept["name"]
    number = f"{short}{dept['short']}发〔{year}〕{rng.randint(1, 120)}号"
    name = f"{ctx.item_id(index)}.html"
    intro = (f"<h1>{html.escape(title)}</h1>\n<table class=\"meta\">"
             f"<tr><th>发文机关</th><td>{html.escape(issuer)}</td></tr>"
             f"<tr><th>发布日期</th><td>{date}</td></tr>"
             f"<tr><th>文号</th><td>{number}</td></tr>"
             f"<tr><th>索引号</th><td>{short}-{year}-{index:06d}</td></tr></table>\n")
    body = ["<p>各市、县（区）人民政府，省直有关单位：</p>\n",
            f"<p>为做好{_cn_year(year)}年{html.escape(topic)}工作，根据国家有关规定，结合本省实际，"
            f"{form['lead']}{_sentence(rng)}</p>\n"]
    sign = f"<p class=\"sign\">{html.escape(issuer)}<br>{date}</p>\n"
    ctx.sink.write(ctx.dir / name,
                   _html_page(title, intro, [body], _share_per_file(share, 1), rng, outro=sign))
    return _Item(id=ctx.item_id(index), title=title, files=[name], creator=issuer, date=date,
                 subjects=_subjects(rng, w, dept["subject"]), rights="依法主动公开",
                 description=f"{issuer}发布的{topic}相关信息，文号{number}。")


_BUILDERS: dict[str, Callable[[_RowContext, int, random.Random, float | None], _Item]] = {
    "ebook": _build_ebook, "text": _build_text, "journal": _build_journal,
    "video": _build_video, "audio": _build_audio, "picture": _build_picture,
    "record": _build_record,
}
