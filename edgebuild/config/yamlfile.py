"""Strict YAML loading: safe tags only, duplicate keys refused, line numbers kept for errors."""

from __future__ import annotations

import difflib
import hashlib
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from edgebuild.base.cache import cache_key
from edgebuild.base.errors import BadInput

Model = TypeVar("Model", bound=BaseModel)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that records where each mapping key stands and refuses duplicate keys.

    PyYAML keeps the last of two equal keys silently (yaml/pyyaml#165); a hand-edited
    profile with two `size_bytes` lines must not pass with the wrong one.
    """


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):  # `? {a: 1}`: YAML allows it, a config never needs it
            raise yaml.MarkedYAMLError(problem="a key must be a plain name, not a list or mapping",
                                       problem_mark=key_node.start_mark)
        key = loader.construct_object(key_node, deep=deep)
        if key in mapping:
            raise yaml.MarkedYAMLError(
                problem=f"duplicate key {key!r} (first defined above)", problem_mark=key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=deep)
        loader.key_lines[id(mapping), key] = key_node.start_mark.line + 1
    return mapping


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class YamlDocument:
    """A parsed YAML mapping plus the line of every key, to point errors at the right line."""

    def __init__(self, path: Path, data: dict, key_lines: dict):
        self.path = path
        self.data = data
        self._key_lines = key_lines

    def line_of(self, location: tuple) -> int | None:
        node: Any = self.data
        line = None
        for part in location:
            if isinstance(node, dict) and part in node:
                line = self._key_lines.get((id(node), part), line)
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                node = node[part]
            else:
                break
        return line


def read_yaml(path: Path) -> YamlDocument:
    """Parse one YAML file into a mapping, or raise BadInput naming file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput(f"{path}: cannot read: {error.__class__.__name__}: {error}") from None
    try:
        data, key_lines = _parsed(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise BadInput(f"{where}: invalid YAML: {error.problem}") from None
    except yaml.YAMLError as error:  # a character YAML forbids (NUL, ...): its first line says which
        raise BadInput(f"{path}: invalid YAML: {str(error).splitlines()[0]}") from None
    if data is None:
        raise BadInput(f"{path}: empty file: expected a YAML mapping")
    if not isinstance(data, dict):
        raise BadInput(f"{path}: expected a YAML mapping at the top level, got {type(data).__name__}")
    return YamlDocument(path, data, key_lines)


def _parsed(text: str) -> tuple[Any, dict]:
    """The document and the line of every key; the reader checks the characters as it is made."""
    loader = _StrictLoader(text)
    loader.key_lines = {}
    try:
        return loader.get_single_data(), loader.key_lines
    finally:
        loader.dispose()


def validate(document: YamlDocument, model: type[Model]) -> Model:
    """Validate a document against a config model; the first error becomes one actionable line."""
    try:
        return model.model_validate(document.data)
    except ValidationError as error:
        raise BadInput(format_validation_error(error, model, document)) from None


def format_validation_error(error: ValidationError, model: type[BaseModel], document: YamlDocument | None) -> str:
    errors = error.errors()
    # A misspelt key also leaves its field missing; the unknown key is the one to name ("did you mean").
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    location = tuple(first["loc"])
    field = ".".join(str(part) for part in location) or "(top level)"
    line = document.line_of(location) if document else None
    where = f"{document.path}:{line}" if document and line else (str(document.path) if document else "config")
    if first["type"] == "extra_forbidden":
        suggestion = _did_you_mean(location, model, document.data if document else None)
        return f"{where}: {field}: unknown key{suggestion}"
    if first["type"] == "missing":
        return f"{where}: {field}: required field is missing"
    got, expected = first.get("input"), _expected(first)
    said = isinstance(got, (dict, list)) or f"got {got!r}" in expected  # validators may name the value themselves
    return f"{where}: {field}: {expected}{'' if said else f', got {got!r}'}"


def _expected(error: dict) -> str:
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if message.startswith("Input should be "):  # pydantic's "Input should be greater than 0"
        return "expected " + message.removeprefix("Input should be ")
    return "expected to " + message.removeprefix("Input should ") if message.startswith("Input should ") else message


def _did_you_mean(location: tuple, model: type[BaseModel], data: Any) -> str:
    known = _known_keys(location[:-1], model, data)
    close = difflib.get_close_matches(str(location[-1]), known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{hint}; expected one of: {', '.join(sorted(known))}" if known else hint


def _known_keys(parent: tuple, model: type[BaseModel], data: Any) -> list[str]:
    """The keys the model expects at `parent`; `data` (the document) picks a field's model among a
    union's, and a model with `schema_for(value)` (a registry's entries) names the schema it validates as."""
    current: Any = _refined(model, data)
    for part in parent:
        data = data[part] if isinstance(data, (dict, list)) and _has(data, part) else None
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", {})
        if part not in fields:
            return []
        current = _refined(_inner_model(fields[part].annotation, data), data)
    return list(getattr(current, "model_fields", {}))


def _has(data: dict | list, part: Any) -> bool:
    return part in data if isinstance(data, dict) else isinstance(part, int) and part < len(data)


def _refined(model: Any, value: Any) -> Any:
    schema_for = getattr(model, "schema_for", None)
    return schema_for(value) if schema_for is not None and isinstance(value, dict) else model


def _inner_model(annotation: Any, value: Any) -> Any:
    """The model a field's annotation validates `value` as: of a union's models, the one that knows
    the most of its keys."""
    models = list(_models_in(annotation))
    if len(models) > 1 and isinstance(value, dict):
        return max(models, key=lambda candidate: len(set(value) & set(candidate.model_fields)))
    return models[0] if models else None


def _models_in(annotation: Any):
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for argument in getattr(annotation, "__args__", ()):
        yield from _models_in(argument)


def sha256_without_entry(raw: bytes, keys: tuple[str, ...]) -> str:
    """The sha256 of a YAML file's bytes with the lines of the mapping entry at `keys` (say
    `("convert", "search")`) cut out, each parent the cut empties with it: the file as its author
    would have written it without the entry. A file without the entry hashes as itself. An entry
    that shares its lines with other keys (`convert: {precisions: [int8], search: {…}}`) cannot be
    cut out cleanly: then the parsed document without it is hashed (canonical JSON)."""
    data = yaml.safe_load(raw)
    kept = _without_entry(data, keys)
    if kept is data:
        return hashlib.sha256(raw).hexdigest()
    cut = _text_without_entry(raw.decode("utf-8"), keys, kept)
    return hashlib.sha256(cut.encode("utf-8")).hexdigest() if cut is not None else cache_key(kept)


def _without_entry(data: Any, keys: tuple[str, ...]) -> Any:
    """A copy of `data` without the entry at `keys`, each parent emptied by it dropped too; `data`
    itself when it has no such entry."""
    head, *rest = keys
    if not isinstance(data, dict) or head not in data:
        return data
    inner = _without_entry(data[head], tuple(rest)) if rest else {}
    if inner is data[head]:
        return data
    return {**data, head: inner} if inner else {key: value for key, value in data.items() if key != head}


def _text_without_entry(text: str, keys: tuple[str, ...], expected: Any) -> str | None:
    """`text` with the entry's lines cut, or None when the cut text does not parse to `expected`."""
    entries: list[tuple[yaml.Node, yaml.Node]] = []  # (key, value) down `keys`
    mapping = yaml.compose(text, Loader=yaml.SafeLoader)
    for key in keys:
        entries.append(next((k, v) for k, v in mapping.value if isinstance(k, yaml.ScalarNode) and k.value == key))
        mapping = entries[-1][1]
    depth = len(entries) - 1
    while depth > 0 and len(entries[depth - 1][1].value) == 1:  # its parent's only entry: cut the parent
        depth -= 1
    key_node, value_node = entries[depth]
    lines = text.splitlines(keepends=True)
    cut = "".join(lines[: key_node.start_mark.line] + lines[_last_line(value_node) + 1:])
    try:
        return cut if yaml.safe_load(cut) == expected else None
    except yaml.YAMLError:
        return None


def _last_line(node: yaml.Node) -> int:
    """The last line (0-based) holding `node`'s text: a block collection's end mark runs on to the
    next token, past any comment or blank line after it, so its last item decides."""
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and not node.flow_style and node.value:
        last = node.value[-1]
        return _last_line(last[1] if isinstance(node, yaml.MappingNode) else last)
    end = node.end_mark  # a block scalar (`|`) ends at the start of the line after its text
    return end.line - 1 if end.column == 0 and end.line > node.start_mark.line else end.line
