"""Painting a video file: ``python -m nst_helpers video IN.mp4 --style starry_night -o OUT.mp4``.

Frames stream from the input (:func:`nst_helpers.video.read_frames`) through a painter of
:mod:`nst_helpers.temporal` into a folder of finished frames beside the output
(``OUT.mp4.frames/``), one PNG at a time; when the last one is done they become the output
video and the folder is removed. A run stopped by Ctrl-C or a crash keeps the finished
frames: the same command continues after the last one (the folder's ``job.json`` says which
input, painting and settings they belong to; other ones are refused without ``--force``).
Only the current frame, the previous one and its result are in memory, whatever the length.

The flicker of the result, the masked warping error of consecutive frames along the flow
estimated on the input (:func:`nst_helpers.flow.flicker_score`), is reported beside the
input clip's own score, its floor.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import NSTError
from .files import atomic_write
from .flow import flicker_score, reliable_flow
from .images import check_writable, load_image, save_image
from .temporal import METHODS, VideoSettings, make_painter, paint_frames
from .video import frame_files, probe, read_frames, write_video

Log = Callable[[str], object]
JOB_FILE = "job.json"


@dataclass
class VideoReport:
    """What a run did: frames painted now and kept from before, seconds, the flicker scores
    (mean squared warping error in [0, 1] pixel units) of the result and of the input."""

    output: Path
    frames: int
    painted: int
    kept: int
    seconds: float
    flicker: float | None
    input_flicker: float | None


def work_folder(output: Path) -> Path:
    """Where the finished frames of ``output`` wait: ``OUT.mp4.frames/`` beside it."""
    return output.with_name(output.name + ".frames")


def describe_job(source: Path, style: str, settings: VideoSettings) -> dict:
    """What the frames of a work folder belong to: the input (and its size), style, settings."""
    return {
        "input": str(source.resolve()),
        "input_bytes": source.stat().st_size if source.is_file() else None,
        "style": style,
        "settings": dataclasses.asdict(settings),
    }


def open_work_folder(folder: Path, job: dict, force: bool) -> int:
    """Make or reopen ``folder`` for ``job``; returns the frames already finished there."""
    record = folder / JOB_FILE
    if record.is_file() and not force:
        if json.loads(record.read_text(encoding="utf-8")) != job:
            raise NSTError(
                f"{folder} holds frames of another run (another input, style or settings); "
                "give --force to start over"
            )
        return len(frame_files(folder))
    if folder.exists() and not record.is_file() and any(folder.iterdir()):
        raise NSTError(f"{folder} exists and is not a video run's folder; move it away")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    with atomic_write(record) as stream:
        stream.write(json.dumps(job, indent=1).encode())
    return 0


def frame_file(folder: Path, index: int) -> Path:
    """The finished frame ``index`` (0-based) of a work folder."""
    return folder / f"frame_{index + 1:06d}.png"


def painted_frames(
    source: Path, style, settings: VideoSettings, folder: Path, kept: int
) -> Iterator[Path]:
    """Paint the frames of ``source`` after the first ``kept`` (which are in ``folder``), each
    saved as it is finished; yields the file of each new frame."""
    frames = read_frames(source, max_dim=settings.size)
    start = _resume_point(frames, folder, kept)
    painter = make_painter(style, settings)
    for index, output in enumerate(paint_frames(frames, painter, *start), start=kept):
        path = frame_file(folder, index)
        save_image(output[None], path, overwrite=True)
        yield path


def _resume_point(frames: Iterator[np.ndarray], folder: Path, kept: int) -> tuple:
    """Skip the ``kept`` frames already painted: (the last of them, its painted result), or
    (None, None) to start at the first frame."""
    before = None
    for _ in range(kept):
        before = next(frames, None)
    if before is None:
        return None, None
    return before, load_image(frame_file(folder, kept - 1))[0].numpy()


def clip_flicker_scores(source: Path, folder: Path, size: int) -> tuple[float, float] | None:
    """(the painted frames' flicker, the input's own), averaged over consecutive pairs, along
    the flow estimated on the input; None for a single frame."""
    painted, own, before = [], [], None
    outputs = (load_image(path)[0].numpy() for path in frame_files(folder))
    for frame, output in zip(read_frames(source, max_dim=size), outputs):
        if before is not None:
            flow, reliable = reliable_flow(before[0], frame)
            if reliable.any():
                painted.append(flicker_score(before[1], output, flow, reliable))
                own.append(flicker_score(before[0], frame, flow, reliable))
        before = (frame, output)
    return (float(np.mean(painted)), float(np.mean(own))) if painted else None


def paint_video(
    source,
    output,
    style: str,
    settings: VideoSettings | None = None,
    *,
    force: bool = False,
    progress: bool = True,
    log: Log = print,
) -> VideoReport:
    """Paint the video ``source`` (MP4, GIF or a folder of frames) in ``style`` (a painting's
    name or file; for ``fast`` a network's name or file) into ``output`` (.mp4, .gif or a
    folder), resuming the frames of an earlier stopped run."""
    from tqdm.auto import tqdm

    settings = settings or VideoSettings()
    source, output = Path(source).expanduser(), Path(output).expanduser()
    info = probe(source)  # a broken or unreadable video stops here, before any work
    if output.exists() and not force:
        raise NSTError(f"{output} exists; give --force to replace it")
    folder = work_folder(output)
    kept = open_work_folder(folder, describe_job(source, str(style), settings), force)
    if kept:
        log(f"Continuing: {kept} frames were already painted in {folder}")
    painting = _style_input(style, settings, log)
    started = time.perf_counter()
    bar = tqdm(total=info.frames, initial=kept, unit="frame", desc="painting", disable=not progress)
    with bar:
        for _ in painted_frames(source, painting, settings, folder, kept):
            bar.update(1)
    seconds = time.perf_counter() - started
    return _finish(source, output, folder, info.fps, settings, kept, seconds, force)


def _style_input(style: str, settings: VideoSettings, log: Log):
    """For ``fast`` a network's name or file (its steady version when one is shipped, which
    ``log`` says); the painting as an image otherwise."""
    from .data import load_style
    from .fast import steady_version

    if settings.method != "fast":
        return load_style(style, max_dim=settings.size)
    network = steady_version(style)
    if network != style:
        log(f"Using {network}: the {style} network fine-tuned on moving frames (steadier)")
    return network


def _finish(source, output, folder, fps, settings, kept, seconds, force) -> VideoReport:
    """Score the finished frames, write them as ``output`` and remove the work folder."""
    files = frame_files(folder)
    scores = clip_flicker_scores(source, folder, settings.size)
    write_video(output, (load_image(path)[0].numpy() for path in files), fps, overwrite=force)
    shutil.rmtree(folder)
    flicker, own = scores or (None, None)
    return VideoReport(output, len(files), len(files) - kept, kept, seconds, flicker, own)


# ------------------------------------------------------------------------------ command line


def add_video_parser(commands) -> argparse.ArgumentParser:
    """The ``video`` command's options."""
    defaults = VideoSettings()
    video = commands.add_parser(
        "video",
        help="paint a video, frame by frame, without flicker (Ruder et al. 2016)",
        description="Paint INPUT (.mp4, .gif or a folder of frames) in the style of STYLE. "
        "Finished frames wait in OUTPUT.frames/; a stopped run continues there.",
    )
    video.add_argument("input", metavar="INPUT", help="a video file or a folder of frames")
    video.add_argument(
        "--style", required=True,
        help="a painting (for fast: a network; a shipped one's steady version if there is one)",
    )  # fmt: skip
    video.add_argument("--method", choices=METHODS, default=defaults.method)
    video.add_argument("-o", "--output", required=True, metavar="OUT.mp4", help=".mp4 or .gif")
    for name, kind in (("size", int), ("steps", int), ("temporal_steps", int)):
        video.add_argument(f"--{name.replace('_', '-')}", type=kind, metavar="N")
    for name in ("temporal_weight", "blend"):
        video.add_argument(f"--{name.replace('_', '-')}", type=float, metavar="X")
    video.add_argument("--force", action="store_true", help="replace OUTPUT; start over")
    video.add_argument("--quiet", action="store_true", help="no progress bar")
    return video


SETTING_OPTIONS = ("size", "steps", "temporal_steps", "temporal_weight", "blend")


def run_video(args: argparse.Namespace, say: Log) -> int:
    """Run ``video``: 0 done, 3 stopped with frames kept (the same command continues)."""
    from .cli import EXIT_OK, EXIT_STOPPED_EARLY

    given = {k: getattr(args, k) for k in SETTING_OPTIONS if getattr(args, k) is not None}
    settings = VideoSettings(method=args.method, **given)
    check_writable(args.output, overwrite=args.force, suffixes=(".mp4", ".gif"))
    try:
        report = paint_video(
            args.input, args.output, args.style, settings,
            force=args.force, progress=not args.quiet, log=say,
        )  # fmt: skip
    except KeyboardInterrupt:
        say(f"Stopped: the finished frames are kept in {work_folder(Path(args.output))}; "
            "the same command continues.")  # fmt: skip
        return EXIT_STOPPED_EARLY
    say(_said(report, settings))
    return EXIT_OK


def _said(report: VideoReport, settings: VideoSettings) -> str:
    pace = f", {report.seconds / report.painted:.2f} s a frame" if report.painted else ""
    scores = (
        f"; flicker {report.flicker:.5f} (the input's own: {report.input_flicker:.5f})"
        if report.flicker is not None
        else ""
    )
    return (
        f"Wrote {report.output} ({report.frames} frames, {settings.method}): "
        f"{report.painted} painted{pace}, {report.kept} kept from before{scores}"
    )
