"""Training a steady network for video (nst_helpers.steady): the frame pairs carry their exact
motion, the loss adds the temporal term to the perceptual one, and train_fast trains with it."""

import json

import numpy as np
import pytest
import tensorflow as tf

from conftest import make_photo_folder
from nst_helpers.fast import load_model, model_summary, train_fast, training_phases
from nst_helpers.flow import warp_array
from nst_helpers.photos import folder_photos
from nst_helpers.realtime import PerceptualLoss, TrainSettings
from nst_helpers.settings import StyleSettings
from nst_helpers.steady import SteadyLoss, clip_pairs, pair_batches
from nst_helpers.validate import SettingError
from nst_helpers.vgg import FeatureExtractor


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return make_photo_folder(tmp_path_factory.mktemp("steady"))


@pytest.fixture(scope="module")
def photos(inputs):
    return folder_photos(inputs / "photos")[0]


def test_pairs_move_as_their_flow_says(photos):
    pairs = clip_pairs(photos, 40, seed=3)
    for _ in range(6):
        first, second, flow, mask = next(pairs)
        assert first.shape == second.shape == (40, 40, 3) and flow.shape == (40, 40, 2)
        assert mask.shape == (40, 40, 1) and set(np.unique(mask)) <= {0.0, 1.0}
        assert 0.0 <= first.min() and first.max() <= 1.0
        carried = warp_array(first, flow)
        seen = mask[..., 0] == 1
        assert seen.mean() > 0.5
        error = np.abs(carried - second)[seen].mean()
        assert error < 0.02, error  # bilinear resampling only
        assert np.abs(first - second)[seen].mean() > error  # and the camera did move


def test_pairs_repeat_with_a_seed_and_differ_without(photos):
    a, b = next(clip_pairs(photos, 32, seed=1)), next(clip_pairs(photos, 32, seed=1))
    c = next(clip_pairs(photos, 32, seed=2))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[2], c[2])


def test_pair_batches_stack_pairs(photos):
    first, second, flow, mask = next(iter(pair_batches(photos, 32, batch=3)))
    assert first.shape == second.shape == (3, 32, 32, 3)
    assert flow.shape == (3, 32, 32, 2) and mask.shape == (3, 32, 32, 1)


@pytest.fixture(scope="module")
def perceptual():
    settings = StyleSettings()
    extractor = FeatureExtractor([*settings.style_layers, *settings.content_layers], log=None)
    painting = tf.random.stateless_uniform((1, 48, 48, 3), seed=(5, 6))
    return PerceptualLoss(extractor, painting, settings)


def _pair(shift: float):
    """A random picture and the same picture moved ``shift`` pixels left, with the flow."""
    first = tf.random.stateless_uniform((1, 32, 32, 3), seed=(1, 1))
    flow = np.full((1, 32, 32, 2), 0.0, np.float32)
    flow[..., 0] = shift
    second = tf.constant(warp_array(first[0].numpy(), flow[0])[None], tf.float32)
    mask = np.ones((1, 32, 32, 1), np.float32)
    mask[:, :, -int(np.ceil(shift)) or 32 :] = 0.0 if shift else 1.0  # the entering edge
    return first, second, tf.constant(flow), tf.constant(mask)


def test_the_temporal_term_is_zero_for_a_network_that_follows_the_motion(perceptual):
    identity = tf.keras.Sequential([tf.keras.layers.Lambda(lambda x: x)])
    for shift in (0.0, 2.0):
        terms = SteadyLoss(perceptual, 1e6).of_network(identity, _pair(shift))
        assert float(terms["temporal"]) < 1e-10


def test_the_loss_is_the_perceptual_loss_of_both_frames_plus_the_weighted_term(perceptual):
    network = tf.keras.Sequential([tf.keras.layers.Lambda(lambda x: 1.0 - x)])
    first, second, flow, mask = _pair(2.0)
    shaken = tf.concat([second[:, :, :, :2], second[:, :, :, 2:] * 0.5], -1)  # not the motion
    terms = SteadyLoss(perceptual, 1e3).of_network(network, (first, shaken, flow, mask))
    both = tf.concat([first, shaken], 0)
    expected = perceptual.terms(both, 1.0 - both)
    changed = mask[0] * (first_warped(1.0 - first, flow) - (1.0 - shaken[0])) ** 2
    temporal = float(tf.reduce_sum(changed)) / (32 * 32 * 3)
    assert temporal > 1e-3
    np.testing.assert_allclose(float(terms["temporal"]), temporal, rtol=1e-5)
    np.testing.assert_allclose(float(terms["style"]), float(expected["style"]), rtol=1e-5)
    np.testing.assert_allclose(
        float(terms["total"]), float(expected["total"]) + 1e3 * temporal, rtol=1e-5
    )


def first_warped(image, flow):
    return tf.constant(warp_array(image[0].numpy(), flow[0].numpy()), tf.float32)


def test_the_temporal_gradient_reaches_the_network(perceptual):
    network = tf.keras.Sequential([tf.keras.layers.Conv2D(3, 3, padding="same")])
    network.build((None, None, None, 3))
    batch = _pair(2.0)
    with tf.GradientTape() as tape:
        temporal = SteadyLoss(perceptual, 1.0).of_network(network, batch)["temporal"]
    gradients = tape.gradient(temporal, network.trainable_variables)
    assert all(g is not None and float(tf.reduce_max(tf.abs(g))) > 0 for g in gradients)


def test_a_negative_temporal_weight_is_refused():
    with pytest.raises(SettingError, match="temporal_weight"):
        TrainSettings(temporal_weight=-1.0)


def test_train_fast_trains_on_pairs_with_the_temporal_weight(inputs, tmp_path):
    settings = TrainSettings(steps=2, size=32, batch=1, style_size=64, temporal_weight=1e6)
    output = train_fast(
        inputs / "stripes.png", tmp_path / "steady.npz", settings, data=inputs / "photos",
        preview_every=5, progress=False, log=lambda line: None,
    )  # fmt: skip
    record = json.loads(output.with_suffix(".json").read_text())
    assert record["train"]["temporal_weight"] == 1e6
    assert set(record["final_loss"]) == {"content", "style", "tv", "temporal", "total"}
    network, _ = load_model(output)
    assert network(tf.zeros((1, 32, 32, 3))).shape == (1, 32, 32, 3)
    assert model_summary("steady", record)["temporal weight"] == 1e6


def test_the_shipped_steady_network_says_how_it_was_trained():
    _, record = load_model("starry_night_steady")
    phases = training_phases(record)
    assert [phase["train"].get("temporal_weight", 0.0) for phase in phases] == [0.0, 0.0, 1e8]
    assert record["init"]["model"] == "starry_night" and phases[-1]["train"]["size"] == 192
