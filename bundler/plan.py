"""Which file (or part of a file) goes into which shard.

Shards hold one collection and one storage method each, so a county that takes a selection
reads only its own shards, and text is compressed while media is stored. A shard never
exceeds the shard size (by default 4,000,000,000 bytes, under FAT32's 4 GiB file limit); a
file larger than what a shard can hold is cut into parts in consecutive shards.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import groupby

from catalog.media import compressible
from catalog.scan import SourceFile

DEFAULT_SHARD_SIZE = 4_000_000_000
MIN_SHARD_SIZE = 1_000_000
# 7z's start header, end header and folder records; per member its UTF-16 name, sizes, CRC,
# attributes and three timestamps. Generous on purpose: the limit is a hard promise.
FIXED_OVERHEAD = 64 * 1024
MEMBER_OVERHEAD = 128
LZMA2_EXPANSION = 1.002  # LZMA2 stores incompressible chunks with a small header
MIN_PART = 1 << 20       # don't start a split file in a shard with less room than this
PART_SUFFIX = ".libpush-part{:03d}"


@dataclass
class Member:
    file: SourceFile
    name: str            # name inside the 7z archive
    part: int
    offset: int
    bytes: int


@dataclass
class ShardPlan:
    collection: str
    method: str          # 'copy' or 'lzma2'
    members: list[Member] = field(default_factory=list)

    @property
    def payload(self) -> int:
        return sum(m.bytes for m in self.members)


def method_for(f: SourceFile) -> str:
    return "lzma2" if compressible(f.media_type) else "copy"


def plan_shards(files: list[SourceFile], shard_size: int = DEFAULT_SHARD_SIZE) -> list[ShardPlan]:
    key = lambda f: (f.path.split("/", 1)[0], method_for(f))  # noqa: E731
    plans: list[ShardPlan] = []
    for (collection, method), group in groupby(sorted(files, key=lambda f: (key(f), f.path)), key=key):
        plans.extend(_fill(collection, method, list(group), shard_size))
    return plans


def _cost(nbytes: int, name: str, method: str) -> int:
    body = nbytes * LZMA2_EXPANSION if method == "lzma2" else nbytes
    return int(body) + 1 + MEMBER_OVERHEAD + 2 * len(name)


def _fill(collection: str, method: str, files: list[SourceFile], shard_size: int) -> list[ShardPlan]:
    budget = shard_size - FIXED_OVERHEAD
    plans = [ShardPlan(collection, method)]
    room = budget
    for f in files:
        cost = _cost(f.bytes, f.path, method)
        if cost <= room:
            plans[-1].members.append(Member(f, f.path, 0, 0, f.bytes))
            room -= cost
            continue
        if cost <= budget:  # fits an empty shard: start one rather than split
            plans.append(ShardPlan(collection, method, [Member(f, f.path, 0, 0, f.bytes)]))
            room = budget - cost
            continue
        room = _split(f, plans, collection, method, room, budget)
    return [p for p in plans if p.members]


def _split(f: SourceFile, plans: list[ShardPlan], collection: str, method: str, room: int,
           budget: int) -> int:
    """Cut ``f`` into parts that fill the current shard and then whole new ones."""
    offset, part = 0, 0
    while offset < f.bytes:
        name = f.path + PART_SUFFIX.format(part + 1)
        fits = int((room - 1 - MEMBER_OVERHEAD - 2 * len(name)) / (LZMA2_EXPANSION if method == "lzma2" else 1))
        if fits < min(MIN_PART, budget // 4) and plans[-1].members:
            plans.append(ShardPlan(collection, method))
            room = budget
            continue
        length = min(fits, f.bytes - offset)
        plans[-1].members.append(Member(f, name, part, offset, length))
        room -= _cost(length, name, method)
        offset += length
        part += 1
    return room
