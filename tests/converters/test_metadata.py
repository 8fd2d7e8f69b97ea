from __future__ import annotations

import json

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

from edgebuild.converters.metadata import (
    EDGEBUILD_METADATA_NAME,
    add_json_metadata,
    add_metadata,
    read_json_metadata,
    read_metadata,
)
from edgebuild.base.errors import BadInput

DOCUMENT = {"labels": ["cat", "dog", "émeu"], "input": {"shape": [1, 8, 8, 1]}, "seed": 7}


def _image() -> np.ndarray:
    return np.linspace(-1, 1, 64, dtype=np.float32).reshape(1, 8, 8, 1)


def test_entries_round_trip_and_existing_metadata_is_kept(float32_cnn):
    original = float32_cnn.model_bytes
    entries = {"labels.txt": b"cat\ndog\n", "blob": bytes(range(256)) * 3}

    annotated = read_metadata(add_metadata(original, entries))

    assert annotated == {**read_metadata(original), **entries}
    assert {"min_runtime_version", "CONVERSION_METADATA"} <= set(annotated)


def test_annotated_model_runs_with_identical_outputs(float32_cnn, run_tflite):
    original = float32_cnn.model_bytes
    annotated = add_json_metadata(add_metadata(original, {"odd": b"12345"}), DOCUMENT)

    np.testing.assert_array_equal(run_tflite(annotated, [_image()])[0], run_tflite(original, [_image()])[0])


def test_weight_data_stays_4_byte_aligned(float32_cnn):
    """An odd-length entry must not shift float weights off a 4-byte boundary."""
    annotated = add_metadata(float32_cnn.model_bytes, {"odd": b"12345"})
    model = schema.Model.GetRootAs(annotated, 0)
    starts = [
        model.Buffers(i)._tab.Vector(model.Buffers(i)._tab.Offset(4))
        for i in range(model.BuffersLength())
        if model.Buffers(i).DataLength()
    ]
    assert starts and all(start % 4 == 0 for start in starts)


def test_adding_is_deterministic_and_idempotent(float32_cnn):
    once = add_json_metadata(float32_cnn.model_bytes, DOCUMENT)

    assert add_json_metadata(float32_cnn.model_bytes, DOCUMENT) == once
    assert add_json_metadata(once, DOCUMENT) == once
    assert add_metadata(once, read_metadata(once)) == once


def test_replacing_an_entry_keeps_one_entry(float32_cnn):
    first = add_json_metadata(float32_cnn.model_bytes, {"version": 1})
    second = add_json_metadata(first, {"version": 2})

    assert read_json_metadata(second) == {"version": 2}
    model = schema.Model.GetRootAs(second, 0)
    names = [model.Metadata(i).Name() for i in range(model.MetadataLength())]
    assert names.count(EDGEBUILD_METADATA_NAME.encode()) == 1
    assert len(second) == len(first)


def test_json_entry_read_with_generated_accessors(float32_cnn):
    annotated = add_json_metadata(float32_cnn.model_bytes, DOCUMENT)
    model = schema.Model.GetRootAs(annotated, 0)
    entries = [model.Metadata(i) for i in range(model.MetadataLength())]
    by_name = {entry.Name().decode(): entry.Buffer() for entry in entries}

    stored = model.Buffers(by_name[EDGEBUILD_METADATA_NAME]).DataAsNumpy().tobytes()

    assert stored == json.dumps(DOCUMENT, sort_keys=True, separators=(",", ":")).encode()
    assert json.loads(stored) == DOCUMENT
    assert read_json_metadata(annotated) == DOCUMENT


def test_third_party_model_has_no_edgebuild_document(float32_cnn):
    assert read_json_metadata(float32_cnn.model_bytes) is None


def test_entry_that_is_not_json_is_bad_input(float32_cnn):
    broken = add_metadata(float32_cnn.model_bytes, {EDGEBUILD_METADATA_NAME: b"{not json"})

    with pytest.raises(BadInput, match="not valid JSON"):
        read_json_metadata(broken)


def test_garbage_model_is_bad_input():
    with pytest.raises(BadInput, match="not a usable TFLite model"):
        add_json_metadata(b"\x00" * 64, DOCUMENT)


def test_data_after_the_flatbuffer_moves_with_it(float32_cnn, with_external_buffers, run_tflite):
    """Models over 2 GB keep weights after the flatbuffer; adding metadata must keep their offsets right."""
    external = with_external_buffers(float32_cnn.model_bytes)

    annotated = add_json_metadata(external, DOCUMENT)

    assert read_json_metadata(annotated) == DOCUMENT
    assert add_json_metadata(annotated, DOCUMENT) == annotated
    np.testing.assert_array_equal(run_tflite(annotated, [_image()])[0], run_tflite(external, [_image()])[0])


def test_bit_flipped_models_get_metadata_or_raise_bad_input(float32_cnn):
    """Adding metadata unpacks fields read_model skips (op options, signatures): same guarantee."""
    model_bytes = float32_cnn.model_bytes
    rng = np.random.default_rng(11)
    for _ in range(200):
        flipped = bytearray(model_bytes)
        flipped[rng.integers(len(flipped))] ^= 1 << int(rng.integers(8))
        try:
            annotated = add_json_metadata(bytes(flipped), DOCUMENT)
        except BadInput:
            continue
        assert read_json_metadata(annotated) == DOCUMENT
