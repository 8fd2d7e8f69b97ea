"""Benchmark the precision ladder: every rung's accuracy, size and host latency, for two models.

    python bench/precision_ladder.py      (about 2 minutes on 2 cores)

Models: `sensitive`, a digits MLP with one hidden unit pinned at 4,000 (the test suite's int8-sensitive
model: int8 quantizes the hidden activations per tensor and the real units collapse), and `cnn16`, a
small Conv2D classifier trained on sklearn digits at 16x16. Each is converted with `edgebuild convert
--search 7` (every rung this profile allows) for a CPU profile listing int8, int8_mixed, int16x8,
float16 and float32, twice: with an unreachable floor (`--min-accuracy 1.0 --max-drop-from-float 0`, so no rung passes and every rung is
reported) and with the floor 0.8 / drop 0.02 (the rung that ships). The second run reuses the first's
cached rungs.

Writes bench/results/precision_ladder.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from common import save

HERE = Path(__file__).resolve().parent
PROFILE = """\
name: ladder-cpu
description: a CPU running every precision of the ladder (benchmark profile)
budgets: {size_bytes: 50000000, gzip_bytes: 50000000, peak_memory_bytes: 1000000000}
latency: {p95_ms: 1000, p50_ms: 1000, threads: 1}
precisions: [int8, int8_mixed, int16x8, float16, float32]
io_dtypes: [float32]
"""
FLOOR, DROP = 0.8, 0.02
SEARCH_TRIALS = 7


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-ladder-") as scratch:
        root = Path(scratch)
        (root / "profile.yaml").write_text(PROFILE)
        models = {"sensitive": _sensitive(root), "cnn16": _cnn16(root)}
        results = {name: _ladder(root, path) for name, path in models.items()}
    save("precision_ladder", {"profile": PROFILE, "search_trials": SEARCH_TRIALS,
                              "floor": {"min_accuracy": FLOOR, "max_drop_from_float": DROP}, "models": results})


def _ladder(root: Path, model: Path) -> dict:
    every = _convert(root, model, "every", "--min-accuracy", "1.0", "--max-drop-from-float", "0")
    floor = _convert(root, model, "floor", "--min-accuracy", str(FLOOR), "--max-drop-from-float", str(DROP))
    return {"float_accuracy": every["accuracy"].get("float_model"), "rungs": every["precision_search"]["rungs"],
            "at_floor": {"passed": floor["passed"], "shipped": floor["precision_search"]["shipped"],
                         "precision": floor["precision"]}}


def _convert(root: Path, model: Path, out: str, *flags: str) -> dict:
    command = [sys.executable, "-m", "edgebuild", "convert", str(model), "--profile", "profile.yaml", "--data",
               "sklearn:digits", "--search", str(SEARCH_TRIALS), "--out", out, "--cache-dir", "cache", "-q", *flags]
    finished = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=900)
    report = root / out / model.stem / "ladder-cpu" / "report.json"
    if not report.exists():
        sys.exit(f"error: {' '.join(command)} wrote no report: {finished.stderr[-2000:]}")
    return json.loads(report.read_text())


def _sensitive(root: Path) -> Path:
    sys.path.insert(0, str(HERE.parent / "tests"))
    from precision_search.sensitive_model import save_sensitive_model

    from edgebuild.toolchain.data import load_dataset

    return save_sensitive_model(load_dataset("sklearn:digits", (8, 8), test_fraction=0.2, seed=0), root)


def _cnn16(root: Path) -> Path:
    from edgebuild.base import tfenv
    from edgebuild.toolchain.data import load_dataset

    tfenv.tensorflow(0)
    import tf_keras as keras

    digits = load_dataset("sklearn:digits", (16, 16), test_fraction=0.2, seed=0)
    model = keras.Sequential([keras.layers.Input((16, 16, 1)), keras.layers.Conv2D(16, 3, activation="relu"),
                              keras.layers.MaxPooling2D(), keras.layers.Conv2D(32, 3, activation="relu"),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10)])
    model.compile(keras.optimizers.Adam(0.005), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(digits.x_train, digits.y_train, epochs=20, batch_size=64, verbose=0)
    path = root / "cnn16.keras"
    model.save(path)
    return path


if __name__ == "__main__":
    main()
