"""The viewer in a real Chromium (Debian's /usr/bin/chromium, driven by Playwright).

Never downloads a browser. Without /usr/bin/chromium these tests fail under CI=true and are
skipped elsewhere. Screenshots go to test-artifacts/ at the repository root.
"""
from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from conftest import unavailable
from viewer_fixtures import XSS_TITLE

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing (install Debian's chromium package)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as e:  # pragma: no cover - dev dependency
        unavailable(f"playwright is not installed: {e}")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def wait_until(page, expression: str, timeout: float = 10.0):
    """Poll a JS expression with page.evaluate (Playwright's wait_for_function evaluates
    strings with eval(), which the viewer's CSP rightly forbids)."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(f"() => ({expression})")
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        time.sleep(0.05)


class Session:
    """A page that records every request it makes, every dialog and console error."""

    def __init__(self, browser, base: str):
        self.base = base.rstrip("/")
        self.context = browser.new_context(viewport={"width": 1200, "height": 900},
                                           locale="zh-CN")
        self.page = self.context.new_page()
        self.page.set_default_timeout(10_000)
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.console_errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", self._dialog)
        self.page.on("console",
                     lambda m: self.console_errors.append(m.text) if m.type == "error" else None)

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def go(self, path: str):
        self.page.goto(self.base + path)
        return self.page

    def shot(self, name: str):
        self.page.screenshot(path=str(ARTIFACTS / f"viewer-{name}.png"), full_page=True)

    def check(self):
        assert self.requests, "the page made no requests"
        for url in self.requests:
            parts = urlsplit(url)
            assert parts.scheme in ("http", "data", "blob"), url
            if parts.scheme == "http":
                assert parts.hostname == "127.0.0.1", url
        assert not self.dialogs, self.dialogs
        csp = [e for e in self.console_errors if "Content Security Policy" in e]
        assert not csp, csp


@pytest.fixture
def session(browser, server):
    s = Session(browser, server.url)
    yield s
    s.context.close()


def test_home(session):
    page = session.go("/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("h1").inner_text() == "国家数字图书馆 基层资源"
    groups = page.locator("section.group h2").all_inner_texts()
    assert groups == ["图书", "期刊", "视频", "音频", "图片", "网络资源"]
    assert page.locator(".card.disabled", has_text="老照片").locator(".badge").inner_text() \
        == "未安装"
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "Noto Sans CJK SC" in font
    session.shot("home")
    session.check()


def test_video_seeks_to_a_segment(session, lib):
    page = session.go("/i/" + lib.video_id)
    wait_until(page, "document.getElementById('player').readyState >= 1")
    assert page.evaluate("document.getElementById('player').videoWidth") > 0   # H.264 decodes
    assert page.evaluate("document.getElementById('player').currentTime") < 1
    page.get_by_role("button", name="第一讲 唐代诗歌").click()
    wait_until(page, "document.getElementById('player').currentTime >= 3.9")
    page.get_by_role("button", name="第二讲 宋代绘画").click()
    wait_until(page, "document.getElementById('player').currentTime >= 7.9")
    page.evaluate("document.getElementById('player').pause()")
    wait_until(page, "document.querySelector('button.seek.current') !== null")
    session.shot("video")
    session.check()


def test_video_starts_at_a_linked_time(session, lib):
    page = session.go("/i/" + lib.video_id + "?t=8")
    wait_until(page, "document.getElementById('player').readyState >= 1")
    wait_until(page, "document.getElementById('player').currentTime >= 7.9")
    session.check()


def test_audio_plays(session, lib):
    page = session.go("/i/" + lib.audio_id)
    wait_until(page, "document.getElementById('player').readyState >= 1")
    assert page.evaluate("document.getElementById('player').duration") > 3
    page.get_by_role("button", name="疑是地上霜").click()     # a click: playing is allowed
    wait_until(page, "!document.getElementById('player').paused")
    wait_until(page, "document.getElementById('player').currentTime > 2.2")
    page.evaluate("document.getElementById('player').pause()")
    session.shot("audio")
    session.check()


def test_journal_page_through_an_issue(session, lib):
    page = session.go("/i/" + lib.journal_id)
    page.get_by_role("link", name="2014年第01期").click()
    page.wait_for_url("**p=1")
    assert "第 1 / 3 页" in page.locator(".pageview h2").inner_text()
    page.get_by_role("link", name="下一页").first.click()
    page.wait_for_url("**p=2")
    assert "第 2 / 3 页" in page.locator(".pageview h2").inner_text()
    img = page.locator("img.page")
    wait_until(page, "document.querySelector('img.page').complete")
    assert page.evaluate("document.querySelector('img.page').naturalWidth") == 240
    assert quote("2014年第01期/002.jpg") in img.get_attribute("src")
    page.keyboard.press("ArrowRight")                      # arrow keys turn pages too
    page.wait_for_url("**p=3")
    assert "第 3 / 3 页" in page.locator(".pageview h2").inner_text()
    page.get_by_role("link", name="上一页").first.click()
    page.wait_for_url("**p=2")
    page.get_by_role("link", name="下一期").click()
    page.wait_for_url("**p=1")
    assert page.locator(".pageview h2").inner_text().startswith("2014年第02期")
    session.shot("journal")
    session.check()


@pytest.mark.parametrize("query, expected, shot", [
    ("诗", "诗经", "search-1char"),
    ("京剧", "霸王别姬", "search-2char"),
    ("唐诗三百", "唐诗三百首", "search-4char"),
    ("歷史", "中国历史简编", "search-traditional"),
])
def test_search_from_the_home_page(session, query, expected, shot):
    page = session.go("/")
    page.get_by_role("searchbox", name="检索词").fill(query)
    page.get_by_role("searchbox", name="检索词").press("Enter")
    page.wait_for_url("**/search?q=*")
    hits = page.locator("li.hit a.title")
    assert hits.count() >= 1
    assert any(expected in t for t in hits.all_inner_texts())
    assert page.locator("li.hit mark").count() >= 1
    assert "找到" in page.locator("p.count").inner_text()
    session.shot(shot)
    session.check()


def test_search_filter_by_collection(session):
    page = session.go("/search?q=" + quote("历史"))
    page.locator(".facets a", has_text="政府信息公开").click()
    page.wait_for_url("**c=gov-info*")
    assert page.locator("li.hit").count() == 1
    assert "关于加强" in page.locator("li.hit a.title").inner_text()
    session.check()


def test_xss_title_shows_as_text(session, lib):
    page = session.go("/c/open-courses")
    assert page.locator("ol.items a", has_text="alert(1)").inner_text() == XSS_TITLE
    page.locator("ol.items a", has_text="alert(1)").click()
    page.wait_for_url("**/i/open-courses/xss")
    assert page.locator("h1").inner_text() == XSS_TITLE
    assert page.title().startswith(XSS_TITLE)
    page = session.go("/search?q=script")
    assert page.locator("li.hit a.title").first.inner_text() == XSS_TITLE
    page.wait_for_timeout(200)
    assert not session.dialogs
    session.shot("xss")
    session.check()


def test_record_html_runs_no_script(session):
    page = session.go("/i/gov-info/notice-1")
    frame = page.frame_locator("iframe.reader")
    assert frame.locator("h1").inner_text() == "关于加强历史文化名城保护的通知"
    page.wait_for_timeout(200)
    assert not session.dialogs                   # the record's alert() never ran
    session.shot("record")
    session.check()


def test_not_found_page(session):
    page = session.go("/i/open-courses/none")
    assert page.locator("h1").inner_text() == "找不到该页面"
    session.check()
