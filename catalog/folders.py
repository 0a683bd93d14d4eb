"""Making an output folder all at once: ``sample``, ``pack`` (and later drive writing) build
in a hidden sibling and rename it into place at the end, so an interrupted or failed run
never leaves something that looks finished."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable, TypeVar

from .errors import UserError

T = TypeVar("T")


def refuse_nonempty(out: Path) -> None:
    """Outputs go into a new or empty folder only: never over someone's files."""
    if out.is_symlink() or out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError("bundle_exists", path=out)


def partial_path(out: Path) -> Path:
    return out.parent / f".{out.name}.libpush-partial"


def build_beside(out: Path, build: Callable[[Path], T]) -> T:
    """``build(folder)`` in ``partial_path(out)``, then rename it to ``out``.

    The partial folder has a fixed name, so one left by a killed run (power cut, SIGKILL) is
    found and removed by the next run instead of piling up beside the output.
    """
    refuse_nonempty(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(out)
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir()
    try:
        result = build(partial)
        refuse_nonempty(out)    # someone may have filled it while we built
        if out.exists():
            out.rmdir()         # an empty folder: Windows cannot rename over it
        os.replace(partial, out)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return result
