"""The objective that style transfer minimizes over the pixels (Gatys, Ecker and Bethge 2015):

.. math:: L(x) = \\alpha L_{content}(x, p) + \\beta L_{style}(x, a) + \\gamma L_{tv}(x)

:class:`StyleTransferLoss` computes the targets once (the photo's content features P and
the painting's Gram matrices A), then gives the three terms and the gradient for any image.
Several paintings are blended (A = sum_k b_k A_k) or, with masks, each is matched inside its
own region (masked Gram matrices, :mod:`nst_helpers.masks`).
"""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf

from .errors import NSTError
from .losses import content_loss, gram_matrix, style_loss, total_variation_loss, weighted_total
from .masks import masked_gram_matrix
from .settings import StyleSettings
from .vgg import FeatureExtractor


class StyleTransferLoss:
    """The objective for one content image and one or more style images.

    ``loss.terms(image)`` returns scalar tensors ``total``, ``content``, ``style`` and ``tv``
    for an image (1, H, W, 3) in [0, 1]; ``loss.value_and_gradient(image)`` also returns
    d total / d image, shape (1, H, W, 3). The weights, layers and blend come from
    ``settings`` (or keyword overrides such as ``tv_weight=0.0``); ``masks`` are
    (1, H, W, 1) tensors, one per style.
    """

    def __init__(
        self,
        extractor: FeatureExtractor,
        content_image: tf.Tensor,
        style_images: tf.Tensor | Sequence[tf.Tensor],
        settings: StyleSettings | None = None,
        *,
        masks: Sequence[tf.Tensor] | None = None,
        jit_compile: bool = False,
        **overrides,
    ):
        self.settings = s = (settings or StyleSettings()).replace(**overrides)
        styles = list(style_images) if isinstance(style_images, (list, tuple)) else [style_images]
        _check_inputs(extractor, s, len(styles), masks)
        self.extractor, self.masks = extractor, masks
        self.blend = list(s.style_blend or [1.0 / len(styles)] * len(styles))
        self.weights = (s.content_weight, s.style_weight, s.tv_weight)
        features = extractor(content_image)
        self.content_targets = {n: tf.constant(features[n]) for n in s.content_layers}
        self.style_targets_per_style = [self._grams(style) for style in styles]
        self.style_targets = {  # the blended targets (the plain targets for one style)
            n: tf.add_n(
                [b * grams[n] for b, grams in zip(self.blend, self.style_targets_per_style)]
            )
            for n in s.style_layers
        }
        # XLA gave no speed-up on a 2-core CPU (benchmarks/README.md); it may on a GPU.
        self._compiled = tf.function(
            self._value_and_gradient, reduce_retracing=True, jit_compile=bool(jit_compile)
        )
        self.evaluations = 0
        """How many times :meth:`value_and_gradient` ran (L-BFGS may need more than one a step)."""

    def _grams(self, style: tf.Tensor) -> dict[str, tf.Tensor]:
        features = self.extractor(style)
        return {n: tf.constant(gram_matrix(features[n])) for n in self.settings.style_layers}

    def terms(self, image: tf.Tensor) -> dict[str, tf.Tensor]:
        """The weighted ``total`` and the unweighted ``content``, ``style`` and ``tv`` terms."""
        s = self.settings
        features = self.extractor(image)
        content = tf.constant(0.0)  # no content layer: texture synthesis from the style alone
        if s.content_layers:
            content = tf.add_n(
                [content_loss(features[n], self.content_targets[n]) for n in s.content_layers]
            ) / len(s.content_layers)
        style = self._style_term(features)
        tv = total_variation_loss(image)
        total = weighted_total(content, style, tv, *self.weights)
        return {"total": total, "content": content, "style": style, "tv": tv}

    def _style_term(self, features: dict[str, tf.Tensor]) -> tf.Tensor:
        """Blended Gram targets everywhere, or each style's own targets inside its mask."""
        layers, layer_weights = self.settings.style_layers, self.settings.layer_weights()
        if self.masks is None:
            grams = {n: gram_matrix(features[n]) for n in layers}
            return style_loss(grams, self.style_targets, layer_weights)
        return tf.add_n(
            [
                b
                * style_loss(
                    {n: masked_gram_matrix(features[n], mask) for n in layers},
                    targets,
                    layer_weights,
                )
                for b, mask, targets in zip(self.blend, self.masks, self.style_targets_per_style)
            ]
        )

    def _value_and_gradient(self, image: tf.Tensor):
        with tf.GradientTape() as tape:
            tape.watch(image)
            terms = self.terms(image)
        return terms, tape.gradient(terms["total"], image)

    def value_and_gradient(self, image: tf.Tensor) -> tuple[dict[str, tf.Tensor], tf.Tensor]:
        """(terms, gradient of the total with respect to the image, shape (1, H, W, 3))."""
        self.evaluations += 1
        return self._compiled(tf.convert_to_tensor(image, tf.float32))


def _check_inputs(
    extractor: FeatureExtractor,
    settings: StyleSettings,
    styles: int,
    masks: Sequence[tf.Tensor] | None,
) -> None:
    """The objective's inputs agree with each other: layers, blend and masks per style."""
    missing = [
        n for n in (*settings.content_layers, *settings.style_layers) if n not in extractor.layers
    ]
    if missing:
        raise NSTError(f"the feature extractor does not compute {missing}")
    check_count(settings.style_blend, styles, "blend weight")
    check_count(masks, styles, "mask")
    for index, mask in enumerate(masks or []):
        if float(tf.reduce_max(mask)) <= 0:
            raise NSTError(
                f"mask {index + 1} selects no pixel (it is all black): nothing would get that style"
            )


def check_count(items: Sequence | None, styles: int, what: str) -> None:
    """Raise NSTError unless ``items`` is None or holds one ``what`` per style."""
    if items is not None and len(items) != styles:
        raise NSTError(f"give one {what} per style: {styles} style(s), {len(items)} {what}(s)")
