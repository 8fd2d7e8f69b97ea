"""A stage's code version, derived from the import graph instead of a hand-kept list of files.

The hash covers each root module and every edgebuild module it imports, transitively, at any
depth (imports inside functions included, since a stage imports TensorFlow-heavy code lazily).
It hashes each module's syntax tree, not its text: a change to comments or blank lines keeps
every entry, a change to code or a docstring reruns the stages whose code it is.

Parsing the ~60 modules a build reaches takes 0.3 s, most of a rebuild that has nothing to do, so
each module's facts (what it imports, its tree's digest) are remembered by the sha256 of its
source in a file beside the stage cache: an edit is a new sha256, so a remembered fact is never stale.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import json
from pathlib import Path

from edgebuild.base.files import write_atomically

PROJECT_PACKAGE = "edgebuild"
FACTS_FILE = "code-facts.json"


class CodeHasher:
    """Code hashes of modules, with their facts remembered in `facts_file` (None: in memory only)."""

    def __init__(self, facts_file: Path | None = None):
        self._facts_file = facts_file
        self._known: dict[str, list] = _read_facts(facts_file)
        self._learned = False

    def code_hash(self, *roots: str) -> str:
        """16 hex digits over the syntax trees of `roots` and every project module they reach."""
        digest = hashlib.sha256()
        for name in sorted(self.closure(roots)):
            digest.update(f"{name}\0{self._facts(name)[1]}\0".encode())
        self._remember()
        return digest.hexdigest()[:16]

    def closure(self, roots: tuple[str, ...] | list[str]) -> set[str]:
        """The modules `roots` import, transitively, restricted to the project's own package."""
        seen: set[str] = set()
        pending = list(roots)
        while pending:
            name = pending.pop()
            if name not in seen:
                seen.add(name)
                pending.extend(self._facts(name)[0])
        return seen

    def _facts(self, name: str) -> list:
        """[project modules it imports, digest of its syntax tree], by the sha256 of its source."""
        path = _source_path(name)
        if path is None:  # a namespace package: no code of its own
            return [[], ""]
        source = path.read_bytes()
        memo_key = f"{name}:{hashlib.sha256(source).hexdigest()}"
        if memo_key not in self._known:
            tree = ast.parse(source)
            dumped = ast.dump(tree, annotate_fields=False).encode()
            self._known[memo_key] = [_imports(name, tree), hashlib.sha256(dumped).hexdigest()]
            self._learned = True
        return self._known[memo_key]

    def _remember(self) -> None:
        if self._learned and self._facts_file is not None:
            write_atomically(self._facts_file, json.dumps(self._known, sort_keys=True).encode())
            self._learned = False


def _read_facts(facts_file: Path | None) -> dict[str, list]:
    try:
        known = json.loads(facts_file.read_text()) if facts_file is not None else {}
    except (OSError, ValueError):
        return {}
    return known if isinstance(known, dict) else {}


def _imports(name: str, tree: ast.Module) -> list[str]:
    """The project modules that module `name` imports anywhere in its source."""
    package = name if _is_package(name) else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            found.add(base)
            # `from package import module` imports a module; `from module import name` does not.
            if _is_project(base) and _exists(base) and _is_package(base):
                found.update(f"{base}.{alias.name}" for alias in node.names)
    # Only project names are looked up (finding `tensorflow.keras` would import TensorFlow), and only
    # in packages: finding `module.name` imports `module`, and with it whatever it imports.
    return sorted(module for module in found if _is_project(module) and _exists(module))


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = ".".join(parts[: len(parts) - node.level + 1])
    return f"{base}.{node.module}" if node.module else base


def _is_project(name: str) -> bool:
    return name == PROJECT_PACKAGE or name.startswith(f"{PROJECT_PACKAGE}.")


@functools.cache
def _exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


@functools.cache
def _source_path(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    return Path(spec.origin) if spec is not None and spec.origin not in (None, "namespace") else None


def _is_package(name: str) -> bool:
    spec = importlib.util.find_spec(name)
    return spec is not None and spec.submodule_search_locations is not None
