"""The release gate: every check of an artifact against a device profile, each with value and limit."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from edgebuild.config.profile import DeviceProfile
from edgebuild.converters.artifact import Artifact
from edgebuild.converters.flatbuffer import ModelInfo


@dataclass(frozen=True)
class Check:
    name: str
    value: Any
    limit: Any
    passed: bool
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def at_most(name: str, value, limit, unit: str = "") -> Check:
    passed = value <= limit
    reason = "" if passed else f"{name} {value}{unit} exceeds the limit {limit}{unit}"
    return Check(name, value, limit, passed, reason)


def at_least(name: str, value, limit) -> Check:
    passed = value >= limit
    return Check(name, value, limit, passed, "" if passed else f"{name} {value} is below the floor {limit}")


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


def memory_check(artifact: Artifact, profile: DeviceProfile, measured_bytes: int | None) -> tuple[Check, dict]:
    """Peak memory against the budget, on the basis the profile names (see Budgets)."""
    estimate = artifact.arena_bytes + artifact.info.size_bytes
    if profile.budgets.peak_memory_basis == "arena":
        value, method = artifact.arena_bytes, "checked value = activation arena estimated like LiteRT's arena planner"
    else:
        value = max(estimate, measured_bytes or 0)
        method = ("checked value = max(measured RSS growth of a child process running the model, "
                  "model bytes + activation arena estimated like LiteRT's arena planner)")
    details = {"checked_bytes": value, "basis": profile.budgets.peak_memory_basis, "method": method,
               "estimated_bytes": estimate, "estimated_arena_bytes": artifact.arena_bytes,
               "measured_rss_delta_bytes": measured_bytes}
    return at_most("peak_memory_bytes", value, profile.budgets.peak_memory_bytes, " B"), details


def latency_checks(latency_ms: dict, profile: DeviceProfile, label: str = "host") -> list[Check]:
    target = profile.latency
    return [at_most(f"{label}_latency_p50_ms", round(latency_ms["p50"], 4), target.p50_ms, " ms"),
            at_most(f"{label}_latency_p95_ms", round(latency_ms["p95"], 4), target.p95_ms, " ms")]


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
