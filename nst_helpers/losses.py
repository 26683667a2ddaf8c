"""The losses of Gatys, Ecker and Bethge (2015), with every normalization written out.

Notation for one layer l: the feature map F has shape (H_l, W_l, N_l); M_l = H_l W_l is
the number of positions and N_l the number of channels (filters). Images are RGB in
[0, 1] of shape (1, H, W, 3).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import tensorflow as tf


def gram_matrix(features: tf.Tensor) -> tf.Tensor:
    """Gram matrix of a feature map, normalized by the number of positions.

    .. math:: G_{cd} = \\frac{1}{M} \\sum_{i=1}^{H} \\sum_{j=1}^{W} F_{ijc} F_{ijd}, \\quad M = H W

    Dividing by M makes G an average over positions, so images of different sizes give
    comparable Gram matrices. G is symmetric and positive semi-definite.

    Args:
        features: (B, H, W, N) or (H, W, N).
    Returns:
        (B, N, N) or (N, N), float32.
    """
    features = tf.convert_to_tensor(features, tf.float32)
    shape = tf.shape(features)
    positions = tf.cast(shape[-3] * shape[-2], tf.float32)
    return tf.einsum("...ijc,...ijd->...cd", features, features) / positions


def content_loss(features: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
    """Mean squared difference of two feature maps.

    .. math:: L_{content} = \\frac{1}{M N} \\sum_{i,j,c} (F_{ijc} - P_{ijc})^2

    (Gatys et al. write ½ Σ (F − P)²; the mean makes the value independent of image size.)

    Args:
        features, target: feature maps of the same shape (B, H, W, N).
    Returns:
        scalar float32.
    """
    return tf.reduce_mean(tf.square(tf.cast(features, tf.float32) - tf.cast(target, tf.float32)))


def style_layer_loss(gram: tf.Tensor, target_gram: tf.Tensor) -> tf.Tensor:
    """Mean squared difference of two Gram matrices (N x N).

    .. math:: E_l = \\frac{1}{N_l^2} \\sum_{c,d} (G_{cd} - A_{cd})^2

    With G normalized by M_l, Gatys et al.'s 1/(4 N² M²) Σ (G_raw − A_raw)² equals E_l / 4.
    """
    return tf.reduce_mean(tf.square(gram - target_gram))


def style_loss(
    grams: Mapping[str, tf.Tensor],
    target_grams: Mapping[str, tf.Tensor],
    layer_weights: Mapping[str, float] | None = None,
) -> tf.Tensor:
    """Weighted sum of per-layer style losses.

    .. math:: L_{style} = \\sum_l w_l E_l, \\quad w_l = 1 / L \\text{ by default}

    Args:
        grams: layer name -> Gram matrix of the generated image.
        target_grams: layer name -> Gram matrix of the style image (same keys).
        layer_weights: layer name -> w_l; missing layers get weight 0. Default: equal
            weights 1/L over the L layers of ``grams``.
    Returns:
        scalar float32.
    """
    if layer_weights is None:
        layer_weights = {name: 1.0 / len(grams) for name in grams}
    total = tf.constant(0.0)
    for name, gram in grams.items():
        weight = float(layer_weights.get(name, 0.0))
        if weight:
            total += weight * style_layer_loss(gram, target_grams[name])
    return total


def balanced_layer_weights(start_losses: Mapping[str, float]) -> dict[str, float]:
    """Style layer weights that give every layer the same share of the style loss at the start.

    .. math:: w_l = \\frac{1}{L \\, E^0_l}, \\quad \\text{so that} \\quad w_l E^0_l = \\frac{1}{L}

    where E^0_l is layer l's style loss (:func:`style_layer_loss`) at the image the
    optimization starts from and L the number of layers. The weighted style loss is then the
    mean over the layers of each layer's loss relative to its start (the equal weights 1/L,
    applied to relative errors): it is 1 at the start, and no layer dominates only because
    its numbers are large. This is the course's rule; Gatys et al. instead rescale VGG19's
    filters so that each has mean activation 1, and weight the layers equally.

    Args:
        start_losses: layer name -> E_l at the start image (finite, > 0); its keys are
            the layers to use.
    Returns:
        layer name -> w_l, for ``style_loss`` or ``StyleSettings.style_layer_weights``.
    Raises:
        ValueError: if there are no layers, or a loss is not finite and positive.
    """
    if not start_losses:
        raise ValueError("give the start loss of at least one style layer")
    bad = {name: loss for name, loss in start_losses.items() if not 0 < float(loss) < math.inf}
    if bad:
        raise ValueError(f"start losses must be finite and > 0, not {bad}")
    count = len(start_losses)
    return {name: 1.0 / (count * float(loss)) for name, loss in start_losses.items()}


def total_variation_loss(image: tf.Tensor) -> tf.Tensor:
    """Mean absolute difference between neighbouring pixels (rewards smooth images).

    .. math:: L_{tv} = \\frac{1}{(H-1) W C} \\sum |x_{i+1,j,c} - x_{i,j,c}|
                      + \\frac{1}{H (W-1) C} \\sum |x_{i,j+1,c} - x_{i,j,c}|

    Args:
        image: (B, H, W, C) in [0, 1].
    Returns:
        scalar float32; 0 for a constant image, at most 2.
    """
    image = tf.convert_to_tensor(image, tf.float32)
    down = tf.reduce_mean(tf.abs(image[:, 1:, :, :] - image[:, :-1, :, :]))
    right = tf.reduce_mean(tf.abs(image[:, :, 1:, :] - image[:, :, :-1, :]))
    return down + right


def weighted_total(
    content: tf.Tensor,
    style: tf.Tensor,
    tv: tf.Tensor,
    content_weight: float,
    style_weight: float,
    tv_weight: float,
) -> tf.Tensor:
    """The objective that is minimized:

    .. math:: L = \\alpha L_{content} + \\beta L_{style} + \\gamma L_{tv}
    """
    return content_weight * content + style_weight * style + tv_weight * tv
