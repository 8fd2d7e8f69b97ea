"""The adb transport against a stand-in `adb` on PATH that plays an old Android device on this machine."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from edgebuild.on_device_bench.transports import DeviceBenchOptions, TransportError, bench_on_device

SERIAL = "emulator-5554"
DEVICE_TMP = "/data/local/tmp"
BENCHMARK_MODEL = DEVICE_TMP + "/bench tools/benchmark_model's"
AWKWARD_NAME = "it's a \"model\" $(x).tflite"

# Like adb before Android 7: `shell` exits 0 whatever the command did and answers with \r\n.
# The device's /data/local/tmp is a folder here; device commands run in their own session, so
# killing this adb does not stop them (as on a phone).
FAKE_ADB = '''#!{python}
import shutil, subprocess, sys
SERIAL, DEVICE_TMP, HOST_TMP = {serial!r}, {device_tmp!r}, {host_tmp!r}
args = sys.argv[1:]
if args[:1] == ["-s"]:
    if args[1] != SERIAL:
        sys.exit("adb: device '%s' not found" % args[1])
    args = args[2:]
if args[0] == "push" and args[2].startswith(DEVICE_TMP + "/"):
    shutil.copyfile(args[1], HOST_TMP + args[2][len(DEVICE_TMP):])
    print("%s: 1 file pushed." % args[1])
elif args[0] == "shell":
    command = " ".join(args[1:]).replace(DEVICE_TMP, HOST_TMP)
    done = subprocess.run(["sh", "-c", command], capture_output=True, start_new_session=True)
    sys.stdout.write(done.stdout.decode().replace("\\n", "\\r\\n"))
else:
    sys.exit("adb: unsupported " + repr(args))
'''

# Prints what tflite/tools/benchmark/benchmark_model.cc prints, in the format of a build without
# percentiles; fails like the real tool on a missing file or a custom op it lacks; keeps its
# arguments in a file beside itself for the test to read.
FAKE_BENCHMARK_MODEL = '''#!{python}
import sys
flags = dict(argument[2:].split("=", 1) for argument in sys.argv[1:])
with open(sys.argv[0] + ".args", "w") as record:
    record.write("\\n".join(sys.argv[1:]))
try:
    model = open(flags["graph"], "rb").read()
except OSError:
    print("ERROR: Failed to mmap model " + flags["graph"])
    sys.exit(1)
print("INFO: STARTING!")
print("INFO: Num threads: [%s]" % flags["num_threads"])
if b"BesselI0e" in model:
    print("ERROR: Encountered unresolved custom op: BesselI0e.")
    print("ERROR: Node number 0 (BesselI0e) failed to prepare.")
    print("ERROR: Failed to allocate tensors!")
    sys.exit(1)
runs, warmup = int(flags["num_runs"]), int(flags["warmup_runs"])
print("INFO: The input model file size (MB): 0.002512")
print("INFO: Initialized session in 3.512ms.")
print("INFO: Running benchmark for at least %d iterations and at least 0.5 seconds but terminate if exceeding 150 seconds." % warmup)
print("INFO: count=%d first=61 curr=40 min=38 max=61 avg=45.6667 std=10" % warmup)
print("")
print("INFO: Running benchmark for at least %d iterations and at least 1 seconds but terminate if exceeding 150 seconds." % runs)
print("INFO: count=%d first=41 curr=39 min=37 max=1.25e+03 avg=42.125 std=3" % runs)
print("")
print("INFO: Inference timings in us: Init: 3512, First inference: 61, Warmup (avg): 45.6667, Inference (avg): 42.125")
print("INFO: Note: as the benchmark tool itself affects memory footprint, the following is only APPROXIMATE to the actual memory footprint of the model at runtime. Take the information at your discretion.")
print("INFO: Memory footprint delta from the start of the tool (MB): init=2.5 overall=3.25")
'''


class FakeDevice:
    def __init__(self, root: Path) -> None:
        self.tmp = root / "data-local-tmp"
        (self.tmp / "bench tools").mkdir(parents=True)

    def host_path(self, device_path: str) -> Path:
        return self.tmp / device_path[len(DEVICE_TMP) + 1:]

    def bench_dirs(self) -> list:
        return sorted(path.name for path in self.tmp.iterdir() if path.name.startswith("edgebuild-bench"))


@pytest.fixture
def device(tmp_path, monkeypatch) -> FakeDevice:
    fake = FakeDevice(tmp_path)
    tools = tmp_path / "platform-tools"
    tools.mkdir()
    _script(tools / "adb", FAKE_ADB.format(python=sys.executable, serial=SERIAL, device_tmp=DEVICE_TMP,
                                           host_tmp=str(fake.tmp)))
    _script(fake.host_path(BENCHMARK_MODEL), FAKE_BENCHMARK_MODEL.format(python=sys.executable))
    monkeypatch.setenv("PATH", "{}{}{}".format(tools, os.pathsep, os.environ["PATH"]))
    return fake


def _script(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)


def bench(model, **overrides):
    settings = {"threads": 2, "runs": 30, "warmup": 2, "timeout_s": 30, "benchmark_model_path": BENCHMARK_MODEL}
    settings.update(overrides)
    return bench_on_device("adb:" + SERIAL, str(model), DeviceBenchOptions(**settings))


def test_figures_come_from_benchmark_model_and_missing_ones_are_named(device, int8_classifier, tmp_path):
    model = tmp_path / AWKWARD_NAME
    shutil.copyfile(int8_classifier, model)

    report = bench(model)

    assert (report["transport"], report["device"]) == ("adb", "adb:" + SERIAL)
    assert report["model"]["path"] == str(model) and report["model"]["size_bytes"] == model.stat().st_size
    assert (report["runs"], report["warmup"], report["threads"]) == (30, 2, 2)
    assert report["init_ms"] == pytest.approx(3.512)
    assert report["latency_ms"] == pytest.approx(
        {"p50": None, "p95": None, "p99": None, "mean": 0.042125, "min": 0.037, "max": 1.25, "std": 0.003}
    )
    assert report["memory"]["model_rss_bytes"] == int(3.25 * 2**20)
    assert set(report["not_measured"]) == {
        "latency_ms.p50", "latency_ms.p95", "latency_ms.p99",
        "memory.baseline_rss_bytes", "memory.peak_rss_bytes", "inputs", "outputs",
    }
    assert device.bench_dirs() == []


def test_benchmark_model_gets_the_awkward_path_and_the_settings(device, int8_classifier, tmp_path):
    model = tmp_path / AWKWARD_NAME
    shutil.copyfile(int8_classifier, model)

    bench(model, threads=3, runs=7, warmup=1, min_seconds=0.25)

    arguments = Path(str(device.host_path(BENCHMARK_MODEL)) + ".args").read_text().splitlines()
    # The stand-in sees the device's /data/local/tmp as its host folder.
    assert arguments[0].startswith(f"--graph={device.tmp}/edgebuild-bench-")
    assert arguments[0].endswith("/" + AWKWARD_NAME)
    assert arguments[1:] == ["--num_threads=3", "--num_runs=7", "--warmup_runs=1", "--min_secs=0.25"]


def test_a_failure_behind_adb_exit_0_is_seen(device, custom_op_model):
    with pytest.raises(TransportError, match="status 1: ERROR: Encountered unresolved custom op: BesselI0e"):
        bench(custom_op_model)
    assert device.bench_dirs() == []


def test_missing_benchmark_model_binary_is_reported(device, int8_classifier):
    with pytest.raises(TransportError, match="benchmark_model exited with status 127"):
        bench(int8_classifier, benchmark_model_path=DEVICE_TMP + "/absent/benchmark_model")
    assert device.bench_dirs() == []


def test_unknown_serial_is_one_line(device, int8_classifier):
    with pytest.raises(TransportError, match="device 'nope' not found") as raised:
        bench_on_device("adb:nope", str(int8_classifier), DeviceBenchOptions(timeout_s=30))
    assert "\n" not in str(raised.value)


def test_timeout_kills_the_benchmark_on_the_device_and_removes_its_directory(device, int8_classifier, tmp_path,
                                                                            process_ends):
    pid_file = tmp_path / "hanging.pid"
    _script(device.host_path(DEVICE_TMP + "/hanging_benchmark"),
            f"#!/bin/sh\necho $$ > '{pid_file}'\nexec sleep 60\n")
    started = time.monotonic()

    with pytest.raises(TransportError, match="timed out after 2 s$"):
        bench(int8_classifier, timeout_s=2, benchmark_model_path=DEVICE_TMP + "/hanging_benchmark")

    assert time.monotonic() - started < 15
    assert device.bench_dirs() == []
    assert process_ends(int(pid_file.read_text()))

