"""Benchmark the phone latency predictor: leave-one-model-out error over qai-hub-models' published timings.

    python bench/latency_predictor.py      (seconds: no TensorFlow, it reads the committed tables)

For every (phone, runtime, precision) the bundled predictor has a fit for, each published model is
predicted by a fit on the other models' rows only (none of its own rows), from the committed tables
in device_profiles/ (published_latency.csv: the wheel's rows; latency_features.csv: the rebuilt
architectures' features). Reports the median and 90th-percentile absolute percentage error and the
number of models, per group, beside a MACs-only fit (overhead + cost per MAC) as the baseline the
other features have to beat. Checks that the tables are the ones the committed coefficients name
(sha256) and that the committed error summaries equal the ones measured here.

Writes bench/results/latency_predictor.json (every held-out prediction) and, through
bench/summarize.py, bench/results/latency_predictor.png (predicted against published).
"""

from __future__ import annotations

import sys

from common import save

from edgebuild.app import latency_refit
from edgebuild.base.cache import file_sha256
from edgebuild.config.latency_predictor import FEATURE_TABLE, PUBLISHED_TABLE, bundled_predictor
from edgebuild.verify import latency_model

FLAGSHIPS = ("Samsung Galaxy S24", "Samsung Galaxy S25")
AIM_MEDIAN_APE_PCT = 25.0


def main() -> None:
    folder = latency_refit.default_folder()
    predictor = bundled_predictor()
    for table, key in ((PUBLISHED_TABLE, "table_sha256"), (FEATURE_TABLE, "features_sha256")):
        if file_sha256(folder / table) != predictor["source"][key]:
            sys.exit(f"error: {folder / table}: not the table {predictor['source']['table']} the coefficients were "
                     "fitted on; run edgebuild refit-latency")
    rows = latency_refit.read_published(folder / PUBLISHED_TABLE)
    features = latency_refit.read_features(folder / FEATURE_TABLE)
    groups = [_group(key, members, features, predictor) for key, members in latency_refit.fit_groups(rows).items()]
    flagship_tflite = [g for g in groups if g["device"] in FLAGSHIPS and g["runtime"] == "tflite"]
    save("latency_predictor", {
        "source": predictor["source"], "features": predictor["features"], "groups": groups,
        "aim": {"median_ape_pct_at_most": AIM_MEDIAN_APE_PCT, "on": "tflite rows of a flagship (Galaxy S24/S25)",
                "reached": any(g["lomo"]["median_ape_pct"] <= AIM_MEDIAN_APE_PCT for g in flagship_tflite)}})


def _group(key: tuple[str, str, str], members: list[dict], features: dict, predictor: dict) -> dict:
    device, runtime, precision = key
    held_out = latency_refit.held_out_predictions(members, features)
    summary = latency_model.error_summary(held_out)
    committed = predictor["fits"][device][runtime][precision]["lomo"]
    if committed != summary:
        sys.exit(f"error: {device} {runtime} {precision}: committed error {committed} differs from the measured "
                 f"{summary}; run edgebuild refit-latency")
    return {"device": device, "runtime": runtime, "precision": precision, "lomo": summary,
            "macs_only_lomo": latency_model.error_summary(_macs_only(members, features)), "held_out": held_out}


def _macs_only(members: list[dict], features: dict) -> list[dict]:
    """The same leave-one-model-out with one cost per MAC (all MACs summed) and the overhead."""
    total = {model: {"macs_conv": row["macs_conv"] + row["macs_depthwise"] + row["macs_fully_connected"],
                     **{name: 0 for name in latency_model.FITTED_FEATURES if name != "macs_conv"}}
             for model, row in features.items()}
    return latency_refit.held_out_predictions(members, total)


if __name__ == "__main__":
    main()
