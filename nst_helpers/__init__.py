"""nst_helpers: the shared code of the neural style transfer notebooks.

The algorithm (what the course teaches): ``vgg`` (VGG19 as a feature extractor), ``losses``
(Gram matrix, content, style and total variation losses), ``objective`` (the total loss
with its targets), ``optimize`` (``stylize``: the loop with L-BFGS or Adam), ``schedule``
(coarse to fine), ``color`` and ``masks`` (the controls), ``transformer`` and ``realtime``
(a feed-forward network trained to paint in one pass). The plumbing: ``settings``,
``inputs``, ``monitor``, ``images``, ``weights``, ``data``, ``textures``, ``files``,
``validate``, ``config``, ``errors``, ``plotting``, ``checks``, ``widgets``, ``cli``.

Everything a notebook needs is reachable as ``nst.<name>`` (``import nst_helpers as nst``).
Names are imported on first use, so ``import nst_helpers`` alone does not load TensorFlow;
:func:`nst_helpers.config.import_tensorflow_quietly` loads it without its start-up chatter.
"""

from __future__ import annotations

import importlib

__version__ = "0.2.0"

_EXPORTS = {
    "config": ["defaults", "pick", "quick_mode", "import_tensorflow_quietly"],
    "data": ["describe", "list_images", "load_content", "load_style"],
    "errors": ["NSTError"],
    "images": [
        "load_image",
        "save_image",
        "show_image",
        "show_images",
        "resize_max_dim",
        "resize_to",
        "to_uint8",
        "image_grid",
    ],
    "losses": [
        "balanced_layer_weights",
        "content_loss",
        "gram_matrix",
        "style_loss",
        "total_variation_loss",
    ],
    "monitor": ["StopRun"],
    "objective": ["StyleTransferLoss"],
    "optimize": ["StyleResult", "stylize", "run_adam", "run_lbfgs"],
    "settings": ["StyleSettings"],
    "vgg": [
        "CONTENT_LAYERS",
        "STYLE_LAYERS",
        "FeatureExtractor",
        "deprocess",
        "layer_table",
        "preprocess",
    ],
    "weights": ["resolve_weights"],
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
_MODULES = [
    "anystyle",
    "arbitrary",
    "checks",
    "color",
    "decoder",
    "fast",
    "masks",
    "photo_sets",
    "photos",
    "plotting",
    "realtime",
    "style_images",
    "textures",
    "transformer",
    "widgets",
]

__all__ = sorted([*_WHERE, *_MODULES])


def __getattr__(name: str):
    """Import ``nst.<name>`` from its module on first use."""
    if name in _WHERE:
        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    elif name in _MODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'nst_helpers' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
