"""Clustering stage: TF-MOT weight clustering (weight sharing, Han et al. 2016 "Deep Compression").

Each Conv2D and Dense kernel is fine-tuned to at most `number_of_clusters` distinct values, then the
wrappers are stripped; TF-MOT 0.8.1 leaves DepthwiseConv2D and BatchNorm unclustered. The artifact
stays the same size, but its weights gzip far smaller. After pruning the zeros are kept as one of
the clusters (`preserve_sparsity`), so prune → cluster → QAT is TF-MOT's PCQAT path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgebuild.base.errors import GateFailed
from edgebuild.toolchain.distill import new_student
from edgebuild.toolchain.context import TrainingJob
from edgebuild.toolchain.training import fit, load_weights, reseed, sparse_categorical_loss


def train(job: TrainingJob):
    import tensorflow_model_optimization as tfmot

    reseed(job)
    config = job.recipe.cluster
    clustering = tfmot.clustering.keras
    clustered = clustering.cluster_weights(
        job.previous_model(), number_of_clusters=config.number_of_clusters,
        cluster_centroids_init=clustering.CentroidInitialization[config.centroid_init.upper()],
        preserve_sparsity=job.recipe.prune is not None)
    fit(clustered, job.dataset.x_train, job.dataset.y_train, config.training, sparse_categorical_loss(), job,
        "cluster")
    stripped = clustering.strip_clustering(clustered)
    _check_clusters(stripped, config.number_of_clusters)
    return stripped


def restore(job: TrainingJob, folder: Path):
    return load_weights(new_student(job), folder)


def _check_clusters(model, number_of_clusters: int) -> None:
    for kernel in (w for w in model.weights if w.name.split("/")[-1] == "kernel:0"):
        distinct = len(np.unique(kernel.numpy()))
        if distinct > number_of_clusters:
            raise GateFailed(f"stage cluster: {kernel.name} has {distinct} distinct values, more than "
                             f"cluster.number_of_clusters={number_of_clusters}: TF-MOT did not cluster this layer")
