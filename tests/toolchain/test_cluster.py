"""Clustering reaches the artifact: at most k distinct int8 values per output channel after CQAT,
and with pruning before it (PCQAT) the zeros survive too."""

from __future__ import annotations

import numpy as np

from flatbuffer_weights import distinct_values_per_output_channel, zero_fraction
from tiny_builds import CLUSTER, CLUSTERS, train_tiny


def test_cqat_artifact_keeps_at_most_k_values_per_output_channel(cqat_build):
    assert max(distinct_values_per_output_channel(cqat_build.int8_bytes)) <= CLUSTERS


def test_pcqat_artifact_keeps_the_zeros_and_the_clusters(pcqat_build):
    assert max(distinct_values_per_output_channel(pcqat_build.int8_bytes)) <= CLUSTERS
    assert zero_fraction(pcqat_build.int8_bytes) >= pcqat_build.metrics("prune")["sparsity"] - 0.01


def test_clustering_shrinks_the_gzipped_weights(cqat_build):
    clustered, distilled = cqat_build.metrics("cluster"), cqat_build.metrics("distill")
    assert clustered["size_bytes"] == distilled["size_bytes"]
    assert clustered["gzip_bytes"] < 0.8 * distilled["gzip_bytes"]


def test_a_cached_cqat_stage_restores_to_the_model_it_trained(cqat_build):
    # The cluster-preserving scheme sizes variables from the weights it wraps; the stage hands on a
    # default-scheme copy so that another process can rebuild it from the cache.
    again = train_tiny(cqat_build.folder, cqat_build.cache, convert=False, prune=None, cluster=CLUSTER)
    assert all(run.cached for run in again.trained)
    x = cqat_build.dataset.x_test
    restored, live = again.model("qat"), cqat_build.model("qat")
    np.testing.assert_allclose(restored(x, training=False), live(x, training=False), atol=1e-5)
