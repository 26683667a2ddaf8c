"""The objective: targets computed once, terms, gradients, blends and masks."""

import numpy as np
import pytest
import tensorflow as tf

from nst_helpers.errors import NSTError
from nst_helpers.objective import StyleTransferLoss
from nst_helpers.settings import StyleSettings
from nst_helpers.vgg import STYLE_LAYERS


def test_losses_are_zero_at_their_targets(extractor, images):
    content, style, _ = images
    same = StyleTransferLoss(extractor, content, content, tv_weight=0.0)
    terms = same.terms(content)
    assert float(terms["content"]) == 0.0 and float(terms["style"]) == 0.0
    other = StyleTransferLoss(extractor, content, style)
    terms = other.terms(content)
    assert float(terms["content"]) == 0.0 and float(terms["style"]) > 0.0


def test_total_is_the_weighted_sum_of_the_terms(extractor, images):
    content, style, _ = images
    settings = StyleSettings(content_weight=2.0, style_weight=3e-4, tv_weight=5.0)
    loss = StyleTransferLoss(extractor, content, style, settings)
    terms = {k: float(v) for k, v in loss.terms(0.5 * content + 0.5 * style).items()}
    expected = 2.0 * terms["content"] + 3e-4 * terms["style"] + 5.0 * terms["tv"]
    assert terms["total"] == pytest.approx(expected, rel=1e-5)


def test_gradient_reaches_the_pixels(extractor, images):
    content, style, _ = images
    loss = StyleTransferLoss(extractor, content, style)
    terms, gradient = loss.value_and_gradient(content)
    assert gradient.shape == content.shape
    assert np.isfinite(gradient.numpy()).all() and float(tf.reduce_max(tf.abs(gradient))) > 0
    step = content - 1e-3 * gradient / tf.reduce_max(tf.abs(gradient))  # a descent direction
    assert float(loss.terms(step)["total"]) < float(terms["total"])


def test_xla_compiled_loss_gives_the_same_value_and_gradient(extractor):
    # A square image: on the 48x64 one XLA's max-pooling gradient picks other positions
    # among equal values (15 % of the gradient differs, with the same loss value).
    y, x = np.mgrid[0:48, 0:48] / 47.0
    content = tf.constant(np.stack([x, y, 0.5 * np.ones_like(x)], -1)[None], tf.float32)
    stripes = (np.sin(x * 25) > 0).astype(np.float32)
    style = tf.constant(np.stack([stripes, 1 - stripes, 0.3 + 0.4 * stripes], -1)[None])
    plain = StyleTransferLoss(extractor, content, style)
    compiled = StyleTransferLoss(extractor, content, style, jit_compile=True)
    image = 0.5 * content + 0.5 * style
    (terms, gradient), (terms_xla, gradient_xla) = (
        plain.value_and_gradient(image),
        compiled.value_and_gradient(image),
    )
    np.testing.assert_allclose(float(terms_xla["total"]), float(terms["total"]), rtol=1e-4)
    np.testing.assert_allclose(
        gradient_xla.numpy(),
        gradient.numpy(),
        rtol=1e-3,
        atol=1e-4 * float(tf.reduce_max(tf.abs(gradient))),
    )
    assert plain.evaluations == compiled.evaluations == 1


def test_blend_targets_are_the_weighted_gram_matrices(extractor, images):
    content, a, b = images
    blended = StyleTransferLoss(extractor, content, [a, b], style_blend=[0.7, 0.3])
    only_a = StyleTransferLoss(extractor, content, a)
    only_b = StyleTransferLoss(extractor, content, b)
    for name in STYLE_LAYERS:
        expected = 0.7 * only_a.style_targets[name] + 0.3 * only_b.style_targets[name]
        np.testing.assert_allclose(blended.style_targets[name], expected, rtol=1e-4, atol=1e-2)
    pure = StyleTransferLoss(extractor, content, [a, b], style_blend=[1.0, 0.0])
    np.testing.assert_allclose(
        pure.style_targets["block2_conv1"], only_a.style_targets["block2_conv1"]
    )


def test_texture_synthesis_needs_no_content_layer(extractor, images):
    content, style, _ = images
    loss = StyleTransferLoss(extractor, content, style, content_layers=[])
    assert loss.content_targets == {} and float(loss.terms(style)["content"]) == 0.0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"style_blend": [0.5, 0.25, 0.25]}, "one blend weight per style"),
        ({"masks": [tf.ones((1, 48, 64, 1))]}, "one mask per style"),
    ],
)
def test_inputs_that_disagree_are_refused(extractor, images, kwargs, match):
    content, a, b = images
    with pytest.raises(NSTError, match=match):
        StyleTransferLoss(extractor, content, [a, b], **kwargs)


def test_an_all_black_mask_is_refused(extractor, images):
    content, a, _ = images
    with pytest.raises(NSTError, match="selects no pixel"):
        StyleTransferLoss(extractor, content, a, masks=[tf.zeros((1, 48, 64, 1))])
