"""The sample library: deterministic, sized by the table, real formats, readable metadata.

Everything runs on small fractions of the 2015 table (a few MB), without ffmpeg; the optional
ffprobe test runs only where ffprobe is installed.
"""
from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import re
import struct
import subprocess
import unicodedata
from pathlib import Path

import blake3
import pytest
from PIL import Image

from catalog import sample
from catalog.errors import UserError
from catalog.sample import write_sample, item_count
from catalog.table import Table, load_table
from conftest import need_tool

ITEMS, BYTES = 0.001, 2e-6        # about 300 items and 9 MB: the shared tree of this module
SMALL = dict(items=0.0005, bytes_fraction=5e-7)    # for the trees written twice
CONTENT_SKIP = {"metadata.csv", "segments.csv"}
METADATA_COLUMNS = {"id", "title", "files", "creator", "date", "subjects", "description",
                    "language", "rights"}
ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
DATE_RE = re.compile(r"^(2013|2014|2015)(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$")


@pytest.fixture(scope="module")
def table() -> Table:
    return load_table()


@pytest.fixture(scope="module")
def tree(tmp_path_factory, table):
    """One sample tree shared by the read-only tests, with what progress() heard."""
    out = tmp_path_factory.mktemp("sample") / "source"
    heard: list[int] = []
    summary = write_sample(out, items=ITEMS, bytes_fraction=BYTES, seed=1, table=table,
                           progress=heard.append)
    return out, summary, heard


def digests(root: Path) -> dict[str, tuple[str, str]]:
    """Every file under root by relative path: (BLAKE3, SHA-256)."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            data = p.read_bytes()
            out[p.relative_to(root).as_posix()] = (blake3.blake3(data).hexdigest(),
                                                   hashlib.sha256(data).hexdigest())
    return out


def read_csv(path: Path) -> list[dict]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), f"{path} has no UTF-8 BOM"
    return list(csv.DictReader(raw.decode("utf-8-sig").splitlines(keepends=True)))


def content_files(collection: Path) -> list[Path]:
    return sorted(p for p in collection.rglob("*") if p.is_file() and p.name not in CONTENT_SKIP)


def claimed(collection: Path, entries: list[str]) -> set[Path]:
    files = set()
    for entry in entries:
        target = collection / entry
        if entry.endswith("/"):
            assert target.is_dir(), entry
            files |= {p for p in target.rglob("*") if p.is_file()}
        else:
            assert target.is_file(), entry
            files.add(target)
    return files


def files_of_kind(root: Path, suffix: str) -> list[Path]:
    return sorted(root.rglob(f"*{suffix}"))


# --- determinism ------------------------------------------------------------------------------

def test_same_arguments_give_a_byte_identical_tree(tmp_path, table):
    write_sample(tmp_path / "a", seed=7, table=table, **SMALL)
    write_sample(tmp_path / "b", seed=7, table=table, **SMALL)
    first, second = digests(tmp_path / "a"), digests(tmp_path / "b")
    assert first == second
    assert len(first) > 100


def test_another_seed_gives_another_tree(tmp_path, table):
    write_sample(tmp_path / "a", seed=1, table=table, **SMALL)
    write_sample(tmp_path / "b", seed=2, table=table, **SMALL)
    first, second = digests(tmp_path / "a"), digests(tmp_path / "b")
    differing = [p for p in first if p in second and first[p] != second[p]]
    assert len(differing) > len(first) // 2


# --- counts and sizes -------------------------------------------------------------------------

def test_every_row_has_its_fraction_of_items(tree, table):
    out, summary, _ = tree
    unlisted = []
    for row in table.rows:
        collection = out / row.key
        lines = read_csv(collection / "metadata.csv")
        left = set(content_files(collection)) - claimed(collection, [l["files"] for l in lines])
        unlisted += [p.relative_to(out).as_posix() for p in left]
        expected = max(1, round(ITEMS * row.items))
        assert len(lines) + len(left) == expected == item_count(row, ITEMS), row.key
    assert unlisted == summary.unlisted == ["ethnic-pictures/ep0002.jpg"]


def test_summary_counts_what_is_on_disk(tree, table):
    out, summary, heard = tree
    assert [r.key for r in summary.rows] == [r.key for r in table.rows]
    for r in summary.rows:
        files = content_files(out / r.key)
        assert r.files == len(files), r.key
        assert r.bytes == sum(p.stat().st_size for p in files), r.key
    on_disk = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    assert summary.written == sum(heard) == on_disk
    assert summary.items == sum(item_count(r, ITEMS) for r in table.rows)
    assert max(heard) <= sample._CHUNK + sample._FLUSH     # written in pieces, never whole
    d = summary.to_dict()
    assert json.loads(json.dumps(d))["items"] == summary.items
    assert d["rows"][0].keys() >= {"row", "key", "items", "files", "bytes"}


def test_rows_with_a_capacity_reach_their_share(tree, table):
    out, summary, _ = tree
    for r in summary.rows:
        row = table.row(r.key)
        if row.tb is None:
            continue
        planned = row.tb * 1e12 * BYTES
        assert r.planned_bytes == round(planned)
        # Padded up to the share: never below it (a few bytes of rounding per file aside).
        assert r.bytes >= planned - 8 * r.files, r.key
    # Where the share dwarfs the natural size, the row lands on it.
    for key, slack in (("open-courses", 8), ("ebooks", 8), ("classics", 2000)):
        r = next(x for x in summary.rows if x.key == key)
        assert abs(r.bytes - r.planned_bytes) <= slack * r.files, key


def test_old_photos_keep_their_natural_size(tree, table):
    out, summary, _ = tree
    assert table.row(12).tb is None
    r = next(x for x in summary.rows if x.row == 12)
    assert r.planned_bytes is None
    for p in content_files(out / r.key):
        data = p.read_bytes()
        assert b"\xff\xfe" not in data[:jpeg_header_end(data)], p.name   # no COM padding
        assert len(data) < 100_000


# --- formats ----------------------------------------------------------------------------------

def check_pdf(data: bytes) -> None:
    assert data.startswith(b"%PDF-1.")
    assert data.endswith(b"%%EOF\n")
    at = int(data[data.rindex(b"startxref") + len(b"startxref"):].split()[0])
    assert data[at:at + 5] == b"xref\n"
    lines = data[at:at + 64].split(b"\n")
    first, count = map(int, lines[1].split())
    table_at = at + len(lines[0]) + len(lines[1]) + 2
    for i in range(count):
        entry = data[table_at + 20 * i:table_at + 20 * (i + 1)]
        offset, kind = int(entry[:10]), entry[17:18]
        if kind == b"n":
            assert data[offset:].startswith(b"%d 0 obj" % (first + i)), (first + i, offset)
    assert b"/Size %d " % count in data[table_at + 20 * count:]


def test_pdfs_have_a_true_xref_and_chinese_text(tree):
    out, _, _ = tree
    pdfs = files_of_kind(out, ".pdf")
    assert pdfs
    for p in pdfs:
        data = p.read_bytes()
        check_pdf(data)
        assert b"/BaseFont /STSong-Light" in data and b"/Encoding /UniGB-UCS2-H" in data
        assert b"/Registry (Adobe) /Ordering (GB1)" in data
    # A chapter heading, as UCS-2 hex, is on the page its segment names.
    first = read_csv(out / "ebooks" / "segments.csv")[0]
    heading = first["label"].encode("utf-16-be").hex().upper().encode()
    assert heading in (out / "ebooks" / first["file"]).read_bytes()
    assert first["kind"] == "page" and int(first["start"]) >= 2


def test_padded_pdf_lands_on_its_share_exactly(tmp_path):
    import random
    pages = [sample._pdf_title_page("测试", "作者", "出版社", "2014")]
    for target in (5000, 99_990, 100_000, 1_000_003):
        data = b"".join(sample._pdf(pages, {"Title": "测试"}, target, random.Random(1)))
        check_pdf(data)
        assert len(data) == target


def jpeg_header_end(data: bytes) -> int:
    """Where the segments before the first non-APP, non-COM marker end."""
    at = 2
    while data[at] == 0xFF and (0xE0 <= data[at + 1] <= 0xEF or data[at + 1] == 0xFE):
        at += 2 + struct.unpack(">H", data[at + 2:at + 4])[0]
    return at


def test_every_jpeg_opens_and_padding_is_comment_segments(tree):
    out, _, _ = tree
    jpegs = files_of_kind(out, ".jpg")
    assert len(jpegs) > 30
    padded = 0
    for p in jpegs:
        with Image.open(p) as im:
            im.verify()
        with Image.open(p) as im:
            im.load()
            assert im.format == "JPEG" and im.width > 100
        data = p.read_bytes()
        assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
        at = 2
        while data[at + 1] in range(0xE0, 0xF0) or data[at + 1] == 0xFE:
            length = struct.unpack(">H", data[at + 2:at + 4])[0]
            assert 2 <= length <= 65535
            padded += data[at + 1] == 0xFE
            at += 2 + length
    assert padded > 0


def mp4_boxes(data: bytes) -> list[tuple[bytes, int]]:
    boxes, at = [], 0
    while at < len(data):
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        if size == 1:
            size = struct.unpack(">Q", data[at + 8:at + 16])[0]
        assert size >= 8, (kind, at)
        boxes.append((kind, size))
        at += size
    assert at == len(data), "box sizes do not add up to the file size"
    return boxes


def test_mp4s_are_whole_boxes_with_moov_first(tree):
    out, _, _ = tree
    videos = files_of_kind(out, ".mp4")
    assert len(videos) >= 6
    for p in videos:
        kinds = [k for k, _ in mp4_boxes(p.read_bytes())]
        assert kinds[0] == b"ftyp"
        assert b"moov" in kinds and b"mdat" in kinds
        assert kinds.index(b"moov") < kinds.index(b"mdat")
    big = (out / "open-courses").glob("*.mp4")
    assert all(mp4_boxes(p.read_bytes())[-1][0] == b"free" for p in big)


def test_free_box_uses_64_bit_size_when_needed():
    import random
    pieces = sample._mp4_with_free_box(b"", 1 << 33, random.Random(1))
    next(pieces)                                # the clip; the 8 GB that follow stay unmade
    head = next(pieces)
    assert struct.unpack(">I4sQ", head) == (1, b"free", 1 << 33)


def test_mp3_has_an_id3_tag_then_frames(tree):
    out, _, _ = tree
    for p in files_of_kind(out, ".mp3"):
        data = p.read_bytes()
        assert data[:4] == b"ID3\x04"
        size = 0
        for b in data[6:10]:
            assert b < 0x80
            size = size << 7 | b
        frame = data[10 + size:]
        assert frame[0] == 0xFF and frame[1] & 0xE0 == 0xE0
        assert b"TIT2" in data[:10 + size]
        assert frame == sample._media("poem.mp3")


def test_html_is_utf8_with_chapters(tree):
    out, _, _ = tree
    pages = files_of_kind(out, ".html")
    assert pages
    for p in pages:
        text = p.read_bytes().decode("utf-8")
        assert text.startswith("<!doctype html>")
        assert '<meta charset="utf-8">' in text and 'lang="zh-CN"' in text
        assert text.rstrip().endswith("</html>")
    segments = read_csv(out / "classics" / "segments.csv")
    assert segments
    for s in segments:
        assert s["kind"] == "chapter"
        text = (out / "classics" / s["file"]).read_text("utf-8")
        assert f'<h2 id="c{s["start"]}">{s["label"]}</h2>' in text
    record = (out / "gov-info" / "gi0001.html").read_text("utf-8")
    for label in ("发文机关", "发布日期", "文号"):
        assert label in record


def test_journals_are_issue_folders_of_pages(tree):
    out, _, _ = tree
    (line,) = read_csv(out / "journals" / "metadata.csv")
    assert line["files"].endswith("/")
    issues = sorted(p for p in (out / "journals" / line["files"]).iterdir())
    assert 2 <= len(issues) <= 4
    for issue in issues:
        assert re.fullmatch(r"2014年第(0[1-9]|1[0-2])期", issue.name)
        pages = sorted(p.name for p in issue.iterdir())
        assert 4 <= len(pages) <= 8
        assert pages == [f"p{i:03d}.jpg" for i in range(1, len(pages) + 1)]


# --- metadata ---------------------------------------------------------------------------------

def test_metadata_is_complete_and_chinese(tree, table):
    out, _, _ = tree
    all_subjects = set()
    for row in table.rows:
        lines = read_csv(out / row.key / "metadata.csv")
        ids = [l["id"] for l in lines]
        assert len(set(ids)) == len(ids)
        for l in lines:
            assert set(l) == METADATA_COLUMNS
            assert ID_RE.match(l["id"]), l["id"]
            assert re.search(r"[\u4e00-\u9fff]", l["title"]), l["title"]
            assert l["creator"] and l["description"] and l["rights"]
            assert l["language"] == "zh"
            assert DATE_RE.match(l["date"]), l["date"]
            words = re.split("[;；]", l["subjects"])
            assert 2 <= len(words) <= 4 and all(words), l["subjects"]
            all_subjects |= set(words)
            claimed(out / row.key, l["files"].split("|"))       # every listed file exists
    # Search wants 1- and 2-character words, and words whose Traditional form differs
    # (历史/歷史, 唐诗/唐詩, 少数民族/少數民族, 年画/年畫, 老照片, 政府信息/政府資訊).
    assert any(len(w) == 1 for w in all_subjects)
    assert {"唐诗", "少数民族", "年画", "老照片", "政府信息"} <= all_subjects


def test_segments_point_into_their_items(tree, table):
    out, _, _ = tree
    seen_kinds = set()
    for row in table.rows:
        path = out / row.key / "segments.csv"
        if not path.exists():
            continue
        items = {l["id"]: l for l in read_csv(out / row.key / "metadata.csv")}
        for s in read_csv(path):
            assert s["item_id"] in items
            assert s["file"] in items[s["item_id"]]["files"].split("|")
            assert s["label"]
            seen_kinds.add(s["kind"])
            if s["kind"] == "time":
                limit = sample.CLIP_SECONDS if row.kind == "video" else sample.POEM_SECONDS
                assert 0 <= float(s["start"]) < float(s["end"]) <= limit
    assert seen_kinds == {"page", "chapter", "time"}


def test_old_photos_include_traditional_captions(tree):
    out, _, _ = tree
    titles = [l["title"] for l in read_csv(out / "old-photos" / "metadata.csv")]
    assert any("國" in t or "灣" in t or "關" in t or "書" in t or "勸" in t for t in titles)


RESERVED = re.compile(r"^(CON|PRN|AUX|NUL|COM[1-9]|LPT[1-9])(\..*)?$", re.IGNORECASE)


def test_every_name_is_portable(tree):
    out, _, _ = tree
    seen = set()
    for p in out.rglob("*"):
        rel = p.relative_to(out).as_posix()
        for part in rel.split("/"):
            assert unicodedata.normalize("NFC", part) == part
            assert not set(part) & set('<>:"|?*\\') and part.isprintable()
            assert not RESERVED.match(part) and not part.endswith((" ", "."))
            assert part.isascii() or re.fullmatch(r"2014年第\d\d期", part), part
        folded = unicodedata.normalize("NFC", rel).casefold()
        assert folded not in seen
        seen.add(folded)


# --- the target folder ------------------------------------------------------------------------

def test_refuses_a_folder_that_is_not_empty(tmp_path, table):
    out = tmp_path / "full"
    out.mkdir()
    (out / "x.txt").write_text("x")
    with pytest.raises(UserError) as e:
        write_sample(out, table=table, **SMALL)
    assert e.value.code == "bundle_exists"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full"]


def test_fills_an_empty_folder(tmp_path, table):
    out = tmp_path / "empty"
    out.mkdir()
    write_sample(out, table=table, **SMALL)
    assert (out / "ebooks" / "metadata.csv").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


def test_an_interrupted_run_leaves_nothing(tmp_path, table):
    written = []

    def stop_midway(n: int) -> None:
        written.append(n)
        if sum(written) > 200_000:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_sample(tmp_path / "out", table=table, progress=stop_midway, **SMALL)
    assert list(tmp_path.iterdir()) == []


def test_another_table_borrows_word_lists_by_kind(tmp_path, table):
    rows = (dataclasses.replace(table.row(5), key="county-opera", items=20, tb=1.0),
            dataclasses.replace(table.row(12), key="village-photos", items=30))
    custom = dataclasses.replace(table, id="custom", rows=rows)
    summary = write_sample(tmp_path / "out", items=0.1, bytes_fraction=1e-6, table=custom)
    assert [(r.key, r.items) for r in summary.rows] == [("county-opera", 2), ("village-photos", 3)]
    assert summary.unlisted == ["village-photos/vp0003.jpg"]
    assert (tmp_path / "out" / "county-opera" / "co0001.mp4").stat().st_size == 500_000


# --- outside tools, where present -------------------------------------------------------------

def test_ffprobe_reads_padded_media(tree):
    ffprobe = need_tool("ffprobe")
    out, _, _ = tree

    def probe(path: Path) -> dict:
        run = subprocess.run([ffprobe, "-v", "error", "-show_format", "-show_streams",
                              "-of", "json", str(path)], capture_output=True, text=True,
                             check=True, timeout=60)
        assert run.stderr == ""
        return json.loads(run.stdout)

    video = probe(next((out / "open-courses").glob("*.mp4")))
    assert {s["codec_name"] for s in video["streams"]} == {"h264", "aac"}
    assert abs(float(video["format"]["duration"]) - sample.CLIP_SECONDS) < 0.5
    audio = probe(next((out / "recited-poems").glob("*.mp3")))
    assert audio["streams"][0]["codec_name"] == "mp3"
    assert abs(float(audio["format"]["duration"]) - sample.POEM_SECONDS) < 0.5
    assert audio["format"]["tags"]["title"].endswith("诵读")
