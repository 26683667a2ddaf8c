"""Train the decoder shipped in ``nst_helpers/models/any_style/`` (any style, notebook 09).

    python scripts/train_shipped_decoder.py             # train (resumes where it stopped)
    python scripts/train_shipped_decoder.py --install   # copy it into the package

The decoder is trained with AdaIN's loss (:func:`nst_helpers.anystyle.train_decoder`) on
batches of four 128 px crops: the packaged photos as content, and as styles the course's
training paintings (40 %) and new procedural textures with random palettes and stroke
scales (60 %). The settings below are the ones the shipped decoder was trained with, on a
2-core CPU; on a GPU, 256 px crops, batch 8 and tens of thousands of steps do better.
Checkpoints and previews are kept in ``outputs/models/decoder.checkpoints/``.

The shipped decoder was made in two runs: 1804 steps with these settings but VGG19's own zero
padding in the encoder (stopped when the previews showed stripes along the borders: the decoder
was learning to paint the frame of zeros), then 5000 steps with reflection padding, started
from it (``--init outputs/models/decoder_phase1.checkpoints``). Its record holds both runs.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "outputs" / "models" / "decoder.npz"
SETTINGS = dict(
    steps=5000,
    size=128,
    batch=4,
    width="half",
    learning_rate=5e-4,
    checkpoint_every=250,
    style_size=512,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--install", action="store_true", help="copy the trained decoder")
    parser.add_argument("--force", action="store_true", help="replace an installed decoder")
    parser.add_argument("--steps", type=int, help="train this many steps in all instead")
    parser.add_argument("--init", help="a decoder (.npz or checkpoint folder) to start from")
    args = parser.parse_args()
    if args.install:
        from nst_helpers.anystyle import SHIPPED_DECODER

        for suffix in (".npz", ".json"):
            source, target = OUTPUT.with_suffix(suffix), SHIPPED_DECODER.with_suffix(suffix)
            if target.exists() and not args.force:
                print(f"{target} exists; give --force to replace it", file=sys.stderr)
                return 2
            shutil.copyfile(source, target)
            print(f"installed {target}")
        return 0
    from nst_helpers.anystyle import train_decoder
    from nst_helpers.realtime import TrainSettings

    settings = TrainSettings(**{**SETTINGS, **({"steps": args.steps} if args.steps else {})})
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    train_decoder(OUTPUT, settings, init=args.init, preview_every=250, overwrite=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
