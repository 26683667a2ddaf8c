"""Fixtures shared by the unit tests (quick mode and the mirror are set in ../conftest.py)."""

import numpy as np
import pytest
import tensorflow as tf


@pytest.fixture(scope="session")
def extractor():
    """VGG19 features for the default content and style layers, built once per test run."""
    from nst_helpers.vgg import CONTENT_LAYERS, STYLE_LAYERS, FeatureExtractor

    return FeatureExtractor([*STYLE_LAYERS, *CONTENT_LAYERS], log=lambda line: None)


@pytest.fixture(scope="session")
def images():
    """A 48x64 colour ramp (the photo) and two paintings: stripes and a checkerboard."""
    y, x = np.mgrid[0:48, 0:64] / 63.0
    content = np.stack([0.2 + 0.6 * x, 0.3 + 0.3 * y, 0.7 - 0.4 * x], -1)[None].astype(np.float32)
    stripes = (np.sin(x * 30) > 0).astype(np.float32)
    style_a = np.stack([stripes, 0.2 * stripes, 1 - stripes], -1)[None]
    checks = ((np.floor(x * 12) + np.floor(y * 12)) % 2).astype(np.float32)
    style_b = np.stack([0.9 * checks, 0.8 * checks, 0.1 + 0 * checks], -1)[None]
    return tf.constant(content), tf.constant(style_a), tf.constant(style_b)


def quiet(**kwargs):
    """Keyword arguments for a silent stylize call."""
    return dict(progress=False, log=lambda line: None, **kwargs)


def make_photo_folder(root):
    """Two small photos in ``root/photos`` and a striped painting ``root/stripes.png``."""
    from PIL import Image

    (root / "photos").mkdir()
    y, x = np.mgrid[0:50, 0:70]
    for k in range(2):
        ramp = np.stack([x * 3 + k * 40, y * 4, 128 + 0 * x], -1).astype(np.uint8)
        Image.fromarray(ramp).save(root / "photos" / f"photo{k}.png")
    stripes = ((np.sin(x / 3.0) > 0)[..., None] * np.array([250, 200, 40])).astype(np.uint8)
    Image.fromarray(stripes).save(root / "stripes.png")
    return root
