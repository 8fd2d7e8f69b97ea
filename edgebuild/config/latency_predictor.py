"""Which phones the bundled latency predictor was fitted for, read from its committed coefficients.

The coefficients are data beside the profiles (device_profiles/latency_predictor.json, written by
`edgebuild refit-latency`); config reads only the device names, so a profile naming a phone the
predictor does not know is refused on load, before anything runs.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

PROFILES_PACKAGE = "edgebuild.device_profiles"  # the predictor's files sit beside the bundled profiles
PREDICTOR_FILE = "latency_predictor.json"
PUBLISHED_TABLE = "published_latency.csv"
FEATURE_TABLE = "latency_features.csv"


@cache
def bundled_predictor() -> dict[str, Any]:
    """The committed coefficients, their source table's sha256 and their leave-one-model-out error."""
    return json.loads((resources.files(PROFILES_PACKAGE) / PREDICTOR_FILE).read_text())


def predictor_devices() -> tuple[str, ...]:
    return tuple(sorted(bundled_predictor()["fits"]))
