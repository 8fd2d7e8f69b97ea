"""tf.distribute for the training stages: the recipe or `--strategy` picks one; nothing else changes.

TF-MOT under each strategy (tf_keras 2.21, TF-MOT 0.8.1, checked by tests/build_system):
- teacher, distill: plain Keras fit, supported by every strategy.
- prune: prune_low_magnitude + UpdatePruningStep run under MirroredStrategy and
  MultiWorkerMirroredStrategy (TF-MOT's compatibility matrix lists tf.distribute as supported).
- qat: quantize_apply models train under both; the fake-quant min/max variables are mirrored.
Models are built inside the strategy's scope; export and conversion run outside it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from edgebuild.base.errors import BadInput

STRATEGIES = ("default", "mirrored", "multi-worker")
LOGICAL_CPUS_ENV = "EDGEBUILD_LOGICAL_CPUS"  # split the CPU into N logical devices (tests, single hosts)


def check_strategy(name: str) -> None:
    """What `make_strategy` would refuse, without TensorFlow: `build`, `plan` and `fit` all refuse it first."""
    if name not in STRATEGIES:
        raise BadInput(f"unknown strategy {name!r}: expected one of {', '.join(STRATEGIES)}")
    if name == "multi-worker" and "TF_CONFIG" not in os.environ:
        raise BadInput("--strategy multi-worker: TF_CONFIG is not set: expected the cluster spec and this "
                       "worker's task (see TensorFlow's MultiWorkerMirroredStrategy guide)")


def make_strategy(name: str):
    check_strategy(name)
    import tensorflow as tf

    if name == "default":
        return tf.distribute.get_strategy()
    _split_cpu(tf)
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    return tf.distribute.MultiWorkerMirroredStrategy()


def is_chief() -> bool:
    """The chief (or worker 0 when the cluster names no chief) owns the cache and the outputs;
    a single-process run is its own chief."""
    config = json.loads(os.environ.get("TF_CONFIG", "{}"))
    task = config.get("task", {})
    if not task:
        return True
    chief_type = "chief" if "chief" in config.get("cluster", {}) else "worker"
    return task.get("type") == chief_type and int(task.get("index", 0)) == 0


def worker_scratch(path: Path) -> Path:
    """Non-chief workers train in lock-step with the chief but must not publish: they get their own
    folder, else they would wait on the chief's cache lock while the chief waits on them."""
    if is_chief():
        return path
    task = json.loads(os.environ["TF_CONFIG"])["task"]
    return path.parent / f"{path.name}.worker-{task['index']}"


def _split_cpu(tf) -> None:
    count = int(os.environ.get(LOGICAL_CPUS_ENV, "0") or 0)
    if count > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)
