"""Keeping the photo's colours: YIQ, luminance transfer, histogram matching, prepare/finish."""

import numpy as np
import tensorflow as tf

from nst_helpers.color import (
    combine_luminance,
    finish,
    luminance_image,
    match_color_histogram,
    prepare,
    rgb_to_yiq,
    yiq_to_rgb,
)


def test_yiq_round_trip_and_grey_has_no_colour():
    image = tf.random.stateless_uniform((1, 4, 5, 3), seed=(1, 1))
    np.testing.assert_allclose(yiq_to_rgb(rgb_to_yiq(image)), image, atol=1e-5)
    grey = luminance_image(image)
    np.testing.assert_allclose(rgb_to_yiq(grey)[..., 1:], 0.0, atol=1e-5)


def test_luminance_of_pure_colours_is_the_ntsc_weighting():
    primaries = tf.constant([[[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]]])
    np.testing.assert_allclose(rgb_to_yiq(primaries)[0, 0, :, 0], [0.299, 0.587, 0.114], atol=1e-6)


def test_combine_luminance_keeps_the_colour_channels():
    content = tf.random.stateless_uniform((1, 6, 6, 3), seed=(2, 2), minval=0.3, maxval=0.7)
    stylized = tf.random.stateless_uniform((1, 6, 6, 3), seed=(3, 3), minval=0.3, maxval=0.7)
    combined = combine_luminance(stylized, content)
    np.testing.assert_allclose(
        rgb_to_yiq(combined)[..., 1:], rgb_to_yiq(content)[..., 1:], atol=1e-5
    )
    np.testing.assert_allclose(
        rgb_to_yiq(combined)[..., 0], rgb_to_yiq(stylized)[..., 0], atol=1e-5
    )


def test_histogram_matching_matches_mean_and_covariance():
    # Photos whose three channels vary independently (full-rank colour covariance).
    content = tf.random.stateless_uniform((1, 40, 30, 3), seed=(7, 7), minval=0.2, maxval=0.6)
    style = tf.random.stateless_uniform((1, 20, 50, 3), seed=(8, 8)) ** tf.constant([1.0, 2.0, 0.5])
    matched = match_color_histogram(style, content, clip=False).numpy().reshape(-1, 3)
    target = content.numpy().reshape(-1, 3)
    np.testing.assert_allclose(matched.mean(0), target.mean(0), atol=1e-4)
    np.testing.assert_allclose(
        np.cov(matched, rowvar=False), np.cov(target, rowvar=False), atol=1e-4
    )
    clipped = match_color_histogram(style, content).numpy()
    assert clipped.min() >= 0 and clipped.max() <= 1
    np.testing.assert_allclose(clipped.reshape(-1, 3).mean(0), target.mean(0), atol=0.02)


def test_prepare_and_finish_for_each_mode():
    content = tf.random.stateless_uniform((1, 8, 10, 3), seed=(4, 4), minval=0.2, maxval=0.8)
    style = tf.random.stateless_uniform((1, 12, 6, 3), seed=(5, 5))
    same, [style_same] = prepare(None, content, [style])
    assert same is content and style_same is style
    assert finish(None, style_same, content) is style_same
    grey, [grey_style] = prepare("luminance", content, [style])
    for image in (grey, grey_style):
        np.testing.assert_allclose(rgb_to_yiq(image)[..., 1:], 0.0, atol=1e-5)
    coloured = finish("luminance", grey, content)  # the photo's own luminance and colours
    np.testing.assert_allclose(coloured, content, atol=1e-5)
    photo, [recoloured] = prepare("histogram", content, [style])
    assert photo is content and recoloured.shape == style.shape
    np.testing.assert_allclose(
        np.mean(recoloured, axis=(0, 1, 2)), np.mean(content, axis=(0, 1, 2)), atol=0.05
    )
