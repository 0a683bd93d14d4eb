"""Installing: byte-for-byte, digests before placement, verify naming each problem."""
import pytest

from bundler.pack import pack
from catalog import schema
from catalog.errors import UserError
from conftest import small_tree, tree_digests
from installer.install import install
from installer.status import status
from installer.verify import verify_library


def test_install_reproduces_the_source_byte_for_byte(installed, source):
    assert tree_digests(installed / "library") == tree_digests(source)
    assert verify_library(installed) == []
    assert not any((installed / ".libpush/staging").iterdir())
    s = status(installed)
    assert s["complete"] and s["installed_files"] == s["files"] == 7


def test_split_file_is_joined_on_install(tmp_path):
    src = small_tree(tmp_path / "s", big=2_500_000)
    pack(src, tmp_path / "b", shard_size=1_000_000)
    install([tmp_path / "b"], tmp_path / "t")
    assert tree_digests(tmp_path / "t/library") == tree_digests(src)


def test_rerun_installs_nothing_again(installed, bundle):
    again = install([bundle], installed)
    assert again.files == 0 and again.already == 7


def test_verify_library_names_flipped_missing_and_extra(installed):
    lib = installed / "library"
    victim = lib / "open-courses/oc1.mp4"
    data = bytearray(victim.read_bytes())
    data[1000] ^= 0xFF
    victim.write_bytes(bytes(data))
    (lib / "gov-info/r2.html").unlink()
    (lib / "gov-info/stray.html").write_text("?")
    problems = {p["path"]: p["problem"] for p in verify_library(installed)}
    assert problems == {
        "library/open-courses/oc1.mp4": "content differs (BLAKE3 mismatch)",
        "library/gov-info/r2.html": "missing",
        "library/gov-info/stray.html": "extra file, not in the catalog",
    }
    fast = {p["path"] for p in verify_library(installed, fast=True)}
    assert "library/open-courses/oc1.mp4" not in fast  # same size: only digests see it


def test_corrupt_member_is_named_and_never_placed(tmp_path, bundle):
    db = schema.open_db(bundle / "data/catalog.db", readonly=True)
    shard = db.execute("SELECT shard FROM files WHERE path = 'open-courses/oc1.mp4'").fetchone()[0]
    db.conn.close()
    path = bundle / "data/shards" / shard
    data = bytearray(path.read_bytes())
    data[200] ^= 0x01  # inside the first member's stored bytes (COPY)
    path.write_bytes(bytes(data))
    with pytest.raises(UserError) as e:
        install([bundle], tmp_path / "t")
    assert "oc1.mp4" in str(e.value) + " ".join(e.value.details)
    assert not (tmp_path / "t/library/open-courses/oc1.mp4").exists()
    assert (tmp_path / "t/library/gov-info/r1.html").exists()  # other shards were installed


def test_damaged_catalog_stops_before_writing(tmp_path, bundle):
    cat = bundle / "data/catalog.db"
    cat.write_bytes(cat.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(UserError, match="damaged"):
        install([bundle], tmp_path / "t")
    assert not (tmp_path / "t/catalog.db").exists()


def test_target_inside_bundle_refused_and_other_bundle_refused(tmp_path, bundle, installed, source):
    with pytest.raises(UserError, match="inside"):
        install([bundle], bundle / "data/t")
    pack(source, tmp_path / "other")
    with pytest.raises(UserError, match="not"):
        install([tmp_path / "other"], installed)


def test_not_a_bundle(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="not a libpush bundle"):
        install([tmp_path / "empty"], tmp_path / "t")


def test_shard_holding_more_than_the_catalog_says_is_refused(tmp_path, bundle):
    """A shard decoding to more than the catalog records (a decompression bomb) is cut off:
    its members are named, nothing of it is placed, the other shards install."""
    db = schema.open_db(bundle / "data/catalog.db", readonly=True)
    shard = db.execute("SELECT shard FROM files WHERE path = 'gov-info/r1.html'").fetchone()[0]
    db.conn.close()
    shard_path = bundle / "data/shards" / shard
    hidden = tmp_path / shard
    shard_path.rename(hidden)
    with pytest.raises(UserError, match="not on the drive"):
        install([bundle], tmp_path / "t")
    target = schema.open_db(tmp_path / "t/catalog.db")
    with target.conn:  # the installed catalog now under-states the shard, as a bomb would
        target.conn.execute("UPDATE members SET bytes = 1 WHERE shard = ?", (shard,))
    target.conn.close()
    hidden.rename(shard_path)
    with pytest.raises(UserError) as e:
        install([bundle], tmp_path / "t")
    assert "gov-info/r1.html" in str(e.value) + " ".join(e.value.details)
    assert not (tmp_path / "t/library/gov-info/r1.html").exists()
    assert (tmp_path / "t/library/open-courses/oc1.mp4").exists()
