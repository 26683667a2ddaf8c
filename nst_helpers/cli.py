"""The command line: ``python -m nst_helpers stylize|fetch|list``.

Examples::

    python -m nst_helpers stylize tubingen starry_night --output out.png
    python -m nst_helpers stylize my_photo.jpg styles/mosaic.png -o mosaic.png --size 256
    python -m nst_helpers fetch          # weights and all images, ahead of class
    python -m nst_helpers list           # the named images

Every user error (missing or broken image, an output that exists or cannot be written,
nonsense numbers) ends with one line on stderr and exit code 2, without a traceback.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from typing import Sequence

from . import config
from .errors import NSTError

EXIT_USAGE = 2
MIN_SIZE, MAX_SIZE = 32, 4096


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage dump) with exit code 2."""

    def error(self, message: str):  # noqa: D401 (argparse's API)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def _size(text: str) -> int:
    value = _int(text)
    if not MIN_SIZE <= value <= MAX_SIZE:
        raise argparse.ArgumentTypeError(f"must be between {MIN_SIZE} and {MAX_SIZE} pixels, not {value}")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _positive_int(text: str) -> int:
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _seed(text: str) -> int:
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def _weight(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, not {text}")
    return value


def _scale(text: str) -> float:
    value = _weight(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, not {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    from .optimize import CONTENT_WEIGHT, INITS, OPTIMIZERS, STYLE_WEIGHT, TV_WEIGHT

    full, quick = config.FULL, config.QUICK
    parser = _Parser(prog="python -m nst_helpers",
                     description="Neural style transfer (Gatys, Ecker and Bethge 2015) with VGG19.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = commands.add_parser("stylize", help="paint a photo in the style of a painting",
                              description="Paint CONTENT in the style of STYLE and write the result.")
    run.add_argument("content", metavar="CONTENT", help="content image: a file or a name from `list`")
    run.add_argument("style", metavar="STYLE", nargs="?",
                     help="style image: a file or a name from `list` (or use --style for several)")
    run.add_argument("-o", "--output", required=True, metavar="OUT.png",
                     help="where to write the result (.png, .jpg or .jpeg)")
    run.add_argument("--size", type=_size, default=None,
                     help=f"longest side in pixels (default {full.size}; {quick.size} with NST_QUICK=1)")
    run.add_argument("--steps", type=_positive_int, default=None,
                     help=f"optimizer iterations (default {full.steps}; {quick.steps} with NST_QUICK=1)")
    run.add_argument("--optimizer", choices=OPTIMIZERS, default="lbfgs", help="default: lbfgs")
    run.add_argument("--content-weight", type=_weight, default=CONTENT_WEIGHT,
                     help=f"alpha (default {CONTENT_WEIGHT:g})")
    run.add_argument("--style-weight", type=_weight, default=STYLE_WEIGHT,
                     help=f"beta (default {STYLE_WEIGHT:g})")
    run.add_argument("--tv-weight", type=_weight, default=TV_WEIGHT,
                     help=f"gamma, total variation (default {TV_WEIGHT:g})")
    run.add_argument("--init", choices=INITS, default="content", help="starting image (default content)")
    run.add_argument("--seed", type=_seed, default=0, help="seed for --init noise (default 0)")
    run.add_argument("--weights", default="auto",
                     help="auto (default), imagenet, compact, or a .h5/.npz/.whl/.bin file")
    controls = run.add_argument_group("controls (notebook 06)")
    controls.add_argument("--style", dest="styles", nargs="+", metavar="IMAGE",
                          help="one or more style images instead of STYLE")
    controls.add_argument("--style-blend", nargs="+", type=_weight, metavar="W",
                          help="one weight per style, summing to 1 (default: equal)")
    controls.add_argument("--mask", dest="masks", nargs="+", metavar="MASK",
                          help="one mask image per style: white = this style here, black = keep the photo")
    controls.add_argument("--preserve-colors", choices=("luminance", "histogram"),
                          help="keep the photo's colours: stylize the luminance only, or "
                               "recolour the style to the photo's colours first")
    controls.add_argument("--style-scale", type=_scale, default=1.0,
                          help="style image size relative to the result; >1 = bigger strokes (default 1)")
    controls.add_argument("--pyramid", type=_positive_int, default=1,
                          help="coarse-to-fine levels, e.g. --size 1024 --pyramid 3 runs 256, 512, 1024 px")
    controls.add_argument("--content-layers", nargs="+", metavar="LAYER", default=None,
                          help="VGG19 content layer(s) (default block4_conv2)")
    controls.add_argument("--style-layers", nargs="+", metavar="LAYER", default=None,
                          help="VGG19 style layers (default block1_conv1 ... block5_conv1)")
    controls.add_argument("--style-layer-weights", nargs="+", type=_weight, metavar="W",
                          help="one weight per style layer (default: equal)")
    run.add_argument("--force", action="store_true", help="overwrite OUTPUT if it exists")
    run.add_argument("--quiet", action="store_true", help="no progress bar")

    fetch = commands.add_parser("fetch", help="download VGG19 weights and all named images now",
                                description="Download everything the notebooks need, ahead of class.")
    fetch.add_argument("--weights", default="auto", help="auto (default), imagenet or compact")
    fetch.add_argument("--skip-images", action="store_true", help="fetch only the weights")

    commands.add_parser("list", help="list the named content and style images")
    return parser


def run_stylize(args: argparse.Namespace) -> int:
    from .data import resolve_image
    from .images import check_writable, load_image, save_image
    from .optimize import stylize
    from .vgg import CONTENT_LAYERS, STYLE_LAYERS, check_layers

    if (args.style is None) == (args.styles is None):
        raise NSTError("give the style image either as STYLE or with --style, exactly once")
    style_names = args.styles or [args.style]
    style_layers = check_layers(args.style_layers or STYLE_LAYERS)
    content_layers = check_layers(args.content_layers or CONTENT_LAYERS)
    layer_weights = None
    if args.style_layer_weights is not None:
        if len(args.style_layer_weights) != len(style_layers):
            raise NSTError(f"--style-layer-weights needs {len(style_layers)} numbers, one per style layer")
        layer_weights = dict(zip(style_layers, args.style_layer_weights))
    mask_paths = [resolve_image(m) for m in args.masks] if args.masks else None

    output = check_writable(args.output, overwrite=args.force)  # fail before the long run
    size = args.size or config.defaults().size
    content = load_image(resolve_image(args.content), max_dim=size)
    styles = [load_image(resolve_image(name)) for name in style_names]  # stylize sizes them
    print(f"Content {args.content} ({content.shape[2]}x{content.shape[1]}), style "
          f"{' + '.join(style_names)}; {args.optimizer}, {args.steps or config.defaults().steps} steps"
          + (f", {args.pyramid} pyramid levels" if args.pyramid > 1 else "")
          + (" (quick mode)" if config.quick_mode() else ""), flush=True)
    result = stylize(
        content, styles, steps=args.steps, optimizer=args.optimizer,
        content_weight=args.content_weight, style_weight=args.style_weight,
        tv_weight=args.tv_weight, content_layers=content_layers, style_layers=style_layers,
        style_layer_weights=layer_weights, style_blend=args.style_blend, style_masks=mask_paths,
        style_scale=args.style_scale, preserve_colors=args.preserve_colors, pyramid=args.pyramid,
        init=args.init, seed=args.seed, weights=args.weights,
        progress=not args.quiet, log=lambda line: print(line, flush=True),
    )
    save_image(result.image, output, overwrite=args.force)
    height, width = result.image.shape[1:3]
    note = " (interrupted: best image so far)" if result.interrupted else ""
    final = result.history["total"].iloc[-1] if len(result.history) else float("nan")
    print(f"Wrote {output} ({width}x{height}){note} after {len(result.history)} steps "
          f"in {result.seconds:.1f} s; final loss {final:.4g}")
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    from .data import fetch_all
    from .weights import resolve_weights

    source = resolve_weights(args.weights)
    print(source.describe())
    if args.skip_images:
        return 0
    results = fetch_all()
    failed = [name for name, found in results.items() if isinstance(found, Exception)]
    if failed:
        print(f"{len(failed)} image(s) could not be fetched: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def run_list(args: argparse.Namespace) -> int:
    from .data import list_images

    table = list_images()[["name", "kind", "artist", "title", "year", "available_offline"]]
    print(table.to_string(index=False))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (0 ok, 1 partly failed fetch, 2 user error)."""
    args = build_parser().parse_args(argv)
    handler = {"stylize": run_stylize, "fetch": run_fetch, "list": run_list}[args.command]
    try:
        return handler(args)
    except NSTError as error:
        print("error: " + " ".join(str(error).split()), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
