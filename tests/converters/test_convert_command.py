"""`edgebuild convert` on .keras models a test saved: the artifact, its report and its metadata."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

from cli_runner import CliResult, assert_one_line_error, run_edgebuild
from edgebuild import __version__

OUTPUT = Path("out/digits_cnn/android-flagship")


@dataclass(frozen=True)
class Converted:
    root: Path
    keras_file: Path
    keras_top1: float
    result: CliResult

    @property
    def report(self) -> dict:
        return json.loads((self.root / OUTPUT / "report.json").read_text())

    @property
    def artifact(self) -> bytes:
        return (self.root / OUTPUT / "model.tflite").read_bytes()


@pytest.fixture(scope="module")
def digits():
    from edgebuild.toolchain.data import load_dataset

    return load_dataset("sklearn:digits", (8, 8), validation_fraction=0.1, test_fraction=0.2, seed=0)


@pytest.fixture(scope="module")
def converted(keras, digits, tmp_path_factory) -> Converted:
    """A small CNN trained here, saved as .keras, converted once for android-flagship."""
    root = tmp_path_factory.mktemp("convert")
    model = keras.Sequential([keras.layers.Input((8, 8, 1), name="image"),
                              keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv"),
                              keras.layers.Flatten(name="flat"), keras.layers.Dense(10, name="logits")])
    model.compile(keras.optimizers.Adam(0.01), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(digits.x_train, digits.y_train, epochs=8, batch_size=64, verbose=0)
    keras_top1 = float(np.mean(np.argmax(model.predict(digits.x_test, verbose=0), axis=-1) == digits.y_test))
    keras_file = root / "digits_cnn.keras"
    model.save(keras_file)
    result = _convert(root, "digits_cnn.keras", "--profile", "android-flagship", "--out", "out",
                      cache=root / "cache")
    return Converted(root, keras_file, keras_top1, result)


def _convert(cwd: Path, *args: str, cache: Path | None = None) -> CliResult:
    return run_edgebuild("convert", *args, "--data", "sklearn:digits", "--json", cwd=cwd, cache=cache)


def _final_line(result: CliResult) -> dict:
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_converts_and_verifies_like_build(converted):
    assert converted.result.returncode == 0, converted.result.stderr[-2000:]
    report = converted.report
    assert _final_line(converted.result) == {"event": "convert_finished", "passed": True, "out_dir": str(OUTPUT),
                                             "report": report}
    assert report["model"] == "digits_cnn" and report["precision"] == "int8" and report["io_dtype"] == "int8"
    assert report["artifact"]["sha256"] == hashlib.sha256(converted.artifact).hexdigest()
    assert [stage["name"] for stage in report["stages"]] == ["data", "model", "export", "convert", "measure", "verify"]
    assert report["accuracy"]["float_model"] == pytest.approx(converted.keras_top1)
    assert report["inputs"]["model_sha256"] == hashlib.sha256(converted.keras_file.read_bytes()).hexdigest()
    assert (converted.root / OUTPUT / "report.md").read_text().startswith("# digits_cnn for android-flagship: PASS")


def test_metadata_reads_back_through_inspect_and_litert_schema(converted):
    model = schema.Model.GetRootAs(converted.artifact, 0)
    entries = {model.Metadata(i).Name().decode(): model.Metadata(i).Buffer() for i in range(model.MetadataLength())}
    document = json.loads(model.Buffers(entries["edgebuild"]).DataAsNumpy().tobytes())

    inspected = run_edgebuild("inspect", str(OUTPUT / "model.tflite"), "--json", cwd=converted.root)

    assert inspected.returncode == 0, inspected.stderr
    assert json.loads(inspected.stdout)["metadata"] == document
    assert document["labels"] == [str(digit) for digit in range(10)]
    assert document["input"] == {"layout": "NHWC", "shape": [1, 8, 8, 1],
                                 "normalization": {"scale": 1 / 16, "offset": 0.0, "raw_range": [0.0, 16.0],
                                                   "input_range": [0.0, 1.0]}}
    provenance = document["provenance"]
    assert {key: provenance[key] for key in ("model", "profile", "precision", "io_dtype")} == {
        "model": "digits_cnn", "profile": "android-flagship", "precision": "int8", "io_dtype": "int8"}
    assert provenance["inputs"] == converted.report["inputs"]
    assert provenance["versions"]["edgebuild"] == __version__ and provenance["versions"]["tensorflow"]
    # The checking tools' versions stay in the report, beside the checks; the file names only its writers.
    assert provenance["versions"] == {tool: version for tool, version in converted.report["versions"].items()
                                      if tool not in ("ethos-u-vela", "tflite-micro")}
    assert {"ethos-u-vela", "tflite-micro"} <= set(converted.report["versions"])


def test_artifact_holds_no_path_of_this_machine(converted):
    for folder in (converted.root, converted.root / "cache", Path.home()):
        assert str(folder).encode() not in converted.artifact


def test_second_conversion_in_a_fresh_process_with_an_empty_cache_is_byte_identical(converted, tmp_path):
    again = _convert(converted.root, "digits_cnn.keras", "--profile", "android-flagship", "--out", str(tmp_path),
                     cache=tmp_path / "cache")

    assert again.returncode == 0, again.stderr[-2000:]
    assert (tmp_path / "digits_cnn/android-flagship/model.tflite").read_bytes() == converted.artifact
    assert _final_line(again)["report"]["artifact"]["sha256"] == converted.report["artifact"]["sha256"]


def test_a_failed_gate_writes_its_reports_and_no_artifact_under_the_published_name(converted, tmp_path):
    """The reports say why (passed: false); the rejected file sits beside them, never as model.tflite,
    and an earlier passing build's model.tflite in the same folder is removed, as it no longer matches."""
    earlier = tmp_path / OUTPUT
    earlier.mkdir(parents=True)
    (earlier / "model.tflite").write_bytes(converted.artifact)
    result = _convert(converted.root, "digits_cnn.keras", "--profile", "android-flagship", "--out",
                      str(tmp_path / "out"), "--min-accuracy", "1.0", cache=converted.root / "cache")
    assert result.returncode == 1, result.stderr[-2000:]
    report = json.loads((earlier / "report.json").read_text())
    assert report["passed"] is False
    assert report["artifact"]["path"] == str(tmp_path / OUTPUT / "model.failed.tflite")
    assert (earlier / "report.md").read_text().startswith("# digits_cnn for android-flagship: FAIL")
    assert sorted(path.name for path in earlier.iterdir()) == ["model.failed.tflite", "report.html", "report.json",
                                                             "report.md"]


def test_native_log_lines_stay_off_the_terminal_unless_verbose(converted):
    """TensorFlow's C++ start-up lines (oneDNN, CUDA probes) go to file descriptor 2 before any log level
    applies; only `--verbose` lets them through."""
    import os

    env = {name: value for name, value in os.environ.items() if name != "TF_CPP_MIN_LOG_LEVEL"}
    runs = {verbose: run_edgebuild("convert", "digits_cnn.keras", "--profile", "android-flagship", "--data",
                                   "sklearn:digits", "--out", "out", "--quiet", *(["--verbose"] if verbose else []),
                                   cwd=converted.root, cache=converted.root / "cache", env=env)
            for verbose in (False, True)}
    assert all(run.stdout == "PASS digits_cnn for android-flagship\n" for run in runs.values())
    assert runs[False].stderr == ""
    assert re.search(r"^[IWE]0000 ", runs[True].stderr, re.MULTILINE), runs[True].stderr[:500]


def test_artifact_path_in_the_report_is_the_published_file(converted):
    path = Path(converted.report["artifact"]["path"])
    assert path == OUTPUT / "model.tflite"
    assert hashlib.sha256((converted.root / path).read_bytes()).hexdigest() == converted.report["artifact"]["sha256"]


def test_float_op_and_op_outside_the_allow_list_are_named(tf, keras, tmp_path):
    """SIN has a float kernel only: int8 conversion keeps it float, and cortex-m7's TFLM build lacks it and TANH."""
    inputs = keras.layers.Input((8, 8, 1), name="image")
    hidden = keras.layers.Dense(16, name="hidden")(keras.layers.Flatten(name="flat")(inputs))
    squashed = keras.layers.Activation("tanh", name="squash")(tf.math.sin(hidden))
    keras.Model(inputs, keras.layers.Dense(10, name="logits")(squashed)).save(tmp_path / "sine.keras")

    result = _convert(tmp_path, "sine.keras", "--profile", "cortex-m7")

    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    failed = {check["name"]: check["reason"] for check in _final_line(result)["report"]["checks"]
              if not check["passed"]}
    assert "SIN" in failed["float_ops"].split("float ops: ")[1].split(", ")
    assert failed["ops_allowed"] == "ops outside what tflm runs: SIN×1, TANH×1"


def test_precision_the_profile_does_not_run_is_refused_before_loading(tmp_path):
    result = _convert(tmp_path, "never-loaded.keras", "--profile", "android-flagship", "--precision", "float16")

    assert_one_line_error(result, 2, "--precision float16", "android-flagship", "int8")
    assert not (tmp_path / "build").exists()


def test_a_keras_3_file_converts(tmp_path):
    """Saved by the real Keras 3 (in a child without TF_USE_LEGACY_KERAS, so `import keras` is Keras 3)."""
    import os
    import subprocess
    import sys

    save = ("import keras\nmodel = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), "
            "keras.layers.Dense(10)])\nmodel.save('keras3.keras')\n")
    env = {name: value for name, value in os.environ.items() if name != "TF_USE_LEGACY_KERAS"}
    subprocess.run([sys.executable, "-c", save], cwd=tmp_path, env=env, check=True, capture_output=True, timeout=300)
    result = _convert(tmp_path, "keras3.keras", "--profile", "android-flagship")
    assert result.returncode in (0, 1), result.stderr[-3000:]  # untrained: the accuracy floor may fail it
    assert "Traceback" not in result.stderr
    report = json.loads(next(tmp_path.rglob("report.json")).read_text())
    assert report["artifact"]["inputs"][0]["dtype"] == "int8"


def test_h5_file_is_refused_unless_trusted(keras, tmp_path):
    model = keras.Sequential([keras.layers.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    model.save(tmp_path / "legacy.h5")

    assert_one_line_error(_convert(tmp_path, "legacy.h5", "--profile", "iphone"), 2, "legacy.h5",
                          "--trust-unsafe-format")
