"""A run's inputs, loaded, sized and checked before any optimization starts.

The photo is sized to the result's size, each painting to ``style_scale`` times it, masks
to the photo, and a start image (``init=<file or tensor>``) too. Every image is checked at
every level of the coarse-to-fine schedule, so that a side too short for VGG19 is reported,
with its real cause, before the run instead of as a TensorFlow error in the middle of it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import tensorflow as tf

from . import config
from .data import load_content, load_style
from .errors import NSTError
from .images import as_image, resize_max_dim, resize_to
from .masks import as_mask
from .objective import check_count
from .schedule import coarse_to_fine
from .settings import INITS, MAX_SIZE, MIN_SIZE, StyleSettings

MIN_SIDE = MIN_SIZE  # pixels: VGG19 halves the image 4 times before block5_conv1


@dataclass(frozen=True)
class RunInputs:
    """Images ready for the run, all float32 in [0, 1].

    Attributes:
        content: (1, H, W, 3) at the result's size.
        styles: one (1, H_k, W_k, 3) per painting, longest side ``style_scale`` x the result's.
        masks: one (1, H, W, 1) per painting, or None.
        start: the start image (1, H, W, 3) when ``init`` is a file or tensor, else None.
    """

    content: tf.Tensor
    styles: list[tf.Tensor]
    masks: list[tf.Tensor] | None
    start: tf.Tensor | None


def load_inputs(
    content: Any, style: Any, settings: StyleSettings
) -> tuple[RunInputs, StyleSettings]:
    """Load and size every image of a run; returns them and the settings with the actual size.

    ``content`` and each ``style`` are a (1, H, W, 3) tensor or array, a file path or a name
    from the image catalogue; ``style`` may be a list. Raises NSTError before the run.
    """
    size = settings.size
    if size is None and not hasattr(content, "shape"):
        size = config.defaults().size
    photo = _image(content, size, load_content, "the content image")
    check_sizes(photo, [], settings)  # before the style's size is derived from it
    full = max(photo.shape[1:3])
    sources = list(style) if isinstance(style, (list, tuple)) else [style]
    if not sources:
        raise NSTError("give at least one style image")
    check_count(settings.style_blend, len(sources), "blend weight")
    style_size = _style_size(full, settings.style_scale)
    paintings = [
        _image(s, style_size, load_style, f"style image {k + 1}") for k, s in enumerate(sources)
    ]
    check_sizes(photo, paintings, settings)
    height, width = photo.shape[1:3]
    masks = None if settings.masks is None else [as_mask(m, height, width) for m in settings.masks]
    check_count(masks, len(paintings), "mask")
    start = (
        None
        if isinstance(settings.init, str) and settings.init in INITS
        else resize_to(_image(settings.init, None, load_content, "the start image"), height, width)
    )
    return RunInputs(photo, paintings, masks, start), settings.replace(size=full)


def _image(source: Any, size: int | None, load: Callable, what: str) -> tf.Tensor:
    """(1, H, W, 3) float32 in [0, 1] from a tensor, array, path or catalogue name."""
    if hasattr(source, "shape"):
        image = as_image(source, what)
        return image if size is None else resize_max_dim(image, size)
    return load(source, max_dim=size)


def _style_size(full: int, scale: float) -> int:
    size = round(full * scale)
    if not MIN_SIDE <= size <= MAX_SIZE:
        raise NSTError(
            f"style_scale {scale:g} makes the style image {size} px on its longest "
            f"side; keep it in {MIN_SIDE}..{MAX_SIZE}"
        )
    return size


def check_sizes(content: tf.Tensor, styles: Sequence[tf.Tensor], settings: StyleSettings) -> None:
    """Both sides of every image at every pyramid level must be >= 16 px; names the cause."""
    full = max(content.shape[1:3])
    levels = coarse_to_fine(full, settings.steps, settings.pyramid)
    images = {
        "the content image": content,
        **{f"style image {k + 1}": s for k, s in enumerate(styles)},
    }
    for what, image in images.items():
        for number, level in enumerate(levels, start=1):
            short = min(image.shape[1:3]) * level.size / full
            if short < MIN_SIDE:
                raise NSTError(_too_small(what, image, short, number, settings))


def _too_small(
    what: str, image: tf.Tensor, short: float, level: int, settings: StyleSettings
) -> str:
    """Why ``image`` gets a side under 16 px: the pyramid, the style scale or its shape."""
    height, width = image.shape[1:3]
    found = f"{what} ({width}x{height} px) is too small"
    if level < settings.pyramid:
        return (
            f"{found} for {settings.pyramid} pyramid levels: at pyramid level {level} of "
            f"{settings.pyramid} its short side would be {short:.0f} px, and VGG19 needs "
            f"{MIN_SIDE}; use fewer levels or a larger size"
        )
    if what != "the content image" and settings.style_scale < 1:
        return (
            f"{found} after style_scale {settings.style_scale:g}: VGG19 needs {MIN_SIDE} px "
            "on each side; use a larger style_scale"
        )
    if max(height, width) >= 8 * max(1, min(height, width)):
        return (
            f"{found}: its short side is under {MIN_SIDE} px, which VGG19 needs, because it "
            f"is {max(height, width) / max(1, min(height, width)):.0f} times longer than "
            "wide; crop it to a less elongated shape"
        )
    return f"{found}: VGG19 needs at least {MIN_SIDE} px on each side; use a larger size"


def noise_like(image: tf.Tensor, seed: int) -> tf.Tensor:
    """Uniform noise in [0, 1] of ``image``'s shape, the same for the same seed."""
    return tf.random.Generator.from_seed(seed).uniform(tf.shape(image), 0.0, 1.0)


def initial_image(
    init: str, content: tf.Tensor, style: tf.Tensor, seed: int = 0, start: tf.Tensor | None = None
) -> tf.Tensor:
    """The start of the optimization at ``content``'s size: the content, the (first) style
    resized to it, noise, or the given ``start`` image."""
    if start is not None:
        return resize_to(start, *content.shape[1:3])
    if init == "content":
        return tf.identity(content)
    if init == "style":
        return resize_to(style, *content.shape[1:3])
    if init == "noise":
        return noise_like(content, seed)
    raise NSTError(f"init must be one of {INITS}, not {init!r}")
