"""Photos to train real-time networks on, offline or from a folder of your own, with credits.

Offline, the photos come from installed packages: scikit-image's astronaut, chelsea, coffee,
rocket and motorcycle, scikit-learn's china and flower, and matplotlib's Grace Hopper. Tübingen, the
course's photo, is kept out of training, so that the networks are judged on a photo they
never saw. ``training_photos(folder)`` reads every image in a folder instead.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from .data import resolve_image
from .errors import NSTError
from .images import IMAGE_SUFFIXES, load_image, open_rgb, resize_max_dim

HELD_OUT = "tubingen"
"""The course's photo, never used for training."""


@dataclass(frozen=True)
class PackagedPhoto:
    """A photo that an installed package ships: where to find it and whose it is."""

    name: str
    package: str
    credit: str
    load: Callable[[], np.ndarray]


def _skimage(name: str) -> Callable[[], np.ndarray]:
    return lambda: getattr(importlib.import_module("skimage.data"), name)()


def _sklearn(index: int) -> Callable[[], np.ndarray]:
    datasets = "sklearn.datasets"
    return lambda: importlib.import_module(datasets).load_sample_images().images[index]


def _catalogue(name: str) -> Callable[[], np.ndarray]:
    return lambda: open_rgb(resolve_image(name))


PACKAGED_PHOTOS = [
    PackagedPhoto(
        "astronaut", "scikit-image", "Eileen Collins, NASA; public domain", _skimage("astronaut")
    ),
    PackagedPhoto("chelsea", "scikit-image", "Stefan van der Walt; CC0", _skimage("chelsea")),
    PackagedPhoto("coffee", "scikit-image", "Rachel Michetti; CC0", _skimage("coffee")),
    PackagedPhoto("rocket", "scikit-image", "SpaceX; public domain", _skimage("rocket")),
    PackagedPhoto(
        "motorcycle",
        "scikit-image",
        "Middlebury 2014 stereo benchmark (Scharstein et al.); shipped in scikit-image's data",
        lambda: _skimage("stereo_motorcycle")()[0],
    ),
    PackagedPhoto("china", "scikit-learn", "danielbuechele on Flickr; CC BY 2.0", _sklearn(0)),
    PackagedPhoto("flower", "scikit-learn", "vultilion on Flickr; CC BY 2.0", _sklearn(1)),
    PackagedPhoto(
        "grace_hopper",
        "matplotlib",
        "James S. Davis, U.S. Navy; public domain",
        _catalogue("grace_hopper"),  # bundled with matplotlib
    ),
]
"""Photos from installed packages, with their credits (from the packages' own notes)."""


def as_pixels(image: tf.Tensor) -> tf.Tensor:
    """(1, H, W, 3) floats in [0, 1] -> uint8: a quarter of the memory (2000 photos at 512 px
    take 1.2 GB instead of 4.7 GB). :func:`~nst_helpers.realtime.random_crops` takes both."""
    return tf.cast(tf.round(tf.clip_by_value(image, 0.0, 1.0) * 255.0), tf.uint8)


def packaged_photos(max_dim: int = 512) -> tuple[list[tf.Tensor], list[str]]:
    """The :data:`PACKAGED_PHOTOS` whose package is installed, each (1, H, W, 3) uint8
    with its longest side at most ``max_dim``, and one credit line each."""
    photos, credits = [], []
    for photo in PACKAGED_PHOTOS:
        try:
            pixels = photo.load()
        except ImportError:
            continue
        image = tf.constant(pixels[None, ..., :3], tf.uint8)
        if max(image.shape[1:3]) > max_dim:
            image = as_pixels(resize_max_dim(tf.cast(image, tf.float32) / 255.0, max_dim))
        photos.append(image)
        credits.append(f"{photo.name} ({photo.package}): {photo.credit}")
    return photos, credits


def folder_photos(folder: str | Path, max_dim: int = 512) -> tuple[list[tf.Tensor], list[str]]:
    """Every image file in ``folder`` (not its subfolders), sorted by name, as (1, H, W, 3)
    uint8, and its file name as the credit. Raises NSTError when the folder has none."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise NSTError(f"{folder} is not a folder of photos")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise NSTError(f"{folder} holds no image files ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return [as_pixels(load_image(path, max_dim)) for path in files], [path.name for path in files]


def training_photos(
    folder: str | Path | None = None, max_dim: int = 512
) -> tuple[list[tf.Tensor], list[str]]:
    """Photos to train on and their credits: the images in ``folder``, or else the packaged
    photos. Raises NSTError when there are none."""
    if folder is not None:
        return folder_photos(folder, max_dim)
    photos, credits = packaged_photos(max_dim)
    if not photos:
        raise NSTError(
            "no training photos: install scikit-image or scikit-learn, or give a folder of photos"
        )
    return photos, credits
