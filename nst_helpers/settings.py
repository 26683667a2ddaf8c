"""Every option of a style transfer run, in one frozen, self-validating object.

``StyleSettings()`` holds the defaults; ``StyleSettings(style_weight=1e-3)`` or
``settings.replace(steps=50)`` change some. Each value is checked once, here, when the
object is made, so :func:`nst_helpers.stylize`, the command line (its options are made
from these fields) and the studio share one list of options and one set of checks. A run's
settings are saved as JSON (:meth:`StyleSettings.to_json`) and loaded back
(:meth:`StyleSettings.from_json`) to repeat the run.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import config
from .color import PRESERVE_COLORS
from .errors import NSTError
from .files import atomic_write
from .validate import SettingError, finite_number, positive_int
from .vgg import CONTENT_LAYERS, NETWORKS, STYLE_LAYERS, check_layers

OPTIMIZERS = ("lbfgs", "adam")
INITS = ("content", "style", "noise")
POOLINGS = ("max", "avg")
WEIGHT_SOURCES = ("auto", "imagenet", "compact")
MIN_SIZE, MAX_SIZE = 16, 4096  # pixels: VGG19 halves an image 4 times before block5_conv1
MAX_STEPS = 100_000
MAX_PYRAMID = 6


def _option(default: Any, help: str, **cli: Any) -> Any:
    """A settings field; ``help`` and ``cli`` (argparse keywords) make its command-line option."""
    factory = {"default_factory": default} if callable(default) else {"default": default}
    return field(**factory, metadata={"help": help, **cli})


@dataclass(frozen=True)
class StyleSettings:
    """The options of one run. Images (content, styles) are the run's inputs, not settings.

    Sizes are in pixels; weights are alpha, beta, gamma of L = alpha L_c + beta L_s + gamma L_tv.
    """

    size: int | None = _option(
        None,
        "longest side of the result in pixels (default 512, "
        "64 in quick mode; an image tensor keeps its size)",
        type=int,
    )
    steps: int = _option(
        lambda: config.defaults().steps,
        "optimizer iterations in all (default 100, 5 in quick mode)",
        type=int,
    )
    optimizer: str = _option(
        "lbfgs", "lbfgs (SciPy's L-BFGS-B with pixel bounds) or adam", choices=OPTIMIZERS
    )
    content_weight: float = _option(1.0, "alpha, the content term's weight", type=float)
    style_weight: float = _option(5e-4, "beta, the style term's weight", type=float)
    tv_weight: float = _option(1e4, "gamma, the total variation term's weight", type=float)
    content_layers: tuple[str, ...] = _option(
        CONTENT_LAYERS, "VGG19 content layer(s); none for texture synthesis", nargs="*"
    )
    style_layers: tuple[str, ...] = _option(STYLE_LAYERS, "VGG19 style layers", nargs="+")
    style_layer_weights: tuple[float, ...] | None = _option(
        None, "one weight per style layer (default: equal)", nargs="+", type=float
    )
    style_blend: tuple[float, ...] | None = _option(
        None, "one weight per style, summing to 1 (default: equal)", nargs="+", type=float
    )
    masks: tuple | None = _option(
        None,
        "one mask image per style: white = this style here, black = keep the photo",
        nargs="+",
        dest="masks",
    )
    preserve_colors: str | None = _option(
        None,
        "keep the photo's colours: stylize the luminance only, or recolour the style "
        "to the photo's colours first",
        choices=PRESERVE_COLORS,
    )
    style_scale: float = _option(
        1.0, "style image size relative to the result; >1 paints bigger strokes", type=float
    )
    pyramid: int = _option(
        1, "coarse-to-fine levels: --size 1024 --pyramid 3 runs 256, 512, 1024 px", type=int
    )
    init: Any = _option("content", "starting image: content, style, noise or an image file")
    seed: int = _option(0, "seed for --init noise", type=int)
    learning_rate: float = _option(0.02, "Adam's step size (pixels are in [0, 1])", type=float)
    pooling: str = _option("max", "VGG19 pooling: max (as trained) or avg", choices=POOLINGS)
    network: str = _option(
        "plain",
        "VGG19 as trained (plain), or rescaled so that every filter's mean activation over "
        "the course's images is 1, as in Gatys et al. 2015 (normalized; its features are "
        "hundreds of times smaller: use it with --style-weight 10 --tv-weight 0.3)",
        choices=NETWORKS,
    )
    weights: str = _option(
        "auto", "VGG19 weights: auto, imagenet, compact or a .h5/.npz/.whl/.bin file"
    )
    max_seconds: float | None = _option(
        None, "stop after this many seconds and keep the best image", type=float
    )

    def __post_init__(self) -> None:
        for name, value in _checked(self).items():
            object.__setattr__(self, name, value)

    def replace(self, **changes: Any) -> StyleSettings:
        """A copy with some values changed (and checked); unknown names are refused."""
        unknown = sorted(set(changes) - set(setting_names()))
        if unknown:
            raise NSTError(f"unknown setting(s) {unknown}; the settings are {setting_names()}")
        return dataclasses.replace(self, **changes)

    def layer_weights(self) -> dict[str, float] | None:
        """Style layer name -> w_l, or None for equal weights."""
        if self.style_layer_weights is None:
            return None
        return dict(zip(self.style_layers, self.style_layer_weights))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values; refuses arrays (save masks and start images as files)."""
        return {name: _plain(name, getattr(self, name)) for name in setting_names()}

    def to_json(self, path: str | os.PathLike, overwrite: bool = False, **extra: Any) -> Path:
        """Write ``{"settings": ..., **extra}`` as JSON; returns the path."""
        text = json.dumps({"settings": self.to_dict(), **extra}, indent=2) + "\n"
        with atomic_write(path, overwrite=overwrite) as stream:
            stream.write(text.encode())
        return Path(path)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> StyleSettings:
        """Settings from :meth:`to_dict`'s values (or a file's ``"settings"`` entry)."""
        return cls().replace(**dict(values.get("settings", values)))

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> StyleSettings:
        """Settings saved by :meth:`to_json` (or a studio JSON)."""
        try:
            values = json.loads(Path(path).read_text())
        except (OSError, ValueError) as error:
            raise NSTError(f"cannot read settings from {path} ({error})") from error
        return cls.from_dict(values)


def setting_names() -> list[str]:
    """The names of all settings, in order."""
    return [f.name for f in dataclasses.fields(StyleSettings)]


def _plain(name: str, value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(name, item) for item in value]
    if isinstance(value, os.PathLike):
        return str(value)
    if value is not None and not isinstance(value, (str, int, float)):
        raise NSTError(
            f"{name} holds an array, which JSON cannot keep; save it as an image "
            "file and pass its path instead"
        )
    return value


# ----------------------------------------------------------------------------- the checks


def _checked(s: StyleSettings) -> dict[str, Any]:
    """Every field's value checked and normalized (sequences become tuples)."""
    style_layers = tuple(check_layers(s.style_layers, "style_layers", allow_empty=True))
    checked = {
        "size": None if s.size is None else positive_int(s.size, "size", MIN_SIZE, MAX_SIZE),
        "steps": positive_int(s.steps, "steps", 1, MAX_STEPS),
        "optimizer": _choice(s.optimizer, "optimizer", OPTIMIZERS),
        "content_weight": finite_number(s.content_weight, "content_weight"),
        "style_weight": finite_number(s.style_weight, "style_weight"),
        "tv_weight": finite_number(s.tv_weight, "tv_weight"),
        "content_layers": tuple(check_layers(s.content_layers, "content_layers", allow_empty=True)),
        "style_layers": style_layers,
        "style_layer_weights": _layer_weights(s.style_layer_weights, style_layers),
        "style_blend": _blend(s.style_blend),
        "masks": None if s.masks is None else _sequence(s.masks),
        "preserve_colors": _choice(s.preserve_colors, "preserve_colors", (None, *PRESERVE_COLORS)),
        "style_scale": finite_number(s.style_scale, "style_scale", strict=True),
        "pyramid": positive_int(s.pyramid, "pyramid", 1, MAX_PYRAMID),
        "init": _init(s.init),
        "seed": positive_int(s.seed, "seed", 0),
        "learning_rate": finite_number(s.learning_rate, "learning_rate", strict=True),
        "pooling": _choice(s.pooling, "pooling", POOLINGS),
        "network": _choice(s.network, "network", NETWORKS),
        "weights": _weights(s.weights),
        "max_seconds": None
        if s.max_seconds is None
        else finite_number(s.max_seconds, "max_seconds", strict=True),
    }
    if not checked["content_layers"] and not style_layers:
        raise SettingError("style_layers", "give at least one content or style layer")
    if checked["steps"] < checked["pyramid"]:
        raise SettingError(
            "steps", f"{s.steps} steps cannot be split over {s.pyramid} pyramid levels"
        )
    return checked


def _choice(value: Any, name: str, choices: Sequence[Any]) -> Any:
    if value not in choices:
        shown = [c for c in choices if c is not None]
        raise SettingError(name, f"{name} must be one of {shown}, not {value!r}")
    return value


def _sequence(value: Any) -> tuple:
    """A tuple of the items of ``value``; one path, text or array is one item."""
    if isinstance(value, (str, bytes, os.PathLike, np.ndarray)) or not isinstance(value, Sequence):
        return (value,)
    return tuple(value)


def _layer_weights(weights: Any, layers: tuple[str, ...]) -> tuple[float, ...] | None:
    """One finite weight >= 0 per style layer; a mapping gives 0 to the layers it omits."""
    if weights is None:
        return None
    if isinstance(weights, Mapping):
        unknown = sorted(set(weights) - set(layers))
        if unknown:
            raise SettingError(
                "style_layer_weights",
                f"style_layer_weights name {unknown}, which are not style layers",
            )
        weights = [weights.get(layer, 0.0) for layer in layers]
    weights = tuple(finite_number(w, "style_layer_weights") for w in _sequence(weights))
    if len(weights) != len(layers):
        raise SettingError(
            "style_layer_weights",
            f"style_layer_weights needs {len(layers)} "
            f"numbers, one per style layer, not {len(weights)}",
        )
    return weights


def _blend(blend: Any) -> tuple[float, ...] | None:
    """Weights >= 0 summing to 1 (their count is checked against the styles when they load)."""
    if blend is None:
        return None
    blend = tuple(finite_number(b, "style_blend") for b in _sequence(blend))
    if abs(sum(blend) - 1.0) > 1e-3:
        shown = " + ".join(f"{b:g}" for b in blend)
        raise SettingError(
            "style_blend", f"blend weights must sum to 1, but {shown} = {sum(blend):g}"
        )
    return blend


def _init(init: Any) -> Any:
    """A start name, an image file or an in-memory image."""
    if isinstance(init, str) and init in INITS:
        return init
    if isinstance(init, (str, os.PathLike)):
        if not Path(init).expanduser().exists():
            raise SettingError(
                "init",
                f"init must be one of {list(INITS)}, an image file or an "
                f"image tensor; {str(init)!r} is none of these",
            )
        return init
    if hasattr(init, "shape"):
        return init
    raise SettingError(
        "init",
        f"init must be one of {list(INITS)}, an image file or an image "
        f"tensor, not {type(init).__name__}",
    )


def _weights(weights: Any) -> str:
    """A source name, or an existing weights file."""
    text = str(weights)
    if text not in WEIGHT_SOURCES and not Path(text).expanduser().is_file():
        raise SettingError(
            "weights",
            f"weights must be {', '.join(WEIGHT_SOURCES)} or an "
            f"existing file; {text!r} is none of these",
        )
    return text
