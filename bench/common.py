"""What every benchmark records: the machine, the tool versions, the command; and how it saves."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    model = next((line.split(":", 1)[1].strip() for line in _cpuinfo() if line.startswith("model name")), "unknown")
    return {"cpu": model, "cores": os.cpu_count(), "platform": platform.platform(),
            "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)}


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


def save(name: str, results: dict[str, Any]) -> Path:
    """bench/results/<name>.json with the machine, versions and command beside the numbers."""
    from edgebuild.base.tfenv import tool_versions

    document = {"benchmark": name, "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "machine": machine(),
                "versions": tool_versions(), "command": " ".join([Path(sys.executable).name, *sys.argv]),
                **results}
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


def timed(argv: list[str], cwd: Path, env: dict[str, str],
          allowed_exit_codes: tuple[int, ...] = (0,)) -> tuple[subprocess.CompletedProcess, dict]:
    """Runs argv as a child process, timed from outside: wall time, the CPU time (user + system) of the
    child and the processes it waited for (wall time x cores - CPU time is time the cores sat idle),
    and the 1-minute load average before and after (the host may be shared). Another exit code than
    `allowed_exit_codes` ends the benchmark."""
    load_before, cpu_before = os.getloadavg()[0], _children_cpu_seconds()
    started = time.perf_counter()
    finished = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    timing = {"wall_seconds": round(time.perf_counter() - started, 2),
              "cpu_seconds": round(_children_cpu_seconds() - cpu_before, 2), "exit_code": finished.returncode,
              "load_average_1min": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}}
    if finished.returncode not in allowed_exit_codes:
        raise SystemExit(f"{' '.join(argv)} failed ({finished.returncode}):\n{finished.stderr[-3000:]}")
    return finished, timing


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
