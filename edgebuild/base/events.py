"""Progress events: library code reports what happens; the CLI decides how to show it."""

from __future__ import annotations

import time
from typing import Any, Callable

EventSink = Callable[[dict[str, Any]], None]


def discard(event: dict[str, Any]) -> None:
    """The sink for API callers that want no progress."""


class Events:
    """Stamps and forwards events such as stage_started, epoch_finished, stage_cached, stage_finished.

    `fields` are added to every event: a per-profile step's events carry `profile`."""

    def __init__(self, sink: EventSink = discard, **fields: Any):
        self._sink = sink
        self._fields = fields

    def emit(self, kind: str, **fields: Any) -> None:
        self._sink({"event": kind, "time": round(time.time(), 3), **self._fields, **fields})

    def tagged(self, **fields: Any) -> Events:
        """The same sink, with `fields` on every event."""
        return Events(self._sink, **{**self._fields, **fields})
