"""The command line as users run it: real subprocesses, exit codes, one- or two-line errors."""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import small_tree

LIBPUSH = [sys.executable, "-m", "libpush.cli"]


def run(*args, **kw):
    env = {**os.environ, "LIBPUSH_LANG": kw.pop("lang", "en")}
    return subprocess.run([*LIBPUSH, *map(str, args)], capture_output=True, text=True, env=env, **kw)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("demo") / "d"
    r = run("demo", "--no-view", "--dir", d)
    assert r.returncode == 0, r.stderr
    return d, r.stdout


def test_demo_runs_every_stage_and_says_what_it_did(demo_dir):
    d, out = demo_dir
    for step in ("1/5 sample", "2/5 pack", "3/5 install", "4/5 verify", "5/5 view"):
        assert step in out
    assert (d / "bundle/bagit.txt").is_file() and (d / "county/catalog.db").is_file()
    assert run("verify", d / "county").returncode == 0
    assert run("verify", d / "bundle", "--fast").returncode == 0
    status = json.loads(run("status", d / "county", "--json").stdout)
    assert status["complete"] and len(status["collections"]) == 14


def test_demo_rerun_replaces_its_own_folder_but_never_a_foreign_one(tmp_path):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.docx").write_text("precious")
    r = run("demo", "--no-view", "--dir", foreign)
    assert r.returncode == 1 and (foreign / "thesis.docx").read_text() == "precious"


def test_demo_serves_the_installed_library(tmp_path):
    port = free_port()
    proc = subprocess.Popen([*LIBPUSH, "demo", "--dir", str(tmp_path / "d"), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                html = urllib.request.urlopen(url, timeout=2).read().decode("utf-8")
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
                time.sleep(0.3)
        else:
            pytest.fail("the demo never served its address")
        assert 'lang="zh-CN"' in html and "国图公开课" in html
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_missing_source_is_one_clear_error(tmp_path):
    r = run("pack", tmp_path / "nope", tmp_path / "b")
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 2 and "does not exist" in lines[0] and "Traceback" not in r.stderr
    assert not (tmp_path / "b").exists()


def test_errors_in_chinese_when_asked(tmp_path):
    r = run("pack", tmp_path / "nope", tmp_path / "b", lang="zh")
    assert r.returncode == 1 and "不存在" in r.stderr


def test_malformed_csv_names_file_and_line(tmp_path):
    src = small_tree(tmp_path / "s")
    (src / "gov-info/metadata.csv").write_text("id,title,files\nr1,好,r1.html\nr2,,r2.html\n", "utf-8")
    r = run("pack", src, tmp_path / "b")
    assert r.returncode == 1 and "metadata.csv, line 3" in r.stderr
    assert not (tmp_path / "b").exists() and not list(tmp_path.glob(".b*"))


def test_bad_usage_exits_2(tmp_path):
    assert run("pack", tmp_path, tmp_path / "b", "--shard-size", "huge").returncode == 2
    assert run("install", tmp_path).returncode == 2
    assert run("frobnicate").returncode == 2


def test_verify_lists_problems_and_exits_1(tmp_path):
    src = small_tree(tmp_path / "s")
    assert run("pack", src, tmp_path / "b").returncode == 0
    shard = sorted((tmp_path / "b/data/shards").iterdir())[0]
    shard.unlink()
    r = run("verify", tmp_path / "b", "--json")
    doc = json.loads(r.stdout)
    assert r.returncode == 1 and not doc["ok"]
    assert any(p["path"].endswith(shard.name) and p["problem"] == "missing" for p in doc["problems"])
    r = run("install", tmp_path / "b", tmp_path / "t")
    assert r.returncode == 1 and shard.name in r.stderr


def test_target_inside_source_refused(tmp_path):
    src = small_tree(tmp_path / "s")
    r = run("pack", src, src / "bundle")
    assert r.returncode == 1 and "inside" in r.stderr and not (src / "bundle").exists()
