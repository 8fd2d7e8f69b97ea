"""`edgebuild convert` on PyTorch models a test trained: litert-torch, PT2E int8, the same gate as Keras."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cli_runner import CliResult, assert_one_line_error, run_edgebuild

OUTPUT = Path("out/digits_torch/android-flagship")


def _torch():
    return pytest.importorskip("torch", reason="torch is the optional edgebuild[torch] extra: not installed here")


def _convert(cwd: Path, *args: str, env: dict | None = None) -> CliResult:
    return run_edgebuild("convert", *args, "--data", "sklearn:digits", "--json", cwd=cwd, env=env)


def _final_line(result: CliResult) -> dict:
    return json.loads(result.stdout.strip().splitlines()[-1])


def _digits_cnn(torch):
    """NCHW, as PyTorch models are: the artifact must still take the data's NHWC images."""
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, stride=2, padding=1),
                         nn.ReLU(), nn.Flatten(), nn.Linear(16 * 4 * 4, 10))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The CNN trained on the convert command's own training split, exported as .pt2; its test top-1."""
    torch = _torch()
    from edgebuild.toolchain.data import load_dataset

    digits = load_dataset("sklearn:digits", (8, 8), seed=0)
    torch.manual_seed(0)
    model = _digits_cnn(torch)
    optimizer = torch.optim.Adam(model.parameters(), 0.01)
    x_train = torch.from_numpy(np.ascontiguousarray(digits.x_train.transpose(0, 3, 1, 2)))
    y_train = torch.from_numpy(digits.y_train.astype(np.int64))
    for _ in range(60):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x_train), y_train).backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        scores = model(torch.from_numpy(np.ascontiguousarray(digits.x_test.transpose(0, 3, 1, 2)))).numpy()
    root = tmp_path_factory.mktemp("torch")
    torch.export.save(torch.export.export(model, (x_train[:1],)), root / "digits_torch.pt2")
    return root, float(np.mean(scores.argmax(-1) == digits.y_test))


def test_pt2_converts_to_full_integer_int8_that_passes_a_phone_profile(trained):
    from ai_edge_litert.interpreter import Interpreter

    root, torch_top1 = trained
    result = _convert(root, "digits_torch.pt2", "--profile", "android-flagship", "--out", "out")

    assert result.returncode == 0, result.stderr[-3000:]
    report = _final_line(result)["report"]
    assert report["passed"] and report["precision"] == "int8" and report["io_dtype"] == "int8"
    assert [stage["name"] for stage in report["stages"]] == ["data", "model", "convert", "measure", "verify"]
    assert report["accuracy"]["float_model"] == pytest.approx(torch_top1)  # measured from PyTorch itself
    assert abs(report["accuracy"]["artifact"] - torch_top1) <= 0.02
    checks = {check["name"]: check for check in report["checks"]}
    assert checks["float_ops"]["passed"] and checks["float_ops"]["ran"]
    interpreter = Interpreter(model_path=str(root / OUTPUT / "model.tflite"))
    assert [detail["dtype"] for detail in interpreter.get_input_details() + interpreter.get_output_details()] == [
        np.int8, np.int8]
    assert list(interpreter.get_input_details()[0]["shape"]) == [1, 8, 8, 1]  # NHWC, as the data
    assert report["versions"]["torch"].startswith("2.13.0") and report["versions"]["litert-torch"]


def test_op_litert_cannot_lower_is_named(tmp_path):
    torch = _torch()

    class Determinant(torch.nn.Module):
        def forward(self, x):
            return torch.linalg.det(x[:, 0])[:, None].expand(-1, 10)

    torch.export.save(torch.export.export(Determinant(), (torch.rand(1, 1, 8, 8),)), tmp_path / "det.pt2")
    result = _convert(tmp_path, "det.pt2", "--profile", "raspberry-pi-4", "--precision", "float32")

    assert_one_line_error(result, 2, "aten._linalg_det", "cannot lower")


def test_broken_pt2_is_one_line(tmp_path):
    _torch()
    (tmp_path / "broken.pt2").write_bytes(b"PK\x03\x04 not an archive")

    result = _convert(tmp_path, "broken.pt2", "--profile", "raspberry-pi-4", "--precision", "float32")

    assert_one_line_error(result, 2, "broken.pt2", "cannot load PyTorch model")


def test_python_reference_is_refused_unless_trusted(tmp_path):
    (tmp_path / "never_imported.py").write_text("raise SystemExit('imported')\n")

    result = _convert(tmp_path, "never_imported:make", "--profile", "raspberry-pi-4", "--precision", "float32")

    assert_one_line_error(result, 2, "never_imported:make", "--trust-unsafe-format")


def test_precision_litert_torch_does_not_produce_is_refused_before_loading(tmp_path):
    (tmp_path / "never_read.pt2").write_bytes(b"never read")

    result = _convert(tmp_path, "never_read.pt2", "--profile", "iphone")  # iphone's first choice is float16

    assert_one_line_error(result, 2, "never_read.pt2", "int8 (int8 I/O) or float32", "float16")


def test_without_the_extra_says_what_to_install(tmp_path):
    """torch made unimportable (as in an environment without the extra) by a module that shadows it."""
    import os

    (tmp_path / "shadow").mkdir()
    (tmp_path / "shadow" / "torch.py").write_text("raise ImportError(\"No module named 'torch'\")\n")
    (tmp_path / "m.pt2").write_bytes(b"never read")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "shadow")}

    result = _convert(tmp_path, "m.pt2", "--profile", "raspberry-pi-4", "--precision", "float32", env=env)

    assert_one_line_error(result, 2, "pip install 'edgebuild[torch]'")


@pytest.mark.slow
def test_factory_reference_converts_to_a_float_teacher(tmp_path):
    """`package.module:factory` with --trust-unsafe-format; float32 for use as a `.tflite` teacher."""
    _torch()
    (tmp_path / "digits_factory.py").write_text(
        "import torch\n\ndef make():\n    torch.manual_seed(0)\n"
        "    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10))\n")
    result = _convert(tmp_path, "digits_factory:make", "--trust-unsafe-format", "--profile", "raspberry-pi-4",
                      "--precision", "float32", "--min-accuracy", "0", "--out", "out")

    assert result.returncode in (0, 1), result.stderr[-3000:]
    report = _final_line(result)["report"]
    assert report["precision"] == "float32" and report["model"] == "digits_factory.make"
    assert (tmp_path / "out/digits_factory.make/raspberry-pi-4/model.tflite").is_file()
