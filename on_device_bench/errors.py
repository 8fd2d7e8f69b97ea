"""The one error the runner reports: what is wrong, with the file it is wrong about."""

from __future__ import annotations

from typing import Optional


class BenchError(Exception):
    """A model, data file or runtime that cannot be benchmarked; the message is one line."""

    def __init__(self, what: str, path: Optional[str] = None) -> None:
        self.what = first_line(what)
        self.path = path
        super().__init__(f"{path}: {self.what}" if path else self.what)


def first_line(error: object) -> str:
    """Interpreter errors span lines ("See instructions: ..."); a report needs the first."""
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
