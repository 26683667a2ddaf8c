"""The decoder of arbitrary style transfer: VGG19 features at block4_conv1 back to an image.

Huang and Belongie (2017, Section 6.1) encode the photo and the painting with VGG19 up to
relu4_1 (Keras' ``block4_conv1``, whose output is after its ReLU), transform the photo's
features (:mod:`.arbitrary`), and decode them with a network that mirrors the encoder:
pooling layers become nearest-neighbour upsampling, every convolution has reflection padding,
and there is no normalization. The decoder is trained with :class:`AdaINLoss`: the painted
image's features must equal the transformed features (content) and have the painting's
per-channel means and deviations at relu1_1 ... relu4_1 (style).

``width="full"`` has VGG19's own channels (512 in, then 256, 128, 64); ``"half"`` has half of
them, about a third of the weights.
"""

from __future__ import annotations

import os
from pathlib import Path

import tensorflow as tf

from .arbitrary import adain, channel_statistics
from .errors import NSTError
from .layers import ReflectionPad
from .losses import content_loss
from .netfiles import load_float16, save_float16
from .vgg import FeatureExtractor

ENCODER_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1")
"""relu1_1 ... relu4_1: the style statistics; the last one is also the encoder's output."""

DECODER_CHANNELS = {"full": (256, 128, 64), "half": (128, 64, 32)}
"""Channels after block 4, 3 and 2 are mirrored, by width option."""


def _conv(x: tf.Tensor, filters: int, name: str, relu: bool = True) -> tf.Tensor:
    x = ReflectionPad(1, name=f"{name}_pad")(x)
    return tf.keras.layers.Conv2D(filters, 3, activation="relu" if relu else None, name=name)(x)


def _up(x: tf.Tensor, name: str) -> tf.Tensor:
    return tf.keras.layers.UpSampling2D(2, interpolation="nearest", name=name)(x)


def build_decoder(width: str = "full") -> tf.keras.Model:
    """Features (B, H/8, W/8, 512) -> image (B, H, W, 3): the mirror of VGG19 up to
    block4_conv1 (one conv, up, four convs, up, two convs, up, two convs). The last
    convolution has no activation, as in Huang and Belongie: the pixels learn to lie in
    [0, 1] and are clipped to show them. (A sigmoid there saturates on VGG19's large
    activations and stops training.)"""
    if width not in DECODER_CHANNELS:
        raise NSTError(f"width must be one of {list(DECODER_CHANNELS)}, not {width!r}")
    c4, c3, c2 = DECODER_CHANNELS[width]
    features = tf.keras.Input(shape=(None, None, 512), name="features")
    x = _up(_conv(features, c4, "dec4_1"), "up3")
    for k in (4, 3, 2):
        x = _conv(x, c4, f"dec3_{k}")
    x = _up(_conv(x, c3, "dec3_1"), "up2")
    x = _up(_conv(_conv(x, c3, "dec2_2"), c2, "dec2_1"), "up1")
    image = _conv(_conv(x, c2, "dec1_2"), 3, "dec1_1", relu=False)  # no squashing: see above
    return tf.keras.Model(features, image, name=f"decoder_{width}")


class AdaINLoss:
    """Huang and Belongie's training loss for the decoder (their Eq. 11-13), on a batch.

    ``loss.terms(decoder, photos, paintings, alpha)`` encodes both, transforms with AdaIN,
    decodes, encodes the result again and returns ``{"content", "style", "total"}``: content
    is the mean squared difference of the result's relu4_1 features and the transformed ones;
    style is the sum over relu1_1 ... relu4_1 of the squared differences of per-channel means
    and deviations (mean over channels and images); total = content + style_weight * style.
    The extractor should be the normalised VGG19 (``network="normalized"``), as in the paper:
    Keras' own VGG19 has relu4_1 25 times larger than relu1_1, which would then outweigh the
    other layers' statistics some 600 to 1.
    :func:`nst_helpers.realtime.train` trains a decoder with it on batches of (photos,
    paintings) pairs.
    """

    def __init__(self, extractor: FeatureExtractor, style_weight: float = 10.0):
        missing = set(ENCODER_LAYERS) - set(extractor.layers)
        if missing:
            raise NSTError(f"the extractor must give {sorted(missing)} too")
        self.extractor, self.style_weight = extractor, style_weight

    def terms(
        self, decoder: tf.keras.Model, photos: tf.Tensor, paintings: tf.Tensor, alpha=1.0
    ) -> dict[str, tf.Tensor]:
        deepest = ENCODER_LAYERS[-1]
        style_features = self.extractor(paintings)
        target = adain(self.extractor(photos)[deepest], style_features[deepest], alpha)
        painted = decoder(target, training=True)
        features = self.extractor(painted)
        content = content_loss(features[deepest], target)
        style = tf.add_n([_statistics_loss(features[n], style_features[n]) for n in ENCODER_LAYERS])
        return {"content": content, "style": style, "total": content + self.style_weight * style}

    def of_network(self, decoder: tf.keras.Model, batch) -> dict[str, tf.Tensor]:
        """The terms for one (photos, paintings) batch (what ``realtime.train`` calls)."""
        photos, paintings = batch
        return self.terms(decoder, photos, paintings)


class ReconstructionLoss:
    """Li et al.'s (2017, Section 3.1) training loss for a decoder that only inverts the
    encoder, no paintings needed: the decoded image must equal the photo (mean squared
    pixel difference) and have its relu4_1 features (mean squared difference, weighted by
    ``feature_weight``, their lambda = 1). Batches are photos, or (photos, paintings) pairs
    whose paintings are not used."""

    def __init__(self, extractor: FeatureExtractor, feature_weight: float = 1.0):
        if ENCODER_LAYERS[-1] not in extractor.layers:
            raise NSTError(f"the extractor must give {ENCODER_LAYERS[-1]}")
        self.extractor, self.feature_weight = extractor, feature_weight

    def of_network(self, decoder: tf.keras.Model, batch) -> dict[str, tf.Tensor]:
        photos = batch[0] if isinstance(batch, (tuple, list)) else batch
        deepest = ENCODER_LAYERS[-1]
        features = self.extractor(photos)[deepest]
        decoded = decoder(features, training=True)
        pixels = tf.reduce_mean(tf.square(decoded - photos))
        again = content_loss(self.extractor(decoded)[deepest], features)
        return {"pixels": pixels, "features": again, "total": pixels + self.feature_weight * again}


def _statistics_loss(features: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
    """Mean squared difference of per-channel means plus that of deviations."""
    mean, std = channel_statistics(features)
    target_mean, target_std = channel_statistics(target)
    return tf.reduce_mean(tf.square(mean - target_mean)) + tf.reduce_mean(
        tf.square(std - target_std)
    )


def build_encoder(log=print) -> FeatureExtractor:
    """VGG19 up to relu4_1 as Huang and Belongie use it: the normalised network (each filter's
    mean activation is one) with reflection padding (no frame of zeros around the features,
    which the decoder would otherwise learn to paint as stripes along the border), giving the
    four layers of :data:`ENCODER_LAYERS`."""
    return FeatureExtractor(list(ENCODER_LAYERS), network="normalized", padding="reflect", log=log)


def save_decoder(
    decoder: tf.keras.Model, path: str | os.PathLike, about: dict, overwrite: bool = False
) -> Path:
    """Save a trained decoder as float16 ``.npz`` with a JSON of its width and ``about``."""
    width = decoder.name.removeprefix("decoder_")  # build_decoder names it so
    if width not in DECODER_CHANNELS:
        raise NSTError(f"{decoder.name} was not made by build_decoder; it cannot be saved")
    return save_float16(decoder, path, {"width": width, **about}, overwrite)


def load_decoder(path: str | os.PathLike) -> tuple[tf.keras.Model, dict]:
    """A decoder saved by :func:`save_decoder`, and its JSON record."""
    return load_float16(path, lambda record: build_decoder(record["width"]))
