"""A Python that has only NumPy 1.x and tflite-runtime 2.14, the runtime many boards still ship.

tflite-runtime 2.14 does not import under NumPy 2, which edgebuild's own environment uses, so it
gets a venv of its own: the one the test suite's stand-in board uses (tests/on_device_bench/
conftest.py), built once under the user's cache folder and reused by later runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGES = ("numpy<2", "tflite-runtime==2.14.0")
VENV = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "edgebuild-bench" / "tflite-runtime-2.14"
IMPORT_CHECK = "import numpy, tflite_runtime.interpreter; assert numpy.__version__ < '2'"


def tflite_runtime_python() -> Path:
    """The venv's python, built first if it is missing or broken; SystemExit when pip fails."""
    python = VENV / "bin" / "python"
    if not (python.exists() and subprocess.run([str(python), "-c", IMPORT_CHECK], capture_output=True).returncode == 0):
        _build()
    return python


def _build() -> None:
    # Built beside its final place and renamed into it, so a half-built venv is never reused.
    scratch = VENV.with_name(f"{VENV.name}.building-{os.getpid()}")
    shutil.rmtree(scratch, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(scratch)], check=True)
    pip = subprocess.run([str(scratch / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                          *PACKAGES], capture_output=True, text=True)
    if pip.returncode != 0:
        shutil.rmtree(scratch, ignore_errors=True)
        raise SystemExit(f"error: pip could not install {' '.join(PACKAGES)} into {scratch}: "
                         f"{pip.stderr.strip()[-1000:]}")
    shutil.rmtree(VENV, ignore_errors=True)
    os.replace(scratch, VENV)
