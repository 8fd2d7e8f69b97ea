"""The content-addressed cache store, like DVC's run-cache; only `edgebuild.base.stage.run_cached` writes it.

An entry is `root/<key[:2]>/<key>/`: the stage's files plus `manifest.json` (sha256 of every file).
An entry is built in a scratch folder beside it and renamed into place, so readers see all or
nothing; a per-key file lock keeps two builds from computing the same stage twice; an entry whose
files do not match its manifest is deleted and counts as a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

from edgebuild.base.code import FACTS_FILE, CodeHasher
from edgebuild.base.errors import writing
from edgebuild.base.files import canonical_json, write_atomically

MANIFEST = "manifest.json"
TEMP_MARKER = ".tmp-"
INDEX_FOLDER = "index"


def default_cache_root() -> Path:
    from platformdirs import user_cache_dir

    return Path(os.environ.get("EDGEBUILD_CACHE") or user_cache_dir("edgebuild"))


def cache_key(parts: dict[str, Any]) -> str:
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


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


class StageCache:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.index = InputsIndex(self.root)
        self.code = CodeHasher(self.index.folder / FACTS_FILE)

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
        (folder / MANIFEST).write_bytes(canonical_json({"stage": stage, "files": hashes}))

    @staticmethod
    def _intact(entry: Path) -> bool:
        try:
            hashes = json.loads((entry / MANIFEST).read_text())["files"]
            return all(file_sha256(entry / name) == digest for name, digest in hashes.items())
        except (OSError, ValueError, KeyError, TypeError):
            return False


def _stage_of(manifest: Path) -> str:
    try:
        return json.loads(manifest.read_text()).get("stage", "?")
    except (OSError, ValueError):
        return "?"


class InputsIndex:
    """The inputs each stage of each recipe was last built from, so `plan` can say what changed."""

    def __init__(self, root: Path):
        self.folder = Path(root) / INDEX_FOLDER

    def record(self, scope: str, inputs: dict[str, Any]) -> None:
        write_atomically(self._path(scope), canonical_json(inputs))

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """Every scope's last inputs as they stand now, keyed like `last`: `plan` reads what was built
        before it computed anything itself."""
        found = {}
        for path in self.folder.glob("*.json"):
            try:
                found[path.stem] = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
        return found

    def last_in(self, snapshot: dict[str, dict[str, Any]], scope: str) -> dict[str, Any] | None:
        return snapshot.get(self._path(scope).stem)

    def _path(self, scope: str) -> Path:
        return self.folder / f"{hashlib.sha256(scope.encode()).hexdigest()[:24]}.json"


def changed_fields(before: dict[str, Any], after: dict[str, Any], prefix: str = "") -> list[str]:
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
