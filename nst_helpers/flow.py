"""Optical flow for video style transfer: estimate it, check it, warp with it, measure flicker.

Following Ruder, Dosovitskiy and Brox (2016), *Artistic Style Transfer for Videos*, a
stylized frame is kept consistent with the previous one by warping the previous result
along the optical flow and penalising differences where the flow is reliable.

The flow convention (the whole package uses it: :mod:`nst_helpers.clips`, this module)
--------------------------------------------------------------------------------------
A flow is a float32 array ``(H, W, 2)`` in pixels: channel 0 is ``dx`` (towards the right),
channel 1 is ``dy`` (downwards); pixel ``(x, y)`` is column ``x``, row ``y``, with pixel
centres at whole numbers. Flows here are **backward** flows, stored on the later frame:
for a ``previous`` frame (time t) and a ``current`` frame (t + 1), ``flow[y, x] = (dx, dy)``
says that the pixel ``(x, y)`` of ``current`` shows what was at ``(x + dx, y + dy)`` in
``previous``::

    current(p) ≈ previous(p + flow(p)),    so    warp(previous, flow) ≈ current.

A camera panning right by 2 pixels a frame gives the flow ``(2, 0)`` everywhere (the scene
slides left in the picture). The *forward* flow of the same pair is
``estimate_flow(current, previous)``: ``previous(p) ≈ current(p + forward(p))``.

Decisions: flows are estimated with OpenCV's DIS (dense inverse search, Kroeger et al.
2016; ``opencv-python-headless``, the package's one video dependency, also used for MP4
in :mod:`nst_helpers.video`), fast on a CPU and good enough for the consistency check.
The warp is written in TensorFlow (no tensorflow-addons) so that losses built on it are
differentiable; :func:`warp_array` is the same warp in NumPy for masks and tests.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from .errors import NSTError
from .images import ImageLike, to_uint8
from .video import require_opencv

DISOCCLUSION = (0.01, 0.5)
"""Ruder et al. (2016), their disocclusion test: |w̃ + ŵ|² > 0.01 (|w̃|² + |ŵ|²) + 0.5."""

MOTION_BOUNDARY = (0.01, 0.002)
"""Ruder et al. (2016), their motion-boundary test: |∇û|² + |∇v̂|² > 0.01 |ŵ|² + 0.002."""


# --------------------------------------------------------------------------- NumPy warp


def pixel_grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The pixel coordinates ``(x, y)``, two float64 arrays ``(height, width)``."""
    y, x = np.mgrid[0:height, 0:width]
    return x.astype(np.float64), y.astype(np.float64)


def bilinear_sample(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Sample ``image`` ``(H, W)`` or ``(H, W, C)`` at the points ``(x, y)`` (pixels), bilinearly.

    Coordinates outside the image are clamped to its border (the edge pixels repeat).
    Returns float64 of shape ``x.shape`` (plus ``(C,)`` for a colour image).
    """
    image = np.asarray(image, dtype=np.float64)
    height, width = image.shape[:2]
    x = np.clip(x, 0.0, width - 1.0)
    y = np.clip(y, 0.0, height - 1.0)
    x0, y0 = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    x1, y1 = np.minimum(x0 + 1, width - 1), np.minimum(y0 + 1, height - 1)
    wx, wy = x - x0, y - y0
    if image.ndim == 3:
        wx, wy = wx[..., np.newaxis], wy[..., np.newaxis]
    top = image[y0, x0] * (1 - wx) + image[y0, x1] * wx
    bottom = image[y1, x0] * (1 - wx) + image[y1, x1] * wx
    return top * (1 - wy) + bottom * wy


def warp_array(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """NumPy version of :func:`warp` for one image: ``out(p) = image(p + flow(p))``.

    ``image`` ``(H, W)`` or ``(H, W, C)``, ``flow`` ``(H, W, 2)`` in pixels; float64 result.
    """
    x, y = pixel_grid(*np.shape(flow)[:2])
    return bilinear_sample(image, x + flow[..., 0], y + flow[..., 1])


# ------------------------------------------------------------------------ estimating


def _gray(image: ImageLike) -> np.ndarray:
    """An RGB image (``(H, W, 3)`` or ``(1, H, W, 3)``, float in [0, 1] or uint8) as uint8 gray."""
    return require_opencv().cvtColor(to_uint8(image), require_opencv().COLOR_RGB2GRAY)


def estimate_flow(previous: ImageLike, current: ImageLike) -> np.ndarray:
    """The backward flow ``(H, W, 2)`` float32 (pixels) of ``current`` into ``previous``.

    ``warp(previous, estimate_flow(previous, current)) ≈ current``. Frames are RGB
    ``(H, W, 3)`` or ``(1, H, W, 3)``, float in [0, 1] or uint8, of one size. Uses OpenCV's
    DIS optical flow (medium preset) on the gray frames.
    """
    cv2 = require_opencv()
    before, after = _gray(previous), _gray(current)
    if before.shape != after.shape:
        raise NSTError(
            f"the frames differ in size ({before.shape[1]}x{before.shape[0]} and "
            f"{after.shape[1]}x{after.shape[0]}); optical flow needs frames of one size."
        )
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return dis.calc(after, before, None).astype(np.float32)


def reliable_flow(previous: ImageLike, current: ImageLike) -> tuple[np.ndarray, np.ndarray]:
    """The backward flow of ``current`` into ``previous`` and its reliability mask.

    Returns ``(flow (H, W, 2) float32, mask (H, W) float32)``: both directions are
    estimated and checked with :func:`consistency_mask`.
    """
    backward = estimate_flow(previous, current)
    forward = estimate_flow(current, previous)
    return backward, consistency_mask(forward, backward)


# ----------------------------------------------------------------------- reliability


def consistency_mask(
    forward: np.ndarray, backward: np.ndarray, motion_boundaries: bool = True
) -> np.ndarray:
    """Where the backward flow can be trusted: ``(H, W)`` float32, 1 reliable, 0 not.

    The forward-backward check of Ruder, Dosovitskiy and Brox (2016) (in their section on the
    temporal consistency loss), on the later frame: ``backward`` is ŵ = (û, v̂) (this
    module's flow of ``current`` into ``previous``), ``forward`` is w (``previous`` into
    ``current``), and w̃(p) = w(p + ŵ(p)) is the forward flow brought to the later frame. A pixel is
    unreliable (0) where

    * it came from outside the previous frame (p + ŵ(p) off the picture: the border
      entering the view);
    * disocclusion: |w̃ + ŵ|² > 0.01 (|w̃|² + |ŵ|²) + 0.5;
    * motion boundary, unless ``motion_boundaries`` is False:
      |∇û|² + |∇v̂|² > 0.01 |ŵ|² + 0.002 (central differences, in pixels).

    The authors' checker (``consistencyChecker.cpp``) also smooths the mask; this one stays
    binary.
    """
    forward, backward = np.asarray(forward, np.float64), np.asarray(backward, np.float64)
    if forward.shape != backward.shape or backward.ndim != 3 or backward.shape[-1] != 2:
        raise NSTError(
            f"the flows have shapes {forward.shape} and {backward.shape}; "
            "expected two (H, W, 2) arrays of one size."
        )
    x, y = pixel_grid(*backward.shape[:2])
    x, y = x + backward[..., 0], y + backward[..., 1]
    height, width = backward.shape[:2]
    inside = (x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1)
    reliable = inside & ~_disoccluded(bilinear_sample(forward, x, y), backward)
    if motion_boundaries:
        reliable &= ~_motion_boundary(backward)
    return reliable.astype(np.float32)


def _squared_length(flow: np.ndarray) -> np.ndarray:
    """|flow|² per pixel, ``(H, W)``."""
    return np.sum(flow**2, axis=-1)


def _disoccluded(carried: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """Ruder et al.'s disocclusion test with w̃ = ``carried``: True where the round trip
    does not return."""
    slope, offset = DISOCCLUSION
    allowed = slope * (_squared_length(carried) + _squared_length(backward)) + offset
    return _squared_length(carried + backward) > allowed


def _motion_boundary(backward: np.ndarray) -> np.ndarray:
    """Ruder et al.'s motion-boundary test: True where the backward flow changes fast from
    pixel to pixel."""
    slope, offset = MOTION_BOUNDARY
    gradients = np.gradient(backward, axis=(0, 1))  # d/dy and d/dx of both components
    edge = sum(np.sum(g**2, axis=-1) for g in gradients)
    return edge > slope * _squared_length(backward) + offset


# ------------------------------------------------------------------ TensorFlow warp


def warp(image: ImageLike, flow: ImageLike) -> tf.Tensor:
    """Warp ``image`` along a backward flow: ``out(p) = image(p + flow(p))``, differentiable.

    ``image`` is ``(B, H, W, C)`` or ``(H, W, C)``, ``flow`` ``(B, H, W, 2)`` or ``(H, W, 2)``
    in pixels (``dx``, ``dy``); a batch of 1 is broadcast against the other's batch. Bilinear
    sampling; points outside the image are clamped to its border (edge pixels repeat: check
    the mask, not the warped values, there). Gradients reach ``image`` and ``flow`` (none
    for the flow where it is clamped). Returns float32, rank 3 only when both are rank 3.
    """
    image = tf.convert_to_tensor(image, tf.float32)
    flow = tf.convert_to_tensor(flow, tf.float32)
    single = image.shape.rank == 3 and flow.shape.rank == 3
    images = image[tf.newaxis] if image.shape.rank == 3 else image
    flows = flow[tf.newaxis] if flow.shape.rank == 3 else flow
    _check_warp_shapes(images, flows)
    batch = tf.maximum(tf.shape(images)[0], tf.shape(flows)[0])
    images = tf.broadcast_to(images, tf.concat([[batch], tf.shape(images)[1:]], 0))
    flows = tf.broadcast_to(flows, tf.concat([[batch], tf.shape(flows)[1:]], 0))
    warped = _bilinear(images, flows)
    return warped[0] if single else warped


def _check_warp_shapes(images: tf.Tensor, flows: tf.Tensor) -> None:
    """NSTError unless ``images`` ``(B, H, W, C)`` and ``flows`` ``(B', H, W, 2)`` fit."""
    image_shape, flow_shape = images.shape.as_list(), flows.shape.as_list()
    batches = {image_shape[0], flow_shape[0]} - {1, None}
    if (
        len(image_shape) != 4
        or len(flow_shape) != 4
        or flow_shape[-1] != 2
        or image_shape[1:3] != flow_shape[1:3]
        or len(batches) > 1
    ):
        raise NSTError(
            f"cannot warp an image of shape {image_shape} with a flow of shape {flow_shape}; "
            "expected (B, H, W, C) and (B, H, W, 2) (or without B) of one height and width."
        )


def _bilinear(images: tf.Tensor, flows: tf.Tensor) -> tf.Tensor:
    """Bilinear samples of ``images`` ``(B, H, W, C)`` at ``p + flows(p)``, border clamped."""
    shape = tf.shape(images)
    height, width = shape[1], shape[2]
    rows, cols = tf.meshgrid(tf.range(height), tf.range(width), indexing="ij")
    x = _clamp(tf.cast(cols, tf.float32) + flows[..., 0], width)
    y = _clamp(tf.cast(rows, tf.float32) + flows[..., 1], height)
    x0, y0 = tf.floor(x), tf.floor(y)
    wx, wy = (x - x0)[..., tf.newaxis], (y - y0)[..., tf.newaxis]
    x0, y0 = tf.cast(x0, tf.int32), tf.cast(y0, tf.int32)
    x1, y1 = tf.minimum(x0 + 1, width - 1), tf.minimum(y0 + 1, height - 1)
    pixels = tf.reshape(images, [shape[0], height * width, shape[3]])

    def at(yi: tf.Tensor, xi: tf.Tensor) -> tf.Tensor:
        return tf.gather(pixels, yi * width + xi, batch_dims=1)

    top = at(y0, x0) * (1 - wx) + at(y0, x1) * wx
    bottom = at(y1, x0) * (1 - wx) + at(y1, x1) * wx
    return top * (1 - wy) + bottom * wy


def _clamp(coordinate: tf.Tensor, size: tf.Tensor) -> tf.Tensor:
    """Clip pixel coordinates to ``[0, size - 1]``."""
    return tf.clip_by_value(coordinate, 0.0, tf.cast(size - 1, tf.float32))


# ------------------------------------------------------------------------- flicker


def _frame(image: ImageLike, what: str) -> tf.Tensor:
    """``(H, W, C)`` or ``(1, H, W, C)`` as a float32 ``(H, W, C)`` tensor."""
    image = tf.convert_to_tensor(image, tf.float32)
    if image.shape.rank == 4 and image.shape[0] == 1:
        image = image[0]
    if image.shape.rank != 3:
        raise NSTError(f"{what} has shape {image.shape.as_list()}; expected (H, W, C).")
    return image


def flicker_score(
    previous_output: ImageLike,
    current_output: ImageLike,
    flow: ImageLike,
    mask: ImageLike | None = None,
) -> float:
    """The masked warping error between two consecutive results (lower = less flicker).

    ``mean_p c(p) · mean_channels (current(p) - warp(previous, flow)(p))²  /  mean_p c(p)``:
    the squared difference between ``current_output`` and the previous output carried
    along the backward ``flow`` (``(H, W, 2)``, pixels), averaged over the reliable pixels
    (``mask`` ``(H, W)``, 1 reliable, 0 not; all pixels when None) and the colour channels.
    Outputs are ``(H, W, 3)`` or ``(1, H, W, 3)`` in [0, 1], so the score is in [0, 1]
    (pixel units squared): 0 for a perfectly steady result, 1/6 for independent uniform
    noise. It is the masked warping error Ruder et al. (2016) compare methods with in their
    experiments; their normalisation may differ from this one.
    """
    previous = _frame(previous_output, "previous_output")
    current = _frame(current_output, "current_output")
    carried = warp(previous, _frame(flow, "flow"))
    if carried.shape != current.shape:
        raise NSTError(
            f"the outputs have shapes {previous.shape.as_list()} and {current.shape.as_list()}"
            f" and the flow {np.shape(flow)}; they must share one height and width."
        )
    squared = tf.reduce_mean(tf.square(current - carried), axis=-1)
    weights = tf.ones_like(squared) if mask is None else tf.cast(mask, tf.float32)
    total = float(tf.reduce_sum(weights))
    if weights.shape != squared.shape or total <= 0:
        raise NSTError(
            f"the mask has shape {weights.shape.as_list()} and weight {total:g}; expected "
            f"{squared.shape.as_list()} with at least one reliable pixel."
        )
    return float(tf.reduce_sum(weights * squared)) / total


def clip_flicker(
    frames: Sequence[ImageLike],
    flows: Sequence[ImageLike],
    masks: Sequence[ImageLike] | None = None,
) -> float:
    """:func:`flicker_score` averaged over the consecutive pairs of a clip.

    ``flows[t]`` (and ``masks[t]``) belong to the pair ``frames[t]``, ``frames[t + 1]``:
    the backward flow of frame t + 1 into frame t. Needs at least two frames.
    """
    pairs = len(frames) - 1
    if pairs < 1 or len(flows) != pairs or (masks is not None and len(masks) != pairs):
        raise NSTError(
            f"got {len(frames)} frames, {len(flows)} flows and "
            f"{'no' if masks is None else len(masks)} masks; a clip of N >= 2 frames needs "
            "N - 1 flows (and masks), one per consecutive pair."
        )
    masks = [None] * pairs if masks is None else masks
    scores = [flicker_score(frames[t], frames[t + 1], flows[t], masks[t]) for t in range(pairs)]
    return float(np.mean(scores))


# --------------------------------------------------------------------------- showing


def flow_to_colour(flow: np.ndarray, max_magnitude: float | None = None) -> np.ndarray:
    """A picture of a flow ``(H, W, 2)``: uint8 ``(H, W, 3)`` on the colour wheel.

    Hue is the direction of the vector ``(dx, dy)`` (y downwards): red points right,
    yellow-green down, cyan left, blue-violet up. Saturation is the length divided by
    ``max_magnitude`` (default: the longest vector), so no motion is white.
    """
    from matplotlib.colors import hsv_to_rgb

    flow = np.asarray(flow, dtype=np.float64)
    magnitude = np.hypot(flow[..., 0], flow[..., 1])
    scale = max_magnitude or float(magnitude.max()) or 1.0
    hue = (np.arctan2(flow[..., 1], flow[..., 0]) / (2 * np.pi)) % 1.0
    saturation = np.clip(magnitude / scale, 0.0, 1.0)
    rgb = hsv_to_rgb(np.stack([hue, saturation, np.ones_like(hue)], axis=-1))
    return np.round(rgb * 255).astype(np.uint8)
