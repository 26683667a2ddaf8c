"""The optimization loop on tiny images with real weights."""

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from nst_helpers.errors import NSTError
from nst_helpers.optimize import StyleTransferLoss, initial_image, stylize


@pytest.fixture(scope="module")
def images():
    y, x = np.mgrid[0:48, 0:48] / 47.0
    content = np.stack([x, y, 0.5 * np.ones_like(x)], -1)[None].astype(np.float32)
    stripes = (np.sin(x * 25) > 0).astype(np.float32)
    style = np.stack([stripes, 1 - stripes, 0.3 + 0.4 * stripes], -1)[None]
    return tf.constant(content), tf.constant(style)


def test_losses_are_zero_at_their_targets(extractor, images):
    content, style = images
    same = StyleTransferLoss(extractor, content, content, tv_weight=0.0)
    terms = same.terms(content)
    assert float(terms["content"]) == 0.0 and float(terms["style"]) == 0.0
    other = StyleTransferLoss(extractor, content, style)
    terms = other.terms(content)
    assert float(terms["content"]) == 0.0 and float(terms["style"]) > 0.0


def test_gradient_reaches_the_pixels(extractor, images):
    content, style = images
    loss = StyleTransferLoss(extractor, content, style)
    terms, gradient = loss.value_and_gradient(content)
    assert gradient.shape == content.shape
    assert np.isfinite(gradient.numpy()).all() and float(tf.reduce_max(tf.abs(gradient))) > 0
    # A small step against the gradient lowers the loss (it is a descent direction).
    step = content - 1e-3 * gradient / tf.reduce_max(tf.abs(gradient))
    assert float(loss.terms(step)["total"]) < float(terms["total"])


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_stylize_lowers_the_loss(extractor, images, optimizer):
    content, style = images
    seen = []
    result = stylize(content, style, steps=6, optimizer=optimizer, extractor=extractor,
                     progress=False, callback=lambda step, image, terms: seen.append(step),
                     callback_every=2, learning_rate=0.05)
    history = result.history
    assert isinstance(history, pd.DataFrame)
    assert list(history.columns) == ["step", "seconds", "total", "content", "style", "tv", "size"]
    assert len(history) >= 3 and history["total"].iloc[-1] < history["total"].iloc[0]
    assert seen and all(step % 2 == 0 for step in seen)
    image = result.image.numpy()
    assert image.shape == content.shape and image.min() >= 0.0 and image.max() <= 1.0
    assert not result.interrupted and result.settings["optimizer"] == optimizer
    if optimizer == "adam":  # one evaluation per step, and one to judge the last image
        assert result.evaluations == len(history) + 1
    else:  # at least one per step; the line search may add some
        assert result.evaluations >= len(history)


def test_keyboard_interrupt_returns_the_best_image_so_far(extractor, images):
    content, style = images

    def stop_at_three(step, image, terms):
        if step == 3:
            raise KeyboardInterrupt

    result = stylize(content, style, steps=50, optimizer="adam", extractor=extractor,
                     progress=False, callback=stop_at_three, callback_every=1, log=lambda line: None)
    assert result.interrupted and len(result.history) == 3
    assert result.image.shape == content.shape
    assert result.best_step <= 3
    assert result.evaluations == 3  # the steps that ran, before the interruption


def test_xla_compiled_loss_gives_the_same_value_and_gradient(extractor, images):
    content, style = images
    plain = StyleTransferLoss(extractor, content, style)
    compiled = StyleTransferLoss(extractor, content, style, jit_compile=True)
    image = 0.5 * content + 0.5 * style
    (terms, gradient), (terms_xla, gradient_xla) = plain.value_and_gradient(image), compiled.value_and_gradient(image)
    np.testing.assert_allclose(float(terms_xla["total"]), float(terms["total"]), rtol=1e-4)
    np.testing.assert_allclose(gradient_xla.numpy(), gradient.numpy(), rtol=1e-3,
                               atol=1e-4 * float(tf.reduce_max(tf.abs(gradient))))
    assert plain.evaluations == compiled.evaluations == 1


def test_noise_initialisation_is_seeded(images):
    content, style = images
    a = initial_image("noise", content, style, seed=1)
    assert np.array_equal(a, initial_image("noise", content, style, seed=1))
    assert not np.array_equal(a, initial_image("noise", content, style, seed=2))
    assert initial_image("style", content, style).shape == content.shape


@pytest.mark.parametrize("kwargs, match", [
    ({"optimizer": "sgd"}, "optimizer"), ({"init": "zeros"}, "init"),
    ({"steps": 0}, "steps"), ({"style_weight": -1.0}, "style weight"),
    ({"learning_rate": 0.0}, "learning_rate"),
])
def test_bad_arguments_are_refused(extractor, images, kwargs, match):
    content, style = images
    with pytest.raises(NSTError, match=match):
        stylize(content, style, extractor=extractor, progress=False, **kwargs)


def test_texture_synthesis_needs_no_content_layer(extractor, images):
    content, style = images
    result = stylize(content, style, content_layers=[], content_weight=0.0, init="noise", steps=4,
                     extractor=extractor, progress=False, log=lambda line: None)
    assert float(result.history["content"].max()) == 0.0
    assert result.history["style"].iloc[-1] < result.history["style"].iloc[0]
