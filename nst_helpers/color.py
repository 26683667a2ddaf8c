"""Keeping the photo's colours: Gatys, Bethge, Hertzmann and Shechtman (2016), "Preserving
Color in Neural Artistic Style Transfer" (arXiv:1606.05897), and the colour control of Gatys,
Ecker, Bethge, Hertzmann and Shechtman (CVPR 2017), "Controlling Perceptual Factors in Neural
Style Transfer".

Two methods:

* **Luminance-only transfer**: split images into luminance Y and colour (I, Q) with the
  YIQ transform, stylize only the luminance, then put the content's I and Q back. The
  style's luminance is first matched to the content's mean and standard deviation.
* **Colour histogram matching**: before the transfer, recolour the style image with an
  affine map ``x -> A (x - mu_s) + mu_c`` so that its per-channel mean and its 3x3 colour
  covariance equal the content's; ``A = C_c^{1/2} C_s^{-1/2}`` with symmetric square roots.

Images are RGB in [0, 1] of shape (1, H, W, 3).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from .images import resize_to

PRESERVE_COLORS = ("luminance", "histogram")

# NTSC YIQ: rows give Y, I, Q as combinations of R, G, B.
RGB_TO_YIQ = np.array(
    [
        [0.299, 0.587, 0.114],
        [0.595716, -0.274453, -0.321263],
        [0.211456, -0.522591, 0.311135],
    ],
    dtype=np.float32,
)
YIQ_TO_RGB = np.linalg.inv(RGB_TO_YIQ).astype(np.float32)


def rgb_to_yiq(image: tf.Tensor) -> tf.Tensor:
    """(..., 3) RGB -> (..., 3) YIQ; Y in [0, 1], I in about [-0.6, 0.6], Q in about [-0.5, 0.5]."""
    return tf.tensordot(tf.convert_to_tensor(image, tf.float32), RGB_TO_YIQ.T, axes=1)


def yiq_to_rgb(image: tf.Tensor) -> tf.Tensor:
    """Inverse of :func:`rgb_to_yiq` (not clipped)."""
    return tf.tensordot(tf.convert_to_tensor(image, tf.float32), YIQ_TO_RGB.T, axes=1)


def luminance_image(image: tf.Tensor) -> tf.Tensor:
    """The luminance Y repeated in three channels: a grey (1, H, W, 3) image VGG can read."""
    y = rgb_to_yiq(image)[..., :1]
    return tf.repeat(y, 3, axis=-1)


def match_luminance(style: tf.Tensor, content: tf.Tensor) -> tf.Tensor:
    """Grey image of the style's luminance shifted and scaled to the content's mean and std."""
    y_style = rgb_to_yiq(style)[..., :1]
    y_content = rgb_to_yiq(content)[..., :1]
    scale = tf.math.reduce_std(y_content) / (tf.math.reduce_std(y_style) + 1e-6)
    matched = (y_style - tf.reduce_mean(y_style)) * scale + tf.reduce_mean(y_content)
    return tf.repeat(tf.clip_by_value(matched, 0.0, 1.0), 3, axis=-1)


def combine_luminance(stylized: tf.Tensor, content: tf.Tensor) -> tf.Tensor:
    """RGB image with the luminance of ``stylized`` and the I, Q colour channels of ``content``.

    Both (1, H, W, 3) of the same size. Clipped to [0, 1]; clipping changes I and Q only
    where the combined colour falls outside the RGB cube.
    """
    y = rgb_to_yiq(stylized)[..., :1]
    iq = rgb_to_yiq(content)[..., 1:]
    return tf.clip_by_value(yiq_to_rgb(tf.concat([y, iq], axis=-1)), 0.0, 1.0)


def _symmetric_power(matrix: np.ndarray, power: float) -> np.ndarray:
    values, vectors = np.linalg.eigh(matrix)
    values = np.maximum(values, 1e-8)
    return (vectors * values**power) @ vectors.T


def match_color_histogram(style: tf.Tensor, content: tf.Tensor, clip: bool = True) -> tf.Tensor:
    """Recolour ``style`` so its colour mean and covariance equal ``content``'s.

    Args:
        style: (1, H_s, W_s, 3) in [0, 1].
        content: (1, H_c, W_c, 3) in [0, 1]; sizes may differ.
        clip: clip the result to [0, 1] (moments then match only approximately).
    Returns:
        (1, H_s, W_s, 3) float32.
    """
    s = np.asarray(style, np.float64).reshape(-1, 3)
    c = np.asarray(content, np.float64).reshape(-1, 3)
    mu_s, mu_c = s.mean(0), c.mean(0)
    cov_s, cov_c = np.cov(s, rowvar=False), np.cov(c, rowvar=False)
    transform = _symmetric_power(cov_c, 0.5) @ _symmetric_power(cov_s, -0.5)
    matched = (s - mu_s) @ transform.T + mu_c
    if clip:
        matched = np.clip(matched, 0.0, 1.0)
    return tf.constant(matched.reshape(np.shape(style)), tf.float32)


def prepare(
    mode: str | None, content: tf.Tensor, styles: list[tf.Tensor]
) -> tuple[tf.Tensor, list[tf.Tensor]]:
    """The photo and paintings the optimization sees for a colour ``mode``.

    ``"luminance"``: grey images (the photo's luminance; each painting's luminance matched
    to the photo's mean and spread). ``"histogram"``: the paintings recoloured to the
    photo's colours. ``None``: unchanged.
    """
    if mode == "luminance":
        return luminance_image(content), [match_luminance(s, content) for s in styles]
    if mode == "histogram":
        return content, [match_color_histogram(s, content) for s in styles]
    return content, list(styles)


def finish(mode: str | None, image: tf.Tensor, content: tf.Tensor) -> tf.Tensor:
    """What the user sees: in ``"luminance"`` mode the photo's colours put back on ``image``."""
    if mode != "luminance":
        return image
    return combine_luminance(image, resize_to(content, *image.shape[1:3]))
