"""nst_helpers: the shared code of the neural style transfer notebooks.

One module per idea (see the README for the map):
``images`` (load, resize, save, show), ``weights`` (where VGG19's weights come from),
``vgg`` (preprocessing, the network, its layer table), ``losses`` (Gram matrix, content,
style and total variation losses), ``optimize`` (the loop: ``stylize``), ``data`` (the
named paintings and photos), ``textures`` (procedural style images), ``config`` (quick
mode), ``cli`` (the command line: ``python -m nst_helpers``).
"""

import os as _os
import sys as _sys

# Keep TensorFlow's C++ start-up chatter out of notebooks and the command line.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow and find its devices with the process's stderr (fd 2) muted.

    TensorFlow 2.21 prints several native log lines (oneDNN, "could not find cuda
    drivers", "failed call to cuInit") before its own logging honours
    TF_CPP_MIN_LOG_LEVEL. Python errors still show: the exception is raised after
    stderr is restored.
    """
    if "tensorflow" in _sys.modules:
        return
    _sys.stderr.flush()
    saved, devnull = _os.dup(2), _os.open(_os.devnull, _os.O_WRONLY)
    _os.dup2(devnull, 2)
    try:
        import tensorflow

        tensorflow.config.list_physical_devices("GPU")
    finally:
        _os.dup2(saved, 2)
        _os.close(saved)
        _os.close(devnull)


_import_tensorflow_quietly()

from .config import defaults, pick, quick_mode  # noqa: E402
from .data import describe, list_images, load_content, load_style  # noqa: E402
from .errors import NSTError  # noqa: E402
from .images import load_image, save_image, show_image, show_images  # noqa: E402
from .losses import (  # noqa: E402
    content_loss, gram_matrix, style_loss, total_variation_loss,
)
from .optimize import StyleResult, StyleTransferLoss, stylize  # noqa: E402
from .vgg import (  # noqa: E402
    CONTENT_LAYERS, STYLE_LAYERS, FeatureExtractor, deprocess, layer_table, preprocess,
)
from .weights import resolve_weights  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "CONTENT_LAYERS", "STYLE_LAYERS", "FeatureExtractor", "NSTError", "StyleResult",
    "StyleTransferLoss", "content_loss", "defaults", "deprocess", "describe", "gram_matrix",
    "layer_table", "list_images", "load_content", "load_image", "load_style", "pick",
    "preprocess", "quick_mode", "resolve_weights", "save_image", "show_image", "show_images",
    "style_loss", "stylize", "total_variation_loss",
]
