"""Fuzzing the model reader and `edgebuild verify` with mutated real .tflite files.

    python bench/fuzz.py [--cases 10000] [--seconds 240] [--seed 0] [--cli-sample 40]
                         [--seed-models A.tflite B.tflite ...] [--out FILE]

Seed models are converted here with edgebuild's own converter (or passed with --seed-models). Each
case is one seed with one seeded mutation: bit flips, truncation, inserted or deleted bytes, a
32-bit word set to an extreme, or a field the schema locates (a vector's length, a tensor's shape,
a buffer index, an operator's inputs) set to an extreme — shapes that claim tensors of 4 GB and
more, vectors that claim billions of elements. The bulk runs the real reader and every check that
needs no interpreter (`read_artifact`, `static_checks`, `memory_check`, the report's artifact
section) in worker processes, one case at a time under a per-case alarm, with their address space
capped so an allocation the file talks the reader into fails instead of swapping; a worker that
dies or stops answering is counted against the case it was on and a new worker goes on. A sample
of the cases runs through the real `edgebuild verify` CLI (the model run in its child interpreter).

Every case must end as a verdict (checks passed: exit 0, a check failed: exit 1) or a refusal (one
line, exit 2); anything else is a crash or a hang, and a `verify` whose processes peak above 1 GiB has
allocated what a shape claims (the first run found one: a dimension set to 2^30 made LiteRT allocate
4 GiB; verify now leaves a model estimated at over 16x its profile's memory budget unrun).
bench/results/fuzz.json holds the counts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import signal
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROFILE = "android-flagship"
CASE_TIMEOUT_S = 10  # a case the reader spends longer on is a hang
CLI_TIMEOUT_S = 180
WORKER_ADDRESS_SPACE = 4 << 30  # far above what reading a small model needs, far below a 4 GB tensor's worth
CHUNK = 1000  # cases per worker process
CLI_MEMORY_BOUND = 1 << 30  # a `verify` of a small model that needs more has allocated what a shape claims
INT32_EXTREMES = (0, 1, -1, 2**31 - 1, -(2**31), 2**30, 65536, 255)


# --- mutations -----------------------------------------------------------------------------------

def structure(data: bytes) -> dict[str, list[int]]:
    """Byte positions of fields the schema locates: vector lengths, tensor dims, tensor buffer indexes,
    operator tensor indexes and opcode indexes, buffer offsets and sizes."""
    from ai_edge_litert import schema_py_generated as schema

    found: dict[str, list[int]] = {"vector_length": [], "int32": [], "uint64": []}
    model = schema.Model.GetRootAs(data, 0)
    table = model._tab
    for field in (6, 8, 12, 16):  # operator_codes, subgraphs, buffers, metadata
        _vector(table, field, found)
    for b in range(model.BuffersLength()):
        buffer = model.Buffers(b)
        _vector(buffer._tab, 4, found)  # data
        for field in (6, 8):  # offset, size (uint64; present only in models with external buffers)
            _scalar(buffer._tab, field, found["uint64"])
    for s in range(model.SubgraphsLength()):
        subgraph = model.Subgraphs(s)
        for field in (4, 6, 8, 10):  # tensors, inputs, outputs, operators
            _vector(subgraph._tab, field, found, elements=field in (6, 8))
        for t in range(subgraph.TensorsLength()):
            tensor = subgraph.Tensors(t)
            _vector(tensor._tab, 4, found, elements=True)  # shape
            _scalar(tensor._tab, 8, found["int32"])  # buffer index
        for o in range(subgraph.OperatorsLength()):
            operator = subgraph.Operators(o)
            _scalar(operator._tab, 4, found["int32"])  # opcode index
            for field in (6, 8):  # inputs, outputs
                _vector(operator._tab, field, found, elements=True)
    return found


def _vector(table, field: int, found: dict[str, list[int]], elements: bool = False) -> None:
    offset = table.Offset(field)
    if not offset:
        return
    start = table.Vector(offset)
    found["vector_length"].append(start - 4)
    if elements:
        found["int32"].extend(start + 4 * i for i in range(table.VectorLen(offset)))


def _scalar(table, field: int, positions: list[int]) -> None:
    offset = table.Offset(field)
    if offset:
        positions.append(table.Pos + offset)


def mutate(data: bytes, fields: dict[str, list[int]], chance: random.Random) -> tuple[str, bytes]:
    """One mutation of `data`: (what was done, the mutated bytes)."""
    kind = chance.choice(("bit_flips", "truncate", "insert", "delete", "word", "vector_length", "int32_field",
                          "huge_shape", "uint64_field"))
    out = bytearray(data)
    if kind == "bit_flips":
        flips = chance.randint(1, 8)
        for _ in range(flips):
            out[chance.randrange(len(out))] ^= 1 << chance.randrange(8)
        return f"bit_flips: {flips}", bytes(out)
    if kind == "truncate":
        at = chance.randrange(len(out))
        return f"truncate: to {at} bytes", bytes(out[:at])
    if kind == "insert":
        at, size = chance.randrange(len(out) + 1), chance.choice((1, 3, 4, 8, 64, 4096))
        return f"insert: {size} bytes at {at}", bytes(out[:at]) + chance.randbytes(size) + bytes(out[at:])
    if kind == "delete":
        at, size = chance.randrange(len(out)), chance.choice((1, 4, 16, 256))
        return f"delete: {size} bytes at {at}", bytes(out[:at] + out[at + size:])
    if kind == "word":  # any aligned 32-bit word: a root offset, a vtable offset, a length, a value
        at = chance.randrange(len(out) // 4) * 4
        return _set_int32(out, at, chance.choice(INT32_EXTREMES + (len(data), len(data) - 4)), "word")
    if kind == "vector_length":
        return _set_int32(out, chance.choice(fields["vector_length"]), chance.choice(INT32_EXTREMES), "vector_length")
    if kind == "int32_field":
        return _set_int32(out, chance.choice(fields["int32"]), chance.choice(INT32_EXTREMES), "int32_field")
    if kind == "huge_shape":  # several dims of one tensor at 2^16: it claims 16 GiB and more
        at = chance.choice(fields["int32"])
        for position in range(at, min(at + 16, len(out) - 3), 4):
            struct.pack_into("<i", out, position, 65536)
        return f"huge_shape: dims from byte {at}", bytes(out)
    if not fields["uint64"]:
        return _set_int32(out, chance.choice(fields["vector_length"]), 2**31 - 1, "vector_length")
    at = chance.choice(fields["uint64"])
    value = chance.choice((2, 2**32, 2**63 - 1, len(data), 2**64 - 1))
    struct.pack_into("<Q", out, at, value)
    return f"uint64_field: at {at} set to {value}", bytes(out)


def _set_int32(out: bytearray, at: int, value: int, what: str) -> tuple[str, bytes]:
    struct.pack_into("<i" if value < 2**31 else "<I", out, at, value)
    return f"{what}: at {at} set to {value}", bytes(out)


def case(seeds: list[bytes], fields: list[dict], seed: int, number: int) -> tuple[int, str, bytes]:
    """Case `number`: (seed model index, mutation, bytes) — the same on every run."""
    chance = random.Random(f"{seed}:{number}")
    model = number % len(seeds)
    what, data = mutate(seeds[model], fields[model], chance)
    return model, what, data


# --- the bulk: the reader and the static checks, in worker processes --------------------------------

class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


def judge(path: Path, profile) -> tuple[str, str | int]:
    """('verdict-pass' | 'verdict-fail' | 'refused' | 'crash', detail) for one file, in-process; a
    verdict's detail is the activation arena its tensors claim, in bytes (never allocated here; recorded
    up to 2^63, a damaged shape can claim a number of a thousand digits)."""
    from edgebuild.base.errors import BadInput
    from edgebuild.converters.artifact import read_artifact
    from edgebuild.verify.checks import memory_check, static_checks, verdict

    try:
        artifact = read_artifact(path)
        checks = [*static_checks(artifact, profile), memory_check(artifact, profile, None)[0]]
        json.dumps(artifact.as_dict())
    except BadInput as error:
        message = str(error)
        return ("refused", message) if "\n" not in message else ("crash", f"a refusal of several lines: {message!r}")
    except Hang:
        raise
    except BaseException as error:  # the finding: MemoryError too
        return "crash", f"{type(error).__name__}: {error}"[:500]
    return ("verdict-pass" if verdict(checks) else "verdict-fail"), min(artifact.arena_bytes, 2**63)


def worker(spec_path: Path, results_path: Path) -> None:
    """Judge cases spec['first']..spec['last'], one JSON line each to `results_path`, flushed."""
    resource.setrlimit(resource.RLIMIT_AS, (WORKER_ADDRESS_SPACE, WORKER_ADDRESS_SPACE))
    signal.signal(signal.SIGALRM, _alarm)
    from edgebuild.config.profile import load_profile

    spec = json.loads(spec_path.read_text())
    seeds = [Path(p).read_bytes() for p in spec["seed_models"]]
    fields = [structure(data) for data in seeds]
    profile, _ = load_profile(PROFILE)
    scratch = Path(spec["scratch"])
    with open(results_path, "a") as results:
        for number in range(spec["first"], spec["last"]):
            model, what, data = case(seeds, fields, spec["seed"], number)
            path = scratch / f"case-{number}.tflite"
            path.write_bytes(data)
            signal.alarm(CASE_TIMEOUT_S)
            try:
                outcome, detail = judge(path, profile)
            except Hang:
                outcome, detail = "hang", f"over {CASE_TIMEOUT_S} s"
            signal.alarm(0)
            path.unlink()
            results.write(json.dumps({"case": number, "model": model, "mutation": what, "outcome": outcome,
                                      "detail": detail, "rss_bytes": _peak_rss_bytes()}) + "\n")
            results.flush()


def _peak_rss_bytes() -> int:
    """This process's peak RSS since it started (VmHWM; ru_maxrss would count the parent's from before exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def run_bulk(seed_models: list[Path], seed: int, cases: int, deadline: float, scratch: Path) -> list[dict]:
    """Every case's result; a worker that dies or overruns is charged to the case it was on."""
    results_path = scratch / "results.jsonl"
    results_path.touch()
    done: dict[int, dict] = {}
    first = 0
    while first < cases and time.monotonic() < deadline:
        last = min(first + CHUNK, cases)
        spec = scratch / "spec.json"
        spec.write_text(json.dumps({"seed_models": [str(p) for p in seed_models], "seed": seed, "first": first,
                                    "last": last, "scratch": str(scratch)}))
        child = subprocess.Popen([sys.executable, __file__, "--worker", str(spec), str(results_path)],
                                 start_new_session=True)
        status = _wait(child, results_path, done)
        if status is not None:  # charged to the case after the last it finished
            stuck = max((n for n in done if first <= n < last), default=first - 1) + 1
            done[stuck] = {"case": stuck, "outcome": status, "detail": "the worker process " + status,
                           "mutation": case_description(seed_models, seed, stuck)}
            first = stuck + 1
        else:
            first = last
    return [done[n] for n in sorted(done)]


def _wait(child: subprocess.Popen, results_path: Path, done: dict[int, dict]) -> str | None:
    """None when the worker finished its chunk; 'hang' or 'crash' when it had to be stopped or died."""
    seen, last_progress = 0, time.monotonic()
    while True:
        try:
            code = child.wait(timeout=1)
        except subprocess.TimeoutExpired:
            code = None
        lines = results_path.read_text().splitlines()
        for line in lines[seen:]:
            entry = json.loads(line)
            done[entry["case"]] = entry
        if len(lines) > seen:
            seen, last_progress = len(lines), time.monotonic()
        if code is not None:
            return None if code == 0 else "crash"
        if time.monotonic() - last_progress > CASE_TIMEOUT_S + 20:  # the alarm did not get through: C code
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            return "hang"


def case_description(seed_models: list[Path], seed: int, number: int) -> str:
    seeds = [p.read_bytes() for p in seed_models]
    return case(seeds, [structure(d) for d in seeds], seed, number)[1]


# --- the sample: the real CLI ----------------------------------------------------------------------

def run_cli_sample(seed_models: list[Path], seed: int, bulk: list[dict], count: int, scratch: Path) -> list[dict]:
    """`edgebuild verify` on `count` cases spread over the bulk, three in four of them files the reader
    accepted (only those reach the interpreter): exit 0/1, or 2 with one line; a case the reader refused
    must be refused by the CLI too."""
    seeds = [p.read_bytes() for p in seed_models]
    fields = [structure(d) for d in seeds]
    accepted = [entry for entry in bulk if entry["outcome"].startswith("verdict")]
    refused = [entry for entry in bulk if entry["outcome"] == "refused"]
    sample = _spread(accepted, count - count // 4) + _spread(refused, count // 4)
    sample += [max(accepted, key=lambda entry: entry["detail"])] if accepted else []  # the largest claim
    found = []
    for entry in sample:
        _, what, data = case(seeds, fields, seed, entry["case"])
        path = scratch / f"cli-{entry['case']}.tflite"
        path.write_bytes(data)
        found.append({"case": entry["case"], "mutation": what, "reader": entry["outcome"], **_verify_cli(path)})
        path.unlink()
    return found


_RSS_WRAPPER = ("import resource, subprocess, sys; code = subprocess.call(sys.argv[2:]); "
                "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); "
                "sys.exit(code)")


def _spread(entries: list[dict], count: int) -> list[dict]:
    return entries[:: max(1, len(entries) // count)][:count] if count > 0 else []


def _verify_cli(path: Path) -> dict:
    command = [sys.executable, "-m", "edgebuild", "verify", str(path), "--profile", PROFILE, "--runs", "3",
               "--min-seconds", "0", "--timeout", "30", "--json"]
    started = time.monotonic()
    peak_file = path.with_suffix(".rss")
    # A small wrapper waits for the CLI, so its RUSAGE_CHILDREN peak is the CLI's and the interpreter child's.
    child = subprocess.Popen([sys.executable, "-c", _RSS_WRAPPER, str(peak_file), *command], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True,
                             env={**os.environ, "EDGEBUILD_CACHE": str(path.parent / "cache")})
    try:
        stdout, stderr = child.communicate(timeout=CLI_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        return {"exit": None, "outcome": "hang", "seconds": CLI_TIMEOUT_S, "rss_bytes": 0}
    finished = subprocess.CompletedProcess(command, child.returncode, stdout, stderr)
    rss_bytes = int(peak_file.read_text()) * 1024 if peak_file.exists() else 0
    peak_file.unlink(missing_ok=True)
    errors = [line for line in finished.stderr.splitlines() if line.startswith("error:")]
    clean = "Traceback" not in finished.stderr + finished.stdout
    if finished.returncode in (0, 1) and clean:
        outcome = "verdict"
    elif finished.returncode == 2 and clean and len(errors) == 1:
        outcome = "refused"
    else:
        outcome = "crash"
    if rss_bytes > CLI_MEMORY_BOUND:
        outcome = "memory"
    return {"exit": finished.returncode, "outcome": outcome, "seconds": round(time.monotonic() - started, 2),
            "rss_bytes": rss_bytes,
            "error": errors[0] if errors else "", "stderr_tail": "" if outcome != "crash" else finished.stderr[-800:]}


# --- seeds -----------------------------------------------------------------------------------------

def make_seed_models(folder: Path) -> list[Path]:
    """Six real models: from edgebuild's converter a CNN at three precisions, a depthwise (MobileNet-style)
    int8 student and a float16 dense model; from TensorFlow's, a two-input, two-output model (edgebuild
    exports single-input classifiers only)."""
    import numpy as np

    from edgebuild.base import tfenv
    from edgebuild.converters.export import export_saved_model
    from edgebuild.converters.tflite import convert

    tf = tfenv.tensorflow(seed=0)
    import tf_keras as keras

    layers = keras.layers
    cnn = keras.Sequential([layers.Input((8, 8, 1)), layers.Conv2D(4, 3, activation="relu"), layers.Flatten(),
                            layers.Dense(10)])
    depthwise = keras.Sequential([layers.Input((16, 16, 1)), layers.Conv2D(8, 3, strides=2, padding="same"),
                                  layers.BatchNormalization(), layers.ReLU(6.0),
                                  layers.DepthwiseConv2D(3, padding="same"), layers.Conv2D(16, 1),
                                  layers.GlobalAveragePooling2D(), layers.Dense(10)])
    dense = keras.Sequential([layers.Input((20,)), layers.Dense(16, activation="tanh"), layers.Dense(3)])
    series, extra = layers.Input((5, 3)), layers.Input((2,))
    joined = layers.Concatenate()([layers.Flatten()(series), extra])
    two_heads = keras.Model([series, extra], [layers.Dense(4)(joined), layers.Dense(1)(joined)])
    (folder / "two_heads_float32.tflite").write_bytes(tf.lite.TFLiteConverter.from_keras_model(two_heads).convert())
    rng = np.random.default_rng(0)
    made = {
        "cnn_float32": (cnn, "float32", "float32", None),
        "cnn_float16": (cnn, "float16", "float32", None),
        "cnn_int8": (cnn, "int8", "int8", rng.uniform(0, 1, (20, 8, 8, 1)).astype(np.float32)),
        "depthwise_int8": (depthwise, "int8", "int8", rng.uniform(0, 1, (20, 16, 16, 1)).astype(np.float32)),
        "dense_float16": (dense, "float16", "float32", None),
    }
    paths = [folder / "two_heads_float32.tflite"]
    for name, (model, precision, io_dtype, calibration) in made.items():
        export_saved_model(model, folder / name)
        path = folder / f"{name}.tflite"
        path.write_bytes(convert(folder / name, precision, io_dtype, calibration))
        paths.append(path)
    return paths


def _seed_models_made_in_a_child(folder: Path) -> list[Path]:
    """TensorFlow stays out of this process: its peak RSS would otherwise pass to every child it starts."""
    subprocess.run([sys.executable, __file__, "--make-seeds", str(folder)], check=True)
    return sorted(folder.glob("*.tflite"))


# --- the run ---------------------------------------------------------------------------------------

def summarize(bulk: list[dict], cli: list[dict], requested: int, seconds: float, seed_models: list[Path],
              seed: int) -> dict:
    outcomes = [entry["outcome"] for entry in bulk]
    crashes = [entry for entry in bulk if entry["outcome"] == "crash"]
    hangs = [entry for entry in bulk if entry["outcome"] == "hang"]
    cli_bad = [entry for entry in cli if entry["outcome"] in ("crash", "hang", "memory")
               or (entry["reader"] == "refused" and entry["outcome"] != "refused")]
    return {
        "cases": len(bulk), "requested_cases": requested, "seed": seed, "seconds": round(seconds, 1),
        "seed_models": {p.name: p.stat().st_size for p in seed_models},
        "verdicts": outcomes.count("verdict-pass") + outcomes.count("verdict-fail"),
        "verdicts_passed": outcomes.count("verdict-pass"), "verdicts_failed": outcomes.count("verdict-fail"),
        "refusals": outcomes.count("refused"), "crashes": len(crashes), "hangs": len(hangs),
        "peak_rss_bytes": max((entry.get("rss_bytes", 0) for entry in bulk), default=0),
        "peak_rss_cli_bytes": max((entry["rss_bytes"] for entry in cli), default=None),
        "largest_claimed_arena_bytes": max((entry["detail"] for entry in bulk if entry["outcome"].startswith("verdict")),
                                           default=0),
        "worker_address_space_bytes": WORKER_ADDRESS_SPACE,
        "mutations": _by_kind(bulk),
        "cli": {"cases": len(cli), "verdicts": sum(e["outcome"] == "verdict" for e in cli),
                "refusals": sum(e["outcome"] == "refused" for e in cli), "failures": len(cli_bad),
                "crashes": sum(e["outcome"] == "crash" for e in cli), "hangs": sum(e["outcome"] == "hang" for e in cli),
                "over_memory_bound": sum(e["outcome"] == "memory" for e in cli), "memory_bound_bytes": CLI_MEMORY_BOUND,
                "max_seconds": max((e["seconds"] for e in cli), default=0)},
        "findings": (crashes + hangs)[:20], "cli_findings": cli_bad[:20],
    }


def _by_kind(bulk: list[dict]) -> dict[str, dict[str, int]]:
    kinds: dict[str, dict[str, int]] = {}
    for entry in bulk:
        counts = kinds.setdefault(entry["mutation"].split(":")[0], {})
        counts[entry["outcome"]] = counts.get(entry["outcome"], 0) + 1
    return kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=240, help="stop starting new cases after this long")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cli-sample", type=int, default=40)
    parser.add_argument("--seed-models", type=Path, nargs="*", default=None)
    parser.add_argument("--out", type=Path, default=None, help="write the counts here instead of bench/results")
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="edgebuild-fuzz-") as folder:
        scratch = Path(folder)
        seed_models = args.seed_models or _seed_models_made_in_a_child(scratch)
        bulk = run_bulk(seed_models, args.seed, args.cases, started + args.seconds, scratch)
        cli = run_cli_sample(seed_models, args.seed, bulk, args.cli_sample, scratch)
        results = summarize(bulk, cli, args.cases, time.monotonic() - started, seed_models, args.seed)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    else:
        sys.path.insert(0, str(HERE))
        from common import save

        save("fuzz", results)
    print(json.dumps({k: results[k] for k in ("cases", "verdicts", "refusals", "crashes", "hangs", "peak_rss_bytes")}
                     | {"cli": results["cli"]}))
    sys.exit(0 if results["crashes"] == results["hangs"] == results["cli"]["failures"] == 0 else 1)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(Path(sys.argv[2]), Path(sys.argv[3]))
    elif sys.argv[1:2] == ["--make-seeds"]:
        make_seed_models(Path(sys.argv[2]))
    else:
        main()
