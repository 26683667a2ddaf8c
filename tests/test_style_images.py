"""Style images for the any-style decoder (nst_helpers.style_images)."""

import numpy as np
import pytest
import tensorflow as tf

from nst_helpers.errors import NSTError
from nst_helpers.style_images import (
    TRAINING_PAINTINGS,
    UNSEEN_PAINTINGS,
    pair_batches,
    random_palette,
    random_texture,
    recolour,
    style_crops,
)


def test_a_random_palette_runs_from_dark_to_light():
    palette = random_palette(np.random.default_rng(4), colours=6)
    assert palette.shape == (6, 3) and palette.min() >= 0 and palette.max() <= 1
    value = palette.max(axis=1)  # HSV's value
    assert np.all(np.diff(value) >= -1e-9)


def test_recolouring_puts_the_darkest_pixel_on_the_first_colour_and_the_lightest_on_the_last():
    ramp = np.repeat(np.linspace(0, 255, 16).astype(np.uint8)[None, :, None], 3, axis=2)
    palette = np.array([[0.2, 0.0, 0.4], [0.9, 0.5, 0.1], [1.0, 1.0, 0.6]])
    out = recolour(ramp, palette).astype(float) / 255
    np.testing.assert_allclose(out[0, 0], palette[0], atol=1 / 255)
    np.testing.assert_allclose(out[0, -1], palette[-1], atol=1 / 255)
    half = recolour(ramp, palette, amount=0.0)
    np.testing.assert_array_equal(half, ramp)  # amount 0 keeps the texture's own colours


def test_textures_are_new_for_each_draw_and_the_same_for_the_same_seed():
    first = [random_texture(np.random.default_rng(7), 48) for _ in range(2)]
    np.testing.assert_array_equal(*first)
    rng = np.random.default_rng(7)
    a, b = random_texture(rng, 48), random_texture(rng, 48)
    assert a.shape == (48, 48, 3) and a.dtype == np.uint8
    assert np.abs(a.astype(int) - b.astype(int)).mean() > 10
    assert a.std() > 5  # a texture, not a flat colour


def test_style_crops_mix_paintings_and_textures():
    painting = tf.fill((1, 80, 120, 3), 0.5)  # a grey painting: its crops are grey
    crops = style_crops([painting], 32, seed=1, texture_share=0.5)
    grey = [bool(np.allclose(next(crops), 0.5, atol=1e-6)) for _ in range(40)]
    assert 8 < sum(grey) < 32
    only_textures = style_crops([], 32, seed=1)
    assert float(tf.math.reduce_std(next(only_textures))) > 0.02


def test_pair_batches_give_photos_and_styles_of_the_training_size():
    photo = tf.random.uniform((1, 60, 90, 3), seed=3)
    photos, styles = next(iter(pair_batches([photo], [photo], 32, batch=3)))
    assert photos.shape == styles.shape == (3, 32, 32, 3)
    assert 0 <= float(tf.reduce_min(styles)) and float(tf.reduce_max(styles)) <= 1


def test_the_unseen_paintings_are_not_trained_on():
    assert not set(TRAINING_PAINTINGS) & set(UNSEEN_PAINTINGS)


def test_a_palette_of_fewer_than_two_colours_is_refused():
    with pytest.raises(NSTError, match="2 colours"):
        random_palette(np.random.default_rng(0), colours=1)
