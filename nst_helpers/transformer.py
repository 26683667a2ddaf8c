"""The image transformation network of real-time style transfer (Johnson, Alahi and Fei-Fei 2016).

A feed-forward network that paints a photo in one pass, trained once per painting with the
course's perceptual loss. The architecture follows Johnson et al. (their supplementary
material), with three later improvements that have become standard:

- **instance normalization** instead of batch normalization (Ulyanov, Vedaldi and Lempitsky
  2016): each image's feature maps are normalized on their own, which gives far better
  stylizations;
- **reflection padding** before every convolution, so the borders get no dark frame;
- **nearest-neighbour upsampling followed by a convolution** instead of transposed
  convolutions, which leave checkerboard artefacts (Odena, Dumoulin and Olah 2016).

Layout: a 9x9 convolution, two 3x3 convolutions of stride 2 (down to a quarter of the size),
five residual blocks, two upsampling blocks and a 9x9 convolution back to RGB. ``width="full"``
has 32/64/128 channels, ``"half"`` 16/32/64 (about a quarter of the work). Any image size works:
the input is padded by reflection to a multiple of 4 and the output cropped back.
"""

from __future__ import annotations

import os
from pathlib import Path

import tensorflow as tf

from .arbitrary import channel_statistics
from .errors import NSTError
from .layers import CropLike, PadToMultiple, ReflectionPad
from .netfiles import load_float16, save_float16

WIDTHS = {"full": (32, 64, 128), "half": (16, 32, 64)}
"""Channels of the three resolutions, by width option."""

RESIDUAL_BLOCKS = 5


class InstanceNorm(tf.keras.layers.Layer):
    """Normalizes each image's channels over height and width, then scales and shifts them:
    ``gamma * (x - mean) / sqrt(var + eps) + beta``, with one learned gamma and beta per
    channel. Input and output (B, H, W, C)."""

    def __init__(self, epsilon: float = 1e-5, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def build(self, input_shape) -> None:
        channels = input_shape[-1]
        self.gamma = self.add_weight(name="gamma", shape=(channels,), initializer="ones")
        self.beta = self.add_weight(name="beta", shape=(channels,), initializer="zeros")

    def call(self, x: tf.Tensor) -> tf.Tensor:
        mean, deviation = channel_statistics(x, self.epsilon)  # AdaIN's statistics too
        return self.gamma * (x - mean) / deviation + self.beta

    def get_config(self) -> dict:
        return {**super().get_config(), "epsilon": self.epsilon}


CUSTOM_LAYERS = {
    "ReflectionPad": ReflectionPad,
    "InstanceNorm": InstanceNorm,
    "PadToMultiple": PadToMultiple,
    "CropLike": CropLike,
}
"""The layers a saved transformer needs to be loaded again (``custom_objects``)."""


def conv_block(x: tf.Tensor, filters: int, kernel: int, stride: int, name: str, relu: bool = True):
    """Reflection padding, a convolution, instance normalization and (optionally) a ReLU."""
    x = ReflectionPad(kernel // 2, name=f"{name}_pad")(x)
    x = tf.keras.layers.Conv2D(filters, kernel, stride, name=f"{name}_conv")(x)
    x = InstanceNorm(name=f"{name}_norm")(x)
    return tf.keras.layers.ReLU(name=f"{name}_relu")(x) if relu else x


def residual_block(x: tf.Tensor, filters: int, name: str) -> tf.Tensor:
    """Two 3x3 conv blocks (the second without ReLU), added to the block's input."""
    y = conv_block(x, filters, 3, 1, f"{name}_a")
    y = conv_block(y, filters, 3, 1, f"{name}_b", relu=False)
    return tf.keras.layers.Add(name=f"{name}_add")([x, y])


def upsample_block(x: tf.Tensor, filters: int, name: str) -> tf.Tensor:
    """Nearest-neighbour upsampling by 2, then a 3x3 conv block (no transposed convolution)."""
    x = tf.keras.layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_up")(x)
    return conv_block(x, filters, 3, 1, name)


def build_transformer(width: str = "full") -> tf.keras.Model:
    """The image transformation network: RGB in [0, 1], shape (B, H, W, 3), any H and W ->
    the painted image, same shape, in [0, 1]."""
    if width not in WIDTHS:
        raise NSTError(f"width must be one of {list(WIDTHS)}, not {width!r}")
    c1, c2, c3 = WIDTHS[width]
    photo = tf.keras.Input(shape=(None, None, 3), name="photo")
    x = PadToMultiple(4, name="pad_to_4")(photo)
    x = conv_block(x, c1, 9, 1, "in")
    x = conv_block(x, c2, 3, 2, "down1")
    x = conv_block(x, c3, 3, 2, "down2")
    for index in range(1, RESIDUAL_BLOCKS + 1):
        x = residual_block(x, c3, f"res{index}")
    x = upsample_block(x, c2, "up1")
    x = upsample_block(x, c1, "up2")
    x = ReflectionPad(4, name="out_pad")(x)
    x = tf.keras.layers.Conv2D(3, 9, name="out_conv")(x)
    x = tf.keras.layers.Activation("sigmoid", name="to_pixels")(x)  # pixels in (0, 1)
    painted = CropLike(name="crop")([x, photo])
    return tf.keras.Model(photo, painted, name=f"transformer_{width}")


def save_network(
    network: tf.keras.Model, path: str | os.PathLike, about: dict, overwrite: bool = False
) -> Path:
    """Save a trained network's weights as float16 ``.npz`` with a JSON beside it: the width
    and ``about`` (style, training data, steps, hardware...). Overwrites only when told."""
    width = network.name.removeprefix("transformer_")  # build_transformer names it so
    if width not in WIDTHS:
        raise NSTError(f"{network.name} was not made by build_transformer; it cannot be saved")
    return save_float16(network, path, {"width": width, **about}, overwrite)


def load_network(path: str | os.PathLike) -> tuple[tf.keras.Model, dict]:
    """A network saved by :func:`save_network`, and its JSON record."""
    return load_float16(path, lambda record: build_transformer(record["width"]))
