"""The release gate: every check of an artifact against a device profile, each with value and limit."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from edgebuild.config.profile import DeviceProfile
from edgebuild.converters.artifact import Artifact
from edgebuild.converters.flatbuffer import ModelInfo
from edgebuild.converters.vela import VelaResult


# Where a check's value comes from, so a proxy is never read as the device's own number.
BASES = {
    "file": "read off the .tflite",
    "host": "measured on this machine: a proxy, not the device",
    "estimate": "computed from the file's tensors",
    "device": "measured on the device",
    "vendor-estimate": "the device vendor's compiler's estimate",
    "micro-runtime": "measured in the microcontroller runtime",
    "prediction": "predicted from published device measurements",
}


@dataclass(frozen=True)
class Check:
    """One gate decision. `basis`: where the value comes from (BASES): read off the file, measured on
    this host (a proxy for the device), estimated, measured on the device, a vendor tool's estimate,
    the micro runtime, a prediction. `ran` False: the check could not run here (the reason says why);
    it is reported as not run, and counted neither as passed nor as failed."""

    name: str
    value: Any
    limit: Any
    passed: bool
    reason: str = ""
    basis: str = "file"
    ran: bool = True

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def verdict(checks) -> bool:
    """Passed: every check that ran passed."""
    return all(check.passed for check in checks if check.ran)


def not_run(name: str, limit: Any, reason: str, basis: str) -> Check:
    return Check(name, None, limit, False, reason, basis, ran=False)


def at_most(name: str, value, limit, unit: str = "", basis: str = "file") -> Check:
    passed = value <= limit
    reason = "" if passed else f"{name} {value}{unit} exceeds the limit {limit}{unit}"
    return Check(name, value, limit, passed, reason, basis)


def at_least(name: str, value, limit, basis: str = "file") -> Check:
    passed = value >= limit
    return Check(name, value, limit, passed, "" if passed else f"{name} {value} is below the floor {limit}", basis)


def static_checks(artifact: Artifact, profile: DeviceProfile) -> list[Check]:
    """Checks read off the file alone: size, precision, dtypes, ops."""
    info, budgets = artifact.info, profile.budgets
    checks = [
        at_most("size_bytes", info.size_bytes, budgets.size_bytes, " B"),
        at_most("gzip_bytes", artifact.gzip_bytes, budgets.gzip_bytes, " B"),
        _member("precision", artifact.precision, profile.precisions),
        _dtypes("input_dtype", info.inputs, profile.io_dtypes),
        _dtypes("output_dtype", info.outputs, profile.io_dtypes),
    ]
    if profile.requires_full_integer:
        float_ops = sorted({op.name for op in info.float_ops()})
        checks.append(Check("float_ops", len(info.float_ops()), 0, not float_ops,
                            f"profile {profile.name} runs full-integer only; float ops: {', '.join(float_ops)}"
                            if float_ops else ""))
    if profile.ops.allow is not None:
        checks.append(_allowed_ops(info, profile))
    return checks


def memory_check(artifact: Artifact, profile: DeviceProfile, measured_bytes: int | None,
                 micro: tuple[int, str, str] | None = None) -> tuple[Check, dict]:
    """Peak memory against the budget, on the basis the profile names (see Budgets); a TFLite Micro
    profile's is `micro`, (bytes, basis, method) of the arena TFLite Micro allocated, when it ran."""
    estimate = artifact.arena_bytes + artifact.info.size_bytes
    if micro is not None:
        value, basis, method = micro
    elif profile.micro_runtime is not None:  # TFLite Micro did not run (or `fit`, before any model runs)
        value = artifact.arena_bytes + (artifact.info.size_bytes if profile.micro_runtime.model_in_ram else 0)
        basis, method = "estimate", ("checked value = activation arena estimated like LiteRT's arena planner "
                                     "(TFLite Micro did not run the model)")
    elif profile.budgets.peak_memory_basis == "arena":
        value, method = artifact.arena_bytes, "checked value = activation arena estimated like LiteRT's arena planner"
        basis = "estimate"
    else:
        basis = "host" if measured_bytes is not None else "estimate"
        value = max(estimate, measured_bytes or 0)
        method = ("checked value = max(measured RSS growth of a child process running the model, "
                  "model bytes + activation arena estimated like LiteRT's arena planner)")
    profile_basis = "micro-runtime" if profile.micro_runtime is not None else profile.budgets.peak_memory_basis
    details = {"checked_bytes": value, "basis": profile_basis, "check_basis": basis, "method": method,
               "estimated_bytes": estimate, "estimated_arena_bytes": artifact.arena_bytes,
               "measured_rss_delta_bytes": measured_bytes}
    return at_most("peak_memory_bytes", value, profile.memory_budget_bytes, " B", basis), details


def latency_checks(latency_ms: dict, profile: DeviceProfile, basis: str = "host", note: str = "") -> list[Check]:
    """p50 and p95 against the profile's targets, named by their basis (`host_latency_p50_ms`, ...);
    `note` says how the timing differs from what the profile asks (fewer cores), passed or not."""
    target = profile.latency
    checks = [at_most(f"{basis}_latency_p50_ms", round(latency_ms["p50"], 4), target.p50_ms, " ms", basis),
              at_most(f"{basis}_latency_p95_ms", round(latency_ms["p95"], 4), target.p95_ms, " ms", basis)]
    return [with_note(check, note) for check in checks]


def with_note(check: Check, note: str) -> Check:
    """The check with `note` added to its reason (a passing check's reason is only its note)."""
    if not note:
        return check
    return replace(check, reason=f"{check.reason}; {note}" if check.reason else note)


def _member(name: str, value: str, allowed: tuple[str, ...]) -> Check:
    passed = value in allowed
    return Check(name, value, list(allowed), passed, "" if passed else f"{name} {value} is not one of {list(allowed)}")


def _dtypes(name: str, tensors, allowed: tuple[str, ...]) -> Check:
    found = sorted({t.dtype for t in tensors})
    bad = [dtype for dtype in found if dtype not in allowed]
    return Check(name, found, list(allowed), not bad, f"{name} {', '.join(bad)} is not one of {list(allowed)}" if bad else "")


def _allowed_ops(info: ModelInfo, profile: DeviceProfile) -> Check:
    outside = {name: count for name, count in sorted(info.op_counts.items()) if name not in profile.ops.allow}
    listed = ", ".join(f"{name}×{count}" for name, count in outside.items())
    delegate = profile.ops.delegate or profile.name
    return Check("ops_allowed", sorted(outside), "profile ops.allow", not outside,
                 f"ops outside what {delegate} runs: {listed}" if outside else "")


def npu_checks(result: VelaResult, profile: DeviceProfile) -> list[Check]:
    """Vela's placement and estimates against the profile's NPU budgets and latency target."""
    npu = profile.npu
    return [_npu_ops(result, npu.require_all_ops_on_npu), _npu_latency(result, profile.latency.p50_ms),
            at_most("npu_sram_bytes", result.sram_bytes, npu.sram_bytes, " B", "vendor-estimate"),
            at_most("npu_flash_bytes", result.weight_memory_bytes, npu.flash_bytes, " B", "vendor-estimate")]


def _npu_ops(result: VelaResult, require_all: bool) -> Check:
    """The share of ops Vela places on the NPU; each CPU op named with Vela's reason."""
    total, cpu = len(result.layers), result.cpu_layers
    share = round(result.npu_op_count / total, 4) if total else 0.0
    named = "; ".join(f"{layer.op} '{layer.name}' ({layer.reason or 'Vela gave no reason'})" for layer in cpu)
    reason = f"{len(cpu)} of {total} ops run on the CPU, not the NPU: {named}" if cpu else ""
    if not require_all and cpu:
        reason += " (allowed: the profile's firmware runs CPU ops)"
    return Check("npu_ops_share", share, 1.0 if require_all else "reported", not (require_all and cpu), reason,
                 "vendor-estimate")


def _npu_latency(result: VelaResult, target_ms: float) -> Check:
    """Vela's estimated inference time against the p50 target: an estimate of the NPU's part only."""
    if not result.npu_op_count:
        return not_run("npu_inference_ms", target_ms, "no op runs on the NPU, so Vela estimates no time",
                       "vendor-estimate")
    value = round(result.inference_time_s * 1000, 6)
    check = at_most("npu_inference_ms", value, target_ms, " ms", "vendor-estimate")
    if result.cpu_layers:
        check = with_note(check, f"the NPU's part only: {len(result.cpu_layers)} ops on the CPU are not in "
                                 f"Vela's estimate")
    return check
