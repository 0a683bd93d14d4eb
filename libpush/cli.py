"""The ``libpush`` command: thin wiring of subcommands to the packages (DESIGN §6).

Conventions: exit 0 on success, 1 on failure or problems found, 2 on bad usage; errors are one
or two lines (traceback only with --debug); progress bars on stderr when it is a terminal;
``--json`` prints one JSON document on stdout.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from catalog import messages
from catalog.errors import UserError
from catalog.table import load_table
from catalog.units import format_bytes, parse_size

from .progress import byte_bar

MAX_DETAIL_LINES = 10


class LibpushGroup(click.Group):
    """Turns a UserError into its message and hint, exit 1; anything else keeps its traceback
    only under --debug."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except UserError as e:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            _print_error(e)
            sys.exit(1)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("Interrupted; run the same command again to continue.", err=True)
            sys.exit(130)
        except Exception as e:  # a bug: say so briefly, keep the traceback for --debug
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"Error: {type(e).__name__}: {e}\n(run with --debug for the traceback)", err=True)
            sys.exit(1)


def _print_error(e: UserError) -> None:
    click.echo(f"Error: {e}", err=True)
    for line in e.details[:MAX_DETAIL_LINES]:
        click.echo(f"  {line}", err=True)
    if len(e.details) > MAX_DETAIL_LINES:
        click.echo(f"  … and {len(e.details) - MAX_DETAIL_LINES} more", err=True)
    if e.hint:
        click.echo(e.hint, err=True)


def _size(ctx, param, value):
    if value is None:
        return None
    try:
        return parse_size(value)
    except UserError as e:
        raise click.BadParameter(str(e)) from None


def _emit_json(doc) -> None:
    click.echo(json.dumps(doc, ensure_ascii=False, indent=1))


@click.group(cls=LibpushGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="libpush", prog_name="libpush")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.pass_context
def main(ctx, debug):
    """libpush: a national digital-library release, carried to county libraries on drives.

    \b
    National library:   table, sample, pack, verify
    Provincial library: verify (then copy the bundle to drives)
    County library:     install, verify, status, view
    Everything at once: demo
    """
    ctx.ensure_object(dict)["debug"] = debug


# --- the configuration table ------------------------------------------------------------------

@main.command()
@click.option("--table", "table_path", type=click.Path(dir_okay=False, path_type=Path),
              help="A table file in the same JSON shape (default: the built-in 2015 table).")
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
def table(table_path, as_json):
    """The configuration table (基层图书馆资源配置表) a release follows."""
    t = load_table(table_path)
    if as_json:
        _emit_json(t.to_dict())
        return
    click.echo(f"{t.title_zh} ({t.id})")
    click.echo(f"{'#':>2}  {'key':<19} {'group':<6} {'TB':>6} {'items':>7}  name")
    for r in t.rows:
        tb = "-" if r.tb is None else f"{r.tb:g}"
        click.echo(f"{r.row:>2}  {r.key:<19} {r.group_zh:<{6 - _wide(r.group_zh)}} {tb:>6} "
                   f"{r.items:>7}  {r.name_zh} ({r.name_en}) — {r.form_zh}")
    known = sum(r.tb for r in t.rows if r.tb is not None)
    click.echo(f"Total capacity {known:g} TB where given; row(s) "
               f"{', '.join(str(r.row) for r in t.rows if r.tb is None) or 'none'} left blank in the source.")


def _wide(text: str) -> int:
    """How many extra columns CJK characters take in a terminal."""
    return sum(1 for ch in text if ord(ch) > 0x2E7F)


# --- national library ---------------------------------------------------------------------------

@main.command()
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--items", "items_fraction", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Fraction of each row's item count (at least one item per row; default 0.003).")
@click.option("--bytes", "bytes_fraction", type=click.FloatRange(min=0), default=None,
              help="Fraction of each row's capacity in bytes (default 1e-5, about 43 MB).")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same bytes.")
@click.option("--json", "as_json", is_flag=True)
def sample(out, items_fraction, bytes_fraction, seed, as_json):
    """Write a synthetic source library that follows the table: real PDF, JPEG, MP4, MP3 and
    HTML files with Chinese metadata."""
    from catalog import sample as sampler
    items_fraction = sampler.DEFAULT_ITEMS if items_fraction is None else items_fraction
    bytes_fraction = sampler.DEFAULT_BYTES if bytes_fraction is None else bytes_fraction
    with byte_bar(0, "sample") as advance:
        summary = sampler.write_sample(out, items=items_fraction, bytes_fraction=bytes_fraction,
                                       seed=seed, progress=advance)
    doc = summary.to_dict()
    if as_json:
        _emit_json(doc)
    else:
        click.echo(f"Wrote a sample library to {out}: {_sample_totals(doc)}.")


def _sample_totals(doc: dict) -> str:
    t = doc.get("totals", doc)
    return f"{t.get('items')} items, {t.get('files')} files, {format_bytes(t.get('bytes', 0))}"


@main.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--shard-size", default="4GB", show_default=True, callback=_size,
              help="Largest shard; files above it are split. 4GB suits FAT32 drives.")
@click.option("--release", "release_name", help="Release name (default: table id and date).")
@click.option("--table", "table_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
def pack(source, bundle, shard_size, release_name, table_path, as_json):
    """Pack SOURCE (a source tree, docs/SOURCE-TREE.md) into BUNDLE, a BagIt bag of 7z shards."""
    from bundler.pack import pack as do_pack
    state = {}

    def scanned(release):
        state["total"] = release.total_bytes
        if not as_json:
            click.echo(f"Scanned {source}: {len(release.collections)} collections, {len(release.items)} "
                       f"items, {len(release.files)} files, {format_bytes(release.total_bytes)}.", err=True)
        for w in release.warnings:
            click.echo(f"Warning: {w}", err=True)

    with _lazy_bar(state, "pack") as advance:
        summary = do_pack(source, bundle, shard_size=shard_size, release_name=release_name,
                          table=load_table(table_path), progress=advance, on_scanned=scanned)
    if as_json:
        _emit_json(summary.to_dict())
    else:
        click.echo(f"Packed {summary.files} files ({format_bytes(summary.bytes)}) into {summary.shards} "
                   f"shard(s) at {bundle} in {summary.seconds:.1f} s; bundle {summary.bundle_id}.")


class _lazy_bar:
    """A byte bar whose total is known only after a first step (the scan)."""

    def __init__(self, state: dict, desc: str):
        self.state, self.desc, self.cm, self.advance = state, desc, None, None

    def __enter__(self):
        def advance(n, name=None):
            if self.advance is None:
                self.cm = byte_bar(self.state.get("total", 0), self.desc)
                self.advance = self.cm.__enter__()
            self.advance(n, name)
        return advance

    def __exit__(self, *exc):
        if self.cm is not None:
            return self.cm.__exit__(*exc)
        return False


# --- county library -------------------------------------------------------------------------------

@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True)
def install(paths, as_json):
    """Install from SOURCE (a bundle or drive root; several drives may be given) into TARGET.

    \b
    libpush install E:\\ D:\\数字资源
    Run the same command again after a power cut or a pulled drive: it continues where it
    stopped, and only files whose BLAKE3 matched ever appear in TARGET/library.
    """
    from installer.install import install as do_install
    if len(paths) < 2:
        raise click.UsageError("Give at least one SOURCE and the TARGET folder.")
    *sources, target = paths
    state = {}

    def planned(files, nbytes):
        state["total"] = nbytes
        if not as_json:
            click.echo(messages.text("install_plan", files=files, size=format_bytes(nbytes), target=target),
                       err=True)

    with _lazy_bar(state, "install") as advance:
        summary = do_install(list(sources), target, progress=advance, on_plan=planned)
    if as_json:
        _emit_json(summary.to_dict())
    else:
        click.echo(messages.text("install_done", files=summary.files, size=format_bytes(summary.bytes),
                                 seconds=summary.seconds, rate=format_bytes(summary.rate),
                                 already=summary.already))


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--fast", is_flag=True, help="Sizes only, no digests.")
@click.option("--json", "as_json", is_flag=True)
def verify(path, fast, as_json):
    """Check a bundle, a drive or an installed library; list every problem, exit 1 if any."""
    kind, problems = _verify(path, fast)
    if as_json:
        _emit_json({"path": str(path), "kind": kind, "fast": fast, "ok": not problems, "problems": problems})
    else:
        for p in problems:
            click.echo(f"{p['path']}: {p['problem']}")
        key = "verify_problems" if problems else "verify_ok"
        click.echo(messages.text(key, path=path, count=len(problems), what=kind + (", sizes only" if fast else "")),
                   err=bool(problems))
    sys.exit(1 if problems else 0)


def _verify(path: Path, fast: bool) -> tuple[str, list[dict]]:
    from bundler.verify import verify_bundle
    from installer.verify import library_bytes, verify_library
    if (path / "bagit.txt").is_file() or (path / "libpush.json").is_file():
        total = sum(f.stat().st_size for f in (path / "data").rglob("*") if f.is_file()) if (path / "data").is_dir() else 0
        with byte_bar(0 if fast else total, "verify") as advance:
            return "bundle", verify_bundle(path, fast=fast, progress=advance)
    if (path / "catalog.db").is_file():
        with byte_bar(0 if fast else library_bytes(path), "verify") as advance:
            return "installed library", verify_library(path, fast=fast, progress=advance)
    raise UserError("bundle_not_found", path=path, missing="bagit.txt or catalog.db")


@main.command()
@click.argument("target", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True)
def status(target, as_json):
    """What an installed library holds, per collection, and which shards are still missing."""
    from installer.status import status as get_status
    doc = get_status(target)
    if as_json:
        _emit_json(doc)
        return
    click.echo(messages.text("status_line", target=target, release=doc["release"],
                             installed_files=doc["installed_files"], files=doc["files"],
                             installed_size=format_bytes(doc["installed_bytes"]),
                             size=format_bytes(doc["bytes"])))
    for c in doc["collections"]:
        mark = "✓" if c["installed_files"] == c["files"] else " "
        click.echo(f" {mark} {c['row']:>2} {c['key']:<19} {c['installed_files']:>7}/{c['files']:<7} "
                   f"{format_bytes(c['installed_bytes']):>10}  {c['name_zh']}")
    if doc["missing_shards"]:
        click.echo(f"Missing shards ({len(doc['missing_shards'])}): {', '.join(doc['missing_shards'][:5])}"
                   + (" …" if len(doc["missing_shards"]) > 5 else ""))


@main.command()
@click.argument("target", type=click.Path(path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="0.0.0.0 serves the whole library LAN.")
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--window/--no-window", default=False, help="Open a desktop window on the same address.")
def view(target, host, port, window):
    """Serve an installed library to readers, in Chinese, offline."""
    from viewer.serve import serve
    serve(target, host=host, port=port, window=window, on_ready=_announce)


def _announce(url: str) -> None:
    click.echo(messages.text("view_serving", url=url), err=True)


# --- the whole chain --------------------------------------------------------------------------------

@main.command()
@click.option("--dir", "workdir", default="demo-library", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Where the demo writes.")
@click.option("--no-view", is_flag=True, help="Stop after verify instead of serving.")
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--items", "items_fraction", type=click.FloatRange(min=0, min_open=True), default=None,
              help="As for `sample`.")
@click.option("--bytes", "bytes_fraction", type=click.FloatRange(min=0), default=None,
              help="As for `sample`.")
def demo(workdir, no_view, port, items_fraction, bytes_fraction):
    """sample -> pack -> install -> verify -> view, on the built-in sample library."""
    from .demo import run_demo
    target = run_demo(workdir, items_fraction=items_fraction, bytes_fraction=bytes_fraction,
                   echo=lambda line: click.echo(line))
    if no_view:
        return
    from viewer.serve import serve
    serve(target, port=port, on_ready=_announce)


if __name__ == "__main__":  # pragma: no cover
    main()
