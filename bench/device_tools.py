"""Benchmark the device-side tools: the arena estimate against TFLite Micro's arena, and Vela's estimates
across the Ethos-U profiles.

    python bench/device_tools.py      (about 3 minutes on 2 cores)

(1) Arena: for each model, edgebuild's tensor-arena estimate (converters/arena.py, largest sum of live
    activation tensors, like LiteRT's arena planner) against the arena TFLite Micro really allocated
    (RecordingMicroAllocator total after one invoke, verify/micro_runtime.py). Models: the digits
    recipe's three student candidates at 16x16 and 32x32, and two MobileNetV2-style students, untrained,
    converted to int8 as `edgebuild fit` converts them (the arena depends on shapes, not weights).
(2) Vela: each of those models and the trained digits build (`edgebuild build digits` for every Ethos-U
    profile, in a temporary cache) compiled with Vela for each bundled Ethos-U profile: NPU/CPU ops,
    estimated inference time, SRAM and weight memory, and the build's own npu checks.

Writes bench/results/device_tools.json with the machine, the tool versions, every command and number.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import save

from edgebuild.config.profile import load_profile, profile_names
from edgebuild.config.recipe import load_recipe
from edgebuild.config.students import STUDENTS
from edgebuild.converters import fit_predict
from edgebuild.converters.artifact import read_artifact
from edgebuild.converters.vela import compile_for_npu
from edgebuild.verify.micro_runtime import run_in_micro

MOBILENET_V2 = [{"architecture": "mobilenet_v2", "width": width, "stem_channels": 8,
                 "blocks": [{"channels": 16, "stride": 2}, {"channels": 24, "stride": 2}, {"channels": 32}]}
                for width in (0.5, 1.0)]


def models(folder: Path) -> dict[str, Path]:
    """Untrained int8 students, as `fit` converts them: name → .tflite."""
    recipe, _ = load_recipe("digits")
    ladder = [(f"digits-{name}", student) for name, student in zip(recipe.student.names(), recipe.student.students())]
    v2 = [(f"mobilenet_v2-w{config['width']}", STUDENTS.get("mobilenet_v2").config.model_validate(config))
          for config in MOBILENET_V2]
    found = {}
    for size in (16, 32):
        named = [*ladder, *v2] if size == 32 else ladder
        converted = fit_predict.converted_candidates([student for _, student in named], (size, size, 1), 10,
                                                     precision="int8", io_dtype="int8",
                                                     pattern=fit_predict.KernelPattern(0.0, None), from_qat=False,
                                                     seed=0)
        for (name, _), model_bytes in zip(named, converted):
            path = folder / f"{name}-{size}x{size}.tflite"
            path.write_bytes(model_bytes)
            found[path.stem] = path
    return found


def arena_rows(found: dict[str, Path]) -> list[dict]:
    rows = []
    for name, path in found.items():
        artifact = read_artifact(path)
        micro = run_in_micro(artifact, None)
        measured = micro.arena_bytes
        rows.append({"model": name, "size_bytes": artifact.info.size_bytes,
                     "estimated_arena_bytes": artifact.arena_bytes,
                     "tflm_arena_bytes": measured, "tflm_error": micro.report.get("error"),
                     "tflm_over_estimate": round(measured / artifact.arena_bytes, 3) if measured else None})
    return rows


def ethos_u_profiles() -> list[str]:
    return [name for name in profile_names() if load_profile(name)[0].npu is not None]


def vela_rows(found: dict[str, Path], profiles: list[str]) -> list[dict]:
    rows = []
    for profile in profiles:
        npu = load_profile(profile)[0].npu
        for name, path in found.items():
            started = time.perf_counter()
            result = compile_for_npu(path.read_bytes(), npu).result
            rows.append({"profile": profile, "model": name, "npu_ops": result.npu_op_count,
                         "cpu_ops": len(result.cpu_layers), "inference_ms": round(result.inference_time_s * 1e3, 6),
                         "sram_bytes": result.sram_bytes, "weight_memory": result.weight_memory,
                         "weight_memory_bytes": result.weight_memory_bytes,
                         "vela_seconds": round(time.perf_counter() - started, 3)})
    return rows


def digits_builds(profiles: list[str], folder: Path) -> tuple[list[dict], str]:
    """The bundled recipe built for every Ethos-U profile; each report's npu section and npu checks."""
    argv = [sys.executable, "-m", "edgebuild", "build", "digits", "--out", str(folder / "out"), "--json"]
    for profile in profiles:
        argv += ["--profile", profile]
    started = time.perf_counter()
    subprocess.run(argv, env={**os.environ, "EDGEBUILD_CACHE": str(folder / "cache")}, check=False,
                   capture_output=True, text=True)
    seconds = round(time.perf_counter() - started, 1)
    rows = []
    for profile in profiles:
        report = json.loads((folder / "out" / "digits" / profile / "report.json").read_text())
        npu = report["npu"]
        rows.append({"profile": profile, "passed": report["passed"],
                     **{key: npu[key] for key in ("accelerator_config", "system_config", "memory_mode", "npu_ops",
                                                  "cpu_ops", "inference_ms", "sram_bytes", "weight_memory",
                                                  "weight_memory_bytes")},
                     "compiled_bytes": npu["compiled"]["size_bytes"], "model_bytes": report["artifact"]["size_bytes"],
                     "npu_checks": {check["name"]: [check["value"], check["limit"], check["passed"]]
                                    for check in report["checks"] if check["name"].startswith("npu_")}})
    return rows, f"{' '.join(argv[1:])}  ({seconds} s)"


def main() -> None:
    profiles = ethos_u_profiles()
    with tempfile.TemporaryDirectory(prefix="edgebuild-bench-tools-") as scratch:
        folder = Path(scratch)
        found = models(folder)
        arena = arena_rows(found)
        vela = vela_rows(found, profiles)
        builds, build_command = digits_builds(profiles, folder)
    ratios = [row["tflm_over_estimate"] for row in arena if row["tflm_over_estimate"]]
    path = save("device_tools", {"arena": arena, "vela": vela, "digits_builds": builds,
                                 "digits_build_command": build_command, "ethos_u_profiles": profiles,
                                 "tflm_over_estimate_range": [min(ratios), max(ratios)] if ratios else None})
    print(path)


if __name__ == "__main__":
    main()
