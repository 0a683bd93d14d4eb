"""Full-text search over the catalog that finds 1- and 2-character Chinese words.

Design (see docs and DEPENDENCIES.md, "SQLite full-text search for Chinese"):

- One analyzer, ``normalize``, splits *both* the indexed text and the reader's query, so the
  two sides can never drift apart (Kiwix broke Chinese search that way: kiwix-tools #657,
  #671). Its identity is recorded in ``meta`` (key ``search_analyzer``); an index written by
  another analyzer is stale (``index_is_current``) and is rebuilt.
- ``normalize``: Unicode NFKC, Traditional -> Simplified folding, case folding, then every
  CJK character (Han, kana, bopomofo, Hangul, Yi syllables, and private-use characters, which
  libraries use for characters outside the character set) becomes a token of its own, runs of
  other letters, digits and combining marks stay words, everything else separates.
- The Traditional -> Simplified fold is *per character*, taken from OpenCC's own ``t2s``
  character table (``opencc.OpenCC('t2s').convert`` of each single character). Whole-text
  OpenCC conversion depends on context (it turns 乾 into 干 but keeps 乾隆), so a query for a
  substring of a title would then be split differently from the title itself and miss it. A
  per-character fold is the same function everywhere, and it is a fast ``str.translate``.
- The index is an FTS5 table (``detail=full``, tokenizer ``unicode61 remove_diacritics 0``)
  over that pre-tokenized text; it is contentless (the text lives in ``items``). A query word
  becomes an FTS5 *phrase* of its tokens, so "历史" is the phrase "历 史" and matches exactly
  the substring 历史; several words separated by spaces are ANDed. A query never reaches
  FTS5 unquoted: tokens hold no quote or operator characters, and a query of punctuation only
  has no tokens and finds nothing.
- Ranking is bm25 with column weights (title counts most). Snippets and highlights are
  computed here from the original text and returned as structured spans (text, marked), never
  as HTML.
"""
from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import sqlite_utils

from .schema import has_table, json_list, meta, set_meta, visible_item_sql

#: Bump whenever ``normalize`` or the index layout changes: every index built by another
#: version is rebuilt (by the viewer at start, by ``pack`` always).
ANALYZER_VERSION = "cjk-unigram-1"

META_KEY = "search_analyzer"
FTS_TABLE = "search_fts"
DOCS_TABLE = "search_docs"

# FTS5 columns and their bm25 weights, in table order.
COLUMNS = ("title", "creator", "subjects", "description", "segments")
WEIGHTS = (10.0, 4.0, 5.0, 1.0, 2.0)

# Characters that are a token each. Ext. A, URO, compatibility ideographs, Ext. B-H;
# iteration marks and Suzhou numerals; kana; bopomofo; Hangul; Yi syllables; private use.
_CJK = ("\u3005-\u3007\u3021-\u3029\u3038-\u303b"
        "\u3040-\u30ff\u31f0-\u31ff\u3100-\u312f\u31a0-\u31bf"
        "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"
        "\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua48f\uf900-\ufaff"
        "\ue000-\uf8ff\U00020000-\U000323af\U000f0000-\U0010fffd")
# Variation selectors (ideographic variants) and zero-width joiners vanish.
_DROP = {**{c: None for c in range(0xFE00, 0xFE10)},
         **{c: None for c in range(0xE0100, 0xE01F0)},
         0x200C: None, 0x200D: None}

_TOKENIZER = "unicode61 remove_diacritics 0 categories 'L* N* Co M*'"


@lru_cache(maxsize=1)
def _marks() -> str:
    """A regex class body for every combining mark (Mn, Mc, Me) this Python knows."""
    ranges: list[list[int]] = []
    for plane in (range(0x20000), range(0xE0000, 0xE1000)):
        for cp in plane:
            if unicodedata.category(chr(cp))[0] == "M" and cp not in _DROP:
                if ranges and ranges[-1][1] == cp - 1:
                    ranges[-1][1] = cp
                else:
                    ranges.append([cp, cp])
    return "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
                   for a, b in ranges)


@lru_cache(maxsize=1)
def _regexes() -> dict[str, re.Pattern]:
    marks = _marks()
    return {
        # anything that is neither a word character, a mark nor CJK; and the underscore
        "separator": re.compile(rf"(?:[^\w{marks}{_CJK}]|_)+"),
        "runs": re.compile(rf"([{_CJK}]+)|([^{_CJK}]+)"),
        # one token as normalize() makes it, for finding matches in the original text:
        # group 1 a CJK character (marks on it vanish), group 2 a word
        "token": re.compile(rf"([{_CJK}])[{marks}]*|((?:[^\W_{_CJK}]|[{marks}])+)"),
    }


@lru_cache(maxsize=1)
def _t2s_table() -> dict[int, str]:
    """Traditional -> Simplified per character, from OpenCC's t2s character dictionary."""
    import opencc  # opencc-python-reimplemented
    from importlib import resources

    converter = opencc.OpenCC("t2s")
    text = resources.files("opencc").joinpath("dictionary/TSCharacters.txt").read_text("utf-8")
    table: dict[int, str] = {}
    for line in text.splitlines():
        key = line.split("\t", 1)[0].strip()
        if len(key) == 1:
            value = converter.convert(key)
            if value != key:
                table[ord(key)] = value
    table.update(_DROP)
    return table


@lru_cache(maxsize=1)
def analyzer_id() -> str:
    """What is recorded in ``meta``: the version plus everything else that shapes tokens."""
    digest = hashlib.blake2b(json.dumps(sorted(_t2s_table().items())).encode(), digest_size=6)
    return f"{ANALYZER_VERSION};unicode={unicodedata.unidata_version};t2s={digest.hexdigest()}"


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_t2s_table()).casefold()


def _is_mark(c: str) -> bool:
    return unicodedata.category(c)[0] == "M"


def normalize(text: str) -> str:
    """The analyzer: folded text with every token separated by one space.

    >>> normalize("歷史文化 Python3，第01期")
    '历 史 文 化 python3 第 01 期'
    """
    if not text:
        return ""
    rx = _regexes()
    folded = rx["separator"].sub(" ", _fold(text))
    out = []
    for cjk, other in rx["runs"].findall(folded):
        if cjk:
            out.append(" ".join(cjk))
        else:
            if out and _is_mark(other[0]):  # marks on the CJK character before vanish
                i = 1
                while i < len(other) and _is_mark(other[i]):
                    i += 1
                other = other[i:]
            out.append(other)
    return " ".join(" ".join(out).split())


def tokens(text: str) -> list[str]:
    return normalize(text).split()


# --- highlighting ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Span:
    """A piece of displayed text; ``mark`` when it matched the query."""
    text: str
    mark: bool = False


@lru_cache(maxsize=65536)
def _fold_char(c: str) -> str:
    return _fold(c)


def _token_offsets(text: str) -> list[tuple[str, int, int]]:
    """Tokens of ``text`` (as ``normalize`` makes them) with their [start, end) in ``text``."""
    folded_parts: list[str] = []
    where: list[int] = []
    for i, c in enumerate(text):
        f = _fold_char(c)
        folded_parts.append(f)
        where.extend([i] * len(f))
    folded = "".join(folded_parts)
    where.append(len(text))
    token = _regexes()["token"]
    out = []
    for m in token.finditer(folded):
        start, end = where[m.start()], where[m.end() - 1] + 1
        out.append((m.group(1) or m.group(2), start, end))
    return out


def match_ranges(text: str, phrases: list[list[str]]) -> list[tuple[int, int]]:
    """Where in ``text`` each phrase (a list of tokens) occurs, merged, in order."""
    if not text or not phrases:
        return []
    toks = _token_offsets(text)
    words = [t for t, _, _ in toks]
    found = []
    for phrase in phrases:
        n = len(phrase)
        if not n:
            continue
        for i in range(len(words) - n + 1):
            if words[i:i + n] == phrase:
                found.append((toks[i][1], toks[i + n - 1][2]))
    found.sort()
    merged: list[tuple[int, int]] = []
    for a, b in found:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def highlight(text: str, phrases: list[list[str]], width: int | None = None) -> list[Span]:
    """``text`` as spans with the matches marked; cut to about ``width`` characters around the
    first match (with "…") when ``width`` is given."""
    text = unicodedata.normalize("NFC", text or "")
    ranges = match_ranges(text, phrases)
    lo, hi = 0, len(text)
    if width is not None and len(text) > width:
        first = ranges[0][0] if ranges else 0
        lo = max(0, min(first - width // 4, len(text) - width))
        hi = min(len(text), lo + width)
    spans: list[Span] = []
    if lo > 0:
        spans.append(Span("…"))
    pos = lo
    for a, b in ranges:
        if b <= lo or a >= hi:
            continue
        a, b = max(a, lo), min(b, hi)
        if a > pos:
            spans.append(Span(text[pos:a]))
        spans.append(Span(text[a:b], True))
        pos = b
    if pos < hi:
        spans.append(Span(text[pos:hi]))
    if hi < len(text):
        spans.append(Span("…"))
    return spans


# --- the index ---------------------------------------------------------------------------------

def build_index(db: sqlite_utils.Database) -> None:
    """(Re)build the search index inside the catalog and record the analyzer in ``meta``.

    Call it whenever items or segments were written: ``pack`` after scanning, an update after
    applying a delta. One transaction: readers see the old index or the new one.
    """
    conn = db.conn
    segs: dict[str, list[str]] = {}
    for item_id, label, keywords in conn.execute(
            "SELECT item_id, label, keywords FROM segments ORDER BY item_id, start"):
        words = segs.setdefault(item_id, [])
        words.append(label)
        words.extend(json_list(keywords))

    def rows():
        cur = conn.execute("SELECT rowid, id, collection, title, creator, subjects, description "
                           "FROM items ORDER BY rowid")
        for rowid, item_id, coll, title, creator, subjects, description in cur:
            yield (rowid, item_id, coll,
                   normalize(title), normalize(creator),
                   normalize(" ".join(json_list(subjects))), normalize(description),
                   normalize(" ".join(segs.get(item_id, ()))))

    in_tx = conn.in_transaction
    conn.execute("SAVEPOINT libpush_search_index")
    try:
        conn.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
        conn.execute(f"DROP TABLE IF EXISTS {DOCS_TABLE}")
        conn.execute(f"CREATE TABLE {DOCS_TABLE} (rowid INTEGER PRIMARY KEY, "
                     "item_id TEXT NOT NULL UNIQUE, collection TEXT NOT NULL)")
        conn.execute(f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5({', '.join(COLUMNS)}, "
                     f"content='', detail=full, tokenize=\"{_TOKENIZER}\")")
        batch: list[tuple] = []

        def flush():
            conn.executemany(f"INSERT INTO {DOCS_TABLE} (rowid, item_id, collection) "
                             "VALUES (?, ?, ?)", [r[:3] for r in batch])
            conn.executemany(f"INSERT INTO {FTS_TABLE} (rowid, {', '.join(COLUMNS)}) "
                             "VALUES (?, ?, ?, ?, ?, ?)", [(r[0], *r[3:]) for r in batch])
            batch.clear()

        for row in rows():
            batch.append(row)
            if len(batch) >= 5000:
                flush()
        flush()
        conn.execute(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('optimize')")
        set_meta(db, **{META_KEY: analyzer_id()})
        conn.execute("RELEASE libpush_search_index")
    except BaseException:
        conn.execute("ROLLBACK TO libpush_search_index")
        conn.execute("RELEASE libpush_search_index")
        raise
    if not in_tx:
        conn.commit()


def index_is_current(db: sqlite_utils.Database) -> bool:
    """True when the index exists, was built by this analyzer and covers every item."""
    try:
        if meta(db).get(META_KEY) != analyzer_id():
            return False
        names = {r[0] for r in db.conn.execute(
            "SELECT name FROM sqlite_master WHERE name IN (?, ?)", (FTS_TABLE, DOCS_TABLE))}
        if names != {FTS_TABLE, DOCS_TABLE}:
            return False
        (docs,), = db.conn.execute(f"SELECT count(*) FROM {DOCS_TABLE}")
        (items,), = db.conn.execute("SELECT count(*) FROM items")
        return docs == items
    except sqlite3.Error:
        return False


# --- searching ---------------------------------------------------------------------------------

@dataclass
class SegmentHit:
    kind: str               # chapter | page | time
    start: float
    file_id: int | None
    label: list[Span]


@dataclass
class Hit:
    item_id: str
    collection: str
    kind: str
    title: str
    title_spans: list[Span]
    snippet: list[Span]      # from the description, subjects or creator; may be empty
    snippet_field: str       # which: description | subjects | creator | segments | ''
    segments: list[SegmentHit] = field(default_factory=list)
    score: float = 0.0


@dataclass
class SearchResults:
    query: str
    phrases: list[list[str]]     # the query as the analyzer split it
    total: int                   # hits in the chosen collection (all collections when None)
    counts: dict[str, int]       # hits per collection, always over all collections
    hits: list[Hit]
    limit: int
    offset: int
    collection: str | None = None

    @property
    def empty_query(self) -> bool:
        return not self.phrases


def parse_query(query: str) -> list[list[str]]:
    """The query's words (split on white space) as token lists; words without tokens vanish."""
    words = unicodedata.normalize("NFKC", query or "").split()
    phrases = []
    for w in words:
        toks = tokens(w)
        if toks and toks not in phrases:
            phrases.append(toks)
    return phrases


def fts_query(phrases: list[list[str]]) -> str:
    """The FTS5 MATCH expression: one quoted phrase per word, ANDed."""
    return " AND ".join('"' + " ".join(p).replace('"', '""') + '"' for p in phrases)


def installed_filter_needed(db: sqlite_utils.Database) -> bool:
    """True in an installed library where some files are not (yet) installed."""
    conn = db.conn
    if not has_table(conn, "installed"):
        return False
    # installed.file_id references files.id, so equal counts mean every file is installed
    (files, installed), = conn.execute(
        "SELECT (SELECT count(*) FROM files), (SELECT count(*) FROM installed)")
    return installed < files


def search(db: sqlite_utils.Database, query: str, limit: int = 20, offset: int = 0,
           collection: str | None = None, installed_only: bool | None = None) -> SearchResults:
    """Items matching every word of ``query``, best first.

    ``installed_only``: count and return only items with at least one installed file; by
    default, whenever the catalog has an ``installed`` table with files still missing.
    """
    phrases = parse_query(query)
    result = SearchResults(query=query, phrases=phrases, total=0, counts={}, hits=[],
                           limit=limit, offset=offset, collection=collection)
    if not phrases:
        return result
    conn = db.conn
    if installed_only is None:
        installed_only = installed_filter_needed(db)
    match = fts_query(phrases)
    visible = f" AND {visible_item_sql('d.item_id')}" if installed_only else ""
    base = (f"FROM {FTS_TABLE} JOIN {DOCS_TABLE} d ON d.rowid = {FTS_TABLE}.rowid "
            f"WHERE {FTS_TABLE} MATCH :q{visible}")
    result.counts = {c: n for c, n in conn.execute(
        f"SELECT d.collection, count(*) {base} GROUP BY d.collection ORDER BY d.collection",
        {"q": match})}
    result.total = (result.counts.get(collection, 0) if collection
                    else sum(result.counts.values()))
    if not result.total or offset >= result.total:
        return result
    weights = ", ".join(str(w) for w in WEIGHTS)
    where_c = " AND d.collection = :c" if collection else ""
    ranked = conn.execute(
        f"SELECT d.item_id, bm25({FTS_TABLE}, {weights}) AS score {base}{where_c} "
        "ORDER BY score, d.rowid LIMIT :limit OFFSET :offset",
        {"q": match, "c": collection, "limit": limit, "offset": offset}).fetchall()
    result.hits = _hits(conn, ranked, phrases)
    return result


def _hits(conn, ranked: list[tuple[str, float]], phrases: list[list[str]]) -> list[Hit]:
    if not ranked:
        return []
    ids = [r[0] for r in ranked]
    marks = ",".join("?" * len(ids))
    items = {r[0]: r for r in conn.execute(
        "SELECT id, collection, kind, title, creator, subjects, description "
        f"FROM items WHERE id IN ({marks})", ids)}
    segs: dict[str, list[tuple]] = {}
    for row in conn.execute("SELECT item_id, kind, start, file_id, label, keywords FROM segments "
                            f"WHERE item_id IN ({marks}) ORDER BY item_id, start", ids):
        segs.setdefault(row[0], []).append(row[1:])
    hits = []
    for item_id, score in ranked:
        row = items.get(item_id)
        if row is None:
            continue
        _, coll, kind, title, creator, subjects, description = row
        hit = Hit(item_id=item_id, collection=coll, kind=kind, title=title,
                  title_spans=highlight(title, phrases), snippet=[], snippet_field="",
                  score=score)
        seg_hits = []
        for skind, start, file_id, label, keywords in segs.get(item_id, ()):
            text = " ".join([label, *json_list(keywords)])
            if match_ranges(text, phrases):
                seg_hits.append(SegmentHit(skind, start, file_id, highlight(label, phrases)))
        hit.segments = seg_hits[:3]
        for name, text in (("description", description),
                           ("subjects", "；".join(json_list(subjects))),
                           ("creator", creator)):
            if text and match_ranges(text, phrases):
                hit.snippet = highlight(text, phrases, width=90)
                hit.snippet_field = name
                break
        else:
            if description:
                hit.snippet = highlight(description, phrases, width=90)
                hit.snippet_field = "description"
        hits.append(hit)
    return hits
