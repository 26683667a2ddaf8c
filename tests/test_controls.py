"""Controls beyond the paper: colours, several styles, masks, style scale, coarse-to-fine."""

import numpy as np
import pytest
import tensorflow as tf

from nst_helpers.color import (
    combine_luminance, luminance_image, match_color_histogram, rgb_to_yiq, yiq_to_rgb,
)
from nst_helpers.errors import NSTError
from nst_helpers.losses import gram_matrix
from nst_helpers.masks import as_mask, masked_gram_matrix, threshold_mask
from nst_helpers.optimize import StyleTransferLoss, stylize
from nst_helpers.vgg import STYLE_LAYERS


@pytest.fixture(scope="module")
def images():
    y, x = np.mgrid[0:48, 0:64] / 63.0
    content = np.stack([0.2 + 0.6 * x, 0.3 + 0.3 * y, 0.7 - 0.4 * x], -1)[None].astype(np.float32)
    stripes = (np.sin(x * 30) > 0).astype(np.float32)
    style_a = np.stack([stripes, 0.2 * stripes, 1 - stripes], -1)[None]
    checks = ((np.floor(x * 12) + np.floor(y * 12)) % 2).astype(np.float32)
    style_b = np.stack([0.9 * checks, 0.8 * checks, 0.1 + 0 * checks], -1)[None]
    return tf.constant(content), tf.constant(style_a), tf.constant(style_b)


def quiet(**kwargs):
    return dict(progress=False, log=lambda line: None, **kwargs)


# ---------------------------------------------------------------- colours

def test_yiq_round_trip_and_grey_has_no_colour():
    image = tf.random.stateless_uniform((1, 4, 5, 3), seed=(1, 1))
    np.testing.assert_allclose(yiq_to_rgb(rgb_to_yiq(image)), image, atol=1e-5)
    grey = luminance_image(image)
    np.testing.assert_allclose(rgb_to_yiq(grey)[..., 1:], 0.0, atol=1e-5)


def test_combine_luminance_keeps_the_colour_channels():
    content = tf.random.stateless_uniform((1, 6, 6, 3), seed=(2, 2), minval=0.3, maxval=0.7)
    stylized = tf.random.stateless_uniform((1, 6, 6, 3), seed=(3, 3), minval=0.3, maxval=0.7)
    combined = combine_luminance(stylized, content)
    np.testing.assert_allclose(rgb_to_yiq(combined)[..., 1:], rgb_to_yiq(content)[..., 1:], atol=1e-5)
    np.testing.assert_allclose(rgb_to_yiq(combined)[..., 0], rgb_to_yiq(stylized)[..., 0], atol=1e-5)


def test_luminance_only_transfer_leaves_the_content_colours(extractor, images):
    content, style, _ = images
    result = stylize(content, style, steps=4, extractor=extractor, preserve_colors="luminance", **quiet())
    iq_result = rgb_to_yiq(result.image)[..., 1:].numpy()
    iq_content = rgb_to_yiq(content)[..., 1:].numpy()
    assert np.abs(iq_result - iq_content).mean() < 0.01  # only clipping may move them
    # while the luminance did change (the style acted)
    change = rgb_to_yiq(result.image)[..., 0] - rgb_to_yiq(content)[..., 0]
    assert float(tf.reduce_mean(tf.abs(change))) > 1e-3


def test_histogram_matching_matches_mean_and_covariance():
    # Photos whose three channels vary independently (full-rank colour covariance).
    content = tf.random.stateless_uniform((1, 40, 30, 3), seed=(7, 7), minval=0.2, maxval=0.6)
    style = tf.random.stateless_uniform((1, 20, 50, 3), seed=(8, 8)) ** tf.constant([1.0, 2.0, 0.5])
    matched = match_color_histogram(style, content, clip=False).numpy().reshape(-1, 3)
    target = content.numpy().reshape(-1, 3)
    np.testing.assert_allclose(matched.mean(0), target.mean(0), atol=1e-4)
    np.testing.assert_allclose(np.cov(matched, rowvar=False), np.cov(target, rowvar=False), atol=1e-4)
    clipped = match_color_histogram(style, content).numpy()
    assert clipped.min() >= 0 and clipped.max() <= 1
    np.testing.assert_allclose(clipped.reshape(-1, 3).mean(0), target.mean(0), atol=0.02)


def test_bad_preserve_colors_is_refused(extractor, images):
    content, style, _ = images
    with pytest.raises(NSTError, match="preserve_colors"):
        stylize(content, style, steps=2, extractor=extractor, preserve_colors="sepia", **quiet())


# ---------------------------------------------------------------- several styles

def test_blend_targets_are_the_weighted_gram_matrices(extractor, images):
    content, a, b = images
    blended = StyleTransferLoss(extractor, content, [a, b], style_blend=[0.7, 0.3])
    only_a = StyleTransferLoss(extractor, content, a)
    only_b = StyleTransferLoss(extractor, content, b)
    for name in STYLE_LAYERS:
        expected = 0.7 * only_a.style_targets[name] + 0.3 * only_b.style_targets[name]
        np.testing.assert_allclose(blended.style_targets[name], expected, rtol=1e-4, atol=1e-2)
    pure = StyleTransferLoss(extractor, content, [a, b], style_blend=[1.0, 0.0])
    np.testing.assert_allclose(pure.style_targets["block2_conv1"], only_a.style_targets["block2_conv1"])


@pytest.mark.parametrize("blend, match", [
    ([0.7, 0.2], "sum to 1"), ([0.5, 0.5, 0.0], "one blend weight per style"), ([1.5, -0.5], ">= 0"),
])
def test_bad_blends_are_refused(extractor, images, blend, match):
    content, a, b = images
    with pytest.raises(NSTError, match=match):
        stylize(content, [a, b], style_blend=blend, steps=2, extractor=extractor, **quiet())


# ---------------------------------------------------------------- masks

def test_masked_gram_with_a_full_mask_is_the_gram_matrix():
    features = tf.random.stateless_normal((1, 8, 6, 5), seed=(4, 4))
    np.testing.assert_allclose(masked_gram_matrix(features, tf.ones((1, 16, 12, 1))),
                               gram_matrix(features), rtol=1e-5)


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


def test_the_unmasked_half_keeps_the_photo(extractor, images):
    content, style, _ = images
    left = np.zeros((48, 64))
    left[:, :32] = 1.0
    # Shallow style layers only: their receptive fields (3 and 10 px) are small next to the
    # 64 px image, so the style's pull stays near the masked half. (Deep layers see the whole
    # of such a small image.)
    # The content layer still couples the halves, so compare with the same run unmasked.
    def column_change(masks):
        result = stylize(content, style, steps=8, extractor=extractor, tv_weight=0.0,
                         style_layers=["block1_conv1", "block2_conv1"], style_masks=masks, **quiet())
        return np.abs(result.image.numpy() - content.numpy())[0].mean(axis=(0, 2))

    masked, unmasked = column_change([left]), column_change(None)
    assert masked[-16:].mean() < 0.6 * unmasked[-16:].mean()  # the unmasked side is spared
    assert masked[:16].mean() > 2 * masked[-16:].mean()  # and the masked side is painted
    with pytest.raises(NSTError, match="selects no pixel"):
        stylize(content, style, steps=2, extractor=extractor, style_masks=[np.zeros((48, 64))], **quiet())


def test_one_mask_per_style(extractor, images):
    content, a, b = images
    with pytest.raises(NSTError, match="one mask per style"):
        stylize(content, [a, b], style_masks=[np.ones((48, 64))], steps=2, extractor=extractor, **quiet())


# ---------------------------------------------------------------- style scale and pyramid

def test_style_scale_resizes_the_style(extractor, images, monkeypatch):
    content, style, _ = images
    seen = []
    original = StyleTransferLoss.__init__

    def spy(self, extractor, content_image, style_image, *args, **kwargs):
        seen.append(max(style_image[0].shape[1:3]))
        original(self, extractor, content_image, style_image, *args, **kwargs)

    monkeypatch.setattr(StyleTransferLoss, "__init__", spy)
    stylize(content, style, style_scale=2.0, steps=2, extractor=extractor, **quiet())
    assert seen == [128]
    for bad in (0, -1.0, float("nan")):
        with pytest.raises(NSTError, match="style_scale"):
            stylize(content, style, style_scale=bad, steps=2, extractor=extractor, **quiet())


def test_pyramid_reaches_the_requested_size(extractor, images):
    content, style, _ = images
    result = stylize(content, style, size=128, steps=6, pyramid=3, extractor=extractor, **quiet())
    assert result.image.shape == (1, 96, 128, 3)
    assert list(result.history["size"].unique()) == [32, 64, 128]
    assert len(result.history) == 6 and result.settings["pyramid"] == 3
    with pytest.raises(NSTError, match="pyramid"):
        stylize(content, style, steps=2, pyramid=3, extractor=extractor, **quiet())
    with pytest.raises(NSTError, match="too small"):  # 64 px / 4 = 16 x 12 px: VGG needs 16
        stylize(content, style, size=64, steps=6, pyramid=3, extractor=extractor, **quiet())
