"""A small installed library for the viewer and search tests (no conftest: import it).

``build_library(root)`` writes ``root/catalog.db`` and ``root/library/…`` with real files: PDFs
and JPEGs from Pillow, HTML chapters and records, and media: the committed sample media under
``catalog/data/media/`` when present, else a tiny H.264 MP4 and an MP3 made with
``/usr/bin/ffmpeg`` when that exists, else placeholder bytes (enough for HTTP tests, not for
playing in a browser: ``Library.real_media`` says which).
"""
from __future__ import annotations

import io
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import blake3
from PIL import Image, ImageDraw

from catalog import schema, search, store
from catalog.table import load_table

REPO = Path(__file__).resolve().parents[1]
MEDIA_ASSETS = REPO / "catalog" / "data" / "media"

XSS_TITLE = "<script>alert(1)</script>"
SECRET = "TOP-SECRET-OUTSIDE-LIBRARY"
PICTURE_ID = "new-year-paintings/杨柳青/山水画.jpg"   # an id with '/' and Chinese


@dataclass
class Library:
    root: Path
    video_id: str = "open-courses/lishi"
    audio_id: str = "recited-poems/jingyesi"
    journal_id: str = "journals/jingju"
    xss_id: str = "open-courses/xss"
    picture_id: str = PICTURE_ID
    files: dict[str, Path] = field(default_factory=dict)   # files.path -> absolute path

    @property
    def db_path(self) -> Path:
        return self.root / "catalog.db"


# --- media ------------------------------------------------------------------------------------

# The sample library's own committed assets: a real H.264 MP4 and an MP3 that Chromium plays.
MP4 = MEDIA_ASSETS / "clip.mp4"
MP3 = MEDIA_ASSETS / "poem.mp3"


def _jpeg(text: str, color: tuple[int, int, int], size=(240, 320)) -> bytes:
    img = Image.new("RGB", size, color)
    draw = ImageDraw.Draw(img)
    draw.rectangle([10, 10, size[0] - 10, size[1] - 10], outline=(255, 255, 255), width=3)
    draw.text((24, 24), text, fill=(255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=70)
    return buf.getvalue()


def _pdf(text: str) -> bytes:
    img = Image.new("RGB", (200, 280), (250, 250, 240))
    ImageDraw.Draw(img).text((20, 20), text, fill=(0, 0, 0))
    buf = io.BytesIO()
    img.save(buf, "PDF")
    return buf.getvalue()


def _html(title: str, body: str) -> bytes:
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{title}'
            f'</title></head><body><h1>{title}</h1>{body}</body></html>').encode("utf-8")


# --- the library ------------------------------------------------------------------------------

def build_library(root: Path, index: bool = True) -> Library:
    root = Path(root)
    libdir = root / "library"
    libdir.mkdir(parents=True, exist_ok=True)
    mp4, mp3 = MP4, MP3
    lib = Library(root=root)

    db = schema.create(root / "catalog.db")
    schema.set_meta(db, release="2026-测试版", table="grassroots-2015")
    table = load_table()
    db["collections"].insert_all([store.collection_record(r) for r in table.rows], pk="key")
    kinds = {r.key: r.kind for r in table.rows}

    items: list[dict] = []
    files: list[dict] = []
    segments: list[dict] = []
    not_installed: set[str] = set()

    def item(iid, title, **kw):
        coll = iid.split("/", 1)[0]
        row = {"id": iid, "collection": coll, "title": title, "kind": kinds[coll],
               "creator": kw.get("creator", ""), "date": kw.get("date", ""),
               "subjects": json.dumps(kw.get("subjects", []), ensure_ascii=False),
               "description": kw.get("description", ""), "rights": kw.get("rights",
                                                                          "仅限馆内局域网使用"),
               "language": kw.get("language", "zh"), "has_metadata": kw.get("has_metadata", 1)}
        items.append(row)

    def file(item_id, rel, data: bytes | Path, media_type, seq=0, section="", installed=True):
        path = f"{item_id.split('/', 1)[0]}/{rel}"
        dest = libdir / path
        dest.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, Path):
            shutil.copyfile(data, dest)
            data = dest.read_bytes()
        else:
            dest.write_bytes(data)
        fid = len(files) + 1
        files.append({"id": fid, "item_id": item_id, "seq": seq, "path": path,
                      "section": section, "bytes": len(data),
                      "blake3": blake3.blake3(data).hexdigest(), "media_type": media_type,
                      "shard": f"{path.split('/', 1)[0]}-0001.7z"})
        lib.files[path] = dest
        if not installed:
            not_installed.add(path)
        return fid

    def seg(item_id, kind, start, label, end=None, keywords=(), file_id=None):
        segments.append({"item_id": item_id, "kind": kind, "start": start, "end": end,
                         "label": label, "keywords": json.dumps(list(keywords),
                                                                ensure_ascii=False),
                         "file_id": file_id})

    # 图书
    item("ebooks/zghs", "中国历史简编", creator="张三", date="2010",
         subjects=["历史", "通史"], description="一部简明的中国通史读物。")
    fid = file("ebooks/zghs", "zghs.pdf", _pdf("zghs"), "application/pdf")
    seg("ebooks/zghs", "page", 1, "序言", file_id=fid)
    item("ebooks/tangshi", "唐诗三百首", creator="蘅塘退士", date="1763",
         subjects=["诗", "唐诗"], description="清代选编的唐诗选本，流传最广。")
    file("ebooks/tangshi", "tangshi.pdf", _pdf("tangshi"), "application/pdf")
    item("classics/shijing", "诗经", subjects=["经部", "诗"], description="中国最早的诗歌总集。")
    c1 = file("classics/shijing", "shijing/01.html",
              _html("国风", "<p>关关雎鸠，在河之洲。</p>"), "text/html", seq=1)
    c2 = file("classics/shijing", "shijing/02.html",
              _html("小雅", "<p>呦呦鹿鸣，食野之苹。</p>"), "text/html", seq=2)
    seg("classics/shijing", "chapter", 1, "国风·周南", file_id=c1)
    seg("classics/shijing", "chapter", 2, "小雅·鹿鸣之什", file_id=c2)
    # 期刊: two issues, pages in order
    item("journals/jingju", "中国京剧", date="2014", subjects=["京剧", "戏曲"],
         description="京剧艺术期刊，2014年各期原版原式。")
    seq = 0
    for issue, pages, color in (("2014年第01期", 3, (160, 40, 40)),
                                ("2014年第02期", 2, (40, 90, 160))):
        for p in range(1, pages + 1):
            seq += 1
            file("journals/jingju", f"jingju/{issue}/{p:03d}.jpg",
                 _jpeg(f"{issue[-3:-1]} p{p}", color), "image/jpeg", seq=seq, section=issue)
    # 视频
    item("open-courses/lishi", "歷史文化講座", creator="李四", date="2014-03-07",
         subjects=["歷史", "文化"], description="講述中國歷史與傳統文化的公開課。")
    vf = file("open-courses/lishi", "lishi.mp4", mp4, "video/mp4")
    seg("open-courses/lishi", "time", 0, "开场", end=4, file_id=vf)
    seg("open-courses/lishi", "time", 4, "第一讲 唐代诗歌", end=8, keywords=["唐诗"], file_id=vf)
    seg("open-courses/lishi", "time", 8, "第二讲 宋代绘画", end=12, keywords=["宋画"],
        file_id=vf)
    item("open-courses/xss", XSS_TITLE, creator='"><img src=x onerror=alert(3)>',
         subjects=["<b>粗体</b>"], description="<img src=x onerror=alert(2)> 测试转义")
    file("open-courses/xss", "xss.mp4", mp4, "video/mp4")
    item("local-opera/bawang", "京剧 霸王别姬", creator="梅兰芳", subjects=["京剧", "戏曲"],
         description="京剧经典剧目选段。")
    file("local-opera/bawang", "bawang.mp4", mp4, "video/mp4")
    # 音频
    item("recited-poems/jingyesi", "静夜思", creator="李白", subjects=["诗", "唐诗"],
         description="床前明月光，疑是地上霜。")
    af = file("recited-poems/jingyesi", "jingyesi.mp3", mp3, "audio/mpeg")
    seg("recited-poems/jingyesi", "time", 0, "床前明月光", end=2, file_id=af)
    seg("recited-poems/jingyesi", "time", 2, "疑是地上霜", end=4, file_id=af)
    # 图片
    item(PICTURE_ID, "山水画", has_metadata=0, rights="")
    file(PICTURE_ID, "杨柳青/山水画.jpg", _jpeg("shanshui", (30, 120, 60)), "image/jpeg")
    item("new-year-paintings/menshen", "门神 年画", subjects=["年画", "民俗"],
         description="天津杨柳青木版年画。")
    file("new-year-paintings/menshen", "menshen.jpg", _jpeg("menshen", (200, 60, 30)),
         "image/jpeg")
    item("old-photos/hutong", "老北京 胡同")   # its file is not installed
    file("old-photos/hutong", "hutong.jpg", _jpeg("hutong", (90, 90, 90)), "image/jpeg",
         installed=False)
    # 网络资源: one record with a script in it, and enough records for two pages
    item("gov-info/notice-1", "关于加强历史文化名城保护的通知", date="2014-05-01",
         subjects=["历史文化名城", "通知"], description="各地要加强历史文化名城保护。")
    file("gov-info/notice-1", "notice-1.html",
         _html("关于加强历史文化名城保护的通知",
               '<p>各地要加强保护。</p><script>alert("record")</script>'), "text/html")
    for n in range(1, 61):
        iid = f"gov-info/rec-{n:03d}"
        item(iid, f"政府信息公开记录 第{n:03d}号", date="2014", subjects=["政务"])
        file(iid, f"rec/{n:03d}.html", _html(f"记录{n}", "<p>公开信息。</p>"), "text/html")

    # A catalog entry that is a symlink pointing out of library/: must never be served.
    (root / "secret.txt").write_text(SECRET, "utf-8")
    item("ebooks/evil", "链接测试")
    evil = libdir / "ebooks" / "evil.txt"
    evil.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.symlink(os.path.relpath(root / "secret.txt", evil.parent), evil)
        files.append({"id": len(files) + 1, "item_id": "ebooks/evil", "seq": 0,
                      "path": "ebooks/evil.txt", "section": "", "bytes": len(SECRET),
                      "blake3": "", "media_type": "text/plain", "shard": "ebooks-0001.7z"})
    except (OSError, NotImplementedError):  # no symlinks here (Windows without rights)
        file("ebooks/evil", "evil.txt", b"harmless", "text/plain")
    # A file on disk that the catalog does not list.
    (libdir / "ebooks" / "unlisted.txt").write_text(SECRET, "utf-8")

    db["items"].insert_all(items, pk="id")
    db["files"].insert_all(files, pk="id")
    db["segments"].insert_all(segments)
    db.conn.executescript(schema.INSTALL_DDL)
    db["installed"].insert_all(
        [{"file_id": f["id"], "at": "2026-11-20T10:00:00"} for f in files
         if f["path"] not in not_installed], pk="file_id")
    db.conn.commit()
    if index:
        search.build_index(db)
    db.conn.close()
    return lib
