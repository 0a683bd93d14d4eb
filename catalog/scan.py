"""Read a source tree (docs/SOURCE-TREE.md) into collections, items, files and segments.

The scan only reads names, sizes and the metadata CSVs; file contents are read once, later,
by the bundler while it writes them into shards and computes their digests.
"""
from __future__ import annotations

import csv
import json
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from . import names
from .errors import UserError
from .media import media_type
from .table import Row, Table

METADATA = "metadata.csv"
SEGMENTS = "segments.csv"
NOT_CONTENT = {METADATA, SEGMENTS, "thumbs.db", "desktop.ini"}
# In the order the sample generator writes them (docs/SOURCE-TREE.md); readers accept any order.
ITEM_COLUMNS = ("id", "title", "files", "creator", "date", "subjects", "description", "language",
                "rights")
ITEM_REQUIRED = ("id", "title", "files")
SEGMENT_COLUMNS = ("item_id", "kind", "start", "end", "label", "keywords", "file")
SEGMENT_REQUIRED = ("item_id", "kind", "start", "label")
SEGMENT_KINDS = ("chapter", "page", "time")
ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
DATE_PATTERN = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


@dataclass
class SourceFile:
    path: str            # under library/: "<collection>/<relative path>"
    source: Path         # where it is read from
    bytes: int
    item_id: str
    seq: int
    section: str
    media_type: str


@dataclass
class Release:
    """Everything the scan found, in a stable order."""
    root: Path
    table: Table
    collections: list[Row] = field(default_factory=list)
    items: list[dict] = field(default_factory=list)
    files: list[SourceFile] = field(default_factory=list)
    segments: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return sum(f.bytes for f in self.files)


def scan(root: Path, table: Table) -> Release:
    root = Path(root)
    if not root.is_dir():
        raise UserError("source_missing", path=root)
    keys = {r.key: r for r in table.rows}
    release = Release(root=root, table=table)
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    for extra in sorted(p for p in root.iterdir() if not p.is_dir()):
        release.warnings.append(f"{extra} is not in a collection folder and is not packed")
    unknown = [p for p in folders if p.name not in keys]
    if unknown:
        raise UserError("source_unknown_folder", path=unknown[0], keys=", ".join(keys),
                        details=[str(p) for p in unknown[1:]])
    if not folders:
        raise UserError("source_empty", path=root, keys=", ".join(keys))
    for folder in sorted(folders, key=lambda p: keys[p.name].row):
        _scan_collection(release, keys[folder.name], folder)
    _check_collisions(release)
    return release


def _scan_collection(release: Release, row: Row, folder: Path) -> None:
    release.collections.append(row)
    on_disk = _content_files(folder)
    items, claimed = _read_metadata(row, folder, on_disk)
    for rel in on_disk:
        if rel not in claimed:  # the fallback: a file with no metadata line is an item of its own
            item_id = f"{row.key}/{rel}"
            items.append((_item(item_id, row, Path(rel).stem, has_metadata=0), [(rel, "")]))
    for item, entries in items:
        release.items.append(item)
        for seq, (rel, section) in enumerate(entries):
            path = f"{row.key}/{rel}"
            release.files.append(SourceFile(path=path, source=folder / rel, bytes=on_disk[rel],
                                            item_id=item["id"], seq=seq, section=section,
                                            media_type=media_type(rel)))
    release.segments.extend(_read_segments(row, folder, items))


def _content_files(folder: Path) -> dict[str, int]:
    """Relative path -> size for every content file below ``folder``, refusing what cannot travel."""
    found: dict[str, int] = {}
    bad: list[str] = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.name.startswith(".") or any(p.startswith(".") for p in Path(rel).parts[:-1]):
            continue
        st = path.lstat()
        if stat.S_ISDIR(st.st_mode):
            continue
        if not stat.S_ISREG(st.st_mode):
            raise UserError("source_special_file", path=path)
        if rel.lower() in NOT_CONTENT or path.name.lower() in ("thumbs.db", "desktop.ini"):
            continue
        why = names.problem(f"{folder.name}/{rel}")
        if why:
            bad.append(f"{path}: {why}")
            continue
        found[rel] = st.st_size
    if bad:
        raise UserError("source_bad_name", path=bad[0].split(": ")[0], reason=bad[0].split(": ", 1)[1],
                        details=bad[1:])
    return found


def _read_csv(path: Path, allowed: tuple[str, ...], required: tuple[str, ...]):
    """Rows of a UTF-8 CSV with their line numbers; the header is checked first."""
    try:
        text = path.read_text("utf-8-sig")
    except UnicodeDecodeError as e:
        line = path.read_bytes()[: e.start].count(b"\n") + 1
        raise UserError("metadata_malformed", path=path, line=line,
                        error="not UTF-8 (save it as 'CSV UTF-8' in Excel)") from e
    reader = csv.DictReader(text.splitlines(keepends=True), strict=True)
    try:
        header = reader.fieldnames or []
        unknown = [c for c in header if c not in allowed]
        missing = [c for c in required if c not in header]
        if unknown or missing:
            what = (f"unknown column(s) {', '.join(unknown)}" if unknown
                    else f"missing column(s) {', '.join(missing)}")
            raise UserError("metadata_malformed", path=path, line=1, error=what)
        for row in reader:
            if None in row or any(v is None for v in row.values()):
                raise UserError("metadata_malformed", path=path, line=reader.line_num,
                                error=f"{len(header)} columns expected")
            yield reader.line_num, {k: v.strip() for k, v in row.items()}
    except csv.Error as e:
        raise UserError("metadata_malformed", path=path, line=reader.line_num, error=e) from e


def _item(item_id: str, row: Row, title: str, *, creator: str = "", date: str = "",
          subjects: list[str] = (), description: str = "", language: str = "zh", rights: str = "",
          has_metadata: int = 1) -> dict:
    """An items row with every column set (sqlite-utils takes its columns from the first row)."""
    return {"id": item_id, "collection": row.key, "title": title, "creator": creator, "date": date,
            "subjects": json.dumps(list(subjects), ensure_ascii=False), "description": description,
            "language": language, "rights": rights, "kind": row.kind, "has_metadata": has_metadata}


def _split_words(value: str) -> list[str]:
    return [w.strip() for w in re.split(r"[;；]", value) if w.strip()]


def _read_metadata(row: Row, folder: Path, on_disk: dict[str, int]):
    """Items from metadata.csv, each with its (relative path, section) entries, and the claimed paths."""
    items: list[tuple[dict, list[tuple[str, str]]]] = []
    claimed: dict[str, str] = {}
    path = folder / METADATA
    if not path.is_file():
        return items, claimed
    seen_ids: set[str] = set()
    for line, rec in _read_csv(path, ITEM_COLUMNS, ITEM_REQUIRED):
        def bad(error: str):
            return UserError("metadata_malformed", path=path, line=line, error=error)
        if not ID_PATTERN.match(rec["id"]):
            raise bad(f"id {rec['id']!r} must be 1-64 characters of A-Z a-z 0-9 . _ -")
        if rec["id"] in seen_ids:
            raise bad(f"id {rec['id']!r} appears twice")
        seen_ids.add(rec["id"])
        if not rec["title"]:
            raise bad("the title is empty")
        if rec.get("date") and not DATE_PATTERN.match(rec["date"]):
            raise bad(f"date {rec['date']!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
        entries = _expand_files(rec["files"], on_disk, path, line)
        for rel, _ in entries:
            if rel in claimed:
                raise bad(f"{rel} is already listed for item {claimed[rel]}")
            claimed[rel] = rec["id"]
        item = _item(f"{row.key}/{rec['id']}", row, rec["title"], creator=rec.get("creator", ""),
                     date=rec.get("date", ""), subjects=_split_words(rec.get("subjects", "")),
                     description=rec.get("description", ""), language=rec.get("language") or "zh",
                     rights=rec.get("rights", ""))
        items.append((item, entries))
    return items, claimed


def _expand_files(value: str, on_disk: dict[str, int], csv_path: Path, line: int):
    entries: list[tuple[str, str]] = []
    for entry in (e.strip() for e in value.split("|")):
        if not entry:
            continue
        if entry.endswith("/"):
            below = [rel for rel in on_disk if rel.startswith(entry)]
            if not below:
                raise UserError("metadata_file_missing", path=csv_path, line=line, file=entry)
            for rel in below:
                parent = PurePosixPath(rel[len(entry):]).parent.as_posix()
                entries.append((rel, "" if parent == "." else parent))
        elif entry in on_disk:
            entries.append((entry, ""))
        else:
            raise UserError("metadata_file_missing", path=csv_path, line=line, file=entry)
    if not entries:
        raise UserError("metadata_malformed", path=csv_path, line=line, error="no files listed")
    return entries


def _read_segments(row: Row, folder: Path, items) -> list[dict]:
    path = folder / SEGMENTS
    if not path.is_file():
        return []
    files_of = {item["id"]: [f"{row.key}/{rel}" for rel, _ in entries] for item, entries in items}
    out = []
    for line, rec in _read_csv(path, SEGMENT_COLUMNS, SEGMENT_REQUIRED):
        def bad(error: str):
            return UserError("metadata_malformed", path=path, line=line, error=error)
        item_id = f"{row.key}/{rec['item_id']}"
        if item_id not in files_of:
            raise bad(f"item {rec['item_id']!r} is not in {METADATA}")
        if rec["kind"] not in SEGMENT_KINDS:
            raise bad(f"kind {rec['kind']!r} is not one of {', '.join(SEGMENT_KINDS)}")
        try:
            start = float(rec["start"])
            end = float(rec["end"]) if rec.get("end") else None
        except ValueError:
            raise bad("start and end must be numbers") from None
        file_path = f"{row.key}/{rec['file']}" if rec.get("file") else files_of[item_id][0]
        if file_path not in files_of[item_id]:
            raise bad(f"file {rec['file']!r} is not one of the item's files")
        out.append({"item_id": item_id, "file_path": file_path, "kind": rec["kind"], "start": start,
                    "end": end, "label": rec["label"],
                    "keywords": json.dumps(_split_words(rec.get("keywords", "")), ensure_ascii=False)})
    return out


def _check_collisions(release: Release) -> None:
    """Two names that differ only in case or normalization would overwrite each other on Windows."""
    seen: dict[str, str] = {}
    for f in release.files:
        key = names.fold(f.path)
        if key in seen:
            raise UserError("source_bad_name", path=release.root / f.path,
                            reason=f"same name as {seen[key]} on Windows (case or Unicode form)")
        seen[key] = f.path
