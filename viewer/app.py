"""The readers' web app: an installed library served in Chinese, offline, from one process.

Addresses (stable: readers bookmark them):

- ``/``                                   home: collections by source group, search box
- ``/c/<collection>?page=N``              a collection, 50 items a page, title order
- ``/i/<collection>/<id>``                an item (``items.id`` url-encoded, ``/`` kept);
  ``?f=N`` its N-th file, ``&t=S`` start media at S seconds,
  ``?issue=<section>&p=N`` a journal issue's page N
- ``/search?q=WORDS&c=<collection>&page=N``
- ``/files/<files.path>``                 the file itself (Range answered), catalog paths only
- ``/static/…``                           the viewer's own CSS, JS and icon

Everything a reader does only reads: the catalog is opened read-only, one connection per
worker thread. Pages and searches run in worker threads limited to ``DB_THREADS`` at once, so
however many searches run, the event loop and the file streams of other readers go on.
"""
from __future__ import annotations

import functools
import logging
import math
import mimetypes
import threading
import time
import traceback
from pathlib import Path
from urllib.parse import quote, urlencode

import anyio
import jinja2
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from catalog import messages
from catalog import search as catalog_search
from catalog.errors import UserError
from catalog.schema import open_db

from .library import PER_PAGE, Item, Library

log = logging.getLogger("libpush.viewer")

HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"

SITE_NAME = "国家数字图书馆 基层资源"
SEARCH_PER_PAGE = 20
MAX_QUERY = 200          # characters of a query that are searched
DB_THREADS = 8           # pages and searches at once; file streaming has its own threads

CSP = ("default-src 'self'; img-src 'self' data:; media-src 'self'; frame-src 'self'; "
       "object-src 'self'; style-src 'self'; script-src 'self'")
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}
# Library HTML (records, chapters) and SVG are documents from outside: never let them script,
# even when opened directly rather than in the sandboxed frame.
SANDBOXED_TYPES = ("text/html", "application/xhtml+xml", "image/svg+xml")

LANGUAGES = {"zh": "中文", "bo": "藏文", "ug": "维吾尔文", "mn": "蒙古文", "ii": "彝文",
             "za": "壮文", "ko": "朝鲜文", "kk": "哈萨克文", "ky": "柯尔克孜文", "en": "英文"}
KIND_NAMES = {"ebook": "电子图书", "text": "古籍文本", "journal": "期刊", "video": "视频",
              "audio": "音频", "picture": "图片", "record": "网页资料"}


# --- security headers on every response ---------------------------------------------------------

def add_security_headers(headers: MutableHeaders) -> None:
    if CSP not in headers.getlist("content-security-policy"):
        headers.append("content-security-policy", CSP)
    for name, value in SECURITY_HEADERS.items():
        headers[name] = value


class SecurityHeaders:
    """Pure ASGI middleware (does not buffer streamed files)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                add_security_headers(MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, send_with_headers)


# --- URLs and templates -------------------------------------------------------------------------

def item_url(item_id: str, **params) -> str:
    url = "/i/" + quote(item_id, safe="/")
    query = {k: v for k, v in params.items() if v is not None and v != ""}
    return url + ("?" + urlencode(query) if query else "")


def file_url(path: str) -> str:
    return "/files/" + quote(path, safe="/")


def collection_url(key: str, page: int | None = None) -> str:
    url = "/c/" + quote(key, safe="")
    return url + (f"?page={page}" if page and page > 1 else "")


def search_url(q: str, c: str | None = None, page: int | None = None) -> str:
    params = {"q": q}
    if c:
        params["c"] = c
    if page and page > 1:
        params["page"] = page
    return "/search?" + urlencode(params)


def timefmt(seconds) -> str:
    try:
        s = max(0, int(float(seconds)))
    except (TypeError, ValueError):
        return ""
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def number(value) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


@functools.lru_cache(maxsize=1)
def templates() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(item_url=item_url, file_url=file_url, collection_url=collection_url,
                       search_url=search_url, SITE_NAME=SITE_NAME, KIND_NAMES=KIND_NAMES,
                       LANGUAGES=LANGUAGES)
    env.filters["timefmt"] = timefmt
    env.filters["number"] = number
    return env


def render(name: str, status_code: int = 200, **context) -> HTMLResponse:
    html = templates().get_template(name).render(**context)
    return HTMLResponse(html, status_code=status_code)


def _int(value, default: int = 1, low: int = 1) -> int:
    try:
        n = int(str(value))
    except (TypeError, ValueError):
        return default
    return max(low, n)


def _seconds(value) -> float | None:
    try:
        t = float(str(value))
    except (TypeError, ValueError):
        return None
    return t if math.isfinite(t) and t >= 0 else None


# --- the search index: current before serving ---------------------------------------------------

def ensure_search_index(db_path: Path) -> bool:
    """Make sure the catalog's search index was built by this analyzer; rebuild it if not
    (the one write the viewer ever makes, before serving). False when it cannot be built."""
    db = open_db(db_path, readonly=True)
    try:
        current = catalog_search.index_is_current(db)
    finally:
        db.conn.close()
    if current:
        return True
    log.info(messages.text("search_index_rebuilding", path=db_path))
    started = time.monotonic()
    try:
        db = open_db(db_path)
        try:
            catalog_search.build_index(db)
            (items,), = db.conn.execute("SELECT count(*) FROM items")
        finally:
            db.conn.close()
    except Exception as e:  # read-only medium, locked, damaged: browse without search
        log.warning(messages.text("search_index_unavailable", path=db_path, error=e))
        log.warning(messages.hint("search_index_unavailable", path=db_path, error=e))
        return False
    log.info(messages.text("search_index_rebuilt", items=items,
                           seconds=f"{time.monotonic() - started:.1f}"))
    return True


# --- pages (run in worker threads) ---------------------------------------------------------------

def page_home(lib: Library) -> Response:
    return render("home.html", groups=lib.groups(), meta=lib.meta())


def page_collection(lib: Library, key: str, page: int) -> Response:
    coll = lib.collection(key)
    if coll is None:
        raise HTTPException(404)
    pages = max(1, math.ceil(coll.count / PER_PAGE))
    page = min(page, pages)
    items = lib.items_page(key, page) if coll.count else []
    return render("collection.html", coll=coll, items=items, page=page, pages=pages,
                  first_number=(page - 1) * PER_PAGE + 1, meta=lib.meta(),
                  page_url=lambda n: collection_url(key, n))


def _item_view(item: Item, params) -> dict:
    """What the item page shows, by kind."""
    view: dict = {}
    files = item.files
    if not files:  # a catalog without install state may list items whose files are absent
        view.update(files=[], segments=[], issues=[], empty=True)
        return view
    if item.kind == "journal":
        issues: dict[str, list] = {}
        for f in files:
            issues.setdefault(f.section, []).append(f)
        view["issues"] = [{"name": name, "label": name or "全部页面", "pages": len(pages),
                           "url": item_url(item.id, issue=name or None, p=1)}
                          for name, pages in issues.items()]
        wanted = params.get("issue")
        if wanted is None and len(issues) == 1:
            wanted = next(iter(issues))
        if wanted is not None and wanted in issues:
            pages = issues[wanted]
            p = min(_int(params.get("p")), len(pages))
            names = list(issues)
            i = names.index(wanted)
            view.update(
                issue=wanted, issue_label=wanted or "全部页面", p=p, pages=len(pages),
                page_file=pages[p - 1],
                prev_url=item_url(item.id, issue=wanted or None, p=p - 1) if p > 1 else None,
                next_url=item_url(item.id, issue=wanted or None, p=p + 1) if p < len(pages)
                else None,
                prev_issue=item_url(item.id, issue=names[i - 1] or None, p=1) if i > 0 else None,
                next_issue=item_url(item.id, issue=names[i + 1] or None, p=1)
                if i + 1 < len(names) else None)
        return view

    n = min(_int(params.get("f")), len(files))
    current = files[n - 1]
    index_of = {f.id: i for i, f in enumerate(files, 1)}
    t = _seconds(params.get("t"))
    view.update(f=n, current=current, t=t,
                prev_url=item_url(item.id, f=n - 1) if n > 1 else None,
                next_url=item_url(item.id, f=n + 1) if n < len(files) else None,
                files=[{"n": i, "file": f, "url": item_url(item.id, f=i)}
                       for i, f in enumerate(files, 1)])
    chapter_labels = {}
    segments = []
    for s in item.segments:
        target_n = index_of.get(s.file_id, 1) if s.file_id is not None else 1
        if s.file_id is not None and s.file_id not in index_of:
            continue  # its file is not installed
        segments.append({"seg": s, "n": target_n, "here": target_n == n,
                         "url": segment_url(item.id, files, s.kind, s.start, target_n)})
        if s.kind == "chapter" and s.file_id is not None:
            chapter_labels.setdefault(s.file_id, s.label)
    view["segments"] = segments
    for entry in view["files"]:
        entry["label"] = chapter_labels.get(entry["file"].id) or entry["file"].stem
    media_src = file_url(current.path)
    if t is not None and item.kind in ("video", "audio"):
        media_src += f"#t={t:g}"
    view["media_src"] = media_src
    view["media_type"] = current.media_type or mimetypes.guess_type(current.name)[0] or ""
    view["is_pdf"] = (current.media_type == "application/pdf"
                      or current.name.lower().endswith(".pdf"))
    return view


def segment_url(item_id: str, files: list, kind: str, start: float, n: int) -> str:
    """Where a segment of the item's ``n``-th file opens: media at its time, a PDF at its page,
    a chapter's file."""
    f = n if len(files) > 1 else None
    if kind == "time":
        return item_url(item_id, f=f, t=start)
    if kind == "page":
        return file_url(files[n - 1].path) + f"#page={int(start)}"
    return item_url(item_id, f=f)


def page_item(lib: Library, item_id: str, params) -> Response:
    item = lib.item(item_id)
    if item is None:
        raise HTTPException(404)
    coll = lib.collection(item.collection)
    return render("item.html", item=item, coll=coll, view=_item_view(item, params),
                  meta=lib.meta())


def page_search(lib: Library, q: str, c: str | None, page: int) -> Response:
    collections = {col.key: col for col in lib.collections()}
    if c not in collections:
        c = None
    ctx = {"q": q, "c": c, "collections": collections, "results": None, "page": page,
           "pages": 1, "search_ready": lib.search_ready, "meta": lib.meta(),
           "page_url": lambda n: search_url(q, c, n)}
    if q and lib.search_ready:
        results = lib.search(q[:MAX_QUERY], SEARCH_PER_PAGE, (page - 1) * SEARCH_PER_PAGE, c)
        ctx["results"] = results
        ctx["pages"] = max(1, math.ceil(results.total / SEARCH_PER_PAGE))
        ctx["segment_urls"] = _segment_urls(lib, results.hits)
    return render("search.html", **ctx)


def _segment_urls(lib: Library, hits) -> dict[tuple[str, int], str]:
    """Links that open a hit's matching segment (at its time, page or chapter)."""
    urls = {}
    for hit in hits:
        if not hit.segments:
            continue
        item = lib.item(hit.item_id)
        if item is None or not item.files:
            continue
        index_of = {f.id: i for i, f in enumerate(item.files, 1)}
        for k, s in enumerate(hit.segments):
            urls[(hit.item_id, k)] = segment_url(hit.item_id, item.files, s.kind, s.start,
                                                 index_of.get(s.file_id, 1))
    return urls


def error_response(status_code: int) -> Response:
    titles = {404: ("找不到该页面", "您要找的页面或资源不存在，或者尚未安装到本馆。"),
              405: ("不支持该操作", "此地址不支持这种访问方式。"),
              500: ("出错了", "服务器处理请求时出错，请稍后再试，或告知图书馆工作人员。")}
    title, text = titles.get(status_code, ("请求有误", "无法处理该请求，请检查地址是否正确。"))
    response = render("error.html", status_code=status_code, title=title, text=text,
                      code=status_code)
    add_security_headers(response.headers)
    return response


# --- the app --------------------------------------------------------------------------------------

def create_app(target: Path) -> Starlette:
    """The viewer for the installed library at ``target`` (rebuilds a stale search index once,
    before returning)."""
    target = Path(target)
    if not (target / "catalog.db").is_file():
        raise UserError("target_not_library", path=str(target))
    lib = Library(target, search_ready=ensure_search_index(target / "catalog.db"))
    # The home page's counts take a moment in a big library: have them ready.
    threading.Thread(target=lib.collections, name="libpush-viewer-warm", daemon=True).start()
    limiter: list[anyio.CapacityLimiter] = []

    async def run(fn, *args) -> Response:
        if not limiter:
            limiter.append(anyio.CapacityLimiter(DB_THREADS))
        return await anyio.to_thread.run_sync(functools.partial(fn, lib, *args),
                                              limiter=limiter[0])

    async def home(request: Request) -> Response:
        return await run(page_home)

    async def collection(request: Request) -> Response:
        return await run(page_collection, request.path_params["key"],
                         _int(request.query_params.get("page")))

    async def item(request: Request) -> Response:
        item_id = f"{request.path_params['collection']}/{request.path_params['rest']}"
        return await run(page_item, item_id, dict(request.query_params))

    async def search(request: Request) -> Response:
        q = " ".join(request.query_params.get("q", "").split())
        return await run(page_search, q, request.query_params.get("c") or None,
                         _int(request.query_params.get("page")))

    async def files(request: Request) -> Response:
        # Not behind the pages' limiter: a reader's video never waits for others' searches.
        found = await anyio.to_thread.run_sync(lib.file_for, request.path_params["path"])
        if found is None:
            raise HTTPException(404)
        path, media_type = found
        media_type = media_type or mimetypes.guess_type(path.name)[0] or \
            "application/octet-stream"
        response = FileResponse(path, headers={"content-type": media_type})
        if media_type.split(";")[0].strip().lower() in SANDBOXED_TYPES:
            response.headers.append("content-security-policy", "sandbox")
        return response

    async def http_error(request: Request, exc: HTTPException) -> Response:
        return error_response(exc.status_code)

    async def server_error(request: Request, exc: Exception) -> Response:
        log.error("".join(traceback.format_exception(exc)))
        return error_response(500)

    routes = [
        Route("/", home, name="home"),
        Route("/c/{key}", collection, name="collection"),
        Route("/i/{collection}/{rest:path}", item, name="item"),
        Route("/search", search, name="search"),
        Route("/files/{path:path}", files, name="files"),
        Mount("/static", app=StaticFiles(directory=str(STATIC_DIR)), name="static"),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)],
                    exception_handlers={HTTPException: http_error, Exception: server_error})
    app.state.library = lib
    return app
