"""VGG19 as a feature extractor: preprocessing, the network, and a table of its layers.

VGG19 (Simonyan and Zisserman, 2014) was trained on images in **BGR** channel order,
scaled to 0..255, with the ImageNet mean colour subtracted. Our images are RGB in [0, 1],
so :func:`preprocess` converts and :func:`deprocess` undoes it.

The network is built here layer by layer with Keras' layer names (``block1_conv1`` ...
``block5_conv4``), so that it can use max pooling (as trained) or average pooling
(which Gatys et al. 2015 found gives slightly smoother results), and so that a model
asked for a few layers stops at the deepest of them.

Gatys et al. (2015) also rescaled the network so that every filter's mean activation over
images and positions is 1. :func:`normalize_weights` does that with the course's own
images (``network="normalized"``); the result is cached beside the weights.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import tensorflow as tf

from .data import load_content
from .errors import NSTError
from .files import file_hash
from .layers import ReflectionPad
from .validate import SettingError
from .weights import (
    VGG19_CONV_LAYERS,
    WeightsArrays,
    WeightsSource,
    keras_cache_dir,
    load_npz,
    load_weights,
    quiet_if_none,
    resolve_weights,
    save_npz,
)

VGG_MEAN_BGR = (103.939, 116.779, 123.68)
"""ImageNet mean pixel in BGR order, on the 0..255 scale."""

CONTENT_LAYERS = ("block4_conv2",)
"""Content layer of Gatys et al. (their conv4_2)."""

STYLE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")
"""Style layers of Gatys et al. (their conv1_1 ... conv5_1)."""

NETWORKS = ("plain", "normalized")
"""VGG19 as trained, or rescaled so that every filter's mean activation is 1."""

NORMALIZATION_IMAGES = (
    "tubingen",
    "grace_hopper",
    "starry_night",
    "shipwreck",
    "woman_with_hat",
    "wave",
    "udnie",
    "brush_strokes",
    "mosaic",
    "swirls",
)
"""The course's photos and paintings over which each filter's mean activation is made 1."""

NORMALIZATION_SIZE = 256
"""Longest side (px) of those images when the means are measured."""

LAYER_ORDER: list[str] = []
for _block, _count in zip(range(1, 6), (2, 2, 4, 4, 4)):
    LAYER_ORDER += [f"block{_block}_conv{i}" for i in range(1, _count + 1)] + [
        f"block{_block}_pool"
    ]


def preprocess(image: tf.Tensor) -> tf.Tensor:
    """RGB in [0, 1], shape (B, H, W, 3) -> VGG input: BGR, 0..255, mean subtracted."""
    bgr = tf.reverse(tf.convert_to_tensor(image, tf.float32), axis=[-1]) * 255.0
    return bgr - tf.constant(VGG_MEAN_BGR)


def deprocess(vgg_input: tf.Tensor) -> tf.Tensor:
    """Inverse of :func:`preprocess`: VGG input -> RGB in [0, 1] (clipped)."""
    bgr = (tf.convert_to_tensor(vgg_input, tf.float32) + tf.constant(VGG_MEAN_BGR)) / 255.0
    return tf.clip_by_value(tf.reverse(bgr, axis=[-1]), 0.0, 1.0)


def check_layers(
    names: str | Sequence[str], setting: str = "layers", allow_empty: bool = False
) -> list[str]:
    """The layer names as a list; raises SettingError naming any that VGG19 lacks."""
    names = [names] if isinstance(names, str) else list(names)
    unknown = [name for name in names if name not in LAYER_ORDER]
    if unknown:
        raise SettingError(setting, f"unknown VGG19 layer(s) {unknown}; choose from {LAYER_ORDER}")
    if not names and not allow_empty:
        raise SettingError(setting, f"{setting} needs at least one VGG19 layer")
    return names


def build_vgg19(
    weights: str | os.PathLike = "auto",
    pooling: str = "max",
    up_to: str = "block5_pool",
    log: Callable[[str], None] | None = print,
    network: str = "plain",
    padding: str = "zeros",
) -> tuple[tf.keras.Model, WeightsSource]:
    """Build VGG19's convolutional part with ImageNet weights, frozen.

    Args:
        weights: ``"auto"``, ``"imagenet"``, ``"compact"`` or a file (see :mod:`.weights`).
        pooling: ``"max"`` (as trained) or ``"avg"``.
        up_to: the last layer to build; deeper layers are left out.
        log: receives progress lines (the weights source among them); None: silent.
        network: ``"plain"`` (as trained) or ``"normalized"`` (:func:`normalized_weights`).
        padding: the border of every convolution: ``"zeros"`` (as trained) or ``"reflect"``
            (a mirror image, as in Huang and Belongie's encoder: no dark frame of features).
    Returns:
        (model, source): a Keras functional model mapping a preprocessed
        (B, H, W, 3) batch to ``up_to``'s feature map, and where the weights came from.
    """
    if pooling not in ("max", "avg"):
        raise NSTError(f"pooling must be 'max' or 'avg', not {pooling!r}")
    if network not in NETWORKS:
        raise NSTError(f"network must be one of {list(NETWORKS)}, not {network!r}")
    if padding not in ("zeros", "reflect"):
        raise NSTError(f"padding must be 'zeros' or 'reflect', not {padding!r}")
    check_layers([up_to])
    log = quiet_if_none(log)
    source = resolve_weights(weights, log=log)
    arrays = load_weights(source) if network == "plain" else normalized_weights(source, log)
    channels = {name: out for name, _, out in VGG19_CONV_LAYERS}

    inputs = tf.keras.Input(shape=(None, None, 3), name="vgg_input")
    x = inputs
    for name in LAYER_ORDER[: LAYER_ORDER.index(up_to) + 1]:
        if name.endswith("pool"):
            pool = (
                tf.keras.layers.MaxPooling2D
                if pooling == "max"
                else tf.keras.layers.AveragePooling2D
            )
            x = pool(2, strides=2, name=name)(x)
        else:
            if padding == "reflect":
                x = ReflectionPad(1, name=f"{name}_pad")(x)
            layer = tf.keras.layers.Conv2D(
                channels[name],
                3,
                padding="same" if padding == "zeros" else "valid",
                activation="relu",
                name=name,
            )
            x = layer(x)
            layer.set_weights(list(arrays[name]))
    model = tf.keras.Model(inputs, x, name="vgg19")
    model.trainable = False
    return model, source


class FeatureExtractor:
    """Maps RGB images in [0, 1] to VGG19 feature maps of chosen layers.

    ``extractor(image)`` takes a (B, H, W, 3) tensor and returns a dict
    ``layer name -> (B, H_l, W_l, C_l)`` float32 tensor (after ReLU). The network is
    truncated after the deepest layer asked for, so shallow layers are cheap.
    """

    def __init__(
        self,
        layers: Sequence[str],
        weights: str | os.PathLike = "auto",
        pooling: str = "max",
        log: Callable[[str], None] | None = print,
        network: str = "plain",
        padding: str = "zeros",
    ):
        self.layers = check_layers(layers)
        deepest = max(self.layers, key=LAYER_ORDER.index)
        full, self.source = build_vgg19(weights, pooling, deepest, log, network, padding)
        outputs = {name: full.get_layer(name).output for name in self.layers}
        self.model = tf.keras.Model(full.input, outputs, name="vgg19_features")
        self.model.trainable = False
        self.pooling = pooling
        self.network, self.padding = network, padding

    def __call__(self, image: tf.Tensor) -> dict[str, tf.Tensor]:
        return self.model(preprocess(image), training=False)


# --------------------------------------------------------------- the paper's normalised network


def normalize_weights(arrays: WeightsArrays, images: Sequence[tf.Tensor]) -> WeightsArrays:
    """Rescale every filter so that its mean activation over ``images`` and positions is 1.

    Each filter's mean m after the ReLU is measured over all images and positions, and its
    kernel and bias are divided by m. The next layer's kernel is multiplied by the same m
    along its input channels, so it still sees what it saw: ReLU and max pooling commute
    with a positive factor, and the network computes the same features up to one factor per
    filter. A filter that never fires on these images keeps its scale. Max pooling, as
    VGG19 was trained.

    Args:
        arrays: layer name -> (kernel (3, 3, in, out), bias (out,)).
        images: RGB images in [0, 1], each (1, H, W, 3); sizes may differ.
    Returns:
        the rescaled arrays, float32.
    """
    activations = [preprocess(image) for image in images]  # the network as trained
    scaled, previous = {}, np.ones(3, np.float32)  # previous: the input channels' factors
    for name in LAYER_ORDER[: LAYER_ORDER.index("block5_conv4") + 1]:
        if name.endswith("pool"):
            activations = [tf.nn.max_pool2d(a, 2, 2, "VALID") for a in activations]
            continue
        kernel, bias = arrays[name]
        activations = [tf.nn.relu(tf.nn.conv2d(a, kernel, 1, "SAME") + bias) for a in activations]
        totals = tf.add_n([tf.reduce_sum(a, axis=(0, 1, 2)) for a in activations]).numpy()
        means = totals / sum(int(np.prod(a.shape[:3])) for a in activations)
        factor = np.where(means > 0, 1.0 / np.maximum(means, 1e-30), 1.0).astype(np.float32)
        scaled[name] = (kernel / previous[:, None] * factor, bias * factor)
        previous = factor
    return scaled


def normalized_weights(source: WeightsSource, log: Callable[[str], None] = print) -> WeightsArrays:
    """``source``'s weights rescaled by :func:`normalize_weights` over the course's images
    (:data:`NORMALIZATION_IMAGES` at :data:`NORMALIZATION_SIZE` px), cached beside the weights."""
    path = normalized_cache_file(source)
    if path.is_file():
        try:
            return load_npz(path)
        except NSTError as error:
            log(f"{error}; computing the normalised network again.")
    log(f"Normalising VGG19 over {len(NORMALIZATION_IMAGES)} of the course's images...")
    images = [load_content(name, max_dim=NORMALIZATION_SIZE) for name in NORMALIZATION_IMAGES]
    arrays = normalize_weights(load_weights(source), images)
    try:
        save_npz(arrays, path)
    except OSError as error:
        log(f"The normalised network could not be cached ({error}); it is used for this run.")
    return arrays


def normalized_cache_file(source: WeightsSource) -> Path:
    """Cache file of the normalised network: named after the weights file's hash and the
    images and size it was normalised over, so that a change of either makes a new one."""
    recipe = f"{file_hash(source.path)} {' '.join(NORMALIZATION_IMAGES)} {NORMALIZATION_SIZE}"
    digest = hashlib.sha256(recipe.encode()).hexdigest()[:16]
    return keras_cache_dir() / f"vgg19_normalized_{digest}.npz"


def layer_table() -> pd.DataFrame:
    """VGG19's layers as a table: one row per conv or pool layer.

    Columns: ``layer``, ``kind`` (conv/pool), ``channels`` (output), ``stride``
    (input pixels per output position), ``receptive_field`` (px; the side of the
    input square that one output position sees), ``parameters`` (weights + biases).
    """
    inputs = {name: channels_in for name, channels_in, _ in VGG19_CONV_LAYERS}
    outputs = {name: channels_out for name, _, channels_out in VGG19_CONV_LAYERS}
    rows, field, stride, channels = [], 1, 1, 3
    for name in LAYER_ORDER:
        if name.endswith("pool"):
            field += stride  # 2x2 window: one more input position at the current stride
            stride *= 2
            params = 0
        else:
            field += 2 * stride  # 3x3 window
            channels = outputs[name]
            params = 9 * inputs[name] * channels + channels
        rows.append(
            {
                "layer": name,
                "kind": "pool" if name.endswith("pool") else "conv",
                "channels": channels,
                "stride": stride,
                "receptive_field": field,
                "parameters": params,
            }
        )
    return pd.DataFrame(rows)


def count_parameters() -> int:
    """Total parameters of VGG19's conv layers (20,024,384)."""
    return int(np.sum(layer_table()["parameters"]))
