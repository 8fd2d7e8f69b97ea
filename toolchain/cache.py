"""Content-addressed stage cache, like DVC's run-cache.

An entry is `root/<key[:2]>/<key>/`: the stage's files plus `manifest.json` (sha256 of every file).
An entry is built in a temp folder beside it and renamed into place, so readers see all or nothing;
a per-key file lock keeps two builds from training the same stage twice; an entry whose files do
not match its manifest is deleted and counts as a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from filelock import FileLock

from edgebuild.errors import writing

MANIFEST = "manifest.json"
RESULT_FILE = "result.json"
TEMP_MARKER = ".tmp-"


def default_cache_root() -> Path:
    from platformdirs import user_cache_dir

    return Path(os.environ.get("EDGEBUILD_CACHE") or user_cache_dir("edgebuild"))


def cache_key(parts: dict) -> str:
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def code_version(*source_files: str | Path) -> str:
    """Hash of the code that computes a stage, so editing it invalidates that stage's entries."""
    digest = hashlib.sha256()
    for source in source_files:
        digest.update(Path(source).read_bytes())
    return digest.hexdigest()[:16]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class CacheEntry:
    key: str
    stage: str
    size_bytes: int
    last_used: float  # seconds since the epoch
    path: Path


def _stage_of(manifest: Path) -> str:
    try:
        return json.loads(manifest.read_text()).get("stage", "?")
    except (OSError, ValueError):
        return "?"


class StageCache:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.index = InputsIndex(self.root)

    def entry_path(self, key: str) -> Path:
        return self.root / key[:2] / key

    @contextmanager
    def locked(self, key: str) -> Iterator[None]:
        folder = self.root / key[:2]
        folder.mkdir(parents=True, exist_ok=True)
        with FileLock(str(folder / f"{key}.lock")):
            yield

    def lookup(self, key: str) -> Path | None:
        """The entry's folder if it is complete and intact; a damaged entry is removed."""
        entry = self.entry_path(key)
        if not entry.is_dir():
            return None
        if self._intact(entry):
            os.utime(entry / MANIFEST)  # last use, for `cache prune --older-than`
            return entry
        shutil.rmtree(entry, ignore_errors=True)
        return None

    @contextmanager
    def produce(self, key: str, stage: str) -> Iterator[Path]:
        """A scratch folder for the stage's files; published atomically only if the block succeeds."""
        entry = self.entry_path(key)
        scratch = entry.parent / f"{key}{TEMP_MARKER}{uuid.uuid4().hex[:8]}"
        scratch.mkdir(parents=True)
        try:
            with writing(entry.parent):
                yield scratch
                self._write_manifest(scratch, stage)
            if not entry.exists():
                os.replace(scratch, entry)
        finally:
            if scratch.exists():
                shutil.rmtree(scratch, ignore_errors=True)

    def read_json(self, key: str) -> Any | None:
        entry = self.lookup(key)
        return json.loads((entry / RESULT_FILE).read_text()) if entry is not None else None

    def write_json(self, key: str, stage: str, document: Any) -> None:
        with self.produce(key, stage) as scratch:
            (scratch / RESULT_FILE).write_text(json.dumps(document, sort_keys=True, indent=1))

    def entries(self) -> list[CacheEntry]:
        found = []
        for manifest in sorted(self.root.glob(f"??/*/{MANIFEST}")):
            if TEMP_MARKER in manifest.parent.name:
                continue
            files = [p for p in manifest.parent.rglob("*") if p.is_file()]
            found.append(CacheEntry(manifest.parent.name, _stage_of(manifest), sum(p.stat().st_size for p in files),
                                    manifest.stat().st_mtime, manifest.parent))
        return found

    def scratch_folders(self) -> list[Path]:
        """Leftovers of builds killed mid-stage (SIGKILL, power loss); never read as entries."""
        return sorted(p for p in self.root.glob(f"??/*{TEMP_MARKER}*") if p.is_dir())

    @staticmethod
    def _write_manifest(folder: Path, stage: str) -> None:
        hashes = {p.relative_to(folder).as_posix(): file_sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}
        (folder / MANIFEST).write_text(json.dumps({"stage": stage, "files": hashes}, sort_keys=True, indent=1))

    @staticmethod
    def _intact(entry: Path) -> bool:
        try:
            hashes = json.loads((entry / MANIFEST).read_text())["files"]
            return all(file_sha256(entry / name) == digest for name, digest in hashes.items())
        except (OSError, ValueError, KeyError, TypeError):
            return False


class InputsIndex:
    """The inputs each stage of each recipe was last built from, so `plan` can say what changed."""

    def __init__(self, root: Path):
        self.folder = Path(root) / "index"

    def record(self, scope: str, inputs: dict) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(scope)
        temp = path.with_name(f"{path.name}{TEMP_MARKER}{uuid.uuid4().hex[:8]}")
        temp.write_text(json.dumps(inputs, sort_keys=True, default=str))
        os.replace(temp, path)

    def last(self, scope: str) -> dict | None:
        try:
            return json.loads(self._path(scope).read_text())
        except (OSError, ValueError):
            return None

    def _path(self, scope: str) -> Path:
        return self.folder / f"{hashlib.sha256(scope.encode()).hexdigest()[:24]}.json"


def changed_fields(before: dict, after: dict, prefix: str = "") -> list[str]:
    """Dotted paths whose values differ, e.g. ['config.representative_samples']."""
    changed = []
    for name in sorted(set(before) | set(after)):
        path = f"{prefix}{name}"
        old, new = before.get(name), after.get(name)
        if isinstance(old, dict) and isinstance(new, dict):
            changed += changed_fields(old, new, f"{path}.")
        elif old != new:
            changed.append(path)
    return changed
