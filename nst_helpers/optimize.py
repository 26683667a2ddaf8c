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
INITS = ("content", "style", "noise")

Terms = dict[str, float]
Callback = Callable[[int, tf.Tensor, Terms], None]


class StyleTransferLoss:
    """The Gatys et al. objective for one content and one style image.

    Targets (content features P, style Grams A) are computed once, here. Calling
    ``loss.terms(image)`` returns a dict of scalar tensors ``content``, ``style``,
    ``tv`` and ``total`` for an image of shape (1, H, W, 3) in [0, 1];
    ``loss.value_and_gradient(image)`` returns (terms, d total / d image).
    """

    def __init__(self, extractor: FeatureExtractor, content_image: tf.Tensor,
                 style_image: tf.Tensor, content_weight: float = CONTENT_WEIGHT,
                 style_weight: float = STYLE_WEIGHT, tv_weight: float = TV_WEIGHT,
                 content_layers: Sequence[str] = CONTENT_LAYERS,
                 style_layers: Sequence[str] = STYLE_LAYERS,
                 style_layer_weights: Mapping[str, float] | None = None):
        missing = [n for n in (*content_layers, *style_layers) if n not in extractor.layers]
        if missing:
            raise NSTError(f"the feature extractor does not compute {missing}")
        for label, value in (("content", content_weight), ("style", style_weight), ("tv", tv_weight)):
            if not np.isfinite(value) or value < 0:
                raise NSTError(f"the {label} weight must be a finite number >= 0, not {value}")
        self.extractor = extractor
        self.content_layers = list(content_layers)
        self.style_layers = list(style_layers)
        self.style_layer_weights = dict(style_layer_weights) if style_layer_weights else None
        self.weights = (float(content_weight), float(style_weight), float(tv_weight))
        content_features = extractor(content_image)
        style_features = extractor(style_image)
        self.content_targets = {n: tf.constant(content_features[n]) for n in self.content_layers}
        self.style_targets = {n: tf.constant(gram_matrix(style_features[n])) for n in self.style_layers}
        self._compiled = tf.function(self._value_and_gradient, reduce_retracing=True)

    def terms(self, image: tf.Tensor) -> dict[str, tf.Tensor]:
        features = self.extractor(image)
        content = tf.add_n([
            content_loss(features[n], self.content_targets[n]) for n in self.content_layers
        ]) / len(self.content_layers)
        grams = {n: gram_matrix(features[n]) for n in self.style_layers}
        style = style_loss(grams, self.style_targets, self.style_layer_weights)
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
        weights_source: where VGG19's weights came from.
        settings: the arguments of the run, for the record.
    """

    image: tf.Tensor
    history: pd.DataFrame
    best_step: int
    interrupted: bool
    weights_source: WeightsSource | None
    settings: dict = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        """Wall time of the optimization (s), excluding model loading."""
        return float(self.history["seconds"].iloc[-1]) if len(self.history) else 0.0


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
    """Keeps the history, the best image so far, the progress bar and the callback."""

    def __init__(self, steps: int, callback: Callback | None, callback_every: int, progress: bool):
        from tqdm.auto import tqdm

        self.rows: list[dict] = []
        self.best_total = np.inf
        self.best_image: np.ndarray | None = None
        self.best_step = 0
        self.start = time.perf_counter()
        self.callback, self.callback_every = callback, max(1, int(callback_every))
        self.bar = tqdm(total=steps, desc="stylizing", unit="step", disable=not progress)

    def consider(self, image: np.ndarray, total: float, step: int) -> None:
        """Remember ``image`` if it is the best seen so far."""
        if np.isfinite(total) and total < self.best_total:
            self.best_total, self.best_image, self.best_step = total, image.copy(), step

    def record(self, step: int, terms: Terms, image: np.ndarray) -> None:
        self.rows.append({"step": step, "seconds": time.perf_counter() - self.start, **terms})
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


def run_lbfgs(loss: StyleTransferLoss, image: tf.Tensor, steps: int, tracker: _Tracker) -> None:
    """SciPy's L-BFGS-B over the pixels with bounds [0, 1], at most ``steps`` iterations."""
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
        options={"maxiter": steps, "maxfun": int(steps * 1.5) + 10, "maxcor": 20,
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
            init: str = "content", seed: int = 0, learning_rate: float = 0.02,
            pooling: str = "max", weights: str | os.PathLike = "auto",
            extractor: FeatureExtractor | None = None,
            callback: Callback | None = None, callback_every: int | None = None,
            progress: bool = True, log: Callable[[str], None] = print) -> StyleResult:
    """Paint ``content`` in the style of ``style`` (Gatys, Ecker and Bethge 2015).

    Args:
        content, style: images as (1, H, W, 3) tensors in [0, 1], file paths, or names
            from :data:`nst_helpers.data.MANIFEST` (e.g. ``"tubingen"``, ``"starry_night"``).
        size: longest side of the result in pixels; the style image is resized to the
            same longest side. Default: 512 (64 in quick mode). ``None`` with a tensor
            keeps the tensor's size.
        steps: optimizer iterations. Default: 100 (5 in quick mode).
        optimizer: ``"lbfgs"`` (default) or ``"adam"``.
        content_weight, style_weight, tv_weight: alpha, beta, gamma of the objective.
        content_layers, style_layers, style_layer_weights: which VGG19 layers, and w_l.
        init: start from ``"content"`` (default), ``"style"`` or ``"noise"``.
        seed: for the noise initialisation.
        learning_rate: Adam's step size (pixels are in [0, 1]).
        pooling, weights: passed to :class:`FeatureExtractor` when none is given.
        extractor: reuse a FeatureExtractor (saves ~1 s of model building per call).
        callback: ``callback(step, image, terms)`` every ``callback_every`` steps.
        progress: show a progress bar.
        log: receives informational lines (the weights source among them).
    Returns:
        a :class:`StyleResult` with the best image and the loss history.
    """
    from .data import load_content, load_style  # local import: data is optional for tensors

    defaults = config.defaults()
    steps = _positive_int(defaults.steps if steps is None else steps, "steps")
    if optimizer not in OPTIMIZERS:
        raise NSTError(f"optimizer must be one of {OPTIMIZERS}, not {optimizer!r}")
    if init not in INITS:
        raise NSTError(f"init must be one of {INITS}, not {init!r}")
    if not (np.isfinite(learning_rate) and learning_rate > 0):
        raise NSTError(f"learning_rate must be > 0, not {learning_rate}")
    if size is None and not isinstance(content, (tf.Tensor, np.ndarray)):
        size = defaults.size
    if size is not None:
        size = _positive_int(size, "size")

    content_image = _as_image(content, size, load_content)
    style_image = _as_image(style, max(content_image.shape[1:3]), load_style)

    if extractor is None:
        extractor = FeatureExtractor([*style_layers, *content_layers], weights=weights,
                                     pooling=pooling, log=log)
        log(extractor.source.describe())
    loss = StyleTransferLoss(extractor, content_image, style_image, content_weight, style_weight,
                             tv_weight, content_layers, style_layers, style_layer_weights)
    start = initial_image(init, content_image, style_image, seed)

    tracker = _Tracker(steps, callback, callback_every or defaults.preview_every, progress)
    interrupted = False
    try:
        if optimizer == "adam":
            run_adam(loss, start, steps, tracker, learning_rate)
        else:
            run_lbfgs(loss, start, steps, tracker)
    except KeyboardInterrupt:
        interrupted = True
        log(f"Interrupted after {len(tracker.rows)} steps; returning the best image so far.")
    finally:
        tracker.close()
    best = tracker.best_image if tracker.best_image is not None else start.numpy()
    settings = {
        "size": max(content_image.shape[1:3]), "steps": steps, "optimizer": optimizer,
        "content_weight": content_weight, "style_weight": style_weight, "tv_weight": tv_weight,
        "content_layers": list(content_layers), "style_layers": list(style_layers),
        "init": init, "seed": seed, "pooling": extractor.pooling,
    }
    return StyleResult(
        image=tf.constant(best, tf.float32),
        history=pd.DataFrame(tracker.rows, columns=["step", "seconds", "total", "content", "style", "tv"]),
        best_step=tracker.best_step, interrupted=interrupted,
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
