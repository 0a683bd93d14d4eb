"""BLAKE3 (libpush's own digest) and SHA-256 (for outside BagIt tools) in one read."""
from __future__ import annotations

import hashlib
from pathlib import Path

import blake3

CHUNK = 1 << 20  # 1 MiB updates: the fastest single-thread size for blake3 here


def file_digests(path: Path, progress=None) -> tuple[str, str]:
    """(blake3 hex, sha256 hex) of a file, reading it once."""
    b3, sha = blake3.blake3(), hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            b3.update(chunk)
            sha.update(chunk)
            if progress:
                progress(len(chunk))
    return b3.hexdigest(), sha.hexdigest()


def file_blake3(path: Path, progress=None) -> str:
    b3 = blake3.blake3()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            b3.update(chunk)
            if progress:
                progress(len(chunk))
    return b3.hexdigest()
