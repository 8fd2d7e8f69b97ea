"""Seeded random mutations of a YAML config: keys dropped, renamed, retyped, nested, duplicated,
huge numbers, unicode, and damaged text. Each mutant is YAML text plus what was done to it."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import yaml

ODD_VALUES: tuple[Any, ...] = (
    None, True, False, 0, -1, -(10 ** 30), 10 ** 30, 10 ** 400, 1e308, -1e308, float("inf"), float("nan"), 0.5,
    "", "text", "ünïcødé ✓ 🚀", "\u202etxt", "ℌ" * 300, "../../etc", [], [1, 2, 3], {}, {"a": 1}, [[[[]]]],
    "1e999", "0x10", "-", "~",
)
ODD_KEYS = ("", "ключ", "🚀", "a" * 500, "1", "true", "null", "x.y", "__class__", "model_config")


def mutants(document: dict, seed: int, count: int) -> list[tuple[str, str]]:
    """`count` (description, YAML text) pairs, the same for the same seed."""
    chance = random.Random(seed)
    return [_mutant(document, chance) for _ in range(count)]


def _mutant(document: dict, chance: random.Random) -> tuple[str, str]:
    data = yaml.safe_load(yaml.safe_dump(document))  # a deep copy
    done = []
    for _ in range(chance.choice((1, 1, 2, 3))):
        operation = chance.choice(DATA_OPERATIONS)
        done.append(operation(data, chance))
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    if chance.random() < 0.3:
        operation = chance.choice(TEXT_OPERATIONS)
        text, what = operation(text, chance)
        done.append(what)
    return "; ".join(done), text


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside the document (dict keys and list indexes)."""
    found = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        found.append(prefix + (key,))
        found += _paths(value, prefix + (key,))
    return found


def _parent(data: Any, path: tuple) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


def _pick(data: dict, chance: random.Random) -> tuple[Any, Any] | None:
    paths = _paths(data)
    if not paths:
        return None
    path = chance.choice(paths)
    return _parent(data, path), path[-1]


def _drop(data: dict, chance: random.Random) -> str:
    picked = _pick(data, chance)
    if picked is None:
        return "nothing to drop"
    parent, key = picked
    del parent[key]
    return f"dropped {key!r}"


def _rename(data: dict, chance: random.Random) -> str:
    picked = _pick(data, chance)
    if picked is None or not isinstance(picked[0], dict):
        return "nothing to rename"
    parent, key = picked
    new = chance.choice((str(key) + "s", str(key)[:-1], str(key).upper(), chance.choice(ODD_KEYS)))
    parent[new] = parent.pop(key)
    return f"renamed {key!r} to {new!r}"


def _replaced(data: dict, chance: random.Random, new_value: Callable[[Any, Any], Any], verb: str) -> str:
    """One value, chosen at random, replaced by `new_value(value, key)`."""
    picked = _pick(data, chance)
    if picked is None:
        return f"nothing {verb}"
    parent, key = picked
    parent[key] = new_value(parent[key], key)
    return f"{verb} {key!r}: {parent[key]!r:.40}"


def _retype(data: dict, chance: random.Random) -> str:
    return _replaced(data, chance, lambda value, key: chance.choice(ODD_VALUES), "retyped")


def _nest(data: dict, chance: random.Random) -> str:
    return _replaced(data, chance, lambda value, key: chance.choice(({"value": value}, [value], {key: value})),
                     "nested")


def _scale(data: dict, chance: random.Random) -> str:
    numbers = [path for path in _paths(data) if type(_parent(data, path)[path[-1]]) in (int, float)]
    if not numbers:
        return "no number to scale"
    path = chance.choice(numbers)
    parent = _parent(data, path)
    parent[path[-1]] = parent[path[-1]] * chance.choice((10 ** 9, 10 ** 20, -1, 0, 1e-30))
    return f"scaled {path[-1]!r} to {parent[path[-1]]!r}"


def _add_unknown(data: dict, chance: random.Random) -> str:
    mappings = [data] + [_parent(data, p)[p[-1]] for p in _paths(data) if isinstance(_parent(data, p)[p[-1]], dict)]
    target = chance.choice(mappings)
    key = chance.choice(ODD_KEYS)
    target[key] = chance.choice(ODD_VALUES)
    return f"added key {key!r:.40}"


DATA_OPERATIONS = (_drop, _rename, _retype, _nest, _scale, _add_unknown)


def _duplicate_line(text: str, chance: random.Random) -> tuple[str, str]:
    lines = text.splitlines(keepends=True)
    at = chance.randrange(len(lines))
    return "".join(lines[:at + 1] + [lines[at]] + lines[at + 1:]), f"duplicated line {at + 1}"


def _truncate(text: str, chance: random.Random) -> tuple[str, str]:
    at = chance.randrange(len(text) + 1)
    return text[:at], f"truncated at {at}"


def _insert(text: str, chance: random.Random) -> tuple[str, str]:
    at = chance.randrange(len(text) + 1)
    piece = chance.choice(("\t", ": :", "- ", "{", "]", "&a *a", "!!python/object:os.system", "\x00", "\ufeff",
                           "\ud7ff", "é", "\n  deeper: 1\n", "<<: *x", "? ", "%YAML 1.1\n", "---\n"))
    return text[:at] + piece + text[at:], f"inserted {piece!r} at {at}"


TEXT_OPERATIONS = (_duplicate_line, _truncate, _insert)
