"""Resident memory of this process: now, and the peak so far."""

from __future__ import annotations

import os
import resource
import sys

# Peak from VmHWM, not getrusage: on Linux ru_maxrss survives fork+exec, so a runner started by a
# process holding 600 MB reported a 600 MB peak (checked); VmHWM belongs to this process's own
# address space and starts again at exec.
_METHOD_PROC = "rss: /proc/self/statm before loading the model; peak: VmHWM in /proc/self/status"
_METHOD_RUSAGE = "rss and peak: getrusage ru_maxrss (no /proc; includes the parent's peak after fork)"


def measurement_method() -> str:
    return _METHOD_PROC if _proc_readable() else _METHOD_RUSAGE


def current_rss_bytes() -> int:
    if _proc_readable():
        with open("/proc/self/statm") as statm:
            resident_pages = int(statm.read().split()[1])
        return resident_pages * os.sysconf("SC_PAGE_SIZE")
    return _rusage_peak_bytes()


def peak_rss_bytes() -> int:
    if _proc_readable():
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    return _rusage_peak_bytes()


def _rusage_peak_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


def _proc_readable() -> bool:
    return os.path.exists("/proc/self/statm") and os.path.exists("/proc/self/status")
