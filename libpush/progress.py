"""Byte progress bars on stderr when it is a terminal; silent otherwise (logs, pipes, and
windowed builds where ``sys.stderr`` is None and tqdm itself would crash)."""
from __future__ import annotations

import sys
from contextlib import contextmanager

from tqdm import tqdm


def bars_wanted() -> bool:
    stream = sys.stderr
    return stream is not None and hasattr(stream, "isatty") and stream.isatty()


@contextmanager
def byte_bar(total: int, desc: str):
    """Yields ``advance(n, current_name=None)``."""
    if not bars_wanted():
        yield lambda n, name=None: None
        return
    with tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024,
              dynamic_ncols=True, leave=False, file=sys.stderr) as bar:
        last = [None]

        def advance(n: int, name: str | None = None) -> None:
            bar.update(n)
            if name and name != last[0]:
                last[0] = name
                bar.set_postfix_str(name[-40:], refresh=False)
        yield advance
