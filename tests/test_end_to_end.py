"""A real build, end to end, checked against the artifact it wrote rather than against constants."""

from __future__ import annotations

import gzip
import hashlib
import json

import numpy as np
import pytest

from cli_runner import assert_one_line_error, run_edgebuild
from edgebuild.converters.flatbuffer import read_model_file


def _outputs(root):
    folder = root / "out" / "tiny" / "android-flagship"
    return folder, json.loads((folder / "report.json").read_text())


def test_artifact_matches_its_report(tiny_build):
    folder, report = _outputs(tiny_build)
    data = (folder / "model.tflite").read_bytes()
    assert report["artifact"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert report["artifact"]["size_bytes"] == len(data)
    assert report["artifact"]["gzip_bytes"] == len(gzip.compress(data, 9, mtime=0))
    assert report["passed"] is all(check["passed"] for check in report["checks"])
    assert {"size_bytes", "gzip_bytes", "peak_memory_bytes", "host_latency_p50_ms", "host_latency_p95_ms",
            "accuracy_top1", "input_dtype", "output_dtype", "float_ops"} <= {c["name"] for c in report["checks"]}


def test_artifact_is_full_integer(tiny_build):
    folder, _ = _outputs(tiny_build)
    info = read_model_file(folder / "model.tflite")
    assert [t.dtype for t in info.inputs] == ["int8"] and [t.dtype for t in info.outputs] == ["int8"]
    assert info.float_ops() == ()


def test_reported_accuracy_is_what_the_interpreter_measures(tiny_build):
    from ai_edge_litert.interpreter import Interpreter

    from edgebuild.config.recipe import load_recipe
    from edgebuild.toolchain.data import load_dataset

    folder, report = _outputs(tiny_build)
    recipe, _ = load_recipe(str(tiny_build / "tiny.yaml"))
    data = load_dataset(recipe.data.source, recipe.data.input_size, validation_fraction=0.1, test_fraction=0.2,
                        seed=recipe.seed)
    interpreter = Interpreter(model_path=str(folder / "model.tflite"))
    interpreter.allocate_tensors()
    source, target = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    scale, zero_point = source["quantization"]
    correct = 0
    for image, label in zip(data.x_test, data.y_test):
        quantized = np.clip(np.round(image / scale + zero_point), -128, 127).astype(np.int8)
        interpreter.set_tensor(source["index"], quantized[None])
        interpreter.invoke()
        correct += int(np.argmax(interpreter.get_tensor(target["index"])[0]) == label)
    assert report["accuracy"]["artifact"] == pytest.approx(correct / len(data.y_test), abs=1e-9)


def test_report_records_stages_versions_and_inputs(tiny_build):
    _, report = _outputs(tiny_build)
    assert [s["name"] for s in report["stages"]] == ["data", "teacher", "soft_targets", "distill", "prune", "qat",
                                                     "export", "convert", "measure", "verify"]
    prune = next(s for s in report["stages"] if s["name"] == "prune")
    convert = next(s for s in report["stages"] if s["name"] == "convert")
    assert abs(prune["sparsity"] - convert["sparsity"]) <= 0.01
    assert {"python", "tensorflow", "tensorflow-model-optimization", "ai-edge-litert", "edgebuild"} <= set(
        report["versions"])
    recipe_bytes = (tiny_build / "tiny.yaml").read_bytes()
    assert report["inputs"]["recipe_sha256"] == hashlib.sha256(recipe_bytes).hexdigest()
    assert report["latency_ms"]["runs"] >= 50 and report["latency_ms"]["runtime"]["name"]


def test_markdown_report_leads_with_the_verdict(tiny_build):
    folder, report = _outputs(tiny_build)
    text = (folder / "report.md").read_text()
    assert text.startswith(f"# tiny for android-flagship: {'PASS' if report['passed'] else 'FAIL'}")
    assert "| check | value | limit | basis | result |" in text


def test_verify_agrees_with_the_build(tiny_build):
    result = run_edgebuild("verify", "out/tiny/android-flagship/model.tflite", "--profile", "android-flagship",
                           "--json", cwd=tiny_build)
    assert result.returncode == 0, result.stderr
    verified = json.loads(result.stdout)
    _, report = _outputs(tiny_build)
    assert verified["artifact"]["sha256"] == report["artifact"]["sha256"]
    assert verified["passed"] is True


def test_inspect_reads_the_metadata_back(tiny_build):
    result = run_edgebuild("inspect", "out/tiny/android-flagship/model.tflite", "--json", cwd=tiny_build)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["metadata"]["labels"] == [str(d) for d in range(10)]
    assert summary["metadata"]["provenance"]["profile"] == "android-flagship"
    assert summary["metadata"]["input"]["normalization"]["scale"] == pytest.approx(1 / 16)


def test_unknown_recipe_exits_2_and_writes_nothing(tmp_path):
    result = run_edgebuild("build", "no-such-recipe", "--profile", "android-flagship", "--out", "out", cwd=tmp_path)
    assert_one_line_error(result, 2, "no-such-recipe", "digits")
    assert not (tmp_path / "out").exists()


def test_over_budget_profile_fails_the_gate_with_exit_1(tiny_build, tmp_path):
    from edgebuild.config.profile import load_profile

    _, path = load_profile("android-flagship")
    tight = path.read_text().replace("size_bytes: 16777216", "size_bytes: 1000")
    (tmp_path / "tight.yaml").write_text(tight.replace("name: android-flagship", "name: tight"))
    result = run_edgebuild("verify", str(tiny_build / "out/tiny/android-flagship/model.tflite"),
                           "--profile", "tight.yaml", "--json", cwd=tmp_path)
    assert result.returncode == 1
    failed = [c for c in json.loads(result.stdout)["checks"] if not c["passed"]]
    assert [c["name"] for c in failed] == ["size_bytes"] and failed[0]["limit"] == 1000
