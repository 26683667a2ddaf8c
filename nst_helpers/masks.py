"""Spatial control: a mask chooses where a style goes (the spatial control of Gatys, Ecker,
Bethge, Hertzmann and Shechtman, CVPR 2017; the masked Gram matrix below, normalised by the
mask's total weight, is this course's choice: the paper multiplies the feature maps by a
guidance channel).

A mask is a (1, H, W, 1) float tensor in [0, 1] of the content image's size: 1 where the
style applies, 0 where it does not. For each style layer the mask is resized to the
layer's resolution, and the Gram matrix is taken over the masked positions only:

.. math:: G^m_{cd} = \\frac{\\sum_{ij} m_{ij} F_{ijc} F_{ijd}}{\\sum_{ij} m_{ij}}

so that the region's texture statistics are compared with the style's. Outside every
mask only the content loss acts, so the photo stays as it is there.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from .color import RGB_TO_YIQ
from .errors import NSTError
from .images import open_rgb

ASPECT_TOLERANCE = 0.02  # relative difference of width/height allowed between mask and content


def as_mask(mask, height: int, width: int) -> tf.Tensor:
    """Turn a mask into a (1, height, width, 1) float32 tensor in [0, 1].

    Args:
        mask: a file path (any image; its luminance is used, white = 1), or an array or
            tensor of shape (H, W), (H, W, 1), (1, H, W) or (1, H, W, 1), values in [0, 1]
            (or 0..255 for uint8).
        height, width: the content image's size in pixels.
    Raises:
        NSTError: if the mask's aspect ratio differs from the content's (a mask of the wrong
            size), or its values are outside [0, 1].
    """
    if isinstance(mask, (str, bytes)) or hasattr(mask, "__fspath__"):
        rgb = open_rgb(mask).astype(np.float32) / 255.0
        array = rgb @ RGB_TO_YIQ[0]  # the luminance Y
    else:
        array = np.asarray(mask)
        array = (
            array.astype(np.float32) / 255.0
            if array.dtype == np.uint8
            else array.astype(np.float32)
        )
    array = np.squeeze(array)
    if array.ndim != 2:
        raise NSTError(f"a mask must be one 2-D image, not an array of shape {np.shape(mask)}")
    if not np.isfinite(array).all() or array.min() < 0 or array.max() > 1:
        raise NSTError("mask values must lie in [0, 1] (white = style, black = no style)")
    mask_h, mask_w = array.shape
    if abs((mask_w / mask_h) / (width / height) - 1) > ASPECT_TOLERANCE:
        raise NSTError(
            f"the mask is {mask_w}x{mask_h} but the content image is {width}x{height}: "
            "a mask must have the content image's size (or at least its aspect ratio)"
        )
    tensor = tf.constant(array)[tf.newaxis, :, :, tf.newaxis]
    return tf.clip_by_value(tf.image.resize(tensor, (height, width), method="area"), 0.0, 1.0)


def masked_gram_matrix(features: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
    """Gram matrix over the masked positions, normalized by the mask's total weight.

    Args:
        features: (1, H_l, W_l, N) feature map.
        mask: (1, H, W, 1) in [0, 1], any size; resized to (H_l, W_l) by area averaging.
    Returns:
        (1, N, N); equals :func:`nst_helpers.losses.gram_matrix` for an all-ones mask.
    """
    size = tf.shape(features)[1:3]
    small = tf.image.resize(mask, size, method="area")
    weighted = features * small
    total = tf.maximum(tf.reduce_sum(small), 1e-6)
    return tf.einsum("bijc,bijd->bcd", weighted, features) / total


def threshold_mask(
    image: tf.Tensor, channel: str = "luminance", threshold: float = 0.5, above: bool = True
) -> tf.Tensor:
    """A simple mask by thresholding one channel: (1, H, W, 1) of 0s and 1s.

    ``channel`` is ``"luminance"``, ``"red"``, ``"green"``, ``"blue"`` or ``"blueness"``
    (blue minus the mean of red and green: high for sky and water).
    """
    image = tf.convert_to_tensor(image, tf.float32)
    r, g, b = image[..., 0], image[..., 1], image[..., 2]
    values = {
        "luminance": tf.tensordot(image, RGB_TO_YIQ[0], axes=1),
        "red": r,
        "green": g,
        "blue": b,
        "blueness": b - (r + g) / 2,
    }
    if channel not in values:
        raise NSTError(f"channel must be one of {list(values)}, not {channel!r}")
    chosen = values[channel]
    mask = chosen > threshold if above else chosen < threshold
    return tf.cast(mask, tf.float32)[..., tf.newaxis]
