"""Read-only access to an installed library for the viewer.

One read-only SQLite connection per thread (the viewer's worker threads), nothing is ever
written. Where the catalog has an ``installed`` table, only items with at least one installed
file are visible, and only installed files are served.
"""
from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path

from catalog import names
from catalog import search as catalog_search
from catalog.schema import has_table, json_list, open_db, visible_item_sql

PER_PAGE = 50

# Readers see counts in the unit of each kind.
UNITS = {"ebook": "册", "text": "部", "journal": "种", "video": "集", "audio": "首",
         "picture": "张", "record": "条"}


@dataclass
class Collection:
    key: str
    row: int
    group: str
    name: str
    kind: str
    description: str
    count: int = 0

    @property
    def unit(self) -> str:
        return UNITS.get(self.kind, "项")


@dataclass
class File:
    id: int
    seq: int
    path: str
    section: str
    bytes: int
    media_type: str

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def stem(self) -> str:
        name = self.name
        return name.rsplit(".", 1)[0] if "." in name else name


@dataclass
class Segment:
    kind: str
    start: float
    end: float | None
    label: str
    keywords: list[str]
    file_id: int | None


@dataclass
class Item:
    id: str
    collection: str
    title: str
    creator: str
    date: str
    subjects: list[str]
    description: str
    language: str
    rights: str
    kind: str
    has_metadata: bool
    files: list[File] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)


class Library:
    """An installed library: ``catalog.db`` plus the files under ``library/``."""

    def __init__(self, target: Path, search_ready: bool = True):
        self.target = Path(target)
        self.db_path = self.target / "catalog.db"
        self.library_dir = self.target / "library"
        self.search_ready = search_ready
        self._local = threading.local()
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[tuple, object]] = {}
        self._compute_locks: dict[str, threading.Lock] = {}

    # --- connections and caching ---------------------------------------------------------------
    def db(self):
        db = getattr(self._local, "db", None)
        if db is None:
            db = open_db(self.db_path, readonly=True)
            db.conn.execute("PRAGMA query_only = ON")
            self._local.db = db
        return db

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db().conn

    def _stamp(self) -> tuple:
        """Changes whenever the catalog changes on disk (the installer adding files)."""
        out = []
        for suffix in ("", "-wal"):
            try:
                st = os.stat(str(self.db_path) + suffix)
                out.append((st.st_mtime_ns, st.st_size))
            except OSError:
                out.append(None)
        return tuple(out)

    def _cached(self, name: str, compute):
        """``compute()``, kept until the catalog changes; one thread computes, others wait."""
        stamp = self._stamp()
        with self._lock:
            hit = self._cache.get(name)
            if hit and hit[0] == stamp:
                return hit[1]
            name_lock = self._compute_locks.setdefault(name, threading.Lock())
        with name_lock:
            with self._lock:
                hit = self._cache.get(name)
            if hit and hit[0] == stamp:
                return hit[1]
            value = compute()
            with self._lock:
                self._cache[name] = (stamp, value)
            return value

    def has_installed_table(self) -> bool:
        return self._cached("has_installed", lambda: has_table(self.conn, "installed"))

    def needs_filter(self) -> bool:
        """True when some catalog files are not installed (so visibility must be checked)."""
        return self._cached("needs_filter", lambda: catalog_search.installed_filter_needed(
            self.db()))

    def meta(self) -> dict[str, str]:
        return self._cached("meta", lambda: {k: v for k, v in self.conn.execute(
            "SELECT key, value FROM meta")})

    # --- collections ---------------------------------------------------------------------------
    def collections(self) -> list[Collection]:
        return self._cached("collections", self._collections)

    def _collections(self) -> list[Collection]:
        rows = [Collection(key=r[0], row=r[1], group=r[2], name=r[3], kind=r[4], description=r[5])
                for r in self.conn.execute(
                    "SELECT key, row, group_zh, name_zh, kind, description_zh FROM collections "
                    "ORDER BY row, key")]
        if self.needs_filter():
            sql = ("SELECT collection, count(*) FROM items WHERE id IN (SELECT f.item_id FROM "
                   "installed n JOIN files f ON f.id = n.file_id) GROUP BY collection")
        else:
            sql = "SELECT collection, count(*) FROM items GROUP BY collection"
        counts = dict(self.conn.execute(sql).fetchall())
        for c in rows:
            c.count = counts.get(c.key, 0)
        return rows

    def collection(self, key: str) -> Collection | None:
        return next((c for c in self.collections() if c.key == key), None)

    def groups(self) -> list[tuple[str, list[Collection]]]:
        """Collections by source group (图书, 期刊, …), in table order."""
        out: dict[str, list[Collection]] = {}
        for c in self.collections():
            out.setdefault(c.group, []).append(c)
        return list(out.items())

    def items_page(self, key: str, page: int, per_page: int = PER_PAGE) -> list[dict]:
        visible = f" AND {visible_item_sql('i.id')}" if self.needs_filter() else ""
        rows = self.conn.execute(
            "SELECT id, title, creator, date FROM items i "
            f"WHERE collection = ?{visible} ORDER BY title, rowid LIMIT ? OFFSET ?",
            (key, per_page, (page - 1) * per_page)).fetchall()
        return [{"id": r[0], "title": r[1], "creator": r[2], "date": r[3]} for r in rows]

    # --- items ---------------------------------------------------------------------------------
    def item(self, item_id: str) -> Item | None:
        row = self.conn.execute(
            "SELECT id, collection, title, creator, date, subjects, description, language, "
            "rights, kind, has_metadata FROM items WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            return None
        item = Item(id=row[0], collection=row[1], title=row[2], creator=row[3], date=row[4],
                    subjects=json_list(row[5]), description=row[6], language=row[7],
                    rights=row[8], kind=row[9], has_metadata=bool(row[10]))
        join = " JOIN installed n ON n.file_id = f.id" if self.has_installed_table() else ""
        item.files = [File(*r) for r in self.conn.execute(
            f"SELECT f.id, f.seq, f.path, f.section, f.bytes, f.media_type FROM files f{join} "
            "WHERE f.item_id = ? ORDER BY f.seq, f.path", (item_id,))]
        if self.has_installed_table() and not item.files:
            return None  # nothing of it installed: readers do not see it
        item.segments = [Segment(kind=r[0], start=r[1], end=r[2], label=r[3],
                                 keywords=json_list(r[4]), file_id=r[5])
                         for r in self.conn.execute(
                             "SELECT kind, start, end, label, keywords, file_id FROM segments "
                             "WHERE item_id = ? ORDER BY start, id", (item_id,))]
        return item

    # --- files ---------------------------------------------------------------------------------
    def file_for(self, rel: str) -> tuple[Path, str] | None:
        """The file under ``library/`` that the catalog lists (and the installer placed) at
        ``rel``, with its media type; None for anything else, including every path that would
        lead outside ``library/``."""
        if not rel or names.problem(rel):
            return None
        row = self.conn.execute("SELECT id, media_type FROM files WHERE path = ?",
                                (rel,)).fetchone()
        if row is None:
            return None
        if self.has_installed_table() and self.conn.execute(
                "SELECT 1 FROM installed WHERE file_id = ?", (row[0],)).fetchone() is None:
            return None
        root = self.library_dir.resolve()
        try:
            full = (self.library_dir / rel).resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if not full.is_relative_to(root) or not full.is_file():
            return None
        return full, row[1]

    # --- search --------------------------------------------------------------------------------
    def search(self, query: str, limit: int, offset: int, collection: str | None):
        return catalog_search.search(self.db(), query, limit=limit, offset=offset,
                                     collection=collection, installed_only=self.needs_filter())
