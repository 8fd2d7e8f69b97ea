"""The precision ladder: when the configured conversion misses the accuracy floor or a budget, climb.

Rungs, in this order and only where the profile allows them (`convert.search.max_trials` caps the
count): (1) the configured conversion, exactly as without the search; (2) int8 calibrated on more
samples; (3) int8 on as many samples with each channel's weight range clipped by OCTAV through
litert-quantizer (still full-integer, so NPU and microcontroller profiles climb it too; activation
ranges stay min/max, as litert-quantizer offers no percentile or MSE ranges for them); (4)
`int8_mixed`, int8 with the ops that lose most accuracy kept float — only when the profile lists it
and accepts float ops, never on a full-integer NPU or microcontroller profile; (5) `int16x8`; (6)
float16; (7) float32. Each rung is converted, measured in the interpreter and gated like any build
(its stages cached); the first that passes ships, else every rung is reported and the configured one
is published, failing.
"""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass
from pathlib import Path

from edgebuild.app.pipeline import conversion_source, float_reference
from edgebuild.app.publish import ProfileResult, publish_target
from edgebuild.base.errors import GateFailed
from edgebuild.base.stage import Stage, Upstream, run_cached
from edgebuild.config.precisions import PRECISIONS
from edgebuild.config.recipe import SearchConfig
from edgebuild.config.targets import Target
from edgebuild.converters.convert import ConvertStage
from edgebuild.converters.export import ExportStage
from edgebuild.converters.vela import VelaStage
from edgebuild.toolchain.context import BuildContext
from edgebuild.verify.device import DeviceRun
from edgebuild.verify.measure import MeasureStage
from edgebuild.verify.report import PrecisionSearch, Rung

_LATER_PRECISIONS = ("int16x8", "float16", "float32")
_RUNG_STAGES = ("export", "convert", "vela", "measure")


@dataclass(frozen=True)
class RungPlan:
    name: str
    precision: str
    representative_samples: int
    keep_float: int = 0
    clipped_weights: bool = False


def ladder(target: Target, representative_samples: int, search: SearchConfig) -> list[RungPlan]:
    profile = target.profile
    rungs = [RungPlan(f"{target.precision} as configured", target.precision, representative_samples)]
    if PRECISIONS.get(target.precision).needs_calibration and search.representative_samples > representative_samples:
        rungs.append(RungPlan(f"{target.precision}, {search.representative_samples} calibration samples",
                              target.precision, search.representative_samples))
    if target.precision == "int8":
        samples = max(search.representative_samples, representative_samples)
        rungs.append(RungPlan(f"int8, {samples} calibration samples, OCTAV-clipped weights", "int8", samples,
                              clipped_weights=True))
    if "int8_mixed" in profile.precisions and not profile.requires_full_integer:
        rungs.append(RungPlan(f"int8, {search.keep_float} op(s) kept float", "int8_mixed", representative_samples,
                              search.keep_float))
    rungs += [RungPlan(name, name, representative_samples) for name in _LATER_PRECISIONS
              if name in profile.precisions and name != target.precision and profile.io_dtype_for(name)]
    return rungs[: search.max_trials]


def publish_searched(ctx: BuildContext, target: Target, upstream: Upstream, out_root: Path,
                     device_run: DeviceRun | None = None) -> ProfileResult:
    """`publish_target`, climbing the ladder first when the recipe asks for a search."""
    search = ctx.convert.search
    if search is None:
        return publish_target(ctx, target, upstream, out_root, device_run)
    tried: list[tuple[Target, Upstream | None, Rung]] = []
    for number, plan in enumerate(ladder(target, ctx.convert.representative_samples, search), 1):
        tried.append(_try_rung(ctx, number, plan, target, upstream, device_run))
        if tried[-1][2].passed:
            break
    shipped = len(tried) if tried[-1][2].passed else None
    rows = [row.model_copy(update={"shipped": index == shipped}) for index, (*_, row) in enumerate(tried, 1)]
    rung_target, rung_upstream, row = tried[(shipped or 1) - 1]
    # Only a rung above the first is recorded in the metadata: rung 1 (shipped, or published failing)
    # is the build without a search, and its artifact keeps that build's bytes.
    record = {"rung": row.rung, "name": row.name, "kept_float": row.kept_float} if row.rung > 1 else None
    return publish_target(ctx, rung_target, rung_upstream, out_root, device_run,
                          precision_search=PrecisionSearch(rungs=rows, shipped=shipped), search_record=record)


def _try_rung(ctx: BuildContext, number: int, plan: RungPlan, target: Target, upstream: Upstream,
              device_run: DeviceRun | None) -> tuple[Target, Upstream | None, Rung]:
    rung_target = dataclasses.replace(target, precision=plan.precision,
                                      io_dtype=target.profile.io_dtype_for(plan.precision))
    try:
        rung_upstream = upstream if number == 1 else _rung_runs(ctx, number, plan, rung_target, upstream)
    except GateFailed as failure:  # this rung cannot be built: say why and climb on
        return rung_target, None, _row(number, plan, None, None, [str(failure)])
    with tempfile.TemporaryDirectory(prefix="edgebuild-rung-") as scratch:
        report = publish_target(ctx, rung_target, rung_upstream, Path(scratch), device_run).report
    kept = [op.tensor for op in rung_upstream.output("convert").kept_float]
    return rung_target, rung_upstream, _row(number, plan, report, kept, [c.name for c in report.failed_checks()])


def _rung_runs(ctx: BuildContext, number: int, plan: RungPlan, target: Target, upstream: Upstream) -> Upstream:
    """The rung's export, conversion, Vela compile and measurement, each a cached stage."""
    runs = Upstream({name: run for name, run in upstream.runs.items() if name not in _RUNG_STAGES})
    search = ctx.convert.search
    # litert-quantizer quantizes a float file, which QAT's fake-quant nodes would already quantize.
    source = float_reference(runs) if plan.clipped_weights else conversion_source(target, runs)
    stages: list[Stage] = [ExportStage(source),
                           ConvertStage(target, plan.representative_samples, ctx.seed, ctx.versions,
                                        keep_float=plan.keep_float,
                                        candidates=search.candidates if plan.keep_float else 0,
                                        clipped_weights=plan.clipped_weights)]
    if target.profile.npu is not None:
        stages.append(VelaStage(target.profile.npu))
    stages.append(MeasureStage(_measure_threads(upstream), ctx.versions))
    events = ctx.events.tagged(profile=target.name, rung=number)
    for stage in stages:
        runs = runs.plus(run_cached(stage, runs, ctx.cache, events, ctx.scope(f"{stage.name}@rung{number}", target)))
    return runs


def _measure_threads(upstream: Upstream) -> int:
    return upstream.runs["measure"].inputs["threads"]


def _row(number: int, plan: RungPlan, report, kept: list[str] | None, failed: list[str]) -> Rung:
    latency = report.latency_ms.p50 if report is not None and report.latency_ms is not None else None
    return Rung(rung=number, name=plan.name, precision=plan.precision, kept_float=kept or [],
                accuracy=report.accuracy.artifact if report is not None and report.accuracy else None,
                size_bytes=report.artifact.size_bytes if report is not None else None,
                gzip_bytes=report.artifact.gzip_bytes if report is not None else None,
                host_latency_ms=latency, passed=report is not None and report.passed, failed=failed, shipped=False)
