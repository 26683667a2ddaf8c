"""Checks for the notebooks' exercises: run the student's function, say what is wrong.

Each ``check_*`` function takes the function the student wrote, runs it on a few small
hand-made and random cases, and compares the result with this package's own
implementation. On success it prints one line ``✓ <name> passed: <what was checked>``
and returns True. Otherwise it raises :class:`ExerciseError` with a message in plain
words: the empty exercise (``raise NotImplementedError``), an exception from the
student's code, a wrong shape, or a recognised mistake (a missing normalization and
the factor it is off by, a sum instead of a mean, a forgotten BGR flip, ...).

Usage in a notebook::

    from nst_helpers import checks
    checks.check_gram_matrix(gram_matrix)
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np
import tensorflow as tf

from .losses import content_loss as _content_loss
from .losses import gram_matrix as _gram_matrix
from .losses import style_loss as _style_loss
from .losses import total_variation_loss as _tv_loss
from .vgg import VGG_MEAN_BGR, layer_table
from .vgg import preprocess as _preprocess

__all__ = [
    "ExerciseError", "check_content_loss", "check_files_from_upload", "check_gram_matrix", "check_preprocess",
    "check_receptive_field", "check_style_loss", "check_total_variation_loss", "check_train_step",
]

RTOL = 1e-4
ATOL = 1e-5


class ExerciseError(AssertionError):
    """The student's function does not do what the exercise asks; the message says why."""


# --------------------------------------------------------------------------- helpers

def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the student's function; turn its exceptions into one plain sentence."""
    if not callable(fn):
        raise ExerciseError(f"pass your function itself to the check (got a {type(fn).__name__})")
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise ExerciseError(
            "your function raised NotImplementedError: replace the `# YOUR CODE HERE` line "
            "(and the `raise NotImplementedError(...)` below it) with your solution, "
            "run that cell, then run this check again.") from None
    except ExerciseError:
        raise
    except Exception as error:  # noqa: BLE001 - any bug in the student's code
        raise ExerciseError(f"your function raised {type(error).__name__}: {error}") from error


def _array(value: Any, what: str = "your function") -> np.ndarray:
    """The result as a float64 array, or an ExerciseError if it is not numbers."""
    if value is None:
        raise ExerciseError(f"{what} returned None: did you forget the `return` statement?")
    if isinstance(value, (tf.Tensor, tf.Variable)):
        value = value.numpy()
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ExerciseError(
            f"{what} returned a {type(value).__name__}, not a tensor or array of numbers") from None
    if not np.all(np.isfinite(array)):
        raise ExerciseError(f"{what} returned NaN or infinite values")
    return array


def _close(got: np.ndarray, expected: np.ndarray, rtol: float = RTOL, atol: float = ATOL) -> bool:
    if got.shape != expected.shape:
        return False
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    return bool(np.allclose(got, expected, rtol=rtol, atol=atol * scale))


def _scalar(value: Any, hint: str) -> float:
    """A scalar result as a float; a wrong shape gets a message with ``hint``."""
    array = _array(value)
    if array.shape != ():
        raise ExerciseError(
            f"wrong shape: expected a single number (a scalar, shape ()), got shape {array.shape}: {hint}")
    return float(array)


def _factor(got: np.ndarray, expected: np.ndarray) -> float | None:
    """k if ``got`` is k * ``expected`` (k clearly not 1), else None."""
    if got.shape != expected.shape:
        return None
    denominator = float(np.sum(expected * expected))
    if denominator == 0.0:
        return None
    k = float(np.sum(got * expected)) / denominator
    if abs(k) < 1e-12 or np.isclose(k, 1.0, rtol=1e-3):
        return None
    return k if _close(got, k * expected, rtol=1e-3) else None


def _times(k: float) -> str:
    """'4x too large' / '4x too small' (rounded sensibly)."""
    if k > 1:
        return f"{_number(k)}x too large"
    return f"{_number(1 / k)}x too small"


def _number(x: float) -> str:
    return f"{x:.0f}" if abs(x - round(x)) < 1e-3 * max(1.0, abs(x)) else f"{x:.3g}"


def _diagnose(got: np.ndarray, candidates: Sequence[tuple[np.ndarray, str]]) -> str | None:
    """The message of the first known mistake whose result equals ``got``."""
    for wrong, message in candidates:
        if _close(got, np.asarray(wrong, dtype=np.float64), rtol=1e-3):
            return message
    return None


def _passed(name: str, what: str) -> bool:
    print(f"✓ {name} passed: {what}")
    return True


def _random(shape: Sequence[int], seed: int, low: float = 0.0, high: float = 1.0) -> tf.Tensor:
    rng = np.random.default_rng(seed)
    return tf.constant(rng.uniform(low, high, size=tuple(shape)), tf.float32)


# --------------------------------------------------------------------------- preprocess

def check_preprocess(fn: Callable[[tf.Tensor], Any]) -> bool:
    """Check ``fn(image)``: RGB in [0, 1], (1, H, W, 3) -> BGR, 0..255, minus the BGR mean."""
    mean_bgr = np.array(VGG_MEAN_BGR)
    cases = [
        ("a pure red image", tf.constant(np.tile([1.0, 0.0, 0.0], (1, 2, 2, 1)), tf.float32)),
        ("a black image", tf.zeros((1, 2, 3, 3))),
        ("a random 4x5 image", _random((1, 4, 5, 3), seed=1)),
    ]
    for label, image in cases:
        got = _array(_call(fn, image))
        x = image.numpy().astype(np.float64)
        expected = _preprocess(image).numpy().astype(np.float64)
        if got.shape != expected.shape:
            extra = (" (keep the batch axis: (1, H, W, 3) in, (1, H, W, 3) out)"
                     if got.size == expected.size else "")
            raise ExerciseError(f"wrong shape: expected {expected.shape}, got {got.shape}{extra}")
        if _close(got, expected, rtol=1e-4, atol=1e-3):
            continue
        bgr = x[..., ::-1]
        mistake = _diagnose(got, [
            (x * 255 - mean_bgr, "the channels are still in RGB order: flip them to BGR "
                                 "(e.g. image[..., ::-1]) before subtracting the mean"),
            (x * 255 - mean_bgr[::-1], "the channels are still in RGB order: VGG19 wants BGR "
                                       "(flip the last axis, e.g. image[..., ::-1])"),
            (bgr * 255 - mean_bgr[::-1], "the mean is subtracted in the wrong order: after the flip "
                                         "the channels are B, G, R, so subtract (103.939, 116.779, 123.68)"),
            (bgr - mean_bgr, "you forgot *255: VGG19's input is on the 0..255 scale, "
                             "multiply the [0, 1] image by 255 before subtracting the mean"),
            ((bgr - mean_bgr) * 255, "you multiplied by 255 after subtracting the mean: scale the image "
                                     "to 0..255 first, then subtract the mean (which is on that scale)"),
            (bgr - mean_bgr / 255, "you forgot *255: the result should be on VGG19's 0..255 scale"),
            (bgr * 255, "you forgot to subtract the mean colour (103.939, 116.779, 123.68) in BGR order"),
            (x * 255, "you only multiplied by 255: also flip RGB to BGR and subtract the mean colour"),
            (bgr * 255 + mean_bgr, "you added the mean colour: subtract it"),
            (bgr / 255 - mean_bgr, "you divided by 255: the image is in [0, 1] and must be multiplied by 255"),
        ])
        if mistake is None:
            pixel = tuple(np.round(x[0, 0, 0], 3))
            mistake = (f"wrong values: the RGB pixel {pixel} should become BGR "
                       f"{tuple(np.round(expected[0, 0, 0], 2))} but became {tuple(np.round(got[0, 0, 0], 2))}")
        raise ExerciseError(f"on {label}: {mistake}")
    return _passed("preprocess", "RGB -> BGR, x255, minus the BGR mean colour, on 3 images")


# --------------------------------------------------------------------------- receptive field

def _receptive_field(kinds: Sequence[str]) -> int:
    """Reference: side of the input square seen by one output position."""
    field, stride = 1, 1
    for kind in kinds:
        if kind == "conv":
            field += 2 * stride
        else:
            field += stride
            stride *= 2
    return field


def _field_variants(kinds: Sequence[str]) -> dict[str, int]:
    """What the common wrong versions give for ``kinds``."""
    def run(conv: Callable[[int, int], int], pool: Callable[[int, int], tuple[int, int]],
            start: int = 1) -> int:
        field, stride = start, 1
        for kind in kinds:
            if kind == "conv":
                field = conv(field, stride)
            else:
                field, stride = pool(field, stride)
        return field

    return {
        "no stride": run(lambda f, s: f + 2, lambda f, s: (f + 1, s)),
        "pool doubles": run(lambda f, s: f + 2 * s, lambda f, s: (2 * f, 2 * s)),
        "pool ignored": run(lambda f, s: f + 2 * s, lambda f, s: (f, 2 * s)),
        "conv adds 3": run(lambda f, s: f + 3 * s, lambda f, s: (f + s, 2 * s)),
        "start 0": run(lambda f, s: f + 2 * s, lambda f, s: (f + s, 2 * s), start=0),
        "pool adds 2s": run(lambda f, s: f + 2 * s, lambda f, s: (f + 2 * s, 2 * s)),
        "all convs": run(lambda f, s: f + 2, lambda f, s: (f + 2, s)),
    }


_FIELD_MESSAGES = {
    "no stride": "you added the same amount at every layer: after each 2x2 pool (stride 2) one step "
                 "in the feature map covers twice as many input pixels, so keep a `stride` that doubles "
                 "at every pool and add 2 * stride per 3x3 conv",
    "pool doubles": "a 2x2 pool with stride 2 does not double the field: it adds one more position at the "
                    "current stride (field += stride), then the stride doubles",
    "pool ignored": "the pooling layers also widen the field: a 2x2 pool adds `stride` pixels "
                    "(field += stride) before the stride doubles",
    "conv adds 3": "a 3x3 conv adds kernel size - 1 = 2 positions (field += 2 * stride), not 3",
    "start 0": "off by one: with no layers one position sees exactly one pixel, so start from 1 ([] -> 1)",
    "pool adds 2s": "a 2x2 pool adds kernel size - 1 = 1 position (field += stride), not 2",
    "all convs": "you treated every layer like a 3x3 conv with stride 1: a pool is 2x2 (it adds `stride` "
                 "pixels) and doubles the stride of every layer after it",
}


def check_receptive_field(fn: Callable[[list[str]], Any]) -> bool:
    """Check ``fn(kinds) -> int``: the receptive field (px) of a stack of 3x3 convs and 2x2 pools."""
    table = layer_table()
    cases: list[tuple[list[str], int, str]] = [
        ([], 1, "no layers"), (["conv"], 3, "one conv"), (["conv", "conv"], 5, "two convs"),
        (["conv", "conv", "pool"], 6, "block 1 of VGG19"),
        (["pool", "conv"], 6, "a pool then a conv"),
    ]
    kinds = list(table["kind"])
    for i, row in enumerate(table.itertuples()):
        cases.append((kinds[: i + 1], int(row.receptive_field), f"VGG19 up to {row.layer}"))
    for layers, expected, label in cases:
        value = _call(fn, list(layers))
        if value is None:
            raise ExerciseError("your function returned None: did you forget the `return` statement?")
        if isinstance(value, (str, bytes, bool)):
            raise ExerciseError(f"your function should return one whole number (pixels), got {value!r}")
        try:
            number = float(_array(value))
        except (TypeError, ValueError, ExerciseError):
            raise ExerciseError(
                f"your function should return one whole number (pixels), got {value!r}") from None
        if number != int(number):
            raise ExerciseError(f"the receptive field is a whole number of pixels, got {number} for {layers}")
        got = int(number)
        if got == expected:
            continue
        mistake = next((message for name, message in _FIELD_MESSAGES.items()
                        if all(_field_variants(layers_)[name] == _call(fn, list(layers_))
                               for layers_, _, _ in cases[:12])), None)
        shown = layers if len(layers) <= 6 else f"the first {len(layers)} layers of VGG19 ({label})"
        text = f"for {shown} the receptive field is {expected} px, your function gave {got}"
        raise ExerciseError(text + (f": {mistake}" if mistake else ""))
    return _passed("receptive_field", f"{len(cases)} stacks, including every layer of VGG19")


# --------------------------------------------------------------------------- Gram matrix

def check_gram_matrix(fn: Callable[[tf.Tensor], Any]) -> bool:
    """Check ``fn(features)``: (1, H, W, C) -> (1, C, C) Gram matrix divided by H*W."""
    tiny = tf.constant([[[[1.0, 0.0, 2.0], [0.0, 1.0, 1.0]],
                         [[3.0, 1.0, 0.0], [1.0, 2.0, 1.0]]]])  # (1, 2, 2, 3)
    cases = [
        ("a hand-made 2x2x3 feature map", tiny),
        ("a random 3x4x5 feature map", _random((1, 3, 4, 5), seed=2)),
        ("a random 5x2x2 feature map", _random((1, 5, 2, 2), seed=3, low=-1.0)),
        ("a random 6x7x4 feature map", _random((1, 6, 7, 4), seed=4)),
    ]
    for label, features in cases:
        _, h, w, c = features.shape
        got = _array(_call(fn, features))
        expected = _gram_matrix(features).numpy().astype(np.float64)
        if got.shape != expected.shape:
            if got.shape == (c, c):
                hint = (f"keep the batch axis: return shape (1, {c}, {c}) like the package's "
                        "gram_matrix (e.g. with tf.einsum('bijc,bijd->bcd', F, F) or tf.matmul on (1, H*W, C))")
            elif got.shape in ((1, h * w, h * w), (h * w, h * w)):
                hint = ("that is positions x positions: you computed F F^T, but the Gram matrix "
                        "is channels x channels, F^T F (C x C)")
            else:
                hint = f"for features of shape (1, H, W, C) = {tuple(features.shape)} the Gram matrix is (1, C, C)"
            raise ExerciseError(f"on {label}: wrong shape: expected {expected.shape}, got {got.shape}: {hint}")
        if not _close(got[0], got[0].T, rtol=1e-4):
            raise ExerciseError(f"on {label}: your Gram matrix is not symmetric: G[c, d] must equal "
                                "G[d, c] (both are the average of F[:, c] * F[:, d] over positions)")
        if _close(got, expected):
            continue
        x = features.numpy().astype(np.float64)[0]
        flat = x.reshape(h * w, c)
        scrambled = x.reshape(c, h * w)
        centred = flat - flat.mean(axis=0)
        mistake = _diagnose(got[0], [
            (scrambled @ scrambled.T / (h * w),
             "you reshaped (H, W, C) straight to (C, H*W), which mixes up channels and positions: "
             "reshape to (H*W, C) (then transpose that if you need C x (H*W))"),
            (centred.T @ centred / (h * w),
             "you subtracted the mean of each channel: the Gram matrix uses the raw features, not a covariance"),
            (np.abs(flat).T @ np.abs(flat) / (h * w), "do not take absolute values: G = F^T F / (H W)"),
        ])
        if mistake is None:
            k = _factor(got, expected)
            if k is not None:
                named = {h * w: f"did you forget to divide by the number of positions H*W = {h * w}?",
                         1 / c: f"divide by H*W only (the number of positions), not by H*W*C; C = {c}",
                         1 / (h * w): "you divided by H*W twice",
                         h * w / c: f"divide by the number of positions H*W = {h * w}, not by C = {c}",
                         2.0: "the Gram matrix has no factor 2", 0.5: "the Gram matrix has no factor 1/2",
                         }
                reason = next((text for factor, text in named.items() if np.isclose(k, factor, rtol=1e-3)),
                              "check the normalization: G = F^T F / (H W)")
                mistake = f"the result is {_times(k)}: {reason}"
        if mistake is None:
            mistake = (f"wrong values: G[0, 0] should be {expected[0, 0, 0]:.4g} "
                       f"(the mean of F[..., 0]**2 over positions) but is {got[0, 0, 0]:.4g}")
        raise ExerciseError(f"on {label}: {mistake}")
    return _passed("gram_matrix", "shape (1, C, C), symmetric, normalized by H*W, on 4 feature maps")


# --------------------------------------------------------------------------- content loss

def check_content_loss(fn: Callable[[tf.Tensor, tf.Tensor], Any]) -> bool:
    """Check ``fn(F, P)``: the mean squared difference of two feature maps (a scalar)."""
    cases = [
        ("a hand-made pair (zeros vs. ones)", tf.zeros((1, 2, 2, 2)), tf.ones((1, 2, 2, 2))),
        ("two random 4x4x8 feature maps", _random((1, 4, 4, 8), seed=5, high=3.0),
         _random((1, 4, 4, 8), seed=6, high=3.0)),
        ("two random 3x5x2 feature maps", _random((1, 3, 5, 2), seed=7, high=0.5),
         _random((1, 3, 5, 2), seed=8, high=2.0)),
    ]
    for label, f, p in cases:
        got = _scalar(_call(fn, f, p), "average over all elements (e.g. tf.reduce_mean)")
        expected = float(_content_loss(f, p))
        if np.isclose(got, expected, rtol=1e-4, atol=1e-6):
            continue
        d = f.numpy().astype(np.float64) - p.numpy().astype(np.float64)
        n = d.size
        mistake = _diagnose(np.array(got), [
            (np.sum(d ** 2), f"you summed the squared differences: take the mean (here {n} elements, "
                             f"so your value is {n}x too large)"),
            (0.5 * np.sum(d ** 2), "you used the paper's 1/2 sum (F - P)^2: in this course the content loss "
                                   "is the mean of (F - P)^2"),
            (0.5 * np.mean(d ** 2), "there is no factor 1/2 here: the content loss is the mean of (F - P)^2"),
            (np.mean(np.abs(d)), "you used the absolute difference: square the differences instead"),
            (np.sqrt(np.mean(d ** 2)), "you took the square root (that is the RMS): the loss is the mean "
                                       "squared difference, without the root"),
            (np.mean(d), "you forgot to square the differences"),
            (np.mean(d) ** 2, "you squared the mean difference: square each difference, then average"),
        ])
        if mistake is None:
            k = got / expected if expected else None
            mistake = (f"expected {expected:.6g}, got {got:.6g}" +
                       (f" ({_times(k)})" if k and not np.isclose(k, 1.0) else ""))
        raise ExerciseError(f"on {label}: {mistake}")
    f = _random((1, 3, 3, 4), seed=9)
    same = _scalar(_call(fn, f, tf.identity(f)), "average over all elements")
    if abs(same) > 1e-6:
        raise ExerciseError(f"the loss of a feature map against itself must be 0, got {same:.3g}")
    return _passed("content_loss", "scalar mean squared difference, 0 for identical inputs, on 4 pairs")


# --------------------------------------------------------------------------- style loss

def _style_cases() -> list[tuple[str, dict[str, tf.Tensor], dict[str, tf.Tensor], dict[str, float] | None]]:
    def grams(seed: int, sizes: Mapping[str, tuple[int, int, int]]) -> dict[str, tf.Tensor]:
        return {name: _gram_matrix(_random((1, *shape), seed=seed + i, high=2.0))
                for i, (name, shape) in enumerate(sizes.items())}

    sizes = {"layer_a": (3, 3, 2), "layer_b": (2, 4, 4), "layer_c": (2, 2, 6)}
    g, a = grams(10, sizes), grams(20, sizes)
    one = {"layer_a": (3, 3, 3)}
    return [
        ("three layers, default weights", g, a, None),
        ("one layer, default weights", grams(30, one), grams(40, one), None),
        ("three layers, weights {a: 1, b: 0.25, c: 2}", g, a,
         {"layer_a": 1.0, "layer_b": 0.25, "layer_c": 2.0}),
    ]


def check_style_loss(fn: Callable[..., Any]) -> bool:
    """Check ``fn(grams, targets, layer_weights=None)``: sum over layers of w_l * mean((G - A)^2)."""
    for label, grams, targets, weights in _style_cases():
        names = list(grams)
        w = weights if weights is not None else {n: 1.0 / len(names) for n in names}
        args = (grams, targets) if weights is None else (grams, targets, dict(weights))
        try:
            result = _call(fn, *args)
        except ExerciseError as error:
            if weights is None and "argument" in str(error):
                raise ExerciseError(f"{error} (give `layer_weights` the default value None)") from None
            raise
        got = _scalar(result, "sum the weighted per-layer losses into one number")
        expected = float(_style_loss(grams, targets, weights))
        if np.isclose(got, expected, rtol=1e-4, atol=1e-7):
            continue
        diffs = {n: grams[n].numpy().astype(np.float64) - targets[n].numpy().astype(np.float64) for n in names}

        def total(per_layer: Callable[[np.ndarray], float], ws: Mapping[str, float] = w) -> float:
            return sum(ws[n] * per_layer(diffs[n]) for n in names)

        equal = {n: 1.0 / len(names) for n in names}
        ones = {n: 1.0 for n in names}
        candidates = [
            (total(lambda d: np.mean(d ** 2), ones) if weights is None else np.nan,
             f"the result is {len(names)}x too large: with layer_weights=None each of the L = {len(names)} "
             "layers gets weight 1/L; you added the layers without dividing by L"),
            (total(lambda d: np.sum(d ** 2)),
             "you summed the squared differences of each Gram matrix: take the mean over its "
             "N x N entries (tf.reduce_mean)"),
            (total(lambda d: 0.25 * np.mean(d ** 2)),
             "the result is 4x too small: the paper's factor 1/4 is not used here, E_l = mean((G - A)^2)"),
            (total(lambda d: np.mean(np.abs(d))), "you used the absolute difference: square the differences"),
            (total(lambda d: np.mean(d)), "you forgot to square the differences of the Gram matrices"),
            (total(lambda d: np.sqrt(np.mean(d ** 2))), "you took the square root of each layer's mean: "
                                                        "E_l is the mean squared difference, without the root"),
            (total(lambda d: np.mean(d ** 2), equal) if weights is not None else np.nan,
             "you ignored the layer_weights argument: when it is given, weight layer l by layer_weights[l]"),
            (total(lambda d: np.mean(d ** 2), {n: w[n] / len(names) for n in names})
             if weights is not None else np.nan,
             f"you divided by L = {len(names)} even though layer_weights was given: use 1/L only when "
             "layer_weights is None"),
        ]
        mistake = _diagnose(np.array(got), [(np.array(v), m) for v, m in candidates if np.isfinite(v)])
        if mistake is None:
            k = got / expected if expected else None
            mistake = (f"expected {expected:.6g}, got {got:.6g}" +
                       (f" ({_times(k)})" if k and not np.isclose(k, 1.0) else ""))
        raise ExerciseError(f"on {label}: {mistake}")
    _, grams, _, _ = _style_cases()[0]
    same = _scalar(_call(fn, grams, dict(grams)), "one number")
    if abs(same) > 1e-7:
        raise ExerciseError(f"the style loss of Gram matrices against themselves must be 0, got {same:.3g}")
    return _passed("style_loss", "per-layer mean squared difference, default weights 1/L, given weights, "
                                 "0 for identical Grams")


# --------------------------------------------------------------------------- total variation

def check_total_variation_loss(fn: Callable[[tf.Tensor], Any]) -> bool:
    """Check ``fn(image)``: mean |vertical difference| + mean |horizontal difference| (a scalar)."""
    constant = tf.fill((1, 3, 4, 3), 0.7)
    checker = tf.constant([[[[0.0], [1.0]], [[1.0], [0.0]]]])  # (1, 2, 2, 1)
    got = _scalar(_call(fn, constant), "average the differences (tf.reduce_mean) and add the two directions")
    if abs(got) > 1e-6:
        raise ExerciseError(f"a constant image has no variation, so the loss must be 0, got {got:.4g}")
    cases = [
        ("a random 5x4x3 image", _random((1, 5, 4, 3), seed=11)),
        ("a random 3x7x1 image", _random((1, 3, 7, 1), seed=12)),
        ("a random 6x2x3 image", _random((1, 6, 2, 3), seed=13)),
        ("a 2x2 checkerboard (expected 2.0)", checker),
    ]
    for label, image in cases:
        got = _scalar(_call(fn, image), "average the differences (tf.reduce_mean) and add the two directions")
        expected = float(_tv_loss(image))
        if np.isclose(got, expected, rtol=1e-4, atol=1e-6):
            continue
        x = image.numpy().astype(np.float64)
        down = x[:, 1:] - x[:, :-1]
        right = x[:, :, 1:] - x[:, :, :-1]
        both = np.concatenate([np.abs(down).ravel(), np.abs(right).ravel()])
        mistake = _diagnose(np.array(got), [
            (np.mean(down ** 2) + np.mean(right ** 2),
             "you squared the differences: this total variation loss uses their absolute value"),
            (np.sum(np.abs(down)) + np.sum(np.abs(right)),
             "you summed the absolute differences (like tf.image.total_variation): take the mean "
             "of each direction instead"),
            (np.mean(np.abs(down)), "you only included the vertical differences (rows i+1 minus i): "
                                    "add the mean of the horizontal ones too"),
            (np.mean(np.abs(right)), "you only included the horizontal differences (columns j+1 minus j): "
                                     "add the mean of the vertical ones too"),
            (0.5 * (np.mean(np.abs(down)) + np.mean(np.abs(right))),
             "the result is 2x too small: add the two means, do not average them"),
            (np.mean(both), "you averaged all differences together: take the mean of the vertical and "
                            "of the horizontal differences separately, then add them"),
            (np.mean(np.abs(x - np.roll(x, 1, axis=1))) + np.mean(np.abs(x - np.roll(x, 1, axis=2))),
             "you compared with a wrapped-around copy (tf.roll), which also compares the last row with the "
             "first: slice instead, e.g. image[:, 1:] - image[:, :-1]"),
            (2 * np.mean(np.abs(down)), "you used the vertical differences twice: the horizontal term "
                                        "slices the width axis, image[:, :, 1:] - image[:, :, :-1]"),
            (abs(np.mean(down)) + abs(np.mean(right)),
             "take the absolute value of each difference before averaging, not of the average"),
        ])
        if mistake is None:
            k = got / expected if expected else None
            mistake = (f"expected {expected:.6g}, got {got:.6g}" +
                       (f" ({_times(k)})" if k and not np.isclose(k, 1.0) else ""))
        raise ExerciseError(f"on {label}: {mistake}")
    return _passed("total_variation_loss", "0 for a constant image, 2.0 for a checkerboard, mean absolute "
                                           "differences on 3 random images")


# --------------------------------------------------------------------------- train step

def check_train_step(fn: Callable[[tf.Variable, Callable[[tf.Tensor], tf.Tensor], Any], Any]) -> bool:
    """Check ``fn(image, loss_fn, optimizer)``: one gradient step with the optimizer, clipped to [0, 1],
    returning the loss before the step."""
    rng = np.random.default_rng(14)
    start = rng.uniform(0.3, 0.7, size=(1, 4, 4, 3)).astype(np.float32)
    start[0, 0, 0] = [0.02, 0.98, 0.5]  # near the edges: this step would leave [0, 1]
    target_np = rng.uniform(0.2, 0.8, size=start.shape).astype(np.float32)
    target_np[0, 0, 0] = [-2.0, 3.0, 0.5]
    target = tf.constant(target_np)

    def loss_fn(image: tf.Tensor) -> tf.Tensor:
        return tf.reduce_sum(tf.square(image - target))

    def reference() -> np.ndarray:
        variable = tf.Variable(start)
        optimizer = tf.keras.optimizers.Adam(learning_rate=0.1)
        with tf.GradientTape() as tape:
            loss = loss_fn(variable)
        optimizer.apply_gradients([(tape.gradient(loss, variable), variable)])
        variable.assign(tf.clip_by_value(variable, 0.0, 1.0))
        return variable.numpy().astype(np.float64)

    image = tf.Variable(start)
    optimizer = tf.keras.optimizers.Adam(learning_rate=0.1)
    returned = _call(fn, image, loss_fn, optimizer)
    after = image.numpy().astype(np.float64)
    before_loss = float(loss_fn(tf.constant(start)))
    after_loss = float(loss_fn(tf.constant(after, tf.float32)))

    if returned is None:
        raise ExerciseError("your function returned None: return the loss value computed under the tape")
    got = _scalar(returned, "return the loss, a single number")
    if np.allclose(after, start):
        raise ExerciseError(
            "the image did not change: apply the gradient with optimizer.apply_gradients([(grad, image)]) "
            "and change the variable in place with image.assign(...) (assigning to the name `image` "
            "inside the function does not change the caller's variable)")
    if np.any(after < -1e-6) or np.any(after > 1 + 1e-6):
        raise ExerciseError(
            "the image left [0, 1] after the step: clip it in place with "
            "image.assign(tf.clip_by_value(image, 0.0, 1.0))")
    if after_loss > before_loss:
        raise ExerciseError(
            "the loss went up, so the image moved away from the minimum: pass the gradient itself to "
            "apply_gradients (the optimizer already subtracts it)")
    if not np.isclose(got, before_loss, rtol=1e-4):
        if np.isclose(got, after_loss, rtol=1e-4):
            raise ExerciseError("you returned the loss after the update: return the value computed under "
                                "the tape, before apply_gradients")
        raise ExerciseError(f"the returned loss should be loss_fn(image) before the step, {before_loss:.5g}, "
                            f"got {got:.5g}")
    expected = reference()
    if not np.allclose(after, expected, rtol=1e-4, atol=1e-5):
        raise ExerciseError("the image after one step is not what one step of the given optimizer gives: "
                            "compute the gradient of loss_fn(image) with tf.GradientTape, apply it with the "
                            "optimizer that was passed in (once), then clip")
    return _passed("train_step", "returns the loss before the update, one optimizer step downhill, "
                                 "image clipped to [0, 1] in place")


# --------------------------------------------------------------------------- uploads (notebook 07)

def check_files_from_upload(fn: Callable[[Any], Any]) -> bool:
    """Check ``fn(value)``: a FileUpload value of ipywidgets 7 (dict) or 8 (tuple of dicts)
    -> list of (file name, bytes) pairs; [] when nothing was uploaded."""
    files = [("photo.jpg", b"\xff\xd8 a tiny jpeg"), ("style.png", b"\x89PNG a tiny png")]
    version8 = tuple({"name": name, "type": "image/jpeg", "size": len(data), "last_modified": 0,
                      "content": memoryview(data)} for name, data in files)
    version7 = {name: {"metadata": {"name": name, "type": "image/jpeg", "size": len(data)},
                       "content": data} for name, data in files}
    cases = [("an empty upload of ipywidgets 8, ()", (), []),
             ("an empty upload of ipywidgets 7, {}", {}, []),
             ("two files in ipywidgets 8's shape (a tuple of dicts)", version8, files),
             ("two files in ipywidgets 7's shape (a dict by file name)", version7, files),
             ("one file in ipywidgets 8's shape", version8[:1], files[:1])]
    for label, value, expected in cases:
        got = _call(fn, value)
        if got is None:
            raise ExerciseError(f"for {label} your function returned None: return a list (empty if "
                                "nothing was uploaded)")
        if not isinstance(got, (list, tuple)):
            raise ExerciseError(f"for {label} your function returned a {type(got).__name__}: return a "
                                "list of (file name, bytes) pairs")
        pairs = list(got)
        if len(pairs) != len(expected):
            raise ExerciseError(f"for {label} expected {len(expected)} pair(s), got {len(pairs)}")
        for pair, (name, data) in zip(pairs, expected):
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                raise ExerciseError(f"for {label} each item must be a (file name, bytes) pair, got {pair!r:.80}")
            got_name, got_data = pair
            if isinstance(got_data, memoryview):
                raise ExerciseError(f"for {label} the content is a memoryview: convert it with bytes(...)")
            if got_name != name:
                raise ExerciseError(f"for {label} expected the file name {name!r}, got {got_name!r:.80}")
            if not isinstance(got_data, bytes) or got_data != data:
                raise ExerciseError(f"for {label} the content of {name!r} should be the file's bytes, "
                                    f"got {got_data!r:.80}")
    return _passed("files_from_upload", "empty uploads, and files in the shapes of ipywidgets 7 and 8")


# --------------------------------------------------------------------------- colour: mean and std (notebook 06)

def _mean_std_reference(style: Any, content: Any, clip: bool = True) -> np.ndarray:
    """Per-channel mean and standard deviation matching of ``style`` to ``content``."""
    s, c = np.asarray(style, np.float64), np.asarray(content, np.float64)
    axes = (0, 1, 2)
    matched = (s - s.mean(axes)) / s.std(axes) * c.std(axes) + c.mean(axes)
    return np.clip(matched, 0.0, 1.0) if clip else matched


def check_match_mean_std(fn: Callable[[tf.Tensor, tf.Tensor], Any]) -> bool:
    """Check ``fn(style, content)``: the style image with each RGB channel shifted and scaled to the
    content's per-channel mean and standard deviation, clipped to [0, 1], in the style's shape."""
    rng = np.random.default_rng(6)
    # Case 1: no clipping happens. The channels have different means and spreads.
    style = rng.uniform(0.0, 1.0, size=(1, 20, 30, 3)) * [0.4, 0.2, 0.6] + [0.3, 0.1, 0.2]
    content = rng.normal([0.6, 0.45, 0.35], [0.05, 0.08, 0.04], size=(1, 16, 24, 3)).clip(0, 1)
    # Case 2: the content is contrasty, so some matched values leave [0, 1] and must be clipped.
    wide = rng.uniform(0.0, 1.0, size=(1, 12, 10, 3)) ** 2
    style2 = rng.uniform(0.4, 0.6, size=(1, 14, 18, 3))
    style2[0, 0, :4] = [[0.4, 0.4, 0.4], [0.6, 0.6, 0.6], [0.05, 0.5, 0.95], [0.95, 0.5, 0.05]]
    cases = [("a style image and a calm photo", style, content),
             ("a low-contrast style image and a contrasty photo", style2, wide)]

    for label, s, c in cases:
        got = _array(_call(fn, tf.constant(s, tf.float32), tf.constant(c, tf.float32)))
        expected = _mean_std_reference(s, c)
        if got.shape != expected.shape:
            if got.shape == expected.shape[1:]:
                raise ExerciseError(f"wrong shape: expected {expected.shape}, got {got.shape}: keep the batch "
                                    "axis (reduce over axes 0, 1, 2 for the statistics, not the image itself)")
            if got.shape == c.shape:
                raise ExerciseError(f"wrong shape: expected the style image's shape {expected.shape}, got the "
                                    f"content's {got.shape}: recolour the style (the first argument) with the "
                                    "content's statistics; did you swap the two?")
            raise ExerciseError(f"wrong shape: expected {expected.shape} (the style image's shape), got {got.shape}")
        if _close(got, expected, rtol=1e-3, atol=2e-3):
            continue
        axes = (0, 1, 2)
        mu_s, sd_s, mu_c, sd_c = s.mean(axes), s.std(axes), c.mean(axes), c.std(axes)
        unclipped = _mean_std_reference(s, c, clip=False)
        mistake = None
        if np.any(got < -1e-6) or np.any(got > 1 + 1e-6):
            mistake = ("some values are outside [0, 1]: clip the result, e.g. "
                       "tf.clip_by_value(matched, 0.0, 1.0)")
        mistake = mistake or _diagnose(got, [
            ((s - s.mean()) / s.std() * c.std() + c.mean(),
             "you used one mean and one std for all three channels together: compute them per channel by "
             "reducing over axes (0, 1, 2) only (batch, height, width), so that 3 numbers remain"),
            (np.clip((s - mu_s) / sd_c * sd_s + mu_c, 0, 1),
             "the scale is upside down: divide by the style's std and multiply by the content's std"),
            (np.clip((s - mu_s) / sd_s ** 2 * sd_c ** 2 + mu_c, 0, 1),
             "you used the variance: use the standard deviation, tf.math.reduce_std"),
            (np.clip((s - mu_s) / sd_s * sd_c, 0, 1),
             "add the content's mean after scaling: the result's mean must be the content's mean"),
            (np.clip(s / sd_s * sd_c + mu_c, 0, 1),
             "subtract the style's mean before scaling, then add the content's mean"),
            (np.clip(s - mu_s + mu_c, 0, 1),
             "you only moved the mean: also scale by the content's std divided by the style's std"),
            (np.clip((s - mu_s) / sd_s + mu_c, 0, 1),
             "after dividing by the style's std, multiply by the content's std"),
            (unclipped, "some values are outside [0, 1]: clip the result, e.g. tf.clip_by_value(matched, 0.0, 1.0)"),
        ])
        got_mean, got_std = got.mean(axes), got.std(axes)
        if mistake is None and np.allclose(got_mean, mu_c, atol=2e-3) and np.allclose(got_std, sd_c, atol=2e-3):
            mistake = ("the per-channel means and standard deviations are right, but the pixels are not a shift "
                       "and scale of the style's pixels: each output channel must come from the same channel "
                       "of the style alone, (style_c - mean_c) / std_c * content_std_c + content_mean_c")
        if mistake is None:
            mistake = (f"the result's per-channel means are {np.round(got_mean, 3).tolist()} and standard "
                       f"deviations {np.round(got_std, 3).tolist()}; they should be about "
                       f"{np.round(mu_c, 3).tolist()} and {np.round(sd_c, 3).tolist()} (the content's)")
        raise ExerciseError(f"on {label}: {mistake}")
    return _passed("match_mean_std", "per-channel mean and std of the content, style's shape, clipped to [0, 1], "
                                     "on 2 pairs of images")
