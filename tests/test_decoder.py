"""The decoder of arbitrary style transfer and its training loss (nst_helpers.decoder)."""

import numpy as np
import pytest
import tensorflow as tf

from nst_helpers.decoder import ENCODER_LAYERS, AdaINLoss, _statistics_loss, build_decoder
from nst_helpers.errors import NSTError
from nst_helpers.realtime import TrainSettings, train
from nst_helpers.vgg import FeatureExtractor


@pytest.fixture(scope="module")
def encoder():
    return FeatureExtractor(list(ENCODER_LAYERS), log=lambda line: None)


def test_the_decoder_grows_features_eight_times_into_pixels():
    decoder = build_decoder("half")
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


def test_the_decoder_trains_with_the_real_time_training_loop(encoder, images, tmp_path):
    """The same loop as the real-time networks (checkpoints, progress), on (photo, painting)
    pairs: the loss falls in 25 steps and the run resumes from its checkpoint."""
    photo, painting, other = images
    photos = tf.image.resize(tf.concat([photo, other], 0), (32, 32))
    paintings = tf.image.resize(tf.concat([painting, painting], 0), (32, 32))
    pairs = tf.data.Dataset.from_tensors((photos, paintings)).repeat()
    decoder = build_decoder("half")
    settings = TrainSettings(steps=25, size=32, batch=2, checkpoint_every=25)
    history = train(decoder, AdaINLoss(encoder), pairs, tmp_path, settings, progress=False)
    totals = [row["total"] for row in history]
    assert np.isfinite(totals).all() and np.mean(totals[-5:]) < 0.7 * np.mean(totals[:5])
    more = TrainSettings(steps=27, size=32, batch=2)
    again = train(build_decoder("half"), AdaINLoss(encoder), pairs, tmp_path, more, progress=False)
    assert [row["step"] for row in again] == [26, 27]


def test_the_loss_needs_the_four_encoder_layers():
    small = FeatureExtractor(["block1_conv1", "block4_conv1"], log=lambda line: None)
    with pytest.raises(NSTError, match="block2_conv1"):
        AdaINLoss(small)


def test_the_reconstruction_loss_falls_and_needs_no_paintings(encoder, images, tmp_path):
    """Li et al.'s loss: pixels and relu4_1 features of the decoded photo against the photo."""
    from nst_helpers.decoder import ReconstructionLoss

    photo, _, other = images
    photos = tf.image.resize(tf.concat([photo, other], 0), (32, 32))
    loss = ReconstructionLoss(encoder)
    decoder = build_decoder("half")
    start = loss.of_network(decoder, photos)
    assert set(start) == {"pixels", "features", "total"}
    expected = float(start["pixels"]) + float(start["features"])
    assert float(start["total"]) == pytest.approx(expected, rel=1e-5)
    batches = tf.data.Dataset.from_tensors(photos).repeat()
    settings = TrainSettings(steps=25, size=32, batch=2, checkpoint_every=25)
    history = train(decoder, loss, batches, tmp_path, settings, progress=False)
    totals = [row["total"] for row in history]
    assert np.mean(totals[-5:]) < 0.7 * np.mean(totals[:5])


DISTRIBUTED = """
import json, tempfile
import numpy as np, tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from nst_helpers.decoder import AdaINLoss, build_decoder, build_encoder
from nst_helpers.realtime import TrainSettings, train

rng = np.random.default_rng(0)
photos = tf.constant(rng.uniform(size=(4, 32, 32, 3)), tf.float32)
paintings = tf.constant(rng.uniform(size=(4, 32, 32, 3)) ** 3, tf.float32)
pairs = tf.data.Dataset.from_tensor_slices((photos, paintings)).batch(4).repeat()
loss = AdaINLoss(build_encoder(log=None))
start = build_decoder("half").get_weights()

def run(strategy):
    with strategy.scope():
        decoder = build_decoder("half")
    decoder.set_weights(start)
    settings = TrainSettings(steps=2, size=32, batch=4)
    rows = train(decoder, loss, pairs, tempfile.mkdtemp(), settings, strategy=strategy,
                 progress=False)
    return [row["total"] for row in rows]

mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
print(json.dumps({"replicas": mirrored.num_replicas_in_sync,
                  "losses": [run(mirrored), run(tf.distribute.get_strategy())]}))
"""


def test_the_decoder_trains_split_over_two_devices():
    """(photo, painting) pairs under MirroredStrategy on the CPU split in two: the same losses
    as on one device (step 1 to float32 rounding; step 2 after Adam, see test_realtime)."""
    import json
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", DISTRIBUTED], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    two, one = result["losses"]
    assert result["replicas"] == 2 and len(two) == len(one) == 2
    np.testing.assert_allclose(two[0], one[0], rtol=1e-5)
    np.testing.assert_allclose(two[1], one[1], rtol=1e-3)
