"""The optimization loop: paint the content image in the style of the style image.

:func:`stylize` is the one call most users need. It builds a
:class:`StyleTransferLoss` (VGG19 targets computed once), starts from the content
image, the style image or noise, and minimizes the loss over the pixels with

* **L-BFGS** (default): SciPy's L-BFGS-B with the pixel bounds [0, 1]. A quasi-Newton
  method; it needs far fewer steps than Adam for this smooth, full-batch problem.
* **Adam**: Keras' Adam on a ``tf.Variable``, clipping to [0, 1] after each step.

A progress bar (``tqdm.auto``: a widget in Jupyter, text in a terminal) shows the loss.
``callback(step, image, terms)`` runs every ``callback_every`` steps (for previews).
Ctrl-C (``KeyboardInterrupt``, or the notebook's stop button) ends the run early and
returns the best image so far instead of losing it.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import tensorflow as tf

from . import config
from .errors import NSTError
from .losses import content_loss, gram_matrix, style_loss, total_variation_loss, weighted_total
from .masks import masked_gram_matrix
from .vgg import CONTENT_LAYERS, STYLE_LAYERS, FeatureExtractor
from .weights import WeightsSource

# Default loss weights (alpha, beta, gamma in the notebooks), chosen by looking at
# Tübingen x Starry Night at 256 and 512 px: style weight 1e-4 keeps the photo almost
# intact, 1e-3 dissolves the houses, 5e-4 paints them clearly. The total variation term
# is about 0.13 for a painted image; below ~1e5 its weight makes no visible difference,
# 1e4 only damps single-pixel noise.
CONTENT_WEIGHT = 1.0
STYLE_WEIGHT = 5e-4
TV_WEIGHT = 1e4

OPTIMIZERS = ("lbfgs", "adam")
LBFGS_MEMORY = 20  # past steps kept by L-BFGS; 8 and 50 were no faster (benchmarks/README.md)
HISTORY_COLUMNS = ["step", "seconds", "total", "content", "style", "tv", "size"]
MIN_SIDE = 16  # pixels: VGG19 halves the image 4 times before block5_conv1
INITS = ("content", "style", "noise")

Terms = dict[str, float]
Callback = Callable[[int, tf.Tensor, Terms], None]


class StyleTransferLoss:
    """The Gatys et al. objective for one content image and one or more style images.

    Targets (content features P, style Grams A) are computed once, here. Calling
    ``loss.terms(image)`` returns a dict of scalar tensors ``content``, ``style``,
    ``tv`` and ``total`` for an image of shape (1, H, W, 3) in [0, 1];
    ``loss.value_and_gradient(image)`` returns (terms, d total / d image).

    Several styles: pass a list of style images and ``style_blend`` weights (summing to
    1). Without masks their Gram matrices are blended, A = sum_k b_k A_k, which mixes the
    textures everywhere; with ``style_masks`` (one (1, H, W, 1) mask per style) style k is
    matched only inside mask k (masked Gram matrices) and the region losses are summed
    with weights b_k.
    """

    def __init__(self, extractor: FeatureExtractor, content_image: tf.Tensor,
                 style_image: tf.Tensor | Sequence[tf.Tensor], content_weight: float = CONTENT_WEIGHT,
                 style_weight: float = STYLE_WEIGHT, tv_weight: float = TV_WEIGHT,
                 content_layers: Sequence[str] = CONTENT_LAYERS,
                 style_layers: Sequence[str] = STYLE_LAYERS,
                 style_layer_weights: Mapping[str, float] | None = None,
                 style_blend: Sequence[float] | None = None,
                 style_masks: Sequence[tf.Tensor] | None = None, jit_compile: bool = False):
        missing = [n for n in (*content_layers, *style_layers) if n not in extractor.layers]
        if missing:
            raise NSTError(f"the feature extractor does not compute {missing}")
        for label, value in (("content", content_weight), ("style", style_weight), ("tv", tv_weight)):
            if not np.isfinite(value) or value < 0:
                raise NSTError(f"the {label} weight must be a finite number >= 0, not {value}")
        styles = list(style_image) if isinstance(style_image, (list, tuple)) else [style_image]
        self.blend = check_blend(style_blend, len(styles))
        if style_masks is not None and len(style_masks) != len(styles):
            raise NSTError(f"give one mask per style: {len(styles)} style(s), {len(style_masks)} mask(s)")
        self.masks = [tf.constant(m, tf.float32) for m in style_masks] if style_masks is not None else None
        for index, mask in enumerate(self.masks or []):
            if float(tf.reduce_max(mask)) <= 0:
                raise NSTError(f"mask {index + 1} selects no pixel (it is all black): nothing would get that style")
        self.extractor = extractor
        self.content_layers = list(content_layers)
        self.style_layers = list(style_layers)
        self.style_layer_weights = dict(style_layer_weights) if style_layer_weights else None
        self.weights = (float(content_weight), float(style_weight), float(tv_weight))
        content_features = extractor(content_image)
        self.content_targets = {n: tf.constant(content_features[n]) for n in self.content_layers}
        per_style = []
        for style in styles:
            features = extractor(style)
            per_style.append({n: tf.constant(gram_matrix(features[n])) for n in self.style_layers})
        self.style_targets_per_style = per_style
        self.style_targets = {  # the blended targets (the plain targets for one style)
            n: tf.add_n([b * grams[n] for b, grams in zip(self.blend, per_style)])
            for n in self.style_layers
        }
        # XLA (jit_compile) gave no speed-up on a 2-core CPU (benchmarks/README.md), so it
        # is off by default; it may help on a GPU.
        self._compiled = tf.function(self._value_and_gradient, reduce_retracing=True,
                                     jit_compile=bool(jit_compile))
        self.evaluations = 0
        """How many times :meth:`value_and_gradient` ran (L-BFGS may call it more than once per step)."""

    def terms(self, image: tf.Tensor) -> dict[str, tf.Tensor]:
        features = self.extractor(image)
        content = tf.constant(0.0)  # no content layers: texture synthesis from the style alone
        if self.content_layers:
            content = tf.add_n([
                content_loss(features[n], self.content_targets[n]) for n in self.content_layers
            ]) / len(self.content_layers)
        if self.masks is None:
            grams = {n: gram_matrix(features[n]) for n in self.style_layers}
            style = style_loss(grams, self.style_targets, self.style_layer_weights)
        else:
            style = tf.add_n([
                b * style_loss({n: masked_gram_matrix(features[n], mask) for n in self.style_layers},
                               targets, self.style_layer_weights)
                for b, mask, targets in zip(self.blend, self.masks, self.style_targets_per_style)
            ])
        tv = total_variation_loss(image)
        total = weighted_total(content, style, tv, *self.weights)
        return {"total": total, "content": content, "style": style, "tv": tv}

    def _value_and_gradient(self, image: tf.Tensor):
        with tf.GradientTape() as tape:
            tape.watch(image)
            terms = self.terms(image)
        return terms, tape.gradient(terms["total"], image)

    def value_and_gradient(self, image: tf.Tensor) -> tuple[dict[str, tf.Tensor], tf.Tensor]:
        """(terms, gradient of the total with respect to the image, shape (1, H, W, 3))."""
        self.evaluations += 1
        return self._compiled(tf.convert_to_tensor(image, tf.float32))


@dataclass
class StyleResult:
    """What :func:`stylize` returns.

    Attributes:
        image: the best image found, (1, H, W, 3) float32 in [0, 1].
        history: one row per step: ``step``, ``seconds`` (since the start), ``total``,
            ``content``, ``style``, ``tv`` (unweighted terms; ``total`` is weighted).
        best_step: the step whose image is returned.
        interrupted: True if the run was stopped early (Ctrl-C / stop button).
        evaluations: forward and backward passes through VGG19 in all (each costs about
            one step's time; L-BFGS's line search sometimes needs two per step).
        weights_source: where VGG19's weights came from.
        settings: the arguments of the run, for the record.
    """

    image: tf.Tensor
    history: pd.DataFrame
    best_step: int
    interrupted: bool
    evaluations: int
    weights_source: WeightsSource | None
    settings: dict = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        """Wall time of the optimization (s), excluding model loading."""
        return float(self.history["seconds"].iloc[-1]) if len(self.history) else 0.0


def check_blend(blend: Sequence[float] | None, count: int) -> list[float]:
    """Blend weights for ``count`` styles: equal by default; else ``count`` numbers >= 0 summing to 1."""
    if blend is None:
        return [1.0 / count] * count
    blend = [float(b) for b in blend]
    if len(blend) != count:
        raise NSTError(f"give one blend weight per style: {count} style(s), {len(blend)} weight(s)")
    if any(not np.isfinite(b) or b < 0 for b in blend):
        raise NSTError(f"blend weights must be numbers >= 0, not {blend}")
    if abs(sum(blend) - 1.0) > 1e-3:
        raise NSTError(f"blend weights must sum to 1, but {' + '.join(f'{b:g}' for b in blend)} = {sum(blend):g}")
    return blend


def initial_image(init: str, content: tf.Tensor, style: tf.Tensor, seed: int = 0) -> tf.Tensor:
    """Starting image of the content's shape: the content itself, the style resized to
    it, or uniform noise in [0, 1] (deterministic for a seed)."""
    if init == "content":
        return tf.identity(content)
    if init == "style":
        return tf.image.resize(style, tf.shape(content)[1:3], antialias=True)
    if init == "noise":
        generator = tf.random.Generator.from_seed(seed)
        return generator.uniform(tf.shape(content), 0.0, 1.0)
    raise NSTError(f"init must be one of {INITS}, not {init!r}")


class _Tracker:
    """Keeps the history, the best image so far, the progress bar and the callback.

    With a coarse-to-fine pyramid one tracker serves every level: ``start_level``
    forgets the best image of the previous, smaller level (losses at different sizes
    are not comparable) and tags the following rows with the level's size.
    """

    def __init__(self, steps: int, callback: Callback | None, callback_every: int, progress: bool):
        from tqdm.auto import tqdm

        self.rows: list[dict] = []
        self.size = 0
        self.best_total = np.inf
        self.best_image: np.ndarray | None = None
        self.best_step = 0
        self.start = time.perf_counter()
        self.callback, self.callback_every = callback, max(1, int(callback_every))
        self.bar = tqdm(total=steps, desc="stylizing", unit="step", disable=not progress)

    def start_level(self, size: int) -> None:
        self.size = size
        self.best_total, self.best_image = np.inf, None

    def consider(self, image: np.ndarray, total: float, step: int) -> None:
        """Remember ``image`` if it is the best seen so far."""
        if np.isfinite(total) and total < self.best_total:
            self.best_total, self.best_image, self.best_step = total, image.copy(), step

    def record(self, step: int, terms: Terms, image: np.ndarray) -> None:
        self.rows.append({"step": step, "seconds": time.perf_counter() - self.start,
                          **terms, "size": self.size})
        self.bar.update(1)
        self.bar.set_postfix(loss=f"{terms['total']:.4g}")
        if self.callback is not None and step % self.callback_every == 0:
            self.callback(step, tf.constant(image), terms)

    def close(self) -> None:
        self.bar.close()


def _as_floats(terms: Mapping[str, tf.Tensor]) -> Terms:
    return {name: float(value) for name, value in terms.items()}


def run_adam(loss: StyleTransferLoss, image: tf.Tensor, steps: int, tracker: _Tracker,
             learning_rate: float = 0.02) -> None:
    """``steps`` Adam updates of the pixels, clipped to [0, 1] after each."""
    variable = tf.Variable(image)
    optimizer = tf.keras.optimizers.Adam(learning_rate=learning_rate, beta_1=0.99, epsilon=0.1)
    for step in range(1, steps + 1):
        before = variable.numpy()
        terms, gradient = loss.value_and_gradient(variable)
        tracker.consider(before, float(terms["total"]), step - 1)
        optimizer.apply_gradients([(gradient, variable)])
        variable.assign(tf.clip_by_value(variable, 0.0, 1.0))
        tracker.record(step, _as_floats(terms), variable.numpy())
    terms, _ = loss.value_and_gradient(variable)
    tracker.consider(variable.numpy(), float(terms["total"]), steps)


def run_lbfgs(loss: StyleTransferLoss, image: tf.Tensor, steps: int, tracker: _Tracker,
              memory: int = LBFGS_MEMORY) -> None:
    """SciPy's L-BFGS-B over the pixels with bounds [0, 1], at most ``steps`` iterations,
    its curvature estimate built from the last ``memory`` steps."""
    from scipy.optimize import Bounds, minimize

    shape = image.shape
    size = int(np.prod(shape))
    latest: dict = {}

    def value_and_gradient(flat: np.ndarray):
        pixels = flat.reshape(shape).astype(np.float32)
        terms, gradient = loss.value_and_gradient(tf.constant(pixels))
        latest["terms"] = _as_floats(terms)
        latest["pixels"] = pixels
        tracker.consider(pixels, latest["terms"]["total"], len(tracker.rows))
        return float(terms["total"]), gradient.numpy().astype(np.float64).ravel()

    def after_iteration(flat: np.ndarray) -> None:
        tracker.record(len(tracker.rows) + 1, latest["terms"], latest["pixels"])

    minimize(
        value_and_gradient, image.numpy().astype(np.float64).ravel(), jac=True,
        method="L-BFGS-B", bounds=Bounds(np.zeros(size), np.ones(size)), callback=after_iteration,
        options={"maxiter": steps, "maxfun": int(steps * 1.5) + 10, "maxcor": memory,
                 "ftol": 0.0, "gtol": 0.0},
    )


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise NSTError(f"{name} must be a whole number >= 1, not {value!r}")
    return int(value)


def stylize(content, style, *, size: int | None = None, steps: int | None = None,
            optimizer: str = "lbfgs", content_weight: float = CONTENT_WEIGHT,
            style_weight: float = STYLE_WEIGHT, tv_weight: float = TV_WEIGHT,
            content_layers: Sequence[str] = CONTENT_LAYERS,
            style_layers: Sequence[str] = STYLE_LAYERS,
            style_layer_weights: Mapping[str, float] | None = None,
            style_blend: Sequence[float] | None = None, style_masks: Sequence | None = None,
            style_scale: float = 1.0, preserve_colors: str | None = None, pyramid: int = 1,
            init: str = "content", seed: int = 0, learning_rate: float = 0.02,
            pooling: str = "max", weights: str | os.PathLike = "auto",
            extractor: FeatureExtractor | None = None,
            callback: Callback | None = None, callback_every: int | None = None,
            progress: bool = True, log: Callable[[str], None] = print) -> StyleResult:
    """Paint ``content`` in the style of ``style`` (Gatys, Ecker and Bethge 2015).

    Args:
        content: the photo: a (1, H, W, 3) tensor in [0, 1], a file path, or a name from
            :data:`nst_helpers.data.MANIFEST` (e.g. ``"tubingen"``).
        style: the painting, in the same forms (e.g. ``"starry_night"``), or a list of them.
        size: longest side of the result in pixels. Default: 512 (64 in quick mode).
            ``None`` with a tensor keeps the tensor's size.
        steps: optimizer iterations in all (split over pyramid levels). Default: 100
            (5 in quick mode).
        optimizer: ``"lbfgs"`` (default) or ``"adam"``.
        content_weight, style_weight, tv_weight: alpha, beta, gamma of the objective.
        content_layers, style_layers, style_layer_weights: which VGG19 layers, and w_l.
        style_blend: one weight per style, summing to 1 (default: equal).
        style_masks: one mask per style (file, array or tensor; 1 = this style here),
            see :mod:`nst_helpers.masks`. Outside all masks only the content acts.
        style_scale: the style image's longest side relative to the result's. VGG sees
            texture at a fixed scale in pixels, so a style image scaled up (2.0) paints
            larger brush strokes and one scaled down (0.5) smaller ones.
        preserve_colors: ``None``, ``"luminance"`` (stylize the luminance only, keep the
            photo's colours) or ``"histogram"`` (recolour the style to the photo's colours
            first), see :mod:`nst_helpers.color`.
        pyramid: number of coarse-to-fine levels; 3 at size 1024 runs at 256, 512 and 1024
            px, each level starting from the previous result, upsampled.
        init: start from ``"content"`` (default), ``"style"`` or ``"noise"``.
        seed: for the noise initialisation.
        learning_rate: Adam's step size (pixels are in [0, 1]).
        pooling, weights: passed to :class:`FeatureExtractor` when none is given.
        extractor: reuse a FeatureExtractor (saves ~1 s of model building per call).
        callback: ``callback(step, image, terms)`` every ``callback_every`` steps.
        progress: show a progress bar.
        log: receives informational lines (the weights source among them).
    Returns:
        a :class:`StyleResult` with the best image and the loss history (one row per step,
        with the ``size`` of the level it ran at).
    """
    from .color import check_preserve_colors, combine_luminance, luminance_image, \
        match_color_histogram, match_luminance
    from .data import load_content, load_style  # local import: data is optional for tensors
    from .images import resize_max_dim, resize_to
    from .masks import as_mask

    defaults = config.defaults()
    steps = _positive_int(defaults.steps if steps is None else steps, "steps")
    pyramid = _positive_int(pyramid, "pyramid")
    if optimizer not in OPTIMIZERS:
        raise NSTError(f"optimizer must be one of {OPTIMIZERS}, not {optimizer!r}")
    if init not in INITS:
        raise NSTError(f"init must be one of {INITS}, not {init!r}")
    if not (np.isfinite(learning_rate) and learning_rate > 0):
        raise NSTError(f"learning_rate must be > 0, not {learning_rate}")
    if not (np.isfinite(style_scale) and style_scale > 0):
        raise NSTError(f"style_scale must be a number > 0 (1 = same size as the result), not {style_scale}")
    check_preserve_colors(preserve_colors)
    if steps < pyramid:
        raise NSTError(f"{steps} steps cannot be split over {pyramid} pyramid levels")
    if size is None and not isinstance(content, (tf.Tensor, np.ndarray)):
        size = defaults.size
    if size is not None:
        size = _positive_int(size, "size")

    content_image = _as_image(content, size, load_content)
    height, width = content_image.shape[1:3]
    full_size = max(height, width)
    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    check_blend(style_blend, len(styles))
    style_size = round(full_size * style_scale)
    if not 16 <= style_size <= 4096:
        raise NSTError(f"style_scale {style_scale:g} makes the style image {style_size} px; keep it in 16..4096")
    style_images = [_as_image(s, style_size, load_style) for s in styles]
    masks = None
    if style_masks is not None:
        if len(style_masks) != len(styles):
            raise NSTError(f"give one mask per style: {len(styles)} style(s), {len(style_masks)} mask(s)")
        masks = [as_mask(m, height, width) for m in style_masks]

    if preserve_colors == "histogram":
        style_images = [match_color_histogram(s, content_image) for s in style_images]
    elif preserve_colors == "luminance":
        style_images = [match_luminance(s, content_image) for s in style_images]

    if extractor is None:
        extractor = FeatureExtractor([*style_layers, *content_layers], weights=weights,
                                     pooling=pooling, log=log)
        log(extractor.source.describe())

    def finish(image: tf.Tensor) -> tf.Tensor:
        """What the user sees: put the photo's colours back in luminance mode."""
        if preserve_colors != "luminance":
            return image
        return combine_luminance(image, resize_to(content_image, *image.shape[1:3]))

    user_callback = callback
    if callback is not None and preserve_colors == "luminance":
        user_callback = lambda step, image, terms: callback(step, finish(image), terms)  # noqa: E731

    sizes = [round(full_size / 2 ** (pyramid - 1 - level)) for level in range(pyramid)]
    smallest_side = min(height, width) * sizes[0] / full_size
    if smallest_side < MIN_SIDE:
        raise NSTError(
            f"the image is too small for {pyramid} pyramid level(s): the first level would be "
            f"{smallest_side:.0f} px on its short side, and VGG19 needs {MIN_SIDE}; use fewer levels"
        )
    level_steps = [steps // pyramid + (1 if level < steps % pyramid else 0) for level in range(pyramid)]
    tracker = _Tracker(steps, user_callback, callback_every or defaults.preview_every, progress)
    interrupted, image, losses = False, None, []
    try:
        for level, (level_size, level_count) in enumerate(zip(sizes, level_steps)):
            level_content = content_image if level_size == full_size else resize_max_dim(content_image, level_size)
            scale = level_size / full_size
            level_styles = [s if scale == 1 else resize_max_dim(s, max(16, round(max(s.shape[1:3]) * scale)))
                            for s in style_images]
            if preserve_colors == "luminance":
                level_content = luminance_image(level_content)
            loss = StyleTransferLoss(extractor, level_content, level_styles, content_weight,
                                     style_weight, tv_weight, content_layers, style_layers,
                                     style_layer_weights, style_blend, masks)
            losses.append(loss)
            if image is None:
                start = initial_image(init, level_content, level_styles[0], seed)
            else:  # continue from the previous level's result, upsampled
                start = resize_to(image, *level_content.shape[1:3])
            tracker.start_level(max(level_content.shape[1:3]))
            if optimizer == "adam":
                run_adam(loss, start, level_count, tracker, learning_rate)
            else:
                run_lbfgs(loss, start, level_count, tracker)
            image = tf.constant(tracker.best_image) if tracker.best_image is not None else start
    except KeyboardInterrupt:
        interrupted = True
        log(f"Interrupted after {len(tracker.rows)} steps; returning the best image so far.")
        if tracker.best_image is not None:
            image = tf.constant(tracker.best_image)
    finally:
        tracker.close()
    if image is None:
        image = initial_image(init, content_image, style_images[0], seed)
    if image.shape[1:3] != content_image.shape[1:3]:  # interrupted at a coarse level
        image = resize_to(image, height, width)
    settings = {
        "size": full_size, "steps": steps, "optimizer": optimizer,
        "content_weight": content_weight, "style_weight": style_weight, "tv_weight": tv_weight,
        "content_layers": list(content_layers), "style_layers": list(style_layers),
        "style_blend": check_blend(style_blend, len(styles)), "style_scale": style_scale,
        "preserve_colors": preserve_colors, "pyramid": pyramid, "masks": masks is not None,
        "init": init, "seed": seed, "pooling": extractor.pooling,
    }
    return StyleResult(
        image=tf.constant(finish(tf.convert_to_tensor(image, tf.float32)), tf.float32),
        history=pd.DataFrame(tracker.rows, columns=HISTORY_COLUMNS),
        best_step=tracker.best_step, interrupted=interrupted,
        evaluations=sum(loss.evaluations for loss in losses),
        weights_source=extractor.source, settings=settings,
    )


def _as_image(image, size: int | None, load: Callable) -> tf.Tensor:
    """A (1, H, W, 3) float32 tensor in [0, 1] from a tensor, array, path or manifest name."""
    from .images import resize_max_dim

    if isinstance(image, (tf.Tensor, np.ndarray, tf.Variable)):
        tensor = tf.convert_to_tensor(image, tf.float32)
        if tensor.shape.rank == 3:
            tensor = tensor[tf.newaxis]
        if tensor.shape.rank != 4 or tensor.shape[0] != 1 or tensor.shape[-1] != 3:
            raise NSTError(f"an image tensor must have shape (1, H, W, 3), not {tensor.shape}")
        return resize_max_dim(tensor, size) if size is not None else tensor
    return load(image, max_dim=size)
