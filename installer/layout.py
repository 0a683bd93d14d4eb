"""Where things live in an installed library (DESIGN §5, docs/FORMAT.md "Installed library")."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from catalog import names, schema
from catalog.errors import UserError


@dataclass(frozen=True)
class Layout:
    root: Path

    @property
    def catalog(self) -> Path:
        return self.root / "catalog.db"

    @property
    def library(self) -> Path:
        return self.root / "library"

    @property
    def state(self) -> Path:
        return self.root / ".libpush"

    @property
    def staging(self) -> Path:
        return self.state / "staging"

    @property
    def log(self) -> Path:
        return self.state / "install-log.jsonl"

    def file(self, library_path: str) -> Path:
        """The place of a catalog path under library/, refusing any name that could escape it."""
        why = names.problem(library_path)
        if why:
            raise UserError("bundle_damaged", path=self.root, count=1,
                            first=f"unsafe file name in the catalog {library_path!r}: {why}")
        return self.library.joinpath(*library_path.split("/"))

    def open_catalog(self, readonly: bool = False):
        if not self.catalog.is_file():
            raise UserError("target_not_library", path=self.root)
        db = schema.open_db(self.catalog, readonly=readonly)
        if not readonly:
            db.conn.executescript(schema.INSTALL_DDL)
        return db
