"""Path names that work everywhere a release travels: Windows, FAT32/exFAT/NTFS, 7z archives.

One function decides, for the scanner and for the installer alike, so a name the bundler
accepted is a name every installer can write, and a hostile member name in a tampered shard
is refused on the way in.
"""
from __future__ import annotations

import re
import unicodedata

WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                    *(f"LPT{i}" for i in range(1, 10))}
_BAD_CHARS = re.compile(r'[<>:"|?*\\\x00-\x1f\x7f]')
MAX_COMPONENT_UTF16 = 255
# Windows without long-path support stops at 260 characters for the whole path; we keep the
# part inside library/ well below so a target like D:\数字资源\ still fits.
MAX_RELATIVE_PATH = 200


def problem(path: str) -> str | None:
    """Why ``path`` (relative, '/'-separated) is not a safe name, or None when it is."""
    if not path:
        return "empty name"
    if unicodedata.normalize("NFC", path) != path:
        return "not in Unicode NFC form"
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        return "absolute path or drive letter"
    if len(path) > MAX_RELATIVE_PATH:
        return f"longer than {MAX_RELATIVE_PATH} characters"
    for part in path.split("/"):
        why = _component_problem(part)
        if why:
            return f"component {part!r}: {why}"
    return None


def _component_problem(part: str) -> str | None:
    if part in ("", ".", ".."):
        return "empty, '.' or '..'"
    bad = _BAD_CHARS.search(part)
    if bad:
        return f"character {bad.group()!r} is not allowed"
    if part.endswith((" ", ".")):
        return "ends with a space or a dot"
    if part.split(".")[0].upper().rstrip() in WINDOWS_RESERVED:
        return "a reserved name on Windows"
    if len(part.encode("utf-16-le")) // 2 > MAX_COMPONENT_UTF16:
        return f"longer than {MAX_COMPONENT_UTF16} characters"
    return None


def fold(path: str) -> str:
    """The form under which two names collide on a case-insensitive, normalizing filesystem."""
    return unicodedata.normalize("NFC", path).casefold()
