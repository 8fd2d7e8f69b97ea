"""Predicted artifacts of untrained students: one conversion for all candidates, read like the gate.

Weights do not change an artifact's size, op count or tensor shapes, so an untrained student made to
look trained predicts them: every candidate goes into one SavedModel with one output each, the
build's own converter (converters/tflite.py) converts it once with a small random representative
set, and each output's graph is cut out (fit_split.py). With a metadata document like the build's
added, that model's size, gzip size and arena are read the way the release gate reads an artifact.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Sequence

import numpy as np

from edgebuild.converters.fit_split import standalone_model

CALIBRATION_SAMPLES = 4  # activation ranges do not change a single byte of the file's size
EXPORTED_OUTPUT = "logits"  # the signature output name converters/export.py gives the artifact
# Timing a candidate: a few runs suffice to tell 0.1 ms from 10 ms; the release gate measures properly.
TIMED_RUNS, TIMING_WARMUP, TIMING_MIN_SECONDS = 10, 2, 0.05
KERNEL_STD = 0.1  # any scale: int8 weights are scaled per channel, float16 keeps 3 digits at any size


@dataclass(frozen=True)
class KernelPattern:
    """What pruning and clustering leave in Conv2D/Dense kernels: no size change, but what gzip finds."""

    zero_fraction: float = 0.0
    clusters: int | None = None  # distinct values per kernel, zero included


def converted_candidates(students: Sequence, input_shape: tuple[int, int, int], num_classes: int, *,
                         precision: str, io_dtype: str, pattern: KernelPattern, from_qat: bool,
                         seed: int) -> list[bytes]:
    """Each student's untrained model as the build would convert it, without metadata; `from_qat`:
    the build converts the QAT stage's model (app/pipeline.py).

    Building the models draws from TensorFlow's global random state: a build calls this before it
    seeds TensorFlow for training (edgebuild.tfenv.tensorflow(seed)).
    """
    from edgebuild.base.tfenv import tensorflow

    tensorflow()
    import tf_keras as keras

    from edgebuild.converters import tflite

    rng = np.random.default_rng(seed)
    models = [_looking_trained(_student_model(student, input_shape, num_classes, from_qat), pattern, rng)
              for student in students]
    calibration = rng.random((CALIBRATION_SAMPLES, *input_shape), dtype=np.float32)
    with tempfile.TemporaryDirectory(prefix="edgebuild-fit-") as scratch:
        saved_model = Path(scratch) / "candidates"
        _export_together(models, input_shape, saved_model)
        combined = tflite.convert(saved_model, precision, io_dtype, calibration)
    # Keras' layer-name counters back to a fresh process's, so the build's own models are named as before.
    keras.backend.clear_session()
    return [standalone_model(combined, _output_name(index), EXPORTED_OUTPUT) for index in range(len(models))]


def host_latency_ms(model_path: Path, threads: int) -> dict[str, float]:
    """Invoke times (p50, p95, ...) in this process's interpreter, by the runner the release gate uses."""
    from edgebuild.on_device_bench.benchmark import BenchOptions, run_benchmark

    report = run_benchmark(BenchOptions(str(model_path), runs=TIMED_RUNS, min_seconds=TIMING_MIN_SECONDS,
                                        warmup=TIMING_WARMUP, threads=threads))
    return report["latency_ms"]


def _student_model(student, input_shape, num_classes, from_qat: bool):
    """The student; named like TF-MOT's QAT wrappers (`quant_<layer>`) when the build converts those.

    Tensor names are most of a small model's file: converting the QAT model without its wrappers'
    names predicted the digits ladder 2.6-4.6% small, with them 0.8-2.0% (measured); the fake-quant
    op names TF-MOT adds to each weight account for the rest. Applying QAT itself would be exact but
    costs TF-MOT's import and a slower conversion, several seconds over `fit`'s budget (measured).
    """
    import tf_keras as keras

    from edgebuild.toolchain.students import build_student

    model = build_student(student, input_shape, num_classes)
    if not from_qat:
        return model
    for layer in model.layers:
        if not isinstance(layer, keras.layers.InputLayer):  # quantize_apply wraps every other layer
            # Keras has no public rename; the name is read when the graph is traced, at export.
            # keras.models.clone_model would rename publicly, at 0.6 s a model (measured).
            layer._name = f"quant_{layer.name}"
    return model


def _looking_trained(model, pattern: KernelPattern, rng: np.random.Generator):
    """Normal random kernels (trained ones look more normal than Keras' uniform initial ones);
    BatchNorm statistics and biases away from their initial constants; Conv2D/Dense kernels pruned
    and clustered like the recipe's stages leave them.

    Left at 0 and 1, BatchNorm folds into all-zero biases that the converter drops or merges: the
    untrained artifact came out 4-12% smaller than a trained one (measured on mobilenet_v1/v2).
    TF-MOT prunes and clusters Conv2D and Dense kernels, per layer, and leaves depthwise kernels
    dense (measured; toolchain/cluster.py).
    """
    import tf_keras as keras

    for layer in model.layers:
        for weight in layer.weights:
            if "kernel" not in weight.name:
                weight.assign(rng.uniform(0.5, 1.5, weight.shape).astype(np.float32))
                continue
            kernel = (KERNEL_STD * rng.standard_normal(weight.shape)).astype(np.float32)
            pruned = type(layer) in (keras.layers.Conv2D, keras.layers.Dense)
            weight.assign(_patterned(kernel, pattern) if pruned else kernel)
    return model


def _patterned(kernel: np.ndarray, pattern: KernelPattern) -> np.ndarray:
    """The smallest `zero_fraction` of values zeroed (m-by-n pruning's zeros are spread the same
    way on average); the others moved to the nearest of evenly spaced centroids."""
    flat = kernel.ravel().copy()
    zeroed = np.argsort(np.abs(flat), kind="stable")[:round(pattern.zero_fraction * flat.size)]
    flat[zeroed] = 0.0
    if pattern.clusters is not None:
        kept = flat != 0.0
        # Zero is one of the clusters when pruning left zeros (TF-MOT's preserve_sparsity).
        count = pattern.clusters - 1 if zeroed.size else pattern.clusters
        centroids = np.linspace(flat[kept].min(), flat[kept].max(), count)
        flat[kept] = centroids[np.abs(flat[kept, None] - centroids[None, :]).argmin(axis=1)]
    return flat.reshape(kernel.shape)


def _export_together(models: list, input_shape: tuple[int, int, int], folder: Path) -> None:
    """One SavedModel, one signature output per model; a plain tf.Module skips Keras' own (slow)
    serialization of every layer's call function, which is what exporting one Keras model costs."""
    import tensorflow as tf

    holder = tf.Module()
    holder.variables_of_candidates = [variable for model in models for variable in model.variables]

    # The input name is the one converters/export.py gives the artifact.
    @tf.function(input_signature=[tf.TensorSpec([1, *input_shape], tf.float32, name="input")])
    def serve(input):  # noqa: A002 - the argument name becomes the input tensor's name
        return {_output_name(index): model(input, training=False) for index, model in enumerate(models)}

    tf.saved_model.save(holder, str(folder), signatures=serve)


def _output_name(index: int) -> str:
    return f"candidate_{index}"
