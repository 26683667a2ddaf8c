"""The optimization loop: paint the content image in the style of the style image.

:func:`stylize` is the one call most users need. It minimizes the objective of
:mod:`nst_helpers.objective` over the pixels, starting from the photo (or the painting,
noise, or any image), with

* **L-BFGS** (default): SciPy's L-BFGS-B with the pixel bounds [0, 1]. A quasi-Newton
  method; it needs far fewer steps than Adam on this full-batch problem.
* **Adam**: Keras' Adam on a ``tf.Variable``, clipping to [0, 1] after each step.

Both return the best image they saw. Options live in one
:class:`~nst_helpers.settings.StyleSettings`; how a run is watched and stopped early
(progress, previews, Ctrl-C, a time limit) is in :mod:`nst_helpers.monitor`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import tensorflow as tf

from . import color
from .errors import NSTError
from .images import resize_max_dim, resize_to
from .inputs import RunInputs, initial_image, load_inputs
from .monitor import Callback, RunMonitor, as_floats
from .objective import StyleTransferLoss
from .schedule import coarse_to_fine
from .settings import StyleSettings
from .vgg import FeatureExtractor
from .weights import WeightsSource

LBFGS_MEMORY = 20  # past steps kept by L-BFGS; 8 and 50 were no faster (benchmarks/README.md)


@dataclass
class StyleResult:
    """What :func:`stylize` returns.

    Attributes:
        image: the best image found, (1, H, W, 3) float32 in [0, 1].
        history: one row per step, row 0 for the start image: ``step``, ``seconds`` (since
            the start), ``total`` (weighted), ``content``, ``style``, ``tv`` (unweighted),
            ``size`` (the longest side of the level it ran at).
        stop_reason: None for a finished run; else why it stopped early ("interrupted"
            for Ctrl-C, "stopped", or "time limit of ... s").
        evaluations: forward and backward passes through VGG19 in all.
        weights_source: where VGG19's weights came from.
        settings: the run's settings, with the actual size.
    """

    image: tf.Tensor
    history: pd.DataFrame
    stop_reason: str | None
    evaluations: int
    weights_source: WeightsSource | None
    settings: StyleSettings

    @property
    def interrupted(self) -> bool:
        """True if the run stopped before its last step."""
        return self.stop_reason is not None

    @property
    def steps(self) -> int:
        """Optimizer steps done (the history's rows after row 0)."""
        return max(0, len(self.history) - 1)

    @property
    def seconds(self) -> float:
        """Wall time of the optimization (s), excluding model loading."""
        return float(self.history["seconds"].iloc[-1]) if len(self.history) else 0.0


class Best:
    """The image with the lowest total loss seen so far (it starts as the start image)."""

    def __init__(self, image: tf.Tensor):
        self.image, self.total = tf.constant(image), np.inf

    def consider(self, image: tf.Tensor, total: float) -> None:
        if np.isfinite(total) and total < self.total:
            self.image, self.total = tf.constant(image), total


def run_adam(
    loss: StyleTransferLoss,
    image: tf.Tensor,
    steps: int,
    monitor: RunMonitor,
    learning_rate: float = 0.02,
) -> tf.Tensor:
    """``steps`` Adam updates of the pixels, clipped to [0, 1]; returns the best image."""
    variable = tf.Variable(image)
    optimizer = tf.keras.optimizers.Adam(learning_rate=learning_rate, beta_1=0.99, epsilon=0.1)
    best = Best(image)
    with monitor.stoppable():
        for step in range(steps + 1):
            terms, gradient = loss.value_and_gradient(variable)
            terms = as_floats(terms)
            best.consider(variable, terms["total"])
            monitor.record(terms, variable, first=step == 0)
            if step < steps:
                optimizer.apply_gradients([(gradient, variable)])
                variable.assign(tf.clip_by_value(variable, 0.0, 1.0))
    return best.image


def run_lbfgs(
    loss: StyleTransferLoss,
    image: tf.Tensor,
    steps: int,
    monitor: RunMonitor,
    memory: int = LBFGS_MEMORY,
) -> tf.Tensor:
    """SciPy's L-BFGS-B over the pixels with bounds [0, 1], at most ``steps`` iterations,
    its curvature estimate built from the last ``memory`` steps; returns the best image."""
    from scipy.optimize import Bounds, minimize

    shape, best, latest = image.shape, Best(image), {}

    def value_and_gradient(flat: np.ndarray) -> tuple[float, np.ndarray]:
        pixels = tf.constant(flat.reshape(shape), tf.float32)
        terms, gradient = loss.value_and_gradient(pixels)
        latest.update(terms=as_floats(terms), pixels=pixels)
        best.consider(pixels, latest["terms"]["total"])
        monitor.record(latest["terms"], pixels, first=True)  # the start image's row
        return latest["terms"]["total"], gradient.numpy().astype(np.float64).ravel()

    with monitor.stoppable():
        minimize(
            value_and_gradient,
            image.numpy().astype(np.float64).ravel(),
            jac=True,
            method="L-BFGS-B",
            bounds=Bounds(0.0, 1.0),
            callback=lambda _: monitor.record(latest["terms"], latest["pixels"]),
            options={
                "maxiter": steps,
                "maxfun": int(steps * 1.5) + 10,
                "maxcor": memory,
                "ftol": 0.0,
                "gtol": 0.0,
            },
        )
    return best.image


OPTIMIZERS: dict[str, Callable[..., tf.Tensor]] = {"lbfgs": run_lbfgs, "adam": run_adam}


def stylize(
    content,
    style,
    settings: StyleSettings | None = None,
    *,
    extractor: FeatureExtractor | None = None,
    callback: Callback | None = None,
    callback_every: int | None = None,
    should_stop: Callable[[], bool] | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
    **overrides,
) -> StyleResult:
    """Paint ``content`` in the style of ``style`` (Gatys, Ecker and Bethge 2015).

    Args:
        content: the photo: a (1, H, W, 3) tensor or array in [0, 1] (uint8 is converted),
            a file path, or a catalogue name such as ``"tubingen"``.
        style: the painting, in the same forms (e.g. ``"starry_night"``), or a list of them.
        settings: a :class:`StyleSettings`; keyword ``overrides`` change single values
            (``stylize(photo, painting, steps=50, style_weight=1e-3)``).
        extractor: reuse a :class:`FeatureExtractor` (saves building VGG19 each call).
        callback: ``callback(step, image, terms)`` every ``callback_every`` steps (previews).
        should_stop: polled after each step; returning True ends the run early.
        progress: show a progress bar. log: receives informational lines.
    Returns:
        a :class:`StyleResult` with the best image and the loss history.
    """
    settings = (settings or StyleSettings()).replace(**overrides)
    inputs, settings = load_inputs(content, style, settings)
    content_image, styles = color.prepare(settings.preserve_colors, inputs.content, inputs.styles)
    extractor = extractor or build_extractor(settings, log)
    image, losses = None, []
    with _monitor(
        settings, inputs.content, callback, callback_every, should_stop, progress
    ) as monitor:
        for level in coarse_to_fine(settings.size, settings.steps, settings.pyramid):
            with monitor.stoppable():
                photo = resize_max_dim(content_image, level.size)
                paintings = [_scaled(s, level.size / settings.size) for s in styles]
                losses.append(
                    StyleTransferLoss(extractor, photo, paintings, settings, masks=inputs.masks)
                )
                start = _start(image, photo, paintings[0], inputs.start, settings)
                monitor.size = level.size
                image = OPTIMIZERS[settings.optimizer](
                    losses[-1], start, level.steps, monitor, **_options(settings)
                )
            if monitor.stopped:
                break
    return _result(image, inputs, monitor, losses, extractor, settings, log)


def _scaled(image: tf.Tensor, factor: float) -> tf.Tensor:
    return image if factor == 1 else resize_max_dim(image, round(max(image.shape[1:3]) * factor))


def _start(
    previous: tf.Tensor | None,
    photo: tf.Tensor,
    painting: tf.Tensor,
    given: tf.Tensor | None,
    settings: StyleSettings,
) -> tf.Tensor:
    """The first level starts as ``init`` says; later ones from the last result, upsampled."""
    if previous is None:
        return initial_image(settings.init, photo, painting, settings.seed, given)
    return resize_to(previous, *photo.shape[1:3])


def _options(settings: StyleSettings) -> dict[str, float]:
    """The chosen optimizer's own settings."""
    return {"learning_rate": settings.learning_rate} if settings.optimizer == "adam" else {}


def build_extractor(
    settings: StyleSettings, log: Callable[[str], None] = print
) -> FeatureExtractor:
    """VGG19 computing the settings' layers, with their weights, pooling and network."""
    extractor = FeatureExtractor(
        [*settings.style_layers, *settings.content_layers],
        weights=settings.weights,
        pooling=settings.pooling,
        log=log,
        network=settings.network,
    )
    log(extractor.source.describe())
    return extractor


def _monitor(
    settings: StyleSettings,
    photo: tf.Tensor,
    callback: Callback | None,
    every: int | None,
    should_stop: Callable[[], bool] | None,
    progress: bool,
) -> RunMonitor:
    from . import config

    def shown(image: tf.Tensor) -> tf.Tensor:
        return color.finish(settings.preserve_colors, image, photo)

    return RunMonitor(
        settings.steps,
        callback,
        every or config.defaults().preview_every,
        should_stop,
        settings.max_seconds,
        progress,
        shown,
    )


def _result(
    image: tf.Tensor | None,
    inputs: RunInputs,
    monitor: RunMonitor,
    losses: list[StyleTransferLoss],
    extractor: FeatureExtractor,
    settings: StyleSettings,
    log: Callable[[str], None],
) -> StyleResult:
    """Pack the run: the image at full size with its colours finished, and the record."""
    if monitor.stopped:
        log(
            f"Stopped early ({monitor.stop_reason}) after {max(0, len(monitor.rows) - 1)} "
            "steps; returning the best image so far."
        )
    photo = inputs.content
    if image is None:  # stopped before the first level began
        image = initial_image(settings.init, photo, inputs.styles[0], settings.seed, inputs.start)
    image = color.finish(settings.preserve_colors, resize_to(image, *photo.shape[1:3]), photo)
    if (extractor.pooling, extractor.network) != (settings.pooling, settings.network):
        settings = settings.replace(pooling=extractor.pooling, network=extractor.network)
    return StyleResult(
        image,
        monitor.history(),
        monitor.stop_reason,
        sum(loss.evaluations for loss in losses),
        extractor.source,
        settings,
    )


__all__ = [
    "Best",
    "NSTError",
    "OPTIMIZERS",
    "StyleResult",
    "build_extractor",
    "run_adam",
    "run_lbfgs",
    "stylize",
]
