"""The command line: ``python -m nst_helpers stylize|fast|train-fast|arbitrary|video|collect|
gallery|fetch|list``.

Examples::

    python -m nst_helpers stylize tubingen starry_night --output out.png
    python -m nst_helpers fast tubingen --model starry_night --output fast.png
    python -m nst_helpers train-fast wave --output wave.npz --size 128 --steps 1500
    python -m nst_helpers arbitrary tubingen udnie --alpha 0.8 --method wct -o any.png
    python -m nst_helpers video clip.mp4 --style starry_night --method fast -o painted.mp4
    python -m nst_helpers collect https://example.org/paintings.html --into my_paintings
    python -m nst_helpers gallery --content photos/ --style my_paintings/ -o wall --method arbitrary
    python -m nst_helpers stylize my_photo.jpg styles/mosaic.png -o mosaic.png --size 256
    python -m nst_helpers stylize tubingen starry_night -o again.png --settings run.json
    python -m nst_helpers fetch          # weights and all images, ahead of class
    python -m nst_helpers list           # the named images

The options of ``stylize`` are made from the fields of
:class:`~nst_helpers.settings.StyleSettings`, which also checks their values.

Exit codes: 0 done; 1 some downloads of ``fetch`` failed; 2 a user error (one line on
stderr, no traceback); 3 stopped early (Ctrl-C or ``--max-seconds``), the best image so
far saved (``train-fast``: the steps done kept as a checkpoint; the same command resumes);
130 interrupted before any step, nothing written.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from .collect import add_collect_parser, run_collect
from .data import resolve_image
from .errors import NSTError
from .gallery import add_gallery_parser, run_gallery
from .images import check_writable, save_image
from .monitor import SafeStream
from .settings import MAX_SIZE, MIN_SIZE, StyleSettings
from .validate import SettingError, positive_int
from .video_jobs import add_video_parser, run_video

METHOD_NAMES = ("adain", "wct")  # arbitrary's --method, as nst_helpers.anystyle.METHODS
EXIT_OK, EXIT_FETCH_FAILED, EXIT_USAGE, EXIT_STOPPED_EARLY, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
ALIASES = {"masks": ["--mask"]}  # older spellings kept working


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage dump) with exit code 2."""

    def error(self, message: str):  # noqa: D401 (argparse's API)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


PARSERS = {int: _whole_number, float: _number}
METAVARS = {int: "N", float: "X"}
NAMES = {"masks": "MASK", "init": "START", "weights": "SOURCE"}


def _shown(value) -> str:
    """A default as the command line spells it."""
    return (
        " ".join(map(str, value))
        if isinstance(value, tuple)
        else f"{value:g}"
        if isinstance(value, float)
        else str(value)
    )


def flag(setting: str) -> str:
    """The command-line option of a setting: ``style_weight`` -> ``--style-weight``."""
    return "--" + setting.replace("_", "-")


def add_settings_options(parser: argparse.ArgumentParser) -> None:
    """One option per :class:`StyleSettings` field; only the options given reach the settings."""
    group = parser.add_argument_group(
        "settings (nst_helpers.StyleSettings; their values are checked there)"
    )
    defaults = StyleSettings()
    for field in dataclasses.fields(StyleSettings):
        options = {k: v for k, v in field.metadata.items() if k != "dest"}
        if "type" in options:
            options["metavar"] = METAVARS[options["type"]]
            options["type"] = PARSERS[options["type"]]
        elif "choices" not in options:
            options["metavar"] = NAMES.get(field.name, "LAYER")
        shown = getattr(defaults, field.name)
        if shown is not None and "default" not in options["help"]:
            options["help"] += f" (default: {_shown(shown)})"
        group.add_argument(
            flag(field.name),
            *ALIASES.get(field.name, []),
            dest=field.name,
            default=argparse.SUPPRESS,
            **options,
        )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m nst_helpers",
        description="Neural style transfer (Gatys, Ecker and Bethge 2015) with VGG19.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = commands.add_parser(
        "stylize",
        help="paint a photo in the style of a painting",
        description="Paint CONTENT in the style of STYLE and write the result.",
    )
    run.add_argument(
        "content", metavar="CONTENT", help="content image: a file or a name from `list`"
    )
    run.add_argument(
        "style",
        metavar="STYLE",
        nargs="?",
        help="style image: a file or a name from `list` (or use --style for several)",
    )
    run.add_argument(
        "--style",
        dest="styles",
        nargs="+",
        metavar="IMAGE",
        help="one or more style images instead of STYLE",
    )
    run.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT.png",
        help="where to write the result (.png, .jpg or .jpeg)",
    )
    run.add_argument(
        "--settings",
        dest="settings_file",
        metavar="RUN.json",
        help="start from the settings saved with an earlier result",
    )
    run.add_argument(
        "--save-settings",
        metavar="RUN.json",
        help="also write the run's settings as JSON (for --settings later)",
    )
    run.add_argument("--force", action="store_true", help="overwrite OUTPUT if it exists")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    add_settings_options(run)
    _add_fast_parser(commands)
    _add_train_fast_parser(commands)
    _add_arbitrary_parser(commands)
    add_video_parser(commands)
    add_collect_parser(commands)
    add_gallery_parser(commands)
    fetch = commands.add_parser(
        "fetch",
        help="download VGG19 weights and all named images now",
        description="Download everything the notebooks need, ahead of class.",
    )
    fetch.add_argument("--weights", default="auto", help="auto (default), imagenet or compact")
    fetch.add_argument("--skip-images", action="store_true", help="fetch only the weights")
    commands.add_parser("list", help="list the named content and style images")
    return parser


def _add_fast_parser(commands) -> None:
    fast = commands.add_parser(
        "fast",
        help="paint a photo in one pass with a trained network (real-time style transfer)",
        description="Paint CONTENT with a trained network: a shipped model, a .npz or the "
        "checkpoint folder of a train-fast run.",
    )
    fast.add_argument("content", metavar="CONTENT", help="a file or a name from `list`")
    fast.add_argument("--model", required=True, help="shipped model name, MODEL.npz or folder")
    fast.add_argument("-o", "--output", required=True, metavar="OUT.png", help="the result")
    fast.add_argument(
        "--size", type=_whole_number, metavar="N", help="longest side in pixels (default 512)"
    )
    fast.add_argument("--force", action="store_true", help="overwrite OUTPUT if it exists")


def _add_arbitrary_parser(commands) -> None:
    any_style = commands.add_parser(
        "arbitrary",
        help="paint a photo in any painting's style in one pass (AdaIN or WCT)",
        description="Paint CONTENT in the style of STYLE (several: mixed by --weights or "
        "placed by --masks) with the shipped decoder or your own.",
    )
    any_style.add_argument("content", metavar="CONTENT", help="a file or a name from `list`")
    any_style.add_argument("styles", metavar="STYLE", nargs="+", help="files or names")
    any_style.add_argument("-o", "--output", required=True, metavar="OUT.png", help="the result")
    any_style.add_argument(
        "--alpha", type=_number, default=1.0, help="0 = the photo, 1 = full style (default 1)"
    )
    any_style.add_argument("--method", choices=sorted(METHOD_NAMES), default="adain")
    any_style.add_argument("--weights", type=_number, nargs="+", metavar="W", help="per STYLE")
    any_style.add_argument("--masks", nargs="+", metavar="MASK", help="an image per STYLE")
    any_style.add_argument("--keep-colours", action="store_true", help="keep the photo's colours")
    any_style.add_argument("--decoder", help="a decoder .npz or checkpoint folder")
    any_style.add_argument(
        "--size", type=_whole_number, metavar="N", help="longest side in pixels (default 512)"
    )
    any_style.add_argument(
        "--style-size",
        type=_whole_number,
        metavar="N",
        help="the paintings' longest side (default: --size)",
    )
    any_style.add_argument("--force", action="store_true", help="overwrite OUTPUT if it exists")


def _add_train_fast_parser(commands) -> None:
    from .realtime import TrainSettings

    train = commands.add_parser(
        "train-fast",
        help="train a network for one painting (Johnson et al. 2016)",
        description="Train a network that paints any photo in the style of STYLE in one pass. "
        "Checkpoints go to OUTPUT's name + .checkpoints; the same command resumes there.",
    )
    train.add_argument("style", metavar="STYLE", help="style image: a file or a name from `list`")
    train.add_argument("-o", "--output", required=True, metavar="MODEL.npz", help="the model")
    defaults = TrainSettings()
    for name, help_text in TRAIN_OPTIONS.items():
        kind = type(getattr(defaults, name))
        train.add_argument(
            flag(name),
            dest=name,
            type=PARSERS.get(kind, str),
            metavar=METAVARS.get(kind, "NAME"),
            default=argparse.SUPPRESS,
            help=f"{help_text} (default: {_shown(getattr(defaults, name))})",
        )
    for field in dataclasses.fields(StyleSettings):
        if field.name in LOSS_WEIGHTS:
            train.add_argument(
                flag(field.name),
                dest=field.name,
                type=_number,
                metavar="X",
                default=argparse.SUPPRESS,
                help=f"{field.metadata['help']} (default: {_shown(field.default)})",
            )
    train.add_argument(
        "--data",
        metavar="FOLDER",
        help="train on the photos in FOLDER, or coco_val2017 to download COCO's 5000 "
        "validation photos (778 MiB, online); default: photos shipped by installed packages",
    )
    train.add_argument(
        "--init", metavar="MODEL", help="start from a trained model instead of random weights"
    )
    train.add_argument("--preview-every", type=_whole_number, default=100, metavar="N")
    train.add_argument("--force", action="store_true", help="overwrite OUTPUT if it exists")
    train.add_argument("--quiet", action="store_true", help="no progress bar")


LOSS_WEIGHTS = ("content_weight", "style_weight", "tv_weight")  # train-fast's loss options
TRAIN_OPTIONS = {
    "steps": "training steps in all",
    "size": "side of the square training crops in pixels",
    "batch": "photos per step",
    "style_size": "longest side of the painting in pixels",
    "width": "network width: full (32/64/128 channels) or half (16/32/64)",
    "learning_rate": "Adam's learning rate",
    "checkpoint_every": "steps between checkpoints",
    "seed": "seed of the random crops",
    "temporal_weight": "above 0: train on pairs of video frames with this weight on the "
    "temporal loss (a steady network for video)",
}


def settings_from_args(args: argparse.Namespace) -> StyleSettings:
    """The run's settings: a saved file's (``--settings``) or the defaults, then the options
    given."""
    base = StyleSettings.from_json(args.settings_file) if args.settings_file else StyleSettings()
    given = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(StyleSettings)
        if hasattr(args, f.name)
    }
    if "masks" in given:
        given["masks"] = [resolve_image(mask) for mask in given["masks"]]
    return base.replace(**given)


def run_stylize(args: argparse.Namespace, say) -> int:
    from .optimize import stylize

    if (args.style is None) == (args.styles is None):
        raise NSTError("give the style image either as STYLE or with --style, exactly once")
    settings = settings_from_args(args)
    content = resolve_image(args.content)
    styles = [resolve_image(name) for name in args.styles or [args.style]]
    inputs = [content, *styles, *(settings.masks or [])]
    output = check_writable(args.output, overwrite=args.force, protect=inputs)  # before the run
    record = _settings_record(args, protect=[*inputs, output])
    say(
        f"Content {args.content}, style {' + '.join(args.styles or [args.style])}; "
        f"{settings.optimizer}, {settings.steps} steps"
        + (f", {settings.pyramid} pyramid levels" if settings.pyramid > 1 else "")
    )
    result = stylize(content, styles, settings, progress=not args.quiet, log=say)
    if result.interrupted and result.steps == 0:
        say("Stopped before the first step: nothing written.")
        return EXIT_INTERRUPTED
    save_image(result.image, output, overwrite=args.force, protect=inputs)
    if record is not None:
        result.settings.to_json(
            record,
            overwrite=args.force,
            content=str(content),
            styles=[str(s) for s in styles],
            image=str(output),
        )
    height, width = result.image.shape[1:3]
    note = (
        f" (stopped early: {result.stop_reason}; best image so far)" if result.interrupted else ""
    )
    say(
        f"Wrote {output} ({width}x{height}){note} after {result.steps} steps in "
        f"{result.seconds:.1f} s; final loss {result.history['total'].iloc[-1]:.4g}"
    )
    return EXIT_STOPPED_EARLY if result.interrupted else EXIT_OK


def _settings_record(args: argparse.Namespace, protect: Sequence[Path]) -> Path | None:
    """Where ``--save-settings`` goes, checked like the output before the run."""
    if args.save_settings is None:
        return None
    return check_writable(
        args.save_settings, overwrite=args.force, protect=protect, suffixes=(".json",)
    )


def run_fast(args: argparse.Namespace, say) -> int:
    import time

    from .config import defaults
    from .fast import load_model, paint
    from .images import load_image

    content = resolve_image(args.content)
    output = check_writable(args.output, overwrite=args.force, protect=[content])
    size = args.size if args.size is not None else defaults().size
    positive_int(size, "size", low=MIN_SIZE, high=MAX_SIZE)  # as stylize's --size
    network, record = load_model(args.model)
    photo = load_image(content, max_dim=size)
    started = time.perf_counter()
    paint(network, photo[:, :16, :16, :])  # TensorFlow's one-time set-up, timed apart
    set_up, started = time.perf_counter() - started, time.perf_counter()
    painted = paint(network, photo)
    seconds = time.perf_counter() - started
    save_image(painted, output, overwrite=args.force, protect=[content])
    height, width = painted.shape[1:3]
    style = record.get("style", {})
    say(
        f"Wrote {output} ({width}x{height}), painted in {seconds:.2f} s (set-up {set_up:.1f} s) "
        f"by the {record.get('width', '?')}-width network for "
        f"{style.get('title', style.get('file'))}"
    )
    return EXIT_OK


def run_arbitrary(args: argparse.Namespace, say) -> int:
    import time

    from .anystyle import AnyStyle
    from .config import defaults
    from .images import load_image

    if not 0.0 <= args.alpha <= 1.0:
        raise SettingError("alpha", f"alpha must be between 0 and 1, not {args.alpha}")
    for option, given in (("weights", args.weights), ("masks", args.masks)):
        if given is not None and len(given) != len(args.styles):
            raise SettingError(option, f"give one of --{option} per STYLE ({len(args.styles)})")
    content = resolve_image(args.content)
    styles = [resolve_image(style) for style in args.styles]
    masks = [resolve_image(mask) for mask in args.masks or []] or None
    output = check_writable(args.output, overwrite=args.force, protect=[content, *styles])
    size = args.size if args.size is not None else defaults().size
    positive_int(size, "size", low=MIN_SIZE, high=MAX_SIZE)  # as stylize's --size
    style_size = args.style_size if args.style_size is not None else size
    positive_int(style_size, "style_size", low=MIN_SIZE, high=MAX_SIZE)
    painter = AnyStyle.load(args.decoder, log=lambda line: None)
    photo = load_image(content, max_dim=size)
    paintings = [load_image(style, max_dim=style_size) for style in styles]
    options = dict(
        alpha=args.alpha,
        method=args.method,
        weights=args.weights,
        masks=masks,
        keep_colours=args.keep_colours,
    )
    started = time.perf_counter()
    small = [p[:, :64, :64, :] for p in paintings]  # TensorFlow's one-time set-up, timed apart
    painter.paint(photo[:, :64, :64, :], small, **{**options, "masks": None})
    set_up, started = time.perf_counter() - started, time.perf_counter()
    painted = painter.paint(photo, paintings, **options)
    seconds = time.perf_counter() - started
    save_image(painted, output, overwrite=args.force, protect=[content, *styles])
    height, width = painted.shape[1:3]
    say(
        f"Wrote {output} ({width}x{height}), painted in {seconds:.2f} s (set-up {set_up:.1f} s) "
        f"with {args.method}, alpha {args.alpha:g}"
    )
    return EXIT_OK


def run_train_fast(args: argparse.Namespace, say) -> int:
    from .fast import train_fast
    from .realtime import TrainSettings

    settings = TrainSettings(**{k: getattr(args, k) for k in TRAIN_OPTIONS if hasattr(args, k)})
    loss = StyleSettings(**{k: getattr(args, k) for k in LOSS_WEIGHTS if hasattr(args, k)})
    if args.preview_every < 1:
        raise NSTError(f"--preview-every must be at least 1, not {args.preview_every}")
    data = _training_data(args.data, say)
    say(f"Training a {settings.width}-width network for {args.style}: {settings.steps} steps")
    try:
        path = train_fast(
            args.style,
            args.output,
            settings,
            loss,
            data=data,
            init=args.init,
            preview_every=args.preview_every,
            progress=not args.quiet,
            overwrite=args.force,
            log=say,
        )
    except KeyboardInterrupt:
        say("Stopped: the steps done are kept; run the same command again to continue.")
        return EXIT_STOPPED_EARLY
    say(f"Wrote {path} and {path.with_suffix('.json')}")
    return EXIT_OK


def _training_data(data: str | None, say) -> Path | None:
    """--data: a folder of photos, a photo set's name (downloaded), or None (packaged)."""
    from .photo_sets import PHOTO_SETS, photo_set_folder

    if data is None:
        return None
    folder = Path(data).expanduser()
    if folder.is_dir():
        return folder
    if data in PHOTO_SETS:
        return photo_set_folder(data, log=say)
    raise NSTError(f"--data {data}: not a folder, nor one of {', '.join(PHOTO_SETS)}")


def run_fetch(args: argparse.Namespace, say) -> int:
    from .data import fetch_all
    from .weights import resolve_weights

    say(resolve_weights(args.weights, log=say).describe())
    if args.skip_images:
        return EXIT_OK
    results = fetch_all()
    failed = [name for name, found in results.items() if isinstance(found, Exception)]
    if failed:
        print(f"{len(failed)} image(s) could not be fetched: {', '.join(failed)}", file=sys.stderr)
        return EXIT_FETCH_FAILED
    return EXIT_OK


def run_list(args: argparse.Namespace, say) -> int:
    from .data import list_images

    table = list_images()[["name", "kind", "artist", "title", "year", "available_offline"]]
    say(table.to_string(index=False))
    return EXIT_OK


HANDLERS = {
    "stylize": run_stylize,
    "fast": run_fast,
    "train-fast": run_train_fast,
    "arbitrary": run_arbitrary,
    "video": run_video,
    "collect": run_collect,
    "gallery": run_gallery,
    "fetch": run_fetch,
    "list": run_list,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (see the module docstring)."""
    warnings.simplefilter("ignore")  # library warnings would break the one-line promise
    out = SafeStream(sys.stdout)

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    args = build_parser().parse_args(argv)
    try:
        return HANDLERS[args.command](args, say)
    except SettingError as error:
        return _fail(f"{flag(error.setting)}: {error}")
    except NSTError as error:
        return _fail(str(error))
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)


def _fail(message: str, code: int = EXIT_USAGE) -> int:
    print("error: " + " ".join(message.split()), file=SafeStream(sys.stderr))
    return code
