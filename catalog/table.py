"""Configuration tables: which collections a release holds, with planned items and capacity.

The 2015 grassroots table ships as data (``data/table-2015.json``); a province or the national
library may give another table in the same JSON shape (``--table FILE``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, asdict
from importlib import resources
from pathlib import Path

from .errors import UserError

TB = 10**12  # the table's capacities are decimal terabytes
DEFAULT_TABLE = "grassroots-2015"

KINDS = ("ebook", "text", "journal", "video", "audio", "picture", "record")
_ROW_FIELDS = ("row", "key", "group_zh", "group_en", "group_label_zh", "name_zh", "name_en",
               "tb", "items", "items_label_zh", "kind", "form_zh", "description_zh")


@dataclass(frozen=True)
class Row:
    row: int
    key: str
    group_zh: str
    group_en: str
    group_label_zh: str
    name_zh: str
    name_en: str
    tb: float | None        # None where the source leaves the capacity blank (row 12)
    items: int
    items_label_zh: str
    kind: str
    form_zh: str
    description_zh: str

    @property
    def capacity_bytes(self) -> int | None:
        return None if self.tb is None else round(self.tb * TB)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Table:
    id: str
    title_zh: str
    title_en: str
    source: str
    rows: tuple[Row, ...]

    def row(self, ref: str | int) -> Row:
        """A row by number ("4") or key ("open-courses")."""
        for r in self.rows:
            if str(ref) == str(r.row) or str(ref) == r.key:
                return r
        raise UserError("table_row_unknown", ref=ref, keys=", ".join(r.key for r in self.rows))

    def select(self, refs: str | None) -> list[Row]:
        """Rows named by a comma-separated list of numbers or keys; all rows when None."""
        if not refs:
            return list(self.rows)
        wanted = [self.row(p.strip()) for p in str(refs).split(",") if p.strip()]
        return sorted(set(wanted), key=lambda r: r.row)

    def to_dict(self) -> dict:
        return {"id": self.id, "title_zh": self.title_zh, "title_en": self.title_en,
                "source": self.source, "rows": [r.to_dict() for r in self.rows]}


def load_table(path: str | Path | None = None) -> Table:
    """The built-in 2015 table, or a table file in the same JSON shape."""
    if path is None:
        text = resources.files("catalog").joinpath("data/table-2015.json").read_text("utf-8")
        where = "built-in table"
    else:
        where = str(path)
        try:
            text = Path(path).read_text("utf-8")
        except OSError as e:
            raise UserError("table_unreadable", path=where, error=e.strerror or e) from e
    try:
        data = json.loads(text)
        rows = tuple(_parse_row(r, i) for i, r in enumerate(data["rows"], 1))
        table = Table(id=str(data["id"]), title_zh=data.get("title_zh", ""),
                      title_en=data.get("title_en", ""), source=data.get("source", ""), rows=rows)
    except (ValueError, KeyError, TypeError) as e:
        raise UserError("table_malformed", path=where, error=e) from e
    _check_unique(table, where)
    return table


def _parse_row(raw: dict, index: int) -> Row:
    missing = [f for f in _ROW_FIELDS if f not in raw]
    if missing:
        raise ValueError(f"row {index} lacks {', '.join(missing)}")
    if raw["kind"] not in KINDS:
        raise ValueError(f"row {index}: kind {raw['kind']!r} is not one of {', '.join(KINDS)}")
    tb = raw["tb"]
    if tb is not None and (not isinstance(tb, (int, float)) or tb < 0):
        raise ValueError(f"row {index}: tb must be a non-negative number or null")
    if not isinstance(raw["items"], int) or raw["items"] < 0:
        raise ValueError(f"row {index}: items must be a non-negative whole number")
    return Row(**{f: raw[f] for f in _ROW_FIELDS})


def _check_unique(table: Table, where: str) -> None:
    for attr in ("row", "key"):
        seen = [getattr(r, attr) for r in table.rows]
        dup = {v for v in seen if seen.count(v) > 1}
        if dup:
            raise UserError("table_malformed", path=where, error=f"{attr} repeated: {sorted(dup)}")
