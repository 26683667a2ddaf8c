"""The exercise checks accept correct solutions and explain the typical wrong ones."""

from __future__ import annotations

import re

import numpy as np
import pytest
import tensorflow as tf

import nst_helpers as nst
from nst_helpers import checks
from nst_helpers.checks import ExerciseError


def stub(*args, **kwargs):
    # YOUR CODE HERE
    raise NotImplementedError("Write your solution here, then run the check below.")


def rejects(check, fn, *phrases: str) -> str:
    """Assert that ``check(fn)`` raises ExerciseError whose message contains every phrase."""
    with pytest.raises(ExerciseError) as info:
        check(fn)
    message = str(info.value)
    for phrase in phrases:
        assert phrase.lower() in message.lower(), f"{phrase!r} not in {message!r}"
    return message


ALL_CHECKS = [
    checks.check_preprocess, checks.check_receptive_field, checks.check_gram_matrix,
    checks.check_content_loss, checks.check_style_loss, checks.check_total_variation_loss,
    checks.check_train_step, checks.check_files_from_upload,
]


def test_exercise_error_is_an_assertion_error():
    assert issubclass(ExerciseError, AssertionError)


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__)
def test_every_check_rejects_the_empty_stub(check):
    rejects(check, stub, "NotImplementedError", "YOUR CODE HERE")


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__)
def test_every_check_reports_other_exceptions_in_one_sentence(check):
    def broken(*args, **kwargs):
        return {}["missing"]

    message = rejects(check, broken, "your function raised KeyError")
    assert "\n" not in message


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__)
def test_every_check_notices_a_missing_return(check):
    rejects(check, lambda *args, **kwargs: None, "returned None")


# ----------------------------------------------------------------------------- preprocess

def test_preprocess_accepts_the_package_and_a_numpy_version(capsys):
    assert checks.check_preprocess(nst.preprocess) is True
    assert "✓ preprocess passed" in capsys.readouterr().out

    def numpy_version(image):
        return image.numpy()[..., ::-1] * 255.0 - np.array([103.939, 116.779, 123.68])

    assert checks.check_preprocess(numpy_version)


MEAN_BGR = tf.constant([103.939, 116.779, 123.68])


@pytest.mark.parametrize("fn, phrases", [
    (lambda x: x * 255.0 - MEAN_BGR, ["RGB order", "BGR"]),
    (lambda x: x[..., ::-1] - MEAN_BGR, ["forgot *255"]),
    (lambda x: x[..., ::-1] * 255.0 - MEAN_BGR[::-1], ["mean", "wrong order"]),
    (lambda x: x[..., ::-1] * 255.0, ["forgot to subtract the mean"]),
    (lambda x: x[..., ::-1] * 255.0 + MEAN_BGR, ["added the mean"]),
    (lambda x: (x[..., ::-1] * 255.0 - MEAN_BGR)[0], ["wrong shape", "batch axis"]),
    (lambda x: x[..., ::-1] * 254.0 - MEAN_BGR, ["wrong values"]),
], ids=["no-flip", "no-255", "mean-order", "no-mean", "added-mean", "no-batch", "other"])
def test_preprocess_names_the_mistake(fn, phrases):
    rejects(checks.check_preprocess, fn, *phrases)


# ----------------------------------------------------------------------------- receptive field

def receptive_field(kinds):
    field, stride = 1, 1
    for kind in kinds:
        if kind == "conv":
            field += 2 * stride
        else:
            field += stride
            stride *= 2
    return field


def test_receptive_field_accepts_a_correct_version():
    assert checks.check_receptive_field(receptive_field)


def test_receptive_field_accepts_numpy_integers():
    assert checks.check_receptive_field(lambda kinds: np.int64(receptive_field(kinds)))


def test_receptive_field_names_a_forgotten_stride():
    def no_stride(kinds):
        return 1 + sum(2 if kind == "conv" else 1 for kind in kinds)

    rejects(checks.check_receptive_field, no_stride, "stride", "doubles")


def test_receptive_field_names_a_doubling_pool():
    def doubling(kinds):
        field, stride = 1, 1
        for kind in kinds:
            if kind == "conv":
                field += 2 * stride
            else:
                field, stride = field * 2, stride * 2
        return field

    rejects(checks.check_receptive_field, doubling, "does not double")


def test_receptive_field_names_ignored_pools_and_off_by_one():
    def ignores_pools(kinds):
        field, stride = 1, 1
        for kind in kinds:
            if kind == "conv":
                field += 2 * stride
            else:
                stride *= 2
        return field

    rejects(checks.check_receptive_field, ignores_pools, "pooling layers also widen")
    rejects(checks.check_receptive_field, lambda kinds: receptive_field(kinds) - 1, "off by one")


def test_receptive_field_wants_a_number():
    rejects(checks.check_receptive_field, lambda kinds: "3", "whole number")
    rejects(checks.check_receptive_field, lambda kinds: receptive_field(kinds) + 0.5, "whole number")


# ----------------------------------------------------------------------------- Gram matrix

def gram_matrix(features):
    _, h, w, c = features.shape
    flat = tf.reshape(features, (1, h * w, c))
    return tf.matmul(flat, flat, transpose_a=True) / float(h * w)


def test_gram_matrix_accepts_the_package_and_a_matmul_version():
    assert checks.check_gram_matrix(nst.gram_matrix)
    assert checks.check_gram_matrix(gram_matrix)


def test_gram_matrix_names_the_missing_normalization():
    def unnormalized(features):
        return gram_matrix(features) * float(features.shape[1] * features.shape[2])

    message = rejects(checks.check_gram_matrix, unnormalized, "too large",
                      "divide by the number of positions H*W")
    assert "4x too large" in message  # the first case is 2x2 positions


def test_gram_matrix_names_a_wrong_shape():
    rejects(checks.check_gram_matrix, lambda f: gram_matrix(f)[0], "wrong shape", "(1, 3, 3)", "batch axis")

    def positions(features):
        _, h, w, c = features.shape
        flat = tf.reshape(features, (1, h * w, c))
        return tf.matmul(flat, flat, transpose_b=True) / float(h * w)

    rejects(checks.check_gram_matrix, positions, "wrong shape", "F^T F")


def test_gram_matrix_names_other_mistakes():
    def too_much(features):
        return gram_matrix(features) / float(features.shape[-1])

    rejects(checks.check_gram_matrix, too_much, "3x too small", "not by H*W*C")

    def scrambled(features):
        _, h, w, c = features.shape
        flat = tf.reshape(features, (1, c, h * w))
        return tf.matmul(flat, flat, transpose_b=True) / float(h * w)

    rejects(checks.check_gram_matrix, scrambled, "(C, H*W)", "reshape to (H*W, C)")

    def lopsided(features):
        return tf.linalg.band_part(gram_matrix(features), 0, -1)  # upper triangle only

    rejects(checks.check_gram_matrix, lopsided, "not symmetric")

    def covariance(features):
        return gram_matrix(features - tf.reduce_mean(features, axis=(1, 2), keepdims=True))

    rejects(checks.check_gram_matrix, covariance, "subtracted the mean")


# ----------------------------------------------------------------------------- content loss

def test_content_loss_accepts_the_package_and_a_hand_written_version():
    assert checks.check_content_loss(nst.content_loss)
    assert checks.check_content_loss(lambda f, p: tf.reduce_mean((f - p) ** 2))


@pytest.mark.parametrize("fn, phrases", [
    (lambda f, p: tf.reduce_sum((f - p) ** 2), ["summed", "mean", "too large"]),
    (lambda f, p: 0.5 * tf.reduce_sum((f - p) ** 2), ["paper's 1/2"]),
    (lambda f, p: tf.reduce_mean(tf.abs(f - p)), ["absolute", "square"]),
    (lambda f, p: tf.sqrt(tf.reduce_mean((f - p) ** 2)), ["square root"]),
    (lambda f, p: tf.reduce_mean(f - p), ["forgot to square"]),
    (lambda f, p: tf.reduce_mean((f - p) ** 2, axis=-1), ["wrong shape", "scalar"]),
], ids=["sum", "half-sum", "abs", "sqrt", "no-square", "not-scalar"])
def test_content_loss_names_the_mistake(fn, phrases):
    rejects(checks.check_content_loss, fn, *phrases)


# ----------------------------------------------------------------------------- style loss

def style_loss(grams, targets, layer_weights=None):
    if layer_weights is None:
        layer_weights = {name: 1.0 / len(grams) for name in grams}
    return tf.add_n([layer_weights[n] * tf.reduce_mean((grams[n] - targets[n]) ** 2) for n in grams])


def test_style_loss_accepts_the_package_and_a_hand_written_version():
    assert checks.check_style_loss(nst.style_loss)
    assert checks.check_style_loss(style_loss)


def test_style_loss_names_missing_layer_averaging():
    def no_average(grams, targets, layer_weights=None):
        weights = layer_weights or {n: 1.0 for n in grams}
        return tf.add_n([weights[n] * tf.reduce_mean((grams[n] - targets[n]) ** 2) for n in grams])

    rejects(checks.check_style_loss, no_average, "3x too large", "1/L")


def test_style_loss_names_sum_instead_of_mean_and_abs():
    def summed(grams, targets, layer_weights=None):
        weights = layer_weights or {n: 1.0 / len(grams) for n in grams}
        return tf.add_n([weights[n] * tf.reduce_sum((grams[n] - targets[n]) ** 2) for n in grams])

    rejects(checks.check_style_loss, summed, "summed", "mean")

    def absolute(grams, targets, layer_weights=None):
        weights = layer_weights or {n: 1.0 / len(grams) for n in grams}
        return tf.add_n([weights[n] * tf.reduce_mean(tf.abs(grams[n] - targets[n])) for n in grams])

    rejects(checks.check_style_loss, absolute, "absolute")


def test_style_loss_names_ignored_weights_and_the_papers_quarter():
    def ignores_weights(grams, targets, layer_weights=None):
        return style_loss(grams, targets)

    rejects(checks.check_style_loss, ignores_weights, "ignored the layer_weights")

    def quarter(grams, targets, layer_weights=None):
        return 0.25 * style_loss(grams, targets, layer_weights)

    rejects(checks.check_style_loss, quarter, "4x too small", "1/4")


def test_style_loss_needs_a_default_for_layer_weights():
    def no_default(grams, targets, layer_weights):
        return style_loss(grams, targets, layer_weights)

    rejects(checks.check_style_loss, no_default, "TypeError", "default value None")


# ----------------------------------------------------------------------------- total variation

def tv_loss(image):
    return (tf.reduce_mean(tf.abs(image[:, 1:] - image[:, :-1]))
            + tf.reduce_mean(tf.abs(image[:, :, 1:] - image[:, :, :-1])))


def test_total_variation_accepts_the_package_and_a_hand_written_version():
    assert checks.check_total_variation_loss(nst.total_variation_loss)
    assert checks.check_total_variation_loss(tv_loss)


@pytest.mark.parametrize("fn, phrases", [
    (lambda x: tf.reduce_mean((x[:, 1:] - x[:, :-1]) ** 2) + tf.reduce_mean((x[:, :, 1:] - x[:, :, :-1]) ** 2),
     ["squared", "absolute"]),
    (lambda x: tf.reduce_sum(tf.image.total_variation(x)), ["summed", "mean"]),
    (lambda x: tf.image.total_variation(x), ["wrong shape", "scalar"]),
    (lambda x: tf.reduce_mean(tf.abs(x[:, 1:] - x[:, :-1])), ["only included the vertical"]),
    (lambda x: tf.reduce_mean(tf.abs(x[:, :, 1:] - x[:, :, :-1])), ["only included the horizontal"]),
    (lambda x: tv_loss(x) / 2, ["2x too small", "add the two means"]),
    (lambda x: tf.reduce_mean(tf.abs(x - tf.roll(x, 1, axis=1))) + tf.reduce_mean(tf.abs(x - tf.roll(x, 1, axis=2))),
     ["wrapped-around"]),
    (lambda x: tv_loss(x) + 1.0, ["must be 0"]),
], ids=["squared", "sum", "per-image", "vertical-only", "horizontal-only", "averaged", "roll", "offset"])
def test_total_variation_names_the_mistake(fn, phrases):
    rejects(checks.check_total_variation_loss, fn, *phrases)


# ----------------------------------------------------------------------------- train step

def train_step(image, loss_fn, optimizer):
    with tf.GradientTape() as tape:
        loss = loss_fn(image)
    optimizer.apply_gradients([(tape.gradient(loss, image), image)])
    image.assign(tf.clip_by_value(image, 0.0, 1.0))
    return loss


def test_train_step_accepts_a_correct_version():
    assert checks.check_train_step(train_step)

    def with_zip(image, loss_fn, optimizer):  # zip(...) and a float result are fine too
        with tf.GradientTape() as tape:
            loss = loss_fn(image)
        optimizer.apply_gradients(zip([tape.gradient(loss, image)], [image]))
        image.assign(tf.clip_by_value(image, 0.0, 1.0))
        return float(loss)

    assert checks.check_train_step(with_zip)


def test_train_step_names_the_loss_after_the_update():
    def late(image, loss_fn, optimizer):
        train_step(image, loss_fn, optimizer)
        return loss_fn(image)

    rejects(checks.check_train_step, late, "loss after the update")


def test_train_step_names_a_missing_clip_and_a_missing_update():
    def unclipped(image, loss_fn, optimizer):
        with tf.GradientTape() as tape:
            loss = loss_fn(image)
        optimizer.apply_gradients([(tape.gradient(loss, image), image)])
        return loss

    rejects(checks.check_train_step, unclipped, "left [0, 1]", "clip_by_value")

    def rebinds(image, loss_fn, optimizer):
        with tf.GradientTape() as tape:
            loss = loss_fn(image)
        image = tf.clip_by_value(image - 0.1 * tape.gradient(loss, image), 0.0, 1.0)  # noqa: F841
        return loss

    rejects(checks.check_train_step, rebinds, "did not change", "image.assign")


def test_train_step_names_gradient_ascent_and_a_foreign_optimizer():
    def ascent(image, loss_fn, optimizer):
        with tf.GradientTape() as tape:
            loss = loss_fn(image)
        optimizer.apply_gradients([(-tape.gradient(loss, image), image)])
        image.assign(tf.clip_by_value(image, 0.0, 1.0))
        return loss

    rejects(checks.check_train_step, ascent, "loss went up")

    def own_sgd(image, loss_fn, optimizer):
        with tf.GradientTape() as tape:
            loss = loss_fn(image)
        image.assign(tf.clip_by_value(image - 0.01 * tape.gradient(loss, image), 0.0, 1.0))
        return loss

    rejects(checks.check_train_step, own_sgd, "optimizer that was passed in")


def test_messages_are_single_sentences_without_tracebacks():
    message = rejects(checks.check_gram_matrix, lambda f: f, "wrong shape")
    assert not re.search(r"Traceback|File \"", message)


# ----------------------------------------------------------------------------- uploads (notebook 07)

def files_from_upload(value):
    if isinstance(value, dict):
        return [(name, bytes(item["content"])) for name, item in value.items()]
    return [(item["name"], bytes(item["content"])) for item in value]


def test_files_from_upload_accepts_a_correct_version():
    assert checks.check_files_from_upload(files_from_upload)


def test_files_from_upload_names_the_mistakes():
    def version8_only(value):
        return [(item["name"], bytes(item["content"])) for item in value]

    rejects(checks.check_files_from_upload, version8_only, "your function raised TypeError")

    def memoryviews(value):
        if isinstance(value, dict):
            return [(name, item["content"]) for name, item in value.items()]
        return [(item["name"], item["content"]) for item in value]

    rejects(checks.check_files_from_upload, memoryviews, "memoryview", "bytes(")
    rejects(checks.check_files_from_upload, lambda value: dict(files_from_upload(value)), "returned a dict")
