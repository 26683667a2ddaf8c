"""Training the transformer with the perceptual loss (nst_helpers.realtime)."""

import numpy as np
import pytest
import tensorflow as tf

from nst_helpers.realtime import PerceptualLoss, photo_batches, random_crops, train
from nst_helpers.settings import StyleSettings
from nst_helpers.transformer import build_transformer


def test_perceptual_loss_is_zero_for_the_photo_itself_and_the_painting_itself(extractor, images):
    _, painting, other = images
    loss = PerceptualLoss(extractor, painting, StyleSettings())
    batch = tf.concat([painting, painting], axis=0)
    terms = loss.terms(batch, batch)  # each painted image is its own photo and is the painting
    assert float(terms["content"]) == 0.0 and float(terms["style"]) < 1e-6 * float(
        loss.terms(batch, tf.concat([other, other], axis=0))["style"]
    )
    s = StyleSettings()
    expected = s.content_weight * terms["content"] + s.style_weight * terms["style"]
    np.testing.assert_allclose(terms["total"], expected + s.tv_weight * terms["tv"], rtol=1e-6)


def test_random_crops_have_the_size_range_and_both_orientations():
    ramp = tf.constant(np.linspace(0, 1, 90, dtype=np.float32))[None, None, :, None]
    photo = tf.tile(ramp, [1, 60, 1, 3])  # brighter to the right
    crops = random_crops([photo], size=32, seed=3)
    rising = [bool(c[0, -1, 0] > c[0, 0, 0]) for c in (next(crops) for _ in range(20))]
    assert 0 < sum(rising) < 20  # flipped about half of the time
    crop = next(crops)
    assert crop.shape == (32, 32, 3) and 0.0 <= float(tf.reduce_min(crop))
    first = [next(random_crops([photo], 32, seed=7)).numpy() for _ in range(2)]
    np.testing.assert_array_equal(*first)  # the seed decides


@pytest.fixture(scope="module")
def short_training(extractor, images, tmp_path_factory):
    photo, painting, _ = images
    folder = tmp_path_factory.mktemp("checkpoints")
    network = build_transformer("half")
    loss = PerceptualLoss(extractor, painting, StyleSettings(style_weight=1e-3))
    batches = photo_batches([photo], size=32, batch=2, seed=0)
    history = train(network, loss, batches, steps=40, folder=folder, checkpoint_every=15)
    return network, loss, batches, folder, history


def test_the_loss_falls_in_a_short_training_run(short_training):
    history = short_training[-1]
    assert [row["step"] for row in history] == list(range(1, 41))
    totals = [row["total"] for row in history]
    assert np.mean(totals[-5:]) < 0.7 * np.mean(totals[:5])


def test_a_checkpoint_restores_the_same_network_and_training_resumes(short_training, images):
    network, loss, batches, folder, _ = short_training
    photo = images[0]
    again = build_transformer("half")
    tf.train.Checkpoint(network=again).restore(tf.train.latest_checkpoint(folder)).expect_partial()
    np.testing.assert_array_equal(again(photo).numpy(), network(photo).numpy())
    more = train(again, loss, batches, steps=43, folder=folder)
    assert [row["step"] for row in more] == [41, 42, 43]
    assert tf.train.latest_checkpoint(folder).endswith("-43")


def test_ctrl_c_keeps_the_steps_done_in_a_checkpoint(short_training, tmp_path):
    _, loss, batches, _, _ = short_training

    def interrupt(step, terms):
        if step == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        network = build_transformer("half")
        train(network, loss, batches, steps=10, folder=tmp_path, callback=interrupt)
    assert tf.train.latest_checkpoint(tmp_path).endswith("-2")
