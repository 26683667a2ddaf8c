"""Any style in one pass: give the photo's VGG19 features the painting's statistics.

Notebook 03 described a painting's style by the Gram matrices of its features, and notebook
05 matched them by optimizing the pixels. Two later methods match feature statistics in one
step instead, and then need only a decoder that turns features back into an image:

- **AdaIN** (Huang and Belongie 2017, *Arbitrary Style Transfer in Real-time with Adaptive
  Instance Normalization*, Eq. 8) gives each channel of the photo's features the painting's
  mean and standard deviation;
- the **whitening and colouring transform** (Li et al. 2017, *Universal Style Transfer via
  Feature Transforms*, Section 3.2) gives them the painting's whole covariance matrix (the
  centred Gram matrix): it first removes the photo's own correlations (whitening), then puts
  the painting's in (colouring).

Features are (B, H, W, C); the photo's and the painting's may differ in H and W. ``alpha``
blends the result with the photo's features: 0 gives them back, 1 is the full transform.
"""

from __future__ import annotations

import tensorflow as tf

from .errors import NSTError

EPS = 1e-5


def _check(content: tf.Tensor, style: tf.Tensor, alpha: float) -> None:
    if content.shape.rank != 4 or style.shape.rank != 4:
        raise NSTError(f"features must be (B, H, W, C), not {content.shape} and {style.shape}")
    if content.shape[-1] != style.shape[-1]:
        raise NSTError(
            f"the photo's features have {content.shape[-1]} channels and the painting's "
            f"{style.shape[-1]}: take both from the same layer"
        )
    if not 0.0 <= float(alpha) <= 1.0:
        raise NSTError(f"alpha must be between 0 and 1, not {alpha}")


def channel_statistics(features: tf.Tensor, eps: float = EPS) -> tuple[tf.Tensor, tf.Tensor]:
    """Each image's per-channel mean and standard deviation over its positions, (B, 1, 1, C)
    each; ``eps`` is added to the variance so that a flat channel has no zero deviation."""
    mean, variance = tf.nn.moments(features, axes=[1, 2], keepdims=True)
    return mean, tf.sqrt(variance + eps)


def adain(content: tf.Tensor, style: tf.Tensor, alpha: float = 1.0, eps: float = EPS):
    """Adaptive instance normalization:

    .. math:: \\mathrm{AdaIN}(x, y) = \\sigma(y) \\frac{x - \\mu(x)}{\\sigma(x)} + \\mu(y)

    per image and channel, then ``alpha * AdaIN + (1 - alpha) * x``. (B, H, W, C) each.
    """
    content, style = tf.convert_to_tensor(content), tf.convert_to_tensor(style)
    _check(content, style, alpha)
    content_mean, content_std = channel_statistics(content, eps)
    style_mean, style_std = channel_statistics(style, eps)
    transformed = style_std * (content - content_mean) / content_std + style_mean
    return alpha * transformed + (1.0 - alpha) * content


def _centred(features: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """One image's features (H, W, C) as centred columns (C, H W), float64, and their mean."""
    flat = tf.transpose(tf.reshape(tf.cast(features, tf.float64), [-1, features.shape[-1]]))
    mean = tf.reduce_mean(flat, axis=1, keepdims=True)
    return flat - mean, mean


def _covariance_power(centred: tf.Tensor, power: float, eps: float) -> tf.Tensor:
    """(cov + eps I) ** power for the covariance of centred columns (C, N), by its eigenvectors."""
    count = tf.cast(tf.shape(centred)[1] - 1, tf.float64)
    covariance = centred @ tf.transpose(centred) / count
    covariance += eps * tf.eye(centred.shape[0], dtype=tf.float64)
    values, vectors = tf.linalg.eigh(covariance)
    return vectors @ tf.linalg.diag(tf.maximum(values, eps) ** power) @ tf.transpose(vectors)


def _wct_one(content: tf.Tensor, style: tf.Tensor, eps: float) -> tf.Tensor:
    """Whitening and colouring for one image: (H, W, C) -> (H, W, C), float32."""
    centred, _ = _centred(content)
    whitened = _covariance_power(centred, -0.5, eps) @ centred  # covariance ~ identity
    style_centred, style_mean = _centred(style)
    coloured = _covariance_power(style_centred, 0.5, eps) @ whitened + style_mean
    return tf.reshape(tf.cast(tf.transpose(coloured), tf.float32), tf.shape(content))


def whiten_colour(content: tf.Tensor, style: tf.Tensor, alpha: float = 1.0, eps: float = EPS):
    """The whitening and colouring transform: the photo's features with the painting's mean
    and covariance (per image; the painting's batch is 1 or the photo's), then
    ``alpha * WCT + (1 - alpha) * x``. (B, H, W, C) each."""
    content, style = tf.convert_to_tensor(content), tf.convert_to_tensor(style)
    _check(content, style, alpha)
    styles = [style[0]] * content.shape[0] if style.shape[0] == 1 else list(style)
    if len(styles) != content.shape[0]:
        raise NSTError(f"give one painting or {content.shape[0]}, not {style.shape[0]}")
    transformed = tf.stack([_wct_one(x, y, eps) for x, y in zip(content, styles)])
    return alpha * transformed + (1.0 - alpha) * content
