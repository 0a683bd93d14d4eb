"""Checking an installed library: every file of the catalog against its size and BLAKE3.

Problems are reported per file (missing, size differs, content differs) and per stray file
under library/ that the catalog does not know. ``fast`` compares sizes only.
"""
from __future__ import annotations

import os
from pathlib import Path

from bundler.digest import file_blake3

from .layout import Layout


def verify_library(target: Path, fast: bool = False, progress=None) -> list[dict]:
    layout = Layout(Path(target))
    db = layout.open_catalog(readonly=True)
    try:
        files = db.execute("SELECT path, bytes, blake3 FROM files ORDER BY path").fetchall()
    finally:
        db.conn.close()
    out = []
    known = set()
    for path, nbytes, digest in files:
        known.add(path)
        where = layout.file(path)
        try:
            size = where.stat().st_size
        except FileNotFoundError:
            out.append({"path": f"library/{path}", "problem": "missing"})
            continue
        if size != nbytes:
            out.append({"path": f"library/{path}", "problem": f"size {size} bytes, expected {nbytes}"})
        elif not fast and file_blake3(where, progress) != digest:
            out.append({"path": f"library/{path}", "problem": "content differs (BLAKE3 mismatch)"})
    out.extend({"path": f"library/{p}", "problem": "extra file, not in the catalog"}
               for p in sorted(_files_under(layout.library) - known))
    return out


def _files_under(root: Path) -> set[str]:
    found = set()
    for dirpath, _dirs, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root).as_posix()
        for name in filenames:
            found.add(name if rel == "." else f"{rel}/{name}")
    return found


def library_bytes(target: Path) -> int:
    layout = Layout(Path(target))
    db = layout.open_catalog(readonly=True)
    try:
        return db.execute("SELECT coalesce(sum(bytes), 0) FROM files").fetchone()[0]
    finally:
        db.conn.close()
