"""`--baseline`: an earlier report, and the checks that fail a release grown past the profile's tolerances."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, PositiveFloat, PositiveInt

from edgebuild.base.errors import BadInput
from edgebuild.config.profile import Tolerances
from edgebuild.config.yamlfile import YamlDocument, validate
from edgebuild.converters.artifact import Artifact
from edgebuild.verify.checks import Check


class _ReportPart(BaseModel):
    # A report holds far more than the comparison needs, and newer reports may add keys.
    model_config = ConfigDict(extra="ignore", frozen=True)


class _BaselineArtifact(_ReportPart):
    size_bytes: PositiveInt
    sha256: str = ""


class _BaselineLatency(_ReportPart):
    p50: PositiveFloat
    threads: PositiveInt


class BaselineReport(_ReportPart):
    """The parts of a report.json (from `build` or `verify --json`) a baseline comparison reads."""

    artifact: _BaselineArtifact
    latency_ms: _BaselineLatency | None = None


@dataclass(frozen=True)
class Baseline:
    path: Path
    report: BaselineReport


@dataclass(frozen=True)
class BaselineComparison:
    checks: tuple[Check, ...]
    section: dict[str, Any]  # the report's `baseline`: what was compared, the deltas, what was not


def load_baseline(path: Path) -> Baseline:
    """A missing, unreadable or malformed report raises BadInput naming the file (exit 2)."""
    try:
        data = json.loads(Path(path).read_bytes())
    except OSError as error:
        raise BadInput(f"{path}: cannot read the baseline report: {error.strerror or error}") from None
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError
        raise BadInput(f"{path}: the baseline is not a JSON report: {error}") from None
    if not isinstance(data, dict):
        raise BadInput(f"{path}: the baseline is not a report: expected a JSON object, got {type(data).__name__}")
    return Baseline(Path(path), validate(YamlDocument(Path(path), data, key_lines={}), BaselineReport))


def compare_with_baseline(baseline: Baseline, artifact: Artifact, latency_ms: dict[str, Any] | None,
                          tolerances: Tolerances, profile_name: str) -> BaselineComparison:
    """Size growth always; host p50 growth when both runs measured it with the same thread count."""
    earlier = baseline.report
    deltas = [_delta("size_growth_pct", "size_bytes", earlier.artifact.size_bytes, artifact.info.size_bytes,
                     tolerances.size_growth_pct)]
    not_compared = []
    if latency_ms is None:
        not_compared.append("host latency: this model did not run")
    elif earlier.latency_ms is None:
        not_compared.append("host latency: the baseline has none")
    elif earlier.latency_ms.threads != latency_ms["threads"]:
        not_compared.append(f"host latency: the baseline ran {earlier.latency_ms.threads} threads, "
                            f"this run {latency_ms['threads']}")
    else:
        deltas.append(_delta("host_latency_p50_growth_pct", "host_latency_p50_ms", earlier.latency_ms.p50,
                             latency_ms["p50"], tolerances.latency_growth_pct))
    checks = tuple(_growth_check(delta, profile_name) for delta in deltas)
    section = {"path": str(baseline.path), "sha256": earlier.artifact.sha256, "deltas": deltas,
               "not_compared": not_compared}
    return BaselineComparison(checks, section)


def _delta(check: str, metric: str, before: float, now: float, tolerance_pct: float) -> dict[str, Any]:
    return {"check": check, "metric": metric, "baseline": before, "now": now, "change": round(now - before, 6),
            "change_pct": round((now - before) / before * 100.0, 2), "tolerance_pct": tolerance_pct}


def _growth_check(delta: dict[str, Any], profile_name: str) -> Check:
    passed = delta["change_pct"] <= delta["tolerance_pct"]
    reason = "" if passed else (
        f"{delta['metric']} grew {delta['change_pct']:+.1f}% against the baseline ({delta['baseline']:g} → "
        f"{delta['now']:g}), more than the {delta['tolerance_pct']:g}% profile {profile_name} tolerates")
    basis = "host" if delta["metric"].startswith("host_") else "file"
    return Check(delta["check"], delta["change_pct"], delta["tolerance_pct"], passed, reason, basis)
