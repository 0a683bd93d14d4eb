"""``libpush pack``: source tree -> bundle (a BagIt bag of 7z shards plus the catalog).

The bundle is built in a hidden sibling folder and renamed into place at the end, so an
interrupted or failed pack never leaves something that looks like a bundle.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import blake3

from catalog import store
from catalog.errors import UserError
from catalog.folders import build_beside, refuse_nonempty
from catalog.scan import Release, scan
from catalog.table import Table, load_table

from . import bag
from .digest import file_digests
from .plan import DEFAULT_SHARD_SIZE, MIN_SHARD_SIZE, ShardPlan, plan_shards
from .shards import SplitHashers, write_shard


@dataclass
class PackSummary:
    bundle: Path
    bundle_id: str
    files: int
    items: int
    bytes: int
    shards: int
    bundle_bytes: int
    seconds: float
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d["bundle"] = str(self.bundle)
        return d


def check_not_nested(target: Path, others: dict[str, Path]) -> None:
    """Refuse a target inside one of ``others`` (or one of them inside the target)."""
    t = target.resolve()
    for label, other in others.items():
        o = Path(other).resolve()
        if t == o or o in t.parents or t in o.parents:
            raise UserError("target_inside", target=target, other=f"{label} {other}")


def pack(source: Path, bundle_dir: Path, shard_size: int = DEFAULT_SHARD_SIZE,
         release_name: str | None = None, table: Table | None = None, progress=None,
         on_scanned=None) -> PackSummary:
    started = time.monotonic()
    source, bundle_dir = Path(source), Path(bundle_dir)
    if shard_size < MIN_SHARD_SIZE:
        raise UserError("shard_size_too_small", size=shard_size)
    refuse_nonempty(bundle_dir)  # before the scan, which can take long
    if not source.is_dir():
        raise UserError("source_missing", path=source)
    check_not_nested(bundle_dir, {"source": source})
    table = table or load_table()
    release = scan(source, table)
    if on_scanned:
        on_scanned(release)
    info = build_beside(bundle_dir, lambda root: _build(release, root, shard_size, release_name,
                                                        progress))
    bundle_bytes = sum(p.stat().st_size for p in bundle_dir.rglob("*") if p.is_file())
    return PackSummary(bundle=bundle_dir, bundle_id=info["bundle_id"], files=len(release.files),
                       items=len(release.items), bytes=release.total_bytes, shards=len(info["shards"]),
                       bundle_bytes=bundle_bytes, seconds=time.monotonic() - started,
                       warnings=release.warnings)


def _build(release: Release, root: Path, shard_size: int, release_name: str | None, progress) -> dict:
    shards_dir = root / bag.SHARDS_DIR
    shards_dir.mkdir(parents=True)
    hashers = SplitHashers()
    shard_rows, member_rows = [], []
    for plan in plan_shards(release.files, shard_size):
        row, members = _write_one(plan, shards_dir, hashers, progress)
        if row["bytes"] > shard_size:  # the planner's overhead estimate is a promise: check it
            raise RuntimeError(f"shard {row['name']} is {row['bytes']} bytes, above {shard_size}")
        shard_rows.append(row)
        member_rows.extend(members)

    bundle_id = str(uuid.uuid4())
    created = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    release_name = release_name or f"{release.table.id}-{created[:10]}"
    meta = {"table": release.table.id, "release": release_name, "bundle_id": bundle_id,
            "created": created, "shard_size": shard_size, "bundle_format": bag.FORMAT_VERSION,
            "libpush_version": catalog_version()}
    db = store.write_release(root / bag.CATALOG, release, hashers.done, shard_rows, member_rows, meta)
    _build_search_index(db)
    db.conn.execute("VACUUM")
    db.conn.close()

    payload = {bag.CATALOG: file_digests(root / bag.CATALOG)}
    payload.update({f"{bag.SHARDS_DIR}/{r['name']}": (r["blake3"], r["sha256"]) for r in shard_rows})
    bag.write_manifests(root, payload)
    info = {
        "format": bag.FORMAT_NAME, "format_version": bag.FORMAT_VERSION, "bundle_id": bundle_id,
        "release": release_name, "table": release.table.id, "created": created,
        "shard_size": shard_size,
        "catalog": {"path": bag.CATALOG, "bytes": (root / bag.CATALOG).stat().st_size,
                    "blake3": payload[bag.CATALOG][0]},
        "shards": shard_rows,
        "on_this_drive": [r["name"] for r in shard_rows],
        "group": {"id": bundle_id, "index": 1, "count": 1},
    }
    octets = sum((root / p).stat().st_size for p in payload)
    bag.write_tag_files(root, info, [
        ("Bundle-Id", bundle_id), ("Release", release_name), ("Table", release.table.id),
        ("Created", created), ("Bagging-Date", created[:10]),
        ("Bag-Software-Agent", f"libpush {catalog_version()}"),
        ("Bag-Group-Identifier", bundle_id), ("Bag-Count", "1 of 1"),
        ("Payload-Oxum", f"{octets}.{len(payload)}"),
        ("External-Description", "libpush bundle: a digital-library release in 7z shards; "
                                 "install with `libpush install`"),
    ])
    return info


def _write_one(plan: ShardPlan, shards_dir: Path, hashers: SplitHashers, progress):
    """Write one shard under a temporary name, then name it after its content."""
    tmp = shards_dir / ".writing.7z"
    row = write_shard(plan, tmp, hashers, progress)
    name = f"{plan.collection}-{_content_id(plan, hashers)}.7z"
    tmp.rename(shards_dir / name)
    row["name"] = name
    members = [{"shard": name, "member": m.name, "path": m.file.path, "part": m.part,
                "offset": m.offset, "bytes": m.bytes} for m in plan.members]
    return {"name": name, **row}, members


def _content_id(plan: ShardPlan, hashers: SplitHashers) -> str:
    """16 hex digits from what the shard holds (member names, ranges, file digests), so an
    unchanged collection yields the same shard names in the next release."""
    h = blake3.blake3()
    for m in plan.members:
        h.update(f"{m.name}\0{m.offset}\0{m.bytes}\0{hashers.digest_of(m)}\n".encode())
    return h.hexdigest()[:16]


def _build_search_index(db) -> None:
    try:
        from catalog import search
    except ImportError:  # pragma: no cover - the search module ships with the catalog
        return
    search.build_index(db)


def catalog_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("libpush")
    except PackageNotFoundError:
        return "0+unknown"

