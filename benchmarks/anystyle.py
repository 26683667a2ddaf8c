"""Any style in one pass against optimization: speed and quality, in one process.

    python benchmarks/anystyle.py            # about 12 minutes on 2 cores
    python benchmarks/anystyle.py --quick    # a smoke run (CI): writes outputs/anystyle_quick/

Measures, on this machine, with the shipped decoder (``nst_helpers/models/any_style/decoder.npz``):

1. **Painting time** at 256, 512 and 1024 px (longest side; Tübingen, 4:3, the painting at
   the same size), AdaIN and WCT: the median of ``--repeats`` runs after one warm-up. One run
   is everything a new painting needs: encoding the photo and the painting, the transform,
   decoding. The full-width decoder (not shipped) is timed untrained: speed does not depend
   on the weights.
2. **Against ``stylize``**: the paintings kept out of the decoder's training on the photos
   kept out of it, ``stylize`` with its defaults (512 px, 100 L-BFGS steps from the photo)
   and the decoder (AdaIN and WCT, alpha 1) paint the same photo. Reported: times and the
   content, style and total losses under the course's objective with the default weights
   (``StyleTransferLoss``, the painting at the photo's size, as ``stylize`` uses it), and
   the ratios decoder / ``stylize``.
3. **Reconstruction**: alpha 0 decodes the photo's own features; the mean absolute error per
   pixel and channel (0 to 1 scale) on the unseen photos.
4. **Training**: the decoder's steps, crops, time and hardware over all its runs, from its
   record (not measured here).

Writes ``benchmarks/anystyle.json`` and ``benchmarks/anystyle.png`` and prints a table;
``--quick`` writes to ``outputs/anystyle_quick/`` instead.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = Path(__file__).resolve().parent
QUICK_DIR = HERE.parent / "outputs" / "anystyle_quick"
sys.path.insert(1, str(HERE.parent))
sys.path.insert(1, str(HERE))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from bench import machine  # noqa: E402
from realtime import timed  # noqa: E402

import nst_helpers as nst  # noqa: E402
from nst_helpers.anystyle import AnyStyle  # noqa: E402
from nst_helpers.decoder import build_decoder  # noqa: E402
from nst_helpers.fast import training_phases  # noqa: E402
from nst_helpers.objective import StyleTransferLoss  # noqa: E402
from nst_helpers.style_images import UNSEEN_PAINTINGS  # noqa: E402

PHOTOS = ("tubingen", "golden_gate")  # neither among the training photos
METHODS = ("adain", "wct")


def painting_times(painter: AnyStyle, sizes, repeats: int) -> list[dict]:
    """Seconds per painting (both encodings, the transform, decoding) by width, size, method."""
    full = AnyStyle(painter.encoder, build_decoder("full"), {})
    rows = []
    for width, who in (("half", painter), ("full", full)):
        for size in sizes:
            photo = nst.load_content("tubingen", max_dim=size)
            painting = nst.load_style(UNSEEN_PAINTINGS[0], max_dim=size)
            for method in METHODS:

                def work(who=who, photo=photo, painting=painting, method=method):
                    return who.paint(photo, [painting], method=method).numpy()

                rows.append(
                    {
                        "width": width,
                        "size": size,
                        "method": method,
                        "seconds": timed(work, repeats),
                    }
                )
    return rows


def losses(loss: StyleTransferLoss, image: tf.Tensor) -> dict[str, float]:
    return {name: float(value) for name, value in loss.terms(image).items()}


def compare(painter, photo_name, painting, size, steps, extractor) -> dict:
    """``stylize`` and the decoder on one pair: times, losses, and the images."""
    photo = nst.load_content(photo_name, max_dim=size)
    style = nst.load_style(painting, max_dim=size)
    objective = StyleTransferLoss(extractor, photo, style)
    row = {"photo": photo_name, "painting": painting, "size": size, "images": [photo, style]}
    start = time.perf_counter()
    quiet = dict(progress=False, log=lambda line: None)
    result = nst.stylize(photo, style, steps=steps, extractor=extractor, **quiet)
    row["stylize"] = {"seconds": time.perf_counter() - start, **losses(objective, result.image)}
    row["images"].append(result.image)
    for method in METHODS:
        seconds = timed(lambda m=method: painter.paint(photo, [style], method=m).numpy(), 1)
        painted = painter.paint(photo, [style], method=method)
        row[method] = {"seconds": seconds, **losses(objective, painted)}
        row["images"].append(painted)
    row["ratios"] = {
        method: {k: row[method][k] / row["stylize"][k] for k in ("content", "style", "total")}
        for method in METHODS
    }
    return row


def reconstruction(painter: AnyStyle, size: int) -> dict[str, float]:
    """Mean absolute error of decoding each unseen photo's own features (alpha 0)."""
    errors = {}
    for name in PHOTOS:
        photo = nst.load_content(name, max_dim=size)
        back = painter.paint(photo, [photo], alpha=0.0)
        errors[name] = float(tf.reduce_mean(tf.abs(back - photo)))
    return errors


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(rows), 5, figsize=(17, 2.9 * len(rows)), squeeze=False)
    for line, row in zip(axes, rows):
        titles = [row["photo"], f"{row['painting']} (never trained on)"]
        titles += [
            f"{name}: {row[key]['seconds']:.2f} s, style loss {row[key]['style']:.3g}"
            for name, key in (("stylize", "stylize"), ("AdaIN", "adain"), ("WCT", "wct"))
        ]
        for ax, image, title in zip(line, row["images"], titles):
            ax.imshow(np.clip(np.asarray(image)[0], 0, 1))
            ax.set_title(title, fontsize=9)
            ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def training_record(record: dict) -> dict:
    """The decoder's training over all its runs (``init`` first), from its record."""
    runs = training_phases(record)
    train = record.get("train", {})
    return {
        "steps": sum(run.get("steps_done", run["train"]["steps"]) for run in runs),
        "runs": [run.get("steps_done", run["train"]["steps"]) for run in runs],
        "crops (px) x batch": f"{train.get('size')} x {train.get('batch')}",
        "width": record.get("width"),
        "training time (min)": round(sum(run.get("seconds", 0.0) for run in runs) / 60, 1),
        "hardware": record.get("hardware"),
        "paintings": record.get("style", {}).get("paintings"),
        "texture share": record.get("style", {}).get("texture_share"),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run at tiny sizes")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    out = QUICK_DIR if args.quick else HERE
    out.mkdir(parents=True, exist_ok=True)
    sizes, size, steps = ((64, 96), 64, 3) if args.quick else ((256, 512, 1024), 512, 100)
    painter = AnyStyle.load(log=lambda line: None)
    extractor = nst.FeatureExtractor([*nst.STYLE_LAYERS, *nst.CONTENT_LAYERS], log=None)
    results = {"machine": machine(), "date": time.strftime("%Y-%m-%d")}
    results["painting"] = painting_times(painter, sizes, 1 if args.quick else args.repeats)
    results["reconstruction_mae"] = reconstruction(painter, size)
    pairs = [(p, s) for p in PHOTOS for s in UNSEEN_PAINTINGS]
    rows = [
        compare(painter, p, s, size, steps, extractor)
        for p, s in pairs[: 1 if args.quick else None]
    ]
    plot([r for r in rows if nst.data.may_show(r["photo"])], out / "anystyle.png")
    results["pairs"] = [{k: v for k, v in r.items() if k != "images"} for r in rows]
    results["training"] = training_record(painter.record)
    (out / "anystyle.json").write_text(json.dumps(results, indent=2))
    report(results)
    return 0


def report(results: dict) -> None:
    print("painting, everything included (s):")
    for row in results["painting"]:
        print(f"  {row['width']:>4} {row['size']:>5} px {row['method']:>5}  {row['seconds']:.3f}")
    print("reconstruction (mean absolute error):", results["reconstruction_mae"])
    for p in results["pairs"]:
        line = f"{p['photo']:>11} x {p['painting']:<14} stylize {p['stylize']['seconds']:.0f} s"
        for method in METHODS:
            r = p["ratios"][method]
            line += (
                f"; {method} {p[method]['seconds']:.2f} s, / stylize: style {r['style']:.2f}, "
                f"content {r['content']:.2f}"
            )
        print(line)
    print("training:", results["training"])


if __name__ == "__main__":
    raise SystemExit(main())
