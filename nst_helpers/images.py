"""Loading, resizing, saving and showing images.

Inside the package an image is a float32 tensor of shape ``(1, H, W, 3)`` with
values in ``[0, 1]`` (a batch of one, the layout Keras models expect). On disk
and on screen it is a uint8 array of shape ``(H, W, 3)``.

:func:`open_rgb` reads any source (path, bytes, file object or PIL image) and
turns every Pillow colour mode into plain RGB: transparency is composited on
white and 16-bit images are scaled down, not clipped. Every problem a user can
fix raises :class:`~nst_helpers.errors.NSTError` with a message that names the
file and says what to do.
"""

from __future__ import annotations

import io
import os
import secrets
import stat
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from numbers import Integral
from pathlib import Path
from typing import IO

import numpy as np
import tensorflow as tf
from PIL import Image, ImageOps

from .errors import NSTError
from .files import atomic_write
from .validate import positive_int

MAX_PIXELS: int = 50_000_000
"""Images with more pixels than this are refused before decoding (decompression bombs)."""

SAVE_FORMATS: dict[str, str] = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
"""File suffixes :func:`save_image` accepts and the Pillow format each one selects."""

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"})
"""File name endings of the image files read from a folder (PNG, JPEG, WebP, BMP, GIF, TIFF)."""

NAME_MAX: int = 255
"""The longest file or folder name, in bytes, that common file systems accept."""

ImageSource = str | os.PathLike | bytes | bytearray | memoryview | IO[bytes] | Image.Image
ImageLike = tf.Tensor | tf.Variable | np.ndarray
PathLike = str | os.PathLike

# What Pillow raises for files it cannot decode (corrupt, truncated, unknown format).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError)


# --------------------------------------------------------------------------- reading


def open_rgb(source: ImageSource, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read an image as a uint8 array of shape ``(H, W, 3)``.

    ``source`` is a path, raw bytes (e.g. a widget upload), a binary file object
    or a ``PIL.Image.Image``. Only the first frame of an animation is read, and
    the EXIF orientation is applied. Images with more than ``max_pixels`` pixels
    are refused from their header, before any pixel is decoded.
    """
    name = _describe(source)
    if isinstance(source, Image.Image):
        return _decode(source, name, max_pixels)
    with _binary_stream(source, name) as stream, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(stream) as img:
                return _decode(img, name, max_pixels)
        except NSTError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise NSTError(f"{name} is too large for Pillow ({exc}); use a smaller image.") from exc
        except _DECODE_ERRORS as exc:
            raise NSTError(
                f"{name} is not an image Pillow can read ({_reason(exc)}); "
                "use a complete PNG, JPEG, WebP, BMP, GIF or TIFF file."
            ) from exc


def _reason(exc: Exception) -> str:
    """Pillow's explanation of a decoding error, without the object repr of 'cannot identify'."""
    if isinstance(exc, Image.UnidentifiedImageError):
        return "unknown format, or a damaged or empty header"
    return str(exc) or type(exc).__name__


def _describe(source: ImageSource) -> str:
    """A short name for ``source`` to use in error messages."""
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "the image data"
    if isinstance(source, Image.Image):
        return "the PIL image"
    return str(getattr(source, "name", "the image file object"))


@contextmanager
def _binary_stream(source: ImageSource, name: str) -> Iterator[IO[bytes]]:
    """Yield a binary stream for a path, bytes or file object; closes only what it opened."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        yield io.BytesIO(bytes(source))
    elif isinstance(source, (str, os.PathLike)):
        with _open_file(Path(source).expanduser()) as stream:
            yield stream
    elif isinstance(source, io.TextIOBase):
        raise NSTError(f"{name} was opened in text mode; open the image file with mode 'rb'.")
    elif hasattr(source, "read"):
        yield source
    else:
        raise TypeError(f"cannot read an image from a {type(source).__name__}")


def _open_file(path: Path) -> IO[bytes]:
    """Open an existing regular image file for binary reading (checked first: no FIFO hangs)."""
    check_readable(path)
    try:
        return open(path, "rb")
    except OSError as exc:
        raise NSTError(
            f"cannot read {path}: {exc.strerror or exc}; check its permissions."
        ) from exc


# ------------------------------------------------------------------------------ paths

_FILE_KINDS: dict[int, str] = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFCHR: "a character device (such as /dev/zero)",
    stat.S_IFBLK: "a block device (a disk)",
    stat.S_IFSOCK: "a socket",
}


def check_name_lengths(path: str | os.PathLike) -> None:
    """Raise NSTError if a folder or file name in ``path`` is longer than :data:`NAME_MAX` bytes."""
    parts = Path(path).parts
    for index, part in enumerate(parts):
        size = len(os.fsencode(part))
        if size > NAME_MAX:
            what = "file" if index == len(parts) - 1 else "folder"
            raise NSTError(
                f"the {what} name {part[:40] + '...'!r} is too long ({size} bytes; the limit is "
                f"{NAME_MAX} per folder or file name); choose a shorter name."
            )


def stat_or_none(path: str | os.PathLike) -> os.stat_result | None:
    """``os.stat`` (following links), or None if nothing is there; other problems raise NSTError."""
    check_name_lengths(path)
    try:
        return os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise NSTError(
            f"cannot check {path}: {exc.strerror or exc}; check the path and the permissions "
            "of its folders."
        ) from exc


def _kind(info: os.stat_result) -> str:
    """What a non-regular file is, e.g. ``"a named pipe (FIFO)"``."""
    return _FILE_KINDS.get(stat.S_IFMT(info.st_mode), "a special file")


def check_readable(path: str | os.PathLike) -> Path:
    """Check, without opening it, that ``path`` is an existing regular file; returns a ``Path``.

    Names what the path is instead (a folder, a named pipe, a device, a socket, a broken
    link), so that nothing blocks on a FIFO and ``/dev/zero`` is not read for ever.
    """
    path = Path(path).expanduser()
    info = stat_or_none(path)
    if info is None and path.is_symlink():
        raise NSTError(
            f"{path} is a link to {os.readlink(path)}, which does not exist; "
            "fix the link or pass the image file itself."
        )
    if info is None:
        raise NSTError(f"no such file: {path}; check the path and its spelling.")
    if stat.S_ISDIR(info.st_mode):
        raise NSTError(
            f"{path} is a folder, not an image file; pass the path of an image inside it."
        )
    if not stat.S_ISREG(info.st_mode):
        raise NSTError(
            f"{path} is {_kind(info)}, not an image file; pass a PNG or JPEG file instead."
        )
    return path


def _decode(img: Image.Image, name: str, max_pixels: int) -> np.ndarray:
    """Check the size, decode, apply the EXIF orientation and convert to uint8 ``(H, W, 3)``."""
    _check_pixel_count(img.size, name, max_pixels)
    img.load()
    return _to_rgb_array(ImageOps.exif_transpose(img))


def _check_pixel_count(size: tuple[int, int], name: str, max_pixels: int) -> None:
    """Refuse empty images and images with more than ``max_pixels`` pixels (size is ``(W, H)``)."""
    width, height = size
    if width <= 0 or height <= 0:
        raise NSTError(
            f"{name} has zero width or height ({width}x{height}); use a non-empty image."
        )
    if width * height > max_pixels:
        raise NSTError(
            f"{name} is {width}x{height} = {width * height:,} pixels, more than the limit of "
            f"{max_pixels:,}; shrink it first or pass a larger max_pixels if you trust the file."
        )


def _to_rgb_array(img: Image.Image) -> np.ndarray:
    """Convert an image in any Pillow mode to a uint8 RGB array ``(H, W, 3)``."""
    if img.mode == "I" or img.mode.startswith("I;16"):
        return _gray_to_rgb(_integer_to_uint8(np.asarray(img), img.mode))
    if img.mode == "F":
        return _gray_to_rgb(_float_to_uint8(np.asarray(img)))
    if _has_transparency(img):
        return _composite_on_white(img)
    return np.asarray(img.convert("RGB"))


def _has_transparency(img: Image.Image) -> bool:
    """True for modes with an alpha band and for images with a transparent colour (tRNS)."""
    return "A" in img.getbands() or "a" in img.getbands() or "transparency" in img.info


def _composite_on_white(img: Image.Image) -> np.ndarray:
    """Blend an image with transparency onto a white background; returns uint8 ``(H, W, 3)``."""
    if img.mode == "La":  # premultiplied; Pillow converts it to RGBA only through LA
        img = img.convert("LA")
    rgba = np.asarray(img.convert("RGBA"), dtype=np.float32)
    alpha = rgba[..., 3:] / 255.0
    blended = rgba[..., :3] * alpha + 255.0 * (1.0 - alpha)
    return np.clip(np.round(blended), 0, 255).astype(np.uint8)


def _integer_to_uint8(values: np.ndarray, mode: str) -> np.ndarray:
    """Scale 16- or 32-bit integer gray values to uint8 by their bit depth (65535 -> 255).

    Mode ``I`` is 32-bit but usually holds 16-bit data (older Pillow versions and
    ``convert("I")`` give 16-bit files this mode), so it is treated as 16-bit
    unless a value exceeds 65535.
    """
    is_16_bit = mode.startswith("I;16") or values.max() <= 65535
    return _scale_to_uint8(values, 65535.0 if is_16_bit else 2.0**31 - 1)


def _float_to_uint8(values: np.ndarray) -> np.ndarray:
    """Scale float gray to uint8; the range is guessed: [0, 1], [0, 255], [0, 65535] or [0, max]."""
    peak = float(np.nanmax(values))
    full_scale = next((s for s in (1.0, 255.0, 65535.0) if peak <= s), peak)
    return _scale_to_uint8(np.nan_to_num(values), full_scale)


def _scale_to_uint8(values: np.ndarray, full_scale: float) -> np.ndarray:
    """Map ``[0, full_scale]`` to ``[0, 255]`` (rounded, clipped); uint8 of the same shape."""
    scaled = values.astype(np.float64) * (255.0 / full_scale)
    return np.clip(np.round(scaled), 0, 255).astype(np.uint8)


def _gray_to_rgb(gray: np.ndarray) -> np.ndarray:
    """Repeat a ``(H, W)`` gray array into three channels ``(H, W, 3)``."""
    return np.repeat(gray[..., np.newaxis], 3, axis=-1)


def load_image(
    source: ImageSource, max_dim: int | None = None, max_pixels: int = MAX_PIXELS
) -> tf.Tensor:
    """Load an image as a float32 tensor ``(1, H, W, 3)`` with values in ``[0, 1]``.

    With ``max_dim`` the image is resized (down or up) so that its longest side
    is exactly ``max_dim`` pixels, keeping the aspect ratio.
    """
    if max_dim is not None:
        positive_int(max_dim, "max_dim")
    pixels = open_rgb(source, max_pixels)
    image = tf.convert_to_tensor(pixels[np.newaxis], dtype=tf.float32) / 255.0
    return image if max_dim is None else resize_max_dim(image, max_dim)


# -------------------------------------------------------------------------- resizing


def resize_max_dim(image: ImageLike, max_dim: int) -> tf.Tensor:
    """Resize ``(1, H, W, 3)`` or ``(H, W, 3)`` so the longest side is ``max_dim`` pixels.

    The shorter side becomes ``round(short * max_dim / long)`` (at least 1). The
    result is float32 in ``[0, 1]`` with the rank of the input.
    """
    positive_int(max_dim, "max_dim")
    height, width = int(image.shape[-3]), int(image.shape[-2])
    return resize_to(image, *_fit_longest_side(height, width, max_dim))


def _fit_longest_side(height: int, width: int, max_dim: int) -> tuple[int, int]:
    """The ``(height, width)`` whose longest side is ``max_dim`` with the same aspect ratio."""
    short = max(1, round(min(height, width) * max_dim / max(height, width)))
    return (max_dim, short) if height >= width else (short, max_dim)


def resize_to(image: ImageLike, height: int, width: int) -> tf.Tensor:
    """Resize ``(1, H, W, 3)`` or ``(H, W, 3)`` to exactly ``height`` x ``width`` pixels.

    Bilinear with antialiasing; returns float32 clipped to ``[0, 1]``, same rank as the input.
    """
    positive_int(height, "height")
    positive_int(width, "width")
    image = tf.cast(image, tf.float32)
    if tuple(image.shape[-3:-1]) == (height, width):
        return tf.clip_by_value(image, 0.0, 1.0)
    resized = tf.image.resize(image, (height, width), method="bilinear", antialias=True)
    return tf.clip_by_value(resized, 0.0, 1.0)


# ------------------------------------------------------------------------ conversion


UNIT_RANGE_TOLERANCE: float = 1e-6
"""How far float pixel values may stray outside ``[0, 1]`` (rounding) before they are refused."""


def as_image(image: ImageLike, what: str = "the image") -> tf.Tensor:
    """Check an in-memory image and return it as float32 ``(1, H, W, 3)`` in ``[0, 1]``.

    ``image`` is a ``tf.Tensor``, ``tf.Variable`` or ``np.ndarray`` of shape ``(H, W, 3)``
    or ``(1, H, W, 3)``. uint8 values are divided by 255. Float values must be finite and
    lie in ``[0, 1]`` (up to :data:`UNIT_RANGE_TOLERANCE`, then clipped). Other dtypes
    (int64, uint16, bool, ...) are refused: their range (0..255? 0..65535? 0/1?) is a
    guess, so the message says how to convert. ``what`` names the image in messages.
    """
    array = _as_array(image, what)
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 3 or array.shape[-1] != 3:
        raise NSTError(
            f"{what} has shape {tuple(array.shape)}; expected (H, W, 3) or (1, H, W, 3): "
            "one RGB image, channels last."
        )
    if array.size == 0:
        raise NSTError(f"{what} is empty (shape {tuple(array.shape)}); pass a non-empty image.")
    if array.dtype == np.uint8:
        values = array.astype(np.float32) / 255.0
    elif np.issubdtype(array.dtype, np.floating):
        values = _unit_floats(array, what)
    else:
        raise NSTError(
            f"{what} has dtype {array.dtype}; pass uint8 (0..255) or floats in [0, 1], "
            "e.g. x.astype(np.uint8) for 0..255 integers or x / 65535 for 16-bit ones."
        )
    return tf.convert_to_tensor(values[np.newaxis], dtype=tf.float32)


def _as_array(image: ImageLike, what: str) -> np.ndarray:
    """The values of a tensor, variable or array as a numpy array; other types are refused."""
    if isinstance(image, (tf.Tensor, tf.Variable)):
        return image.numpy()
    if isinstance(image, np.ndarray):
        return image
    raise NSTError(
        f"{what} must be a tf.Tensor or numpy array, not a {type(image).__name__}; "
        "read image files with load_image."
    )


def _unit_floats(array: np.ndarray, what: str) -> np.ndarray:
    """Float32 copy of ``array`` clipped to ``[0, 1]``; NSTError if the values are not in range."""
    if not np.isfinite(array).all():
        raise NSTError(f"{what} contains NaN or infinite values; pass finite values in [0, 1].")
    low, high = float(array.min()), float(array.max())
    if low < -UNIT_RANGE_TOLERANCE:
        raise NSTError(
            f"{what} has negative values (down to {low:.4g}); float pixel values must lie in "
            "[0, 1] (undo any VGG preprocessing with vgg.deprocess first)."
        )
    if high > 1.0 + UNIT_RANGE_TOLERANCE:
        hint = (
            "clip it with np.clip(x, 0, 1)"
            if high < 2.0
            else "it looks like 0..255 values; divide by 255 or pass uint8"
            if high <= 255.0
            else "scale it into [0, 1] first"
        )
        raise NSTError(
            f"{what} has values up to {high:.4g}, but float pixel values must lie in [0, 1]: "
            f"{hint}."
        )
    return np.clip(array.astype(np.float32), 0.0, 1.0)


def to_uint8(image: ImageLike) -> np.ndarray:
    """Convert a float image in ``[0, 1]`` to uint8 ``(H, W, 3)`` (rounded and clipped);
    a uint8 image is taken as it is.

    Accepts tensors, variables and arrays of shape ``(1, H, W, C)``, ``(H, W, C)``
    or ``(H, W)``; gray images (``C == 1`` or no channel axis) are repeated into RGB.
    """
    if getattr(image, "dtype", None) in (np.uint8, tf.uint8):  # already pixels (image_grid)
        image = np.asarray(image).astype(np.float32) / 255.0
    array = np.asarray(image, dtype=np.float32)
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]
    if array.ndim == 2:
        array = array[..., np.newaxis]
    if array.ndim != 3 or array.shape[-1] not in (1, 3):
        raise NSTError(
            f"expected an image of shape (1, H, W, 3) or (H, W, 3), got {array.shape}; "
            "show or save one image at a time."
        )
    pixels = np.clip(np.round(array * 255.0), 0, 255).astype(np.uint8)
    return np.repeat(pixels, 3, axis=-1) if pixels.shape[-1] == 1 else pixels


# ---------------------------------------------------------------------------- saving


def check_writable(
    path: str | os.PathLike,
    overwrite: bool = False,
    *,
    protect: Sequence[PathLike] = (),
    suffixes: Sequence[str] = tuple(SAVE_FORMATS),
) -> Path:
    """Check that :func:`save_image` can write ``path``; returns it as a ``Path``.

    Checks the suffix (one of ``suffixes``) and name lengths, that the parent folder exists
    and really accepts new files, that an existing file may be replaced, and that ``path`` is
    not the same file as any path in ``protect`` (the inputs of the run; refused even with
    ``overwrite``).
    Call it before a long run.
    """
    target = Path(path).expanduser()
    if target.suffix.lower() not in suffixes:
        allowed = ", ".join(suffixes)
        raise NSTError(f"cannot save {target}: the name must end in one of {allowed}.")
    check_name_lengths(target)
    _check_folder(target)
    _check_not_an_input(target, protect)
    _check_existing_target(target, overwrite)
    _probe_folder(target.parent, target)
    return target


def _check_folder(target: Path) -> None:
    """Raise NSTError unless the parent folder of ``target`` exists and is a folder."""
    folder = target.parent
    info = stat_or_none(folder)
    if info is None:
        raise NSTError(
            f"cannot save {target}: the folder {folder} does not exist; create it first."
        )
    if not stat.S_ISDIR(info.st_mode):
        raise NSTError(
            f"cannot save {target}: {folder} is a file, not a folder; choose another path."
        )


def _check_not_an_input(target: Path, protect: Sequence[PathLike]) -> None:
    """Refuse ``target`` if it is the same file as one of the paths in ``protect``."""
    protect = [protect] if isinstance(protect, (str, os.PathLike)) else protect
    for name in protect:
        source = Path(name).expanduser()
        if _same_file(target, source):
            alias = "" if target == source else f" ({target} is the same file)"
            raise NSTError(
                f"refusing to write the result over {source}, one of the inputs of this run"
                f"{alias}; choose another output name."
            )


def _same_file(first: Path, second: Path) -> bool:
    """True if both paths name one file: by inode when both exist, else by resolved path."""
    try:
        return os.path.samefile(first, second)
    except OSError:  # one of them does not exist (yet), or cannot be checked
        return os.path.realpath(first) == os.path.realpath(second)


def _check_existing_target(target: Path, overwrite: bool) -> None:
    """Refuse to replace a folder or a special file, and any existing name without overwrite."""
    info = stat_or_none(target)
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise NSTError(
            f"cannot save {target}: it is a folder; give a file name such as result.png."
        )
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise NSTError(
            f"cannot save {target}: it is {_kind(info)}, not a regular file; "
            "choose another output name."
        )
    if not overwrite and (info is not None or target.is_symlink()):
        raise NSTError(
            f"{target} already exists; pass overwrite=True (--force on the command line) "
            "to replace it."
        )


def _probe_folder(folder: Path, target: Path) -> None:
    """Create and delete a temporary file in ``folder`` (``os.access`` is unreliable for root)."""
    probe = folder / f".nst-write-test-{secrets.token_hex(4)}"
    try:
        with open(probe, "xb"):
            pass
        probe.unlink()
    except OSError as exc:
        raise NSTError(
            f"cannot save {target}: the folder {folder} is not writable ({exc.strerror or exc}); "
            "choose another folder."
        ) from exc


def save_image(
    image: ImageLike,
    path: str | os.PathLike,
    overwrite: bool = False,
    quality: int = 95,
    *,
    protect: Sequence[PathLike] = (),
) -> Path:
    """Save a float image in ``[0, 1]`` as PNG or JPEG (chosen by the suffix); returns the path.

    ``quality`` (1-100) applies to JPEG only; ``protect`` lists the run's inputs, which are
    never overwritten (see :func:`check_writable`). The file is written with
    :func:`~nst_helpers.files.atomic_write`: a crash or Ctrl-C never leaves half a file, and
    without ``overwrite`` two runs racing for one new name cannot both succeed.
    """
    target = check_writable(path, overwrite, protect=protect)
    if isinstance(quality, bool) or not isinstance(quality, Integral) or not 1 <= quality <= 100:
        raise NSTError(f"JPEG quality must be a whole number from 1 to 100, got {quality!r}.")
    pixels = to_uint8(image)
    file_format = SAVE_FORMATS[target.suffix.lower()]
    options = {"quality": int(quality)} if file_format == "JPEG" else {}
    try:
        with atomic_write(target, overwrite=overwrite) as stream:
            Image.fromarray(pixels).save(stream, format=file_format, **options)
    except OSError as exc:
        raise NSTError(
            f"could not write {target}: {exc.strerror or exc}; check the disk and folder."
        ) from exc
    return target


# --------------------------------------------------------------------------- showing


def show_images(
    images: ImageLike | Sequence[ImageLike] | Mapping[str, ImageLike],
    titles: Sequence[str] | None = None,
    ncols: int | None = None,
    size: float = 4.0,
):
    """Show images side by side and return the matplotlib ``Figure`` (``plt.show()`` is not called).

    ``images`` is one image, a list of them, a batch ``(N, H, W, 3)`` or a dict
    ``{title: image}``. ``ncols`` (default: all in one row) wraps them into rows;
    each cell is about ``size`` inches. In a notebook, end the line with ``;`` so
    the figure is not drawn twice.
    """
    import matplotlib.pyplot as plt

    if isinstance(images, Mapping):
        titles = list(images) if titles is None else titles
        images = list(images.values())
    pictures = _as_image_list(images)
    titles = [None] * len(pictures) if titles is None else list(titles)
    if len(titles) != len(pictures):
        raise NSTError(
            f"got {len(pictures)} images but {len(titles)} titles; give one title per image."
        )
    ncols = len(pictures) if ncols is None else ncols
    positive_int(ncols, "ncols")
    ncols = min(ncols, len(pictures))
    nrows = -(-len(pictures) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for ax in axes.flat[len(pictures) :]:
        ax.remove()  # empty cells of the last row
    for ax, picture, title in zip(axes.flat, pictures, titles):
        ax.imshow(picture)
        ax.axis("off")
        if title:
            ax.set_title(title)
    fig.tight_layout()
    return fig


def show_image(image: ImageLike, title: str | None = None, size: float = 6.0):
    """Show one image (``(1, H, W, 3)`` or ``(H, W, 3)``) and return the matplotlib ``Figure``."""
    return show_images([image], titles=[title], size=size)


def _as_image_list(images: ImageLike | Sequence[ImageLike]) -> list[np.ndarray]:
    """Turn one image, a batch or a sequence of images into a list of uint8 ``(H, W, 3)`` arrays."""
    if isinstance(images, (list, tuple)):
        items = list(images)
    elif np.ndim(images) == 4:
        items = list(np.asarray(images))
    else:
        items = [images]
    if not items:
        raise NSTError("there are no images to show; pass at least one.")
    return [to_uint8(item) for item in items]


def image_grid(images: ImageLike | Sequence[ImageLike], ncols: int) -> np.ndarray:
    """Tile equally sized images into one uint8 ``(rows * H, ncols * W, 3)`` mosaic.

    ``images`` is a list of images or a batch ``(N, H, W, C)``; empty cells of the
    last row are white. Gray ``(H, W)`` images are allowed (e.g. feature maps
    scaled to ``[0, 1]``).
    """
    positive_int(ncols, "ncols")
    tiles = _as_image_list(images)
    height, width, _ = tiles[0].shape
    if any(tile.shape != tiles[0].shape for tile in tiles):
        shapes = sorted({tile.shape[:2] for tile in tiles})
        raise NSTError(
            f"image_grid needs images of one size, got {shapes}; resize them with resize_to first."
        )
    ncols = min(ncols, len(tiles))
    nrows = -(-len(tiles) // ncols)
    grid = np.full((nrows * height, ncols * width, 3), 255, dtype=np.uint8)
    for index, tile in enumerate(tiles):
        row, col = divmod(index, ncols)
        grid[row * height : (row + 1) * height, col * width : (col + 1) * width] = tile
    return grid
