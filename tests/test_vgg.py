"""VGG19: preprocessing, the layer table, and feature extraction on real weights."""

import numpy as np
import pytest
import tensorflow as tf

from nst_helpers import vgg
from nst_helpers.errors import NSTError
from nst_helpers.vgg import (
    VGG_MEAN_BGR,
    FeatureExtractor,
    deprocess,
    layer_table,
    normalize_weights,
    normalized_weights,
    preprocess,
)
from nst_helpers.weights import load_weights


def test_preprocess_known_pixel_and_inverse():
    red = tf.constant([[[[1.0, 0.0, 0.0]]]])
    b, g, r = VGG_MEAN_BGR
    np.testing.assert_allclose(preprocess(red)[0, 0, 0], [-b, -g, 255.0 - r], rtol=1e-6)
    image = tf.random.stateless_uniform((1, 5, 6, 3), seed=(1, 2))
    np.testing.assert_allclose(deprocess(preprocess(image)), image, atol=1e-5)


def test_layer_table():
    table = layer_table()
    assert list(table["kind"]).count("conv") == 16 and list(table["kind"]).count("pool") == 5
    assert table["parameters"].sum() == 20_024_384  # VGG19 without the classifier
    field = dict(zip(table["layer"], table["receptive_field"]))
    # 3x3 convs grow the field by 2 * stride, 2x2 pools by stride, then double the stride.
    assert (field["block1_conv1"], field["block1_conv2"], field["block1_pool"]) == (3, 5, 6)
    assert field["block2_conv1"] == 10
    assert table.set_index("layer").loc["block5_conv1", "stride"] == 16


@pytest.fixture(scope="module")
def extractor():
    return FeatureExtractor(["block1_conv1", "block4_conv2"], log=lambda line: None)


def test_feature_shapes_and_truncation(extractor):
    features = extractor(tf.random.stateless_uniform((1, 64, 48, 3), seed=(0, 0)))
    assert features["block1_conv1"].shape == (1, 64, 48, 64)
    assert features["block4_conv2"].shape == (1, 8, 6, 512)
    names = [layer.name for layer in extractor.model.layers]
    assert "block4_conv2" in names and "block4_conv3" not in names and "block5_conv1" not in names
    assert extractor.source.kind in ("imagenet", "compact")


def test_hand_built_network_equals_keras_vgg19(extractor):
    # Same weights in Keras' reference VGG19 must give the same features: this checks
    # the layer order, padding, activations and pooling of our hand-built network.
    import keras

    from nst_helpers.weights import load_weights

    reference = keras.applications.VGG19(include_top=False, weights=None)
    for name, (kernel, bias) in load_weights(extractor.source).items():
        reference.get_layer(name).set_weights([kernel, bias])
    probe = keras.Model(reference.input, reference.get_layer("block4_conv2").output)
    image = tf.random.stateless_uniform((1, 40, 56, 3), seed=(9, 9))
    ours = extractor(image)["block4_conv2"]
    np.testing.assert_allclose(ours, probe(preprocess(image)), rtol=1e-4, atol=1e-3)


def test_unknown_layer_is_refused():
    with pytest.raises(NSTError, match="unknown VGG19 layer"):
        FeatureExtractor(["block9_conv1"], log=lambda line: None)


def test_keras_h5_weights_file_round_trip(extractor, tmp_path):
    import keras

    from nst_helpers.weights import load_weights, load_weights_file

    arrays = load_weights(extractor.source)
    model = keras.applications.VGG19(include_top=False, weights=None)
    for name, (kernel, bias) in arrays.items():
        model.get_layer(name).set_weights([kernel, bias])
    path = tmp_path / "vgg19.weights.h5"
    model.save_weights(path)
    loaded = load_weights_file(path)
    np.testing.assert_array_equal(loaded["block3_conv2"][0], arrays["block3_conv2"][0])


def test_average_pooling_differs_from_max():
    image = tf.random.stateless_uniform((1, 32, 32, 3), seed=(4, 4))
    a = FeatureExtractor(["block2_conv1"], pooling="max", log=lambda line: None)(image)
    b = FeatureExtractor(["block2_conv1"], pooling="avg", log=lambda line: None)(image)
    assert not np.allclose(a["block2_conv1"], b["block2_conv1"])
    with pytest.raises(NSTError, match="pooling"):
        FeatureExtractor(["block2_conv1"], pooling="min", log=lambda line: None)


# ------------------------------------------------------------------ the normalised network


def test_normalized_network_has_mean_activation_one_for_every_filter(extractor, images):
    # Checked in Keras' own VGG19 with the rescaled weights, on the images they were made from.
    import keras

    pictures = list(images)
    arrays = normalize_weights(load_weights(extractor.source), pictures)
    reference = keras.applications.VGG19(include_top=False, weights=None)
    for name, (kernel, bias) in arrays.items():
        reference.get_layer(name).set_weights([kernel, bias])
    for layer in ("block1_conv1", "block3_conv2", "block5_conv1"):
        probe = keras.Model(reference.input, reference.get_layer(layer).output)
        outputs = [probe(preprocess(picture)).numpy() for picture in pictures]
        positions = sum(o.shape[1] * o.shape[2] for o in outputs)
        means = sum(o.sum(axis=(0, 1, 2)) for o in outputs) / positions
        alive = means > 0  # a filter that never fires on these images keeps its weights
        assert alive.mean() > 0.9, layer
        np.testing.assert_allclose(means[alive], 1.0, rtol=1e-3, err_msg=layer)


def test_normalized_features_are_the_plain_ones_times_one_factor_per_filter():
    image = tf.random.stateless_uniform((1, 48, 40, 3), seed=(3, 5))
    quiet = {"log": lambda line: None}
    plain = FeatureExtractor(["block3_conv1"], **quiet)(image)["block3_conv1"].numpy()
    scaled = FeatureExtractor(["block3_conv1"], network="normalized", **quiet)(image)
    scaled = scaled["block3_conv1"].numpy()
    assert ((plain > 0) == (scaled > 0)).mean() > 0.999  # the same units fire
    fires = plain > 1e-2 * plain.max()
    seen = fires.any(axis=(0, 1, 2))  # filters that fire somewhere on this image
    assert seen.mean() > 0.5
    ratio = np.where(fires, scaled / np.where(fires, plain, 1.0), np.nan)[0][..., seen]
    per_filter = np.nanmedian(ratio, axis=(0, 1))
    spread = np.nanmax(np.abs(ratio / per_filter - 1.0), axis=(0, 1))
    assert spread.max() < 1e-2  # one positive factor per filter, the same at every position
    assert per_filter.min() > 0 and per_filter.max() / per_filter.min() > 10


def test_normalized_network_is_cached_and_made_again_when_broken(extractor, monkeypatch, tmp_path):
    made, lines = [], []

    def fake_normalize(arrays, pictures):
        made.append(len(pictures))
        return {name: (kernel * 2.0, bias * 2.0) for name, (kernel, bias) in arrays.items()}

    monkeypatch.setattr(vgg, "keras_cache_dir", lambda: tmp_path)
    monkeypatch.setattr(vgg, "normalize_weights", fake_normalize)
    first = normalized_weights(extractor.source, log=lines.append)
    path = vgg.normalized_cache_file(extractor.source)
    assert path.parent == tmp_path and path.is_file() and made == [len(vgg.NORMALIZATION_IMAGES)]
    again = normalized_weights(extractor.source, log=lines.append)
    assert made == [len(vgg.NORMALIZATION_IMAGES)]  # read from the cache
    np.testing.assert_array_equal(again["block2_conv1"][0], first["block2_conv1"][0])

    path.write_bytes(path.read_bytes()[:1000])  # truncated
    normalized_weights(extractor.source, log=lines.append)
    assert len(made) == 2 and any("does not match its sha256" in line for line in lines)

    monkeypatch.setattr(vgg, "NORMALIZATION_IMAGES", vgg.NORMALIZATION_IMAGES[:3])
    assert vgg.normalized_cache_file(extractor.source) != path  # another recipe, another file


def test_unknown_network_is_refused():
    with pytest.raises(NSTError, match="network"):
        FeatureExtractor(["block1_conv1"], network="scaled", log=lambda line: None)
