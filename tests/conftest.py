"""Test-session setup: quick mode everywhere, and the local image mirror when present.

The notebooks that nbval executes run in kernels that inherit this process's
environment, so setting the variables here switches them to quick mode too.
"""

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

os.environ["NST_QUICK"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

_MIRROR = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
if _MIRROR.is_dir():
    os.environ.setdefault("NST_DATA_MIRROR", str(_MIRROR))


@pytest.fixture(scope="session")
def extractor():
    """VGG19 features for the default content and style layers, built once per test run."""
    from nst_helpers.vgg import CONTENT_LAYERS, STYLE_LAYERS, FeatureExtractor

    return FeatureExtractor([*STYLE_LAYERS, *CONTENT_LAYERS], log=lambda line: None)
