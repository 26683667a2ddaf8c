"""Training the image transformation network with the course's perceptual loss.

Johnson, Alahi and Fei-Fei (2016) train a feed-forward network (:mod:`.transformer`) once per
painting: for a batch of photos the network paints them, VGG19 compares the paintings with
the photos (content) and with the painting's Gram matrices (style), and the gradient changes
the *network's weights*, not the pixels. The loss is the one notebooks 04 and 05 built, on a
batch: :class:`PerceptualLoss`. Photos reach the network as random crops with scale jitter and
flips (:func:`random_crops`), and :func:`train` runs the loop with checkpoints that resume,
on one device or several (``tf.distribute``). :class:`TrainSettings` holds its options.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import tensorflow as tf

from .errors import NSTError
from .images import resize_to
from .losses import content_loss, gram_matrix, style_loss, total_variation_loss, weighted_total
from .settings import StyleSettings
from .transformer import WIDTHS
from .validate import SettingError, finite_number, positive_int
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

    def of_network(self, network: tf.keras.Model, photos: tf.Tensor) -> dict[str, tf.Tensor]:
        """The terms for a batch of photos painted by ``network`` (what :func:`train` calls)."""
        return self.terms(photos, network(photos, training=True))


class NetworkLoss(Protocol):
    """What :func:`train` needs of a loss: its terms (``"total"`` among them) for one batch
    of the data set passed through the network being trained."""

    def of_network(self, network: tf.keras.Model, batch) -> dict[str, tf.Tensor]: ...


def random_crops(
    photos: Sequence[tf.Tensor], size: int, seed: int = 0, jitter: float = 1.5
) -> Iterator[tf.Tensor]:
    """Endless square crops (size, size, 3) of the photos: a random photo, scaled so that its
    short side is between ``size`` and ``jitter * size`` (scale jitter), a random window of
    it, flipped left-right half of the time. Photos are (1, H, W, 3), uint8 or floats in
    [0, 1]; crops are floats in [0, 1]."""
    rng = np.random.default_rng(seed)
    while True:
        photo = photos[rng.integers(len(photos))]
        if photo.dtype == tf.uint8:
            photo = tf.cast(photo, tf.float32) / 255.0
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


@dataclass(frozen=True)
class TrainSettings:
    """The options of a training run (the loss weights are a :class:`StyleSettings`).

    ``size`` is the side of the square training crops in pixels, ``batch`` the photos per
    step (over all devices), ``style_size`` the painting's longest side in pixels.
    ``temporal_weight`` above 0 trains on pairs of video frames instead of photos
    (:mod:`.steady`): ``batch`` pairs of ``size`` px, with that weight on the temporal loss.
    """

    steps: int = 2000
    size: int = 256
    batch: int = 4
    style_size: int = 512
    width: str = "half"
    learning_rate: float = 1e-3
    checkpoint_every: int = 100
    seed: int = 0
    temporal_weight: float = 0.0

    def __post_init__(self):
        positive_int(self.steps, "steps", high=1_000_000)
        positive_int(self.size, "size", low=32, high=1024)
        positive_int(self.batch, "batch", high=256)
        positive_int(self.style_size, "style_size", low=64, high=4096)
        positive_int(self.checkpoint_every, "checkpoint_every")
        positive_int(self.seed, "seed", low=0)
        finite_number(self.learning_rate, "learning_rate", strict=True)
        finite_number(self.temporal_weight, "temporal_weight")
        if self.width not in WIDTHS:
            named = " or ".join(map(repr, WIDTHS))
            raise SettingError("width", f"width must be {named}, not {self.width!r}")

    def as_dict(self) -> dict:
        return asdict(self)


def make_train_step(
    network: tf.keras.Model,
    loss: NetworkLoss,
    optimizer: tf.keras.optimizers.Optimizer,
    strategy: tf.distribute.Strategy,
) -> Callable[[tf.Tensor], dict[str, tf.Tensor]]:
    """One compiled step: each device paints its share of the batch and takes the loss; the
    gradients of all devices are summed (so each loss is divided by their number, giving the
    mean over the whole batch) and change the network's weights."""
    replicas = strategy.num_replicas_in_sync

    def replica_step(batch) -> dict[str, tf.Tensor]:
        with tf.GradientTape() as tape:
            terms = loss.of_network(network, batch)
            share = terms["total"] / replicas
        gradients = tape.gradient(share, network.trainable_variables)
        optimizer.apply_gradients(zip(gradients, network.trainable_variables))
        return terms

    @tf.function
    def step(batch) -> dict[str, tf.Tensor]:
        terms = strategy.run(replica_step, args=(batch,))
        mean = tf.distribute.ReduceOp.MEAN
        return {name: strategy.reduce(mean, value, axis=None) for name, value in terms.items()}

    return step


def train(
    network: tf.keras.Model,
    loss: NetworkLoss,
    batches: tf.data.Dataset,
    folder: str | Path,
    settings: TrainSettings = TrainSettings(),
    callback: Callable[[int, dict[str, float]], None] | None = None,
    strategy: tf.distribute.Strategy | None = None,
    progress: bool = True,
) -> list[dict[str, float]]:
    """Train ``network`` up to ``settings.steps`` steps in all, resuming from the last
    checkpoint in ``folder`` if there is one. A checkpoint is written every
    ``settings.checkpoint_every`` steps, at the end, and when Ctrl-C stops the run
    (KeyboardInterrupt is then raised again). ``callback(step, terms)`` runs after each step.
    ``loss`` is a :class:`PerceptualLoss` (batches of photos) or any :class:`NetworkLoss`,
    e.g. the decoder's :class:`~nst_helpers.decoder.AdaINLoss` (batches of photo and
    painting pairs).

    With a ``strategy`` (``tf.distribute.MirroredStrategy`` for several GPUs, ``TPUStrategy``)
    the network must have been built inside ``strategy.scope()``; each batch is split over
    its devices.

    Returns:
        one row of loss terms per step taken in this call (``"step"`` is the step number).
    """
    strategy = strategy or tf.distribute.get_strategy()
    _check_batch(settings.batch, strategy.num_replicas_in_sync)
    with strategy.scope():
        optimizer = tf.keras.optimizers.Adam(settings.learning_rate)
        optimizer.build(network.trainable_variables)  # its variables beside the network's
    manager, step_number = _restore(network, optimizer, folder)
    train_step = make_train_step(network, loss, optimizer, strategy)
    history, saved = [], int(step_number)
    todo = batches.take(max(0, settings.steps - saved))
    bar = _progress_bar(saved, settings.steps, progress)
    try:
        for batch in strategy.experimental_distribute_dataset(todo):
            terms = {name: float(value) for name, value in train_step(batch).items()}
            step_number.assign_add(1)
            history.append({"step": int(step_number), **terms})
            bar.update(1)
            bar.set_postfix(loss=f"{terms['total']:.4g}", refresh=False)
            if callback is not None:
                callback(int(step_number), terms)
            if int(step_number) % settings.checkpoint_every == 0:
                manager.save(checkpoint_number=step_number)
                saved = int(step_number)
    finally:
        bar.close()
        if int(step_number) != saved:  # the steps since the last checkpoint, Ctrl-C included
            manager.save(checkpoint_number=step_number)
    return history


def _check_batch(batch: int, replicas: int) -> None:
    if batch % replicas:
        raise NSTError(
            f"a batch of {batch} cannot be split over {replicas} devices; "
            "give a multiple of their number"
        )


def _restore(
    network: tf.keras.Model, optimizer: tf.keras.optimizers.Optimizer, folder: str | Path
) -> tuple[tf.train.CheckpointManager, tf.Variable]:
    """The checkpoints of ``folder`` (the latest restored) and the step counter they keep."""
    step_number = tf.Variable(0, dtype=tf.int64, name="step", trainable=False)  # on the host
    checkpoint = tf.train.Checkpoint(network=network, optimizer=optimizer, step=step_number)
    manager = tf.train.CheckpointManager(checkpoint, str(folder), max_to_keep=2)
    checkpoint.restore(manager.latest_checkpoint)
    return manager, step_number


def _progress_bar(done: int, steps: int, shown: bool):
    from tqdm.auto import tqdm

    return tqdm(total=steps, initial=done, unit="step", desc="training", disable=not shown)
