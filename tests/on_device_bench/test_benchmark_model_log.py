"""The benchmark_model log parser on text in the formats benchmark_model.cc and stats_calculator.h print."""

from __future__ import annotations

import pytest

from edgebuild.on_device_bench.transports.benchmark_model_log import UnreadableLog, parse_benchmark_model_log

# A LiteRT build: the count lines end in p5/median/p95; large averages in scientific notation.
WITH_PERCENTILES = """\
INFO: STARTING!
INFO: Log parameter values verbosely: [0]
INFO: Num threads: [4]
INFO: Graph: [/data/local/tmp/mobilenet.tflite]
INFO: Loaded model /data/local/tmp/mobilenet.tflite
INFO: The input model file size (MB): 3.57776
INFO: Initialized session in 7.214ms.
INFO: Running benchmark for at least 1 iterations and at least 0.5 seconds but terminate if exceeding 150 seconds.
INFO: count=38 first=31245 curr=12890 min=12714 max=31245 avg=13406.3 std=2911 p5=12739 median=12911 p95=14213

INFO: Running benchmark for at least 50 iterations and at least 1 seconds but terminate if exceeding 150 seconds.
INFO: count=77 first=12977 curr=12832 min=12611 max=1.10324e+06 avg=1.29117e+06 std=5120 p5=12680 median=12904 p95=13890

INFO: Inference timings in us: Init: 7214, First inference: 31245, Warmup (avg): 13406.3, Inference (avg): 1.29117e+06
INFO: Note: as the benchmark tool itself affects memory footprint, the following is only APPROXIMATE to the actual memory footprint of the model at runtime. Take the information at your discretion.
INFO: Memory footprint delta from the start of the tool (MB): init=6.70703 overall=13.4805
"""

# An older build through logcat: no percentiles, one warm-up run ("count=1 curr=…"), no memory lines.
LOGCAT_WITHOUT_PERCENTILES = """\
11-02 09:14:55.101 I/tflite  ( 4821): Running benchmark for at least 1 iterations and at least 0.5 seconds but terminate if exceeding 150 seconds.
11-02 09:14:55.652 I/tflite  ( 4821): count=1 curr=550210
11-02 09:14:55.652 I/tflite  ( 4821): Running benchmark for at least 50 iterations and at least 1 seconds but terminate if exceeding 150 seconds.
11-02 09:15:22.930 I/tflite  ( 4821): count=50 first=548812 curr=541007 min=529340 max=560118 avg=545562 std=7043
11-02 09:15:22.931 I/tflite  ( 4821): Inference timings in us: Init: 188213, First inference: 550210, Warmup (avg): 550210, Inference (avg): 545562
"""


def test_percentiles_and_scientific_notation_are_read():
    log = parse_benchmark_model_log(WITH_PERCENTILES)

    assert (log.warmup.count, log.inference.count) == (38, 77)
    assert log.inference.mean_us == pytest.approx(1.29117e6)
    assert (log.inference.min_us, log.inference.max_us, log.inference.std_us) == (12611, 1.10324e6, 5120)
    assert (log.inference.median_us, log.inference.p95_us) == (12904, 13890)
    assert (log.init_us, log.first_inference_us, log.warmup_avg_us) == (7214, 31245, 13406.3)
    assert (log.footprint_init_mb, log.footprint_overall_mb) == (6.70703, 13.4805)


def test_an_older_build_gives_no_percentiles_and_a_single_warmup_run():
    log = parse_benchmark_model_log(LOGCAT_WITHOUT_PERCENTILES)

    assert log.warmup == (1, 550210, 0, 550210, 550210, None, None)
    assert (log.inference.count, log.inference.mean_us, log.inference.median_us) == (50, 545562, None)
    assert log.footprint_overall_mb is None


def test_runs_that_all_took_the_same_time():
    text = LOGCAT_WITHOUT_PERCENTILES.replace(
        "count=50 first=548812 curr=541007 min=529340 max=560118 avg=545562 std=7043", "count=50 curr=540000(all same)"
    )

    log = parse_benchmark_model_log(text)

    assert (log.inference.min_us, log.inference.max_us, log.inference.mean_us, log.inference.std_us) == (
        540000, 540000, 540000, 0)


@pytest.mark.parametrize(
    "text, reason",
    [
        ("ERROR: Failed to allocate tensors!\n", "count="),
        (LOGCAT_WITHOUT_PERCENTILES.split("Inference timings")[0], "Inference timings"),
        (WITH_PERCENTILES.replace("count=77 first", "count=0 first").replace("count=77", "count=0"), "count=0"),
    ],
)
def test_a_log_without_the_figures_is_refused(text, reason):
    with pytest.raises(UnreadableLog, match=reason):
        parse_benchmark_model_log(text)
