"""edgebuild's own facts (recipe, profile, hashes) stored inside the .tflite as Model.metadata."""

from __future__ import annotations

import json
from collections.abc import Sequence

from ai_edge_litert import schema_py_generated as schema

from edgebuild.base.errors import BadInput
from edgebuild.base.tfenv import CHECKING_TOOLS
from edgebuild.converters.flatbuffer import FIRST_EXTERNAL_OFFSET, pack_model, read_model, unpack_model

EDGEBUILD_METADATA_NAME = "edgebuild"
# Trailing data moves by a multiple of this, so whatever alignment it had, it keeps.
_EXTERNAL_DATA_ALIGNMENT_BYTES = 64


def add_metadata(model_bytes: bytes, entries: dict[str, bytes]) -> bytes:
    """The model with each named metadata entry added or replaced; everything else kept.

    Deterministic: the same model and entries give the same bytes, and adding entries a file
    already holds gives that file back unchanged.
    """
    model = unpack_model(model_bytes)
    model.metadata = model.metadata or []
    model.buffers = model.buffers or []
    for name in sorted(entries):
        _set_entry(model, name, bytes(entries[name]))
    return _pack_with_external_data(model, model_bytes)


def with_metadata(model_bytes: bytes, labels: Sequence[str], input_shape: Sequence[int], normalization: dict,
                  provenance: dict) -> bytes:
    """Labels, layout, normalization and provenance inside the file, so an app can read how to feed it.

    Provenance holds names, hashes and versions only: no paths and no clock, so two builds of the
    same inputs stay byte-identical.
    """
    document = {"labels": list(labels),
                "input": {"layout": "NHWC", "shape": [1, *input_shape], "normalization": normalization},
                "provenance": provenance}
    return add_json_metadata(model_bytes, document)


def provenance(source_kind: str, name: str, target, seed: int, inputs: dict, versions: dict) -> dict:
    """What made an artifact: the recipe (or model), the target (a config.targets.Target), the input
    hashes and the versions of the tools that wrote its bytes; `edgebuild fit` predicts the entry's
    size from the same fields."""
    writers = {tool: version for tool, version in versions.items() if tool not in CHECKING_TOOLS}
    return {source_kind: name, "profile": target.name, "precision": target.precision, "io_dtype": target.io_dtype,
            "seed": seed, "inputs": inputs, "versions": writers}


def read_metadata(model_bytes: bytes) -> dict[str, bytes]:
    return read_model(model_bytes).metadata


def add_json_metadata(model_bytes: bytes, document: dict) -> bytes:
    encoded = json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return add_metadata(model_bytes, {EDGEBUILD_METADATA_NAME: encoded})


def read_json_metadata(model_bytes: bytes) -> dict | None:
    """edgebuild's JSON document, or None for a model edgebuild did not annotate."""
    encoded = read_metadata(model_bytes).get(EDGEBUILD_METADATA_NAME)
    if encoded is None:
        return None
    try:
        document = json.loads(encoded.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadInput(f"model: the {EDGEBUILD_METADATA_NAME!r} metadata is not valid JSON: {error}") from error
    if not isinstance(document, dict):
        raise BadInput(f"model: the {EDGEBUILD_METADATA_NAME!r} metadata is not a JSON object")
    return document


def _set_entry(model: schema.ModelT, name: str, data: bytes) -> None:
    """Replace the entry where it stands (so re-adding changes nothing), or append a new one."""
    encoded_name = name.encode("utf-8")
    same_name = [entry for entry in model.metadata if entry.name == encoded_name]
    if not same_name:
        model.buffers.append(schema.BufferT(data=data))
        model.metadata.append(schema.MetadataT(name=encoded_name, buffer=len(model.buffers) - 1))
        return
    kept = same_name[0]
    model.metadata = [entry for entry in model.metadata if entry is kept or entry.name != encoded_name]
    if _buffer_is_unshared(model, kept):
        model.buffers[kept.buffer] = schema.BufferT(data=data)
    else:
        model.buffers.append(schema.BufferT(data=data))
        kept.buffer = len(model.buffers) - 1


def _buffer_is_unshared(model: schema.ModelT, owner: schema.MetadataT) -> bool:
    """Only `owner` uses its buffer, so rewriting the buffer touches nothing else.

    Buffer 0 is the empty buffer every tensor without data shares.
    """
    tensors = (tensor for subgraph in model.subgraphs or [] for tensor in subgraph.tensors or [])
    return (
        owner.buffer != 0
        and all(tensor.buffer != owner.buffer for tensor in tensors)
        and all(entry is owner or entry.buffer != owner.buffer for entry in model.metadata)
    )


def _pack_with_external_data(model: schema.ModelT, original: bytes) -> bytes:
    """Pack the model; data kept after the flatbuffer (models over 2 GB) moves with it.

    That trailing data is copied verbatim and every file offset into it shifts by one amount,
    chosen so each offset keeps its alignment.
    """
    references = _file_offset_references(model)
    packed = pack_model(model)
    if not references:
        return packed
    old_start = min(getattr(holder, attribute) for holder, attribute in references)
    new_start = len(packed) + (old_start - len(packed)) % _EXTERNAL_DATA_ALIGNMENT_BYTES
    for holder, attribute in references:
        setattr(holder, attribute, getattr(holder, attribute) + new_start - old_start)
    # The offsets are fixed-width fields, non-zero in both packs, so the length cannot change.
    packed = pack_model(model)
    return packed + bytes(new_start - len(packed)) + original[old_start:]


def _file_offset_references(model: schema.ModelT) -> list[tuple[object, str]]:
    """(object, attribute) pairs holding an absolute file offset past the flatbuffer."""
    references: list[tuple[object, str]] = [
        (buffer, "offset") for buffer in model.buffers if buffer.offset >= FIRST_EXTERNAL_OFFSET
    ]
    for subgraph in model.subgraphs or []:
        references += [
            (operator, "largeCustomOptionsOffset")
            for operator in subgraph.operators or []
            if operator.largeCustomOptionsOffset >= FIRST_EXTERNAL_OFFSET
        ]
    return references
