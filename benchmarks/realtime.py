"""Real-time style transfer against optimization: speed and quality, in one process.

    python benchmarks/realtime.py            # about 12 minutes on 2 cores
    python benchmarks/realtime.py --quick    # a smoke run (CI): writes outputs/realtime_quick/

Measures, on this machine, with the shipped networks (``nst_helpers/models``):

1. **Inference time** of a network painting one photo at 256, 512 and 1024 px (longest side;
   Tübingen, 4:3), half and full width: the median of ``--repeats`` runs after one warm-up.
   Speed does not depend on the weights, so the full width (no shipped model has it) is timed
   with an untrained network of that width.
2. **Against ``stylize``**: for each shipped model on Tübingen (held out of training), and
   for The Starry Night also on Golden Gate (not among the training photos either),
   ``stylize`` with its defaults (512 px, 100 L-BFGS steps from the photo) and the
   network paint the same photo. Reported: both times and their ratio, and both images'
   content, style and total losses under the course's objective with the default weights
   (``StyleTransferLoss``, the painting at the photo's size, as ``stylize`` uses it).
3. **Peak memory** of painting at 1024 px: the rise of the resident set's high-water mark over
   its value before the call (the kernel's mark is reset first).
4. **Training**: each shipped model's training time, steps and hardware, from its record.

Writes ``benchmarks/realtime.json`` and ``benchmarks/realtime.png`` (the pairs side by side,
but not those on a photo kept for tests only, ``nst_helpers.data.may_show``)
and prints a table; ``--quick`` writes to ``outputs/realtime_quick/`` instead.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = Path(__file__).resolve().parent
QUICK_DIR = HERE.parent / "outputs" / "realtime_quick"
sys.path.insert(1, str(HERE.parent))
sys.path.insert(1, str(HERE))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from bench import _timed, machine, peak_memory_mb, reset_peak_memory  # noqa: E402

import nst_helpers as nst  # noqa: E402
from nst_helpers.fast import load_model, model_summary, paint, shipped_models  # noqa: E402
from nst_helpers.objective import StyleTransferLoss  # noqa: E402
from nst_helpers.transformer import build_transformer  # noqa: E402

PHOTOS = ("tubingen", "golden_gate")  # neither among the training photos


def timed(work, repeats: int) -> float:
    """Median seconds of ``repeats`` calls of ``work()`` after one warm-up call."""
    work()
    return statistics.median(_timed(work) for _ in range(repeats))


def inference_times(sizes, repeats: int) -> list[dict]:
    """Seconds per painting by width and size (weights do not change the time)."""
    rows = []
    for width in ("half", "full"):
        network = build_transformer(width)
        for size in sizes:
            photo = nst.load_content("tubingen", max_dim=size)
            seconds = timed(lambda n=network, p=photo: paint(n, p).numpy(), repeats)
            rows.append({"width": width, "size": size, "seconds": seconds})
    return rows


def peak_rise_mb(network, size: int) -> float:
    """MB the resident set's high-water mark rises while painting one photo at ``size``."""
    photo = nst.load_content("tubingen", max_dim=size)
    paint(network, photo).numpy()  # warm-up: graph building is not the painting's memory
    before = reset_peak_memory()
    paint(network, photo).numpy()
    return peak_memory_mb() - before


def losses(loss: StyleTransferLoss, image: tf.Tensor) -> dict[str, float]:
    return {name: float(value) for name, value in loss.terms(image).items()}


def compare(model: str, photo_name: str, size: int, steps: int, extractor) -> dict:
    """The network and ``stylize`` on one photo: times, losses, and the images."""
    network, record = load_model(model)
    photo = nst.load_content(photo_name, max_dim=size)
    style = nst.load_style(record["style"]["name"], max_dim=size)
    net_seconds = timed(lambda: paint(network, photo).numpy(), 3)
    painted = paint(network, photo)
    start = time.perf_counter()
    quiet = dict(progress=False, log=lambda line: None)
    result = nst.stylize(photo, style, steps=steps, extractor=extractor, **quiet)
    opt_seconds = time.perf_counter() - start
    objective = StyleTransferLoss(extractor, photo, style)
    net, opt = losses(objective, painted), losses(objective, result.image)
    return {
        "model": model,
        "photo": photo_name,
        "size": size,
        "network_seconds": net_seconds,
        "stylize_seconds": opt_seconds,
        "speedup": opt_seconds / net_seconds,
        "network_losses": net,
        "stylize_losses": opt,
        "ratios": {k: net[k] / opt[k] for k in ("content", "style", "total")},
        "images": [photo, painted, result.image],
    }


def plot(pairs: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(pairs), 3, figsize=(12, 3.2 * len(pairs)), squeeze=False)
    for row, pair in zip(axes, pairs):
        titles = [
            pair["photo"],
            f"{pair['model']} network: {pair['network_seconds']:.2f} s, "
            f"loss {pair['network_losses']['total']:.3g}",
            f"stylize: {pair['stylize_seconds']:.0f} s, loss {pair['stylize_losses']['total']:.3g}",
        ]
        for ax, image, title in zip(row, pair["images"], titles):
            ax.imshow(np.clip(np.asarray(image)[0], 0, 1))
            ax.set_title(title, fontsize=9)
            ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def training_records() -> list[dict]:
    """Each shipped model's training over all its phases, from its record (not measured here)."""
    return [model_summary(name, record) for name, record in shipped_models().items()]


def pairs_to_run(quick: bool) -> list[tuple[str, str]]:
    models = sorted(shipped_models())
    if quick:
        return [(models[0], PHOTOS[0])]
    extra = [("starry_night", PHOTOS[1])] if "starry_night" in models else []
    return [(m, PHOTOS[0]) for m in models] + extra


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run at tiny sizes")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    out = QUICK_DIR if args.quick else HERE
    out.mkdir(parents=True, exist_ok=True)
    sizes, size, steps = ((64, 96), 64, 3) if args.quick else ((256, 512, 1024), 512, 100)
    extractor = nst.FeatureExtractor([*nst.STYLE_LAYERS, *nst.CONTENT_LAYERS], log=None)
    results = {"machine": machine(), "date": time.strftime("%Y-%m-%d")}
    results["inference"] = inference_times(sizes, 1 if args.quick else args.repeats)
    half = load_model(sorted(shipped_models())[0])[0]
    results["peak_memory_mb"] = {"size": sizes[-1], "rise": peak_rise_mb(half, sizes[-1])}
    pairs = [compare(m, p, size, steps, extractor) for m, p in pairs_to_run(args.quick)]
    plot([r for r in pairs if nst.data.may_show(r["photo"])], out / "realtime.png")
    results["pairs"] = [{k: v for k, v in p.items() if k != "images"} for p in pairs]
    results["training"] = training_records()
    (out / "realtime.json").write_text(json.dumps(results, indent=2))
    report(results)
    return 0


def report(results: dict) -> None:
    print("inference (s):")
    for row in results["inference"]:
        print(f"  {row['width']:>4} {row['size']:>5} px  {row['seconds']:.3f}")
    memory = results["peak_memory_mb"]
    print(f"peak memory rise at {memory['size']} px: {memory['rise']:.0f} MB")
    for p in results["pairs"]:
        r = p["ratios"]
        print(
            f"{p['model']:>13} x {p['photo']:<11} network {p['network_seconds']:.3f} s, "
            f"stylize {p['stylize_seconds']:.1f} s ({p['speedup']:.0f}x); network / stylize "
            f"losses: content {r['content']:.2f}, style {r['style']:.2f}, total {r['total']:.2f}"
        )
    for t in results["training"]:
        print(
            f"training {t['model']}: {t['steps']} steps ({t['crops (px) x batch']}), "
            f"{t['training time (min)']} min, {t['hardware']}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
