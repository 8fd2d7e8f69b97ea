"""The latency check of a phone profile whose basis is `predicted`: the bundled predictor's p50 for
the named phone, with the predictor's own leave-one-model-out error as the band.

The predictor was fitted on qai-hub-models' published timings (edgebuild refit-latency), which give
one time per model: there is a predicted p50 and no predicted tail, so the p95 check is not run.
"""

from __future__ import annotations

from typing import Any

from edgebuild.config.latency_predictor import bundled_predictor
from edgebuild.config.profile import DeviceProfile
from edgebuild.converters.flatbuffer import ModelInfo
from edgebuild.converters.latency_features import latency_features
from edgebuild.verify.checks import Check, not_run
from edgebuild.verify.latency_model import LatencyFit

RUNTIME = "tflite"  # edgebuild's artifact is a .tflite: the rows timed through TFLite on the phone
# The published precision rows that time the same kind of file: w8a8 is full-integer int8.
_PUBLISHED_PRECISION = {"int8": "w8a8", "float32": "float", "float16": "float"}
P50, P95 = "predicted_latency_p50_ms", "predicted_latency_p95_ms"


def predicted_latency(info: ModelInfo, precision: str, profile: DeviceProfile) -> tuple[list[Check], dict | None]:
    """The checks and the report's `predicted_latency` section (None when there is no fit to use)."""
    device, target = profile.latency.predicted_for, profile.latency
    published = _PUBLISHED_PRECISION.get(precision)
    entry = bundled_predictor()["fits"][device].get(RUNTIME, {}).get(published) if published else None
    if entry is None:
        reason = f"no published {RUNTIME} timings on {device} for a {precision} model to predict from"
        return [not_run(P50, target.p50_ms, reason, "prediction"), not_run(P95, target.p95_ms, reason, "prediction")], None
    features = latency_features(info)
    p50 = round(LatencyFit(entry["overhead_ms"], entry["costs_ms"]).predict_ms(features), 4)
    section = _section(device, published, entry, p50, features)
    limit, passed = target.p50_ms, p50 <= target.p50_ms
    reason = "" if passed else f"{P50} {p50} ms exceeds the limit {limit} ms ({section['band']})"
    return [Check(P50, p50, limit, passed, reason, "prediction"),
            not_run(P95, target.p95_ms, "the published timings give one time per model, no tail percentile",
                    "prediction")], section


def superseded_by_device(checks: list[Check], device_checks: list[Check]) -> list[Check]:
    """A device measured over adb or ssh always wins: its latency replaces the prediction's verdict."""
    if not any(check.name.startswith("device_latency_") and check.ran and check.value is not None
               for check in device_checks):
        return [*checks, *device_checks]
    kept = [not_run(check.name, check.limit, "superseded by the latency measured on the device", "prediction")
            if check.basis == "prediction" else check for check in checks]
    return [*kept, *device_checks]


def _section(device: str, precision: str, entry: dict[str, Any], p50: float, features: dict[str, int]) -> dict:
    error = entry["lomo"]
    p90 = error["p90_ape_pct"] / 100
    # |predicted - published| <= p90 * published for 9 in 10 held-out models: published is in this interval
    low, high = p50 / (1 + p90), (p50 / (1 - p90) if p90 < 1 else None)
    band = (f"prediction for {device} ({RUNTIME}, {precision}); leave-one-model-out error over {error['models']} "
            f"published models: median {error['median_ape_pct']}%, p90 {error['p90_ape_pct']}%; erring like 9 in 10 "
            f"of them, the phone takes {low:.3g}–{'∞' if high is None else f'{high:.3g}'} ms")
    macs = features["macs_conv"] + features["macs_depthwise"] + features["macs_fully_connected"]
    smallest, largest = entry["fitted_macs"]
    within = smallest <= macs <= largest
    return {"device": device, "runtime": RUNTIME, "precision": precision, "p50_ms": p50,
            "band_low_ms": round(low, 4), "band_high_ms": None if high is None else round(high, 4),
            "error": error, "band": band, "features": features,
            "within_fitted_range": within,
            "source": bundled_predictor()["source"],
            "note": f"a prediction from published measurements, not measured on the device; the model's "
                    f"{macs:,} MACs are {'within' if within else 'outside'} the published "
                    f"models' range, {smallest:,} to {largest:,} MACs"}
