"""Speed benchmark: the package's loop against a plain reference loop, in one process.

    python benchmarks/bench.py              # 256 px time-to-quality, about 10 minutes on 2 cores
    python benchmarks/bench.py --size 512   # the same at 512 px (about 4x longer)
    python benchmarks/bench.py --quick      # a few steps of everything (CI smoke test)

Measures, on the same machine and images (Tübingen x The Starry Night):

1. **Step time** (ms per optimization step: forward and backward through VGG19) at 128,
   256 and 512 px for the package's loss (what ``stylize`` evaluates once per L-BFGS step)
   and for a reference loop configured like TensorFlow's style transfer tutorial (style
   layers block1_conv1..block5_conv1, content layer block5_conv2, Gram / positions, style
   weight 1e-2, content weight 1e4, total variation weight 30 on ``tf.image.total_variation``,
   Adam with learning rate 0.02, beta_1 0.99, epsilon 0.1, clipping to [0, 1]), and the
   package's loss compiled with XLA (``jit_compile``). Also the achieved GFLOP/s (counted
   from VGG19's conv layers) against the machine's matrix-multiply rate measured in the same
   interleaved rounds, and the step time that rate would allow.
2. **Time to quality**: the reference loop runs 1000 Adam steps (its tutorial's length);
   its final loss is the bar. The package's method (``stylize``: L-BFGS from the content
   image) then minimizes the *reference's own objective* until the reference's loss function
   drops below that bar. The objectives match term by term: content block5_conv2 with
   weight 1e4, style weight 1e-2 over the 5 layers (same Gram and mean normalizations), and
   total variation: the tutorial sums |differences|, about 3HW times our mean-based term,
   so our tv_weight is 30 * 3HW. Reported: both wall times and their ratio.
3. **Peak memory** (resident set) of each loop, from the kernel's high-water mark, reset
   before each loop starts; both the process's peak and the peak's rise over the resident
   set at the loop's start (what the loop itself added) are reported.

Writes ``benchmarks/results.json``, ``benchmarks/bench.png`` and prints a table; a quick run
writes to ``outputs/bench_quick/`` instead (git-ignored), never over the published results.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = Path(__file__).resolve().parent
QUICK_DIR = HERE.parent / "outputs" / "bench_quick"  # git-ignored: smoke runs go here
sys.path.insert(1, str(HERE.parent))  # the package from this checkout, installed or not

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import nst_helpers as nst  # noqa: E402  (imports TensorFlow quietly)
from nst_helpers.config import cpu_name  # noqa: E402
from nst_helpers.losses import gram_matrix  # noqa: E402
from nst_helpers.monitor import StopRun  # noqa: E402
from nst_helpers.objective import StyleTransferLoss  # noqa: E402
from nst_helpers.vgg import LAYER_ORDER, FeatureExtractor, preprocess  # noqa: E402
from nst_helpers.weights import VGG19_CONV_LAYERS, load_weights  # noqa: E402

REF_STYLE_LAYERS = ["block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1"]
REF_CONTENT_LAYERS = ["block5_conv2"]
REF_STYLE_WEIGHT, REF_CONTENT_WEIGHT, REF_TV_WEIGHT = 1e-2, 1e4, 30.0


def reference_objective_settings(height: int, width: int) -> dict:
    """The reference's objective as ``stylize`` / ``StyleTransferLoss`` keyword arguments.

    The tutorial's total variation sums |differences| (about 3HW times our mean-based
    term), so our tv_weight is 30 * 3HW.
    """
    return {
        "content_weight": REF_CONTENT_WEIGHT,
        "style_weight": REF_STYLE_WEIGHT,
        "tv_weight": REF_TV_WEIGHT * 3 * height * width,
        "content_layers": REF_CONTENT_LAYERS,
        "style_layers": REF_STYLE_LAYERS,
    }


# ----------------------------------------------------------------------------- the machine


def machine() -> dict:
    return {
        "cpu": cpu_name() or "unknown",
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "platform": platform.platform(),
        "gpu": [d.name for d in tf.config.list_physical_devices("GPU")],
    }


def matmul_timer(n: int = 2048):
    """A function that multiplies two n x n float32 matrices and returns its rate in GFLOP/s."""
    a, b = tf.random.normal((n, n)), tf.random.normal((n, n))
    multiply = tf.function(lambda x, y: tf.matmul(x, y))
    multiply(a, b).numpy()
    return lambda: 2 * n**3 / _timed(lambda: multiply(a, b).numpy()) / 1e9


def _timed(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def reset_peak_memory() -> float:
    """Reset the kernel's resident-set high-water mark (Linux: write 5 to clear_refs).

    Returns the resident set now (MB): what the phase that follows starts from.
    """
    gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    return _memory_mb("VmRSS")


def peak_memory_mb() -> float:
    """The resident-set high-water mark since the last reset (MB)."""
    return _memory_mb("VmHWM")


def _memory_mb(field: str) -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


# ----------------------------------------------------------------------------- FLOPs


def vgg_flops(height: int, width: int, deepest: str) -> float:
    """Multiply-add FLOPs (2 per MAC) of VGG19's convs up to ``deepest``, forward only."""
    channels = {name: (cin, cout) for name, cin, cout in VGG19_CONV_LAYERS}
    flops, h, w = 0.0, height, width
    for name in LAYER_ORDER[: LAYER_ORDER.index(deepest) + 1]:
        if name.endswith("pool"):
            h, w = h // 2, w // 2
        else:
            cin, cout = channels[name]
            flops += 2.0 * h * w * 9 * cin * cout
    return flops


# ----------------------------------------------------------------------------- the reference loop


class ReferenceLoop:
    """A plain loop configured like TensorFlow's style transfer tutorial (see module docstring).

    It uses Keras' own VGG19 class with the same weights as the package, a model cut at
    the layers it needs, and a ``tf.function`` train step: Adam on a ``tf.Variable``
    holding the image, clipped to [0, 1] after each step.
    """

    def __init__(self, content: tf.Tensor, style: tf.Tensor, weights_source):
        import keras

        vgg = keras.applications.VGG19(include_top=False, weights=None)
        for name, (kernel, bias) in load_weights(weights_source).items():
            vgg.get_layer(name).set_weights([kernel, bias])
        vgg.trainable = False
        outputs = [vgg.get_layer(n).output for n in REF_STYLE_LAYERS + REF_CONTENT_LAYERS]
        self.model = keras.Model(vgg.input, outputs)
        style_targets = self._features(style)[0]
        self.style_targets = [gram_matrix(f) for f in style_targets]
        self.content_targets = self._features(content)[1]
        self.image = tf.Variable(content)
        self.optimizer = tf.keras.optimizers.Adam(learning_rate=0.02, beta_1=0.99, epsilon=1e-1)
        self.step = tf.function(self._step)

    def _features(self, image):
        outputs = self.model(preprocess(image))
        return outputs[: len(REF_STYLE_LAYERS)], outputs[len(REF_STYLE_LAYERS) :]

    def loss(self, image) -> tf.Tensor:
        """The tutorial's objective: weighted style + content + total variation (a sum)."""
        style_features, content_features = self._features(image)
        style = tf.add_n(
            [
                tf.reduce_mean((gram_matrix(f) - t) ** 2)
                for f, t in zip(style_features, self.style_targets)
            ]
        )
        content = tf.add_n(
            [tf.reduce_mean((f - t) ** 2) for f, t in zip(content_features, self.content_targets)]
        )
        return (
            REF_STYLE_WEIGHT / len(REF_STYLE_LAYERS) * style
            + REF_CONTENT_WEIGHT / len(REF_CONTENT_LAYERS) * content
            + REF_TV_WEIGHT * tf.reduce_sum(tf.image.total_variation(image))
        )

    def _step(self):
        with tf.GradientTape() as tape:
            loss = self.loss(self.image)
        gradient = tape.gradient(loss, self.image)
        self.optimizer.apply_gradients([(gradient, self.image)])
        self.image.assign(tf.clip_by_value(self.image, 0.0, 1.0))
        return loss


# ----------------------------------------------------------------------------- measurements


def step_times(sizes, repeats: int, source, matmul) -> dict:
    """ms per step of the package's loss+gradient (plain and XLA-compiled) and of the
    reference's train step, and the matmul rate, measured in interleaved rounds.

    The machine's speed drifts (other tenants, clock changes), so each round times all
    four one after the other, after two warm-up calls each, and the medians are kept.
    """
    rows = {}
    extractor = FeatureExtractor(
        nst.STYLE_LAYERS + nst.CONTENT_LAYERS, weights=source.path, log=lambda s: None
    )
    for size in sizes:
        content = nst.load_content("tubingen", size)
        style = nst.load_style("starry_night", size)
        plain = StyleTransferLoss(extractor, content, style)
        xla = StyleTransferLoss(extractor, content, style, jit_compile=True)
        reference = ReferenceLoop(content, style, source)
        work = {
            # used in this iteration only, so the loop variables are the intended ones
            "package": lambda: plain.value_and_gradient(content)[1].numpy(),  # noqa: B023
            "package_xla": lambda: xla.value_and_gradient(content)[1].numpy(),  # noqa: B023
            "reference": lambda: reference.step().numpy(),  # noqa: B023
        }
        for run in work.values():  # trace, then warm up
            run(), run()
        seconds = {name: [] for name in work}
        rates = []
        for _ in range(repeats):
            rates.append(matmul())
            for name, run in work.items():
                seconds[name].append(_timed(run))
        height, width = content.shape[1:3]
        row = {name + "_ms": 1000 * float(np.median(times)) for name, times in seconds.items()}
        rows[size] = {
            "height": height,
            "width": width,
            **row,
            "matmul_gflops": float(np.median(rates)),
            "package_gflop": 2 * vgg_flops(height, width, "block5_conv1") / 1e9,
            "reference_gflop": 2 * vgg_flops(height, width, "block5_conv2") / 1e9,
        }
        print(
            f"  {size:4d} px: package {row['package_ms']:7.1f} ms (XLA "
            f"{row['package_xla_ms']:7.1f} ms), "
            f"reference {row['reference_ms']:7.1f} ms, matmul {np.median(rates):.0f} GFLOP/s",
            flush=True,
        )
    return rows


def time_to_quality(size: int, reference_steps: int, max_package_steps: int, source) -> dict:
    """Both clocks include building the model's graph (tracing), a few seconds each."""
    content = nst.load_content("tubingen", size)
    style = nst.load_style("starry_night", size)
    height, width = content.shape[1:3]

    reference_start = reset_peak_memory()
    reference = ReferenceLoop(content, style, source)
    start = time.perf_counter()
    curve, judging = [], 0.0
    for step in range(1, reference_steps + 1):
        reference.step()
        if step % 10 == 0 or step == reference_steps:
            begin = time.perf_counter()
            value = float(reference.loss(reference.image))
            judging += time.perf_counter() - begin
            curve.append((step, time.perf_counter() - start - judging, value))
    reference_seconds = curve[-1][1]
    bar = curve[-1][2]
    reference_peak = peak_memory_mb()
    print(
        f"  reference: {reference_steps} Adam steps in {reference_seconds:.1f} s, loss {bar:.4g}",
        flush=True,
    )

    package_start = reset_peak_memory()
    package_curve, judged = [], {"seconds": 0.0}

    def judge(step, image, terms):
        """Evaluate the reference's loss on the current image; stop once below the bar."""
        begin = time.perf_counter()
        value = float(reference.loss(image))
        judged["seconds"] += time.perf_counter() - begin
        package_curve.append((step, time.perf_counter() - clock - judged["seconds"], value))
        if value < bar:
            raise StopRun("reached the bar")  # stylize returns the best image so far

    clock = time.perf_counter()
    result = nst.stylize(  # the package's method, on the reference's objective (see docstring)
        content,
        style,
        steps=max_package_steps,
        optimizer="lbfgs",
        init="content",
        **reference_objective_settings(height, width),
        weights=source.path,
        callback=judge,
        callback_every=1,
        progress=False,
        log=lambda s: None,
    )
    reached = result.stop_reason == "reached the bar"
    evaluations = result.evaluations
    package_seconds = package_curve[-1][1] if package_curve else float("nan")
    package_peak = peak_memory_mb()
    print(
        f"  package: {'reached' if reached else 'did NOT reach'} the bar after "
        f"{result.steps} L-BFGS steps ({evaluations} evaluations) in {package_seconds:.1f} s",
        flush=True,
    )
    return {
        "size": size,
        "reference_steps": reference_steps,
        "reference_seconds": reference_seconds,
        "reference_final_loss": bar,
        "package_steps": result.steps,
        "package_evaluations": evaluations,
        "package_seconds": package_seconds,
        "package_reached": reached,
        "package_final_loss": package_curve[-1][2] if package_curve else None,
        "ratio": package_seconds / reference_seconds if reached else None,
        "reference_curve": curve,
        "package_curve": package_curve,
        "reference_peak_mb": reference_peak,
        "package_peak_mb": package_peak,
        "reference_start_mb": reference_start,
        "package_start_mb": package_start,
        "reference_image": reference.image.numpy(),
        "package_image": result.image.numpy(),
    }


def plot(results: dict, quality: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 3, figsize=(16, 4.6))
    sizes = sorted(results["step_ms"]["package"])
    x = np.arange(len(sizes))
    axes[0].bar(
        x - 0.27,
        [results["step_ms"]["package"][s] for s in sizes],
        0.27,
        label="package (loss + gradient)",
    )
    axes[0].bar(
        x, [results["step_ms"]["package_xla"][s] for s in sizes], 0.27, label="package with XLA"
    )
    axes[0].bar(
        x + 0.27,
        [results["reference_step_ms"][s] for s in sizes],
        0.27,
        label="reference (Adam step)",
    )
    axes[0].plot(
        x,
        [results["matmul_limit_ms"][s] for s in sizes],
        "k_",
        markersize=30,
        label="matmul-rate limit",
    )
    axes[0].set_xticks(x, [f"{s} px" for s in sizes])
    axes[0].set_yscale("log")
    axes[0].set_ylabel("ms per step")
    axes[0].legend()
    axes[0].set_title("Step time")
    ref = np.array(quality["reference_curve"])
    pkg = np.array(quality["package_curve"])
    axes[1].plot(ref[:, 1], ref[:, 2], label="reference: Adam")
    if len(pkg):
        axes[1].plot(pkg[:, 1], pkg[:, 2], label="package: L-BFGS")
    axes[1].axhline(
        quality["reference_final_loss"],
        color="k",
        ls=":",
        label="bar: reference after its last step",
    )
    axes[1].set_yscale("log")
    axes[1].set_xlabel("seconds")
    axes[1].set_ylabel("reference loss")
    axes[1].legend()
    axes[1].set_title(f"Time to quality at {quality['size']} px")
    both = np.concatenate([quality["reference_image"][0], quality["package_image"][0]], axis=1)
    axes[2].imshow(np.clip(both, 0, 1))
    axes[2].set_title("reference (left) and package (right) at the bar")
    axes[2].axis("off")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="time-to-quality size (default 256)")
    parser.add_argument(
        "--quick", action="store_true", help="a few steps of everything (smoke test)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="results file (default: benchmarks/results.json; with --quick "
        "outputs/bench_quick/results.json, so a smoke run never replaces "
        "the published results)",
    )
    args = parser.parse_args(argv)
    args.out = args.out or (QUICK_DIR if args.quick else HERE) / "results.json"
    args.out.parent.mkdir(parents=True, exist_ok=True)

    sizes = [64, 128] if args.quick else [128, 256, 512]
    repeats = 2 if args.quick else 10
    reference_steps = 20 if args.quick else 1000
    size = 64 if args.quick else args.size

    source = nst.resolve_weights("auto", log=lambda s: None)
    info = machine()
    print(f"Machine: {info['cpu']}, {info['cores']} cores, TensorFlow {info['tensorflow']}")
    print(source.describe())
    matmul = matmul_timer(1024 if args.quick else 2048)
    peak = max(matmul() for _ in range(repeats))
    print(f"Matrix multiply: best {peak:.0f} GFLOP/s (float32)")
    print("Step time (medians of interleaved rounds):")
    steps = step_times(sizes, repeats, source, matmul)
    print(f"Time to quality at {size} px:")
    quality = time_to_quality(size, reference_steps, 40 if args.quick else 500, source)

    limits = {s: 1000 * r["package_gflop"] / r["matmul_gflops"] for s, r in steps.items()}
    results = {
        "machine": info,
        "weights": source.describe(),
        "quick": args.quick,
        "matmul_gflops": {s: r["matmul_gflops"] for s, r in steps.items()},
        "matmul_peak_gflops": peak,
        "step_ms": {
            "package": {s: r["package_ms"] for s, r in steps.items()},
            "package_xla": {s: r["package_xla_ms"] for s, r in steps.items()},
        },
        "reference_step_ms": {s: r["reference_ms"] for s, r in steps.items()},
        "achieved_gflops": {
            "package": {s: r["package_gflop"] / (r["package_ms"] / 1000) for s, r in steps.items()},
            "reference": {
                s: r["reference_gflop"] / (r["reference_ms"] / 1000) for s, r in steps.items()
            },
        },
        "package_gflop_per_step": {s: r["package_gflop"] for s, r in steps.items()},
        "matmul_limit_ms": limits,
        "step_time_vs_limit": {s: r["package_ms"] / limits[s] for s, r in steps.items()},
        "step_time_vs_peak_limit": {
            s: r["package_ms"] / (1000 * r["package_gflop"] / peak) for s, r in steps.items()
        },
        "time_to_quality_ratio": quality["ratio"],
        "time_to_quality": {k: v for k, v in quality.items() if not k.endswith("_image")},
        "peak_memory_mb": {
            "reference": quality["reference_peak_mb"],
            "package": quality["package_peak_mb"],
        },
        "peak_memory_added_mb": {
            "reference": quality["reference_peak_mb"] - quality["reference_start_mb"],
            "package": quality["package_peak_mb"] - quality["package_start_mb"],
        },
    }
    args.out.write_text(json.dumps(results, indent=2, default=float) + "\n")
    plot(results, quality, args.out.with_name("bench.png"))

    print()
    print(
        f"{'size':>6} {'package ms':>11} {'with XLA':>9} {'reference ms':>13} {'pkg GFLOP/s':>12} "
        f"{'limit ms':>9} {'vs limit':>9}"
    )
    for s in sizes:
        print(
            f"{s:>6} {results['step_ms']['package'][s]:>11.1f} "
            f"{results['step_ms']['package_xla'][s]:>9.1f} "
            f"{results['reference_step_ms'][s]:>13.1f} "
            f"{results['achieved_gflops']['package'][s]:>12.1f} "
            f"{results['matmul_limit_ms'][s]:>9.1f} "
            f"{results['step_time_vs_limit'][s]:>8.2f}x"
        )
    ratio = quality["ratio"]
    print(
        f"time to quality: package {quality['package_seconds']:.1f} s "
        f"({quality['package_evaluations']} evaluations) vs reference "
        f"{quality['reference_seconds']:.1f} s "
        f"({quality['reference_steps']} steps) -> ratio {ratio:.3f}"
        if ratio is not None
        else "time to quality: the package did not reach the bar"
    )
    print(
        f"peak memory (resident set of the process): reference {quality['reference_peak_mb']:.0f} "
        "MB "
        f"({results['peak_memory_added_mb']['reference']:+.0f} MB over its start), package "
        f"{quality['package_peak_mb']:.0f} MB ({results['peak_memory_added_mb']['package']:+.0f} "
        "MB)"
    )
    print(f"wrote {args.out} and {args.out.with_name('bench.png')}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except nst.NSTError as error:
        sys.exit(f"error: {error}")
