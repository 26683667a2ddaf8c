"""Video without flicker: the methods on a clip with known motion and on a real clip, in one run.

    python benchmarks/video.py            # about 20 minutes on 2 cores
    python benchmarks/video.py --quick    # a smoke run (CI): writes outputs/video_quick/

Two clips of ``FRAMES`` frames at ``SIZE`` px (longest side), painted in the style of The
Starry Night:

- **known motion**: Tübingen filmed by a camera that pans and zooms, with a disc crossing the
  view (:func:`nst_helpers.clips.synthetic_clip`): the exact flow and occlusions are known;
- **real**: every third frame of the Big Buck Bunny excerpt from frame 30
  (:func:`clips.sample_video`, Blender Foundation, CC BY 3.0), where the rabbit climbs out of
  its burrow and stands up; its flow is estimated (DIS and the consistency check).

Methods: ``per-frame`` (optimization from each frame), ``temporal`` (Ruder et al. 2016: from
the warped previous result, with the temporal loss), ``fast alone`` (the shipped Starry Night
network on each frame), ``fast`` (the network blended with its warped previous output) and
``steady`` (the shipped Starry Night network fine-tuned with a temporal loss,
:mod:`nst_helpers.steady`, on each frame with no blend).
For each: the **flicker score** (:func:`nst_helpers.flow.clip_flicker`: the mean squared
warping error of consecutive results over reliable pixels, along the exact flow on the first
clip and the estimated one on the second), beside the input clip's own score (its floor);
the **style and content losses** of the course's objective (default weights, the painting at
the frame's size), averaged over the frames; **seconds per frame**.

Also: **frames per second** of the fast path at 256 px on the real clip (flow, warp and
blend included) and of the network alone; and **peak memory** of ``paint_video`` (fast) on
clips of two lengths, each in a fresh process: the high-water mark of the resident set.

Writes ``benchmarks/video.json`` and ``benchmarks/video.png`` (frames of each method) and
the painted clips as GIFs in ``outputs/video_bench/`` to watch; ``--quick`` writes to
``outputs/video_quick/`` instead.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
QUICK_DIR = ROOT / "outputs" / "video_quick"
CLIPS_DIR = ROOT / "outputs" / "video_bench"
sys.path.insert(1, str(ROOT))
sys.path.insert(1, str(HERE))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from bench import machine  # noqa: E402

import nst_helpers as nst  # noqa: E402
from nst_helpers import clips, flow, temporal, video  # noqa: E402
from nst_helpers.objective import StyleTransferLoss  # noqa: E402
from nst_helpers.settings import StyleSettings  # noqa: E402

PAINTING, MODEL, STEADY = "starry_night", "starry_night", "starry_night_steady"
METHODS = {  # name: VideoSettings changes, and the network for the fast method
    "per-frame": {"method": "per-frame"},
    "temporal": {"method": "temporal"},
    "fast alone": {"method": "fast", "blend": 0.0},
    "fast": {"method": "fast", "blend": 0.5},
    "steady": {"method": "fast", "blend": 0.0, "network": STEADY},
}
NETWORK_METHODS = ("fast alone", "fast", "steady")  # compared with "fast alone"
FULL = dict(size=192, frames=10, steps=100, temporal_steps=50, fps_frames=60, memory=(30, 120))
QUICK = dict(size=48, frames=3, steps=3, temporal_steps=2, fps_frames=4, memory=(3, 6))


def known_motion_clip(size: int, frames: int) -> tuple[list, list, list]:
    """Tübingen filmed with a pan, a zoom and a crossing disc: (frames, exact flows, masks)."""
    photo = nst.load_content("tubingen", max_dim=2 * size)
    height = round(size * 3 / 4)
    clip = clips.synthetic_clip(photo, frames=frames, size=(height, size), pan=(2.0, 0.5))
    return clip.frames, clip.flows, clip.masks


REAL_START, REAL_STEP = 30, 3  # frames 30, 33, 36...: the rabbit climbs out and stands up


def real_clip(size: int, frames: int) -> tuple[list, list, list]:
    """Every third frame of the sample video from frame 30 (more motion between the frames
    than at 25 fps): (frames, estimated flows, their reliability)."""
    source = video.read_frames(clips.sample_video(), max_dim=size)
    end = REAL_START + REAL_STEP * frames
    pictures = list(itertools.islice(source, REAL_START, end, REAL_STEP))  # stops reading there
    pairs = [flow.reliable_flow(a, b) for a, b in zip(pictures, pictures[1:])]
    return pictures, [p[0] for p in pairs], [p[1] for p in pairs]


def paint(frames: list, settings: temporal.VideoSettings, style) -> tuple[list, float]:
    """The painted frames and the seconds per frame (``style``: the painting, or the network
    for the fast method)."""
    painter = temporal.make_painter(style, settings)
    started = time.perf_counter()
    outputs = list(temporal.paint_frames(frames, painter))
    return outputs, (time.perf_counter() - started) / len(frames)


def mean_losses(frames: list, outputs: list, painting, extractor, size: int) -> dict:
    """The course objective's style and content losses, averaged over the frames."""
    settings, rows = StyleSettings(size=size), []
    for frame, output in zip(frames, outputs):
        loss = StyleTransferLoss(extractor, tf.constant(frame[None]), [painting], settings)
        terms = loss.terms(tf.constant(output[None]))
        rows.append([float(terms["style"]), float(terms["content"])])
    style, content = np.mean(rows, axis=0)
    return {"style": float(style), "content": float(content)}


def measure_clip(name: str, clip: tuple, config: dict, extractor, out: Path) -> dict:
    """Every method on one clip: flicker (and the input's own), losses, seconds per frame."""
    frames, flows, masks = clip
    painting = nst.load_style(PAINTING, max_dim=config["size"])
    result = {"input_flicker": flow.clip_flicker(frames, flows, masks), "methods": {}}
    keep = {"steps": config["steps"], "temporal_steps": config["temporal_steps"]}
    for method, changes in METHODS.items():
        changes = dict(changes)
        network = changes.pop("network", MODEL)
        settings = temporal.VideoSettings(size=config["size"], **keep, **changes)
        outputs, seconds = paint(
            frames, settings, network if settings.method == "fast" else painting
        )
        row = {"flicker": flow.clip_flicker(outputs, flows, masks), "seconds_per_frame": seconds}
        row.update(mean_losses(frames, outputs, painting, extractor, config["size"]))
        result["methods"][method] = row
        video.write_video(out / f"{name}_{method.replace(' ', '_')}.gif", outputs, 8, True)
        result.setdefault("frames_shown", {})[method] = [outputs[0], outputs[-1]]
        print(f"  {name:12s} {method:10s} " + " ".join(f"{k} {v:.4g}" for k, v in row.items()))
    result["frames_shown"]["input"] = [frames[0], frames[-1]]
    return result


def frames_per_second(size: int, count: int) -> dict:
    """Frames per second of the fast path on the real clip: the network alone, and with the
    flow, warp and blend (the whole ``fast`` method)."""
    frames = [f for _, f in zip(range(count), video.read_frames(clips.sample_video(), size))]
    rates = {}
    for method, blend in (("fast alone", 0.0), ("fast", 0.5)):
        settings = temporal.VideoSettings(method="fast", size=size, blend=blend)
        painter = temporal.make_painter(MODEL, settings)
        list(temporal.paint_frames(frames[:2], painter))  # TensorFlow's set-up, not timed
        started = time.perf_counter()
        list(temporal.paint_frames(frames, painter))
        rates[method] = count / (time.perf_counter() - started)
    return {"size": size, "frames": count, "fps": rates}


MEMORY_RUN = textwrap.dedent(
    """
    import sys, tempfile
    from pathlib import Path
    from nst_helpers import clips, temporal, video, video_jobs
    count, size = int(sys.argv[1]), int(sys.argv[2])
    folder = Path(tempfile.mkdtemp())
    source = video.write_video(folder / "clip.mp4", (f for _, f in zip(range(count),
        video.read_frames(clips.sample_video(log=lambda line: None), max_dim=size))), 25)
    settings = temporal.VideoSettings(method="fast", size=size)
    video_jobs.paint_video(source, folder / "out.mp4", "starry_night", settings, progress=False)
    status = Path("/proc/self/status").read_text().splitlines()
    print(next(int(l.split()[1]) for l in status if l.startswith("VmHWM:")) / 1024)
    """
)


def peak_memory(lengths: tuple[int, int], size: int) -> dict:
    """Peak resident memory (MB) of painting clips of two lengths, each in a fresh process."""
    peaks = {}
    for count in lengths:
        done = subprocess.run(
            [sys.executable, "-c", MEMORY_RUN, str(count), str(size)],
            capture_output=True, text=True, check=True, cwd=ROOT,
        )  # fmt: skip
        peaks[str(count)] = float(done.stdout.strip().splitlines()[-1])
    return {"size": size, "peak_mb_by_frames": peaks}


def plot(results: dict, path: Path) -> None:
    """For each clip: its first and last frame, then each method's."""
    names = ["input", *METHODS]
    fig, axes = plt.subplots(4, len(names), figsize=(2.6 * len(names), 7.2))
    for block, clip in enumerate(("known motion", "real")):
        shown = results["clips"][clip]["frames_shown"]
        for column, name in enumerate(names):
            for row, image in enumerate(shown[name]):
                ax = axes[2 * block + row, column]
                ax.imshow(np.clip(image, 0, 1))
                ax.set_xticks([]), ax.set_yticks([])
                if row == 0:
                    score = results["clips"][clip]["methods"].get(name, {}).get("flicker")
                    label = f"{name}\nflicker {score:.4f}" if score is not None else name
                    ax.set_title(f"{clip}: {label}" if column == 0 else label, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run at tiny sizes")
    args = parser.parse_args(argv)
    config = QUICK if args.quick else FULL
    out = QUICK_DIR if args.quick else HERE
    frames_dir = QUICK_DIR if args.quick else CLIPS_DIR
    out.mkdir(parents=True, exist_ok=True), frames_dir.mkdir(parents=True, exist_ok=True)
    extractor = nst.FeatureExtractor([*nst.STYLE_LAYERS, *nst.CONTENT_LAYERS], log=None)
    clip_makers = {"known motion": known_motion_clip, "real": real_clip}
    results = {"machine": machine(), "date": time.strftime("%Y-%m-%d"), "settings": config}
    results["clips"] = {
        name: measure_clip(name, make(config["size"], config["frames"]), config, extractor,
                           frames_dir)
        for name, make in clip_makers.items()
    }  # fmt: skip
    results["real_time"] = frames_per_second(256 if not args.quick else 48, config["fps_frames"])
    results["memory"] = peak_memory(config["memory"], 256 if not args.quick else 48)
    plot(results, out / "video.png")
    for clip in results["clips"].values():
        clip.pop("frames_shown")
    results["sample_video"] = clips.SAMPLE_VIDEO_CREDIT
    (out / "video.json").write_text(json.dumps(results, indent=2))
    report(results)
    return 0


def report(results: dict) -> None:
    for name, clip in results["clips"].items():
        print(f"\n{name} clip (input's own flicker {clip['input_flicker']:.5f}):")
        base = clip["methods"]
        for method, row in base.items():
            reference = base["fast alone" if method in NETWORK_METHODS else "per-frame"]
            print(
                f"  {method:10s} flicker {row['flicker']:.5f} "
                f"({row['flicker'] / reference['flicker']:.2f}x)  style {row['style']:.4g} "
                f"({row['style'] / reference['style']:.2f}x)  content {row['content']:.4g}  "
                f"{row['seconds_per_frame']:.2f} s/frame"
            )
    rates = results["real_time"]["fps"]
    print(f"\nfast path at 256 px: {rates['fast']:.1f} fps ({rates['fast alone']:.1f} alone)")
    print(f"peak memory by clip length: {results['memory']['peak_mb_by_frames']}")


if __name__ == "__main__":
    sys.exit(main())
