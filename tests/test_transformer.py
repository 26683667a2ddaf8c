"""The image transformation network of real-time style transfer (nst_helpers.transformer)."""

import numpy as np
import pytest
import tensorflow as tf

from nst_helpers.errors import NSTError
from nst_helpers.transformer import (
    CUSTOM_LAYERS,
    InstanceNorm,
    PadToMultiple,
    ReflectionPad,
    build_transformer,
    load_network,
    save_network,
)


@pytest.fixture(scope="module")
def half():
    return build_transformer("half")


def test_reflection_pad_mirrors_without_repeating_the_edge():
    row = tf.constant([1.0, 2.0, 3.0])[None, None, :, None]  # (1, 1, 3, 1)
    padded = ReflectionPad(1)(tf.concat([row, 2 * row], axis=1))  # two rows: 1 2 3 / 2 4 6
    expected = [[4, 2, 4, 6, 4], [2, 1, 2, 3, 2], [4, 2, 4, 6, 4], [2, 1, 2, 3, 2]]
    np.testing.assert_array_equal(padded[0, :, :, 0], expected)


def test_instance_norm_gives_each_image_and_channel_the_learned_mean_and_std():
    x = tf.random.stateless_normal((2, 6, 7, 3), seed=(1, 2)) * [1.0, 5.0, 0.1] + [3.0, -2.0, 9.0]
    layer = InstanceNorm()
    layer.build(x.shape)
    layer.gamma.assign([2.0, 1.0, 0.5])
    layer.beta.assign([0.5, 0.0, -1.0])
    y = layer(x).numpy()
    np.testing.assert_allclose(y.mean(axis=(1, 2)), [[0.5, 0.0, -1.0]] * 2, atol=1e-5)
    np.testing.assert_allclose(y.std(axis=(1, 2)), [[2.0, 1.0, 0.5]] * 2, rtol=1e-3)
    # Each image on its own: scaling one image of the batch does not change the other's output.
    other = layer(tf.concat([x[:1], 10 * x[1:]], axis=0)).numpy()
    np.testing.assert_allclose(other[0], y[0], atol=1e-5)


def test_pad_to_multiple_of_four():
    x = tf.zeros((1, 37, 50, 3))
    assert PadToMultiple(4)(x).shape == (1, 40, 52, 3)
    assert PadToMultiple(4)(tf.zeros((1, 40, 52, 3))).shape == (1, 40, 52, 3)


@pytest.mark.parametrize("height, width", [(37, 50), (64, 65), (16, 16), (9, 30)])
def test_output_has_the_input_size_and_pixel_range(half, height, width):
    photo = tf.random.stateless_uniform((1, height, width, 3), seed=(height, width))
    painted = half(photo)
    assert painted.shape == (1, height, width, 3)
    assert 0.0 <= float(tf.reduce_min(painted)) and float(tf.reduce_max(painted)) <= 1.0


def test_widths_and_architecture(half):
    full = build_transformer("full")
    ratio = half.count_params() / full.count_params()
    assert 0.2 < ratio < 0.3  # half the channels: about a quarter of the weights
    kinds = {type(layer).__name__ for layer in full.layers}
    assert "Conv2DTranspose" not in kinds and "UpSampling2D" in kinds
    assert sum(type(layer).__name__ == "Add" for layer in full.layers) == 5  # residual blocks
    with pytest.raises(NSTError, match="width"):
        build_transformer("wide")


def test_saved_and_loaded_network_paints_the_same(half, tmp_path):
    photo = tf.random.stateless_uniform((1, 21, 34, 3), seed=(5, 5))
    path = tmp_path / "net.keras"
    half.save(path)
    again = tf.keras.models.load_model(path, custom_objects=CUSTOM_LAYERS)
    np.testing.assert_array_equal(again(photo).numpy(), half(photo).numpy())


def test_a_network_saved_in_float16_paints_almost_the_same_and_is_never_overwritten(half, tmp_path):
    photo = tf.random.stateless_uniform((1, 24, 30, 3), seed=(8, 8))
    path = save_network(half, tmp_path / "model.npz", {"style": "test"})
    loaded, record = load_network(path)
    assert record == {"width": "half", "style": "test"}
    difference = np.abs(loaded(photo).numpy() - half(photo).numpy()).max()
    assert 0 < difference < 1e-2  # float16 rounding, nothing more
    assert path.stat().st_size < 0.6 * 4 * half.count_params()  # half of float32, compressed
    with pytest.raises(NSTError, match="exists"):
        save_network(half, path, {})
    path.write_bytes(b"not a zip file")
    with pytest.raises(NSTError, match="not a saved network"):
        load_network(path)
