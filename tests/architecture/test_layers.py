"""The installed package's imports point only down the layers, and no module imports itself back.

Read from the package as installed (`edgebuild.*`), every import counted: top-level and inside
functions (stages import TensorFlow-heavy code lazily, and a lazy import is still a dependency).
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

# Lowest first. Within the stage layer the pipeline's order holds too: the runner (standalone, it is
# copied to boards) < training < conversion.
LAYERS = (
    ("base", ("edgebuild", "edgebuild.base")),
    ("config", ("edgebuild.config", "edgebuild.device_profiles", "edgebuild.recipes")),
    ("stages: runner", ("edgebuild.on_device_bench",)),
    ("stages: training", ("edgebuild.toolchain",)),
    ("stages: conversion", ("edgebuild.converters",)),
    ("gate", ("edgebuild.verify",)),
    ("app", ("edgebuild.app",)),
    ("cli", ("edgebuild.commands", "edgebuild.cli", "edgebuild.__main__")),
)
PACKAGES = ("edgebuild", "edgebuild.base", "edgebuild.config", "edgebuild.app", "edgebuild.commands",
            "edgebuild.toolchain", "edgebuild.converters", "edgebuild.verify", "edgebuild.on_device_bench")


def installed_modules() -> dict[str, Path]:
    """Every module of the installed package, by name, with its source file."""
    found = {}
    for package in PACKAGES:
        spec = importlib.util.find_spec(package)
        for folder in spec.submodule_search_locations:
            for source in Path(folder).rglob("*.py"):
                parts = source.relative_to(folder).with_suffix("").parts
                name = ".".join((package, *parts)).removesuffix(".__init__")
                if importlib.util.find_spec(name) is not None:  # a folder the package maps elsewhere is not it
                    found[name] = source
    return found


def imports_of(name: str, source: Path, modules: dict[str, Path]) -> set[str]:
    tree = ast.parse(source.read_text())
    package = name if source.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], *([node.module] if node.module else [])])
            found |= {base, *(f"{base}.{alias.name}" for alias in node.names)}
    return {module for module in found if module in modules and module != name}


def layer_of(name: str) -> int:
    matches = [(len(prefix), index) for index, (_, prefixes) in enumerate(LAYERS) for prefix in prefixes
               if name == prefix or name.startswith(prefix + ".")]
    assert matches, f"{name} belongs to no layer: add it to LAYERS and ARCHITECTURE.md"
    return max(matches)[1]  # the longest prefix: edgebuild.base.x is base, edgebuild.app.x is app


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = installed_modules()
    return {name: imports_of(name, source, modules) for name, source in modules.items()}


def test_the_installed_package_has_every_layer(graph):
    assert len(graph) > 60
    assert {LAYERS[layer_of(name)][0] for name in graph} == {name for name, _ in LAYERS}


def test_every_import_points_down_or_sideways(graph):
    upward = sorted(f"{module} ({LAYERS[layer_of(module)][0]}) imports {imported} ({LAYERS[layer_of(imported)][0]})"
                    for module, imported_modules in graph.items() for imported in imported_modules
                    if layer_of(imported) > layer_of(module))
    assert not upward, "\n".join(upward)


def test_the_runner_imports_nothing_outside_itself(graph):
    # It is copied to a board and run there with only the standard library and NumPy.
    outside = sorted(f"{module} imports {imported}" for module, imported_modules in graph.items()
                     if module.startswith("edgebuild.on_device_bench") for imported in imported_modules
                     if not imported.startswith("edgebuild.on_device_bench"))
    assert not outside, outside


def test_no_module_imports_itself_back(graph):
    cycles = _cycles(graph)
    assert not cycles, " | ".join(" → ".join(cycle) for cycle in cycles)


def test_a_layer_check_catches_an_upward_import():
    # The check above is only worth something if it fails: a gate module importing the app must be caught.
    assert layer_of("edgebuild.app.build") > layer_of("edgebuild.verify.gate")
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                ordered = sorted(component)
                found.append([*ordered, ordered[0]])

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_only_run_cached_takes_a_cache_lock_or_writes_an_entry():
    # The store's own module defines locked/produce; base/stage.py's run_cached is their one caller.
    modules = installed_modules()
    callers = sorted(name for name, source in modules.items()
                     if name not in ("edgebuild.base.cache", "edgebuild.base.stage")
                     for call in _attribute_calls(source) if call in ("locked", "produce"))
    assert not callers, callers


def _attribute_calls(source: Path) -> set[str]:
    return {node.func.attr for node in ast.walk(ast.parse(source.read_text()))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)}
