"""Video without flicker: each frame painted in the light of the previous one.

Painting every frame on its own flickers: nothing ties one frame's strokes to the next.
Ruder, Dosovitskiy and Brox (2016), "Artistic Style Transfer for Videos", follow the motion
instead. The previous painted frame is warped along the optical flow into the new frame's
place, where the flow is reliable (:func:`nst_helpers.flow.consistency_mask`). The new frame
starts from it (their short-term consistency by initialization), and their temporal
consistency loss penalises change there:

.. math:: L_{temporal}(x, \\omega, c) = \\frac{1}{D} \\sum_k c_k (x_k - \\omega_k)^2

where ``omega`` is the warped previous result, ``c`` the reliability (0 or 1) and ``D`` the
number of values. Three methods share one interface, a :class:`FramePainter` called with the
frame and what came before it:

- ``per-frame``: optimization from each frame alone (the baseline that flickers);
- ``temporal``: optimization started from the warped previous result, with the temporal loss;
- ``fast``: a real-time network (notebook 08) per frame, its output blended with the warped
  previous output where the flow is reliable (``blend`` of the previous, the rest new). A
  *steady* network, fine-tuned with the temporal loss (:mod:`.steady`), needs no blend: it
  is used in place of the painting's network when one is shipped
  (:func:`nst_helpers.fast.steady_version`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from . import config
from .errors import NSTError
from .flow import reliable_flow, warp
from .monitor import RunMonitor
from .objective import StyleTransferLoss
from .optimize import build_extractor, run_lbfgs
from .settings import StyleSettings
from .validate import SettingError, finite_number, positive_int

METHODS = ("per-frame", "temporal", "fast")


@dataclass(frozen=True)
class VideoSettings:
    """How a clip is painted. ``size``: the frames' longest side in pixels; ``steps``: L-BFGS
    iterations for a frame painted from scratch (every frame of ``per-frame``, the first of
    ``temporal``); ``temporal_steps``: for the later frames of ``temporal``, which start from
    the previous result; ``temporal_weight``: the weight of :func:`temporal_loss` beside the
    course's content, style and TV weights; ``blend``: ``fast``'s share of the warped
    previous output where the flow is reliable (None: 0 for a steady network, trained with
    the temporal loss, and 0.5 for any other)."""

    method: str = "temporal"
    size: int = field(default_factory=lambda: config.pick(full=256, quick=48))
    steps: int = field(default_factory=lambda: config.pick(full=100, quick=4))
    temporal_steps: int = field(default_factory=lambda: config.pick(full=50, quick=2))
    temporal_weight: float = 1e8
    blend: float | None = None

    def __post_init__(self):
        if self.method not in METHODS:
            raise SettingError("method", f"method must be one of {METHODS}, not {self.method!r}")
        positive_int(self.size, "size", low=16, high=4096)
        positive_int(self.steps, "steps")
        positive_int(self.temporal_steps, "temporal_steps")
        finite_number(self.temporal_weight, "temporal_weight")
        if self.blend is not None and not 0.0 <= finite_number(self.blend, "blend") < 1.0:
            raise SettingError("blend", f"blend must be at least 0 and below 1, not {self.blend}")

    def replace(self, **changes) -> VideoSettings:
        return dataclasses.replace(self, **changes)


@dataclass
class Previous:
    """What the painter of a frame knows of the frame before: its painted result warped into
    this frame's place (1, H, W, 3), and where that warp is reliable (1, H, W, 1), 0 or 1."""

    warped: tf.Tensor
    reliable: tf.Tensor


def temporal_loss(image: tf.Tensor, warped: tf.Tensor, reliable: tf.Tensor) -> tf.Tensor:
    """Ruder et al.'s temporal loss: the squared change from ``warped`` where ``reliable`` is
    1, divided by the number of values D (image (1, H, W, 3), reliable (1, H, W, 1))."""
    change = reliable * tf.square(image - warped)
    return tf.reduce_sum(change) / tf.cast(tf.size(image), tf.float32)


class TemporalStyleLoss(StyleTransferLoss):
    """The style transfer objective plus ``temporal_weight`` times :func:`temporal_loss`
    (its unweighted value is the ``temporal`` term)."""

    def __init__(self, extractor, frame, paintings, settings, previous: Previous, weight: float):
        self.previous, self.temporal_weight = previous, weight
        super().__init__(extractor, frame, paintings, settings)

    def terms(self, image: tf.Tensor) -> dict[str, tf.Tensor]:
        terms = super().terms(image)
        temporal = temporal_loss(image, self.previous.warped, self.previous.reliable)
        return {**terms, "total": terms["total"] + self.temporal_weight * temporal,
                "temporal": temporal}  # fmt: skip


def previous_for(output: tf.Tensor, flow: np.ndarray, reliable: np.ndarray) -> Previous:
    """The previous painted frame (1, H, W, 3) carried along ``flow`` into the next one's
    place, with its reliability."""
    warped = warp(output, tf.constant(flow[None], tf.float32))
    return Previous(tf.clip_by_value(warped, 0.0, 1.0), tf.constant(reliable[None, ..., None]))


class FramePainter:
    """Paints one frame (1, H, W, 3) in [0, 1] given what came before (None for the first)."""

    def __call__(self, frame: tf.Tensor, previous: Previous | None) -> tf.Tensor:
        raise NotImplementedError


class OptimizationPainter(FramePainter):
    """Gatys et al.'s optimization per frame (L-BFGS from the frame itself); with
    ``temporal`` the later frames start from the warped previous result where it is reliable
    and add the temporal loss."""

    def __init__(self, paintings: list[tf.Tensor], settings: VideoSettings, temporal: bool):
        self.style = StyleSettings(size=settings.size)
        self.extractor = build_extractor(self.style, log=lambda line: None)
        self.paintings, self.settings, self.temporal = paintings, settings, temporal

    def __call__(self, frame: tf.Tensor, previous: Previous | None) -> tf.Tensor:
        if previous is None or not self.temporal:
            loss = StyleTransferLoss(self.extractor, frame, self.paintings, self.style)
            return optimize(loss, frame, self.settings.steps)
        loss = TemporalStyleLoss(
            self.extractor, frame, self.paintings, self.style, previous,
            self.settings.temporal_weight,
        )  # fmt: skip
        start = previous.reliable * previous.warped + (1 - previous.reliable) * frame
        return optimize(loss, start, self.settings.temporal_steps)


def optimize(loss: StyleTransferLoss, start: tf.Tensor, steps: int) -> tf.Tensor:
    """``steps`` L-BFGS iterations from ``start``; Ctrl-C is raised again (the frame is not
    finished, so it must not be kept)."""
    with RunMonitor(steps, progress=False) as monitor:
        image = run_lbfgs(loss, start, steps, monitor)
    if monitor.stop_reason == "interrupted":
        raise KeyboardInterrupt
    return image


class FastPainter(FramePainter):
    """A real-time network per frame (:func:`nst_helpers.fast.paint`), blended with the
    warped previous output where it is reliable: ``blend`` of the old, the rest new."""

    def __init__(self, model: str, settings: VideoSettings):
        from .fast import is_steady, load_model

        self.network, self.record = load_model(model)
        self.blend = settings.blend
        if self.blend is None:
            self.blend = 0.0 if is_steady(self.record) else DEFAULT_BLEND

    def __call__(self, frame: tf.Tensor, previous: Previous | None) -> tf.Tensor:
        from .fast import paint

        painted = paint(self.network, frame)
        if previous is None:
            return painted
        keep = self.blend * previous.reliable
        return keep * previous.warped + (1 - keep) * painted


DEFAULT_BLEND = 0.5  # fast's blend for a network trained on photos only


def make_painter(style, settings: VideoSettings) -> FramePainter:
    """The painter of ``settings.method``: ``style`` is a painting (1, H, W, 3) for the
    optimization methods, a real-time network's name or file for ``fast``."""
    if settings.method == "fast":
        if not isinstance(style, str):
            raise NSTError("the fast method needs a trained network: a shipped name or a file")
        return FastPainter(style, settings)
    return OptimizationPainter([style], settings, temporal=settings.method == "temporal")


def paint_frames(
    frames: Iterable[np.ndarray],
    painter: FramePainter,
    before: np.ndarray | None = None,
    output: np.ndarray | None = None,
) -> Iterator[np.ndarray]:
    """Each frame (H, W, 3) in [0, 1] painted, in order, one at a time (a clip of any length
    streams through: only the previous frame and its result are kept). ``before`` and
    ``output``: the frame that came before the first one and its painted result, to carry
    on from where an earlier run stopped."""
    for frame in frames:
        previous = None
        if before is not None:
            flow, reliable = reliable_flow(before, frame)
            previous = previous_for(tf.constant(output[None], tf.float32), flow, reliable)
        output = painter(tf.constant(frame[None], tf.float32), previous)[0].numpy()
        before = frame
        yield output
