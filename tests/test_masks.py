"""Masks: masked Gram matrices, masks from files and thresholds, bad masks refused."""

import numpy as np
import pytest
import tensorflow as tf

from nst_helpers.errors import NSTError
from nst_helpers.losses import gram_matrix
from nst_helpers.masks import as_mask, masked_gram_matrix, threshold_mask


def test_masked_gram_with_a_full_mask_is_the_gram_matrix():
    features = tf.random.stateless_normal((1, 8, 6, 5), seed=(4, 4))
    np.testing.assert_allclose(
        masked_gram_matrix(features, tf.ones((1, 16, 12, 1))), gram_matrix(features), rtol=1e-5
    )


def test_masked_gram_sees_only_the_masked_half():
    left = tf.random.stateless_normal((1, 4, 4, 3), seed=(5, 5))
    right = 10 + tf.random.stateless_normal((1, 4, 4, 3), seed=(6, 6))
    features = tf.concat([left, right], axis=2)  # (1, 4, 8, 3)
    mask = tf.concat([tf.ones((1, 4, 4, 1)), tf.zeros((1, 4, 4, 1))], axis=2)
    np.testing.assert_allclose(masked_gram_matrix(features, mask), gram_matrix(left), rtol=1e-5)


def test_mask_of_wrong_size_or_values_is_refused():
    with pytest.raises(NSTError, match="aspect ratio"):
        as_mask(np.ones((10, 40)), 48, 64)
    with pytest.raises(NSTError, match=r"\[0, 1\]"):
        as_mask(np.full((48, 64), 2.0), 48, 64)
    assert as_mask(np.ones((24, 32)), 48, 64).shape == (1, 48, 64, 1)  # same aspect: resized


def test_mask_from_a_file_and_by_threshold(tmp_path, images):
    from PIL import Image

    content = images[0]
    mask = threshold_mask(content, "red", 0.5)
    assert set(np.unique(mask)) <= {0.0, 1.0} and 0 < float(tf.reduce_mean(mask)) < 1
    Image.fromarray((mask[0, :, :, 0].numpy() * 255).astype(np.uint8)).save(tmp_path / "m.png")
    np.testing.assert_allclose(as_mask(tmp_path / "m.png", 48, 64), mask, atol=1e-2)
