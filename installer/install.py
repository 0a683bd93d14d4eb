"""``libpush install``: bundle (or drives) -> installed library, resumable at any moment.

The rules that make a rerun after a power cut safe:

1. A file appears under ``library/`` only by an atomic rename from ``.libpush/staging/``, and
   only after its BLAKE3 matched the catalog and its data was flushed to disk.
2. The journal is the ``installed`` table of the target's catalog.db. Placed files are recorded
   in batches (every ``BATCH_FILES`` files or ``BATCH_SECONDS``), and a batch is committed only
   after the directories holding its files were flushed too. So every file the journal names is
   durable; a crash loses at most the last, uncommitted batch, whose files are simply redone
   (re-extracted, re-verified and renamed over the copy that may already be there).
3. Anything in staging at start is from a run that stopped: it is deleted, never trusted.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import blake3
import py7zr
from py7zr.io import Py7zIO, WriterFactory

from bundler.bag import Bundle
from bundler.digest import file_blake3
from bundler.pack import check_not_nested
from bundler.verify import verify_catalog_only
from catalog import schema
from catalog.errors import UserError

from .layout import Layout

BATCH_FILES = 2000
BATCH_SECONDS = 2.0
FREE_SPACE_RESERVE = 256 * 2**20  # keep this much free on the target: Windows needs room too


@dataclass
class InstallSummary:
    target: Path
    files: int = 0            # placed in this run
    bytes: int = 0
    already: int = 0          # found installed by an earlier run and not touched
    seconds: float = 0.0
    corrupt: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.bytes / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict:
        return {"target": str(self.target), "files": self.files, "bytes": self.bytes,
                "already": self.already, "seconds": round(self.seconds, 3),
                "bytes_per_second": round(self.rate), "corrupt": self.corrupt}


def install(sources: list[Path], target: Path, progress=None, on_plan=None) -> InstallSummary:
    started = time.monotonic()
    bundles = [Bundle.open(s) for s in sources]
    _check_same_bundle(bundles)
    target = Path(target)
    for b in bundles:
        check_not_nested(target, {"bundle": b.root})
    problems = verify_catalog_only(bundles[0])
    if problems:
        raise UserError("bundle_damaged", path=bundles[0].root, count=len(problems),
                        first=f"{problems[0]['path']}: {problems[0]['problem']}")
    layout = Layout(target)
    db = _open_or_create_target(layout, bundles[0])
    summary = InstallSummary(target=target)
    todo = _files_to_install(db)
    summary.already = db.execute("SELECT count(*) FROM installed").fetchone()[0]
    remaining = sum(f["bytes"] for f in todo.values())
    _check_free_space(layout, remaining)
    if on_plan:
        on_plan(len(todo), remaining)
    _reset_staging(layout)
    journal = Journal(db, layout)
    where = {name: b for b in bundles for name in b.shards_here
             if b.shard_path(name).is_file()}
    absent: list[str] = []
    # What the (verified) catalog says each shard holds: the decompression-bomb limit.
    shard_bytes = dict(db.execute("SELECT shard, sum(bytes) FROM members GROUP BY shard"))
    try:
        for shard, wanted in _by_shard(db, todo).items():
            if shard not in where:  # install what is here; name the rest at the end
                absent.append(shard)
                continue
            _extract_shard(where[shard].shard_path(shard), shard_bytes[shard], wanted, todo, layout,
                           journal, summary, progress)
    except OSError as e:
        raise _os_error(e, layout) from e
    finally:  # commits what is durable, whatever stopped us
        journal.commit()
        summary.seconds = time.monotonic() - started
        _log(layout, {"event": "install", **summary.to_dict()})
        db.conn.close()
    if absent:
        raise UserError("shards_missing", count=len(absent), first=absent[0], details=absent[1:])
    if summary.corrupt:
        raise UserError("member_corrupt", count=len(summary.corrupt), first=summary.corrupt[0],
                        details=summary.corrupt[1:])
    return summary


def _check_same_bundle(bundles: list[Bundle]) -> None:
    first = bundles[0]
    for b in bundles[1:]:
        if b.info["group"]["id"] != first.info["group"]["id"]:
            raise UserError("target_other_bundle", target=b.root, found=b.bundle_id,
                            expected=first.bundle_id)


def _open_or_create_target(layout: Layout, bundle: Bundle):
    """The target's catalog: copied from the bundle on the first run, reused on a rerun."""
    layout.state.mkdir(parents=True, exist_ok=True)
    if layout.catalog.exists():
        db = layout.open_catalog()
        found = schema.meta(db).get("bundle_id")
        if found != bundle.bundle_id:
            db.conn.close()
            raise UserError("target_other_bundle", target=layout.root, found=found,
                            expected=bundle.bundle_id)
    else:
        if layout.library.exists() and any(layout.library.iterdir()):
            raise UserError("bundle_exists", path=layout.library)
        tmp = layout.state / "catalog.db.copying"
        shutil.copyfile(bundle.catalog_path, tmp)
        _fsync_file(tmp)
        os.replace(tmp, layout.catalog)
        db = layout.open_catalog()
    db.conn.execute("PRAGMA journal_mode=WAL")
    db.conn.execute("PRAGMA synchronous=NORMAL")
    layout.library.mkdir(exist_ok=True)
    return db


def _files_to_install(db) -> dict[int, dict]:
    rows = db.execute("SELECT id, path, bytes, blake3 FROM files "
                      "WHERE id NOT IN (SELECT file_id FROM installed) ORDER BY id").fetchall()
    return {r[0]: {"id": r[0], "path": r[1], "bytes": r[2], "blake3": r[3]} for r in rows}


def _by_shard(db, todo: dict[int, dict]) -> dict[str, dict[str, dict]]:
    """shard -> member name -> member row, for the files still to install, in shard order."""
    out: dict[str, dict[str, dict]] = defaultdict(dict)
    order = {name: n for n, (name,) in enumerate(db.execute("SELECT name FROM shards ORDER BY rowid"))}
    for shard, member, file_id, part, offset, nbytes in db.execute(
            "SELECT shard, member, file_id, part, offset, bytes FROM members ORDER BY file_id, part"):
        if file_id in todo:
            out[shard][member] = {"file_id": file_id, "part": part, "offset": offset, "bytes": nbytes}
    return dict(sorted(out.items(), key=lambda kv: order[kv[0]]))


def _check_free_space(layout: Layout, needed: int) -> None:
    free = shutil.disk_usage(layout.root).free
    if needed + FREE_SPACE_RESERVE > free:
        raise UserError("disk_full", path=layout.root)


def _reset_staging(layout: Layout) -> None:
    shutil.rmtree(layout.staging, ignore_errors=True)
    layout.staging.mkdir(parents=True)


def _extract_shard(shard_path: Path, shard_bytes: int, wanted: dict[str, dict], todo: dict[int, dict],
                   layout: Layout, journal: "Journal", summary: InstallSummary, progress) -> None:
    factory = StagingFactory(wanted, todo, layout, journal, summary, progress)
    try:
        # Solid archives decode every member, wanted or not: never more than the catalog says
        # the shard holds, whatever a (possibly tampered) archive header declares.
        with py7zr.SevenZipFile(shard_path, "r", max_extract_size=shard_bytes) as archive:
            archive.extract(targets=list(wanted), factory=factory)
    except (py7zr.exceptions.ArchiveError, EOFError, ValueError) as e:
        factory.abandon()
        # The digests already kept every bad member out; name what was not placed.
        missing = [name for name, m in wanted.items() if m["file_id"] in todo and name not in factory.seen_ok]
        summary.corrupt.extend(f"{shard_path.name}: {name}" for name in missing
                               if f"{shard_path.name}: {name}" not in summary.corrupt)
        _log(layout, {"event": "shard_damaged", "shard": shard_path.name, "error": str(e)})
    for name in wanted:
        if name not in factory.seen_ok and name not in factory.seen_bad and wanted[name]["file_id"] in todo:
            summary.corrupt.append(f"{shard_path.name}: {name} (not in the shard)")


class StagingFactory(WriterFactory):
    """Gives py7zr a writer per member: into staging, hashing, and placed only when it matches."""

    def __init__(self, wanted, todo, layout: Layout, journal, summary, progress):
        self.wanted, self.todo, self.layout = wanted, todo, layout
        self.journal, self.summary, self.progress = journal, summary, progress
        self.seen_ok: set[str] = set()
        self.seen_bad: set[str] = set()
        self.current: StagedMember | None = None

    def create(self, filename: str) -> Py7zIO:
        member = self.wanted[filename]
        self.current = StagedMember(self, filename, member, self.todo[member["file_id"]])
        return self.current

    def abandon(self) -> None:
        """py7zr stopped mid-member (a damaged shard): close its staging file, place nothing."""
        if self.current is not None and not self.current.fh.closed:
            self.current.fh.close()
            self.current.path.unlink(missing_ok=True)

    def finished(self, name: str, member: dict, file: dict, staged: Path, digest: str | None) -> None:
        if member["offset"] + member["bytes"] < file["bytes"]:
            self.seen_ok.add(name)  # an early part of a split file: wait for the last part
            return
        if digest is None:  # the last part of a split file: hash the joined file
            digest = file_blake3(staged)
        if digest != file["blake3"]:
            staged.unlink(missing_ok=True)
            self.seen_bad.add(name)
            self.summary.corrupt.append(f"{file['path']} (BLAKE3 differs from the catalog)")
            return
        dest = self.layout.file(file["path"])
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, dest)
        self.seen_ok.add(name)
        self.todo.pop(file["id"], None)
        self.summary.files += 1
        self.summary.bytes += file["bytes"]
        self.journal.placed(file["id"], dest.parent)


class StagedMember(Py7zIO):
    def __init__(self, factory: StagingFactory, name: str, member: dict, file: dict):
        self.factory, self.name, self.member, self.file = factory, name, member, file
        self.path = factory.layout.staging / str(file["id"])
        whole = member["bytes"] == file["bytes"]
        self.hasher = blake3.blake3() if whole else None
        mode = "wb" if whole or member["part"] == 0 else "r+b"
        self.fh = open(self.path, mode)
        self.fh.seek(member["offset"])
        self.written = 0

    def write(self, s) -> int:
        self.fh.write(s)
        if self.hasher:
            self.hasher.update(s)
        self.written += len(s)
        if self.factory.progress:
            self.factory.progress(len(s), self.file["path"])
        return len(s)

    def close(self) -> None:
        if self.fh.closed:
            return
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        digest = self.hasher.hexdigest() if self.hasher else None
        if self.written != self.member["bytes"]:
            self.factory.seen_bad.add(self.name)
            self.factory.summary.corrupt.append(
                f"{self.file['path']} ({self.written} bytes in the shard, the catalog says "
                f"{self.member['bytes']})")
            self.path.unlink(missing_ok=True)
            return
        self.factory.finished(self.name, self.member, self.file, self.path, digest)

    def read(self, size=None) -> bytes:
        raise OSError("staging writers are write-only")

    def seek(self, offset, whence=0) -> int:
        return self.fh.seek(offset, whence)

    def flush(self) -> None:
        self.fh.flush()

    def size(self) -> int:
        return self.written


class Journal:
    """Batches of placed files, committed to ``installed`` once they are durable."""

    def __init__(self, db, layout: Layout):
        self.db, self.layout = db, layout
        self.pending: list[int] = []
        self.dirs: set[Path] = set()
        self.last = time.monotonic()

    def placed(self, file_id: int, directory: Path) -> None:
        self.pending.append(file_id)
        self.dirs.add(directory)
        if len(self.pending) >= BATCH_FILES or time.monotonic() - self.last > BATCH_SECONDS:
            self.commit()

    def commit(self) -> None:
        if not self.pending:
            return
        for d in self.dirs:  # make the renames durable before the journal says they happened
            _fsync_dir(d)
        now = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        with self.db.conn:
            self.db.conn.executemany("INSERT OR REPLACE INTO installed(file_id, at) VALUES (?, ?)",
                                     [(fid, now) for fid in self.pending])
        self.pending, self.dirs, self.last = [], set(), time.monotonic()


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    """Directory entries need their own flush on POSIX; Windows has no such call (and NTFS
    journals its metadata), so there it is skipped."""
    if sys.platform == "win32":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _os_error(e: OSError, layout: Layout) -> UserError:
    if e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return UserError("disk_full", path=layout.root)
    return UserError("io_error", path=e.filename or layout.root, error=e.strerror or e)


def _log(layout: Layout, record: dict) -> None:
    record = {"at": datetime.now(timezone.utc).isoformat(timespec="seconds"), **record}
    try:
        with open(layout.log, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    except OSError:
        pass  # a full disk must not hide the real error behind a logging one
