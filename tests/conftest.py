"""Fixtures shared by the unit tests (quick mode and the mirror are set in ../conftest.py)."""

import pytest


@pytest.fixture(scope="session")
def extractor():
    """VGG19 features for the default content and style layers, built once per test run."""
    from nst_helpers.vgg import CONTENT_LAYERS, STYLE_LAYERS, FeatureExtractor

    return FeatureExtractor([*STYLE_LAYERS, *CONTENT_LAYERS], log=lambda line: None)
