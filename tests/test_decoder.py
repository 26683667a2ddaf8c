"""The decoder of arbitrary style transfer and its training loss (nst_helpers.decoder)."""

import numpy as np
import pytest
import tensorflow as tf

from nst_helpers.decoder import ENCODER_LAYERS, AdaINLoss, _statistics_loss, build_decoder
from nst_helpers.errors import NSTError
from nst_helpers.vgg import FeatureExtractor


@pytest.fixture(scope="module")
def encoder():
    return FeatureExtractor(list(ENCODER_LAYERS), log=lambda line: None)


def test_the_decoder_grows_features_eight_times_into_pixels():
    decoder = build_decoder("slim")
    image = decoder(tf.random.uniform((2, 5, 7, 512)))
    assert image.shape == (2, 40, 56, 3)
    assert np.isfinite(image.numpy()).all()
    full = build_decoder("full").count_params()
    assert 2.5 < full / decoder.count_params() < 3.5  # about a third of the weights
    with pytest.raises(NSTError, match="width"):
        build_decoder("wide")


def test_the_statistics_loss_is_zero_for_equal_statistics_only():
    features = tf.random.normal((1, 6, 6, 4), seed=1)
    assert float(_statistics_loss(features, features * 1.0)) == 0.0
    shuffled = tf.reverse(features, axis=[1, 2])  # same values per channel, other places
    assert float(_statistics_loss(features, shuffled)) < 1e-10
    assert float(_statistics_loss(features, features * 2.0 + 1.0)) > 0.5


def test_the_decoder_loss_falls_in_a_short_run(encoder, images):
    photo, painting, _ = images
    photos = tf.image.resize(tf.concat([photo, painting], 0), (32, 32))
    paintings = tf.image.resize(tf.concat([painting, painting], 0), (32, 32))
    decoder = build_decoder("slim")
    loss = AdaINLoss(encoder, decoder)
    optimizer = tf.keras.optimizers.Adam(1e-3)
    totals = []
    for _ in range(25):
        with tf.GradientTape() as tape:
            terms = loss.terms(photos, paintings)
        gradients = tape.gradient(terms["total"], decoder.trainable_variables)
        optimizer.apply_gradients(zip(gradients, decoder.trainable_variables))
        totals.append(float(terms["total"]))
    assert np.isfinite(totals).all() and np.mean(totals[-5:]) < 0.7 * np.mean(totals[:5])


def test_the_loss_needs_the_four_encoder_layers():
    small = FeatureExtractor(["block1_conv1", "block4_conv1"], log=lambda line: None)
    with pytest.raises(NSTError, match="block2_conv1"):
        AdaINLoss(small, build_decoder("slim"))
