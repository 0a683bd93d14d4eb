import json

import pytest

from catalog.errors import UserError
from catalog.scan import scan
from catalog.table import load_table
from conftest import small_tree, write_tree


def test_scan_reads_metadata_sections_segments_and_fallback(tmp_path):
    release = scan(small_tree(tmp_path / "s"), load_table())
    items = {i["id"]: i for i in release.items}
    assert items["gov-info/r1"]["title"] == "二〇一四年农业补贴政策解读"
    assert json.loads(items["gov-info/r1"]["subjects"]) == ["农业", "政府信息"]
    fallback = items["gov-info/r3-no-metadata.html"]
    assert fallback["has_metadata"] == 0 and fallback["title"] == "r3-no-metadata"
    pages = [f for f in release.files if f.item_id == "journals/qk1"]
    assert [f.section for f in pages] == ["2014年第01期", "2014年第01期", "2014年第02期"]
    assert [f.seq for f in pages] == [0, 1, 2]
    assert release.segments[0]["label"] == "开场"
    assert [c.key for c in release.collections] == ["journals", "open-courses", "gov-info"]


def test_missing_source_folder(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        scan(tmp_path / "nope", load_table())


@pytest.mark.parametrize("csv, line, words", [
    ("id,title,files\nr1,标题,r1.html\nr1,重复,r2.html\n", 3, "appears twice"),
    ("id,title,files\nr1,,r1.html\n", 2, "title is empty"),
    ("id,title,files,colour\nr1,标题,r1.html,red\n", 1, "unknown column"),
    ("id,title\nr1,标题\n", 1, "missing column"),
    ("id,title,files\nr1,标题,r1.html,extra\n", 2, "columns expected"),
    ("id,title,files,date\nr1,标题,r1.html,14.3.2014\n", 2, "is not YYYY"),
    ("id,title,files\nr/1,标题,r1.html\n", 2, "must be 1-64"),
])
def test_malformed_metadata_names_file_and_line(tmp_path, csv, line, words):
    root = write_tree(tmp_path / "s", {"gov-info/metadata.csv": csv, "gov-info/r1.html": "a",
                                       "gov-info/r2.html": "b"})
    with pytest.raises(UserError) as e:
        scan(root, load_table())
    assert f"line {line}" in str(e.value) and words in str(e.value)
    assert "metadata.csv" in str(e.value)


def test_listed_file_missing_and_not_utf8(tmp_path):
    root = write_tree(tmp_path / "s", {"gov-info/metadata.csv": "id,title,files\nr1,标题,gone.html\n"})
    with pytest.raises(UserError, match="gone.html"):
        scan(root, load_table())
    (root / "gov-info/metadata.csv").write_bytes("id,title,files\nr1,标题,gone.html\n".encode("gbk"))
    with pytest.raises(UserError, match="not UTF-8"):
        scan(root, load_table())


@pytest.mark.parametrize("name, why", [
    ("CON.html", "reserved"), ("a:b.html", "not allowed"), ("trailing. ", "ends with"),
    ("q?.jpg", "not allowed"),
])
def test_hostile_or_unportable_names_are_refused(tmp_path, name, why):
    root = write_tree(tmp_path / "s", {f"gov-info/{name}": "x"})
    with pytest.raises(UserError, match=why):
        scan(root, load_table())


def test_case_collision_refused(tmp_path):
    root = write_tree(tmp_path / "s", {"gov-info/A.html": "x", "gov-info/a.html": "y"})
    if len(list((root / "gov-info").iterdir())) < 2:
        pytest.skip("case-insensitive filesystem")
    with pytest.raises(UserError, match="same name"):
        scan(root, load_table())


def test_unknown_collection_folder_and_symlink(tmp_path):
    root = write_tree(tmp_path / "s", {"gov-infos/r.html": "x"})
    with pytest.raises(UserError, match="not a collection"):
        scan(root, load_table())
    root2 = write_tree(tmp_path / "t", {"gov-info/r.html": "x"})
    (root2 / "gov-info/link.html").symlink_to(root2 / "gov-info/r.html")
    with pytest.raises(UserError, match="link or special"):
        scan(root2, load_table())
