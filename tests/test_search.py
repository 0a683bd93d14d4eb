"""catalog.search: Chinese words of every length, Traditional/Simplified folding, safe queries."""
from __future__ import annotations

import random

import pytest

from catalog import schema, search
from viewer_fixtures import XSS_TITLE, build_library


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    lib = build_library(tmp_path_factory.mktemp("search-lib"))
    database = schema.open_db(lib.db_path)
    yield database
    database.conn.close()


def ids(results) -> set[str]:
    return {h.item_id for h in results.hits}


# --- the analyzer ---------------------------------------------------------------------------

def test_normalize_splits_cjk_and_keeps_words():
    assert search.normalize("歷史文化 Python3，第01期") == "历 史 文 化 python3 第 01 期"
    assert search.normalize("ＡＢＣ１２３") == "abc123"          # NFKC: full-width folds
    assert search.normalize("唐詩三百首") == search.normalize("唐诗三百首")
    assert search.normalize("!!!“”（）*") == ""
    assert search.normalize("") == ""


def test_fold_is_the_same_for_a_text_and_its_substrings():
    # Whole-text OpenCC keeps 乾 in 乾隆 but turns a lone 乾 into 干; our per-character fold
    # splits a word exactly as it splits the text around it.
    assert search.normalize("乾") in search.normalize("乾隆皇帝")
    text = "國家圖書館藏乾隆年間刻本《歷代詩話》，後附頭髮與著作考"
    full = search.normalize(text)
    for i in range(len(text)):
        for j in range(i + 1, min(len(text), i + 6) + 1):
            part = search.normalize(text[i:j])
            if part:
                assert f" {part} " in f" {full} ", text[i:j]


def test_highlight_offsets_follow_the_analyzer():
    rnd = random.Random(7)
    pool = "历史歷史文化京剧詩诗画畫ABCabc 123，。《》"
    for _ in range(200):
        text = "".join(rnd.choice(pool) for _ in range(rnd.randint(0, 20)))
        toks = [t for t, _, _ in search._token_offsets(text)]
        assert " ".join(toks) == search.normalize(text), text


def test_highlight_returns_spans_not_html():
    spans = search.highlight("北京<b>歷史</b>与历史", search.parse_query("历史"))
    assert [s.text for s in spans if s.mark] == ["歷史", "历史"]
    assert "".join(s.text for s in spans) == "北京<b>歷史</b>与历史"


# --- queries ------------------------------------------------------------------------------------

@pytest.mark.parametrize("query, expected", [
    ("诗", {"classics/shijing", "ebooks/tangshi", "recited-poems/jingyesi"}),
    ("画", {"new-year-paintings/杨柳青/山水画.jpg", "new-year-paintings/menshen"}),
    ("京剧", {"journals/jingju", "local-opera/bawang"}),
    ("历史", {"ebooks/zghs", "open-courses/lishi", "gov-info/notice-1"}),
    ("唐诗三百", {"ebooks/tangshi"}),
    ("唐诗三百首", {"ebooks/tangshi"}),
])
def test_one_two_and_four_character_words(db, query, expected):
    r = search.search(db, query)
    assert expected <= ids(r), (query, ids(r))
    if query in ("唐诗三百", "唐诗三百首"):
        assert ids(r) == expected


def test_one_character_word_does_not_need_neighbours(db):
    # 画 alone finds 山水画 (title), 年画 (title) and 宋代绘画 (a video segment)
    r = search.search(db, "画")
    assert "open-courses/lishi" in ids(r)
    hit = next(h for h in r.hits if h.item_id == "open-courses/lishi")
    assert hit.segments and hit.segments[0].start == 8
    assert any(s.mark and s.text == "画" for s in hit.segments[0].label)


def test_traditional_query_finds_simplified_and_back(db):
    simplified = ids(search.search(db, "历史"))
    traditional = ids(search.search(db, "歷史"))
    assert simplified == traditional
    assert "open-courses/lishi" in simplified        # title 歷史文化講座
    assert "ebooks/zghs" in traditional              # title 中国历史简编
    assert ids(search.search(db, "講座")) == ids(search.search(db, "讲座")) == {"open-courses/lishi"}


def test_several_words_are_anded(db):
    assert ids(search.search(db, "京剧 霸王")) == {"local-opera/bawang"}
    assert ids(search.search(db, "历史 通知")) == {"gov-info/notice-1"}
    assert ids(search.search(db, "京剧 唐诗")) == set()
    # a word is a phrase: the characters must be adjacent
    assert ids(search.search(db, "京霸")) == set()


def test_title_weighs_more_than_description(db):
    r = search.search(db, "京剧")
    # 京剧 霸王别姬 has it in the title, 中国京剧 too; both come before nothing-in-title items
    assert {h.item_id for h in r.hits[:2]} == {"journals/jingju", "local-opera/bawang"}


def test_counts_per_collection_and_filter(db):
    r = search.search(db, "历史")
    assert r.counts == {"ebooks": 1, "gov-info": 1, "open-courses": 1}
    assert r.total == 3
    only = search.search(db, "历史", collection="gov-info")
    assert only.total == 1 and ids(only) == {"gov-info/notice-1"}
    assert only.counts == r.counts


def test_paging(db):
    first = search.search(db, "政府信息公开", limit=20)
    assert first.total == 60 and len(first.hits) == 20
    third = search.search(db, "政府信息公开", limit=20, offset=40)
    assert len(third.hits) == 20
    assert not ids(first) & ids(third)
    assert search.search(db, "政府信息公开", offset=500).hits == []


@pytest.mark.parametrize("query", [
    '"', '""', "*", "历史*", "AND", "OR NOT", "(", ")", "历史 AND", "NEAR(历史 文化)",
    "title:历史", "^历史", "-历史", "'", "\\", "%", "_", "!!!", "，。、", "   ", "",
    '"历史" OR "诗"', "{title}: 诗", "\x00", "🙂",
])
def test_fts_syntax_in_a_query_never_errors(db, query):
    r = search.search(db, query)
    assert isinstance(r.total, int)


def test_punctuation_only_finds_nothing(db):
    for q in ('"', "*", "(", "!!!", "，。", ""):
        r = search.search(db, q)
        assert r.empty_query and r.total == 0 and r.hits == []


def test_operator_words_are_plain_words(db):
    assert search.fts_query(search.parse_query("历史 AND 诗")) == '"历 史" AND "and" AND "诗"'
    assert search.search(db, "历史 AND").total == 0     # 'and' is a word nobody wrote


def test_xss_title_is_found_and_returned_as_text(db):
    r = search.search(db, "script")
    hit = next(h for h in r.hits if h.item_id == "open-courses/xss")
    assert "".join(s.text for s in hit.title_spans) == XSS_TITLE
    assert [s.text for s in hit.title_spans if s.mark] == ["script", "script"]


def test_installed_only_hides_items_without_installed_files(db):
    assert ids(search.search(db, "胡同")) == set()                 # file not installed
    assert ids(search.search(db, "胡同", installed_only=False)) == {"old-photos/hutong"}


# --- the recorded analyzer ----------------------------------------------------------------------

def test_analyzer_version_recorded_and_checked(tmp_path):
    lib = build_library(tmp_path / "lib")
    db = schema.open_db(lib.db_path)
    try:
        recorded = schema.meta(db)[search.META_KEY]
        assert recorded.startswith(search.ANALYZER_VERSION)
        assert recorded == search.analyzer_id()
        assert search.index_is_current(db)

        schema.set_meta(db, **{search.META_KEY: "cjk-unigram-0;old"})
        db.conn.commit()
        assert not search.index_is_current(db)
        search.build_index(db)
        assert search.index_is_current(db)

        # an item added after indexing makes the index stale too
        db["items"].insert({"id": "ebooks/new", "collection": "ebooks", "title": "新书",
                            "kind": "ebook"})
        db.conn.commit()
        assert not search.index_is_current(db)
        search.build_index(db)
        assert search.index_is_current(db)
        assert ids(search.search(db, "新书", installed_only=False)) == {"ebooks/new"}
    finally:
        db.conn.close()


def test_changing_the_analyzer_version_makes_the_index_stale(tmp_path, monkeypatch):
    lib = build_library(tmp_path / "lib")
    db = schema.open_db(lib.db_path)
    try:
        assert search.index_is_current(db)
        monkeypatch.setattr(search, "ANALYZER_VERSION", "cjk-unigram-999")
        search.analyzer_id.cache_clear()
        assert not search.index_is_current(db)
    finally:
        search.analyzer_id.cache_clear()
        db.conn.close()


def test_no_index_is_not_current(tmp_path):
    lib = build_library(tmp_path / "lib", index=False)
    db = schema.open_db(lib.db_path)
    try:
        assert not search.index_is_current(db)
    finally:
        db.conn.close()
