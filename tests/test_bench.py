"""The benchmark's quick mode runs end to end (the numbers themselves are not judged here)."""

import importlib.util
import json
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
BENCH = BENCHMARKS / "bench.py"


def load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_quick_mode_writes_results(tmp_path, monkeypatch):
    bench = load(BENCH)
    published = {name: (BENCHMARKS / name).read_bytes() for name in ("results.json", "bench.png")}
    monkeypatch.setattr(bench, "QUICK_DIR", tmp_path)  # the smoke run's default folder
    assert bench.main(["--quick"]) == 0
    out = tmp_path / "results.json"
    for name, data in published.items():  # a smoke run never replaces the published results
        assert (BENCHMARKS / name).read_bytes() == data
    results = json.loads(out.read_text())
    for key in (
        "time_to_quality_ratio",
        "step_ms",
        "reference_step_ms",
        "step_time_vs_limit",
        "machine",
    ):
        assert key in results
    assert (
        set(results["step_ms"]["package"])
        == {"64", "128"}
        == set(results["step_ms"]["package_xla"])
    )
    limits = results["matmul_limit_ms"]
    for size, ms in results["step_ms"]["package"].items():  # the ratio is what its name says
        assert abs(results["step_time_vs_limit"][size] - ms / limits[size]) < 1e-9
    quality = results["time_to_quality"]
    assert quality["package_evaluations"] >= quality["package_steps"] >= 1
    assert all(ms > 0 for ms in results["reference_step_ms"].values())
    assert results["time_to_quality"]["reference_steps"] == 20
    assert (tmp_path / "bench.png").stat().st_size > 10_000

    # The L-BFGS variants script judges against the bar these results set.
    variants = load(BENCHMARKS / "lbfgs_variants.py")
    assert (
        variants.main(
            ["--results", str(out), "--out", str(tmp_path / "v.json"), "--max-steps", "3"]
        )
        == 0
    )
    rows = json.loads((tmp_path / "v.json").read_text())["variants"]
    assert len(rows) == 4 and all(1 <= row["full_size_steps"] <= 3 for row in rows)
    assert rows[3]["evaluations"] > rows[3]["full_size_steps"]  # its coarse steps count too


def test_variants_script_needs_the_benchmark_results_first(tmp_path, capsys):
    variants = load(BENCHMARKS / "lbfgs_variants.py")
    with pytest.raises(SystemExit, match="run benchmarks/bench.py first"):
        variants.main(["--results", str(tmp_path / "missing.json")])


def test_flop_count_by_hand():
    bench = load(BENCH)
    # block1_conv1 on a 10x10 image: 100 positions x 9 x 3 inputs x 64 outputs x 2 FLOPs
    assert bench.vgg_flops(10, 10, "block1_conv1") == 2 * 100 * 9 * 3 * 64
    # after one pool a 10x10 image is 5x5: block2_conv1 adds 25 x 9 x 64 x 128 x 2
    expected = 2 * 100 * 9 * (3 * 64 + 64 * 64) + 2 * 25 * 9 * 64 * 128
    assert bench.vgg_flops(10, 10, "block2_conv1") == expected


def smoke_run(name: str, tmp_path: Path, monkeypatch) -> dict:
    """``benchmarks/<name>.py --quick`` writing to ``tmp_path``; its results. A smoke run never
    replaces the published results (``<name>.json``, ``<name>.png``): checked here."""
    module = load(BENCHMARKS / f"{name}.py")
    published = {
        file: (BENCHMARKS / file).read_bytes()
        for file in (f"{name}.json", f"{name}.png")
        if (BENCHMARKS / file).exists()
    }
    monkeypatch.setattr(module, "QUICK_DIR", tmp_path)
    assert module.main(["--quick"]) == 0
    for file, data in published.items():
        assert (BENCHMARKS / file).read_bytes() == data
    return json.loads((tmp_path / f"{name}.json").read_text())


def test_realtime_benchmark_quick_mode_writes_its_own_folder(tmp_path, monkeypatch):
    results = smoke_run("realtime", tmp_path, monkeypatch)
    assert {(row["width"], row["size"]) for row in results["inference"]} == {
        (width, size) for width in ("half", "full") for size in (64, 96)
    }
    pair = results["pairs"][0]
    assert pair["speedup"] == pytest.approx(pair["stylize_seconds"] / pair["network_seconds"])
    for term in ("content", "style", "total"):
        expected = pair["network_losses"][term] / pair["stylize_losses"][term]
        assert pair["ratios"][term] == pytest.approx(expected)
    assert results["peak_memory_mb"]["rise"] >= 0 and results["training"]
    assert (tmp_path / "realtime.png").stat().st_size > 5_000


def test_anystyle_benchmark_quick_mode_writes_its_own_folder(tmp_path, monkeypatch):
    results = smoke_run("anystyle", tmp_path, monkeypatch)
    assert {(row["width"], row["size"], row["method"]) for row in results["painting"]} == {
        (w, s, m) for w in ("half", "full") for s in (64, 96) for m in ("adain", "wct")
    }
    pair = results["pairs"][0]
    for method in ("adain", "wct"):
        expected = pair[method]["style"] / pair["stylize"]["style"]
        assert pair["ratios"][method]["style"] == pytest.approx(expected)
    assert set(results["reconstruction_mae"]) == {"tubingen", "golden_gate"}
    assert results["training"]["steps"] >= 1000
    assert (tmp_path / "anystyle.png").stat().st_size > 5_000


def test_video_benchmark_quick_mode_writes_its_own_folder(tmp_path, monkeypatch):
    results = smoke_run("video", tmp_path, monkeypatch)
    for clip in results["clips"].values():
        assert set(clip["methods"]) == {"per-frame", "temporal", "fast alone", "fast", "steady"}
        assert all(row["flicker"] > 0 and row["style"] > 0 for row in clip["methods"].values())
        assert 0 < clip["input_flicker"] < clip["methods"]["per-frame"]["flicker"]
    assert set(results["memory"]["peak_mb_by_frames"]) == {"3", "6"}
    assert results["real_time"]["fps"]["fast"] > 0
    assert (tmp_path / "video.png").stat().st_size > 5_000
    assert len(list(tmp_path.glob("*.gif"))) == 10  # each method on each clip, to watch
