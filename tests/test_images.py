"""Tests for nst_helpers.images: every test image is made here with Pillow or numpy."""

from __future__ import annotations

import ast
import io
import os
import socket
import struct
import threading
import zlib
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image, ImageFile

from nst_helpers import images
from nst_helpers.errors import NSTError
from nst_helpers.images import (
    check_writable,
    image_grid,
    load_image,
    open_rgb,
    resize_max_dim,
    resize_to,
    save_image,
    show_image,
    show_images,
    to_uint8,
)
from nst_helpers.masks import as_mask

RED, GREEN, BLUE, WHITE, BLACK = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255), (0, 0, 0)
ORIENTATION_TAG = 0x0112


def saved(img: Image.Image, tmp_path: Path, name: str, **options) -> Path:
    """Save ``img`` under ``tmp_path`` and return the path."""
    path = tmp_path / name
    img.save(path, **options)
    return path


def png_bytes(img: Image.Image) -> bytes:
    """Encode ``img`` as PNG in memory."""
    buffer = io.BytesIO()
    img.save(buffer, format="PNG")
    return buffer.getvalue()


def noise_image(width: int = 64, height: int = 48, seed: int = 0) -> np.ndarray:
    """Random uint8 RGB pixels (H, W, 3): incompressible, so files are large enough to truncate."""
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data and CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


# ------------------------------------------------------------------- colour modes


def test_grayscale_l_becomes_equal_rgb_channels(tmp_path):
    path = saved(Image.new("L", (8, 6), 128), tmp_path, "gray.png")
    pixels = load_image(path).numpy()
    np.testing.assert_allclose(pixels, 128 / 255, atol=1e-6)
    assert pixels.shape == (1, 6, 8, 3)


def test_palette_image_uses_palette_colours(tmp_path):
    img = Image.new("P", (4, 2), 0)
    img.putpalette([*RED, *BLUE])
    img.paste(1, (2, 0, 4, 2))
    pixels = open_rgb(saved(img, tmp_path, "palette.png"))
    assert tuple(pixels[0, 0]) == RED
    assert tuple(pixels[1, 3]) == BLUE


def test_palette_transparency_becomes_white(tmp_path):
    img = Image.new("P", (4, 2), 0)
    img.putpalette([*RED, *BLUE])
    img.paste(1, (2, 0, 4, 2))
    path = saved(img, tmp_path, "palette_trns.png", transparency=1)
    assert Image.open(path).mode == "P"
    pixels = open_rgb(path)
    assert tuple(pixels[0, 0]) == RED
    assert tuple(pixels[1, 3]) == WHITE


def test_cmyk_cyan_becomes_rgb_cyan(tmp_path):
    path = saved(Image.new("CMYK", (5, 5), (255, 0, 0, 0)), tmp_path, "cyan.tif")
    assert Image.open(path).mode == "CMYK"
    assert tuple(open_rgb(path)[2, 2]) == (0, 255, 255)


def test_16_bit_png_is_scaled_by_bit_depth_not_clipped(tmp_path):
    values = np.array([[65535, 32768, 0, 257]], dtype=np.uint16)
    path = saved(Image.fromarray(values), tmp_path, "deep.png")
    assert Image.open(path).mode in ("I;16", "I")  # "I" in Pillow < 10
    gray = load_image(path).numpy()[0, 0, :, 0]
    np.testing.assert_allclose(gray, [1.0, 0.5, 0.0, 1 / 255], atol=0.003)


@pytest.mark.parametrize(
    ("img", "expected"),
    [
        (Image.frombytes("I;16B", (2, 1), np.array([65535, 0], dtype=">u2").tobytes()), [255, 0]),
        (Image.fromarray(np.array([[65535, 32768]], dtype=np.int32)), [255, 128]),
        (Image.fromarray(np.array([[2**31 - 1, 0]], dtype=np.int32)), [255, 0]),
        (Image.fromarray(np.array([[1.0, 0.5]], dtype=np.float32)), [255, 128]),
        (Image.fromarray(np.array([[255.0, 0.0]], dtype=np.float32)), [255, 0]),
    ],
    ids=["I;16B", "I-16bit-data", "I-32bit-data", "F-unit-range", "F-byte-range"],
)
def test_deep_gray_modes_scale_to_8_bit(img, expected):
    pixels = open_rgb(img)
    assert pixels.dtype == np.uint8 and pixels.shape == (1, 2, 3)
    np.testing.assert_array_equal(pixels[0, :, 0], expected)
    np.testing.assert_array_equal(pixels[..., 0], pixels[..., 2])


def test_rgba_is_composited_on_white(tmp_path):
    img = Image.new("RGBA", (3, 1))
    img.putpixel((0, 0), (0, 0, 0, 0))  # fully transparent black
    img.putpixel((1, 0), (255, 0, 0, 255))  # opaque red
    img.putpixel((2, 0), (255, 0, 0, 128))  # half transparent red
    pixels = load_image(saved(img, tmp_path, "alpha.png")).numpy()[0, 0]
    np.testing.assert_allclose(pixels[0], [1, 1, 1])
    np.testing.assert_allclose(pixels[1], [1, 0, 0])
    np.testing.assert_allclose(pixels[2], [1, 0.5, 0.5], atol=0.01)


def test_la_is_composited_on_white(tmp_path):
    img = Image.new("LA", (2, 1))
    img.putpixel((0, 0), (0, 0))  # transparent black
    img.putpixel((1, 0), (0, 255))  # opaque black
    pixels = open_rgb(saved(img, tmp_path, "la.png"))
    assert tuple(pixels[0, 0]) == WHITE
    assert tuple(pixels[0, 1]) == BLACK


def test_bilevel_image(tmp_path):
    img = Image.new("1", (4, 2), 0)
    img.paste(1, (2, 0, 4, 2))
    pixels = open_rgb(saved(img, tmp_path, "bilevel.png"))
    assert tuple(pixels[0, 0]) == BLACK
    assert tuple(pixels[0, 3]) == WHITE


def test_animated_gif_gives_first_frame(tmp_path):
    frames = [Image.new("RGB", (6, 6), RED), Image.new("RGB", (6, 6), BLUE)]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert Image.open(path).n_frames == 2
    assert tuple(open_rgb(path)[3, 3]) == RED


@pytest.mark.parametrize(
    ("suffix", "options"), [(".webp", {"lossless": True}), (".bmp", {}), (".tif", {})]
)
def test_other_formats_load(tmp_path, suffix, options):
    pixels = noise_image(16, 12)
    path = saved(Image.fromarray(pixels), tmp_path, "noise" + suffix, **options)
    np.testing.assert_array_equal(open_rgb(path), pixels)


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_exif_orientation_is_applied(tmp_path, suffix):
    img = Image.new("RGB", (40, 20), WHITE)  # stored landscape: 40 wide, 20 high
    img.paste(RED, (0, 0, 8, 8))  # mark the stored top-left corner
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = 6  # "rotate 90 degrees clockwise to display"
    path = saved(img, tmp_path, "phone" + suffix, exif=exif)
    image = load_image(path)
    assert image.shape == (1, 40, 20, 3)  # displayed portrait: 20 wide, 40 high
    pixels = to_uint8(image)
    # Turning clockwise moves the top-left corner to the top-right.
    np.testing.assert_allclose(pixels[3, 16], RED, atol=40)
    np.testing.assert_allclose(pixels[3, 3], WHITE, atol=40)
    np.testing.assert_allclose(pixels[36, 3], WHITE, atol=40)


# ------------------------------------------------------------------- load_image


def test_load_image_dtype_rank_and_range(tmp_path):
    path = saved(Image.fromarray(noise_image()), tmp_path, "noise.png")
    image = load_image(path)
    assert image.dtype == tf.float32
    assert image.shape == (1, 48, 64, 3)
    assert float(tf.reduce_min(image)) >= 0.0 and float(tf.reduce_max(image)) <= 1.0
    assert float(tf.reduce_max(image)) > 0.99  # 255 maps to 1, not 255


@pytest.mark.parametrize(
    ("size", "max_dim", "expected"),
    [
        ((300, 200), 150, (100, 150)),  # landscape, downscale
        ((200, 300), 150, (150, 100)),  # portrait
        ((30, 20), 90, (60, 90)),  # upscale
        ((64, 64), 64, (64, 64)),  # already right
        ((1000, 3), 10, (1, 10)),  # short side never rounds to 0
    ],
)
def test_load_image_max_dim_keeps_aspect_ratio(tmp_path, size, max_dim, expected):
    path = saved(Image.new("RGB", size, GREEN), tmp_path, "green.png")
    image = load_image(path, max_dim=max_dim)
    assert image.shape == (1, *expected, 3)
    np.testing.assert_allclose(image.numpy()[..., 1], 1.0, atol=1e-5)  # colour survives resizing


@pytest.mark.parametrize("max_dim", [0, -5, 2.5, True, "512"])
def test_load_image_rejects_bad_max_dim(tmp_path, max_dim):
    path = saved(Image.new("RGB", (4, 4)), tmp_path, "small.png")
    with pytest.raises(NSTError, match="max_dim must be a positive"):
        load_image(path, max_dim=max_dim)


def test_load_image_accepts_numpy_integer_max_dim(tmp_path):
    path = saved(Image.new("RGB", (40, 20)), tmp_path, "small.png")
    assert load_image(path, max_dim=np.int64(10)).shape == (1, 5, 10, 3)


def test_resize_max_dim_keeps_rank_and_range():
    image = tf.random.uniform((30, 60, 3))
    resized = resize_max_dim(image, 20)
    assert resized.shape == (10, 20, 3)
    assert resize_max_dim(image[tf.newaxis], 120).shape == (1, 60, 120, 3)


def test_resize_to_exact_size_and_clips():
    image = tf.fill((1, 8, 8, 3), 1.5)  # out of range on purpose
    resized = resize_to(image, 5, 11)
    assert resized.shape == (1, 5, 11, 3)
    assert resized.dtype == tf.float32
    assert float(tf.reduce_max(resized)) == 1.0


# ------------------------------------------------------------------- sources


def test_bytes_like_and_file_like_sources(tmp_path):
    pixels = noise_image(10, 7)
    data = png_bytes(Image.fromarray(pixels))
    for source in (data, bytearray(data), memoryview(data), io.BytesIO(data)):
        np.testing.assert_array_equal(open_rgb(source), pixels)
    path = tmp_path / "noise.png"
    path.write_bytes(data)
    with open(path, "rb") as stream:
        np.testing.assert_array_equal(open_rgb(stream), pixels)
        assert not stream.closed  # the caller's file stays open
    np.testing.assert_array_equal(open_rgb(str(path)), pixels)
    np.testing.assert_array_equal(open_rgb(Image.fromarray(pixels)), pixels)


def test_pil_image_source_is_not_modified():
    img = Image.new("RGBA", (3, 3), (255, 0, 0, 0))
    open_rgb(img)
    assert img.mode == "RGBA" and img.getpixel((0, 0)) == (255, 0, 0, 0)


# ------------------------------------------------------------------- bad inputs


def test_missing_file(tmp_path):
    with pytest.raises(NSTError, match=r"no such file: .*nope.jpg"):
        load_image(tmp_path / "nope.jpg")


def test_directory(tmp_path):
    with pytest.raises(NSTError, match="is a folder"):
        load_image(tmp_path)


def test_text_file_named_jpg(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("this is not a picture\n")
    with pytest.raises(NSTError, match=r"notes.jpg is not an image Pillow can read"):
        load_image(path)


def test_truncated_png(tmp_path):
    data = png_bytes(Image.fromarray(noise_image()))
    path = tmp_path / "cut.png"
    path.write_bytes(data[:100])
    with pytest.raises(NSTError, match=r"cut.png is not an image Pillow can read"):
        load_image(path)


def test_text_mode_file_object(tmp_path):
    path = saved(Image.new("RGB", (4, 4)), tmp_path, "small.png")
    with open(path, encoding="latin-1") as stream, pytest.raises(NSTError, match="text mode"):
        open_rgb(stream)


def test_decompression_bomb_is_refused_before_decoding(tmp_path, monkeypatch):
    path = saved(Image.new("1", (10_000, 6_000)), tmp_path, "bomb.png")
    assert path.stat().st_size < 100_000  # tiny file, huge image

    def decode(self):
        raise AssertionError("the pixels were decoded before the size check")

    monkeypatch.setattr(ImageFile.ImageFile, "load", decode)
    with pytest.raises(NSTError, match=r"10000x6000 = 60,000,000 pixels.*50,000,000"):
        load_image(path)


def test_max_pixels_applies_to_pil_images_too():
    with pytest.raises(NSTError, match="more than the limit of 100"):
        open_rgb(Image.new("RGB", (20, 20)), max_pixels=100)


@pytest.mark.parametrize("pillow_limit", [6_000, 1_000], ids=["warning", "error"])
def test_pillows_own_bomb_check_becomes_nst_error(tmp_path, monkeypatch, pillow_limit):
    path = saved(Image.new("RGB", (100, 100)), tmp_path, "medium.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", pillow_limit)
    with pytest.raises(NSTError, match="too large"):
        load_image(path)


def test_zero_width_png(tmp_path):
    header = struct.pack(">IIBBBBB", 0, 10, 8, 2, 0, 0, 0)  # width 0, height 10, 8-bit RGB
    data = (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 10))
        + png_chunk(b"IEND", b"")
    )
    path = tmp_path / "empty.png"
    path.write_bytes(data)
    with pytest.raises(
        NSTError, match=r"empty.png (is not an image Pillow can read|has zero width)"
    ):
        load_image(path)


def test_zero_size_pil_image():
    with pytest.raises(NSTError, match="zero width or height"):
        open_rgb(Image.new("RGB", (0, 5)))


# ------------------------------------------------------------------- saving


def test_png_round_trip_is_exact(tmp_path):
    pixels = noise_image()
    written = save_image(tf.constant(pixels[np.newaxis] / 255.0, tf.float32), tmp_path / "out.png")
    assert written == tmp_path / "out.png"
    np.testing.assert_array_equal(open_rgb(written), pixels)
    assert os.listdir(tmp_path) == ["out.png"]  # no temporary files left behind


def test_jpeg_is_written(tmp_path):
    image = tf.fill((1, 16, 24, 3), 0.5)
    for name in ("out.jpg", "out.JPEG"):
        path = save_image(image, tmp_path / name, quality=90)
        assert path.read_bytes()[:2] == b"\xff\xd8"  # JPEG start-of-image marker
        np.testing.assert_allclose(load_image(path).numpy(), 0.5, atol=0.02)


def test_saved_file_has_normal_permissions(tmp_path):
    reference = tmp_path / "reference"
    reference.write_bytes(b"")
    path = save_image(np.zeros((2, 2, 3)), tmp_path / "out.png")
    assert path.stat().st_mode == reference.stat().st_mode  # not the 0600 of a mkstemp file


def test_refuses_to_overwrite_unless_asked(tmp_path):
    path = tmp_path / "result.png"
    path.write_bytes(b"precious")
    image = tf.zeros((1, 4, 4, 3))
    with pytest.raises(NSTError, match=r"already exists.*overwrite=True.*--force"):
        save_image(image, path)
    assert path.read_bytes() == b"precious"
    with pytest.raises(NSTError, match="already exists"):
        check_writable(path)
    save_image(image, path, overwrite=True)
    assert open_rgb(path).shape == (4, 4, 3)


@pytest.mark.parametrize("name", ["out.gif", "out.webp", "out"])
def test_bad_suffix(tmp_path, name):
    with pytest.raises(NSTError, match=r"\.png, \.jpg, \.jpeg"):
        save_image(tf.zeros((1, 4, 4, 3)), tmp_path / name)
    assert not (tmp_path / name).exists()


def test_missing_parent_folder(tmp_path):
    with pytest.raises(NSTError, match="does not exist"):
        save_image(tf.zeros((1, 4, 4, 3)), tmp_path / "missing" / "out.png")


def test_parent_is_a_file(tmp_path):
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(NSTError, match=r"file.txt is a file, not a folder"):
        save_image(tf.zeros((1, 4, 4, 3)), tmp_path / "file.txt" / "out.png")


def test_target_is_a_folder(tmp_path):
    (tmp_path / "out.png").mkdir()
    with pytest.raises(NSTError, match="is a folder"):
        check_writable(tmp_path / "out.png", overwrite=True)


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs Linux /proc")
def test_check_writable_detects_unwritable_folder():
    with pytest.raises(NSTError, match="not writable"):
        check_writable("/proc/nst_test.png")


def test_check_writable_returns_path_and_leaves_nothing(tmp_path):
    assert check_writable(str(tmp_path / "a.jpg")) == tmp_path / "a.jpg"
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("overwrite", [False, True])
def test_os_error_while_writing_becomes_nst_error(tmp_path, monkeypatch, overwrite):
    def disk_full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)  # publishing with overwrite
    monkeypatch.setattr(os, "link", disk_full)  # publishing without overwrite
    with pytest.raises(NSTError, match=r"could not write .*out.png: No space left on device"):
        save_image(tf.zeros((1, 4, 4, 3)), tmp_path / "out.png", overwrite=overwrite)
    assert os.listdir(tmp_path) == []  # the temporary file is cleaned up


@pytest.mark.parametrize("quality", [0, 101, 9.5])
def test_bad_jpeg_quality(tmp_path, quality):
    with pytest.raises(NSTError, match="quality"):
        save_image(tf.zeros((1, 4, 4, 3)), tmp_path / "out.jpg", quality=quality)


def test_two_interleaved_saves_cannot_both_succeed(tmp_path, monkeypatch):
    # The outer save passes check_writable and starts encoding; meanwhile another save of
    # the same new name runs to the end. The outer one must then fail, not replace it.
    target, real_save = tmp_path / "out.png", Image.Image.save

    def another_run_finishes_first(self, *args, **kwargs):
        monkeypatch.setattr(Image.Image, "save", real_save)
        save_image(np.ones((2, 2, 3)), target)
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", another_run_finishes_first)
    with pytest.raises(NSTError, match=r"out.png already exists"):
        save_image(np.zeros((2, 2, 3)), target)
    np.testing.assert_array_equal(open_rgb(target), 255)  # the winner's white image
    assert os.listdir(tmp_path) == ["out.png"]


@pytest.mark.parametrize("existing", [False, True])
def test_ctrl_c_while_encoding_leaves_no_temporary_file(tmp_path, monkeypatch, existing):
    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    target = tmp_path / "x.png"
    if existing:
        target.write_bytes(b"old result")
    monkeypatch.setattr(Image.Image, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_image(np.zeros((2, 2, 3)), target, overwrite=True)
    assert os.listdir(tmp_path) == (["x.png"] if existing else [])
    assert not existing or target.read_bytes() == b"old result"


def _input_and_output(tmp_path: Path, how: str) -> tuple[Path, Path]:
    """An input photo and an output path that names the same file in the way ``how``."""
    photo = saved(Image.new("RGB", (4, 4), RED), tmp_path, "photo.png")
    if how == "same":
        return photo, photo
    if how == "spelled differently":
        return photo, tmp_path / "sub" / ".." / "photo.png"
    output = tmp_path / "alias.png"
    if how == "symlink":
        output.symlink_to(photo)
    else:
        os.link(photo, output)
    return photo, output


@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize("how", ["same", "spelled differently", "symlink", "hardlink"])
def test_an_input_of_the_run_is_never_overwritten(tmp_path, how, force):
    (tmp_path / "sub").mkdir()
    photo, output = _input_and_output(tmp_path, how)
    original = photo.read_bytes()
    message = r"refusing to write the result over .*photo.png, one of the inputs of this run"
    with pytest.raises(NSTError, match=message):
        check_writable(output, overwrite=force, protect=[str(photo), tmp_path / "style.jpg"])
    with pytest.raises(NSTError, match=message):
        save_image(np.zeros((2, 2, 3)), output, overwrite=force, protect=(photo,))
    assert photo.read_bytes() == original


def test_protect_compares_resolved_paths_when_the_files_do_not_exist(tmp_path):
    (tmp_path / "sub").mkdir()
    with pytest.raises(NSTError, match="one of the inputs of this run"):
        check_writable(tmp_path / "sub" / ".." / "a.png", protect=[tmp_path / "a.png"])


def test_protect_allows_any_other_output(tmp_path):
    photo = saved(Image.new("RGB", (4, 4), RED), tmp_path, "photo.png")
    output = save_image(np.ones((2, 2, 3)), tmp_path / "result.png", protect=[photo])
    assert open_rgb(output).shape == (2, 2, 3)
    assert open_rgb(photo)[0, 0].tolist() == list(RED)


# ------------------------------------------------------------------- special files and names


@pytest.fixture
def fifo(tmp_path):
    """A named pipe ``pipe.png``. If code under test opens it (and so blocks), a helper
    thread opens it for writing after 3 s and closes it: the reader sees an empty file
    and the test fails on its message instead of hanging."""
    path = tmp_path / "pipe.png"
    os.mkfifo(path)
    done = threading.Event()

    def rescue() -> None:
        done.wait(3)
        while not done.is_set():
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:  # no reader yet
                pass
            done.wait(0.1)

    helper = threading.Thread(target=rescue, daemon=True)
    helper.start()
    yield path
    done.set()
    helper.join(timeout=5)


def test_a_named_pipe_is_named_and_never_opened(fifo):
    message = r"pipe.png is a named pipe \(FIFO\), not an image file"
    with pytest.raises(NSTError, match=message):
        load_image(fifo)
    with pytest.raises(NSTError, match=message):
        open_rgb(str(fifo))
    with pytest.raises(NSTError, match=message):
        as_mask(fifo, 4, 4)


def _special(tmp_path: Path, kind: str) -> Path:
    """A non-regular file of the given kind, named ``<kind>.png`` inside ``tmp_path``."""
    path = tmp_path / f"{kind}.png"
    if kind == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(path.name)  # relative: AF_UNIX paths are limited to ~108 bytes
        server.close()
    elif kind == "zero":
        path.symlink_to("/dev/zero")
    elif kind == "dangling":
        path.symlink_to(tmp_path / "gone.png")
    elif kind == "loop":
        path.symlink_to(path)
    else:
        path.mkdir()
    return path


SPECIAL_MESSAGES = {
    "socket": r"socket.png is a socket, not an image file",
    "zero": r"zero.png is a character device \(such as /dev/zero\), not an image file",
    "dangling": r"dangling.png is a link to .*gone.png, which does not exist",
    "loop": r"cannot check .*loop.png: Too many levels of symbolic links",
    "folder": r"folder.png is a folder, not an image file",
}


@pytest.mark.parametrize("kind", list(SPECIAL_MESSAGES))
def test_special_files_are_named_for_what_they_are(tmp_path, monkeypatch, kind):
    monkeypatch.chdir(tmp_path)
    path = _special(tmp_path, kind)
    with pytest.raises(NSTError, match=SPECIAL_MESSAGES[kind]):
        load_image(path)
    with pytest.raises(NSTError, match=SPECIAL_MESSAGES[kind]):
        as_mask(str(path), 4, 4)


LONG_NAME = "a" * 296 + ".png"  # 300 bytes; the limit is 255 per name


@pytest.mark.parametrize("long_part", ["file", "folder"])
def test_too_long_input_name(tmp_path, long_part):
    path = tmp_path / LONG_NAME if long_part == "file" else tmp_path / ("b" * 300) / "x.png"
    message = r"the (file|folder) name '[ab]{20}.*' is too long \(300 bytes; the limit is 255"
    with pytest.raises(NSTError, match=message):
        load_image(path)
    with pytest.raises(NSTError, match=message):
        open_rgb(str(path))


def test_too_long_output_name(tmp_path):
    message = r"the file name 'a{20}.*' is too long \(300 bytes; the limit is 255"
    with pytest.raises(NSTError, match=message):
        check_writable(tmp_path / LONG_NAME)
    with pytest.raises(NSTError, match=message):
        save_image(np.zeros((2, 2, 3)), tmp_path / LONG_NAME, overwrite=True)
    assert os.listdir(tmp_path) == []


def test_name_length_counts_bytes_not_characters(tmp_path):
    name = "é" * 127 + ".png"  # 131 characters but 258 bytes in UTF-8
    with pytest.raises(NSTError, match=r"too long \(258 bytes"):
        check_writable(tmp_path / name)


def test_output_that_is_a_named_pipe_is_refused_even_with_force(fifo):
    message = r"pipe.png: it is a named pipe \(FIFO\), not a regular file"
    with pytest.raises(NSTError, match=message):
        check_writable(fifo, overwrite=True)
    assert fifo.is_fifo()


# ------------------------------------------------------------------- conversion and display


def test_to_uint8_rounds_and_clips():
    values = np.array(
        [[[0.0, 0.49 / 255, 0.51 / 255], [0.5, 1.0, -0.2], [1.3, 254.6 / 255, 100 / 255]]],
        dtype=np.float32,
    )
    expected = np.array([[[0, 0, 1], [128, 255, 0], [255, 255, 100]]], dtype=np.uint8)
    np.testing.assert_array_equal(to_uint8(values), expected)
    np.testing.assert_array_equal(to_uint8(tf.constant(values[np.newaxis])), expected)
    np.testing.assert_array_equal(to_uint8(tf.Variable(values[np.newaxis])), expected)


def test_to_uint8_rejects_a_batch_of_two():
    with pytest.raises(NSTError, match=r"\(2, 4, 4, 3\)"):
        to_uint8(np.zeros((2, 4, 4, 3)))


def test_show_images_layout():
    pictures = [tf.zeros((1, 8, 8, 3)), np.ones((8, 16, 3)), tf.fill((8, 8, 3), 0.5)]
    fig = show_images(pictures, titles=["a", "b", "c"])
    assert len(fig.axes) == 3
    assert [ax.get_title() for ax in fig.axes] == ["a", "b", "c"]
    assert not any(ax.axison for ax in fig.axes)
    np.testing.assert_allclose(fig.get_size_inches(), [12, 4])
    plt.close(fig)

    wrapped = show_images(pictures, ncols=2, size=2.0)
    assert len(wrapped.axes) == 3  # the empty fourth cell is removed
    np.testing.assert_allclose(wrapped.get_size_inches(), [4, 4])
    plt.close(wrapped)


def test_show_images_from_dict_and_single_image():
    fig = show_images({"content": np.zeros((4, 4, 3)), "style": np.ones((4, 4, 3))})
    assert [ax.get_title() for ax in fig.axes] == ["content", "style"]
    plt.close(fig)
    single = show_image(tf.zeros((1, 5, 5, 3)), title="only")
    assert len(single.axes) == 1 and single.axes[0].get_title() == "only"
    np.testing.assert_array_equal(single.axes[0].images[0].get_array(), np.zeros((5, 5, 3)))
    plt.close(single)


def test_show_images_bad_arguments():
    with pytest.raises(NSTError, match="2 images but 1 titles"):
        show_images([np.zeros((4, 4, 3))] * 2, titles=["one"])
    with pytest.raises(NSTError, match="ncols must be a positive"):
        show_images([np.zeros((4, 4, 3))] * 2, ncols=0)
    with pytest.raises(NSTError, match="no images"):
        show_images([])


def test_image_grid_pads_with_white():
    tiles = [np.full((10, 8, 3), value) for value in (0.0, 0.2, 0.4, 0.6, 0.8)]
    grid = image_grid(tiles, ncols=3)
    assert grid.shape == (20, 24, 3) and grid.dtype == np.uint8
    np.testing.assert_array_equal(grid[:10, :8], 0)
    np.testing.assert_array_equal(grid[10:, 8:16], round(0.8 * 255))
    np.testing.assert_array_equal(grid[10:, 16:], 255)  # the empty sixth cell


def test_image_grid_of_gray_batch_and_mismatched_sizes():
    assert image_grid(np.zeros((4, 6, 6, 1)), ncols=2).shape == (12, 12, 3)
    assert image_grid([np.zeros((6, 6))] * 2, ncols=5).shape == (6, 12, 3)
    with pytest.raises(NSTError, match="one size"):
        image_grid([np.zeros((4, 4, 3)), np.zeros((5, 4, 3))], ncols=2)


def test_matplotlib_is_imported_only_inside_functions():
    # Keras 3 itself imports pyplot along with TensorFlow, so sys.modules cannot tell;
    # check instead that images.py has no module-level matplotlib import.
    tree = ast.parse(Path(images.__file__).read_text())
    top_level = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    names = [alias.name for node in top_level for alias in node.names]
    names += [node.module or "" for node in top_level if isinstance(node, ast.ImportFrom)]
    assert not [name for name in names if name.startswith("matplotlib")]


# ------------------------------------------------------------------- in-memory images


def test_as_image_converts_uint8_by_dividing_by_255():
    pixels = np.array([[[0, 255, 51], [102, 153, 204]]], dtype=np.uint8)  # (1, 2, 3)
    image = images.as_image(pixels)
    assert image.dtype == tf.float32 and image.shape == (1, 1, 2, 3)
    np.testing.assert_allclose(image.numpy()[0], [[[0.0, 1.0, 0.2], [0.4, 0.6, 0.8]]], atol=1e-7)


@pytest.mark.parametrize(
    "source",
    [
        np.array([[[0.0, 0.5, 1.0]]], dtype=np.float64),
        tf.constant([[[[0.0, 0.5, 1.0]]]], tf.float32),
        tf.Variable([[[[0.0, 0.5, 1.0]]]], dtype=tf.float16),
    ],
    ids=["ndarray-float64", "tensor-batch", "variable-float16"],
)
def test_as_image_accepts_floats_in_unit_range(source):
    image = images.as_image(source)
    assert image.dtype == tf.float32 and image.shape == (1, 1, 1, 3)
    np.testing.assert_array_equal(image.numpy().ravel(), [0.0, 0.5, 1.0])


def test_as_image_clips_rounding_noise():
    tiny = 1e-7
    image = images.as_image(np.array([[[-tiny, 1 + tiny, 0.5]]], dtype=np.float64))
    np.testing.assert_allclose(image.numpy().ravel(), [0.0, 1.0, 0.5])


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([0.0, np.nan, 0.5], r"the content image contains NaN or infinite values"),
        ([0.0, np.inf, 0.5], r"contains NaN or infinite values"),
        ([0.0, 128.0, 255.0], r"looks like 0\.\.255 values; divide by 255 or pass uint8"),
        ([0.0, 0.5, 1000.0], r"values up to 1000.*must lie in \[0, 1\]"),
        ([-0.25, 0.5, 1.0], r"negative values \(down to -0.25\).*must lie in \[0, 1\]"),
        ([0.0, 0.5, 1.01], r"values up to 1.01.*must lie in \[0, 1\]"),
    ],
    ids=["nan", "inf", "0..255 floats", "too large", "negative", "slightly above 1"],
)
def test_as_image_refuses_float_values_outside_the_unit_range(values, message):
    with pytest.raises(NSTError, match=message):
        images.as_image(np.array([[values]], dtype=np.float32), what="the content image")


@pytest.mark.parametrize(
    "shape", [(4, 4), (4, 4, 1), (4, 4, 4), (2, 4, 4, 3), (1, 1, 4, 4, 3), (3, 4, 4)]
)
def test_as_image_names_the_expected_shape(shape):
    with pytest.raises(NSTError, match=r"expected \(H, W, 3\) or \(1, H, W, 3\)"):
        images.as_image(np.zeros(shape, np.float32))


@pytest.mark.parametrize("shape", [(0, 4, 3), (1, 4, 0, 3)])
def test_as_image_refuses_empty_images(shape):
    with pytest.raises(NSTError, match="is empty"):
        images.as_image(np.zeros(shape, np.float32))


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint16, np.bool_, np.complex64])
def test_as_image_refuses_other_dtypes_with_a_way_out(dtype):
    with pytest.raises(NSTError, match=r"has dtype \w+; pass uint8 \(0\.\.255\) or floats"):
        images.as_image(np.zeros((2, 2, 3), dtype=dtype))


@pytest.mark.parametrize("source", [[[[0.0, 0.5, 1.0]]], "photo.png", None])
def test_as_image_refuses_other_types(source):
    with pytest.raises(NSTError, match="tf.Tensor or numpy array"):
        images.as_image(source)
