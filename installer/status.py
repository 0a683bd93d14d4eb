"""What an installed library holds: per collection, installed against planned, and which
shards still hold what is missing."""
from __future__ import annotations

from pathlib import Path

from catalog import schema

from .layout import Layout


def status(target: Path) -> dict:
    layout = Layout(Path(target))
    db = layout.open_catalog(readonly=True)
    try:
        meta = schema.meta(db)
        has_journal = schema.has_table(db.conn, "installed")
        installed = "(SELECT file_id FROM installed)" if has_journal else "(SELECT NULL WHERE 0)"
        rows = db.execute(f"""
            SELECT c.row, c.key, c.name_zh, count(f.id), coalesce(sum(f.bytes), 0),
                   count(i.id), coalesce(sum(CASE WHEN i.id IS NOT NULL THEN f.bytes END), 0)
            FROM collections c
            LEFT JOIN files f ON f.path LIKE c.key || '/%'
            LEFT JOIN files i ON i.id = f.id AND i.id IN {installed}
            GROUP BY c.key ORDER BY c.row""").fetchall()
        missing_shards = [r[0] for r in db.execute(f"""
            SELECT DISTINCT m.shard FROM members m WHERE m.file_id NOT IN {installed}
            ORDER BY m.shard""")]
    finally:
        db.conn.close()
    collections = [{"row": r[0], "key": r[1], "name_zh": r[2], "files": r[3], "bytes": r[4],
                    "installed_files": r[5], "installed_bytes": r[6]} for r in rows]
    return {
        "target": str(target), "release": meta.get("release"), "bundle_id": meta.get("bundle_id"),
        "files": sum(c["files"] for c in collections),
        "installed_files": sum(c["installed_files"] for c in collections),
        "bytes": sum(c["bytes"] for c in collections),
        "installed_bytes": sum(c["installed_bytes"] for c in collections),
        "complete": not missing_shards, "missing_shards": missing_shards, "collections": collections,
    }
