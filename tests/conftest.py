"""Shared fixtures: small real source trees, bundles and installed libraries on disk."""
from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(reason: str):
    """A test that cannot run here: a failure in CI (.ci/run must provide it), a skip elsewhere."""
    if IN_CI:
        pytest.fail(f"required in CI (.ci/run installs it): {reason}")
    pytest.skip(reason)


def need_tool(path_or_name: str) -> str:
    """The tool's path, or ``unavailable``."""
    found = path_or_name if os.path.isabs(path_or_name) and os.path.exists(path_or_name) else shutil.which(path_or_name)
    return found or unavailable(f"{path_or_name} is not installed")


def write_tree(root: Path, files: dict[str, bytes | str]) -> Path:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            p.write_text(content, "utf-8-sig" if rel.endswith(".csv") else "utf-8")
        else:
            p.write_bytes(content)
    return root


def small_tree(root: Path, big: int = 0) -> Path:
    """Three collections, metadata with Chinese, one file without metadata, one journal with
    sections, and optionally one big video (for split tests)."""
    rng = random.Random(7)
    files: dict[str, bytes | str] = {
        "gov-info/metadata.csv": "id,title,files,subjects,date,description\n"
                                 "r1,二〇一四年农业补贴政策解读,r1.html,农业;政府信息,2014-03,关于补贴的说明\n"
                                 "r2,教育信息公开,r2.html,教育,2015,\n",
        "gov-info/r1.html": "<!doctype html><meta charset=utf-8><p>" + "农业补贴。" * 400,
        "gov-info/r2.html": "<!doctype html><meta charset=utf-8><p>" + "教育。" * 300,
        "gov-info/r3-no-metadata.html": "<!doctype html><meta charset=utf-8><p>无元数据",
        "journals/metadata.csv": "id,title,files\nqk1,《文史知识》,qk1/\n",
        "journals/qk1/2014年第01期/p001.jpg": rng.randbytes(20_000),
        "journals/qk1/2014年第01期/p002.jpg": rng.randbytes(20_000),
        "journals/qk1/2014年第02期/p001.jpg": rng.randbytes(20_000),
        "open-courses/metadata.csv": "id,title,files,creator\noc1,唐诗的意境 第1讲,oc1.mp4,主讲人\n",
        "open-courses/oc1.mp4": rng.randbytes(300_000),
        "open-courses/segments.csv": "item_id,kind,start,end,label,keywords\noc1,time,0,5,开场,唐诗;意境\n",
    }
    if big:
        files["open-courses/oc2-big.mp4"] = rng.randbytes(big)
    return write_tree(root, files)


@pytest.fixture
def source(tmp_path) -> Path:
    return small_tree(tmp_path / "source")


@pytest.fixture
def bundle(tmp_path, source) -> Path:
    from bundler.pack import pack
    pack(source, tmp_path / "bundle")
    return tmp_path / "bundle"


@pytest.fixture
def installed(tmp_path, bundle) -> Path:
    from installer.install import install
    install([bundle], tmp_path / "county")
    return tmp_path / "county"


def tree_digests(root: Path, skip=("metadata.csv", "segments.csv")) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name not in skip}


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    """The viewer tests' installed library (tests/viewer_fixtures.py), one per test module."""
    from viewer_fixtures import build_library
    return build_library(tmp_path_factory.mktemp("viewer-lib"))


@pytest.fixture(scope="module")
def server(lib):
    """A real uvicorn serving ``lib`` on 127.0.0.1 from a background thread."""
    from viewer.serve import start_in_thread
    bg = start_in_thread(lib.root, host="127.0.0.1", port=0)
    yield bg
    bg.stop()
