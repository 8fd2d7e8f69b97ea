"""One registry per kind of plug-in (students, precisions, transports), like timm's register_model.

An entry registers itself by name; an unknown name is one BadInput listing what exists. Entries
that live in a higher layer (students are Keras code in toolchain/) are found by importing the
package named in `entries_from`, once, on first use: a plug-in point, so that a layer which
validates names (config) never imports the code behind them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Generic, TypeVar

from edgebuild.base.errors import BadInput

Entry = TypeVar("Entry")


class Registry(Generic[Entry]):
    def __init__(self, kind: str, entries_from: str | None = None):
        self.kind = kind
        self._entries: dict[str, Entry] = {}
        self._entries_from = entries_from

    def add(self, name: str, entry: Entry) -> Entry:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = entry
        return entry

    def register(self, name: str) -> Callable[[Entry], Entry]:
        """A decorator: `@REGISTRY.register("name")`."""
        return lambda entry: self.add(name, entry)

    def names(self) -> list[str]:
        self._discover()
        return sorted(self._entries)

    def names_in_order(self) -> list[str]:
        """In the order they were registered."""
        self._discover()
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        self._discover()
        return name in self._entries

    def get(self, name: str) -> Entry:
        self._discover()
        if name not in self._entries:
            raise BadInput(f"unknown {self.kind} {name!r}: expected one of {', '.join(self.names())}")
        return self._entries[name]

    def _discover(self) -> None:
        if self._entries_from is not None:
            entries_from, self._entries_from = self._entries_from, None
            importlib.import_module(entries_from)
