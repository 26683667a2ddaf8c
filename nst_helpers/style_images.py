"""Style images for training the any-style decoder: paintings, and textures without end.

Huang and Belongie (2017) trained on about 80,000 paintings from WikiArt; offline, the course
has five. The decoder must learn to paint from *any* feature statistics, so most of its
style images here are procedural textures (:mod:`.textures`) made fresh for every crop, with
a random seed, a random stroke scale and a random palette: an endless, copyright-free supply.
The paintings of :data:`TRAINING_PAINTINGS` are mixed in; those of :data:`UNSEEN_PAINTINGS`
are never used, so that the decoder is judged on paintings it did not see.

``pair_batches(photos, paintings, size, batch)`` is the ``tf.data`` pipeline of (photos,
styles) batches that :func:`nst_helpers.realtime.train` takes with
:class:`~nst_helpers.decoder.AdaINLoss`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import tensorflow as tf
from matplotlib.colors import hsv_to_rgb

from .errors import NSTError
from .realtime import random_crops
from .textures import TEXTURES, make_texture

TRAINING_PAINTINGS = ("starry_night", "wave", "shipwreck")
"""The course's paintings that the decoder trains on."""

UNSEEN_PAINTINGS = ("woman_with_hat", "udnie")
"""The course's paintings kept out of training, to judge the decoder on."""


def random_palette(rng: np.random.Generator, colours: int = 5) -> np.ndarray:
    """``colours`` random colours (n, 3) in [0, 1], dark to light: hues around a random one
    (a narrow or a wide spread), random saturation."""
    if colours < 2:
        raise NSTError(f"a palette needs at least 2 colours, not {colours}")
    spread = rng.uniform(0.03, 0.5)
    hues = (rng.uniform() + rng.uniform(-spread, spread, colours)) % 1.0
    saturation = rng.uniform(0.2, 1.0, colours)
    value = np.sort(rng.uniform(0.08, 1.0, colours))
    return hsv_to_rgb(np.stack([hues, saturation, value], axis=1))


def recolour(texture: np.ndarray, palette: np.ndarray, amount: float = 1.0) -> np.ndarray:
    """The texture (H, W, 3) uint8 painted in the palette's colours: each pixel's brightness
    (stretched to [0, 1]) picks a colour along the palette, mixed in by ``amount``."""
    image = texture.astype(np.float32) / 255.0
    light = image.mean(axis=-1)
    light = (light - light.min()) / (np.ptp(light) + 1e-6)
    position = light * (len(palette) - 1)
    below = np.minimum(position.astype(int), len(palette) - 2)
    mix = (position - below)[..., None]
    coloured = palette[below] * (1 - mix) + palette[below + 1] * mix
    out = (1 - amount) * image + amount * coloured
    return np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8)


def random_texture(rng: np.random.Generator, size: int) -> np.ndarray:
    """One new texture (size, size, 3) uint8: a random kind and seed (never seed 0, the
    course's own styles) made at another size and resized to ``size``, so that its strokes
    are from half to twice their usual size, a random palette
    (a third of the time the texture's own colours are kept)."""
    name = list(TEXTURES)[rng.integers(len(TEXTURES))]
    scale = float(np.exp(rng.uniform(np.log(0.5), np.log(2.0))))
    made = make_texture(name, max(32, round(size / scale)), int(rng.integers(1, 2**31)))
    texture = tf.image.resize(made, (size, size), "area" if scale < 1 else "bilinear")
    texture = texture.numpy().round().astype(np.uint8)
    if rng.random() < 1 / 3:
        return texture
    return recolour(texture, random_palette(rng), amount=rng.uniform(0.6, 1.0))


def style_crops(
    paintings: Sequence[tf.Tensor], size: int, seed: int = 0, texture_share: float = 0.6
) -> Iterator[tf.Tensor]:
    """Endless style images (size, size, 3) in [0, 1]: a new random texture with probability
    ``texture_share``, else a random crop of one of the paintings (1, H, W, 3), scaled so that
    the crop holds from a third to all of its short side."""
    rng = np.random.default_rng(seed)
    crops = random_crops(paintings, size, seed, jitter=3.0) if paintings else None
    while True:
        if crops is None or rng.random() < texture_share:
            yield tf.constant(random_texture(rng, size), tf.float32) / 255.0
        else:
            yield next(crops)


def pair_batches(
    photos: Sequence[tf.Tensor],
    paintings: Sequence[tf.Tensor],
    size: int,
    batch: int,
    seed: int = 0,
    texture_share: float = 0.6,
) -> tf.data.Dataset:
    """(photos, styles) batches, each (batch, size, size, 3) in [0, 1]: random crops of the
    photos (:func:`~nst_helpers.realtime.random_crops`) and :func:`style_crops`."""
    spec = tf.TensorSpec((size, size, 3), tf.float32)
    photo_set = tf.data.Dataset.from_generator(
        lambda: random_crops(photos, size, seed), output_signature=spec
    )
    style_set = tf.data.Dataset.from_generator(
        lambda: style_crops(paintings, size, seed + 1, texture_share), output_signature=spec
    )
    pairs = tf.data.Dataset.zip((photo_set, style_set))
    return pairs.batch(batch, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
