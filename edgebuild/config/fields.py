"""Every field of a recipe or a profile, with its type, default and description, read from the schemas
themselves (each field's docstring): the reference `edgebuild recipes fields` / `profiles fields` print,
so it cannot drift from what the loader accepts."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from edgebuild.config.students import STUDENTS, StudentConfig, candidate_schema


@dataclass(frozen=True)
class FieldRow:
    path: str  # dotted, `[]` for each entry of a list: `student.blocks[].channels`
    type: str
    default: str  # "" when the field is required
    description: str


def field_rows(model: type[BaseModel], prefix: str = "") -> list[FieldRow]:
    """The model's fields, each followed by the fields of the sections it holds; a path two sections share
    (a student's and a ladder's `student.architecture`) is one row saying both."""
    rows: list[FieldRow] = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        default = "" if info.default is PydanticUndefined else _value(info.default)
        rows.append(FieldRow(path, _type_name(info.annotation), default, " ".join((info.description or "").split())))
        for section, is_list in _sections(info.annotation):
            rows += _section_rows(section, f"{path}[]." if is_list else f"{path}.", is_list)
    return _merged(rows)


def _section_rows(section: type[BaseModel], prefix: str, is_list: bool) -> list[FieldRow]:
    """A student section is each registered student's schema (a ladder's candidates add a `name`); a field
    only some students have names them."""
    if section is not StudentConfig:
        return field_rows(section, prefix)
    schema_of = candidate_schema if is_list else (lambda schema: schema)
    schemas = {name: field_rows(schema_of(STUDENTS.get(name).config), prefix) for name in STUDENTS.names()}
    having: dict[str, list[str]] = {}
    for name, rows in schemas.items():
        for row in rows:
            having.setdefault(row.path, []).append(name)
    return _merged([row if len(having[row.path]) == len(schemas) else
                    FieldRow(row.path, row.type, row.default, f"{row.description} ({', '.join(having[row.path])})")
                    for rows in schemas.values() for row in rows])


def _merged(rows: list[FieldRow]) -> list[FieldRow]:
    merged: dict[str, FieldRow] = {}
    for row in rows:
        seen = merged.get(row.path)
        merged[row.path] = row if seen is None else FieldRow(
            row.path, " | ".join(dict.fromkeys((*seen.type.split(" | "), *row.type.split(" | ")))),
            seen.default if seen.default == row.default else f"{seen.default} / {row.default}".strip(" /"),
            seen.description if row.description in seen.description else f"{seen.description} / {row.description}")
    return list(merged.values())


def _sections(annotation: Any, is_list: bool = False) -> list[tuple[type[BaseModel], bool]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(annotation, is_list)]
    origin = typing.get_origin(annotation)
    inside_list = is_list or origin in (tuple, list)
    return [section for argument in typing.get_args(annotation) for section in _sections(argument, inside_list)]


def _type_name(annotation: Any) -> str:
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return " | ".join(repr(value) for value in arguments)
    if origin is typing.Annotated:
        return _type_name(arguments[0])
    if origin in (typing.Union, types.UnionType):
        return " | ".join("null" if argument is type(None) else _type_name(argument) for argument in arguments)
    if origin in (tuple, list):
        items = [argument for argument in arguments if argument is not Ellipsis]
        if Ellipsis in arguments or len(set(map(str, items))) == 1 and len(items) > 2:
            return f"list of {_type_name(items[0])}"
        return f"[{', '.join(_type_name(item) for item in items)}]"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "section"
    return {int: "integer", float: "number", str: "string", bool: "boolean"}.get(annotation, str(annotation))


def _value(default: Any) -> str:
    if isinstance(default, BaseModel):
        return "(its defaults)"
    if isinstance(default, tuple):
        return "[" + ", ".join(map(str, default)) + "]"
    return "null" if default is None else str(default)
