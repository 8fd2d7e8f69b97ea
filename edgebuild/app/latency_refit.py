"""`edgebuild refit-latency`: the phone latency predictor, refitted from the qai-hub-models wheel.

Three committed files come out, beside the bundled profiles: the published rows used (with the
wheel's version and each row's perf.yaml path), the features of each rebuilt architecture, and the
fitted coefficients with both tables' sha256 and each fit's leave-one-model-out error. The wheel is
read as a zip archive, never installed or imported.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections import defaultdict
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from edgebuild.base.cache import file_sha256
from edgebuild.base.errors import BadInput
from edgebuild.base.files import write_atomically
from edgebuild.base.tfenv import tool_versions
from edgebuild.config.latency_predictor import FEATURE_TABLE, PREDICTOR_FILE, PROFILES_PACKAGE, PUBLISHED_TABLE
from edgebuild.converters.latency_features import FEATURES
from edgebuild.converters.reference_models import REFERENCE_MODELS
from edgebuild.verify import latency_model

# The phones in the wheel (the rest are boards, laptops and car platforms); QRD = Qualcomm's
# reference-design phone for that chip.
PHONES = ("Samsung Galaxy S22 5G", "Samsung Galaxy S24", "Samsung Galaxy S25", "Samsung Galaxy S26",
          "Snapdragon 7 Gen 4 QRD", "Snapdragon 8 Elite Gen 6 QRD")
RUNTIMES = ("tflite", "qnn_dlc")
PRECISIONS = ("float", "w8a8")
MIN_MODELS = 8  # fewer published models than this and a fit with five costs says nothing
ROW_FIELDS = ("source", "source_path", "model", "precision", "device", "runtime", "latency_ms",
              "peak_memory_min_mb", "peak_memory_max_mb", "npu_layers", "total_layers", "primary_compute_unit",
              "job_id")


def default_folder() -> Path:
    return Path(str(resources.files(PROFILES_PACKAGE)))


def refit(wheel: Path, folder: Path | None = None, rebuild: bool = False) -> dict[str, Any]:
    """Extract, rebuild what is missing (everything with `rebuild`), fit, write; returns the coefficients."""
    folder = folder or default_folder()
    source, rows = published_rows(wheel)
    write_table(folder / PUBLISHED_TABLE, ROW_FIELDS, rows)
    features = _feature_rows({} if rebuild else read_features(folder / FEATURE_TABLE))
    write_table(folder / FEATURE_TABLE, ("model", "application", "input_size", *FEATURES), features)
    predictor = fitted_predictor(rows, {row["model"]: row for row in features})
    predictor["source"] = {**source, "table": PUBLISHED_TABLE, "table_sha256": file_sha256(folder / PUBLISHED_TABLE),
                           "features": FEATURE_TABLE, "features_sha256": file_sha256(folder / FEATURE_TABLE)}
    write_atomically(folder / PREDICTOR_FILE, (json.dumps(predictor, indent=1, sort_keys=True) + "\n").encode())
    return predictor


def published_rows(wheel: Path) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The wheel's passed phone measurements of the rebuilt architectures, one row per
    (model, precision, device, runtime)."""
    try:
        archive = zipfile.ZipFile(wheel)
    except (OSError, zipfile.BadZipFile) as error:
        raise BadInput(f"{wheel}: cannot read the qai-hub-models wheel: {error}") from None
    with archive:
        version = _wheel_version(archive, wheel)
        label = f"qai-hub-models {version}"
        rows = []
        for model in REFERENCE_MODELS:
            path = f"qai_hub_models/models/{model}/perf.yaml"
            try:
                document = yaml.safe_load(archive.read(path))
            except KeyError:
                raise BadInput(f"{wheel}: {path}: missing; expected a qai-hub-models wheel with it") from None
            rows += [{"source": label, "source_path": path, "model": model, **row}
                     for row in _phone_rows(document)]
    return {"package": "qai-hub-models", "version": version, "wheel": wheel.name}, rows


def fitted_predictor(rows: list[dict[str, Any]], features: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One fit per (device, runtime, precision) with at least MIN_MODELS models, and its LOMO error."""
    fits: dict[str, Any] = {}
    for (device, runtime, precision), members in fit_groups(rows).items():
        _, table, latency = _fit_inputs(members, features)
        entry = {**latency_model.fit(table, latency).as_dict(),
                 "lomo": latency_model.error_summary(held_out_predictions(members, features)),
                 "fitted_macs": [min(_macs(row) for row in table), max(_macs(row) for row in table)]}
        fits.setdefault(device, {}).setdefault(runtime, {})[precision] = entry
    return {"features": list(latency_model.FITTED_FEATURES), "fits": fits, "versions": tool_versions()}


def fit_groups(rows: list[dict[str, Any]]) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    """Published rows by (device, runtime, precision), groups of at least MIN_MODELS models only."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[(row["device"], row["runtime"], row["precision"])].append(row)
    return {key: members for key, members in sorted(groups.items()) if len(members) >= MIN_MODELS}


def held_out_predictions(members: list[dict[str, Any]], features: dict[str, dict[str, Any]]) -> list[dict]:
    """Leave-one-model-out over one group: each model predicted by a fit on the others."""
    return latency_model.leave_one_model_out(*_fit_inputs(members, features))


def _fit_inputs(members: list[dict[str, Any]], features: dict[str, dict[str, Any]]):
    models = [row["model"] for row in members]
    return models, [features[model] for model in models], [float(row["latency_ms"]) for row in members]


def read_features(path: Path) -> dict[str, dict[str, Any]]:
    """The committed feature table by model (empty if there is none yet); numbers as numbers."""
    if not path.exists():
        return {}
    with path.open(newline="") as handle:
        return {row["model"]: {key: value if key in ("model", "application") else int(value)
                               for key, value in row.items()} for row in csv.DictReader(handle)}


def read_published(path: Path) -> list[dict[str, Any]]:
    """The committed published rows (written by `refit`)."""
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def write_table(path: Path, fields: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_atomically(path, buffer.getvalue().encode())


def _feature_rows(known: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Known rows whose architecture is unchanged are kept; the rest are rebuilt and converted (minutes)."""
    from edgebuild.converters.flatbuffer import read_model
    from edgebuild.converters.latency_features import latency_features
    from edgebuild.converters.reference_models import reference_tflite

    rows = []
    for model, reference in REFERENCE_MODELS.items():
        identity = {"model": model, "application": reference.application, "input_size": reference.input_size}
        row = known.get(model)
        if row is None or any(row[key] != value for key, value in identity.items()):
            row = {**identity, **latency_features(read_model(reference_tflite(reference), source=model))}
        rows.append(row)
    return rows


def _phone_rows(document: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for precision in PRECISIONS:
        components = (document.get("precisions") or {}).get(precision, {}).get("components", {})
        if len(components) != 1:  # a multi-part model has no single latency to learn from
            continue
        metrics = next(iter(components.values()))["performance_metrics"]
        for device in PHONES:
            for runtime in RUNTIMES:
                measured = metrics.get(device, {}).get(runtime)
                if measured and measured.get("job_status") == "Passed" and measured.get("inference_time_milliseconds"):
                    rows.append(_row(precision, device, runtime, measured))
    return rows


def _row(precision: str, device: str, runtime: str, measured: dict[str, Any]) -> dict[str, Any]:
    memory, layers = measured.get("estimated_peak_memory_range_mb", {}), measured.get("layer_counts", {})
    return {"precision": precision, "device": device, "runtime": runtime,
            "latency_ms": measured["inference_time_milliseconds"],
            "peak_memory_min_mb": memory.get("min"), "peak_memory_max_mb": memory.get("max"),
            "npu_layers": layers.get("npu"), "total_layers": layers.get("total"),
            "primary_compute_unit": measured.get("primary_compute_unit"), "job_id": measured.get("job_id")}


def _wheel_version(archive: zipfile.ZipFile, wheel: Path) -> str:
    metadata = next((name for name in archive.namelist()
                     if name.startswith("qai_hub_models-") and name.endswith(".dist-info/METADATA")), None)
    if metadata is None:
        raise BadInput(f"{wheel}: no qai_hub_models-*.dist-info/METADATA; expected a qai-hub-models wheel")
    for line in archive.read(metadata).decode().splitlines():
        if line.startswith("Version: "):
            return line.removeprefix("Version: ").strip()
    raise BadInput(f"{wheel}: {metadata}: no Version line")


def _macs(row: dict[str, Any]) -> int:
    return row["macs_conv"] + row["macs_depthwise"] + row["macs_fully_connected"]
