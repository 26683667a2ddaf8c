"""The exercise checks accept correct solutions and explain the typical wrong ones."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import numpy as np
import pytest
import tensorflow as tf

import nst_helpers as nst
from nst_helpers import checks, collect
from nst_helpers import flow as optical_flow
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


# ----------------------------------------------------------------------------- correct solutions
# Written the way a student might, so that no check is fed its own reference.

MEAN_BGR = tf.constant([103.939, 116.779, 123.68])


def preprocess_numpy(image):
    return image.numpy()[..., ::-1] * 255.0 - np.array([103.939, 116.779, 123.68])


def receptive_field(kinds):  # stands for a student's answer: not checks' own reference
    field, stride = 1, 1
    for kind in kinds:
        if kind == "conv":
            field += 2 * stride
        else:
            field += stride
            stride *= 2
    return field


def gram_matrix(features):
    _, h, w, c = features.shape
    flat = tf.reshape(features, (1, h * w, c))
    return tf.matmul(flat, flat, transpose_a=True) / float(h * w)


def layer_sum(grams, targets, weights, per_layer):
    return tf.add_n([weights[n] * per_layer(grams[n] - targets[n]) for n in grams])


def equal(grams):
    return {n: 1.0 / len(grams) for n in grams}


def style_loss(grams, targets, layer_weights=None):
    return layer_sum(grams, targets, layer_weights or equal(grams), lambda d: tf.reduce_mean(d**2))


def tv_loss(image):
    return tf.reduce_mean(tf.abs(image[:, 1:] - image[:, :-1])) + tf.reduce_mean(
        tf.abs(image[:, :, 1:] - image[:, :, :-1])
    )


def train_step(image, loss_fn, optimizer):
    with tf.GradientTape() as tape:
        loss = loss_fn(image)
    optimizer.apply_gradients([(tape.gradient(loss, image), image)])
    image.assign(tf.clip_by_value(image, 0.0, 1.0))
    return loss


def train_step_with_zip(image, loss_fn, optimizer):  # zip(...) and a float result are fine too
    with tf.GradientTape() as tape:
        loss = loss_fn(image)
    optimizer.apply_gradients(zip([tape.gradient(loss, image)], [image]))
    image.assign(tf.clip_by_value(image, 0.0, 1.0))
    return float(loss)


def total_loss(features, targets, image, weights, losses=nst):
    alpha, beta, gamma = weights
    content = 0.0
    for layer, target in targets["content"].items():
        content += losses.content_loss(features[layer], target)
    content /= len(targets["content"])
    grams = {layer: losses.gram_matrix(features[layer]) for layer in targets["style"]}
    style = losses.style_loss(grams, targets["style"])
    return alpha * content + beta * style + gamma * losses.total_variation_loss(image)


def total_with(weights=lambda a, b, g: (a, b, g), content="mean", gram=None, style=None):
    """A total_loss with one mistake: other ``weights``, summed content losses (``content``),
    another ``gram(losses, features)`` or ``style(style_loss, grams, targets)``."""

    def total(features, targets, image, weights_, losses=nst):
        alpha, beta, gamma = weights(*weights_)
        per_layer = [losses.content_loss(features[n], p) for n, p in targets["content"].items()]
        content_term = tf.add_n(per_layer) / (len(per_layer) if content == "mean" else 1)
        make = gram or (lambda losses, f: losses.gram_matrix(f))
        grams = {n: make(losses, features[n]) for n in targets["style"]}
        combine = style or (lambda style_loss, g, a: style_loss(g, a))
        style_term = combine(losses.style_loss, grams, targets["style"])
        tv = losses.total_variation_loss(image)
        return alpha * content_term + beta * style_term + gamma * tv

    return total


def unnormalized_gram(losses, features):
    _, h, w, c = features.shape
    flat = tf.reshape(features, (1, h * w, c))
    return tf.matmul(flat, flat, transpose_a=True)


def files_from_upload(value):
    if isinstance(value, dict):
        return [(name, bytes(item["content"])) for name, item in value.items()]
    return [(item["name"], bytes(item["content"])) for item in value]


def stats(x, axis=(0, 1, 2)):
    return tf.reduce_mean(x, axis), tf.math.reduce_std(x, axis)


def recoloured(formula, axis=(0, 1, 2), clip=True):
    """A match_mean_std computing ``formula(style, style mean, style std, content mean, std)``."""

    def match(style, content):
        result = formula(style, *stats(style, axis), *stats(content, axis))
        return tf.clip_by_value(result, 0.0, 1.0) if clip else result

    return match


match_mean_std = recoloured(lambda s, ms, ss, mc, sc: (s - ms) / ss * sc + mc)


def instance_norm(x, gamma, beta, eps=1e-5):
    mean, variance = tf.nn.moments(x, axes=[1, 2], keepdims=True)
    return gamma * (x - mean) / tf.sqrt(variance + eps) + beta


def instance_norm_numpy(x, gamma, beta, eps=1e-5):  # numpy, and the layer's rsqrt
    x = np.asarray(x)
    centred = x - x.mean(axis=(1, 2), keepdims=True)
    variance = np.mean(centred**2, axis=(1, 2), keepdims=True)
    return np.asarray(gamma) * centred * tf.math.rsqrt(variance + eps).numpy() + np.asarray(beta)


def transposed_overlap(height, width, kernel, stride):
    counts = np.zeros(((height - 1) * stride + kernel, (width - 1) * stride + kernel), int)
    for i in range(height):
        for j in range(width):
            counts[i * stride : i * stride + kernel, j * stride : j * stride + kernel] += 1
    return counts


def overlap_by_convolution(height, width, kernel, stride):  # all ones through conv2d_transpose
    shape = (1, (height - 1) * stride + kernel, (width - 1) * stride + kernel, 1)
    ones, taps = tf.ones((1, height, width, 1)), tf.ones((kernel, kernel, 1, 1))
    return tf.nn.conv2d_transpose(ones, taps, shape, stride, padding="VALID")[0, ..., 0]


def adain(c, s, eps=1e-5):
    (c_mean, c_var), (s_mean, s_var) = (
        tf.nn.moments(x, axes=[1, 2], keepdims=True) for x in (c, s)
    )
    return tf.sqrt(s_var + eps) * (c - c_mean) / tf.sqrt(c_var + eps) + s_mean


def adain_with(axes=(1, 2), deviation=None, ddof=0, mean=None):
    """An adain with one mistake: statistics over other ``axes``, another ``deviation(var,
    eps)``, the sample variance (``ddof``), or another ``mean(content_mean, style_mean)``."""

    def wrong(c, s, eps=1e-5):
        stats = []
        for x in (c, s):
            m = tf.reduce_mean(x, axis=axes, keepdims=True)
            count = float(np.prod([x.shape[a] for a in axes]))
            v = tf.reduce_sum((x - m) ** 2, axis=axes, keepdims=True) / (count - ddof)
            stats.append((m, tf.sqrt(v + eps) if deviation is None else deviation(v, eps)))
        (c_mean, c_dev), (s_mean, s_dev) = stats
        shift = s_mean if mean is None else mean(c_mean, s_mean)
        return s_dev * (c - c_mean) / c_dev + shift

    return wrong


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")


class TagList(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {name: (value or "").strip() for name, value in attrs}))


def srcset_sizes(srcset):
    found = []
    for candidate in srcset.split(","):
        words = candidate.split()
        if words:
            descriptor = words[1] if len(words) > 1 else "1x"
            found.append((words[0], (descriptor.endswith("w"), float(descriptor[:-1]))))
    return found


def addresses_with(
    base="resolved",
    srcset=max,
    links="images",
    suffix=lambda url: urlsplit(url).path.lower(),
    resolve=True,
    schemes=("http", "https"),
    defrag=True,
    once=True,
    order=None,
):
    """An image_addresses written as a student would, with one mistake: the ``base`` not used
    ("ignored") or not resolved ("raw"); another choice than ``srcset=max`` of the (address,
    size) candidates (a function of the list, returning one candidate or a list of them); no
    ``links`` or "all"; the ``suffix`` taken from other text; no ``resolve``, other
    ``schemes`` (None: any), no ``defrag``, not ``once``; a final ``order``."""

    def image_addresses(html, page_url):
        parser = TagList()
        parser.feed(html)
        given = next((a["href"] for t, a in parser.tags if t == "base" and a.get("href")), None)
        start = page_url if given is None or base == "ignored" else given
        start = urljoin(page_url, start) if base == "resolved" else start
        found = []
        for tag, attributes in parser.tags:
            raws = []
            if tag == "img" and attributes.get("srcset") and srcset is not None:
                chosen = srcset(srcset_sizes(attributes["srcset"]), key=lambda c: c[1])
                raws = [c[0] for c in (chosen if isinstance(chosen, list) else [chosen])]
            elif tag == "img":
                raws = [attributes.get("src")]
            elif tag == "a" and links is not None:
                raws = [attributes.get("href")]
            for raw in filter(None, raws):
                url = urljoin(start, raw) if resolve else raw
                url = urldefrag(url)[0] if defrag else url
                if schemes is not None and urlsplit(url).scheme not in schemes:
                    continue
                if tag == "a" and links == "images" and not suffix(url).endswith(IMAGE_SUFFIXES):
                    continue
                if not once or url not in found:
                    found.append(url)
        return found if order is None else order(found)

    return image_addresses


image_addresses = addresses_with()


def warp_with(sign=1, swap=False, rounding=None, weights="right", outside="clamp"):
    """A warp_image written as a student would, with one mistake: ``sign=-1`` (p - flow),
    ``swap`` (dx and dy exchanged), ``rounding`` (np.round or np.floor, no interpolation),
    ``weights="swapped"``, ``outside="zero"``."""

    def warp_image(image, flow):
        height, width = image.shape[:2]
        rows, columns = np.indices((height, width))
        dx, dy = (flow[..., 1], flow[..., 0]) if swap else (flow[..., 0], flow[..., 1])
        x, y = columns + sign * dx, rows + sign * dy
        inside = (x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1)
        x, y = np.clip(x, 0, width - 1), np.clip(y, 0, height - 1)
        if rounding is not None:
            return image[rounding(y).astype(int), rounding(x).astype(int)]
        x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
        x1, y1 = np.minimum(x0 + 1, width - 1), np.minimum(y0 + 1, height - 1)
        wx, wy = (x - x0)[..., None], (y - y0)[..., None]
        if weights == "swapped":
            wx, wy = 1 - wx, 1 - wy
        top = image[y0, x0] * (1 - wx) + image[y0, x1] * wx
        warped = top * (1 - wy) + (image[y1, x0] * (1 - wx) + image[y1, x1] * wx) * wy
        return np.where(inside[..., None], warped, 0.0) if outside == "zero" else warped

    return warp_image


warp_image = warp_with()


def warp_image_tf(image, flow):  # the same in TensorFlow, with tf.gather_nd
    height, width = image.shape[:2]
    rows, columns = tf.meshgrid(tf.range(height), tf.range(width), indexing="ij")
    x = tf.clip_by_value(tf.cast(columns, tf.float32) + flow[..., 0], 0.0, width - 1.0)
    y = tf.clip_by_value(tf.cast(rows, tf.float32) + flow[..., 1], 0.0, height - 1.0)
    x0, y0 = tf.floor(x), tf.floor(y)
    wx, wy = (x - x0)[..., None], (y - y0)[..., None]
    x0, y0 = tf.cast(x0, tf.int32), tf.cast(y0, tf.int32)
    x1, y1 = tf.minimum(x0 + 1, width - 1), tf.minimum(y0 + 1, height - 1)

    def at(yi, xi):
        return tf.gather_nd(image, tf.stack([yi, xi], axis=-1))

    top = at(y0, x0) * (1 - wx) + at(y0, x1) * wx
    return top * (1 - wy) + (at(y1, x0) * (1 - wx) + at(y1, x1) * wx) * wy


SOLUTIONS = [
    (checks.check_preprocess, nst.preprocess),
    (checks.check_preprocess, preprocess_numpy),
    (checks.check_receptive_field, receptive_field),
    (checks.check_receptive_field, lambda kinds: np.int64(receptive_field(kinds))),
    (checks.check_gram_matrix, nst.gram_matrix),
    (checks.check_gram_matrix, gram_matrix),
    (checks.check_content_loss, nst.content_loss),
    (checks.check_content_loss, lambda f, p: tf.reduce_mean((f - p) ** 2)),
    (checks.check_style_loss, nst.style_loss),
    (checks.check_style_loss, style_loss),
    (checks.check_total_variation_loss, nst.total_variation_loss),
    (checks.check_total_variation_loss, tv_loss),
    (checks.check_train_step, train_step),
    (checks.check_train_step, train_step_with_zip),
    (checks.check_total_loss, total_loss),
    (checks.check_total_loss, total_with()),
    (checks.check_files_from_upload, files_from_upload),
    (checks.check_match_mean_std, match_mean_std),
    (checks.check_instance_norm, instance_norm),
    (checks.check_instance_norm, instance_norm_numpy),
    (checks.check_transposed_overlap, transposed_overlap),
    (checks.check_transposed_overlap, overlap_by_convolution),
    (checks.check_adain, adain),
    (checks.check_adain, lambda c, s, eps=1e-5: nst.arbitrary.adain(c, s, eps=eps)),
    (checks.check_image_addresses, image_addresses),
    (checks.check_image_addresses, collect.image_addresses),
    (checks.check_image_addresses, lambda html, url: tuple(image_addresses(html, url))),
    (checks.check_warp_image, warp_image),
    (checks.check_warp_image, warp_image_tf),
    (checks.check_warp_image, optical_flow.warp),
    (checks.check_warp_image, optical_flow.warp_array),
]
ALL_CHECKS = list(dict.fromkeys(check for check, _ in SOLUTIONS))


def test_exercise_error_is_an_assertion_error():
    assert issubclass(ExerciseError, AssertionError)


def test_every_check_is_exported_and_tested():
    names = {name for name in dir(checks) if name.startswith("check_")}
    assert names == {check.__name__ for check in ALL_CHECKS}
    assert names <= set(checks.__all__)


@pytest.mark.parametrize("check, fn", SOLUTIONS, ids=lambda x: getattr(x, "__name__", None))
def test_every_check_accepts_correct_solutions(check, fn, capsys):
    assert check(fn) is True
    assert f"✓ {check.__name__.removeprefix('check_')} passed: " in capsys.readouterr().out


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__)
def test_every_check_rejects_the_empty_stub(check):
    rejects(check, stub, "NotImplementedError", "replace the `# YOUR CODE HERE` line")


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__)
def test_every_check_reports_other_exceptions_in_one_sentence(check):
    def broken(*args, **kwargs):
        return {}["missing"]

    message = rejects(check, broken, "your function raised KeyError")
    assert "\n" not in message


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__)
def test_every_check_notices_a_missing_return(check):
    rejects(check, lambda *args, **kwargs: None, "returned None")


def test_messages_are_single_sentences_without_tracebacks():
    message = rejects(checks.check_gram_matrix, lambda f: f, "wrong shape")
    assert not re.search(r"Traceback|File \"", message)


# ----------------------------------------------------------------------------- named mistakes
# Each row: (id, a wrong implementation, phrases); the first phrase is taken from that
# mistake's message in the check's table (see test_every_named_mistake_has_a_test).


def field_by(conv, pool, start=1):
    """A receptive-field function from the rules (field, stride) -> (field, stride) per layer."""

    def field(kinds):
        f, s = start, 1
        for kind in kinds:
            f, s = conv(f, s) if kind == "conv" else pool(f, s)
        return f

    return field


def style_with(per_layer, default=equal):
    """A style_loss from ``per_layer(G - A)`` and the weights ``default(grams)`` for None."""
    return lambda g, a, w=None: layer_sum(g, a, w or default(g), per_layer)


def diffs(x):
    return x[:, 1:] - x[:, :-1], x[:, :, 1:] - x[:, :, :-1]


def all_differences(x):
    return tf.reduce_mean(tf.concat([tf.reshape(tf.abs(d), [-1]) for d in diffs(x)], axis=0))


def train_step_with(gradient=lambda g: g, clip=True, returned=None):
    def step(image, loss_fn, optimizer):
        with tf.GradientTape() as tape:
            loss = loss_fn(image)
        optimizer.apply_gradients([(gradient(tape.gradient(loss, image)), image)])
        if clip:
            image.assign(tf.clip_by_value(image, 0.0, 1.0))
        return loss if returned is None else returned(loss, loss_fn(image))

    return step


def rebinds(image, loss_fn, optimizer):
    with tf.GradientTape() as tape:
        loss = loss_fn(image)
    image = tf.clip_by_value(image - 0.1 * tape.gradient(loss, image), 0.0, 1.0)
    return loss


def own_sgd(image, loss_fn, optimizer):
    with tf.GradientTape() as tape:
        loss = loss_fn(image)
    image.assign(tf.clip_by_value(image - 0.01 * tape.gradient(loss, image), 0.0, 1.0))
    return loss


def positions(features):
    _, h, w, c = features.shape
    flat = tf.reshape(features, (1, h * w, c))
    return tf.matmul(flat, flat, transpose_b=True) / float(h * w)


def scrambled(features):
    _, h, w, c = features.shape
    flat = tf.reshape(features, (1, c, h * w))
    return tf.matmul(flat, flat, transpose_b=True) / float(h * w)


def positions_count(features):
    return float(features.shape[1] * features.shape[2])


def normalized(axes=(1, 2), variance=None, divide=None, centre=True, affine=None):
    """An instance_norm with one mistake: statistics over other ``axes``, another
    ``variance(x, mean)``, another ``divide(variance, eps)``, the mean not subtracted
    (``centre``), or another ``affine(normalized, gamma, beta)``."""

    def norm(x, gamma, beta, eps=1e-5):
        mean = tf.reduce_mean(x, axis=axes, keepdims=True)
        var = tf.reduce_mean((x - mean) ** 2, axis=axes, keepdims=True)
        var = var if variance is None else variance(x, mean)
        scale = tf.sqrt(var + eps) if divide is None else divide(var, eps)
        n = ((x - mean) if centre else x) / scale
        return gamma * n + beta if affine is None else affine(n, gamma, beta)

    return norm


def sample_variance(x, mean):
    count = float(x.shape[1] * x.shape[2])
    return tf.reduce_sum((x - mean) ** 2, axis=(1, 2), keepdims=True) / (count - 1)


def overlaps_1d(length, kernel, stride):
    return transposed_overlap(1, length, kernel, stride)[0]


MISTAKES = {
    checks.check_adain: [
        ("swapped", lambda c, s, eps=1e-5: adain(s, c, eps), ["content and the style are swapped"]),
        ("batch", adain_with(axes=(0, 1, 2)), ["over the whole batch"]),
        ("channels", adain_with(axes=(1, 2, 3)), ["mixed the channels"]),
        ("height-only", adain_with(axes=(1,)), ["one spatial axis only"]),
        ("width-only", adain_with(axes=(2,)), ["one spatial axis only"]),
        ("sample-variance", adain_with(ddof=1), ["the sample variance"]),
        ("no-eps", adain_with(deviation=lambda v, eps: tf.sqrt(v)), ["you forgot eps"]),
        (
            "eps-outside",
            adain_with(deviation=lambda v, eps: tf.sqrt(v) + eps),
            ["eps belongs inside the square root", "variance of about 3e-6"],
        ),
        ("variance", adain_with(deviation=lambda v, eps: v + eps), ["not variances"]),
        ("fixed-eps", lambda c, s, eps=1e-5: adain(c, s), ["ignored the eps argument"]),
        ("no-mean", adain_with(mean=lambda cm, sm: 0.0), ["add the style's mean at the end"]),
        ("content-mean", adain_with(mean=lambda cm, sm: cm), ["kept the content's mean"]),
        (
            "means-only",
            lambda c, s, eps=1e-5: (
                c
                - tf.reduce_mean(c, axis=[1, 2], keepdims=True)
                + tf.reduce_mean(s, axis=[1, 2], keepdims=True)
            ),
            ["only moved the means"],
        ),
        (
            "upside-down",
            adain_with(deviation=lambda v, eps: 1.0 / tf.sqrt(v + eps)),
            ["the scale is upside down"],
        ),
    ],
    checks.check_instance_norm: [
        ("batch-norm", normalized(axes=(0, 1, 2)), ["over the batch too", "batch normalization"]),
        (
            "layer-norm",
            normalized(axes=(1, 2, 3)),
            ["over the channels too", "layer normalization"],
        ),
        ("across-channels", normalized(axes=(3,)), ["across the channels at each pixel"]),
        ("height-only", normalized(axes=(1,)), ["over one spatial axis only"]),
        ("width-only", normalized(axes=(2,)), ["over one spatial axis only"]),
        ("sample-variance", normalized(variance=sample_variance), ["the sample variance"]),
        ("no-eps", normalized(divide=lambda v, eps: tf.sqrt(v)), ["you forgot eps"]),
        (
            "eps-outside",
            normalized(divide=lambda v, eps: tf.sqrt(v) + eps),
            ["eps belongs inside the square root", "variance of about 3e-6"],
        ),
        ("variance", normalized(divide=lambda v, eps: v + eps), ["not by the variance"]),
        (
            "fixed-eps",
            lambda x, g, b, eps=1e-5: instance_norm(x, g, b),
            ["ignored the eps argument", "eps=0.1"],
        ),
        ("no-centre", normalized(centre=False), ["subtract each channel's mean"]),
        ("no-division", normalized(divide=lambda v, eps: 1.0), ["did not divide"]),
        ("no-gamma", normalized(affine=lambda n, g, b: n + b), ["you forgot gamma:"]),
        ("no-beta", normalized(affine=lambda n, g, b: g * n), ["you forgot beta"]),
        ("no-affine", normalized(affine=lambda n, g, b: n), ["you forgot gamma and beta"]),
        ("swapped", normalized(affine=lambda n, g, b: b * n + g), ["gamma and beta are swapped"]),
        ("beta-inside", normalized(affine=lambda n, g, b: g * (n + b)), ["add beta after"]),
    ],
    checks.check_transposed_overlap: [
        (
            "stride-1",
            lambda h, w, k, s: transposed_overlap(h, w, k, 1),
            ["one output pixel per input pixel", "wrong shape"],
        ),
        (
            "same-padding",
            lambda h, w, k, s: transposed_overlap(h, w, k, s)[: h * s, : w * s],
            ["cut to height * stride rows", "expected (5, 7), got shape (4, 6)"],
        ),
        ("swapped", lambda h, w, k, s: transposed_overlap(w, h, k, s), ["are swapped"]),
        (
            "averaged",
            lambda h, w, k, s: transposed_overlap(h, w, k, s) / k**2,
            ["do not divide by the kernel's size"],
        ),
        (
            "added",
            lambda h, w, k, s: overlaps_1d(h, k, s)[:, None] + overlaps_1d(w, k, s),
            ["they do not add", "on a 2x3 input"],
        ),
        (
            "width-only",
            lambda h, w, k, s: np.tile(overlaps_1d(w, k, s), ((h - 1) * s + k, 1)),
            ["along the width only"],
        ),
        (
            "height-only",
            lambda h, w, k, s: np.tile(overlaps_1d(h, k, s)[:, None], (w - 1) * s + k),
            ["along the height only"],
        ),
    ],
    checks.check_preprocess: [
        ("batch", lambda x: (x[..., ::-1] * 255.0 - MEAN_BGR)[0], ["keep the batch axis", "(1, H"]),
        ("no-flip", lambda x: x * 255.0 - MEAN_BGR, ["flip them to BGR"]),
        ("no-flip-mean-reversed", lambda x: x * 255.0 - MEAN_BGR[::-1], ["VGG19 wants BGR"]),
        ("mean-order", lambda x: x[..., ::-1] * 255.0 - MEAN_BGR[::-1], ["the wrong order"]),
        ("no-255", lambda x: x[..., ::-1] - MEAN_BGR, ["multiply the [0, 1] image by 255"]),
        ("255-after-mean", lambda x: (x[..., ::-1] - MEAN_BGR) * 255.0, ["255 after subtracting"]),
        ("mean-over-255", lambda x: x[..., ::-1] - MEAN_BGR / 255.0, ["should be on VGG19's"]),
        ("no-mean", lambda x: x[..., ::-1] * 255.0, ["forgot to subtract the mean"]),
        ("only-255", lambda x: x * 255.0, ["only multiplied by 255"]),
        ("added-mean", lambda x: x[..., ::-1] * 255.0 + MEAN_BGR, ["added the mean"]),
        ("divided", lambda x: x[..., ::-1] / 255.0 - MEAN_BGR, ["you divided by 255"]),
    ],
    checks.check_receptive_field: [
        (
            "no-stride",
            field_by(lambda f, s: (f + 2, s), lambda f, s: (f + 1, s)),
            [
                "same amount at every layer",
                "for ['pool', 'conv'] expected a receptive field of 6 px",
            ],
        ),
        (
            "pool-doubles",
            field_by(lambda f, s: (f + 2 * s, s), lambda f, s: (2 * f, 2 * s)),
            ["does not double the field"],
        ),
        (
            "pool-ignored",
            field_by(lambda f, s: (f + 2 * s, s), lambda f, s: (f, 2 * s)),
            ["pooling layers also widen"],
        ),
        (
            "conv-adds-3",
            field_by(lambda f, s: (f + 3 * s, s), lambda f, s: (f + s, 2 * s)),
            ["positions (field += 2 * stride), not 3"],
        ),
        ("off-by-one", lambda kinds: receptive_field(kinds) - 1, ["off by one"]),
        (
            "pool-adds-2",
            field_by(lambda f, s: (f + 2 * s, s), lambda f, s: (f + 2 * s, 2 * s)),
            ["1 position (field += stride), not 2"],
        ),
        (
            "all-convs",
            field_by(lambda f, s: (f + 2, s), lambda f, s: (f + 2, s)),
            ["every layer like a 3x3 conv"],
        ),
    ],
    checks.check_gram_matrix: [
        ("no-batch", lambda f: gram_matrix(f)[0], ["return shape (1, {c}, {c})", "(1, 3, 3)"]),
        ("positions", positions, ["positions x positions", "F^T F"]),
        ("positions-no-batch", lambda f: positions(f)[0], ["positions x positions"]),
        ("scrambled", scrambled, ["straight to (C, H*W)", "reshape to (H*W, C)"]),
        (
            "covariance",
            lambda f: gram_matrix(f - tf.reduce_mean(f, axis=(1, 2), keepdims=True)),
            ["subtracted the mean of each channel"],
        ),
        ("abs", lambda f: gram_matrix(tf.abs(f)), ["do not take absolute values"]),
        (
            "unnormalized",
            lambda f: gram_matrix(f) * positions_count(f),
            ["forget to divide by the number of positions", "4x too large"],
        ),
        ("by-hwc", lambda f: gram_matrix(f) / float(f.shape[-1]), ["not by H*W*C", "3x too small"]),
        ("by-hw-twice", lambda f: gram_matrix(f) / positions_count(f), ["by H*W twice"]),
        (
            "by-c",
            lambda f: gram_matrix(f) * positions_count(f) / float(f.shape[-1]),
            ["not by C =", "1.33x too large"],
        ),
        ("times-2", lambda f: 2.0 * gram_matrix(f), ["no factor 2"]),
        ("half", lambda f: gram_matrix(f) / 2.0, ["no factor 1/2"]),
        ("upper-triangle", lambda f: tf.linalg.band_part(gram_matrix(f), 0, -1), ["not symmetric"]),
    ],
    checks.check_content_loss: [
        (
            "sum",
            lambda f, p: tf.reduce_sum((f - p) ** 2),
            ["you summed the squared differences: take the mean", "8x too large"],
        ),
        ("half-sum", lambda f, p: 0.5 * tf.reduce_sum((f - p) ** 2), ["paper's 1/2 sum"]),
        ("half-mean", lambda f, p: 0.5 * tf.reduce_mean((f - p) ** 2), ["no factor 1/2 here"]),
        ("abs", lambda f, p: tf.reduce_mean(tf.abs(f - p)), ["absolute difference: square"]),
        ("sqrt", lambda f, p: tf.sqrt(tf.reduce_mean((f - p) ** 2)), ["took the square root"]),
        ("no-square", lambda f, p: tf.reduce_mean(f - p), ["forgot to square"]),
        ("squared-mean", lambda f, p: tf.reduce_mean(f - p) ** 2, ["squared the mean difference"]),
    ],
    checks.check_style_loss: [
        (
            "no-1/L",
            style_with(lambda d: tf.reduce_mean(d**2), lambda g: dict.fromkeys(g, 1.0)),
            ["without dividing by L", "3x too large"],
        ),
        (
            "sum",
            style_with(lambda d: tf.reduce_sum(d**2)),
            ["differences of each Gram matrix: take the mean"],
        ),
        (
            "quarter",
            lambda g, a, w=None: 0.25 * style_loss(g, a, w),
            ["factor 1/4", "4x too small"],
        ),
        (
            "abs",
            style_with(lambda d: tf.reduce_mean(tf.abs(d))),
            ["absolute difference: square the differences"],
        ),
        ("no-square", style_with(tf.reduce_mean), ["forgot to square the differences of the Gram"]),
        (
            "sqrt",
            style_with(lambda d: tf.sqrt(tf.reduce_mean(d**2))),
            ["square root of each layer's mean"],
        ),
        ("ignores-weights", lambda g, a, w=None: style_loss(g, a), ["ignored the layer_weights"]),
        (
            "weights-over-L",
            lambda g, a, w=None: style_loss(g, a, w and {n: w[n] / len(g) for n in g}),
            ["even though layer_weights was given"],
        ),
    ],
    checks.check_total_variation_loss: [
        (
            "squared",
            lambda x: sum(tf.reduce_mean(d**2) for d in diffs(x)),
            ["squared the differences"],
        ),
        (
            "sum",
            lambda x: sum(tf.reduce_sum(tf.abs(d)) for d in diffs(x)),
            ["summed the absolute differences"],
        ),
        ("vertical", lambda x: tf.reduce_mean(tf.abs(diffs(x)[0])), ["only included the vertical"]),
        (
            "horizontal",
            lambda x: tf.reduce_mean(tf.abs(diffs(x)[1])),
            ["only included the horizontal"],
        ),
        (
            "averaged",
            lambda x: tv_loss(x) / 2,
            ["add the two means, do not average", "2x too small"],
        ),
        ("all-together", all_differences, ["averaged all differences together"]),
        (
            "roll",
            lambda x: sum(tf.reduce_mean(tf.abs(x - tf.roll(x, 1, axis))) for axis in (1, 2)),
            ["wrapped-around copy"],
        ),
        (
            "vertical-twice",
            lambda x: 2 * tf.reduce_mean(tf.abs(diffs(x)[0])),
            ["vertical differences twice"],
        ),
        (
            "abs-of-mean",
            lambda x: sum(tf.abs(tf.reduce_mean(d)) for d in diffs(x)),
            ["absolute value of each difference"],
        ),
    ],
    checks.check_train_step: [
        (
            "loss-after",
            train_step_with(returned=lambda before, after: after),
            ["loss after the update"],
        ),
        ("rebinds", rebinds, ["did not change", "image.assign"]),
        ("unclipped", train_step_with(clip=False), ["left [0, 1]", "clip_by_value"]),
        ("ascent", train_step_with(gradient=lambda g: -g), ["loss went up"]),
        (
            "wrong-loss",
            train_step_with(returned=lambda before, after: 2 * before),
            ["returned loss should be loss_fn(image) before the step", "expected", "got"],
        ),
        ("own-sgd", own_sgd, ["not what one step of the given optimizer gives", "passed in"]),
    ],
    checks.check_total_loss: [
        (
            "ignores-losses",
            lambda f, t, x, w, losses=nst: total_loss(f, t, x, w),
            ["ignored the `losses` argument", "on other loss functions passed as `losses`"],
        ),
        ("no-tv", total_with(weights=lambda a, b, g: (a, b, 0.0)), ["forgot the total variation"]),
        ("no-style", total_with(weights=lambda a, b, g: (a, 0.0, g)), ["forgot the style term"]),
        ("no-content", total_with(weights=lambda a, b, g: (0.0, b, g)), ["forgot the content"]),
        (
            "alpha-beta-swapped",
            total_with(weights=lambda a, b, g: (b, a, g)),
            ["attached to the wrong terms"],
        ),
        (
            "beta-gamma-swapped",
            total_with(weights=lambda a, b, g: (a, g, b)),
            ["attached to the wrong terms"],
        ),
        ("unweighted", total_with(weights=lambda a, b, g: (1, 1, 1)), ["without their weights"]),
        (
            "fixed-weights",
            total_with(weights=lambda a, b, g: (1.0, 5e-4, 1e4)),
            ["used fixed weights"],
        ),
        (
            "summed-content",
            total_with(content="sum"),
            ["added the content losses of the content layers", "on two content layers"],
        ),
        ("raw-gram", total_with(gram=unnormalized_gram), ["gram matrices are not normalized"]),
        (
            "gram-of-targets",
            total_with(style=lambda loss, g, a: loss(g, {n: nst.gram_matrix(a[n]) for n in a})),
            ["already holds gram matrices"],
        ),
        (
            "style-over-layers",
            total_with(style=lambda loss, g, a: loss(g, a) / len(g)),
            ["divided the style loss by the number of style layers"],
        ),
    ],
    checks.check_match_mean_std: [
        (
            "no-batch",
            lambda s, c: match_mean_std(s, c)[0],
            ["(reduce over axes 0, 1, 2", "wrong shape"],
        ),
        ("swapped", lambda s, c: match_mean_std(c, s), ["did you swap the two?"]),
        (
            "global",
            recoloured(lambda s, ms, ss, mc, sc: (s - ms) / ss * sc + mc, axis=None),
            ["one mean and one std for all three channels"],
        ),
        (
            "upside-down",
            recoloured(lambda s, ms, ss, mc, sc: (s - ms) / sc * ss + mc),
            ["scale is upside down"],
        ),
        (
            "variance",
            recoloured(lambda s, ms, ss, mc, sc: (s - ms) / ss**2 * sc**2 + mc),
            ["you used the variance"],
        ),
        (
            "no-content-mean",
            recoloured(lambda s, ms, ss, mc, sc: (s - ms) / ss * sc),
            ["add the content's mean after scaling"],
        ),
        (
            "no-style-mean",
            recoloured(lambda s, ms, ss, mc, sc: s / ss * sc + mc),
            ["subtract the style's mean before scaling"],
        ),
        ("only-mean", recoloured(lambda s, ms, ss, mc, sc: s - ms + mc), ["only moved the mean"]),
        (
            "no-content-std",
            recoloured(lambda s, ms, ss, mc, sc: (s - ms) / ss + mc),
            ["multiply by the content's std"],
        ),
        (
            "unclipped",
            recoloured(lambda s, ms, ss, mc, sc: (s - ms) / ss * sc + mc, clip=False),
            ["outside [0, 1]"],
        ),
        (
            "far-outside",
            recoloured(lambda s, ms, ss, mc, sc: 10 * (s - ms) / ss * sc + mc, clip=False),
            ["outside [0, 1]"],
        ),
        (
            "pixels-moved",
            lambda s, c: tf.reverse(match_mean_std(s, c), axis=[2]),
            ["not a shift and scale of the style's pixels"],
        ),
    ],
    checks.check_files_from_upload: [
        (
            "version-8-only",
            lambda value: [(item["name"], bytes(item["content"])) for item in value],
            ["your function raised TypeError"],
        ),
        (
            "memoryview",
            lambda value: (
                [(name, item["content"]) for name, item in value.items()]
                if isinstance(value, dict)
                else [(item["name"], item["content"]) for item in value]
            ),
            ["memoryview", "bytes("],
        ),
        ("dict", lambda value: dict(files_from_upload(value)), ["returned a dict"]),
        ("first-only", lambda value: files_from_upload(value)[:1], ["expected 2 pair(s), got 1"]),
        (
            "names-only",
            lambda value: [name for name, _ in files_from_upload(value)],
            ["(file name, bytes) pair"],
        ),
        (
            "upper-names",
            lambda value: [(n.upper(), d) for n, d in files_from_upload(value)],
            ["expected the file name 'photo.jpg'"],
        ),
        (
            "text",
            lambda value: [(n, d.decode("latin-1")) for n, d in files_from_upload(value)],
            ["should be the file's bytes"],
        ),
    ],
    checks.check_image_addresses: [
        ("base-ignored", addresses_with(base="ignored"), ["the page has a <base href>"]),
        ("base-raw", addresses_with(base="raw"), ["resolve a relative <base href>", "urljoin("]),
        ("srcset-ignored", addresses_with(srcset=None), ["when an <img> has a srcset"]),
        (
            "srcset-first",
            addresses_with(srcset=lambda c, key: c[0]),
            ["not the first one", "largest candidate"],
        ),
        ("srcset-last", addresses_with(srcset=lambda c, key: c[-1]), ["not the last one"]),
        ("srcset-all", addresses_with(srcset=lambda c, key: c), ["not every candidate"]),
        ("links-ignored", addresses_with(links=None), ["also keep the <a href> links"]),
        ("links-all", addresses_with(links="all"), ["keep an <a href> only when", "a page"]),
        (
            "suffix-case",
            addresses_with(suffix=lambda url: urlsplit(url).path),
            ["compare the suffix in lower case", "PHOTO.JPG"],
        ),
        (
            "suffix-of-address",
            addresses_with(suffix=lambda url: url.lower()),
            ["test the suffix of the address's path", "?size=large"],
        ),
        ("any-scheme", addresses_with(schemes=None), ["drop the addresses that are not http"]),
        ("http-only", addresses_with(schemes=("http",)), ["expected", "missing ["]),
        ("duplicates", addresses_with(once=False), ["list each address once"]),
        ("fragments", addresses_with(defrag=False), ["remove the #fragment"]),
        (
            "fragments-and-duplicates",
            addresses_with(defrag=False, once=False),
            ["remove the #fragment"],
        ),
        (
            "images-then-links",
            addresses_with(order=lambda found: sorted(found, key=lambda u: "b.jpg" in u)),
            ["the right addresses in another order"],
        ),
        ("sorted", addresses_with(order=sorted), ["the right addresses in another order"]),
        (
            "not-resolved",
            addresses_with(resolve=False, schemes=("http", "https", "")),
            ["some addresses are not absolute ('../b.jpg')", "urljoin(base, address)"],
        ),
        ("set", lambda html, url: set(image_addresses(html, url)), ["returned a set"]),
        (
            "generator",
            lambda html, url: (u for u in image_addresses(html, url)),
            ["returned a generator", "return a list"],
        ),
        (
            "bytes",
            lambda html, url: [u.encode() for u in image_addresses(html, url)],
            ["holds a bytes", "each address is a str"],
        ),
    ],
    checks.check_warp_image: [
        ("minus-flow", warp_with(sign=-1), ["you read the image at p - flow(p)", "(add the flow)"]),
        ("swapped-dx-dy", warp_with(swap=True), ["dx and dy are swapped"]),
        ("nearest", warp_with(rounding=np.round), ["rounded to the nearest pixel"]),
        ("floor", warp_with(rounding=np.floor), ["without interpolating"]),
        ("weights", warp_with(weights="swapped"), ["weights are the wrong way round"]),
        ("zero-outside", warp_with(outside="zero"), ["outside the image came out as 0"]),
        ("no-motion", lambda image, flow: image, ["the result is the image itself"]),
    ],
}
MISTAKE_ROWS = [
    pytest.param(check, fn, phrases, id=f"{check.__name__[6:]}-{name}")
    for check, rows in MISTAKES.items()
    for name, fn, phrases in rows
]


@pytest.mark.parametrize("check, fn, phrases", MISTAKE_ROWS)
def test_each_named_mistake_fires_its_message(check, fn, phrases):
    rejects(check, fn, *[phrase.replace("{c}", "3") for phrase in phrases])


@pytest.mark.parametrize(
    "check",
    [
        c
        for c in MISTAKES
        if c not in (checks.check_files_from_upload, checks.check_image_addresses)
    ],
    ids=lambda c: c.__name__,
)
def test_every_named_mistake_has_a_test(check, monkeypatch):
    """Every row of the check's tables is matched by the first phrase of a row in MISTAKES.
    (check_files_from_upload has no table: its messages are all tested above;
    check_image_addresses has its own tables, tested below.)"""
    exercises = []
    monkeypatch.setattr(checks, "_run", lambda exercise, fn: exercises.append(exercise))
    check(stub)
    tested = [phrases[0].lower() for _, _, phrases in MISTAKES[check]]
    for _, message in [*exercises[0].mistakes, *exercises[0].symptoms]:
        assert any(phrase in message.lower() for phrase in tested), f"no test for {message!r}"


def test_every_image_address_mistake_and_symptom_has_a_test():
    """check_image_addresses does not go through _run: its own tables are covered alike."""
    tested = [phrases[0].lower() for _, _, phrases in MISTAKES[checks.check_image_addresses]]
    for _, message in [*checks._ADDRESS_MISTAKES, *checks._ADDRESS_SYMPTOMS]:
        assert any(phrase.split(" (")[0] in message.lower() for phrase in tested), message


def test_image_address_cases_are_what_the_exercise_says():
    """The reference answers (nst_helpers.collect.image_addresses) of the check's pages, by
    hand, and the table's right answer is the reference on every page."""
    cases = {label: (html, page) for label, html, page in checks._address_cases()}
    answers = {label: collect.image_addresses(*args) for label, args in cases.items()}
    site = "http://example.org/art/"
    first, srcset, base, relative_base, schemes, same, links, empty = answers.values()
    assert first == [site + "b.jpg", site + "room/a.png", "http://example.org/icons/c.gif"]
    assert srcset == [site + "room/xl.jpg", site + "room/two.png"]
    assert base == [
        "https://images.example.net/gallery/c.png",
        "https://images.example.net/d.jpeg",
        "https://cdn.example.org/e.webp",
    ]
    assert relative_base == [site + "media/f.png", site + "media/sketches/g.tif"]
    assert schemes == [site + "room/j.png"]
    assert same == [site + "room/k.png", site + "room/m.png"]
    assert links == [site + "room/PHOTO.JPG", site + "room/print.jpg?size=large"]
    assert empty == []
    assert all(checks._page_images(*args) == answers[label] for label, args in cases.items())
    for keywords, _ in checks._ADDRESS_MISTAKES:  # each mistake shows on some page
        assert any(
            checks._page_images(*args, **keywords) != answers[label]
            for label, args in cases.items()
        ), keywords


# ----------------------------------------------------------------------------- other answers


@pytest.mark.parametrize(
    "check, fn, phrases",
    [
        (checks.check_preprocess, lambda x: x[..., ::-1] * 254.0 - MEAN_BGR, ["expected", "got"]),
        (
            checks.check_receptive_field,
            lambda kinds: 2 * receptive_field(kinds),
            ["for [] expected a receptive field of 1 px, got 2", "(2x too large)"],
        ),
        (checks.check_gram_matrix, lambda f: gram_matrix(f) + 0.1, ["expected", "got"]),
        (
            checks.check_gram_matrix,
            lambda f: 7.0 * gram_matrix(f),
            ["expected", "got", "7x too large"],
        ),
        (
            checks.check_content_loss,
            lambda f, p: 3.0 * tf.reduce_mean((f - p) ** 2),
            ["expected 1, got 3 (3x too large)"],
        ),
        (checks.check_style_loss, lambda g, a, w=None: 5.0 * style_loss(g, a, w), ["5x too large"]),
        (
            checks.check_total_variation_loss,
            lambda x: 3.0 * tv_loss(x),
            ["expected", "3x too large"],
        ),
        (
            checks.check_total_variation_loss,
            lambda x: tv_loss(x) + 1.0,
            ["must be 0", "expected 0"],
        ),
        (
            checks.check_train_step,
            train_step_with(returned=lambda before, after: before + 1.0),
            ["expected", "got"],
        ),
        (checks.check_match_mean_std, lambda s, c: 0.9 * match_mean_std(s, c), ["expected", "got"]),
        (
            checks.check_total_loss,
            lambda *args: 1.5 * total_loss(*args),
            ["expected", "got", "1.5x too large"],
        ),
        (
            checks.check_instance_norm,
            lambda *args: instance_norm(*args) + 0.1,
            ["on a hand-made 1x2 image", "expected", "got"],
        ),
        (
            checks.check_transposed_overlap,
            lambda *args: transposed_overlap(*args) + 1,
            ["on a 2x3 input", "expected 1", "got 2"],
        ),
        (
            checks.check_adain,
            lambda *args: adain(*args) * 1.5,
            ["on a hand-made case", "expected", "got"],
        ),
        (
            checks.check_image_addresses,
            lambda html, url: [*image_addresses(html, url), "http://example.org/extra.png"],
            ["on a page whose links", "not expected ['http://example.org/extra.png']"],
        ),
    ],
    ids=lambda x: getattr(x, "__name__", None),
)
def test_an_unrecognised_wrong_answer_gets_expected_and_got(check, fn, phrases):
    rejects(check, fn, *phrases)


@pytest.mark.parametrize(
    "check, fn, phrases",
    [
        (checks.check_gram_matrix, lambda f: f, ["wrong shape", "the Gram matrix is (1, C, C)"]),
        (
            checks.check_content_loss,
            lambda f, p: tf.reduce_mean((f - p) ** 2, axis=-1),
            ["wrong shape", "a single number (a scalar", "average over all elements"],
        ),
        (
            checks.check_style_loss,
            lambda g, a, w=None: tf.stack([tf.reduce_mean(g[n]) for n in g]),
            ["wrong shape", "sum the weighted per-layer losses"],
        ),
        (
            checks.check_total_variation_loss,
            tf.image.total_variation,
            ["wrong shape", "add the two"],
        ),
        (
            checks.check_train_step,
            train_step_with(returned=lambda before, after: [before]),
            ["wrong shape", "return the loss, a single number"],
        ),
        (
            checks.check_match_mean_std,
            lambda s, c: match_mean_std(s, c)[:, :5],
            ["wrong shape", "the style image's shape"],
        ),
        (
            checks.check_total_loss,
            lambda f, t, x, w, losses=nst: tf.stack([total_loss(f, t, x, w, losses)] * 3),
            ["wrong shape", "return one number"],
        ),
        (
            checks.check_instance_norm,
            lambda *args: instance_norm(*args)[0],
            ["wrong shape", "expected (1, 1, 2, 2)", "the input's shape (B, H, W, C)"],
        ),
        (
            checks.check_transposed_overlap,
            lambda *args: transposed_overlap(*args)[:-1],
            ["wrong shape", "expected (5, 7), got shape (4, 7)", "(height - 1) * stride + kernel"],
        ),
        (
            checks.check_adain,
            lambda *args: adain(*args)[0],
            ["wrong shape", "expected (1, 1, 2, 1)", "the content features' shape"],
        ),
    ],
    ids=lambda x: getattr(x, "__name__", None),
)
def test_an_unrecognised_wrong_shape_says_which_shape(check, fn, phrases):
    rejects(check, fn, *phrases)


def test_receptive_field_wants_a_whole_number():
    rejects(checks.check_receptive_field, lambda kinds: "3", "whole number")
    rejects(
        checks.check_receptive_field,
        lambda kinds: receptive_field(kinds) + 0.5,
        "whole number of pixels",
        "for []",
    )


def test_style_loss_needs_a_default_for_layer_weights():
    def no_default(grams, targets, layer_weights):
        return style_loss(grams, targets, layer_weights)

    rejects(
        checks.check_style_loss,
        no_default,
        "TypeError",
        "give `layer_weights` the default value None",
    )


def test_warp_image_cases_are_what_the_exercise_says():
    """The check's hand-made cases by hand, and its reference is the package's warp."""
    cases = checks._warp_cases()
    row, column, square = (checks._warp(image, flow)[..., 0] for _, image, flow in cases[:3])
    np.testing.assert_allclose(row, [[17.5, 27.5, 30.0, 30.0]])
    np.testing.assert_allclose(column, [[0.0], [7.5], [17.5]])
    np.testing.assert_allclose(square, [[15.0, 20.0], [20.0, 30.0]])
    for _, image, flow in cases:
        np.testing.assert_allclose(checks._warp(image, flow), optical_flow.warp_array(image, flow))


def test_warp_image_explains_an_index_past_the_edge():
    def unclamped(image, flow):  # x0 + 1 not clamped: past the right edge
        height, width = image.shape[:2]
        rows, columns = np.indices((height, width))
        x, y = columns + flow[..., 0], rows + flow[..., 1]
        x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
        wx = (x - x0)[..., None]
        return image[y0, x0] * (1 - wx) + image[y0, x0 + 1] * wx

    rejects(checks.check_warp_image, unclamped, "IndexError", "x1 = min(x0 + 1, W - 1)")
    rejects(checks.check_warp_image, lambda i, f: 2 * warp_image(i, f), "2x too large")
    rejects(
        checks.check_warp_image,
        lambda i, f: warp_image(i, f)[..., 0],
        "wrong shape",
        "the image's shape (H, W, C)",
    )
