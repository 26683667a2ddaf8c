"""Train the networks shipped in ``nst_helpers/models`` (real-time style transfer, notebook 08).

    python scripts/train_shipped_models.py                 # all, one after the other
    python scripts/train_shipped_models.py wave            # one
    python scripts/train_shipped_models.py wave_steady     # its steady version for video
    python scripts/train_shipped_models.py --install wave  # copy a finished one into the package

Each model is trained with the command line (``python -m nst_helpers train-fast``) in two
phases: 1500 steps on batches of four 128 px crops (``outputs/models/<name>_128.npz``), then
500 steps on single 256 px crops starting from that model (``outputs/models/<name>.npz``):
small crops learn the colours and strokes quickly, larger ones bring the painting's
larger-scale statistics (its loss at 512 px halved in a trial). A ``<name>_steady`` model is
the shipped ``<name>`` fine-tuned for video (``nst_helpers.steady``): one phase of 600 steps on
pairs of 192 px frames of known motion, with the temporal loss at weight 1e8 and a smaller
learning rate, so that its strokes follow the motion (2e8 steadied it more but raised the
style loss on a real clip by 16 %). Checkpoints are kept beside
each model: an interrupted run resumes where it stopped when the script runs again.
``--install`` copies the finished ``.npz`` and ``.json`` into ``nst_helpers/models/`` (never
over an existing model without ``--force``). The settings below are the ones the shipped
models were trained with, on a 2-core CPU; on a GPU larger crops and more steps do better.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRAINED = ROOT / "outputs" / "models"
SHIPPED = ROOT / "nst_helpers" / "models"

COMMON = ["--style-size", "512", "--width", "half", "--checkpoint-every", "250"]
PHASES = [  # (output suffix, options): small crops first, then larger crops from there
    ("_128", ["--size", "128", "--batch", "4", "--steps", "1500"]),
    ("", ["--size", "256", "--batch", "1", "--steps", "500", "--init", "{name}_128.npz"]),
]
STEADY_PHASE = [  # fine-tuning a shipped network for video, from the shipped model itself
    ("", ["--size", "192", "--batch", "1", "--steps", "600", "--temporal-weight", "1e8",
          "--learning-rate", "5e-4", "--init", "{shipped}"]),
]  # fmt: skip
PLAIN = {"starry_night": "starry_night", "wave": "wave", "mosaic": "mosaic"}  # name: style
MODELS = {**PLAIN, **{f"{name}_steady": style for name, style in PLAIN.items()}}


def phases(name: str) -> list[tuple[str, list[str]]]:
    return STEADY_PHASE if name.endswith("_steady") else PHASES


def train(name: str) -> int:
    """Both phases of one model; a phase whose model exists is skipped."""
    TRAINED.mkdir(parents=True, exist_ok=True)
    for suffix, options in phases(name):
        output = TRAINED / f"{name}{suffix}.npz"
        if output.exists():
            print(f"{output} exists: phase done", flush=True)
            continue
        shipped = name.removesuffix("_steady")
        options = [o.format(name=TRAINED / name, shipped=shipped) for o in options]
        command = [sys.executable, "-m", "nst_helpers", "train-fast", MODELS[name]]
        command += ["--output", str(output), *options, *COMMON, "--preview-every", "250"]
        print(" ".join(command[1:]), flush=True)
        code = subprocess.run(command, cwd=ROOT).returncode
        if code:
            return code
    return 0


def install(name: str, force: bool) -> int:
    for suffix in (".npz", ".json"):
        source, target = TRAINED / f"{name}{suffix}", SHIPPED / f"{name}{suffix}"
        if not source.is_file():
            print(f"{source} does not exist: train it first", file=sys.stderr)
            return 2
        if target.exists() and not force:
            print(f"{target} exists: give --force to replace it", file=sys.stderr)
            return 2
    SHIPPED.mkdir(exist_ok=True)
    for suffix in (".npz", ".json"):
        shutil.copyfile(TRAINED / f"{name}{suffix}", SHIPPED / f"{name}{suffix}")
    print(f"installed {name} in {SHIPPED}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(MODELS))
    parser.add_argument("--install", action="store_true", help="copy into nst_helpers/models")
    parser.add_argument("--force", action="store_true", help="replace an installed model")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in MODELS]
    if unknown:
        parser.error(f"unknown model {unknown[0]!r}: choose from {', '.join(MODELS)}")
    for name in args.names or list(MODELS):
        code = install(name, args.force) if args.install else train(name)
        if code:
            return code
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
