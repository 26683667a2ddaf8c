"""Write the project's generated style images to styles/ (512 px, seed 0).

Usage::

    python scripts/make_styles.py            # refuses to overwrite existing files
    python scripts/make_styles.py --force    # regenerate them all

The pictures come from :mod:`nst_helpers.textures`; the project releases them as CC0.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing the package

from PIL import Image  # noqa: E402

from nst_helpers.textures import TEXTURES  # noqa: E402

SIZE = 512
SEED = 0


def main(argv: list[str] | None = None) -> int:
    """Generate every texture into ``--out``; exit code 2 if a file exists and ``--force`` is
    absent."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="overwrite existing PNG files")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "styles", help="folder (default: styles/)"
    )
    args = parser.parse_args(argv)

    targets = {name: args.out / f"{name}.png" for name in TEXTURES}
    existing = [str(p) for p in targets.values() if p.exists()]
    if existing and not args.force:
        print(
            f"error: {', '.join(existing)} already exist(s): run again with --force to overwrite.",
            file=sys.stderr,
        )
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    for name, path in targets.items():
        Image.fromarray(TEXTURES[name](size=SIZE, seed=SEED)).save(path, optimize=True)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
