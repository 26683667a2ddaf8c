"""Feature transforms for any style in one pass (nst_helpers.arbitrary): AdaIN and WCT."""

import numpy as np
import pytest
import tensorflow as tf

from nst_helpers.arbitrary import adain, channel_statistics, whiten_colour
from nst_helpers.errors import NSTError


def _features(seed: int, shape, scale=1.0, shift=0.0) -> tf.Tensor:
    """Correlated random features: independent normals mixed by a random matrix."""
    rng = np.random.default_rng(seed)
    mixed = rng.standard_normal(shape) @ rng.standard_normal((shape[-1], shape[-1]))
    return tf.constant(mixed * scale + shift, tf.float32)


def _covariance(features: tf.Tensor) -> np.ndarray:
    flat = np.asarray(features, np.float64).reshape(-1, features.shape[-1])
    return np.cov(flat, rowvar=False)


PHOTO = _features(1, (2, 20, 24, 8), scale=3.0, shift=1.0)
PAINTING = _features(2, (2, 15, 18, 8), scale=0.5, shift=-2.0)


def test_adain_gives_each_image_the_paintings_channel_mean_and_deviation():
    out = adain(PHOTO, PAINTING)
    mean, std = channel_statistics(out)
    style_mean, style_std = channel_statistics(PAINTING)
    np.testing.assert_allclose(mean, style_mean, atol=1e-4)
    np.testing.assert_allclose(std, style_std, rtol=1e-4)
    assert out.shape == PHOTO.shape


def test_adain_by_hand_on_one_channel():
    photo = tf.constant([1.0, 3.0])[None, None, :, None]  # mean 2, deviation 1
    painting = tf.constant([10.0, 10.0, 16.0, 16.0])[None, None, :, None]  # mean 13, dev. 3
    np.testing.assert_allclose(tf.reshape(adain(photo, painting, eps=0.0), [-1]), [10.0, 16.0])


@pytest.mark.parametrize("transform", [adain, whiten_colour])
def test_alpha_blends_from_the_photos_features_to_the_transform(transform):
    np.testing.assert_array_equal(transform(PHOTO, PAINTING, alpha=0.0), PHOTO)
    half = transform(PHOTO, PAINTING, alpha=0.5)
    full = transform(PHOTO, PAINTING, alpha=1.0)
    np.testing.assert_allclose(half, 0.5 * (PHOTO + full), atol=1e-5)


def test_wct_gives_each_image_the_paintings_mean_and_covariance():
    out = whiten_colour(PHOTO, PAINTING)
    for k in range(2):
        np.testing.assert_allclose(
            _covariance(out[k]), _covariance(PAINTING[k]), rtol=1e-3, atol=1e-3
        )
        np.testing.assert_allclose(
            np.mean(out[k], axis=(0, 1)), np.mean(PAINTING[k], axis=(0, 1)), atol=1e-4
        )
    # AdaIN matches only the diagonal: its covariance keeps the photo's correlations.
    adain_cov = _covariance(adain(PHOTO, PAINTING)[0])
    assert not np.allclose(adain_cov, _covariance(PAINTING[0]), rtol=0.1, atol=0.1)


def test_wct_forgets_the_photos_scale_and_uses_one_painting_for_every_image():
    one = PAINTING[:1]
    out = whiten_colour(PHOTO, one)
    np.testing.assert_allclose(whiten_colour(PHOTO * 5.0 + 3.0, one), out, atol=1e-3)
    np.testing.assert_allclose(_covariance(out[1]), _covariance(one[0]), rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize(
    "content, style, alpha, message",
    [
        (PHOTO, PAINTING[..., :4], 1.0, "channels"),
        (PHOTO[0], PAINTING, 1.0, "(B, H, W, C)"),
        (PHOTO, PAINTING, 1.5, "alpha"),
        (PHOTO, PAINTING, -0.1, "alpha"),
    ],
)
@pytest.mark.parametrize("transform", [adain, whiten_colour])
def test_bad_inputs_are_one_clear_error(transform, content, style, alpha, message):
    with pytest.raises(NSTError, match=message.replace("(", r"\(").replace(")", r"\)")):
        transform(content, style, alpha)


def test_wct_needs_one_painting_or_one_per_photo():
    three = tf.concat([PAINTING, PAINTING[:1]], axis=0)
    with pytest.raises(NSTError, match="one painting or 2"):
        whiten_colour(PHOTO, three)
