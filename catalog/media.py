"""Media types, and which of them are worth compressing inside a shard."""
from __future__ import annotations

import mimetypes

_TYPES = {
    ".pdf": "application/pdf", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
    ".gif": "image/gif", ".webp": "image/webp", ".tif": "image/tiff", ".tiff": "image/tiff",
    ".mp4": "video/mp4", ".m4v": "video/mp4", ".webm": "video/webm", ".mkv": "video/x-matroska",
    ".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".aac": "audio/aac", ".ogg": "audio/ogg",
    ".wav": "audio/wav", ".flac": "audio/flac",
    ".html": "text/html", ".htm": "text/html", ".txt": "text/plain", ".xml": "application/xml",
    ".json": "application/json", ".csv": "text/csv", ".css": "text/css", ".epub": "application/epub+zip",
}
# Already-compressed formats are stored (7z COPY); only these are worth LZMA2.
_COMPRESSIBLE_PREFIXES = ("text/",)
_COMPRESSIBLE = {"application/xml", "application/json", "image/tiff", "audio/wav", "image/bmp"}


def media_type(path: str) -> str:
    dot = path.rfind(".")
    ext = path[dot:].lower() if dot >= 0 else ""
    return _TYPES.get(ext) or mimetypes.guess_type("x" + ext)[0] or "application/octet-stream"


def compressible(mtype: str) -> bool:
    return mtype.startswith(_COMPRESSIBLE_PREFIXES) or mtype in _COMPRESSIBLE
