"""Benchmark quantization after pruning and clustering: QAT vs post-training quantization, and the
structure-preserving QAT schemes vs plain QAT.

    python bench/toolchain_quantization.py [--recipe digits] [--seeds 0]

For each seed: teacher → distill → prune as the recipe says, then from copies of the pruned float
student, each converted to full-int8 (int8 I/O) with the build's converter:
  ptq            post-training quantization of the pruned float student
  pqat           QAT with the sparsity-preserving scheme (what the build does after pruning)
  qat_plain      QAT with the default scheme on the same pruned student
and after clustering the pruned student (CLUSTER below):
  cluster_ptq    post-training quantization of the pruned, clustered student
  pcqat          QAT with the cluster- and sparsity-preserving scheme (the build's choice)
  cluster_qat_plain  QAT with the default scheme
Every artifact is measured in the LiteRT interpreter (top-1 on the test split and on all images),
and counted in its flatbuffer: zeros and distinct values per output channel in the CONV_2D and
FULLY_CONNECTED weights, file size and gzip size. Writes bench/results/toolchain_quantization.json.
"""

from __future__ import annotations

import argparse
import gzip
import os
import tempfile
import time
from pathlib import Path

from dataclasses import replace

import numpy as np
from common import save
from toolchain_recipe import one_student_context, with_section

from edgebuild.base import tfenv

CLUSTER = {"number_of_clusters": 16, "centroid_init": "kmeans_plus_plus",
           "training": {"epochs": 4, "batch_size": 32, "learning_rate": 0.0003}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="digits")
    parser.add_argument("--student", default=None, help="a candidate of the recipe's student ladder")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = parser.parse_args()

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="toolchain-quantization-") as scratch:
        ctx = with_section(one_student_context(args.recipe, args.student, Path(scratch) / "cache"), cluster=CLUSTER)
        runs = [_seed_run(replace(ctx, seed=seed), Path(scratch)) for seed in args.seeds]
    recipe = ctx.recipe
    path = save("toolchain_quantization", {
        "recipe": recipe.name,
        "prune": recipe.prune.model_dump(mode="json"),
        "cluster": recipe.cluster.model_dump(mode="json"),
        "qat": recipe.qat.model_dump(mode="json"),
        "seeds": args.seeds,
        "conversion": "full-int8, int8 input/output, representative samples from the recipe",
        "runs": runs,
        "load_average": {"before": load_before, "after": os.getloadavg()},
    })
    print(path)


def _seed_run(ctx, scratch: Path) -> dict:
    """teacher → distill → prune → cluster through the pipeline, then each variant from copies of its
    float students, converted and measured alike."""
    from edgebuild.app.pipeline import walk

    upstream = walk(with_section(ctx, qat=None), until="cluster").runs["android-flagship"]
    dataset, seed = upstream.output("data"), ctx.seed
    pruned, clustered = upstream.output("prune").load(), upstream.output("cluster").load()
    float_models = {"pruned": upstream.output("prune"), "pruned_clustered": upstream.output("cluster")}
    run = {"seed": seed, "float": {name: {"accuracy": model.metrics["accuracy"],
                                          "accuracy_all_data": model.metrics["accuracy_all_data"]}
                                   for name, model in float_models.items()}}
    variants = {
        "ptq": lambda: copy_of(ctx, dataset, pruned),
        "pqat": lambda: qat_variant(ctx, dataset, pruned, pruned=True, clustered=False),
        "qat_plain": lambda: qat_variant(ctx, dataset, pruned, pruned=False, clustered=False),
        "cluster_ptq": lambda: copy_of(ctx, dataset, clustered),
        "pcqat": lambda: qat_variant(ctx, dataset, clustered, pruned=True, clustered=True),
        "cluster_qat_plain": lambda: qat_variant(ctx, dataset, clustered, pruned=False, clustered=False),
    }
    run["int8"] = {name: measure_int8(make(), dataset, ctx.recipe, seed, scratch / f"{seed}-{name}")
                   for name, make in variants.items()}
    return run


def copy_of(ctx, dataset, model):
    from edgebuild.toolchain.distill import new_student
    from edgebuild.toolchain.training_stage import standalone_job

    copy = new_student(standalone_job(ctx, dataset, ctx.recipe.student))
    copy.set_weights(model.get_weights())
    return copy


def qat_variant(ctx, dataset, source, *, pruned: bool, clustered: bool):
    from edgebuild.toolchain.qat import quantization_aware
    from edgebuild.toolchain.training import fit, sparse_categorical_loss
    from edgebuild.toolchain.training_stage import standalone_job

    copy = copy_of(ctx, dataset, source)
    tfenv.tensorflow(ctx.seed)
    model = quantization_aware(copy, pruned=pruned, clustered=clustered)
    fit(model, dataset.x_train, dataset.y_train, ctx.recipe.qat.training, sparse_categorical_loss(),
        standalone_job(ctx, dataset, ctx.recipe.student), "qat")
    return model


def measure_int8(model, dataset, recipe, seed: int, folder: Path) -> dict:
    from edgebuild.converters.export import export_saved_model
    from edgebuild.converters.flatbuffer import read_model
    from edgebuild.converters.sensitivity import top1
    from edgebuild.converters.tflite import convert, representative_images

    started = time.perf_counter()
    export_saved_model(model, folder / "saved_model")
    calibration = representative_images(dataset.x_train, recipe.convert.representative_samples, seed)
    model_bytes = convert(folder / "saved_model", "int8", "int8", calibration)
    weights = [array for _, array in read_model(model_bytes).weights()]
    return {
        "accuracy": top1(model_bytes, dataset.x_test, dataset.y_test),
        "accuracy_all_data": top1(model_bytes, dataset.x_all, dataset.y_all),
        "weight_zeros": sum(np.count_nonzero(a == 0) for a in weights) / sum(a.size for a in weights),
        "max_distinct_values_per_output_channel": max(len(np.unique(channel)) for a in weights for channel in a),
        "size_bytes": len(model_bytes),
        "gzip_bytes": len(gzip.compress(model_bytes, 9, mtime=0)),
        "convert_seconds": round(time.perf_counter() - started, 2),
    }


if __name__ == "__main__":
    main()
