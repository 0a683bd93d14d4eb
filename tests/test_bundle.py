"""Packing: real 7z shards checked by stock 7-Zip, a bag checked by bagit-python, and verify
naming every problem."""
import json
import subprocess

import bagit
import pytest

from bundler.pack import pack
from bundler.plan import FIXED_OVERHEAD
from bundler.verify import verify_bundle
from catalog import schema
from catalog.errors import UserError
from conftest import need_tool, small_tree


def shards(bundle):
    return sorted((bundle / "data/shards").glob("*.7z"))


def test_every_shard_passes_stock_7zip(bundle):
    sevenzip = need_tool("7zz")
    assert shards(bundle)
    for shard in shards(bundle):
        r = subprocess.run([sevenzip, "t", str(shard)], capture_output=True, text=True)
        assert r.returncode == 0 and "Everything is Ok" in r.stdout, r.stdout + r.stderr


def test_media_is_stored_and_text_compressed(bundle):
    db = schema.open_db(bundle / "data/catalog.db", readonly=True)
    methods = {r["collection"] + ":" + r["method"] for r in db.query("SELECT * FROM shards")}
    assert {"gov-info:lzma2", "open-courses:copy", "journals:copy"} <= methods
    sevenzip = need_tool("7zz")
    for shard in shards(bundle):
        listing = subprocess.run([sevenzip, "l", "-slt", str(shard)], capture_output=True, text=True).stdout
        expected = "LZMA2" if shard.name.startswith("gov-info") else "Copy"
        assert f"Method = {expected}" in listing


def test_bag_validates_with_bagit_python(bundle):
    bag = bagit.Bag(str(bundle))
    bag.validate()  # raises on any problem
    assert bag.info["Bag-Count"] == "1 of 1"
    assert (bundle / "manifest-blake3.txt").read_text().count("data/") == len(shards(bundle)) + 1


def test_catalog_records_every_file_with_blake3(bundle, source):
    import blake3
    db = schema.open_db(bundle / "data/catalog.db", readonly=True)
    rows = list(db.query("SELECT path, bytes, blake3 FROM files"))
    assert len(rows) == 7
    for r in rows:
        data = (source / r["path"]).read_bytes()
        assert r["bytes"] == len(data) and r["blake3"] == blake3.blake3(data).hexdigest()
    info = json.loads((bundle / "libpush.json").read_text())
    assert {s["name"] for s in info["shards"]} == {p.name for p in shards(bundle)}


def test_shard_limit_holds_and_big_file_is_split(tmp_path):
    src = small_tree(tmp_path / "s", big=3_300_000)
    limit = 1_200_000
    pack(src, tmp_path / "b", shard_size=limit)
    sizes = [p.stat().st_size for p in shards(tmp_path / "b")]
    assert max(sizes) <= limit
    db = schema.open_db(tmp_path / "b/data/catalog.db", readonly=True)
    parts = list(db.query("SELECT m.* FROM members m JOIN files f ON f.id = m.file_id "
                          "WHERE f.path = 'open-courses/oc2-big.mp4' ORDER BY part"))
    assert len(parts) >= 3 and len({p["shard"] for p in parts}) == len(parts)
    assert sum(p["bytes"] for p in parts) == 3_300_000
    assert [p["offset"] for p in parts] == [sum(q["bytes"] for q in parts[:i]) for i in range(len(parts))]
    # the planner's overhead margin is generous but not absurd
    assert max(sizes) > limit - 2 * FIXED_OVERHEAD - 64 * 1024


def test_shard_names_follow_content(tmp_path, source):
    pack(source, tmp_path / "b1")
    pack(source, tmp_path / "b2")
    assert [p.name for p in shards(tmp_path / "b1")] == [p.name for p in shards(tmp_path / "b2")]
    (source / "gov-info/r2.html").write_text("changed", "utf-8")
    pack(source, tmp_path / "b3")
    changed = {p.name for p in shards(tmp_path / "b3")} - {p.name for p in shards(tmp_path / "b1")}
    assert len(changed) == 1 and next(iter(changed)).startswith("gov-info-")


def test_verify_clean_bundle_has_no_problems(bundle):
    assert verify_bundle(bundle) == []
    assert verify_bundle(bundle, fast=True) == []


def test_verify_names_altered_missing_and_extra(bundle):
    first, second = shards(bundle)[:2]
    data = bytearray(first.read_bytes())
    data[len(data) // 2] ^= 0x01
    first.write_bytes(bytes(data))
    second.unlink()
    (bundle / "data/shards/stray.7z").write_bytes(b"x")
    problems = {(p["path"], p["problem"].split(" ")[0]) for p in verify_bundle(bundle)}
    assert (f"data/shards/{first.name}", "SHA-256") in problems
    assert (f"data/shards/{first.name}", "BLAKE3") in problems
    assert (f"data/shards/{second.name}", "missing") in problems
    assert ("data/shards/stray.7z", "extra") in problems
    assert len([p for p in problems if p[0] == f"data/shards/{second.name}"]) == 1


def test_verify_catches_a_tampered_manifest_and_catalog(bundle):
    m = bundle / "manifest-blake3.txt"
    m.write_text(m.read_text().replace("a", "b", 1))
    (bundle / "data/catalog.db").write_bytes((bundle / "data/catalog.db").read_bytes() + b"\0")
    problems = {p["path"] for p in verify_bundle(bundle)}
    assert "manifest-blake3.txt" in problems and "data/catalog.db" in problems


def test_pack_refuses_nonempty_bundle_and_nested_target(tmp_path, source):
    (tmp_path / "full").mkdir()
    (tmp_path / "full/x").write_text("keep me")
    with pytest.raises(UserError, match="already exists"):
        pack(source, tmp_path / "full")
    assert (tmp_path / "full/x").read_text() == "keep me"
    with pytest.raises(UserError, match="inside"):
        pack(source, source / "bundle")
    assert not (source / "bundle").exists()


def test_failed_pack_leaves_nothing_behind(tmp_path):
    src = small_tree(tmp_path / "s")
    (src / "gov-info/metadata.csv").write_text("id,title,files\nr1,,r1.html\n", "utf-8")
    with pytest.raises(UserError):
        pack(src, tmp_path / "b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]


def test_partial_folder_of_a_killed_pack_is_cleared_by_the_next(tmp_path, source):
    from catalog.folders import partial_path
    stale = partial_path(tmp_path / "b")
    stale.mkdir()
    (stale / "half-written.7z").write_bytes(b"7z")
    pack(source, tmp_path / "b")
    assert not stale.exists() and verify_bundle(tmp_path / "b") == []


def test_verify_reports_a_garbled_libpush_json_without_crashing(bundle):
    (bundle / "libpush.json").write_text("{not json", "utf-8")
    problems = [p for p in verify_bundle(bundle) if p["path"] == "libpush.json"]
    assert any("SHA-256" in p["problem"] for p in problems)
    assert any("damaged" in p["problem"] for p in problems)
