"""Checking a bundle (or one drive's bag): every problem, with its path, not just the first.

Layers, each trusting only what the one before proved:
1. tag files: ``tagmanifest-sha256.txt`` covers bagit.txt, bag-info.txt, libpush.json and the
   payload manifests;
2. payload: every file in ``data/`` is listed in both manifests, every listed file is there with
   the listed size (``--fast`` stops here) and digests (SHA-256 and BLAKE3, one read);
3. the catalog: SQLite's integrity check, and its shard table agrees with libpush.json.
Member digests inside the shards are checked by the installer as it extracts.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from catalog import schema
from catalog.errors import UserError

from . import bag
from .digest import file_blake3, file_digests


def problem(path: str, text: str) -> dict:
    return {"path": path, "problem": text}


def verify_bundle(root: Path, fast: bool = False, progress=None) -> list[dict]:
    root = Path(root)
    out: list[dict] = []
    missing = [n for n in ("bagit.txt", "bag-info.txt", "libpush.json", bag.TAG_MANIFEST, *bag.MANIFESTS)
               if not (root / n).is_file()]
    out.extend(problem(n, "missing") for n in missing)
    if "libpush.json" in missing:
        return out
    out.extend(_check_tag_manifest(root))
    try:
        info = bag.read_info(root)
    except UserError as e:  # damaged: the tag manifest said so too, this says how
        info = None
        out.append(problem("libpush.json", str(e)))
    manifests = {}
    for name in bag.MANIFESTS:
        if name in missing:
            continue
        try:
            manifests[name] = bag.read_manifest(root / name)
        except ValueError as e:
            out.append(problem(name, str(e)))
    if manifests:
        out.extend(_check_payload(root, manifests, _expected_sizes(info or {}), fast, progress))
    if info is not None:
        out.extend(_check_shards_present(root, info))
        if (root / bag.CATALOG).is_file():
            out.extend(_check_catalog(root, info))
    return _one_missing_per_path(out)


def _one_missing_per_path(found: list[dict]) -> list[dict]:
    """A missing shard is seen by the manifests and by libpush.json: report it once."""
    seen, out = set(), []
    for p in found:
        key = (p["path"], p["problem"].startswith("missing"))
        if key[1] and key in seen:
            continue
        seen.add(key)
        out.append(p)
    return out


def verify_catalog_only(bundle: bag.Bundle) -> list[dict]:
    """What the installer checks before it writes anything: tag files, the catalog's digest
    against the manifest, the catalog's integrity. Shards are checked member by member later."""
    out = _check_tag_manifest(bundle.root)
    try:
        listed = bag.read_manifest(bundle.root / "manifest-blake3.txt").get(bag.CATALOG)
    except (OSError, ValueError) as e:
        return out + [problem("manifest-blake3.txt", str(e))]
    if listed != file_blake3(bundle.catalog_path):
        out.append(problem(bag.CATALOG, "BLAKE3 differs from manifest-blake3.txt"))
    return out + _check_catalog(bundle.root, bundle.info)


def _check_tag_manifest(root: Path) -> list[dict]:
    path = root / bag.TAG_MANIFEST
    if not path.is_file():
        return [problem(bag.TAG_MANIFEST, "missing")]
    try:
        listed = bag.read_manifest(path)
    except ValueError as e:
        return [problem(bag.TAG_MANIFEST, str(e))]
    out = []
    for name, digest in sorted(listed.items()):
        if not (root / name).is_file():
            out.append(problem(name, "missing (listed in the tag manifest)"))
        elif file_digests(root / name)[1] != digest:
            out.append(problem(name, "SHA-256 differs from tagmanifest-sha256.txt (altered)"))
    return out


def _check_payload(root: Path, manifests: dict[str, dict[str, str]], sizes: dict[str, int],
                   fast: bool, progress) -> list[dict]:
    out = []
    listed = set().union(*manifests.values())
    for name, entries in manifests.items():
        for path in sorted(listed - set(entries)):
            out.append(problem(path, f"not listed in {name}"))
    on_disk = {p.relative_to(root).as_posix() for p in (root / "data").rglob("*") if p.is_file()}
    for path in sorted(on_disk - listed):
        out.append(problem(path, "extra file, not in the manifests"))
    for path in sorted(listed):
        f = root / path
        if path not in on_disk:
            out.append(problem(path, "missing"))
            continue
        expected = sizes.get(path)
        if expected is not None and f.stat().st_size != expected:
            out.append(problem(path, f"size {f.stat().st_size} bytes, expected {expected}"))
            continue
        if fast:
            continue
        b3, sha = file_digests(f, progress)
        if "manifest-sha256.txt" in manifests and manifests["manifest-sha256.txt"].get(path) != sha:
            out.append(problem(path, "SHA-256 differs from manifest-sha256.txt (damaged or altered)"))
        if "manifest-blake3.txt" in manifests and manifests["manifest-blake3.txt"].get(path) != b3:
            out.append(problem(path, "BLAKE3 differs from manifest-blake3.txt (damaged or altered)"))
    return out


def _expected_sizes(info: dict) -> dict[str, int]:
    """Payload path -> size, as libpush.json records them (what --fast compares)."""
    sizes = {f"{bag.SHARDS_DIR}/{s['name']}": s["bytes"] for s in info.get("shards", [])}
    sizes[bag.CATALOG] = info.get("catalog", {}).get("bytes")
    return {k: v for k, v in sizes.items() if v is not None}


def _check_catalog(root: Path, info: dict) -> list[dict]:
    try:
        db = schema.open_db(root / bag.CATALOG, readonly=True)
        result = db.execute("PRAGMA quick_check").fetchone()[0]
        if result != "ok":
            return [problem(bag.CATALOG, f"SQLite integrity check: {result}")]
        in_catalog = {r[0]: r[1] for r in db.execute("SELECT name, blake3 FROM shards")}
        db.conn.close()
    except sqlite3.DatabaseError as e:
        return [problem(bag.CATALOG, f"not a readable catalog: {e}")]
    in_info = {s["name"]: s["blake3"] for s in info.get("shards", [])}
    if in_catalog != in_info:
        return [problem(bag.CATALOG, "its shard table differs from libpush.json")]
    return []


def _check_shards_present(root: Path, info: dict) -> list[dict]:
    """Not part of the installer's pre-check: a missing shard there is a drive still to come."""
    return [problem(f"{bag.SHARDS_DIR}/{name}", "missing (listed in libpush.json)")
            for name in info.get("on_this_drive", [])
            if not (root / bag.SHARDS_DIR / name).is_file()]
