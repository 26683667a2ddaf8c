"""Losses: hand-computed small cases and the invariants the equations promise."""

import numpy as np
import pytest
import tensorflow as tf

from nst_helpers.losses import (
    balanced_layer_weights,
    content_loss,
    gram_matrix,
    style_layer_loss,
    style_loss,
    total_variation_loss,
    weighted_total,
)


def test_gram_matrix_of_a_hand_made_tensor():
    # Two positions, two channels: F = [[1, 2], [3, 4]] (rows are positions).
    features = tf.constant([[[[1.0, 2.0]], [[3.0, 4.0]]]])  # (1, H=2, W=1, C=2)
    # G = F^T F / M with M = 2: [[1+9, 2+12], [2+12, 4+16]] / 2
    np.testing.assert_allclose(gram_matrix(features)[0], [[5.0, 7.0], [7.0, 10.0]])


def test_gram_matrix_accepts_unbatched_features():
    features = tf.random.stateless_normal((4, 5, 3), seed=(1, 2))
    np.testing.assert_allclose(gram_matrix(features), gram_matrix(features[None])[0], rtol=1e-6)


def test_gram_matrix_is_symmetric_and_positive_semidefinite():
    features = tf.nn.relu(tf.random.stateless_normal((1, 7, 9, 16), seed=(3, 4)))
    gram = gram_matrix(features)[0].numpy()
    np.testing.assert_allclose(gram, gram.T, rtol=1e-6)
    assert np.linalg.eigvalsh(gram.astype(np.float64)).min() > -1e-4


def test_gram_matrix_ignores_where_features_are():
    # Shuffling positions changes the image but not its "style" statistics.
    features = tf.random.stateless_normal((1, 6, 6, 8), seed=(5, 6))
    flat = tf.reshape(features, (36, 8))
    shuffled = tf.reshape(tf.gather(flat, np.random.default_rng(0).permutation(36)), (1, 6, 6, 8))
    np.testing.assert_allclose(gram_matrix(features), gram_matrix(shuffled), rtol=1e-5, atol=1e-6)


def test_gram_matrix_is_normalized_by_positions():
    # The same statistics on a bigger canvas give the same Gram matrix.
    small = tf.random.stateless_normal((1, 3, 3, 4), seed=(7, 8))
    tiled = tf.tile(small, (1, 2, 2, 1))
    np.testing.assert_allclose(gram_matrix(small), gram_matrix(tiled), rtol=1e-5)


def test_content_loss_zero_for_identical_and_mean_squared_otherwise():
    a = tf.random.stateless_normal((1, 4, 4, 3), seed=(1, 1))
    assert float(content_loss(a, a)) == 0.0
    b = a + 2.0  # every element differs by 2 -> mean squared difference 4
    assert float(content_loss(a, b)) == pytest.approx(4.0)


def test_style_loss_zero_for_identical_and_positive_otherwise():
    grams = {"a": gram_matrix(tf.random.stateless_normal((1, 5, 5, 4), seed=(2, 2)))}
    assert float(style_loss(grams, grams)) == 0.0
    other = {"a": grams["a"] + 1.0}
    assert float(style_loss(grams, other)) == pytest.approx(1.0)  # mean of 1^2 over entries


def test_style_loss_layer_weights():
    ones, zeros = tf.ones((1, 3, 3)), tf.zeros((1, 3, 3))
    grams = {"a": ones, "b": ones}
    targets = {"a": zeros, "b": ones * 3.0}  # E_a = 1, E_b = 4
    assert float(style_loss(grams, targets)) == pytest.approx((1 + 4) / 2)  # default 1/L
    assert float(style_loss(grams, targets, {"a": 2.0})) == pytest.approx(2.0)  # b weighs 0
    assert float(style_layer_loss(ones, zeros)) == pytest.approx(1.0)


def test_total_variation_of_constant_image_is_zero():
    assert float(total_variation_loss(tf.fill((1, 8, 8, 3), 0.3))) == 0.0


def test_total_variation_of_a_checkerboard():
    board = tf.constant([[0.0, 1.0], [1.0, 0.0]])[None, :, :, None]
    # every vertical and every horizontal neighbour differs by 1: mean 1 + mean 1
    assert float(total_variation_loss(board)) == pytest.approx(2.0)


def test_weighted_total():
    total = weighted_total(tf.constant(2.0), tf.constant(3.0), tf.constant(5.0), 1.0, 10.0, 100.0)
    assert float(total) == pytest.approx(2 + 30 + 500)


def test_balanced_layer_weights_by_hand():
    # Start losses 2, 8 and 0.5 over L = 3 layers: w_l = 1 / (3 E_l).
    weights = balanced_layer_weights({"a": 2.0, "b": 8.0, "c": 0.5})
    assert weights == pytest.approx({"a": 1 / 6, "b": 1 / 24, "c": 2 / 3})
    # Every layer's weighted start term is 1/L, and the weighted start loss is 1.
    shares = {name: weights[name] * loss for name, loss in {"a": 2.0, "b": 8.0, "c": 0.5}.items()}
    assert shares == pytest.approx({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3})


def test_balanced_layer_weights_make_the_weighted_start_loss_one():
    ones = tf.ones((1, 3, 3))
    grams = {"a": ones, "b": ones}
    targets = {"a": ones * 2.0, "b": ones * 11.0}  # E_a = 1, E_b = 100
    start = {name: float(style_layer_loss(grams[name], targets[name])) for name in grams}
    weights = balanced_layer_weights(start)
    assert weights == pytest.approx({"a": 0.5, "b": 0.005})
    assert float(style_loss(grams, targets, weights)) == pytest.approx(1.0)


@pytest.mark.parametrize("losses", [{}, {"a": 0.0}, {"a": -1.0}, {"a": np.nan}, {"a": np.inf}])
def test_balanced_layer_weights_refuse_empty_zero_or_non_finite_losses(losses):
    with pytest.raises(ValueError):
        balanced_layer_weights(losses)
