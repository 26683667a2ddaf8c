"""Reading and writing videos one frame at a time: MP4, GIF and folders of frames.

Frames are float32 arrays ``(H, W, 3)`` with RGB values in ``[0, 1]``, as elsewhere in
the package (without the batch axis). Reading is streamed: :func:`read_frames` returns a
generator that decodes one frame when asked for it, and :class:`VideoWriter` encodes or
stores each frame as it arrives, so memory does not grow with the clip's length (except
while a GIF is assembled, see below).

Three kinds of video (``VideoInfo.kind``):

* ``"mp4"``: a video file read and written with OpenCV (its FFmpeg back end). Reading
  takes any container FFmpeg knows (.mp4, .mov, .avi, .mkv, .webm...); writing makes
  .mp4 files with the ``mp4v`` (MPEG-4 part 2) codec, which every pip build of OpenCV has.
  That codec needs an even width and height (it silently crops 47x33 to 46x32), so odd
  frames are padded by repeating their last column or row: 47x33 comes back as 48x34.
* ``"gif"``: read and written with Pillow. A GIF stores each frame's delay in hundredths
  of a second, so 12 fps is written as 8/100 s and comes back as 12.5 fps (10, 20, 25 and
  50 fps are exact); a GIF frame has at most 256 colours. Pillow merges identical
  consecutive frames into one longer frame when it writes a GIF (the timing is kept, the
  frame count is not).
* ``"frames"``: a folder of PNG or JPEG files read in natural order (``frame_2`` before
  ``frame_10``); written as ``frame_000001.png``... with the rate in ``fps.txt``. The rate
  of a folder is, in this order, the ``fps`` argument, its ``fps.txt``, or 12.

Decision: OpenCV (``opencv-python-headless``) is the one video dependency: it reads and
writes MP4 and also estimates optical flow (:mod:`nst_helpers.flow`); Pillow, already
needed for images, does GIF and frame folders.

Writing is atomic, as :func:`~nst_helpers.files.atomic_write` for images: frames go to a
hidden temporary file or folder beside the target and are published under the final name
only when :meth:`VideoWriter.close` succeeds. An error (or Ctrl-C) inside the ``with``
block leaves nothing under the final name, and an existing output is replaced only with
``overwrite=True``. Memory: an MP4 is encoded frame by frame; a GIF must be written all at
once, so its frames are first stored as PNG files in the temporary folder and read back
one by one when the writer closes, while Pillow keeps each converted to 256 colours (one
byte a pixel, a twelfth of a float32 RGB frame) until the file is complete.

Damaged input: OpenCV returns no frames rather than raising an error for a file it cannot
read, so :func:`probe` (called by :func:`read_frames`) decodes the first frame and raises
:class:`~nst_helpers.errors.NSTError` naming the file if it cannot. An MP4 cut short
usually loses its index (the ``moov`` box comes last) and is refused at once; one that
keeps its index but lacks frames is caught at the end of reading: frames of an MP4 or MOV
file (whose header counts them exactly) fewer than the header says raise NSTError after
the frames that could be read. Other containers only estimate their length, so for them
only a video with no frame at all is refused.
"""

from __future__ import annotations

import math
import os
import re
import secrets
import shutil
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
from PIL import Image, ImageSequence

from .errors import NSTError
from .files import atomic_write, publish_exclusively
from .images import (
    ImageLike,
    PathLike,
    check_name_lengths,
    check_writable,
    open_rgb,
    resize_max_dim,
    stat_or_none,
    to_uint8,
)
from .validate import finite_number, positive_int

DEFAULT_FPS: float = 12.0
"""Frames per second of a frame folder without ``fps.txt``, and of :class:`VideoWriter`."""

GIF_DEFAULT_FPS: float = 10.0
"""The rate browsers show a GIF at whose frames have no delay (0/100 s, shown as 10/100)."""

FRAME_SUFFIXES = (".png", ".jpg", ".jpeg")
"""The files of a frame folder that are frames."""

FPS_FILE = "fps.txt"
"""The file in a frame folder that holds its rate, e.g. ``12``."""

EXACT_COUNT_SUFFIXES = (".mp4", ".m4v", ".mov")
"""Containers whose header counts the frames exactly: fewer frames read means damage."""

_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError)


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe` learns about a video without decoding it all.

    Attributes:
        frames: the number of frames, or None when the container does not say.
        fps: frames per second.
        width, height: the frames' size in pixels.
        kind: ``"mp4"`` (any file OpenCV reads), ``"gif"`` or ``"frames"`` (a folder).
    """

    frames: int | None
    fps: float
    width: int
    height: int
    kind: str


def require_opencv() -> ModuleType:
    """Import OpenCV (``cv2``), or raise NSTError saying how to install it.

    Also sets ``OPENCV_FFMPEG_LOGLEVEL`` (unless set) to silence FFmpeg's own messages
    about damaged files: the NSTError raised here says it in one line.
    """
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    try:
        import cv2
    except ImportError as error:
        raise NSTError(
            "video and optical flow need OpenCV: pip install opencv-python-headless"
        ) from error
    return cv2


# --------------------------------------------------------------------------- reading


def probe(path: PathLike, fps: float | None = None) -> VideoInfo:
    """Frame count, rate, size and kind of a video file or frame folder.

    ``fps`` sets the rate of a frame folder (ignored for files). Raises NSTError, naming
    the path, for a missing, unreadable or empty video (the first frame is decoded).
    """
    source, kind = _input_kind(path)
    if kind == "frames":
        return _probe_folder(source, fps)
    return _probe_gif(source) if kind == "gif" else _probe_capture(source)


def read_frames(path: PathLike, max_dim: int | None = None) -> Iterator[np.ndarray]:
    """The frames of a video file or frame folder, one at a time: a generator.

    Yields float32 ``(H, W, 3)`` RGB in ``[0, 1]``. With ``max_dim`` each frame is resized
    so its longest side is ``max_dim`` pixels, keeping the aspect ratio (as
    :func:`~nst_helpers.images.load_image`); frames are never padded. The path is checked
    now (NSTError for a missing or unreadable video); damage found later (a frame that
    cannot be decoded, an MP4 with fewer frames than its header says) raises NSTError
    during the iteration, after the good frames.
    """
    if max_dim is not None:
        positive_int(max_dim, "max_dim")
    info = probe(path)
    source = Path(path).expanduser()
    if info.kind == "frames":
        pixels = _folder_frames(source)
    elif info.kind == "gif":
        pixels = _gif_frames(source)
    else:
        pixels = _capture_frames(source, info.frames)
    return _as_floats(pixels, max_dim)


def _as_floats(frames: Iterable[np.ndarray], max_dim: int | None) -> Iterator[np.ndarray]:
    """uint8 frames as float32 ``(H, W, 3)`` in [0, 1], resized to ``max_dim`` if given."""
    for pixels in frames:
        image = pixels.astype(np.float32) / 255.0
        yield image if max_dim is None else resize_max_dim(image, max_dim).numpy()


def _input_kind(path: PathLike) -> tuple[Path, str]:
    """The existing video ``path`` and its kind; NSTError if it is missing or no video."""
    source = Path(path).expanduser()
    info = stat_or_none(source)
    if info is None:
        raise NSTError(
            f"no such video: {source}; check the path (an MP4 or GIF file, or a folder of "
            "PNG/JPEG frames)."
        )
    if stat.S_ISDIR(info.st_mode):
        return source, "frames"
    if not stat.S_ISREG(info.st_mode):
        raise NSTError(f"{source} is not a regular file; pass a video file or a frame folder.")
    return source, "gif" if source.suffix.lower() == ".gif" else "mp4"


# ------------------------------------------------------------------- reading: OpenCV


def _open_capture(path: Path):
    """An opened ``cv2.VideoCapture`` of ``path`` (FFmpeg back end), or NSTError."""
    cv2 = require_opencv()
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not capture.isOpened():
        capture.release()
        raise _unreadable(path, "OpenCV cannot open it as a video")
    return capture


def _unreadable(path: Path, reason: str) -> NSTError:
    """The error for a video file that cannot be read."""
    return NSTError(
        f"cannot read the video {path}: {reason}; it may be truncated (a download or copy "
        "that stopped early), damaged or no video at all. Use a complete MP4 or GIF file, "
        "or a folder of PNG frames."
    )


def _probe_capture(path: Path) -> VideoInfo:
    """:func:`probe` for a file OpenCV reads: header values, first frame decoded."""
    cv2 = require_opencv()
    capture = _open_capture(path)
    try:
        ok, frame = capture.read()
        if not ok:
            raise _unreadable(path, "it has no frame that can be decoded")
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        fps = capture.get(cv2.CAP_PROP_FPS)
    finally:
        capture.release()
    fps = fps if math.isfinite(fps) and fps > 0 else DEFAULT_FPS
    height, width = frame.shape[:2]
    return VideoInfo(count if count > 0 else None, float(fps), width, height, "mp4")


def _capture_frames(path: Path, claimed: int | None) -> Iterator[np.ndarray]:
    """Decode ``path`` with OpenCV, yielding uint8 RGB frames; checks the count at the end."""
    cv2 = require_opencv()
    capture = _open_capture(path)
    count = 0
    try:
        while True:
            ok, bgr = capture.read()
            if not ok:
                break
            count += 1
            yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    finally:
        capture.release()
    exact = path.suffix.lower() in EXACT_COUNT_SUFFIXES
    if count == 0 or (exact and claimed is not None and count < claimed):
        raise _unreadable(path, f"it ends after {count} of the {claimed} frames it announces")


# ------------------------------------------------------------- reading: GIF, folders


def _probe_gif(path: Path) -> VideoInfo:
    """:func:`probe` for a GIF: every frame is visited to add up the delays."""
    try:
        with Image.open(path) as image:
            width, height = image.size
            delays = [frame.info.get("duration", 0) for frame in ImageSequence.Iterator(image)]
    except _DECODE_ERRORS as error:
        raise _unreadable(path, f"Pillow cannot decode it ({error})") from error
    seconds = sum(delays) / 1000.0
    fps = len(delays) / seconds if seconds > 0 else GIF_DEFAULT_FPS
    return VideoInfo(len(delays), float(fps), width, height, "gif")


def _gif_frames(path: Path) -> Iterator[np.ndarray]:
    """The frames of a GIF (or another animation Pillow reads) as uint8 RGB arrays."""
    done = 0
    try:
        with Image.open(path) as image:
            for frame in ImageSequence.Iterator(image):
                pixels = open_rgb(frame)
                done += 1
                yield pixels
    except NSTError:
        raise
    except _DECODE_ERRORS as error:
        raise _unreadable(path, f"frame {done + 1} cannot be decoded ({error})") from error


def _natural_key(path: Path) -> list:
    """Sort key that puts ``frame_2`` before ``frame_10``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def frame_files(folder: PathLike) -> list[Path]:
    """The PNG and JPEG files of a frame folder, in natural order (``2`` before ``10``)."""
    folder = Path(folder).expanduser()
    try:
        names = list(folder.iterdir())
    except OSError as error:
        raise NSTError(f"cannot list the frame folder {folder}: {error.strerror}.") from error
    files = [path for path in names if path.suffix.lower() in FRAME_SUFFIXES and path.is_file()]
    return sorted(files, key=_natural_key)


def _probe_folder(folder: Path, fps: float | None) -> VideoInfo:
    """:func:`probe` for a frame folder: the first frame gives the size."""
    files = frame_files(folder)
    if not files:
        raise NSTError(
            f"the folder {folder} has no PNG or JPEG frames; pass a folder of frames "
            "(frame_000001.png, ...) or a video file."
        )
    height, width = open_rgb(files[0]).shape[:2]
    rate = _folder_fps(folder) if fps is None else finite_number(fps, "fps", strict=True)
    return VideoInfo(len(files), rate, width, height, "frames")


def _folder_fps(folder: Path) -> float:
    """The rate in ``folder/fps.txt``, or :data:`DEFAULT_FPS` when there is none."""
    path = folder / FPS_FILE
    if not path.is_file():
        return DEFAULT_FPS
    text = path.read_text(encoding="utf-8", errors="replace").strip()
    try:
        return finite_number(float(text), "fps", strict=True)
    except (ValueError, NSTError) as error:
        raise NSTError(
            f"{path} should hold the frames per second, e.g. 12, not {text[:40]!r}."
        ) from error


def _folder_frames(folder: Path) -> Iterator[np.ndarray]:
    """The frames of a folder as uint8 RGB arrays; each must have the first one's size."""
    size = None
    for path in frame_files(folder):
        pixels = open_rgb(path)
        size = size or pixels.shape
        if pixels.shape != size:
            raise NSTError(
                f"{path} is {pixels.shape[1]}x{pixels.shape[0]} but the first frame of "
                f"{folder} is {size[1]}x{size[0]}; the frames of a video must have one size."
            )
        yield pixels


# --------------------------------------------------------------------------- writing


def _hidden(target: Path, tag: str) -> Path:
    """A fresh hidden name beside ``target``: ``.<name>.<random>.<tag>``."""
    short = target.name.encode()[:200].decode(errors="ignore")
    return target.with_name(f".{short}.{secrets.token_hex(4)}.{tag}")


class _PngFolder:
    """A hidden temporary folder beside ``target`` that stores frames as PNG files."""

    def __init__(self, target: Path):
        self.folder = _hidden(target, "tmp")
        try:
            self.folder.mkdir()
        except OSError as error:
            raise NSTError(f"cannot write {target}: {error.strerror or error}.") from error
        self.count = 0

    def write(self, pixels: np.ndarray) -> None:
        self.count += 1
        Image.fromarray(pixels).save(self.folder / f"frame_{self.count:06d}.png", compress_level=1)

    def files(self) -> list[Path]:
        return [self.folder / f"frame_{index:06d}.png" for index in range(1, self.count + 1)]

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class _FolderSink:
    """Frames as PNG files in a folder, published by renaming the finished folder."""

    def __init__(self, target: Path, fps: float, overwrite: bool):
        self.target, self.fps, self.overwrite = target, fps, overwrite
        self.png = _PngFolder(target)

    def write(self, pixels: np.ndarray) -> None:
        self.png.write(pixels)

    def finish(self) -> None:
        (self.png.folder / FPS_FILE).write_text(f"{self.fps:g}\n", encoding="utf-8")
        _publish_folder(self.png.folder, self.target, self.overwrite)

    def discard(self) -> None:
        self.png.remove()


class _GifSink(_FolderSink):
    """A GIF: frames wait as PNG files, then Pillow writes the file in one go."""

    def finish(self) -> None:
        try:
            _assemble_gif(self.png.files(), self.target, self.fps, self.overwrite)
        finally:
            self.png.remove()


class _Mp4Sink:
    """An MP4 encoded frame by frame with OpenCV into a hidden file, renamed at the end."""

    def __init__(self, target: Path, fps: float, overwrite: bool):
        self.target, self.fps, self.overwrite = target, fps, overwrite
        self.temporary = _hidden(target, "tmp.mp4")  # OpenCV picks the container by suffix
        self.encoder = None

    def write(self, pixels: np.ndarray) -> None:
        cv2 = require_opencv()
        pixels = pad_to_even(pixels)
        if self.encoder is None:
            self.encoder = self._open(pixels.shape[1], pixels.shape[0])
        self.encoder.write(cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR))

    def _open(self, width: int, height: int):
        cv2 = require_opencv()
        fourcc = cv2.VideoWriter_fourcc(*"mp4v")
        encoder = cv2.VideoWriter(str(self.temporary), fourcc, self.fps, (width, height))
        if not encoder.isOpened():
            raise NSTError(
                f"OpenCV cannot write the video {self.target} (codec mp4v, {width}x{height}); "
                "save a GIF or a folder of frames instead."
            )
        return encoder

    def finish(self) -> None:
        try:
            self.encoder.release()
            if not self.temporary.is_file() or self.temporary.stat().st_size == 0:
                raise NSTError(f"OpenCV wrote nothing for {self.target}; try a GIF instead.")
            _publish_file(self.temporary, self.target, self.overwrite)
        finally:
            self.temporary.unlink(missing_ok=True)

    def discard(self) -> None:
        if self.encoder is not None:
            self.encoder.release()
        self.temporary.unlink(missing_ok=True)


def pad_to_even(pixels: np.ndarray) -> np.ndarray:
    """Pad ``(H, W, C)`` to an even height and width by repeating the last row or column."""
    height, width = pixels.shape[:2]
    padding = ((0, height % 2), (0, width % 2)) + ((0, 0),) * (pixels.ndim - 2)
    return np.pad(pixels, padding, mode="edge") if height % 2 or width % 2 else pixels


def _publish_file(temporary: Path, target: Path, overwrite: bool) -> None:
    """Give the finished ``temporary`` file the name ``target`` (exclusively unless overwrite)."""
    if overwrite:
        os.replace(temporary, target)
    else:
        publish_exclusively(temporary, target)


def _assemble_gif(files: Sequence[Path], target: Path, fps: float, overwrite: bool) -> None:
    """Write the PNG ``files`` as one looping GIF at ``fps`` (delays in 1/100 s, at least 1)."""
    delay = 10 * max(1, round(100 / fps))  # milliseconds, a multiple of 10 as GIF stores them
    with Image.open(files[0]) as first, atomic_write(target, overwrite=overwrite) as stream:
        first.save(
            stream,
            format="GIF",
            save_all=True,
            append_images=_opened(files[1:]),
            duration=delay,
            loop=0,
        )


def _opened(files: Iterable[Path]) -> Iterator[Image.Image]:
    """Open and decode the image files one at a time (Pillow copies what it keeps)."""
    for path in files:
        with Image.open(path) as image:
            image.load()
            yield image


def _publish_folder(temporary: Path, target: Path, overwrite: bool) -> None:
    """Give the finished folder ``temporary`` the name ``target``.

    Without ``overwrite`` an empty folder reserves the name first (failing if anything is
    there) and is then replaced by the rename. With it, an existing frame folder is moved
    aside, replaced and deleted.
    """
    if overwrite and stat_or_none(target) is not None:
        _check_frame_folder(target)
        old = _hidden(target, "old")
        os.rename(target, old)
        os.rename(temporary, target)
        shutil.rmtree(old, ignore_errors=True)
        return
    try:
        target.mkdir()
    except FileExistsError:
        raise NSTError(f"{target} already exists; pass overwrite=True to replace it.") from None
    try:
        os.replace(temporary, target)
    except OSError:  # Windows cannot rename onto a folder: free the name first
        target.rmdir()
        os.rename(temporary, target)


def _check_frame_folder(target: Path) -> None:
    """NSTError unless ``target`` is a folder holding only frames and ``fps.txt``.

    ``overwrite`` replaces a folder of frames, never a folder with anything else in it.
    """
    info = stat_or_none(target)
    if info is None:
        return
    if not stat.S_ISDIR(info.st_mode):
        raise NSTError(
            f"cannot write frames to {target}: it is a file, not a folder; choose another name."
        )
    others = [
        path.name
        for path in target.iterdir()
        if path.name != FPS_FILE and not (path.suffix.lower() in FRAME_SUFFIXES and path.is_file())
    ]
    if others:
        raise NSTError(
            f"refusing to replace the folder {target}: it holds more than frames "
            f"({', '.join(sorted(others)[:3])}...); choose another output folder."
        )


def _output_kind(path: PathLike) -> tuple[Path, str]:
    """The target and its kind: ``"mp4"``, ``"gif"``, or ``"frames"`` (no suffix, or ``/``)."""
    text = os.fspath(path)
    target = Path(text).expanduser()
    if text.endswith(("/", os.sep)) or not target.suffix:
        return target, "frames"
    if target.suffix.lower() in (".mp4", ".gif"):
        return target, target.suffix.lower()[1:]
    raise NSTError(
        f"cannot write the video {target}: end the name in .mp4 or .gif, or give a folder "
        "name without a suffix (or ending in /) for PNG frames."
    )


def _check_folder_target(target: Path, overwrite: bool, protect: Sequence[PathLike]) -> None:
    """The checks of :func:`~nst_helpers.images.check_writable`, for a frame folder."""
    check_name_lengths(target)
    parent = stat_or_none(target.parent)
    if parent is None or not stat.S_ISDIR(parent.st_mode):
        raise NSTError(f"cannot write {target}: the folder {target.parent} does not exist.")
    for source in [protect] if isinstance(protect, (str, os.PathLike)) else protect:
        resolved = Path(source).expanduser().resolve()
        if target.resolve() in (resolved, *resolved.parents):
            raise NSTError(
                f"refusing to write frames into {target}: it holds {source}, an input of "
                "this run; choose another output folder."
            )
    if stat_or_none(target) is not None and not overwrite:
        raise NSTError(f"{target} already exists; pass overwrite=True to replace it.")
    _check_frame_folder(target)


_SINKS = {"mp4": _Mp4Sink, "gif": _GifSink, "frames": _FolderSink}


class VideoWriter:
    """Write a video frame by frame: ``with VideoWriter("out.mp4", fps=12) as out: out.write(f)``.

    ``path`` ending in ``.mp4`` or ``.gif`` makes a file; a name without a suffix, or ending
    in ``/``, makes a folder of PNG frames (``frame_000001.png``... and ``fps.txt``).
    Frames are ``(H, W, 3)`` or ``(1, H, W, 3)``, float in [0, 1] or uint8, all of the
    first frame's size. The output appears under ``path`` only when the writer closes
    without an error (see the module's notes); an existing ``path`` is replaced only with
    ``overwrite`` (a folder only if it holds nothing but frames), never one of ``protect``.
    The checks run here, before any frame is made.
    """

    def __init__(
        self,
        path: PathLike,
        fps: float = DEFAULT_FPS,
        overwrite: bool = False,
        *,
        protect: Sequence[PathLike] = (),
    ):
        self.fps = finite_number(fps, "fps", strict=True)
        self.path, self.kind = _output_kind(path)
        if self.kind == "frames":
            _check_folder_target(self.path, overwrite, protect)
        else:
            check_writable(self.path, overwrite, protect=protect, suffixes=(".mp4", ".gif"))
        self._sink = _SINKS[self.kind](self.path, self.fps, overwrite)
        self.frames_written = 0
        self.size: tuple[int, int] | None = None  # (height, width) of the frames written
        self._closed = False

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, error_type, error, traceback) -> None:
        if error_type is None:
            self.close()
        else:
            self.discard()

    def write(self, frame: ImageLike) -> None:
        """Add one frame ``(H, W, 3)`` or ``(1, H, W, 3)``, float in [0, 1] or uint8."""
        if self._closed:
            raise NSTError(f"the video writer for {self.path} is closed; open a new one.")
        pixels = to_uint8(frame)
        self.size = self.size or pixels.shape[:2]
        if pixels.shape[:2] != self.size:
            raise NSTError(
                f"frame {self.frames_written + 1} is {pixels.shape[1]}x{pixels.shape[0]} but "
                f"the video {self.path} is {self.size[1]}x{self.size[0]}; resize the frames "
                "to one size."
            )
        try:
            self._sink.write(pixels)
        except OSError as error:
            raise NSTError(f"could not write {self.path}: {error.strerror or error}.") from error
        self.frames_written += 1

    def close(self) -> Path:
        """Finish the video and publish it under ``path``; returns the path."""
        if self._closed:
            return self.path
        if self.frames_written == 0:
            self.discard()
            raise NSTError(f"no frames were written to {self.path}, so nothing was saved.")
        self._closed = True
        try:
            self._sink.finish()
        except BaseException:
            self._sink.discard()
            raise
        return self.path

    def discard(self) -> None:
        """Give up: delete the temporary output; nothing appears under ``path``."""
        self._closed = True
        self._sink.discard()


def write_video(
    path: PathLike,
    frames: Iterable[ImageLike],
    fps: float = DEFAULT_FPS,
    overwrite: bool = False,
) -> Path:
    """Write all of ``frames`` (any iterable, a generator too) with :class:`VideoWriter`."""
    with VideoWriter(path, fps, overwrite) as out:
        for frame in frames:
            out.write(frame)
    return out.path
