"""What each stage's code version covers, derived from the import graph (base/code.py)."""

from __future__ import annotations

from edgebuild.base.code import CodeHasher


def _closure(*roots: str) -> set[str]:
    return CodeHasher().closure(roots)


def test_the_measurement_covers_the_runner_the_child_process_runs():
    from edgebuild.verify.measure import MeasureStage

    covered = _closure(*MeasureStage(threads=1, versions={}).code_roots())
    assert {"edgebuild.on_device_bench.benchmark", "edgebuild.on_device_bench.timing",
            "edgebuild.on_device_bench.accuracy", "edgebuild.verify.child_run"} <= covered


def test_the_fit_covers_the_gate_and_the_file_it_predicts():
    covered = _closure("edgebuild.app.fit")
    assert {"edgebuild.converters.arena", "edgebuild.converters.precision", "edgebuild.converters.metadata",
            "edgebuild.converters.flatbuffer", "edgebuild.verify.checks", "edgebuild.converters.tflite",
            "edgebuild.toolchain.students"} <= covered
    assert "edgebuild.toolchain.data" not in covered  # it reads the prepared data's shape, not its code


def test_training_covers_its_module_and_what_it_imports_lazily():
    covered = _closure("edgebuild.toolchain.training_stage", "edgebuild.toolchain.qat")
    assert {"edgebuild.toolchain.training", "edgebuild.toolchain.distill", "edgebuild.toolchain.students.blocks",
            "edgebuild.config.students"} <= covered
    assert "edgebuild.toolchain.data" not in covered  # the prepared data's key stands for it


def test_a_comment_keeps_the_hash_and_code_changes_it(tmp_path, monkeypatch):
    package = tmp_path / "edgebuild_probe_pkg"
    package.mkdir()
    module = package / "stage.py"
    module.write_text("X = 1\n")
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr("edgebuild.base.code.PROJECT_PACKAGE", "edgebuild_probe_pkg")
    name = "edgebuild_probe_pkg.stage"
    before = CodeHasher().code_hash(name)
    module.write_text("X = 1  # a comment\n\n")
    assert CodeHasher().code_hash(name) == before
    module.write_text("X = 2\n")
    assert CodeHasher().code_hash(name) != before
