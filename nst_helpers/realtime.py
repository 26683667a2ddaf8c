"""Training the image transformation network with the course's perceptual loss.

Johnson, Alahi and Fei-Fei (2016) train a feed-forward network (:mod:`.transformer`) once per
painting: for a batch of photos the network paints them, VGG19 compares the paintings with
the photos (content) and with the painting's Gram matrices (style), and the gradient changes
the *network's weights*, not the pixels. The loss is the one notebooks 04 and 05 built, on a
batch: :class:`PerceptualLoss`. Photos reach the network as random crops with scale jitter and
flips (:func:`random_crops`), and :func:`train` runs the loop with checkpoints that resume.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import tensorflow as tf

from .images import resize_to
from .losses import content_loss, gram_matrix, style_loss, total_variation_loss, weighted_total
from .settings import StyleSettings
from .vgg import FeatureExtractor


class PerceptualLoss:
    """The course's objective for a batch of photos and their paintings by the network.

    ``loss.terms(photos, painted)`` returns ``{"content", "style", "tv", "total"}`` (scalars):
    the content loss of each painting against its own photo at the content layers, the style
    loss of its Gram matrices against the painting's (computed once here), and the total
    variation, weighted by the settings' alpha, beta and gamma. Batches (B, H, W, 3) in [0, 1].
    """

    def __init__(self, extractor: FeatureExtractor, style: tf.Tensor, settings: StyleSettings):
        self.extractor, self.settings = extractor, settings
        features = extractor(style)
        self.style_targets = {name: gram_matrix(features[name]) for name in settings.style_layers}

    def terms(self, photos: tf.Tensor, painted: tf.Tensor) -> dict[str, tf.Tensor]:
        s = self.settings
        targets, features = self.extractor(photos), self.extractor(painted)
        content = tf.add_n(
            [content_loss(features[name], targets[name]) for name in s.content_layers]
        ) / len(s.content_layers)
        grams = {name: gram_matrix(features[name]) for name in s.style_layers}
        style = style_loss(grams, self.style_targets, s.layer_weights())
        tv = total_variation_loss(painted)
        total = weighted_total(content, style, tv, s.content_weight, s.style_weight, s.tv_weight)
        return {"content": content, "style": style, "tv": tv, "total": total}


def random_crops(
    photos: Sequence[tf.Tensor], size: int, seed: int = 0, jitter: float = 1.5
) -> Iterator[tf.Tensor]:
    """Endless square crops (size, size, 3) of the photos: a random photo, scaled so that its
    short side is between ``size`` and ``jitter * size`` (scale jitter), a random window of
    it, flipped left-right half of the time. Photos are (1, H, W, 3) in [0, 1]."""
    rng = np.random.default_rng(seed)
    while True:
        photo = photos[rng.integers(len(photos))]
        height, width = photo.shape[1:3]
        scale = rng.uniform(1.0, jitter) * size / min(height, width)
        scaled = resize_to(photo, max(size, round(height * scale)), max(size, round(width * scale)))
        top = rng.integers(scaled.shape[1] - size + 1)
        left = rng.integers(scaled.shape[2] - size + 1)
        crop = scaled[0, top : top + size, left : left + size, :]
        yield crop[:, ::-1, :] if rng.random() < 0.5 else crop


def photo_batches(
    photos: Sequence[tf.Tensor], size: int, batch: int, seed: int = 0
) -> tf.data.Dataset:
    """:func:`random_crops` as a ``tf.data`` pipeline of (batch, size, size, 3) batches."""
    crops = tf.data.Dataset.from_generator(
        lambda: random_crops(photos, size, seed),
        output_signature=tf.TensorSpec((size, size, 3), tf.float32),
    )
    return crops.batch(batch, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def make_train_step(
    network: tf.keras.Model, loss: PerceptualLoss, optimizer: tf.keras.optimizers.Optimizer
) -> Callable[[tf.Tensor], dict[str, tf.Tensor]]:
    """One compiled step: paint the batch, take the loss, change the network's weights."""

    @tf.function
    def step(photos: tf.Tensor) -> dict[str, tf.Tensor]:
        with tf.GradientTape() as tape:
            terms = loss.terms(photos, network(photos, training=True))
        gradients = tape.gradient(terms["total"], network.trainable_variables)
        optimizer.apply_gradients(zip(gradients, network.trainable_variables))
        return terms

    return step


def train(
    network: tf.keras.Model,
    loss: PerceptualLoss,
    batches: tf.data.Dataset,
    steps: int,
    folder: str | Path,
    learning_rate: float = 1e-3,
    checkpoint_every: int = 100,
    callback: Callable[[int, dict[str, float]], None] | None = None,
) -> list[dict[str, float]]:
    """Train ``network`` up to ``steps`` steps in all, resuming from the last checkpoint in
    ``folder`` if there is one. A checkpoint is written every ``checkpoint_every`` steps, at the
    end, and when Ctrl-C stops the run (KeyboardInterrupt is then raised again).

    Returns:
        one row of loss terms per step taken in this call (``"step"`` is the step number).
    """
    optimizer = tf.keras.optimizers.Adam(learning_rate)
    step_number = tf.Variable(0, dtype=tf.int64, name="step")
    checkpoint = tf.train.Checkpoint(network=network, optimizer=optimizer, step=step_number)
    manager = tf.train.CheckpointManager(checkpoint, str(folder), max_to_keep=2)
    checkpoint.restore(manager.latest_checkpoint)
    train_step, history, saved = make_train_step(network, loss, optimizer), [], int(step_number)
    try:
        for photos in batches.take(max(0, steps - saved)):
            terms = {name: float(value) for name, value in train_step(photos).items()}
            step_number.assign_add(1)
            history.append({"step": int(step_number), **terms})
            if callback is not None:
                callback(int(step_number), terms)
            if int(step_number) % checkpoint_every == 0:
                manager.save(checkpoint_number=step_number)
                saved = int(step_number)
    finally:
        if int(step_number) != saved:  # the steps since the last checkpoint, Ctrl-C included
            manager.save(checkpoint_number=step_number)
    return history
