"""The viewer over real HTTP: a uvicorn server on 127.0.0.1, plain http.client requests."""
from __future__ import annotations

import http.client
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from catalog import schema, search
from catalog.errors import UserError
from viewer.app import CSP, create_app
from viewer.serve import serve, start_in_thread
from viewer_fixtures import SECRET, XSS_TITLE

REPO = Path(__file__).resolve().parents[1]
XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


class Answer:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def request(server, path: str, method: str = "GET", headers: dict | None = None) -> Answer:
    """Send ``path`` exactly as given (no client-side normalizing of '..' or '%2e')."""
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        conn.endheaders()
        resp = conn.getresponse()
        body = resp.read()
        hdrs: dict[str, str] = {}
        for k, v in resp.getheaders():
            k = k.lower()
            hdrs[k] = f"{hdrs[k]}, {v}" if k in hdrs else v
        return Answer(resp.status, hdrs, body)
    finally:
        conn.close()


def q(text: str) -> str:
    return quote(text, safe="/?=&")


def assert_page(a: Answer, *texts: str, status: int = 200):
    assert a.status == status, (a.status, a.text[:500])
    assert a.header("content-type").startswith("text/html")
    assert '<html lang="zh-CN">' in a.text
    for t in texts:
        assert t in a.text, t
    assert_security_headers(a)


def assert_security_headers(a: Answer):
    assert CSP in (a.header("content-security-policy") or ""), a.headers
    assert a.header("x-content-type-options") == "nosniff"
    assert a.header("referrer-policy") == "no-referrer"


# --- pages --------------------------------------------------------------------------------------

def test_home_lists_collections_by_group(server):
    a = request(server, "/")
    assert_page(a, "国家数字图书馆 基层资源", "国图公开课", "地方戏专题视频", "文津经典诵读",
                "电子图书", "政府信息公开", 'action="/search"')
    groups = re.findall(r"<h2>(.*?)</h2>", a.text)
    assert groups == ["图书", "期刊", "视频", "音频", "图片", "网络资源"]
    assert "61 条" in a.text                      # gov-info: 61 records installed
    assert "2 集" in a.text                       # open-courses: lishi and xss


def test_home_greys_out_collections_not_installed(server):
    a = request(server, "/")
    card = re.search(r'<div class="card disabled"[^>]*>\s*<span class="name">老照片</span>'
                     r'\s*<span class="count">0 张</span>\s*<span class="badge">未安装</span>',
                     a.text)
    assert card, a.text
    assert 'href="/c/old-photos"' not in a.text


def test_static_assets_are_local(server):
    a = request(server, "/")
    for url in re.findall(r'(?:src|href)="([^"]+)"', a.text):
        assert url.startswith("/"), url           # nothing from another host
    css = request(server, "/static/viewer.css")
    assert css.status == 200 and "Noto Sans CJK SC" in css.text and "Microsoft YaHei" in css.text
    assert_security_headers(css)
    js = request(server, "/static/viewer.js")
    assert js.status == 200 and "currentTime" in js.text
    assert_security_headers(js)
    assert "<script>" not in a.text and "style=" not in a.text   # CSP: no inline code


def test_collection_pages(server):
    a = request(server, "/c/gov-info")
    assert_page(a, "政府信息公开", "共 61 条", "第 1 / 2 页", "下一页", "上一页")
    assert 'href="/c/gov-info?page=2"' in a.text
    assert a.text.count('<li><a href="/i/gov-info/') == 50
    b = request(server, "/c/gov-info?page=2")
    assert_page(b, "第 2 / 2 页")
    assert b.text.count('<li><a href="/i/gov-info/') == 11
    assert 'href="/c/gov-info"' in b.text          # back to page 1
    # nonsense page numbers are clamped, not errors
    assert request(server, "/c/gov-info?page=abc").status == 200
    assert "第 2 / 2 页" in request(server, "/c/gov-info?page=999").text


def test_collection_not_installed_and_unknown(server):
    assert_page(request(server, "/c/old-photos"), "本类资源尚未安装")
    assert_page(request(server, "/c/no-such-thing"), "找不到该页面", status=404)


def test_video_item_page(server, lib):
    a = request(server, "/i/" + lib.video_id)
    assert_page(a, "歷史文化講座", "<video", 'id="player"', "controls",
                '<source src="/files/open-courses/lishi.mp4" type="video/mp4">',
                'data-start="4.0"', "第一讲 唐代诗歌", "李四", "講述中國歷史",
                'href="/search?q=%E6%AD%B7%E5%8F%B2"',          # subject -> search
                'href="/c/open-courses">国图公开课</a>', "首页")
    assert a.text.count('class="seek"') == 3
    b = request(server, "/i/" + lib.video_id + "?t=8")
    assert '<source src="/files/open-courses/lishi.mp4#t=8"' in b.text


def test_audio_item_page(server, lib):
    a = request(server, "/i/" + lib.audio_id)
    assert_page(a, "静夜思", "<audio", '<source src="/files/recited-poems/jingyesi.mp3"',
                "床前明月光", "李白")


def test_picture_item_with_slash_and_chinese_in_its_id(server, lib):
    a = request(server, "/i/" + quote(lib.picture_id))
    assert_page(a, "山水画", "<img", "此资源暂无编目信息")
    src = re.search(r'<img src="([^"]+)"', a.text).group(1)
    assert src == "/files/" + quote("new-year-paintings/杨柳青/山水画.jpg")
    img = request(server, src)
    assert img.status == 200 and img.header("content-type") == "image/jpeg"
    assert img.body[:2] == b"\xff\xd8"


def test_journal_issues_and_pages(server, lib):
    a = request(server, "/i/" + lib.journal_id)
    assert_page(a, "中国京剧", "各期", "2014年第01期", "2014年第02期", "3 页", "2 页",
                "请在左侧选择一期")
    issue = quote("2014年第01期")
    b = request(server, f"/i/{lib.journal_id}?issue={issue}&p=2")
    assert_page(b, "第 2 / 3 页", "上一页", "下一页", "下一期")
    assert f'src="/files/{quote("journals/jingju/2014年第01期/002.jpg")}"' in b.text
    assert f'rel="prev" href="/i/journals/jingju?issue={issue}&amp;p=1"' in b.text
    assert f'rel="next" href="/i/journals/jingju?issue={issue}&amp;p=3"' in b.text
    last = request(server, f"/i/{lib.journal_id}?issue={issue}&p=99")
    assert "第 3 / 3 页" in last.text               # clamped
    assert "003.jpg" in last.text


def test_text_record_and_pdf_items(server):
    text = request(server, "/i/classics/shijing")
    assert_page(text, "诗经", "<iframe", "sandbox", "/files/classics/shijing/01.html",
                "国风·周南", "小雅·鹿鸣之什")
    second = request(server, "/i/classics/shijing?f=2")
    assert 'src="/files/classics/shijing/02.html"' in second.text
    record = request(server, "/i/gov-info/notice-1")
    assert_page(record, "关于加强历史文化名城保护的通知", "<iframe", "sandbox",
                "/files/gov-info/notice-1.html")
    pdf = request(server, "/i/ebooks/zghs")
    assert_page(pdf, "中国历史简编", "/files/ebooks/zghs.pdf", "在新窗口中打开", "序言")
    served = request(server, "/files/ebooks/zghs.pdf")
    assert served.status == 200 and served.body.startswith(b"%PDF")
    assert served.header("content-type") == "application/pdf"


def test_library_html_is_sandboxed_when_opened_directly(server):
    a = request(server, "/files/gov-info/notice-1.html")
    assert a.status == 200 and a.header("content-type") == "text/html"
    policies = a.header("content-security-policy")
    assert CSP in policies and "sandbox" in policies.replace(CSP, "")


def test_item_not_installed_or_missing_is_404_in_chinese(server):
    for path in ("/i/old-photos/hutong", "/i/open-courses/no-such-item",
                 "/i/" + quote("不存在/的/条目"), "/no/such/page", "/static/nothing.css"):
        a = request(server, path)
        assert_page(a, "找不到该页面", "返回首页", status=404)


def test_search_page(server):
    a = request(server, q("/search?q=京剧"))
    assert_page(a, "找到 2 条", "<mark>京剧</mark>", "中国", "霸王别姬", "全部",
                "电子期刊", "地方戏专题视频")
    one = request(server, q("/search?q=画"))
    assert_page(one, "山水<mark>画</mark>", "年<mark>画</mark>", "宋代绘<mark>画</mark>")
    four = request(server, q("/search?q=唐诗三百"))
    assert_page(four, "找到 1 条", "<mark>唐诗三百</mark>首")
    trad = request(server, q("/search?q=歷史"))
    assert_page(trad, "找到 3 条", "中国<mark>历史</mark>简编", "<mark>歷史</mark>文化講座")
    filtered = request(server, q("/search?q=历史&c=gov-info"))
    assert_page(filtered, "其中“政府信息公开” 1 条", "关于加强")
    assert "中国<mark>历史</mark>简编" not in filtered.text


def test_search_segment_hit_links_to_its_time(server):
    a = request(server, q("/search?q=宋代绘画"))
    assert_page(a, "歷史文化講座", "00:08")
    assert 'href="/i/open-courses/lishi?t=8.0"' in a.text


def test_search_paging(server):
    a = request(server, q("/search?q=政府信息公开"))
    assert_page(a, "找到 60 条", "第 1 / 3 页", "下一页")
    c = request(server, q("/search?q=政府信息公开&page=3"))
    assert_page(c, "第 3 / 3 页")
    assert c.text.count('class="hit"') == 20


def test_search_messages(server):
    assert_page(request(server, "/search"), "请输入检索词")
    assert_page(request(server, "/search?q=+++"), "请输入检索词")
    assert_page(request(server, q("/search?q=不存在的词语组合")), "没有找到与“不存在的词语组合”相关的资源")
    for raw in ['"', "*", "(", "%22%2A%28%29", "AND", "NEAR(", "title:诗"]:
        a = request(server, "/search?q=" + quote(raw, safe="%"))
        assert a.status == 200, raw
        assert_security_headers(a)


def test_xss_title_is_escaped_everywhere(server, lib):
    pages = [
        request(server, "/c/open-courses"),
        request(server, "/i/" + lib.xss_id),
        request(server, "/search?q=script"),
        request(server, "/search?q=" + quote(XSS_TITLE)),
        request(server, q("/search?q=测试转义")),
    ]
    for a in pages:
        assert a.status == 200
        assert "<script>alert" not in a.text and "<img src=x" not in a.text
        assert "onerror=alert" not in a.text or "&lt;img src=x onerror=alert" in a.text
        assert "&lt;" in a.text
    assert XSS_ESCAPED in pages[0].text
    assert f"<title>{XSS_ESCAPED} · " in pages[1].text
    assert "&lt;<mark>script</mark>&gt;alert(1)&lt;/<mark>script</mark>&gt;" in pages[2].text
    assert f'value="{XSS_ESCAPED}"' in pages[3].text
    assert "&lt;b&gt;粗体&lt;/b&gt;" in pages[1].text


def test_every_response_carries_the_security_headers(server, lib):
    for path in ["/", "/c/ebooks", "/i/" + lib.video_id, q("/search?q=诗"),
                 "/static/viewer.css", "/static/favicon.svg", "/files/ebooks/zghs.pdf",
                 "/files/../catalog.db", "/nowhere"]:
        assert_security_headers(request(server, path))
    assert_security_headers(request(server, "/files/open-courses/lishi.mp4",
                                    headers={"Range": "bytes=0-9"}))
    assert_security_headers(request(server, "/", method="POST"))


# --- files and ranges -------------------------------------------------------------------------

def test_file_whole_and_head(server, lib):
    data = lib.files["open-courses/lishi.mp4"].read_bytes()
    a = request(server, "/files/open-courses/lishi.mp4")
    assert a.status == 200 and a.body == data
    assert a.header("content-type") == "video/mp4"
    assert a.header("accept-ranges") == "bytes"
    h = request(server, "/files/open-courses/lishi.mp4", method="HEAD")
    assert h.status == 200 and h.body == b"" and int(h.header("content-length")) == len(data)


def test_range_first_hundred_bytes(server, lib):
    data = lib.files["open-courses/lishi.mp4"].read_bytes()
    a = request(server, "/files/open-courses/lishi.mp4", headers={"Range": "bytes=0-99"})
    assert a.status == 206
    assert a.body == data[:100] and len(a.body) == 100
    assert a.header("content-range") == f"bytes 0-99/{len(data)}"
    assert a.header("content-length") == "100"
    assert a.header("accept-ranges") == "bytes"


def test_range_middle_and_suffix(server, lib):
    data = lib.files["recited-poems/jingyesi.mp3"].read_bytes()
    size = len(data)
    mid = request(server, "/files/recited-poems/jingyesi.mp3",
                  headers={"Range": "bytes=1000-1999"})
    assert mid.status == 206 and mid.body == data[1000:2000]
    assert mid.header("content-range") == f"bytes 1000-1999/{size}"
    suffix = request(server, "/files/recited-poems/jingyesi.mp3", headers={"Range": "bytes=-500"})
    assert suffix.status == 206 and suffix.body == data[-500:]
    assert suffix.header("content-range") == f"bytes {size - 500}-{size - 1}/{size}"
    open_end = request(server, "/files/recited-poems/jingyesi.mp3",
                       headers={"Range": f"bytes={size - 10}-"})
    assert open_end.status == 206 and open_end.body == data[-10:]


def test_range_unsatisfiable(server, lib):
    size = lib.files["recited-poems/jingyesi.mp3"].stat().st_size
    a = request(server, "/files/recited-poems/jingyesi.mp3",
                headers={"Range": f"bytes={size + 10}-{size + 20}"})
    assert a.status == 416
    assert a.header("content-range") == f"bytes */{size}"
    assert_security_headers(a)


HOSTILE_PATHS = [
    "/files/../catalog.db",
    "/files/../../etc/passwd",
    "/files/ebooks/../../catalog.db",
    "/files/ebooks/../../secret.txt",
    "/files/%2e%2e/catalog.db",
    "/files/%2E%2E/%2E%2E/etc/passwd",
    "/files/ebooks/%2e%2e/%2e%2e/secret.txt",
    "/files/..%2fcatalog.db",
    "/files/..%2Fsecret.txt",
    "/files//etc/passwd",
    "/files/%2Fetc%2Fpasswd",
    "/files//" + quote(str(Path(__file__).resolve())),
    "/files/ebooks\\..\\..\\catalog.db",
    "/files/ebooks%5C..%5C..%5Csecret.txt",
    "/files/..%5Ccatalog.db",
    "/files/C:/Windows/win.ini",
    "/files/C:%5CWindows%5Cwin.ini",
    "/files/c:secret.txt",
    "/files/ebooks/evil.txt",          # listed in the catalog, but a symlink out of library/
    "/files/ebooks/unlisted.txt",      # under library/, but not in the catalog
    "/files/old-photos/hutong.jpg",    # in the catalog and on disk, but not installed
    "/files/./ebooks/zghs.pdf",
    "/files/ebooks/./zghs.pdf",
    "/files/",
    "/files/catalog.db",
]


@pytest.mark.parametrize("path", HOSTILE_PATHS)
def test_paths_outside_the_library_are_refused(server, lib, path):
    a = request(server, path)
    assert a.status in (400, 404), (path, a.status)
    assert SECRET.encode() not in a.body
    assert b"SQLite format 3" not in a.body
    assert b"root:" not in a.body
    assert_security_headers(a)


def test_symlink_fixture_is_real(lib):
    evil = lib.root / "library" / "ebooks" / "evil.txt"
    if not evil.is_symlink():
        pytest.skip("this system cannot make symbolic links")
    assert evil.read_text("utf-8") == SECRET


# --- starting ---------------------------------------------------------------------------------

def test_stale_index_is_rebuilt_at_start(tmp_path, lib, caplog):
    root = tmp_path / "copy"
    root.mkdir()
    shutil.copyfile(lib.db_path, root / "catalog.db")
    (root / "library").mkdir()
    db = schema.open_db(root / "catalog.db")
    schema.set_meta(db, **{search.META_KEY: "cjk-unigram-0"})
    db.conn.commit()
    assert not search.index_is_current(db)
    db.conn.close()
    with caplog.at_level(logging.INFO, logger="libpush.viewer"):
        create_app(root)
    assert any("search index" in r.getMessage() or "搜索索引" in r.getMessage()
               for r in caplog.records)
    db = schema.open_db(root / "catalog.db", readonly=True)
    assert search.index_is_current(db)
    db.conn.close()


def test_current_index_is_not_rewritten(lib):
    before = lib.db_path.stat().st_mtime_ns
    create_app(lib.root)
    assert lib.db_path.stat().st_mtime_ns == before


def test_target_without_catalog(tmp_path):
    with pytest.raises(UserError) as e:
        create_app(tmp_path)
    assert e.value.code == "target_not_library"
    with pytest.raises(UserError) as e:
        serve(tmp_path, port=0)
    assert e.value.code == "target_not_library"


def test_port_busy(lib):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        port = taken.getsockname()[1]
        with pytest.raises(UserError) as e:
            serve(lib.root, host="127.0.0.1", port=port)
        assert e.value.code == "port_busy"
        assert e.value.values == {"host": "127.0.0.1", "port": port}
    finally:
        taken.close()


def test_window_without_display_falls_back_to_the_browser(lib):
    """``serve(window=True)`` with no display says so and serves anyway."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["LIBPUSH_LANG"] = "zh"
    code = ("import sys\nfrom pathlib import Path\nfrom viewer.serve import serve\n"
            "serve(Path(sys.argv[1]), port=0, window=True, "
            "on_ready=lambda url: print(url, flush=True))\n")
    if sys.platform in ("win32", "darwin"):
        pytest.skip("there is always a display here")
    proc = subprocess.Popen([sys.executable, "-c", code, str(lib.root)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), (url, proc.stderr.read() if proc.poll()
                                                     is not None else "")
        parts = urlsplit(url)
        deadline = time.monotonic() + 10
        while True:
            try:
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
                conn.request("GET", "/")
                resp = conn.getresponse()
                body = resp.read().decode("utf-8")
                conn.close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert resp.status == 200 and "国图公开课" in body
    finally:
        proc.terminate()
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    assert "没有可用的图形界面" in err, err
    assert url in err                            # the hint names the address


def test_catalog_without_install_state_shows_everything(tmp_path, lib):
    """A catalog with no ``installed`` table (e.g. straight from a bundle): every item is
    visible, files are served when they are under library/."""
    root = tmp_path / "plain"
    shutil.copytree(lib.root, root, symlinks=True)
    db = schema.open_db(root / "catalog.db")
    db.conn.execute("DROP TABLE installed")
    db["items"].insert({"id": "ebooks/nofile", "collection": "ebooks", "title": "无文件之书",
                        "kind": "ebook"})
    search.build_index(db)
    db.conn.commit()
    db.conn.close()
    bg = start_in_thread(root, port=0)
    try:
        home = request(bg, "/")
        assert re.search(r'href="/c/old-photos">\s*<span class="name">老照片</span>\s*'
                         r'<span class="count">1 张</span>', home.text), home.text
        assert request(bg, "/files/old-photos/hutong.jpg").status == 200
        assert_page(request(bg, "/i/old-photos/hutong"), "老北京 胡同")
        assert_page(request(bg, "/i/ebooks/nofile"), "无文件之书", "尚未安装")
        assert_page(request(bg, q("/search?q=胡同")), "老北京")
        assert request(bg, "/files/ebooks/evil.txt").status == 404
    finally:
        bg.stop()
