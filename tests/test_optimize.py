"""stylize and its optimizers on tiny images with real weights."""

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from conftest import quiet
from nst_helpers.color import rgb_to_yiq
from nst_helpers.errors import NSTError
from nst_helpers.monitor import StopRun
from nst_helpers.objective import StyleTransferLoss
from nst_helpers.optimize import stylize
from nst_helpers.settings import StyleSettings


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_stylize_lowers_the_loss(extractor, images, optimizer):
    content, style, _ = images
    seen = []
    result = stylize(
        content,
        style,
        steps=6,
        optimizer=optimizer,
        extractor=extractor,
        callback=lambda step, image, terms: seen.append(step),
        callback_every=2,
        learning_rate=0.05,
        **quiet(),
    )
    history = result.history
    assert isinstance(history, pd.DataFrame)
    assert list(history.columns) == ["step", "seconds", "total", "content", "style", "tv", "size"]
    assert result.steps == 6 and list(history["step"]) == list(range(7))  # row 0: the start
    assert history["total"].iloc[-1] < history["total"].iloc[0]
    assert float(history["content"].iloc[0]) == 0.0  # it starts from the photo
    assert seen == [0, 2, 4, 6]
    image = result.image.numpy()
    assert image.shape == content.shape and image.min() >= 0.0 and image.max() <= 1.0
    assert not result.interrupted and result.settings.optimizer == optimizer
    if optimizer == "adam":  # one evaluation per step, plus the start image
        assert result.evaluations == result.steps + 1
    else:  # at least one per step; the line search may add some
        assert result.evaluations >= result.steps + 1


def test_the_best_image_is_returned(extractor, images):
    content, style, _ = images
    result = stylize(
        content,
        style,
        steps=4,
        optimizer="adam",
        learning_rate=0.05,
        extractor=extractor,
        **quiet(),
    )
    loss = StyleTransferLoss(extractor, content, style)
    returned = float(loss.terms(result.image)["total"])
    assert returned == pytest.approx(result.history["total"].min(), rel=1e-4)


@pytest.mark.parametrize("stop", ["ctrl-c", "StopRun", "should_stop"])
def test_stopping_early_returns_the_best_image_so_far(extractor, images, stop):
    content, style, _ = images
    pressed = {"ctrl-c": KeyboardInterrupt, "StopRun": StopRun}

    polls = []

    def callback(step, image, terms):
        if step == 3 and stop in pressed:
            raise pressed[stop]

    def should_stop():  # polled after each row: rows 0, 1, 2, 3
        polls.append(None)
        return stop == "should_stop" and len(polls) == 4

    result = stylize(
        content,
        style,
        steps=50,
        optimizer="adam",
        extractor=extractor,
        callback=callback,
        callback_every=1,
        should_stop=should_stop,
        **quiet(),
    )
    assert result.interrupted and result.steps == 3
    assert result.stop_reason == {"ctrl-c": "interrupted"}.get(stop, "stopped")
    assert result.image.shape == content.shape
    assert result.evaluations == 4  # the start and the three steps that ran


def test_a_time_limit_stops_the_run(extractor, images):
    content, style, _ = images
    result = stylize(
        content,
        style,
        steps=10_000,
        optimizer="adam",
        max_seconds=4.0,
        extractor=extractor,
        **quiet(),
    )
    assert result.stop_reason == "time limit of 4 s"
    assert 0 < result.steps < 10_000 and result.seconds < 20


@pytest.mark.parametrize(
    "bad, match",
    [
        ({"style_weight": 1e38}, "not finite|inf"),  # finite in float32, the product overflows
    ],
)
def test_a_loss_that_is_not_finite_stops_with_a_clear_error(extractor, images, bad, match):
    content, style, _ = images
    with pytest.raises(NSTError, match="the loss is (inf|nan) for the start image"):
        stylize(content, style, steps=3, extractor=extractor, **bad, **quiet())


def test_nan_weights_in_the_network_stop_with_a_clear_error(images):
    from nst_helpers.vgg import FeatureExtractor

    content, style, _ = images
    broken = FeatureExtractor(["block1_conv1", "block4_conv2"], log=lambda line: None)
    layer = broken.model.get_layer("block1_conv1")
    kernel, bias = layer.get_weights()
    layer.set_weights([kernel * np.nan, bias])
    with pytest.raises(NSTError, match="nan for the start image"):
        stylize(content, style, steps=2, extractor=broken, style_layers=["block1_conv1"], **quiet())


@pytest.mark.parametrize(
    "pixels, match",
    [
        (np.nan, "NaN or infinite"),
        (np.inf, "NaN or infinite"),
        (255.0, "0..255"),
        (-0.5, "negative"),
    ],
)
def test_pixels_out_of_range_are_refused(extractor, images, pixels, match):
    content, style, _ = images
    bad = content.numpy().copy()
    bad[0, 3, 4, 1] = pixels
    with pytest.raises(NSTError, match=match):
        stylize(bad, style, steps=2, extractor=extractor, **quiet())


def test_uint8_images_are_converted(extractor, images):
    content, style, _ = images
    as_bytes = np.round(content.numpy() * 255).astype(np.uint8)
    result = stylize(as_bytes, style, steps=2, extractor=extractor, **quiet())
    assert result.history["content"].iloc[0] == pytest.approx(0.0, abs=1e-6)


def test_no_style_is_a_clear_error(extractor, images):
    content, _, _ = images
    with pytest.raises(NSTError, match="at least one style"):
        stylize(content, [], steps=2, extractor=extractor, **quiet())


def test_start_from_any_image(extractor, images, tmp_path):
    from nst_helpers.images import save_image

    content, style, other = images
    from_tensor = stylize(content, style, init=other, steps=1, extractor=extractor, **quiet())
    save_image(other, tmp_path / "start.png")
    from_file = stylize(
        content, style, init=tmp_path / "start.png", steps=1, extractor=extractor, **quiet()
    )
    assert from_tensor.history["total"].iloc[0] == pytest.approx(
        from_file.history["total"].iloc[0], rel=1e-3
    )
    assert from_tensor.history["content"].iloc[0] > 0  # it did not start from the photo


def test_noise_start_is_seeded(extractor, images):
    content, style, _ = images

    def start_loss(seed):
        result = stylize(
            content, style, init="noise", seed=seed, steps=1, extractor=extractor, **quiet()
        )
        return float(result.history["total"].iloc[0])

    assert start_loss(1) == start_loss(1) != start_loss(2)


def test_texture_synthesis_needs_no_content_layer(extractor, images):
    content, style, _ = images
    result = stylize(
        content,
        style,
        content_layers=[],
        content_weight=0.0,
        init="noise",
        steps=4,
        extractor=extractor,
        **quiet(),
    )
    assert float(result.history["content"].max()) == 0.0
    assert result.history["style"].iloc[-1] < result.history["style"].iloc[0]


def test_saved_settings_repeat_the_run(extractor, images, tmp_path):
    content, style, _ = images
    settings = StyleSettings(
        size=64, steps=4, optimizer="adam", init="noise", seed=7, style_weight=1e-3
    )
    first = stylize(content, style, settings, extractor=extractor, **quiet())
    path = first.settings.to_json(tmp_path / "run.json")
    again = stylize(content, style, StyleSettings.from_json(path), extractor=extractor, **quiet())
    assert again.settings == first.settings
    np.testing.assert_allclose(again.image.numpy(), first.image.numpy(), atol=1e-6)


def test_style_scale_sets_the_size_of_the_style_image(extractor, images):
    content, style, _ = images

    # The style term at step 0 compares Gram matrices of the photo with the painting's: a
    # painting seen at twice the size has coarser stripes, so another (here: smaller) loss.
    def start_style(scale):
        result = stylize(content, style, style_scale=scale, steps=1, extractor=extractor, **quiet())
        return float(result.history["style"].iloc[0])

    assert start_style(2.0) != pytest.approx(start_style(1.0), rel=0.01)
    with pytest.raises(NSTError, match="style_scale"):
        stylize(content, style, style_scale=0, steps=1, extractor=extractor, **quiet())


def test_pyramid_reaches_the_requested_size(extractor, images):
    content, style, _ = images
    result = stylize(content, style, size=128, steps=6, pyramid=3, extractor=extractor, **quiet())
    assert result.image.shape == (1, 96, 128, 3)
    assert list(result.history["size"]) == [32, 32, 32, 64, 64, 128, 128]
    assert result.steps == 6 and result.settings.pyramid == 3


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"size": 64, "pyramid": 3, "steps": 6}, "pyramid level 1 of 3"),
        ({"size": 64, "style_scale": 0.3}, "style_scale"),
    ],
)
def test_sizes_too_small_for_vgg_name_their_cause(extractor, images, kwargs, words):
    content, style, _ = images
    with pytest.raises(NSTError, match=words):
        stylize(content, style, extractor=extractor, **kwargs, **quiet())


@pytest.mark.parametrize(
    "shape, words",
    [
        ((1, 8, 8, 3), r"the content image \(8x8 px\) is too small"),
        ((1, 0, 5, 3), "empty"),
    ],
)
def test_tiny_or_empty_tensors_blame_the_image(extractor, images, shape, words):
    _, style, _ = images
    with pytest.raises(NSTError, match=words):
        stylize(np.zeros(shape, np.float32), style, steps=1, extractor=extractor, **quiet())


def test_an_elongated_image_is_called_so(extractor, images):
    _, style, _ = images
    strip = np.zeros((1, 10, 1000, 3), np.float32)
    with pytest.raises(NSTError, match="crop it"):
        stylize(strip, style, size=512, steps=1, extractor=extractor, **quiet())


def test_luminance_only_transfer_leaves_the_content_colours(extractor, images):
    content, style, _ = images
    result = stylize(
        content, style, steps=4, extractor=extractor, preserve_colors="luminance", **quiet()
    )
    iq_result = rgb_to_yiq(result.image)[..., 1:].numpy()
    iq_content = rgb_to_yiq(content)[..., 1:].numpy()
    assert np.abs(iq_result - iq_content).mean() < 0.01  # only clipping may move them
    change = rgb_to_yiq(result.image)[..., 0] - rgb_to_yiq(content)[..., 0]
    assert float(tf.reduce_mean(tf.abs(change))) > 1e-3  # while the luminance did change


def test_the_unmasked_half_keeps_the_photo(extractor, images):
    content, style, _ = images
    left = np.zeros((48, 64))
    left[:, :32] = 1.0

    # Shallow style layers only: their receptive fields (3 and 10 px) are small next to the
    # 64 px image. The content layer still couples the halves, so compare with the same run
    # unmasked.
    def column_change(masks):
        result = stylize(
            content,
            style,
            steps=8,
            extractor=extractor,
            tv_weight=0.0,
            style_layers=["block1_conv1", "block2_conv1"],
            masks=masks,
            **quiet(),
        )
        return np.abs(result.image.numpy() - content.numpy())[0].mean(axis=(0, 2))

    masked, unmasked = column_change([left]), column_change(None)
    assert masked[-16:].mean() < 0.6 * unmasked[-16:].mean()  # the unmasked side is spared
    assert masked[:16].mean() > 2 * masked[-16:].mean()  # and the masked side is painted


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"style_blend": [0.5, 0.5]}, "one blend weight per style"),
        ({"masks": [np.ones((48, 64)), np.ones((48, 64))]}, "one mask per style"),
        ({"masks": [np.zeros((48, 64))]}, "selects no pixel"),
        ({"optimizer": "sgd"}, "optimizer"),
    ],
)
def test_inputs_that_do_not_fit_are_refused(extractor, images, kwargs, match):
    content, style, _ = images
    with pytest.raises(NSTError, match=match):
        stylize(content, style, steps=2, extractor=extractor, **kwargs, **quiet())
