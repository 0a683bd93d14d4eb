"""The catalog: one SQLite file that describes a release, written by the bundler and carried
unchanged into every bundle, drive and installed library.

Tables (see docs/FORMAT.md, "catalog.db", for the meaning of each column):

- ``meta``         key/value: schema version, table id, release, bundle id, created, analyzer
- ``collections``  one row per table row present in the release
- ``items``        a book, a journal title, an episode, a poem, a picture, a record
- ``files``        every payload file: path under ``library/``, bytes, BLAKE3, media type
- ``members``      where each file's bytes sit in the shards (a split file has several parts)
- ``shards``       the 7z shards: name, bytes, BLAKE3, method, collection
- ``segments``     chapter/page marks for texts, time-coded segments for audio and video

An installed library adds ``installed`` (which files are in place, written by the installer).
"""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import sqlite_utils

SCHEMA_VERSION = 1

DDL = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS collections (
    key            TEXT PRIMARY KEY,      -- the table row's key, also the folder under library/
    row            INTEGER NOT NULL,      -- row number in the configuration table
    group_zh       TEXT NOT NULL,         -- source group: 图书, 期刊, 视频, 音频, 图片, 网络资源
    group_en       TEXT NOT NULL,
    name_zh        TEXT NOT NULL,
    name_en        TEXT NOT NULL,
    kind           TEXT NOT NULL,         -- ebook text journal video audio picture record
    description_zh TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    id          TEXT PRIMARY KEY,         -- "<collection>/<id from metadata.csv>"
    collection  TEXT NOT NULL REFERENCES collections(key),
    title       TEXT NOT NULL,
    creator     TEXT NOT NULL DEFAULT '',
    date        TEXT NOT NULL DEFAULT '', -- ISO 8601, possibly partial: 2014, 2014-03, 2014-03-07
    subjects    TEXT NOT NULL DEFAULT '[]',  -- JSON array of strings
    description TEXT NOT NULL DEFAULT '',
    language    TEXT NOT NULL DEFAULT 'zh',
    rights      TEXT NOT NULL DEFAULT '',
    kind        TEXT NOT NULL,
    has_metadata INTEGER NOT NULL DEFAULT 1  -- 0: made up from the file name (no metadata row)
);
CREATE INDEX IF NOT EXISTS items_collection ON items(collection, title);
CREATE TABLE IF NOT EXISTS files (
    id         INTEGER PRIMARY KEY,
    item_id    TEXT NOT NULL REFERENCES items(id),
    seq        INTEGER NOT NULL,          -- order within the item (pages, episodes)
    path       TEXT NOT NULL UNIQUE,      -- under library/: "<collection>/<relative path>", NFC, '/'
    section    TEXT NOT NULL DEFAULT '',  -- sub-folder within the item: a journal issue, a volume
    bytes      INTEGER NOT NULL,
    blake3     TEXT NOT NULL,             -- hex, of the whole file
    media_type TEXT NOT NULL,
    shard      TEXT NOT NULL              -- the shard holding the file (its first part)
);
CREATE INDEX IF NOT EXISTS files_item ON files(item_id, seq);
CREATE TABLE IF NOT EXISTS shards (
    name       TEXT PRIMARY KEY,          -- file name under data/shards/
    collection TEXT NOT NULL,
    method     TEXT NOT NULL,             -- 'copy' or 'lzma2'
    bytes      INTEGER NOT NULL,
    blake3     TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    members    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS members (
    shard    TEXT NOT NULL REFERENCES shards(name),
    member   TEXT NOT NULL,               -- name inside the 7z archive
    file_id  INTEGER NOT NULL REFERENCES files(id),
    part     INTEGER NOT NULL,            -- 0 for a whole file; 0..n-1 for a split file's parts
    offset   INTEGER NOT NULL,            -- where this part starts in the file
    bytes    INTEGER NOT NULL,
    PRIMARY KEY (shard, member)
);
CREATE INDEX IF NOT EXISTS members_file ON members(file_id, part);
CREATE TABLE IF NOT EXISTS segments (
    id       INTEGER PRIMARY KEY,
    item_id  TEXT NOT NULL REFERENCES items(id),
    file_id  INTEGER REFERENCES files(id),
    kind     TEXT NOT NULL,               -- 'chapter' | 'page' | 'time'
    start    REAL NOT NULL,               -- seconds for 'time', page number for 'page', ordinal for 'chapter'
    end      REAL,
    label    TEXT NOT NULL,
    keywords TEXT NOT NULL DEFAULT '[]'   -- JSON array of strings
);
CREATE INDEX IF NOT EXISTS segments_item ON segments(item_id, start);
"""

INSTALL_DDL = """
CREATE TABLE IF NOT EXISTS installed (
    file_id INTEGER PRIMARY KEY REFERENCES files(id),
    at      TEXT NOT NULL                  -- when it was placed under library/
);
"""


def json_list(value: str | None) -> list[str]:
    """A JSON-array column (``subjects``, ``keywords``) as strings; text that is not JSON is
    taken as one word rather than failing a reader's page."""
    if not value:
        return []
    try:
        data = json.loads(value)
    except ValueError:
        return [value]
    if isinstance(data, list):
        return [str(x) for x in data if x is not None]
    return [str(data)]


def has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                        (name,)).fetchone() is not None


def visible_item_sql(item_id: str) -> str:
    """SQL true when the item ``item_id`` (a column expression) has an installed file."""
    return (f"EXISTS (SELECT 1 FROM files vf JOIN installed vi ON vi.file_id = vf.id "
            f"WHERE vf.item_id = {item_id})")


def create(path: Path) -> sqlite_utils.Database:
    """A new, empty catalog at ``path`` with the current schema."""
    db = open_db(path)
    db.conn.executescript(DDL)
    set_meta(db, schema_version=SCHEMA_VERSION)
    return db


def open_db(path: Path, readonly: bool = False) -> sqlite_utils.Database:
    if readonly:
        uri = Path(path).resolve().as_uri() + "?mode=ro"
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
    else:
        conn = sqlite3.connect(str(path), check_same_thread=False)
    conn.execute("PRAGMA foreign_keys = ON")
    return sqlite_utils.Database(conn)


def set_meta(db: sqlite_utils.Database, **values) -> None:
    db["meta"].upsert_all(({"key": k, "value": str(v)} for k, v in values.items()), pk="key")


def meta(db: sqlite_utils.Database) -> dict[str, str]:
    return {r["key"]: r["value"] for r in db.query("SELECT key, value FROM meta")}
