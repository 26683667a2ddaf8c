"""Small Keras layers shared by the networks: reflection padding, padding to a multiple, and
cropping back (the real-time network, the decoder, and VGG19 with reflected borders)."""

from __future__ import annotations

import tensorflow as tf


class ReflectionPad(tf.keras.layers.Layer):
    """Pads height and width by ``size`` pixels on each side, mirroring the image (no edge
    pixel repeated): ``[a, b, c]`` padded by 1 is ``[b, a, b, c, b]``."""

    def __init__(self, size: int, **kwargs):
        super().__init__(**kwargs)
        self.size = size

    def call(self, x: tf.Tensor) -> tf.Tensor:
        p = self.size
        return tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]], mode="REFLECT")

    def get_config(self) -> dict:
        return {**super().get_config(), "size": self.size}


class PadToMultiple(tf.keras.layers.Layer):
    """Reflection-pads height and width at the bottom and right up to a multiple of ``factor``,
    so that downsampling twice and upsampling twice gives the padded size back."""

    def __init__(self, factor: int = 4, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x: tf.Tensor) -> tf.Tensor:
        shape = tf.shape(x)
        bottom, right = (-shape[1]) % self.factor, (-shape[2]) % self.factor
        return tf.pad(x, [[0, 0], [0, bottom], [0, right], [0, 0]], mode="REFLECT")

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor}


class CropLike(tf.keras.layers.Layer):
    """Crops ``x`` (first input) to the height and width of ``reference`` (second input)."""

    def call(self, inputs: list[tf.Tensor]) -> tf.Tensor:
        x, reference = inputs
        shape = tf.shape(reference)
        return x[:, : shape[1], : shape[2], :]
