"""``libpush demo``: the whole chain on the built-in sample library, every stage real.

DIR/source (sample) -> DIR/bundle (pack) -> DIR/county (install) -> verify both -> view.
A rerun starts afresh, but only ever deletes a folder that an earlier demo made (it carries
the marker file ``.libpush-demo``).
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path

from bundler.pack import pack
from bundler.verify import verify_bundle
from catalog import sample
from catalog.errors import UserError
from catalog.units import format_bytes
from installer.install import install
from installer.verify import verify_library

MARKER = ".libpush-demo"


def run_demo(workdir: Path, items_fraction=None, bytes_fraction=None, echo=print) -> Path:
    """Runs the chain and returns the installed target."""
    workdir = Path(workdir)
    _prepare(workdir)
    source, bundle, target = workdir / "source", workdir / "bundle", workdir / "county"

    t = time.monotonic()
    s = sample.write_sample(source, items=sample.DEFAULT_ITEMS if items_fraction is None else items_fraction,
                            bytes_fraction=sample.DEFAULT_BYTES if bytes_fraction is None else bytes_fraction)
    doc = s.to_dict()
    totals = doc.get("totals", doc)
    echo(f"1/5 sample   {source}: {totals.get('items')} items, {totals.get('files')} files, "
         f"{format_bytes(totals.get('bytes', 0))} in 14 collections ({time.monotonic() - t:.1f} s)")

    p = pack(source, bundle)
    echo(f"2/5 pack     {bundle}: {p.shards} shards, {format_bytes(p.bundle_bytes)}, "
         f"bundle {p.bundle_id[:8]} ({p.seconds:.1f} s)")

    i = install([bundle], target)
    echo(f"3/5 install  {target}: {i.files} files, {format_bytes(i.bytes)} "
         f"({i.seconds:.1f} s, {format_bytes(i.rate)}/s)")

    t = time.monotonic()
    problems = verify_bundle(bundle) + verify_library(target)
    if problems:
        raise UserError("bundle_damaged", path=workdir, count=len(problems),
                        first=f"{problems[0]['path']}: {problems[0]['problem']}")
    echo(f"4/5 verify   bundle and library: every digest matches, no stray files "
         f"({time.monotonic() - t:.1f} s)")
    echo(f"5/5 view     libpush view {target}")
    return target


def _prepare(workdir: Path) -> None:
    if workdir.exists() and any(workdir.iterdir()):
        if not (workdir / MARKER).exists():
            raise UserError("bundle_exists", path=workdir)
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / MARKER).write_text("made by `libpush demo`; safe to delete\n", "utf-8")
