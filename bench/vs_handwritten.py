"""edgebuild against the hand-written TF-MOT script that does the same digits job.

    python bench/vs_handwritten.py      (4-5 minutes on 2 shared cores)

Runs bench/handwritten_tfmot.py, then `python -m edgebuild build digits --profile android-flagship
--json` with an empty temporary EDGEBUILD_CACHE, one after the other, each a fresh child process
timed from outside. Compares the int8 artifacts' top-1 on all 1,797 digits (both measured in
ai_edge_litert's Interpreter), size and gzip -9 size, and wall time. edgebuild passes when it is at
least as accurate, its gzip size is at most 1.5x and its wall time at most 1.5x the script's.
"All 1,797" includes each side's training images: both train on the same stratified 80% (seed 0)
and hold out the same 360 test images, whose top-1 is recorded too. The 1-minute load average before and after each run is recorded:
the host is shared, and one pair of runs under a load of 3-6 on 2 cores moves wall times by 2x.
Writes bench/results/vs_handwritten.json.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from common import save, timed

HERE = Path(__file__).resolve().parent
RECIPE, PROFILE = "digits", "android-flagship"
MAX_GZIP_RATIO, MAX_TIME_RATIO = 1.5, 1.5


def run_script(workdir: Path) -> dict:
    finished, timing = timed([sys.executable, str(HERE / "handwritten_tfmot.py")], workdir, dict(os.environ))
    printed = json.loads(finished.stdout.strip().splitlines()[-1])
    return {"artifact_all_data": printed["artifact_all_data_accuracy"],
            "artifact_test": printed["artifact_test_accuracy"],
            "size_bytes": printed["size_bytes"], "gzip_bytes": printed["gzip_bytes"],
            "wall_seconds": timing["wall_seconds"], "inner_seconds": printed["wall_seconds"],
            "load_average_1min": timing["load_average_1min"]}


def run_edgebuild(workdir: Path) -> dict:
    env = {**os.environ, "EDGEBUILD_CACHE": str(workdir / "cache")}
    argv = [sys.executable, "-m", "edgebuild", "build", RECIPE, "--profile", PROFILE, "--out", "out", "--json"]
    _, timing = timed(argv, workdir, env)
    report = json.loads((workdir / "out" / RECIPE / PROFILE / "report.json").read_text())
    return {"artifact_all_data": report["accuracy"]["artifact_all_data"],
            "artifact_test": report["accuracy"]["artifact"],
            "size_bytes": report["artifact"]["size_bytes"], "gzip_bytes": report["artifact"]["gzip_bytes"],
            "wall_seconds": timing["wall_seconds"], "load_average_1min": timing["load_average_1min"],
            "report_passed": report["passed"],
            "stage_seconds": {stage["name"]: stage["seconds"] for stage in report["stages"]}}


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="edgebuild-vs-hand-") as scratch:
        root = Path(scratch)
        (root / "script").mkdir()
        (root / "edgebuild").mkdir()
        script = run_script(root / "script")
        edgebuild = run_edgebuild(root / "edgebuild")
    ratios = {"gzip_edgebuild_over_script": round(edgebuild["gzip_bytes"] / script["gzip_bytes"], 3),
              "size_edgebuild_over_script": round(edgebuild["size_bytes"] / script["size_bytes"], 3),
              "wall_edgebuild_over_script": round(edgebuild["wall_seconds"] / script["wall_seconds"], 3),
              "accuracy_edgebuild_minus_script_points":
                  round(100 * (edgebuild["artifact_all_data"] - script["artifact_all_data"]), 2),
              "test_accuracy_edgebuild_minus_script_points":
                  round(100 * (edgebuild["artifact_test"] - script["artifact_test"]), 2)}
    meets = {"at_least_as_accurate": edgebuild["artifact_all_data"] >= script["artifact_all_data"],
             "gzip_within_1_5x": ratios["gzip_edgebuild_over_script"] <= MAX_GZIP_RATIO,
             "wall_within_1_5x": ratios["wall_edgebuild_over_script"] <= MAX_TIME_RATIO}
    results = {
        "what": "int8 digits artifact: edgebuild build vs the hand-written TF-MOT script (bench/handwritten_tfmot.py)",
        "accuracy_metric": "top-1 of the int8 artifact on all 1,797 digits in ai_edge_litert's Interpreter",
        "timing": "wall time of each child process from outside; edgebuild with an empty cache",
        "rows": {"script": script, "edgebuild": edgebuild},
        "ratios": ratios, "targets": {"accuracy": ">= script", "gzip": f"<= {MAX_GZIP_RATIO}x", "wall": f"<= {MAX_TIME_RATIO}x"},
        "meets": meets, "meets_all": all(meets.values()),
        "load_average": [round(value, 2) for value in os.getloadavg()],
    }
    print(json.dumps(results, indent=2))
    print(f"wrote {save('vs_handwritten', results)}")
    if not results["meets_all"]:
        raise SystemExit(f"edgebuild missed: {', '.join(name for name, met in meets.items() if not met)}")


if __name__ == "__main__":
    main()
