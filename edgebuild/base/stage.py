"""The one Stage interface, and `run_cached`: the only code that takes a cache lock or writes an entry.

A stage names itself, says what its result depends on (`key_inputs`), computes that result into
a scratch folder (`run`) and reads it back from a finished entry (`load`). Its code version is
added to its key by `run_cached`, derived from the import graph of `code_roots` (base/code.py).
`run_cached` does lock → lookup → run (or load) → manifest → rename → record → emit for every
cached step of every command, and `planned` computes the same key without running anything.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from edgebuild.base.cache import StageCache, cache_key
from edgebuild.base.events import Events

Output = TypeVar("Output")


class NotBuilt(Exception):
    """A dry run needed the result of a stage that has not run yet, so this key is not known."""

    def __init__(self, stage: str):
        super().__init__(stage)
        self.stage = stage


class Unstored(Exception):
    """Raised by `run` with a result that must be returned but never reused (a failed measurement)."""

    def __init__(self, output: Any):
        super().__init__("result not stored")
        self.output = output


@dataclass(frozen=True)
class StageRun(Generic[Output]):
    """A stage's key, the inputs it hashes, its entry (None when not stored) and its result (`built`
    False in a dry run of a stage that would run)."""

    name: str
    key: str | None  # None in a dry run that could not know it (it needs a result not yet built)
    inputs: dict[str, Any]
    cached: bool
    seconds: float
    entry: Path | None
    output: Output | None = None
    built: bool = True


@dataclass(frozen=True)
class Upstream:
    """The runs of the stages before this one, by name, for one target."""

    runs: Mapping[str, StageRun] = field(default_factory=dict)

    def __contains__(self, name: str) -> bool:
        return name in self.runs

    def key(self, name: str) -> str:
        key = self.runs[name].key
        if key is None:
            raise NotBuilt(name)
        return key

    def output(self, name: str) -> Any:
        run = self.runs[name]
        if not run.built:
            raise NotBuilt(name)
        return run.output

    def entry(self, name: str) -> Path:
        run = self.runs[name]
        if run.entry is None:
            raise NotBuilt(name)
        return run.entry

    def plus(self, run: StageRun) -> Upstream:
        return Upstream({**self.runs, run.name: run})


class Stage(ABC, Generic[Output]):
    """One cached step. Subclasses set `name` and implement key_inputs, run and load."""

    name: str  # a class attribute, or a field of a stage that serves several steps

    def code_roots(self) -> tuple[str, ...]:
        """The modules whose code computes this stage: by default the stage's own module."""
        return (type(self).__module__,)

    @abstractmethod
    def key_inputs(self, upstream: Upstream) -> dict[str, Any]:
        """Everything the result depends on but the code: config, upstream keys, tool versions."""

    @abstractmethod
    def run(self, upstream: Upstream, scratch: Path) -> Output:
        """Compute the result; write what `load` needs into `scratch`, which becomes the entry."""

    @abstractmethod
    def load(self, upstream: Upstream, entry: Path) -> Output:
        """The result, from a finished entry."""

    def check(self, output: Output, upstream: Upstream) -> None:
        """Raise GateFailed when the result breaks a limit; run on fresh and cached results alike."""

    def summary(self, output: Output) -> dict[str, Any]:
        """Fields for the stage's finished/cached event (accuracy, ...)."""
        return {}


def stage_inputs(stage: Stage, upstream: Upstream, cache: StageCache) -> dict[str, Any]:
    """What the stage's key hashes: its name, its code (derived from `code_roots`), its key inputs."""
    return {"stage": stage.name, "code": cache.code.code_hash(*stage.code_roots()), **stage.key_inputs(upstream)}


def run_cached(stage: Stage[Output], upstream: Upstream, cache: StageCache, events: Events, scope: str,
               inputs: dict[str, Any] | None = None) -> StageRun[Output]:
    """The stage's result from the cache, or computed and recorded; `scope` names it for `plan`;
    `inputs` are `stage_inputs(stage, upstream, cache)` when the caller has them already."""
    inputs = stage_inputs(stage, upstream, cache) if inputs is None else inputs
    key = cache_key(inputs)
    events.emit("stage_started", stage=stage.name, key=key)
    started = time.perf_counter()
    with cache.locked(key):
        entry = cache.lookup(key)
        cached = entry is not None
        stored = True
        if cached:
            output = stage.load(upstream, entry)
        else:
            try:
                with cache.produce(key, stage.name) as scratch, events.heartbeat(stage.name):
                    output = stage.run(upstream, scratch)
            except Unstored as unstored:
                output, stored = unstored.output, False
    cache.index.record(scope, inputs)
    stage.check(output, upstream)
    seconds = time.perf_counter() - started
    events.emit("stage_cached" if cached else "stage_finished", stage=stage.name, key=key, seconds=seconds,
                **stage.summary(output))
    return StageRun(stage.name, key, inputs, cached, seconds, cache.entry_path(key) if stored else None, output)


def planned(stage: Stage, upstream: Upstream, cache: StageCache) -> StageRun:
    """The stage's key and whether it is cached, without running it; a cached result is loaded, since
    later keys may need it. Raises NotBuilt when the key needs the result of a stage that would run."""
    inputs = stage_inputs(stage, upstream, cache)
    key = cache_key(inputs)
    entry = cache.lookup(key)
    output = stage.load(upstream, entry) if entry is not None else None
    return StageRun(stage.name, key, inputs, entry is not None, 0.0, entry, output, built=entry is not None)
