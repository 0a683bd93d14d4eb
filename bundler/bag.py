"""The bundle on disk: a BagIt 1.0 bag (RFC 8493) plus ``libpush.json``.

Writing: ``write_tag_files`` after the payload (data/) is complete. Reading: ``Bundle.open``.
The exact layout is documented in docs/FORMAT.md.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from catalog.errors import UserError

from .digest import file_digests

FORMAT_NAME = "libpush-bundle"
FORMAT_VERSION = 1
CATALOG = "data/catalog.db"
SHARDS_DIR = "data/shards"
MANIFESTS = ("manifest-sha256.txt", "manifest-blake3.txt")
TAG_MANIFEST = "tagmanifest-sha256.txt"
BAG_DECLARATION = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"


def encode_path(path: str) -> str:
    """BagIt manifest paths escape only %, CR and LF."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def decode_path(path: str) -> str:
    return path.replace("%0D", "\r").replace("%0A", "\n").replace("%0d", "\r").replace("%0a", "\n").replace("%25", "%")


def write_manifests(root: Path, digests: dict[str, tuple[str, str]]) -> None:
    """manifest-sha256.txt and manifest-blake3.txt for payload ``digests``: path -> (blake3, sha256)."""
    paths = sorted(digests)
    (root / "manifest-blake3.txt").write_text(
        "".join(f"{digests[p][0]}  {encode_path(p)}\n" for p in paths), "utf-8", newline="\n")
    (root / "manifest-sha256.txt").write_text(
        "".join(f"{digests[p][1]}  {encode_path(p)}\n" for p in paths), "utf-8", newline="\n")


def write_bag_info(root: Path, fields: list[tuple[str, str]]) -> None:
    (root / "bag-info.txt").write_text("".join(f"{k}: {v}\n" for k, v in fields), "utf-8", newline="\n")


def write_tag_files(root: Path, info: dict, bag_info: list[tuple[str, str]]) -> None:
    """bagit.txt, bag-info.txt, libpush.json and the tag manifest over them and the manifests."""
    (root / "bagit.txt").write_text(BAG_DECLARATION, "utf-8", newline="\n")
    write_bag_info(root, bag_info)
    (root / "libpush.json").write_text(json.dumps(info, ensure_ascii=False, indent=1) + "\n",
                                       "utf-8", newline="\n")
    tag_files = ["bagit.txt", "bag-info.txt", "libpush.json", *MANIFESTS]
    lines = [f"{file_digests(root / name)[1]}  {name}\n" for name in tag_files]
    (root / TAG_MANIFEST).write_text("".join(lines), "utf-8", newline="\n")


def read_manifest(path: Path) -> dict[str, str]:
    """path -> digest; raises ValueError on a malformed line."""
    out: dict[str, str] = {}
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        digest, sep, name = line.partition(" ")
        if not sep or not name.strip():
            raise ValueError(f"{path.name} line {n} is not '<digest> <path>'")
        out[decode_path(name.strip())] = digest.lower()
    return out


def read_bag_info(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_text("utf-8").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return out


def read_info(root: Path) -> dict:
    """libpush.json, refused unless it is a readable libpush bundle of our format."""
    try:
        info = json.loads((root / "libpush.json").read_text("utf-8"))
    except ValueError as e:
        raise UserError("bundle_damaged", path=root, count=1, first=f"libpush.json: {e}") from e
    if not isinstance(info, dict) or info.get("format") != FORMAT_NAME \
            or info.get("format_version") != FORMAT_VERSION:
        found = info.get("format_version") if isinstance(info, dict) else None
        raise UserError("bundle_format", path=root, found=found, expected=FORMAT_VERSION)
    return info


@dataclass
class Bundle:
    """A bundle (or one drive's bag of it) opened for reading."""
    root: Path
    info: dict

    @classmethod
    def open(cls, root: Path) -> "Bundle":
        root = Path(root)
        for needed in ("bagit.txt", "libpush.json", CATALOG):
            if not (root / needed).is_file():
                raise UserError("bundle_not_found", path=root, missing=needed)
        return cls(root=root, info=read_info(root))

    @property
    def bundle_id(self) -> str:
        return self.info["bundle_id"]

    @property
    def catalog_path(self) -> Path:
        return self.root / CATALOG

    def shard_path(self, name: str) -> Path:
        return self.root / SHARDS_DIR / name

    @property
    def shards(self) -> list[dict]:
        return self.info["shards"]

    @property
    def shards_here(self) -> list[str]:
        return self.info.get("on_this_drive", [s["name"] for s in self.shards])
