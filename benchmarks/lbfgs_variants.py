"""Can L-BFGS reach the reference's quality with fewer evaluations? Variants, timed.

    python benchmarks/bench.py               # first: sets the bar (benchmarks/results.json)
    python benchmarks/lbfgs_variants.py      # then: about 10 minutes on 2 cores

``bench.py`` found that the package's L-BFGS needs a few hundred evaluations of the loss
and its gradient to bring the reference's objective below the bar that the reference's
1000 Adam steps reach, and that one evaluation costs about one reference step (it is the
same network). This script tries variants of the package's method on the same objective,
image size and bar, and reports for each the evaluations and the wall time to the bar:

* the L-BFGS memory (``maxcor``: how many past steps shape the curvature estimate),
  8, 20 (the package's choice) and 50;
* coarse to fine: 60 L-BFGS steps at half the size first, then the full size, starting
  from the half-size result upsampled.

The machine's speed drifts between runs, so compare the variants with the first row
(the package's own method, timed in the same run); the ratio to the reference's time from
``bench.py``'s run is given too.

Writes ``benchmarks/lbfgs_variants.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("bench", HERE / "bench.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)  # also puts this checkout's package on the path

import tensorflow as tf  # noqa: E402

import nst_helpers as nst  # noqa: E402
from nst_helpers.images import resize_max_dim, resize_to  # noqa: E402
from nst_helpers.monitor import RunMonitor, StopRun  # noqa: E402
from nst_helpers.objective import StyleTransferLoss  # noqa: E402
from nst_helpers.optimize import LBFGS_MEMORY, run_lbfgs  # noqa: E402
from nst_helpers.vgg import FeatureExtractor  # noqa: E402


def reference_objective(extractor, content, style) -> StyleTransferLoss:
    """The reference's objective in the package's terms (see bench.py's docstring)."""
    return StyleTransferLoss(
        extractor, content, style, **bench.reference_objective_settings(*content.shape[1:3])
    )


def lbfgs(
    loss: StyleTransferLoss, start: tf.Tensor, steps: int, memory: int, after_step=None
) -> tuple[tf.Tensor, bool]:
    """The package's L-BFGS loop (``run_lbfgs``) with ``memory`` past steps: (its best image,
    whether ``after_step(step, image, terms)``, run after every step, stopped it with StopRun)."""
    monitor = RunMonitor(steps, after_step, callback_every=1, progress=False)
    image = run_lbfgs(loss, start, steps, monitor, memory=memory)
    return image, monitor.stopped


def time_to_bar(
    name, content, style, reference, bar, memory=LBFGS_MEMORY, coarse_steps=0, max_steps=600
) -> dict:
    """Wall time (judging excluded) for one variant to bring the reference's loss below ``bar``."""
    judge = tf.function(reference.loss)
    clock, judging, steps = time.perf_counter(), 0.0, 0
    extractor = FeatureExtractor(
        bench.REF_STYLE_LAYERS + bench.REF_CONTENT_LAYERS, log=lambda s: None
    )
    start, evaluations = content, 0
    if coarse_steps:
        half = max(content.shape[1:3]) // 2
        coarse = reference_objective(
            extractor, resize_max_dim(content, half), resize_max_dim(style, half)
        )
        start = resize_to(
            lbfgs(coarse, resize_max_dim(content, half), coarse_steps, memory)[0],
            *content.shape[1:3],
        )
        evaluations += coarse.evaluations
    fine = reference_objective(extractor, content, style)

    def after_step(step, image, terms):
        nonlocal judging, steps
        steps = step
        begin = time.perf_counter()
        value = float(judge(image))
        judging += time.perf_counter() - begin
        if value < bar:
            raise StopRun("reached the bar")

    _, reached = lbfgs(fine, start, max_steps, memory, after_step)
    seconds = time.perf_counter() - clock - judging
    row = {
        "variant": name,
        "reached": reached,
        "full_size_steps": steps,
        "evaluations": evaluations + fine.evaluations,
        "seconds": seconds,
    }
    print(
        f"  {name:42s} {'reached' if reached else 'NOT reached'} after {steps} full-size steps, "
        f"{row['evaluations']} evaluations, {seconds:.1f} s",
        flush=True,
    )
    return row


def add_ratios(rows: list[dict], reference_seconds: float) -> None:
    """Each reached row's time relative to the first row's and to the reference's."""
    for row in rows:
        row["time_vs_first_row"] = row["seconds"] / rows[0]["seconds"] if row["reached"] else None
        row["ratio_to_reference"] = row["seconds"] / reference_seconds if row["reached"] else None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--results", type=Path, default=HERE / "results.json", help="bench.py's results"
    )
    parser.add_argument("--out", type=Path, default=HERE / "lbfgs_variants.json")
    parser.add_argument("--max-steps", type=int, default=600)
    args = parser.parse_args(argv)
    if not args.results.is_file():
        sys.exit(f"error: {args.results} does not exist; run benchmarks/bench.py first")
    quality = json.loads(args.results.read_text())["time_to_quality"]
    size, bar, reference_seconds = (
        quality["size"],
        quality["reference_final_loss"],
        quality["reference_seconds"],
    )
    print(
        f"Bar: reference loss {bar:.4g} after {quality['reference_steps']} Adam steps "
        f"({reference_seconds:.1f} s) at {size} px, from {args.results}"
    )

    content = nst.load_content("tubingen", size)
    style = nst.load_style("starry_night", size)
    reference = bench.ReferenceLoop(content, style, nst.resolve_weights("auto", log=lambda s: None))
    variants = [
        (f"L-BFGS, memory {LBFGS_MEMORY} (the package's)", {"memory": LBFGS_MEMORY}),
        ("L-BFGS, memory 8", {"memory": 8}),
        ("L-BFGS, memory 50", {"memory": 50}),
        ("coarse to fine: 60 steps at half size first", {"coarse_steps": 60}),
    ]
    rows = [
        time_to_bar(name, content, style, reference, bar, max_steps=args.max_steps, **options)
        for name, options in variants
    ]
    add_ratios(rows, reference_seconds)
    args.out.write_text(
        json.dumps(
            {
                "size": size,
                "bar": bar,
                "reference_seconds": reference_seconds,
                "machine": bench.machine(),
                "variants": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print()
    print(
        f"{'variant':44s} {'evaluations':>11} {'seconds':>8} {'vs first row':>12} "
        f"{'vs reference':>12}"
    )
    for row in rows:
        relative = f"{row['time_vs_first_row']:.2f}" if row["reached"] else "-"
        ratio = f"{row['ratio_to_reference']:.3f}" if row["reached"] else "-"
        print(
            f"{row['variant']:44s} {row['evaluations']:>11} {row['seconds']:>8.1f} {relative:>12} "
            f"{ratio:>12}"
        )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
