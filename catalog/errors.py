"""The one error type users see: a message id plus its values, rendered by ``messages``.

Code raises ``UserError("source_missing", path=...)``; the command line prints the message and
its hint in the user's language and exits 1. A traceback is shown only with ``--debug``.
"""
from __future__ import annotations

from . import messages


class UserError(Exception):
    """Something the user can fix: bad input, a wrong drive, a full disk."""

    def __init__(self, code: str, details: list[str] | None = None, **values):
        self.code = code
        self.values = values
        self.details = details or []   # further lines, e.g. every offending path
        super().__init__(messages.text(code, **values))

    @property
    def hint(self) -> str:
        return messages.hint(self.code, **self.values)
