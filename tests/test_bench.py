"""The benchmark's quick mode runs end to end (the numbers themselves are not judged here)."""

import importlib.util
import json
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py"


def test_benchmark_quick_mode_writes_results(tmp_path):
    spec = importlib.util.spec_from_file_location("bench", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "results.json"
    assert bench.main(["--quick", "--out", str(out)]) == 0
    results = json.loads(out.read_text())
    for key in ("time_to_quality_ratio", "step_ms", "reference_step_ms", "step_time_vs_limit", "machine"):
        assert key in results
    assert set(results["step_ms"]["package"]) == {"64", "128"}
    assert all(ms > 0 for ms in results["reference_step_ms"].values())
    assert results["time_to_quality"]["reference_steps"] == 20
    assert (tmp_path / "bench.png").stat().st_size > 10_000


def test_flop_count_by_hand():
    spec = importlib.util.spec_from_file_location("bench", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    # block1_conv1 on a 10x10 image: 100 positions x 9 x 3 inputs x 64 outputs x 2 FLOPs
    assert bench.vgg_flops(10, 10, "block1_conv1") == 2 * 100 * 9 * 3 * 64
    # after one pool a 10x10 image is 5x5: block2_conv1 adds 25 x 9 x 64 x 128 x 2
    expected = 2 * 100 * 9 * (3 * 64 + 64 * 64) + 2 * 25 * 9 * 64 * 128
    assert bench.vgg_flops(10, 10, "block2_conv1") == expected
