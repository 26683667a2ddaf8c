"""Teaching a real-time network to hold its strokes still: training with a temporal loss.

A network trained on still photos (:mod:`.realtime`) flickers on video: a pixel's shift
or a little change of light moves its strokes. Huang et al. (2017), "Real-Time Neural
Style Transfer for Videos" (CVPR), fine-tune such a network on *pairs* of consecutive
frames: both are painted, the first painting is warped along the flow into the second's
place, and the squared difference where the flow is reliable is added to the perceptual
loss (Ruder et al.'s temporal loss, now on the network's outputs). The pairs here come from
:func:`nst_helpers.clips.synthetic_clip`, whose flow and occlusions are exact, so training
needs no video and no flow estimation: :func:`clip_pairs` films random crops of the
training photos with a random pan, zoom and a moving disc.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import tensorflow as tf

from .clips import synthetic_clip
from .flow import warp
from .realtime import PerceptualLoss, random_crops
from .temporal import temporal_loss

MAX_PAN = 4.0  # pixels a frame, each direction
MAX_ZOOM = 0.03  # scale change a frame
MAX_OBJECT_MOTION = 6.0  # pixels a frame


def clip_pairs(
    photos: Sequence[tf.Tensor], size: int, seed: int = 0
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Endless pairs of consecutive frames ``(size, size)`` with known motion.

    Each pair films a random crop of a random photo (``photos`` as for
    :func:`~nst_helpers.realtime.random_crops`) with a pan of up to :data:`MAX_PAN` pixels,
    a zoom of up to :data:`MAX_ZOOM` either way, and half of the time a disc moving by up to
    :data:`MAX_OBJECT_MOTION` pixels. Yields ``(first, second, flow, mask)``: frames
    ``(size, size, 3)`` in [0, 1], the backward flow ``(size, size, 2)`` of the second into
    the first and its reliability ``(size, size, 1)``, 0 or 1, all float32.
    """
    rng = np.random.default_rng(seed)
    crops = random_crops(photos, size + 2 * int(np.ceil(MAX_PAN)) + size // 8, seed)
    while True:
        clip = synthetic_clip(
            next(crops).numpy(),
            frames=2,
            size=(size, size),
            pan=tuple(rng.uniform(-MAX_PAN, MAX_PAN, size=2)),
            zoom=1.0 + rng.uniform(-MAX_ZOOM, MAX_ZOOM),
            object=bool(rng.random() < 0.5),
            seed=int(rng.integers(2**31)),
            object_motion=tuple(rng.uniform(-MAX_OBJECT_MOTION, MAX_OBJECT_MOTION, size=2)),
        )
        yield clip.frames[0], clip.frames[1], clip.flows[0], clip.masks[0][..., np.newaxis]


def pair_batches(
    photos: Sequence[tf.Tensor], size: int, batch: int, seed: int = 0
) -> tf.data.Dataset:
    """:func:`clip_pairs` as a ``tf.data`` pipeline of batches of ``batch`` pairs."""
    spec = [(size, size, 3), (size, size, 3), (size, size, 2), (size, size, 1)]
    pairs = tf.data.Dataset.from_generator(
        lambda: clip_pairs(photos, size, seed),
        output_signature=tuple(tf.TensorSpec(shape, tf.float32) for shape in spec),
    )
    return pairs.batch(batch, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


class SteadyLoss:
    """The perceptual loss of both frames of each pair plus ``weight`` times the temporal
    loss between their paintings: ``loss.of_network(network, (first, second, flow, mask))``
    returns the :class:`~nst_helpers.realtime.PerceptualLoss` terms of the 2B paintings and
    ``"temporal"`` (unweighted), with ``"total"`` including it."""

    def __init__(self, perceptual: PerceptualLoss, weight: float):
        self.perceptual, self.weight = perceptual, weight

    def of_network(self, network: tf.keras.Model, batch) -> dict[str, tf.Tensor]:
        first, second, flow, mask = batch
        frames = tf.concat([first, second], 0)
        painted = network(frames, training=True)
        earlier, later = tf.split(painted, 2)
        terms = self.perceptual.terms(frames, painted)
        temporal = temporal_loss(later, warp(earlier, flow), mask)
        return {**terms, "temporal": temporal, "total": terms["total"] + self.weight * temporal}
