"""Progress events: library code reports what happens; the CLI decides how to show it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable

EventSink = Callable[[dict[str, Any]], None]

# A stage's heartbeat comes from its own thread: one event reaches the sink at a time.
_SINK_LOCK = threading.Lock()
_last_emitted = [time.monotonic()]  # by any Events, so a heartbeat is sent only into silence


def discard(event: dict[str, Any]) -> None:
    """The sink for API callers that want no progress."""


class Events:
    """Stamps and forwards events: stage_started, stage_running (a heartbeat), batch_finished,
    epoch_finished, stage_cached, stage_finished, stage_shared.

    `fields` are added to every event: a per-profile step's events carry `profile`."""

    def __init__(self, sink: EventSink = discard, **fields: Any):
        self._sink = sink
        self._fields = fields

    def emit(self, kind: str, **fields: Any) -> None:
        with _SINK_LOCK:
            self._sink({"event": kind, "time": round(time.time(), 3), **self._fields, **fields})
            _last_emitted[0] = time.monotonic()

    def tagged(self, **fields: Any) -> Events:
        """The same sink, with `fields` on every event."""
        return Events(self._sink, **{**self._fields, **fields})

    @contextmanager
    def heartbeat(self, stage: str, every_s: float = 0.5) -> Iterator[None]:
        """A `stage_running` event after each `every_s` without any event while the block runs: a stage that
        imports TensorFlow, traces a graph or converts for seconds between its own events still shows it is
        alive, and for how long. (Importing TensorFlow holds the interpreter for up to 1.3 s at a time,
        measured, so the heartbeat checks twice a second to keep silences under 2 s.)"""
        if self._sink is discard:
            yield
            return
        finished = threading.Event()
        started = time.monotonic()

        def beat() -> None:
            while not finished.wait(every_s / 2):
                if time.monotonic() - _last_emitted[0] >= every_s:
                    self.emit("stage_running", stage=stage, seconds=round(time.monotonic() - started, 1))

        thread = threading.Thread(target=beat, name=f"edgebuild-heartbeat-{stage}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            finished.set()
            thread.join()
