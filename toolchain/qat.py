"""Quantization-aware training stage (TF-MOT), keeping what earlier stages built.

Plain QAT lets pruned zeros drift back to non-zero values and clustered weights drift apart, and
the artifact loses both (TF-MOT collaborative optimization guide). So after pruning it trains with
the sparsity-preserving scheme (PQAT), after clustering with the cluster-preserving one (CQAT), and
after both with cluster-preserving plus sparsity (PCQAT). Without this stage, int8 conversion falls
back to post-training quantization of the float model.
"""

from __future__ import annotations

from pathlib import Path

from edgebuild.toolchain.distill import new_student
from edgebuild.toolchain.context import TrainingJob
from edgebuild.toolchain.students.quantizable_layers import quantize_annotated
from edgebuild.toolchain.training import fit, load_weights, reseed, sparse_categorical_loss


def train(job: TrainingJob):
    reseed(job)
    config = job.recipe.qat
    pruned, clustered = job.recipe.prune is not None, job.recipe.cluster is not None
    model = quantization_aware(job.previous_model(), pruned=pruned, clustered=clustered)
    fit(model, job.dataset.x_train, job.dataset.y_train, config.training, sparse_categorical_loss(), job, "qat")
    if not (pruned or clustered):
        return model
    return with_default_quantizers(model, quantization_aware(new_student(job)))


def restore(job: TrainingJob, folder: Path):
    return load_weights(quantization_aware(new_student(job)), folder)


def quantization_aware(model, *, pruned: bool = False, clustered: bool = False):
    import tensorflow_model_optimization as tfmot

    quantize, combine = tfmot.quantization.keras, tfmot.experimental.combine
    if clustered:
        scheme = combine.Default8BitClusterPreserveQuantizeScheme(preserve_sparsity=pruned)
    elif pruned:
        scheme = combine.Default8BitPrunePreserveQuantizeScheme()
    else:
        scheme = quantize.default_8bit.Default8BitQuantizeScheme()
    annotated, custom_objects = quantize_annotated(model)
    with quantize.quantize_scope(custom_objects):
        return quantize.quantize_apply(annotated, scheme)


def with_default_quantizers(trained, plain):
    """`plain` (the same student under the default scheme) given `trained`'s values.

    The preserving schemes size some variables from the weights they wrap (one per distinct value
    for clusters), so their checkpoint does not load into a model wrapped around a fresh student.
    At inference they fake-quantize the wrapped kernel exactly as the default scheme does, and
    training has written the preserved values into that kernel, so copying the variables the
    default scheme has gives the same outputs in a model `restore` can rebuild."""
    for source, target in zip(trained.layers, plain.layers, strict=True):
        values = {_local_name(source, w): w for w in source.weights}
        target.set_weights([values[_local_name(target, w)].numpy() for w in target.weights])
    return plain


def _local_name(layer, weight) -> str:
    # `quantize_layer_1/quantize_layer_1_min:0`: Keras numbers unnamed layers per process.
    return weight.name.split("/")[-1].replace(layer.name, "")
