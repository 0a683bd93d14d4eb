"""Writing one planned shard: a 7z archive that stock 7-Zip opens and tests.

Every source byte is read exactly once: the reader handed to py7zr feeds the file's BLAKE3 as
py7zr pulls the bytes into the archive. Media is stored (7z COPY), text is LZMA2 at preset 1
(the default preset 7 runs at about 0.6 MB/s on text; preset 1 at about 16 MB/s).
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import blake3
import py7zr

from catalog.errors import UserError

from .digest import file_digests
from .plan import ShardPlan

FILTERS = {
    "copy": [{"id": py7zr.FILTER_COPY}],
    "lzma2": [{"id": py7zr.FILTER_LZMA2, "preset": 1}],
}


class WindowReader(io.BufferedIOBase):
    """A read-only view of ``length`` bytes of ``f`` from ``offset`` that hashes what is read.

    py7zr asks a file object for its size by seeking to the end and back, then reads it
    through; both are served from the window.
    """

    def __init__(self, f, offset: int, length: int, hashers, progress=None):
        super().__init__()
        self._f, self._start, self._len = f, offset, length
        self._pos = 0
        self._hashers, self._progress = hashers, progress
        f.seek(offset)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._len}[whence]
        self._pos = max(0, min(self._len, base + pos))
        self._f.seek(self._start + self._pos)
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        left = self._len - self._pos
        if size is None or size < 0 or size > left:
            size = left
        data = self._f.read(size)
        if len(data) != size:
            raise OSError(f"{self._f.name} became shorter while it was being packed")
        self._pos += len(data)
        for h in self._hashers:
            h.update(data)
        if self._progress:
            self._progress(len(data))
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class SplitHashers:
    """The running BLAKE3 of every file, kept across the consecutive shards of a split file,
    and of each part of a split file on its own (parts name their shard by content)."""

    def __init__(self):
        self._running: dict[str, blake3.blake3] = {}
        self._part: blake3.blake3 | None = None
        self.done: dict[str, str] = {}    # file library path -> BLAKE3 of the whole file
        self.parts: dict[str, str] = {}   # member name of a part -> BLAKE3 of that part

    def for_member(self, member) -> list:
        path = member.file.path
        if member.part == 0:
            self._running[path] = blake3.blake3()
        self._part = blake3.blake3() if member.bytes != member.file.bytes else None
        return [self._running[path]] + ([self._part] if self._part else [])

    def member_written(self, member) -> None:
        path = member.file.path
        if self._part is not None:
            self.parts[member.name] = self._part.hexdigest()
        if member.offset + member.bytes == member.file.bytes:
            self.done[path] = self._running.pop(path).hexdigest()

    def digest_of(self, member) -> str:
        """The digest of exactly the bytes ``member`` holds."""
        return self.parts.get(member.name) or self.done[member.file.path]


def write_shard(plan: ShardPlan, dest: Path, hashers: SplitHashers, progress=None) -> dict:
    """Write ``plan`` to ``dest`` and return its shard-table row (without the name)."""
    with py7zr.SevenZipFile(dest, "w", filters=FILTERS[plan.method]) as archive:
        for member in plan.members:
            _add_member(archive, member, hashers, progress)
    b3, sha = file_digests(dest)
    return {"collection": plan.collection, "method": plan.method, "bytes": dest.stat().st_size,
            "blake3": b3, "sha256": sha, "members": len(plan.members)}


def _add_member(archive, member, hashers: SplitHashers, progress) -> None:
    source = member.file.source
    try:
        with open(source, "rb") as f:
            if os.fstat(f.fileno()).st_size != member.file.bytes:
                raise OSError(f"{source} changed size since the scan")
            archive.writef(WindowReader(f, member.offset, member.bytes, hashers.for_member(member),
                                        progress), member.name)
    except OSError as e:
        raise UserError("io_error", path=source, error=e.strerror or e) from e
    hashers.member_written(member)
