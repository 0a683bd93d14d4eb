"""Writing a scanned release into a catalog, and reading the pieces back."""
from __future__ import annotations

from pathlib import Path

import sqlite_utils

from . import schema
from .scan import Release
from .table import Row


def collection_record(row: Row) -> dict:
    """A ``collections`` row for a table row."""
    return {"key": row.key, "row": row.row, "group_zh": row.group_zh, "group_en": row.group_en,
            "name_zh": row.name_zh, "name_en": row.name_en, "kind": row.kind,
            "description_zh": row.description_zh}


def write_release(path: Path, release: Release, digests: dict[str, str], shards: list[dict],
                  members: list[dict], meta: dict) -> sqlite_utils.Database:
    """A complete catalog at ``path``: collections, items, files with digests, shards, members.

    ``digests`` maps a file's library path to its BLAKE3; ``members`` rows carry ``path``
    (the file's library path) which is turned into ``file_id`` here.
    """
    db = schema.create(path)
    with db.conn:
        db["collections"].insert_all(collection_record(r) for r in release.collections)
        db["items"].insert_all(release.items)
        first_shard = {}
        for m in members:
            first_shard.setdefault(m["path"], m["shard"])
        db["files"].insert_all(
            {"id": n, "item_id": f.item_id, "seq": f.seq, "path": f.path, "section": f.section,
             "bytes": f.bytes, "blake3": digests[f.path], "media_type": f.media_type,
             "shard": first_shard[f.path]} for n, f in enumerate(release.files, 1))
        file_id = {f.path: n for n, f in enumerate(release.files, 1)}
        db["shards"].insert_all(shards)
        db["members"].insert_all(
            {"shard": m["shard"], "member": m["member"], "file_id": file_id[m["path"]],
             "part": m["part"], "offset": m["offset"], "bytes": m["bytes"]} for m in members)
        db["segments"].insert_all(
            {"item_id": s["item_id"], "file_id": file_id[s["file_path"]], "kind": s["kind"],
             "start": s["start"], "end": s["end"], "label": s["label"], "keywords": s["keywords"]}
            for s in release.segments)
        schema.set_meta(db, **meta)
    return db
