"""Checks for the notebooks' exercises: run the student's function, say what is wrong.

Each ``check_*`` states an :class:`Exercise`: its cases, its reference (this package's own
implementation) and its table of typical mistakes, each with the wrong answer it gives and a
message in plain words. One runner calls the student's function on every case; on success it
prints ``✓ <name> passed: <what was checked>`` and returns True, otherwise it raises
:class:`ExerciseError` naming the empty exercise (``raise NotImplementedError``), an exception,
a wrong shape, a recognised mistake, or else "expected X, got Y (k times too large)". In a
notebook: ``checks.check_gram_matrix(gram_matrix)``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import chain
from types import SimpleNamespace
from typing import Any

import numpy as np
import tensorflow as tf

from . import losses as _losses
from . import vgg as _vgg

__all__ = [
    "ExerciseError",
    "check_adain",
    "check_content_loss",
    "check_files_from_upload",
    "check_gram_matrix",
    "check_image_addresses",
    "check_instance_norm",
    "check_match_mean_std",
    "check_preprocess",
    "check_receptive_field",
    "check_style_loss",
    "check_total_loss",
    "check_total_variation_loss",
    "check_train_step",
    "check_transposed_overlap",
    "check_warp_image",
]

RTOL = 1e-4
ATOL = 1e-5
_MEAN = np.array(_vgg.VGG_MEAN_BGR)
_NONE = "your function returned None: did you forget the `return` statement?"
_OUTSIDE = (
    "some values are outside [0, 1]: clip the result, e.g. tf.clip_by_value(matched, 0.0, 1.0)"
)


class ExerciseError(AssertionError):
    """The student's function does not do what the exercise asks; the message says why."""


# --------------------------------------------------------------------------- the runner
def _expected_got(expected: np.ndarray, got: np.ndarray, *_: Any) -> str:
    """'expected X, got Y' where the two differ most."""
    i = np.unravel_index(int(np.argmax(np.abs(got - expected))), expected.shape)
    where = f" at {tuple(int(j) for j in i)}" if i else ""
    return f"expected {expected[i]:.6g}{where}, got {got[i]:.6g}"


def _numpy(*args: Any) -> tuple[Any, ...]:
    """The arguments with tensors (also in dicts) as float64 arrays."""

    def convert(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: convert(item) for key, item in value.items()}
        return value.numpy().astype(np.float64) if isinstance(value, tf.Tensor) else value

    return tuple(convert(arg) for arg in args)


@dataclass(frozen=True)
class Exercise:
    """An exercise for :func:`_run`. ``cases``: (label, *arguments of one call). ``mistakes``:
    (wrong answer computed from ``arrays(*arguments)``, None where it does not apply; message);
    a wrong-shaped answer is recognised by its shape alone. ``symptoms``: (test of the answer
    and the arrays, message), tried next. Messages may use the fields ``facts(*arrays)`` and
    ``{example}``, that is ``show(expected, got, *arrays)``, also the fallback."""

    name: str
    passed: str
    cases: Sequence[tuple[Any, ...]]
    reference: Callable[..., Any]
    mistakes: Sequence[tuple[Callable[..., Any], str]] = ()
    symptoms: Sequence[tuple[Callable[..., bool], str]] = ()
    arrays: Callable[..., tuple[Any, ...]] = _numpy
    facts: Callable[..., Mapping[str, Any]] = lambda *args: {}
    shape_hint: str = ""
    show: Callable[..., str] = _expected_got
    rtol: float = RTOL
    atol: float = ATOL


def _run(exercise: Exercise, fn: Callable[..., Any]) -> bool:
    """Run ``fn`` on every case; raise ExerciseError for the first wrong answer, saying why."""
    for label, *args in exercise.cases:
        got = _array(_call(fn, *args))
        expected = _array(exercise.reference(*args))
        if not _close(got, expected, exercise.rtol, exercise.atol):
            where = f"on {label}: " if label else ""
            raise ExerciseError(where + _diagnosis(exercise, got, expected, exercise.arrays(*args)))
    print(f"✓ {exercise.name} passed: {exercise.passed}")
    return True


def _diagnosis(
    exercise: Exercise, got: np.ndarray, expected: np.ndarray, arrays: Sequence[Any]
) -> str:
    """A named mistake, else a symptom, else 'expected X, got Y (k times too large)'."""
    facts = dict(exercise.facts(*arrays))
    answers = [(wrong(*arrays), message) for wrong, message in exercise.mistakes]
    answers = [(np.asarray(a, np.float64), m) for a, m in answers if a is not None]
    if got.shape != expected.shape:
        why = next((m for a, m in answers if a.shape == got.shape), exercise.shape_hint)
        return _wrong_shape(expected.shape, got.shape, why.format(**facts))
    facts["example"] = exercise.show(expected, got, *arrays)
    named = (m for a, m in answers if _close(got, a, rtol=1e-3))
    noticed = (m for test, m in exercise.symptoms if test(got, *arrays))
    message = next(chain(named, noticed), None)
    if message is not None:
        return message.format(**facts)
    k = _factor(got, expected)
    return facts["example"] + (f" ({_times(k)})" if k is not None else "")


def _call(fn: Callable[..., Any], *args: Any) -> Any:
    """Call the student's function; turn its exceptions into one plain sentence."""
    if not callable(fn):
        raise ExerciseError(f"pass your function itself to the check (got a {type(fn).__name__})")
    try:
        return fn(*args)
    except NotImplementedError:
        raise ExerciseError(
            "your function raised NotImplementedError: replace the `# YOUR CODE "
            "HERE` line (and the `raise NotImplementedError(...)` below it) with "
            "your solution, run that cell, then run this check again."
        ) from None
    except ExerciseError:
        raise
    except Exception as error:  # any bug in the student's code
        missing = re.search(r"missing 1 required positional argument: '(\w+)'", str(error))
        note = f" (give `{missing[1]}` the default value None)" if missing else ""
        name = type(error).__name__
        raise ExerciseError(f"your function raised {name}: {error}{note}") from error


# --------------------------------------------------------------------------- helpers
def _array(value: Any) -> np.ndarray:
    """The result as a float64 array, or an ExerciseError if it is not numbers."""
    if value is None:
        raise ExerciseError(_NONE)
    if isinstance(value, (tf.Tensor, tf.Variable)):
        value = value.numpy()
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ExerciseError(
            f"your function returned a {type(value).__name__}, not a tensor or array of numbers"
        ) from None
    if not np.all(np.isfinite(array)):
        raise ExerciseError("your function returned NaN or infinite values")
    return array


def _close(got: np.ndarray, expected: np.ndarray, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """Same shape and equal up to ``rtol`` and ``atol`` (relative to the largest |expected|)."""
    if got.shape != expected.shape:
        return False
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    return bool(np.allclose(got, expected, rtol=rtol, atol=atol * scale))


def _wrong_shape(expected: tuple[int, ...], got: tuple[int, ...], why: str) -> str:
    wanted = "a single number (a scalar, shape ())" if expected == () else str(expected)
    return f"wrong shape: expected {wanted}, got shape {got}" + (f": {why}" if why else "")


def _factor(got: np.ndarray, expected: np.ndarray) -> float | None:
    """k if ``got`` is k * ``expected`` (k clearly not 1), else None."""
    denominator = float(np.sum(expected * expected))
    k = float(np.sum(got * expected)) / denominator if denominator else 0.0
    if abs(k) < 1e-12 or np.isclose(k, 1.0, rtol=1e-3):
        return None
    return k if _close(got, k * expected, rtol=1e-3) else None


def _times(k: float) -> str:
    """'4x too large' / '4x too small' (rounded sensibly)."""
    x = k if k > 1 else 1 / k
    number = f"{x:.0f}" if abs(x - round(x)) < 1e-3 * x else f"{x:.3g}"
    return f"{number}x too {'large' if k > 1 else 'small'}"


def _random(shape: Sequence[int], seed: int, low: float = 0.0, high: float = 1.0) -> tf.Tensor:
    rng = np.random.default_rng(seed)
    return tf.constant(rng.uniform(low, high, size=tuple(shape)), tf.float32)


# --------------------------------------------------------------------------- preprocess
def check_preprocess(fn: Callable[[tf.Tensor], Any]) -> bool:
    """Check ``fn(image)``: RGB in [0, 1], (1, H, W, 3) -> BGR, 0..255, minus the BGR mean."""
    red = tf.constant(np.tile([1.0, 0.0, 0.0], (1, 2, 2, 1)), tf.float32)
    return _run(
        Exercise(
            "preprocess",
            "RGB -> BGR, x255, minus the BGR mean colour, on 3 images",
            cases=[
                ("a pure red image", red),
                ("a black image", tf.zeros((1, 2, 3, 3))),
                ("a random 4x5 image", _random((1, 4, 5, 3), seed=1)),
            ],
            reference=_vgg.preprocess,
            mistakes=[
                (lambda x: x[0], "keep the batch axis: (1, H, W, 3) in, (1, H, W, 3) out"),
                (
                    lambda x: x * 255 - _MEAN,
                    (
                        "the channels are still in RGB order: flip them to BGR "
                        "(e.g. image[..., ::-1]) before subtracting the mean"
                    ),
                ),
                (
                    lambda x: x * 255 - _MEAN[::-1],
                    (
                        "the channels are still in RGB order: VGG19 wants "
                        "BGR (flip the last axis, e.g. image[..., ::-1])"
                    ),
                ),
                (
                    lambda x: x[..., ::-1] * 255 - _MEAN[::-1],
                    (
                        "the mean is subtracted in the wrong order: after the flip the channels "
                        "are "
                        "B, G, R, so subtract (103.939, 116.779, 123.68)"
                    ),
                ),
                (
                    lambda x: x[..., ::-1] - _MEAN,
                    (
                        "you forgot *255: VGG19's input is on the 0..255 scale, multiply the [0, "
                        "1] image "
                        "by 255 before subtracting the mean"
                    ),
                ),
                (
                    lambda x: (x[..., ::-1] - _MEAN) * 255,
                    (
                        "you multiplied by 255 after subtracting the mean: scale the image to "
                        "0..255 "
                        "first, then subtract the mean (which is on that scale)"
                    ),
                ),
                (
                    lambda x: x[..., ::-1] - _MEAN / 255,
                    "you forgot *255: the result should be on VGG19's 0..255 scale",
                ),
                (
                    lambda x: x[..., ::-1] * 255,
                    "you forgot to subtract the mean colour (103.939, 116.779, 123.68) in BGR "
                    "order",
                ),
                (
                    lambda x: x * 255,
                    "you only multiplied by 255: also flip RGB to BGR and subtract the mean colour",
                ),
                (lambda x: x[..., ::-1] * 255 + _MEAN, "you added the mean colour: subtract it"),
                (
                    lambda x: x[..., ::-1] / 255 - _MEAN,
                    "you divided by 255: the image is in [0, 1] and must be multiplied by 255",
                ),
            ],
            atol=1e-3,
        ),
        fn,
    )


# --------------------------------------------------------------------------- receptive field
def _fields(
    stacks: Sequence[Sequence[str]],
    start: int = 1,
    conv: int = 2,
    pool: int = 1,
    growth: int = 2,
    doubling: bool = False,
) -> np.ndarray:
    """The receptive field (px) of each stack of 'conv'/'pool' layers, shape (len(stacks),);
    the keywords give the wrong versions."""
    fields = []
    for kinds in stacks:
        field, stride = start, 1
        for kind in kinds:
            if kind == "conv":
                field += conv * stride
            else:
                field, stride = 2 * field if doubling else field + pool * stride, stride * growth
        fields.append(field)
    return np.array(fields, dtype=np.float64)


def _each_stack(fn: Callable[[list[str]], Any]) -> Callable[[Sequence[Sequence[str]]], np.ndarray]:
    """Adapter: ``fn`` (kinds -> int) as a function of all stacks -> their fields, shape (n,)."""

    def whole_number(kinds: Sequence[str]) -> int:
        value = _call(fn, list(kinds))
        if isinstance(value, (str, bytes, bool)) or np.ndim(value) != 0:
            raise ExerciseError(
                f"your function should return one whole number (pixels), got {value!r}"
            )
        if not float(_array(value)).is_integer():
            raise ExerciseError(
                f"the receptive field is a whole number of pixels, got "
                f"{float(value)} for {list(kinds)}"
            )
        return int(value)

    return lambda stacks: np.array([whole_number(kinds) for kinds in stacks])


def _show_stack(expected: np.ndarray, got: np.ndarray, stacks: Sequence[Sequence[str]]) -> str:
    """The first stack whose field is wrong."""
    i = int(np.flatnonzero(got != expected)[0])
    n = len(stacks[i])
    shown = stacks[i] if n <= 6 else f"the first {n} layers of VGG19"
    return f"for {shown} expected a receptive field of {expected[i]:.0f} px, got {got[i]:.0f}"


def check_receptive_field(fn: Callable[[list[str]], Any]) -> bool:
    """Check ``fn(kinds) -> int``: the receptive field (px) of 3x3 convs and 2x2 pools."""
    kinds = list(_vgg.layer_table()["kind"])
    stacks = [
        [],
        ["conv"],
        ["conv", "conv"],
        ["conv", "conv", "pool"],
        ["pool", "conv"],
        *(kinds[: i + 1] for i in range(len(kinds))),
    ]
    mistakes = [  # the keywords of _fields that give the wrong version
        (
            {"growth": 1},
            (
                "you added the same amount at every layer: after each 2x2 pool (stride 2) "
                "one step in the feature map covers twice as many input pixels, so keep a "
                "`stride` that doubles at every pool and add 2 * stride per 3x3 conv"
            ),
        ),
        (
            {"doubling": True},
            (
                "a 2x2 pool with stride 2 does not double the field: it adds one "
                "more position at the current stride (field += stride), then the "
                "stride doubles"
            ),
        ),
        (
            {"pool": 0},
            (
                "the pooling layers also widen the field: a 2x2 pool adds `stride` pixels "
                "(field += stride) before the stride doubles"
            ),
        ),
        ({"conv": 3}, "a 3x3 conv adds kernel size - 1 = 2 positions (field += 2 * stride), not 3"),
        (
            {"start": 0},
            (
                "off by one: with no layers one position sees exactly one pixel, so start "
                "from 1 ([] -> 1)"
            ),
        ),
        ({"pool": 2}, "a 2x2 pool adds kernel size - 1 = 1 position (field += stride), not 2"),
        (
            {"pool": 2, "growth": 1},
            (
                "you treated every layer like a 3x3 conv with stride 1: a pool "
                "is 2x2 (it adds `stride` pixels) and doubles the stride of "
                "every layer after it"
            ),
        ),
    ]
    return _run(
        Exercise(
            "receptive_field",
            f"{len(stacks)} stacks, including every layer of VGG19",
            cases=[("", stacks)],
            reference=_fields,
            show=_show_stack,
            mistakes=[
                (partial(_fields, **variant), "{example}: " + why) for variant, why in mistakes
            ],
        ),
        _each_stack(fn),
    )


# --------------------------------------------------------------------------- Gram matrix
_POSITIONS = (
    "that is positions x positions: you computed F F^T, but the Gram matrix is "
    "channels x channels, F^T F (C x C)"
)


def _gram(flat: np.ndarray) -> np.ndarray:
    """(N, C) features -> (1, C, C): flat^T flat / N, in numpy."""
    return (flat.T @ flat / len(flat))[None]


def check_gram_matrix(fn: Callable[[tf.Tensor], Any]) -> bool:
    """Check ``fn(features)``: (1, H, W, C) -> (1, C, C) Gram matrix divided by H*W."""
    tiny = tf.constant([[[[1.0, 0.0, 2.0], [0.0, 1.0, 1.0]], [[3.0, 1.0, 0.0], [1.0, 2.0, 1.0]]]])
    return _run(
        Exercise(
            "gram_matrix",
            "shape (1, C, C), symmetric, normalized by H*W, on 4 feature maps",
            cases=[
                ("a hand-made 2x2x3 feature map", tiny),
                ("a random 3x4x5 feature map", _random((1, 3, 4, 5), seed=2)),
                ("a random 5x2x2 feature map", _random((1, 5, 2, 2), seed=3, low=-1.0)),
                ("a random 6x7x4 feature map", _random((1, 6, 7, 4), seed=4)),
            ],
            reference=_losses.gram_matrix,
            mistakes=[  # f: the features reshaped to (H*W, C)
                (
                    lambda f: _gram(f)[0],
                    (
                        "keep the batch axis: return shape (1, {c}, {c}) like the "
                        "package's gram_matrix (e.g. with tf.einsum('bijc,bijd->bcd', "
                        "F, F) or tf.matmul on (1, H*W, C))"
                    ),
                ),
                (lambda f: (f @ f.T)[None], _POSITIONS),
                (lambda f: f @ f.T, _POSITIONS),
                (
                    lambda f: _gram(f.reshape(f.shape[1], -1).T),
                    (
                        "you reshaped (H, W, C) straight to (C, H*W), which mixes up channels and "
                        "positions: reshape to (H*W, C) (then transpose that if you need C x (H*W))"
                    ),
                ),
                (
                    lambda f: _gram(f - f.mean(axis=0)),
                    (
                        "you subtracted the mean of each channel: the "
                        "Gram matrix uses the raw features, not a "
                        "covariance"
                    ),
                ),
                (lambda f: _gram(np.abs(f)), "do not take absolute values: G = F^T F / (H W)"),
                (
                    lambda f: _gram(f) * len(f),
                    (
                        "the result is {hw}x too large: did you forget to "
                        "divide by the number of positions H*W = {hw}?"
                    ),
                ),
                (
                    lambda f: _gram(f) / f.shape[1],
                    (
                        "the result is {c}x too small: divide by H*W only "
                        "(the number of positions), not by H*W*C; C = {c}"
                    ),
                ),
                (
                    lambda f: _gram(f) / len(f),
                    "the result is {hw}x too small: you divided by H*W twice",
                ),
                (
                    lambda f: _gram(f) * len(f) / f.shape[1],
                    "the result is {ratio}: divide by the number of positions H*W = {hw}, not by "
                    "C = {c}",
                ),
                (
                    lambda f: 2 * _gram(f),
                    "the result is 2x too large: the Gram matrix has no factor 2",
                ),
                (
                    lambda f: _gram(f) / 2,
                    "the result is 2x too small: the Gram matrix has no factor 1/2",
                ),
            ],
            symptoms=[
                (
                    lambda g, f: not _close(g[0], g[0].T),
                    (
                        "your Gram matrix is not symmetric: G[c, d] must equal G[d, c] (both are "
                        "the average "
                        "of F[:, c] * F[:, d] over positions)"
                    ),
                )
            ],
            facts=lambda f: {"hw": len(f), "c": f.shape[1], "ratio": _times(len(f) / f.shape[1])},
            shape_hint="for features of shape (1, H, W, C) the Gram matrix is (1, C, C)",
            arrays=lambda features: (_numpy(features)[0].reshape(-1, features.shape[-1]),),
        ),
        fn,
    )


# --------------------------------------------------------------------------- content loss
def check_content_loss(fn: Callable[[tf.Tensor, tf.Tensor], Any]) -> bool:
    """Check ``fn(F, P)``: the mean squared difference of two feature maps (a scalar)."""
    same = _random((1, 3, 3, 4), seed=9)
    return _run(
        Exercise(
            "content_loss",
            "scalar mean squared difference, 0 for identical inputs, on 4 pairs",
            cases=[
                (
                    "a hand-made pair (zeros vs. ones)",
                    tf.zeros((1, 2, 2, 2)),
                    tf.ones((1, 2, 2, 2)),
                ),
                (
                    "two random 4x4x8 feature maps",
                    _random((1, 4, 4, 8), seed=5, high=3.0),
                    _random((1, 4, 4, 8), seed=6, high=3.0),
                ),
                (
                    "two random 3x5x2 feature maps",
                    _random((1, 3, 5, 2), seed=7, high=0.5),
                    _random((1, 3, 5, 2), seed=8, high=2.0),
                ),
                ("a feature map and itself (the loss must be 0)", same, tf.identity(same)),
            ],
            reference=_losses.content_loss,
            mistakes=[  # d: F - P
                (
                    lambda d: np.sum(d**2),
                    (
                        "you summed the squared differences: take the mean (here "
                        "{n} elements, so your value is {n}x too large)"
                    ),
                ),
                (
                    lambda d: np.sum(d**2) / 2,
                    (
                        "you used the paper's 1/2 sum (F - P)^2: in this "
                        "course the content loss is the mean of (F - P)^2"
                    ),
                ),
                (
                    lambda d: np.mean(d**2) / 2,
                    "there is no factor 1/2 here: the content loss is the mean of (F - P)^2",
                ),
                (
                    lambda d: np.mean(np.abs(d)),
                    "you used the absolute difference: square the differences instead",
                ),
                (
                    lambda d: np.sqrt(np.mean(d**2)),
                    (
                        "you took the square root (that is the RMS): the "
                        "loss is the mean squared difference, without "
                        "the root"
                    ),
                ),
                (lambda d: np.mean(d), "you forgot to square the differences"),
                (
                    lambda d: np.mean(d) ** 2,
                    "you squared the mean difference: square each difference, then average",
                ),
            ],
            arrays=lambda f, p: (_numpy(f)[0] - _numpy(p)[0],),
            facts=lambda d: {"n": d.size},
            shape_hint="average over all elements (e.g. tf.reduce_mean)",
            atol=1e-6,
        ),
        fn,
    )


# --------------------------------------------------------------------------- style loss
def _grams(seed: int, sizes: Mapping[str, tuple[int, int, int]]) -> dict[str, tf.Tensor]:
    """Gram matrices of random feature maps of the given (H, W, C) sizes, by layer name."""
    return {
        name: _losses.gram_matrix(_random((1, *shape), seed=seed + i, high=2.0))
        for i, (name, shape) in enumerate(sizes.items())
    }


def _layers(
    per_layer: Callable[[np.ndarray], float],
    grams: Mapping[str, np.ndarray],
    targets: Mapping[str, np.ndarray],
    weights: Mapping[str, float] | None = None,
) -> float:
    """sum_l w_l per_layer(G_l - A_l), with w_l = 1/L when ``weights`` is None."""
    weights = weights or {name: 1.0 / len(grams) for name in grams}
    return sum(weights[name] * per_layer(grams[name] - targets[name]) for name in grams)


def _mse(d: np.ndarray) -> float:
    return float(np.mean(d**2))


def check_style_loss(fn: Callable[..., Any]) -> bool:
    """Check ``fn(grams, targets, layer_weights=None)``: sum_l w_l mean((G_l - A_l)^2)."""
    sizes = {"layer_a": (3, 3, 2), "layer_b": (2, 4, 4), "layer_c": (2, 2, 6)}
    g, a, one = _grams(10, sizes), _grams(20, sizes), {"layer_a": (3, 3, 3)}
    return _run(
        Exercise(
            "style_loss",
            "per-layer mean squared difference, default weights 1/L, given weights, "
            "0 for identical Grams",
            cases=[
                ("three layers, default weights", g, a),
                ("one layer, default weights", _grams(30, one), _grams(40, one)),
                (
                    "three layers, weights {a: 1, b: 0.25, c: 2}",
                    g,
                    a,
                    {"layer_a": 1.0, "layer_b": 0.25, "layer_c": 2.0},
                ),
                ("Gram matrices and themselves (the loss must be 0)", g, dict(g)),
            ],
            reference=_losses.style_loss,
            mistakes=[  # w: the case's layer_weights or None
                (
                    lambda g, a, w=None: None if w else _layers(_mse, g, a, dict.fromkeys(g, 1.0)),
                    (
                        "the result is {L}x too large: with layer_weights=None each of the L = "
                        "{L} layers "
                        "gets weight 1/L; you added the layers without dividing by L"
                    ),
                ),
                (
                    partial(_layers, lambda d: np.sum(d**2)),
                    (
                        "you summed the squared differences of each Gram matrix: take the mean "
                        "over its "
                        "N x N entries (tf.reduce_mean)"
                    ),
                ),
                (
                    partial(_layers, lambda d: _mse(d) / 4),
                    (
                        "the result is 4x too small: the paper's factor 1/4 is not used here, "
                        "E_l = mean((G - A)^2)"
                    ),
                ),
                (
                    partial(_layers, lambda d: np.mean(np.abs(d))),
                    "you used the absolute difference: square the differences",
                ),
                (
                    partial(_layers, np.mean),
                    "you forgot to square the differences of the Gram matrices",
                ),
                (
                    partial(_layers, lambda d: np.sqrt(_mse(d))),
                    (
                        "you took the square root of each layer's mean: E_l is the mean squared "
                        "difference, without the root"
                    ),
                ),
                (
                    lambda g, a, w=None: _layers(_mse, g, a) if w else None,
                    (
                        "you ignored the layer_weights argument: when it is given, weight layer l "
                        "by "
                        "layer_weights[l]"
                    ),
                ),
                (
                    lambda g, a, w=None: (
                        _layers(_mse, g, a, {n: w[n] / len(g) for n in g}) if w else None
                    ),
                    (
                        "you divided by L = {L} even though layer_weights was given: use 1/L only "
                        "when "
                        "layer_weights is None"
                    ),
                ),
            ],
            facts=lambda g, a, w=None: {"L": len(g)},
            shape_hint="sum the weighted per-layer losses into one number",
            atol=1e-7,
        ),
        fn,
    )


# --------------------------------------------------------------------------- total variation
def _differences(image: tf.Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The vertical and the horizontal differences of neighbouring pixels, and the image."""
    (x,) = _numpy(image)
    return x[:, 1:] - x[:, :-1], x[:, :, 1:] - x[:, :, :-1], x


def check_total_variation_loss(fn: Callable[[tf.Tensor], Any]) -> bool:
    """Check ``fn(image)``: mean |vertical difference| + mean |horizontal difference| (a scalar)."""
    checker = tf.constant([[[[0.0], [1.0]], [[1.0], [0.0]]]])  # (1, 2, 2, 1)
    return _run(
        Exercise(
            "total_variation_loss",
            "0 for a constant image, 2.0 for a checkerboard, mean absolute "
            "differences on 3 random images",
            cases=[
                (
                    "a constant image, which has no variation (the loss must be 0)",
                    tf.fill((1, 3, 4, 3), 0.7),
                ),
                ("a random 5x4x3 image", _random((1, 5, 4, 3), seed=11)),
                ("a random 3x7x1 image", _random((1, 3, 7, 1), seed=12)),
                ("a random 6x2x3 image", _random((1, 6, 2, 3), seed=13)),
                ("a 2x2 checkerboard (expected 2.0)", checker),
            ],
            reference=_losses.total_variation_loss,
            mistakes=[  # v, h, x: see _differences
                (
                    lambda v, h, x: np.mean(v**2) + np.mean(h**2),
                    "you squared the differences: this total variation loss uses their absolute "
                    "value",
                ),
                (
                    lambda v, h, x: np.sum(np.abs(v)) + np.sum(np.abs(h)),
                    (
                        "you summed the absolute differences (like tf.image.total_variation): "
                        "take the "
                        "mean of each direction instead"
                    ),
                ),
                (
                    lambda v, h, x: np.mean(np.abs(v)),
                    (
                        "you only included the vertical differences "
                        "(rows i+1 minus i): add the mean of the "
                        "horizontal ones too"
                    ),
                ),
                (
                    lambda v, h, x: np.mean(np.abs(h)),
                    (
                        "you only included the horizontal differences "
                        "(columns j+1 minus j): add the mean of the "
                        "vertical ones too"
                    ),
                ),
                (
                    lambda v, h, x: (np.mean(np.abs(v)) + np.mean(np.abs(h))) / 2,
                    "the result is 2x too small: add the two means, do not average them",
                ),
                (
                    lambda v, h, x: np.mean(np.abs(np.concatenate([v.ravel(), h.ravel()]))),
                    (
                        "you averaged all differences together: take the mean of the vertical and "
                        "of the "
                        "horizontal differences separately, then add them"
                    ),
                ),
                (
                    lambda v, h, x: sum(
                        np.mean(np.abs(x - np.roll(x, 1, axis))) for axis in (1, 2)
                    ),
                    (
                        "you compared with a wrapped-around copy (tf.roll), which also compares "
                        "the last "
                        "row with the first: slice instead, e.g. image[:, 1:] - image[:, :-1]"
                    ),
                ),
                (
                    lambda v, h, x: 2 * np.mean(np.abs(v)),
                    (
                        "you used the vertical differences twice: the horizontal term slices the "
                        "width "
                        "axis, image[:, :, 1:] - image[:, :, :-1]"
                    ),
                ),
                (
                    lambda v, h, x: abs(np.mean(v)) + abs(np.mean(h)),
                    "take the absolute value of each difference before averaging, not of the "
                    "average",
                ),
            ],
            arrays=_differences,
            shape_hint="average the differences (tf.reduce_mean) and add the two directions",
            atol=1e-6,
        ),
        fn,
    )


# --------------------------------------------------------------------------- train step
def _train_step(
    image: tf.Variable, loss_fn: Callable[[tf.Tensor], tf.Tensor], optimizer: Any
) -> tf.Tensor:
    """Reference: one optimizer step on ``image``, clipped to [0, 1]; the loss before it."""
    with tf.GradientTape() as tape:
        loss = loss_fn(image)
    optimizer.apply_gradients([(tape.gradient(loss, image), image)])
    image.assign(tf.clip_by_value(image, 0.0, 1.0))
    return loss


def _one_step(fn: Callable[..., Any]) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Adapter: ``fn`` as a function of (start, target) -> (loss returned, *image after the step),
    for the loss sum((image - target)^2) and Adam with learning rate 0.1."""

    def step(start: np.ndarray, target: np.ndarray) -> np.ndarray:
        image, optimizer = tf.Variable(start), tf.keras.optimizers.Adam(learning_rate=0.1)
        returned = _call(fn, image, lambda x: tf.reduce_sum(tf.square(x - target)), optimizer)
        if returned is None:
            raise ExerciseError(
                "your function returned None: return the loss value computed under the tape"
            )
        loss = _array(returned)
        if loss.shape != ():
            raise ExerciseError(_wrong_shape((), loss.shape, "return the loss, a single number"))
        return np.concatenate([[float(loss)], image.numpy().ravel()])

    return step


def _distance(image: np.ndarray, target: np.ndarray) -> float:
    """The exercise's loss, sum((image - target)^2)."""
    return float(np.sum((image.ravel() - target.ravel()) ** 2))


def _loss_after(start: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Wrong answer: the right step, returning the loss after it."""
    result = _one_step(_train_step)(start, target)
    result[0] = _distance(result[1:], target)
    return result


def check_train_step(
    fn: Callable[[tf.Variable, Callable[[tf.Tensor], tf.Tensor], Any], Any],
) -> bool:
    """Check ``fn(image, loss_fn, optimizer)``: one gradient step with the optimizer, clipped to
    [0, 1], returning the loss before the step."""
    rng = np.random.default_rng(14)
    start = rng.uniform(0.3, 0.7, size=(1, 4, 4, 3)).astype(np.float32)
    start[0, 0, 0] = [0.02, 0.98, 0.5]  # near the edges: this step would leave [0, 1]
    target = rng.uniform(0.2, 0.8, size=start.shape).astype(np.float32)
    target[0, 0, 0] = [-2.0, 3.0, 0.5]
    return _run(
        Exercise(
            "train_step",
            "returns the loss before the update, one optimizer step downhill, "
            "image clipped to [0, 1] in place",
            cases=[("", start, target)],
            reference=_one_step(_train_step),
            mistakes=[
                (
                    _loss_after,
                    (
                        "you returned the loss after the update: return the value "
                        "computed under the tape, before apply_gradients"
                    ),
                )
            ],
            symptoms=[  # got: (returned loss, *image after the step)
                (
                    lambda got, start, target: np.allclose(got[1:], start.ravel()),
                    (
                        "the image did not change: apply the gradient with "
                        "optimizer.apply_gradients("
                        "[(grad, image)]) and change the variable in place with image.assign(...) "
                        "(assigning to the name `image` inside the function does not change the "
                        "caller's "
                        "variable)"
                    ),
                ),
                (
                    lambda got, start, target: got[1:].min() < -1e-6 or got[1:].max() > 1 + 1e-6,
                    (
                        "the image left [0, 1] after the step: clip it in place with "
                        "image.assign(tf.clip_by_value(image, 0.0, 1.0))"
                    ),
                ),
                (
                    lambda got, start, target: (
                        _distance(got[1:], target) > _distance(start, target)
                    ),
                    (
                        "the loss went up, so the image moved away from the minimum: pass the "
                        "gradient "
                        "itself to apply_gradients (the optimizer already subtracts it)"
                    ),
                ),
                (
                    lambda got, start, target: (
                        not np.isclose(got[0], _distance(start, target), 1e-4)
                    ),
                    "the returned loss should be loss_fn(image) before the step: {example}",
                ),
                (
                    lambda *_: True,
                    (  # loss right, image wrong
                        "the image after one step is not what one step of the given optimizer "
                        "gives: "
                        "compute the gradient of loss_fn(image) with tf.GradientTape, apply it "
                        "with the "
                        "optimizer that was passed in (once), then clip"
                    ),
                ),
            ],
            show=lambda expected, got, *_: f"expected {expected[0]:.5g}, got {got[0]:.5g}",
        ),
        _one_step(fn),
    )


# ------------------------------------------------------------------------ total loss (notebook 05)
_SIZES = {"layer_a": (4, 5, 3), "layer_b": (3, 3, 4), "layer_c": (2, 3, 5)}  # (H, W, C)
_DEFAULT_WEIGHTS = (1.0, 5e-4, 1e4)
_WRONG_TERMS = (
    "the weights are attached to the wrong terms: weights = (alpha, beta, gamma) multiply the "
    "content, the style and the total variation term, in that order"
)


def _maps(seed: int) -> dict[str, tf.Tensor]:
    """Random feature maps of the sizes in ``_SIZES``, by layer name."""
    return {
        name: _random((1, *shape), seed=seed + i, high=2.0)
        for i, (name, shape) in enumerate(_SIZES.items())
    }


def _targets(maps: Mapping[str, tf.Tensor], content: Sequence[str], style: Sequence[str]) -> dict:
    """The targets of the exercise: content feature maps P and style Gram matrices A."""
    return {
        "content": {n: maps[n] for n in content},
        "style": {n: _losses.gram_matrix(maps[n]) for n in style},
    }


def _other_losses() -> SimpleNamespace:
    """Loss functions unlike the package's, passed as ``losses``: the answer must use them."""
    return SimpleNamespace(
        content_loss=lambda f, p: tf.reduce_mean(tf.abs(f - p)),
        gram_matrix=lambda f: 2.0 * _losses.gram_matrix(f),
        style_loss=lambda g, a, w=None: tf.add_n([tf.reduce_mean(tf.abs(g[n] - a[n])) for n in g]),
        total_variation_loss=lambda x: tf.reduce_mean(tf.square(x[:, 1:] - x[:, :-1])),
    )


def _total(
    features: Mapping[str, tf.Tensor],
    targets: Mapping[str, Mapping[str, tf.Tensor]],
    image: tf.Tensor,
    weights: Sequence[float],
    losses: Any = _losses,
    *,
    average: bool = True,
    raw_gram: bool = False,
    gram_of_targets: bool = False,
    style_over_layers: bool = False,
) -> tf.Tensor:
    """Reference: alpha * content + beta * style + gamma * tv; the keywords give wrong versions."""
    alpha, beta, gamma = weights
    content_targets = targets["content"]
    content = tf.add_n([losses.content_loss(features[n], p) for n, p in content_targets.items()])
    if average:
        content = content / len(content_targets)
    grams = {n: losses.gram_matrix(features[n]) for n in targets["style"]}
    if raw_gram:  # G * M_l: the Gram matrix without the division by the number of positions
        grams = {n: g * float(np.prod(features[n].shape[1:3])) for n, g in grams.items()}
    style_targets = targets["style"]
    if gram_of_targets:
        style_targets = {n: losses.gram_matrix(a) for n, a in style_targets.items()}
    style = losses.style_loss(grams, style_targets)
    if style_over_layers:
        style = style / len(grams)
    return alpha * content + beta * style + gamma * losses.total_variation_loss(image)


def _reweighted(change: Callable[[float, float, float], tuple[float, float, float]]):
    """A wrong answer: the right terms with the weights ``change(alpha, beta, gamma)``."""
    return lambda f, t, x, w, losses=_losses: _total(f, t, x, change(*w), losses)


def check_total_loss(fn: Callable[..., Any]) -> bool:
    """Check ``fn(features, targets, image, weights, losses=nst)``: alpha * mean content loss over
    the content layers + beta * style loss of the Gram matrices + gamma * total variation."""
    maps, other = _maps(50), _maps(60)
    image = _random((1, 6, 5, 3), seed=70)
    one = _targets(other, ["layer_c"], ["layer_a", "layer_b"])
    two = _targets(other, ["layer_b", "layer_c"], ["layer_a", "layer_b", "layer_c"])
    permutations = [(0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)]
    return _run(
        Exercise(
            "total_loss",
            "the weighted sum of the three terms, content averaged over its layers, style "
            "from Gram matrices, and the loss functions passed as `losses`, on 4 cases",
            cases=[
                (
                    "one content layer, two style layers, weights (2, 3, 0.5)",
                    maps,
                    one,
                    image,
                    (2.0, 3.0, 0.5),
                ),
                (
                    "two content layers (average them), three style layers, weights (0.7, 10, 4)",
                    maps,
                    two,
                    image,
                    (0.7, 10.0, 4.0),
                ),
                (
                    "targets made from the image's own features (only gamma * tv is left)",
                    other,
                    two,
                    image,
                    (1.0, 2.0, 3.0),
                ),
                (
                    "other loss functions passed as `losses`, weights (2, 3, 0.5)",
                    maps,
                    one,
                    image,
                    (2.0, 3.0, 0.5),
                    _other_losses(),
                ),
            ],
            reference=_total,
            mistakes=[
                (
                    lambda f, t, x, w, losses=_losses: (
                        None if losses is _losses else _total(f, t, x, w)
                    ),
                    (
                        "you ignored the `losses` argument: call losses.content_loss, "
                        "losses.gram_matrix, losses.style_loss and losses.total_variation_loss "
                        "(not nst.<name>), so that the notebook can pass your own functions"
                    ),
                ),
                (
                    _reweighted(lambda a, b, g: (a, b, 0.0)),
                    "you forgot the total variation term: add gamma * total_variation_loss(image)",
                ),
                (
                    _reweighted(lambda a, b, g: (a, 0.0, g)),
                    "you forgot the style term: add beta * style_loss(Gram matrices, targets)",
                ),
                (
                    _reweighted(lambda a, b, g: (0.0, b, g)),
                    "you forgot the content term: add alpha * (the mean of the content losses)",
                ),
                *(
                    (_reweighted(lambda *w, p=p: tuple(w[i] for i in p)), _WRONG_TERMS)
                    for p in permutations
                ),
                (
                    _reweighted(lambda a, b, g: (1.0, 1.0, 1.0)),
                    "you added the three terms without their weights: multiply them by alpha, "
                    "beta and gamma from `weights`",
                ),
                (
                    _reweighted(lambda a, b, g: _DEFAULT_WEIGHTS),
                    "you used fixed weights (1, 5e-4, 1e4): take alpha, beta and gamma from the "
                    "`weights` argument",
                ),
                (
                    partial(_total, average=False),
                    "you added the content losses of the content layers: average them (divide "
                    "the sum by the number of content layers)",
                ),
                (
                    partial(_total, raw_gram=True),
                    "your Gram matrices are not normalized: use gram_matrix (which divides by "
                    "the number of positions H*W), as the style targets do",
                ),
                (
                    partial(_total, gram_of_targets=True),
                    "targets['style'] already holds Gram matrices: compare the Gram matrices of "
                    "the image's features with them directly, do not take their Gram matrix again",
                ),
                (
                    partial(_total, style_over_layers=True),
                    "you divided the style loss by the number of style layers: style_loss "
                    "already weights each layer by 1/L",
                ),
            ],
            arrays=lambda *args: args,
            shape_hint="return one number, alpha * content + beta * style + gamma * tv",
            show=lambda expected, got, *_: f"expected {float(expected):.6g}, got {float(got):.6g}",
        ),
        fn,
    )


# --------------------------------------------------------------------------- uploads (notebook 07)
def _upload_cases() -> list[tuple[str, Any, list[tuple[str, bytes]]]]:
    """(label, FileUpload value, expected pairs) for ipywidgets 7 (dict) and 8 (tuple of dicts)."""
    files = [("photo.jpg", b"\xff\xd8 a tiny jpeg"), ("style.png", b"\x89PNG a tiny png")]
    version8 = tuple(
        {
            "name": name,
            "type": "image/jpeg",
            "size": len(data),
            "last_modified": 0,
            "content": memoryview(data),
        }
        for name, data in files
    )
    version7 = {
        name: {"metadata": {"name": name, "type": "image/jpeg", "size": len(data)}, "content": data}
        for name, data in files
    }
    return [
        ("an empty upload of ipywidgets 8, ()", (), []),
        ("an empty upload of ipywidgets 7, {}", {}, []),
        ("two files in ipywidgets 8's shape (a tuple of dicts)", version8, files),
        ("two files in ipywidgets 7's shape (a dict by file name)", version7, files),
        ("one file in ipywidgets 8's shape", version8[:1], files[:1]),
    ]


def check_files_from_upload(fn: Callable[[Any], Any]) -> bool:
    """Check ``fn(value)``: a FileUpload value of ipywidgets 7 (dict) or 8 (tuple of dicts)
    -> list of (file name, bytes) pairs; [] when nothing was uploaded."""
    # Not through _run: the answer is a list of (name, bytes) pairs, right or wrong by equality,
    # so shapes, tolerances and "k times too large" mean nothing for it.
    for label, value, expected in _upload_cases():
        got = _call(fn, value)
        if got is None:
            raise ExerciseError(
                f"for {label} your function returned None: return a list (empty "
                "if nothing was uploaded)"
            )
        if not isinstance(got, (list, tuple)):
            raise ExerciseError(
                f"for {label} your function returned a {type(got).__name__}: "
                "return a list of (file name, bytes) pairs"
            )
        if len(got) != len(expected):
            raise ExerciseError(f"for {label} expected {len(expected)} pair(s), got {len(got)}")
        for pair, (name, data) in zip(got, expected):
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                raise ExerciseError(
                    f"for {label} each item must be a (file name, bytes) pair, got {pair!r:.80}"
                )
            if isinstance(pair[1], memoryview):
                raise ExerciseError(
                    f"for {label} the content is a memoryview: convert it with bytes(...)"
                )
            if pair[0] != name:
                raise ExerciseError(
                    f"for {label} expected the file name {name!r}, got {pair[0]!r:.80}"
                )
            if type(pair[1]) is not bytes or pair[1] != data:
                raise ExerciseError(
                    f"for {label} the content of {name!r} should be the file's "
                    f"bytes, got {pair[1]!r:.80}"
                )
    print(
        "✓ files_from_upload passed: empty uploads, and files in the shapes of ipywidgets 7 and 8"
    )
    return True


# --------------------------------------------------------------------------- colour (notebook 06)
def _mu(x: np.ndarray) -> np.ndarray:  # (1, H, W, 3) -> per-channel mean, (3,)
    return x.mean(axis=(0, 1, 2))


def _sd(x: np.ndarray) -> np.ndarray:  # (1, H, W, 3) -> per-channel std, (3,)
    return x.std(axis=(0, 1, 2))


def _match_mean_std(style: Any, content: Any, clip: bool = True) -> np.ndarray:
    """Reference: (1, H, W, 3) ``style`` with each channel shifted and scaled to the mean and std
    of that channel of ``content``."""
    s, c = np.asarray(style, np.float64), np.asarray(content, np.float64)
    matched = (s - _mu(s)) / _sd(s) * _sd(c) + _mu(c)
    return np.clip(matched, 0.0, 1.0) if clip else matched


def _colour_cases() -> list[tuple[str, tf.Tensor, tf.Tensor]]:
    """(label, style, content): one pair needs no clipping, the other does."""
    rng = np.random.default_rng(6)
    # The channels have different means and spreads.
    style = rng.uniform(0.0, 1.0, size=(1, 20, 30, 3)) * [0.4, 0.2, 0.6] + [0.3, 0.1, 0.2]
    content = rng.normal([0.6, 0.45, 0.35], [0.05, 0.08, 0.04], size=(1, 16, 24, 3)).clip(0, 1)
    # The content is contrasty, so some matched values leave [0, 1] and must be clipped.
    wide = rng.uniform(0.0, 1.0, size=(1, 12, 10, 3)) ** 2
    style2 = rng.uniform(0.4, 0.6, size=(1, 14, 18, 3))
    style2[0, 0, :4] = [[0.4, 0.4, 0.4], [0.6, 0.6, 0.6], [0.05, 0.5, 0.95], [0.95, 0.5, 0.05]]
    return [
        (label, tf.constant(s, tf.float32), tf.constant(c, tf.float32))
        for label, s, c in [
            ("a style image and a calm photo", style, content),
            ("a low-contrast style image and a contrasty photo", style2, wide),
        ]
    ]


def check_match_mean_std(fn: Callable[[tf.Tensor, tf.Tensor], Any]) -> bool:
    """Check ``fn(style, content)``: the style image with each RGB channel shifted and scaled to
    the content's per-channel mean and std, clipped to [0, 1], in the style's shape."""
    return _run(
        Exercise(
            "match_mean_std",
            "per-channel mean and std of the content, style's shape, clipped to "
            "[0, 1], on 2 pairs of images",
            cases=_colour_cases(),
            reference=_match_mean_std,
            mistakes=[
                (
                    lambda s, c: s[0],
                    (
                        "keep the batch axis (reduce over axes 0, 1, 2 for the "
                        "statistics, not the image itself)"
                    ),
                ),
                (
                    lambda s, c: c,
                    (
                        "that is the content's shape: recolour the style (the first "
                        "argument) with the content's statistics; did you swap the two?"
                    ),
                ),
                (
                    lambda s, c: np.clip((s - s.mean()) / s.std() * c.std() + c.mean(), 0, 1),
                    (
                        "you used one mean and one std for all three channels together: compute "
                        "them per "
                        "channel by reducing over axes (0, 1, 2) only (batch, height, width), so "
                        "that 3 "
                        "numbers remain"
                    ),
                ),
                (
                    lambda s, c: np.clip((s - _mu(s)) / _sd(c) * _sd(s) + _mu(c), 0, 1),
                    (
                        "the scale is upside down: divide by the style's std and multiply by the "
                        "content's "
                        "std"
                    ),
                ),
                (
                    lambda s, c: np.clip((s - _mu(s)) / _sd(s) ** 2 * _sd(c) ** 2 + _mu(c), 0, 1),
                    "you used the variance: use the standard deviation, tf.math.reduce_std",
                ),
                (
                    lambda s, c: np.clip((s - _mu(s)) / _sd(s) * _sd(c), 0, 1),
                    "add the content's mean after scaling: the result's mean must be the "
                    "content's mean",
                ),
                (
                    lambda s, c: np.clip(s / _sd(s) * _sd(c) + _mu(c), 0, 1),
                    "subtract the style's mean before scaling, then add the content's mean",
                ),
                (
                    lambda s, c: np.clip(s - _mu(s) + _mu(c), 0, 1),
                    "you only moved the mean: also scale by the content's std divided by the "
                    "style's std",
                ),
                (
                    lambda s, c: np.clip((s - _mu(s)) / _sd(s) + _mu(c), 0, 1),
                    "after dividing by the style's std, multiply by the content's std",
                ),
                (partial(_match_mean_std, clip=False), _OUTSIDE),
            ],
            symptoms=[
                (lambda got, s, c: got.min() < -1e-6 or got.max() > 1 + 1e-6, _OUTSIDE),
                (
                    lambda got, s, c: np.allclose(
                        [_mu(got), _sd(got)], [_mu(c), _sd(c)], atol=2e-3
                    ),
                    (
                        "the per-channel means and standard deviations are right, but the pixels "
                        "are not "
                        "a shift and scale of the style's pixels: each output channel must come "
                        "from the "
                        "same channel of the style alone, "
                        "(style_c - mean_c) / std_c * content_std_c + content_mean_c"
                    ),
                ),
            ],
            shape_hint="the result has the style image's shape",
            rtol=1e-3,
            atol=2e-3,
        ),
        fn,
    )


# --------------------------------------------------------------------------- instance norm (nb 08)
_SPATIAL = (1, 2)  # height and width of (B, H, W, C)


def _instance_norm(
    x: Any,
    gamma: Any,
    beta: Any,
    eps: float = 1e-5,
    axes: tuple[int, ...] = _SPATIAL,
    ddof: int = 0,
) -> np.ndarray:
    """Reference: gamma * (x - mean) / sqrt(var + eps) + beta, the mean and variance of each
    image's channels over ``axes`` (height and width); ``axes`` and ``ddof`` give wrong ones."""
    x = np.asarray(x, np.float64)
    mean = x.mean(axis=axes, keepdims=True)
    count = int(np.prod([x.shape[axis] for axis in axes]))
    variance = np.sum((x - mean) ** 2, axis=axes, keepdims=True) / (count - ddof)
    normalized = (x - mean) / np.sqrt(variance + eps)
    return np.asarray(gamma, np.float64) * normalized + np.asarray(beta, np.float64)


def _affine(
    combine: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
) -> Callable[..., np.ndarray]:
    """A wrong answer: the right normalization, then ``combine(normalized, gamma, beta)``."""
    return lambda x, g, b, eps=1e-5: combine(_instance_norm(x, 1.0, 0.0, eps), g, b)


def _scaled_by(
    divide: Callable[[np.ndarray, float], np.ndarray], centre: bool = True
) -> Callable[..., np.ndarray]:
    """A wrong answer: gamma * (x - mean) / divide(variance, eps) + beta (per image and channel;
    without the mean subtracted when not ``centre``)."""

    def wrong(x: np.ndarray, g: np.ndarray, b: np.ndarray, eps: float = 1e-5) -> np.ndarray:
        mean = x.mean(axis=_SPATIAL, keepdims=True)
        variance = x.var(axis=_SPATIAL, keepdims=True)
        return g * ((x - mean) if centre else x) / divide(variance, eps) + b

    return wrong


def _norm_cases() -> list[tuple[Any, ...]]:
    """(label, x, gamma, beta[, eps]) for the instance norm check."""
    rng = np.random.default_rng(80)
    # (1, 1, 2, 2): channel 0 is [1, 3] (mean 2, variance 1), channel 1 is [10, 30] (20, 100)
    hand = tf.constant([[[[1.0, 10.0], [3.0, 30.0]]]])
    # Two images whose channels have very different means and spreads.
    first = rng.uniform(0.0, 1.0, size=(4, 5, 3))
    second = rng.uniform(0.0, 1.0, size=(4, 5, 3)) * [3.0, 0.2, 8.0] + [2.0, -1.0, 0.5]
    batch = tf.constant(np.stack([first, second]), tf.float32)
    gamma = tf.constant([1.5, 0.5, -2.0])
    beta = tf.constant([0.25, -1.0, 3.0])
    # A channel with a variance of about 3e-6, below eps = 1e-5: there eps matters.
    flat = rng.uniform(0.0, 1.0, size=(1, 3, 4, 2))
    flat[..., 1] = 0.01 + 0.0017 * rng.standard_normal((1, 3, 4))
    flat = tf.constant(flat, tf.float32)
    pair = (tf.constant([2.0, 0.5]), tf.constant([-0.5, 1.0]))
    constant = np.array(flat)
    constant[..., 0] = 0.3  # a flat channel: normalized it is 0, so the result is beta
    return [
        (
            "a hand-made 1x2 image with channels [1, 3] and [10, 30] (each normalizes to "
            "about [-1, 1]), gamma (2, 1), beta (0.5, 0)",
            hand,
            tf.constant([2.0, 1.0]),
            tf.constant([0.5, 0.0]),
        ),
        ("a batch of two 4x5x3 images with different statistics", batch, gamma, beta),
        ("a channel with a variance of about 3e-6, below eps (there eps matters)", flat, *pair),
        ("eps=0.1 passed as the fourth argument", flat, *pair, 0.1),
        ("a constant channel (its result is beta)", tf.constant(constant, tf.float32), *pair),
    ]


def check_instance_norm(fn: Callable[..., Any]) -> bool:
    """Check ``fn(x, gamma, beta, eps=1e-5)``: each image's channels normalized over height and
    width, ``gamma * (x - mean) / sqrt(var + eps) + beta``; x (B, H, W, C), gamma, beta (C,)."""
    over = "reduce over axes 1 and 2 only (height and width), with keepdims=True"
    return _run(
        Exercise(
            "instance_norm",
            "per-image, per-channel mean and variance over height and width, eps inside the "
            "square root, then gamma and beta, on 5 cases",
            cases=_norm_cases(),
            reference=_instance_norm,
            mistakes=[
                (
                    partial(_instance_norm, axes=(0, 1, 2)),
                    "you normalized over the batch too (that is batch normalization): each image "
                    "gets its own mean and variance; " + over,
                ),
                (
                    partial(_instance_norm, axes=(1, 2, 3)),
                    "you normalized over the channels too (that is layer normalization): each "
                    "channel gets its own mean and variance; " + over,
                ),
                (
                    partial(_instance_norm, axes=(3,)),
                    "you normalized across the channels at each pixel: normalize each channel "
                    "over the pixels instead; " + over,
                ),
                (
                    partial(_instance_norm, axes=(1,)),
                    "you normalized over one spatial axis only: " + over,
                ),
                (
                    partial(_instance_norm, axes=(2,)),
                    "you normalized over one spatial axis only: " + over,
                ),
                (
                    partial(_instance_norm, ddof=1),
                    "you used the sample variance (divided by H*W - 1): use the plain variance, "
                    "the mean of the squared deviations, as tf.nn.moments computes it",
                ),
                (
                    _scaled_by(lambda var, eps: np.sqrt(var)),
                    "you forgot eps: divide by sqrt(variance + eps); eps keeps a flat channel "
                    "(variance 0) from dividing by zero",
                ),
                (
                    _scaled_by(lambda var, eps: np.sqrt(var) + eps),
                    "eps belongs inside the square root: sqrt(variance + eps), not "
                    "sqrt(variance) + eps",
                ),
                (
                    _scaled_by(lambda var, eps: var + eps),
                    "divide by the standard deviation sqrt(variance + eps), not by the variance",
                ),
                (
                    lambda x, g, b, eps=1e-5: None if eps == 1e-5 else _instance_norm(x, g, b),
                    "you ignored the eps argument (always 1e-5?): use the eps that is passed in",
                ),
                (
                    _scaled_by(lambda var, eps: np.sqrt(var + eps), centre=False),
                    "subtract each channel's mean before dividing by its standard deviation",
                ),
                (
                    _scaled_by(lambda var, eps: 1.0),
                    "you subtracted the mean but did not divide by sqrt(variance + eps)",
                ),
                (
                    _affine(lambda n, g, b: n + b),
                    "you forgot gamma: multiply the normalized values by gamma (one per channel)",
                ),
                (
                    _affine(lambda n, g, b: g * n),
                    "you forgot beta: add it after multiplying by gamma",
                ),
                (
                    _affine(lambda n, g, b: n),
                    "you forgot gamma and beta: return gamma * normalized + beta",
                ),
                (
                    _affine(lambda n, g, b: b * n + g),
                    "gamma and beta are swapped: gamma scales and beta shifts, "
                    "gamma * normalized + beta",
                ),
                (
                    _affine(lambda n, g, b: g * (n + b)),
                    "add beta after multiplying by gamma: gamma * normalized + beta, not "
                    "gamma * (normalized + beta)",
                ),
            ],
            shape_hint="the result has the input's shape (B, H, W, C)",
            rtol=1e-3,
            atol=1e-4,
        ),
        fn,
    )


# --------------------------------------------------------------------------- checkerboards (nb 08)
def _overlap(height: int, width: int, kernel: int, stride: int) -> np.ndarray:
    """Reference: for a transposed convolution of a (height, width) input, how many (input
    pixel, kernel tap) pairs land on each output pixel; shape ((height - 1) * stride + kernel,
    (width - 1) * stride + kernel). Input pixel (i, j) covers the kernel x kernel square whose
    top-left corner is (i * stride, j * stride)."""
    counts = np.zeros(((height - 1) * stride + kernel, (width - 1) * stride + kernel))
    for i in range(height):
        for j in range(width):
            counts[i * stride : i * stride + kernel, j * stride : j * stride + kernel] += 1
    return counts


def _overlap_1d(length: int, kernel: int, stride: int) -> np.ndarray:
    return _overlap(1, length, kernel, stride)[0]


def check_transposed_overlap(fn: Callable[[int, int, int, int], Any]) -> bool:
    """Check ``fn(height, width, kernel, stride)``: how many kernel taps of a transposed
    convolution (all-ones input and kernel) land on each output pixel."""
    return _run(
        Exercise(
            "transposed_overlap",
            "output size (n - 1) * stride + kernel, overlaps counted per pixel, on 6 cases",
            cases=[
                (
                    "a 2x3 input, kernel 3, stride 2 (expected 5x7: the counts 1, 1, 2, 1, 1 "
                    "down the rows times 1, 1, 2, 1, 2, 1, 1 across the columns)",
                    2,
                    3,
                    3,
                    2,
                ),
                ("a 3x4 input, kernel 3, stride 2 (a checkerboard of 1, 2 and 4)", 3, 4, 3, 2),
                ("a 4x3 input, kernel 4, stride 2 (even overlap inside)", 4, 3, 4, 2),
                ("a 2x3 input, kernel 2, stride 2 (no overlap: all ones)", 2, 3, 2, 2),
                ("a 2x2 input, kernel 1, stride 3 (holes: zeros between the taps)", 2, 2, 1, 3),
                ("a 3x3 input, kernel 3, stride 1 (an ordinary 'full' convolution)", 3, 3, 3, 1),
            ],
            reference=_overlap,
            mistakes=[
                (
                    lambda h, w, k, s: _overlap(h, w, k, 1),
                    "you moved the kernel by one output pixel per input pixel: with stride s, "
                    "input pixel i's kernel starts at output position i * s",
                ),
                (
                    lambda h, w, k, s: _overlap(h, w, k, s)[: h * s, : w * s],
                    "the output is cut to height * stride rows (as padding='same' does): "
                    "keep every pixel a kernel tap reaches, (height - 1) * stride + kernel rows "
                    "and (width - 1) * stride + kernel columns",
                ),
                (
                    lambda h, w, k, s: _overlap(w, h, k, s),
                    "height and width are swapped: the rows of the output come from the height",
                ),
                (
                    lambda h, w, k, s: _overlap(h, w, k, s) / k**2,
                    "count the taps (each one adds 1): do not divide by the kernel's size",
                ),
                (
                    lambda h, w, k, s: _overlap_1d(h, k, s)[:, None] + _overlap_1d(w, k, s),
                    "in 2D the overlaps multiply, they do not add: a pixel is reached by (the "
                    "rows that reach its row) x (the columns that reach its column)",
                ),
                (
                    lambda h, w, k, s: np.tile(_overlap_1d(w, k, s), ((h - 1) * s + k, 1)),
                    "you counted the overlaps along the width only: rows overlap too, and the "
                    "two counts multiply",
                ),
                (
                    lambda h, w, k, s: np.tile(_overlap_1d(h, k, s)[:, None], (w - 1) * s + k),
                    "you counted the overlaps along the height only: columns overlap too, and "
                    "the two counts multiply",
                ),
            ],
            shape_hint="the output has (height - 1) * stride + kernel rows and "
            "(width - 1) * stride + kernel columns",
        ),
        fn,
    )


# --------------------------------------------------------------------------- AdaIN (nb 09)
def _moments(x: np.ndarray, axes=_SPATIAL, ddof: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of each image's channels over ``axes`` (kept as size-1 axes)."""
    mean = x.mean(axis=axes, keepdims=True)
    count = int(np.prod([x.shape[axis] for axis in axes]))
    return mean, np.sum((x - mean) ** 2, axis=axes, keepdims=True) / (count - ddof)


def _adain(
    content: Any,
    style: Any,
    eps: float = 1e-5,
    axes: tuple[int, ...] = _SPATIAL,
    ddof: int = 0,
    deviation: Callable[[np.ndarray, float], np.ndarray] = lambda v, eps: np.sqrt(v + eps),
) -> np.ndarray:
    """Reference: deviation(style) * (content - mean(content)) / deviation(content) +
    mean(style), per image and channel over ``axes``; the keywords give wrong answers."""
    content, style = np.asarray(content, np.float64), np.asarray(style, np.float64)
    (c_mean, c_var), (s_mean, s_var) = _moments(content, axes, ddof), _moments(style, axes, ddof)
    return deviation(s_var, eps) * (content - c_mean) / deviation(c_var, eps) + s_mean


def _wrong_adain(**mistake: Any) -> Callable[..., np.ndarray | None]:
    """:func:`_adain` with one mistake; None where it cannot be computed (shapes that do not
    broadcast: the statistics over one axis of a style of another size)."""

    def wrong(content: Any, style: Any, eps: float = 1e-5) -> np.ndarray | None:
        try:
            return _adain(content, style, eps, **mistake)
        except ValueError:
            return None

    return wrong


def _adain_cases() -> list[tuple[Any, ...]]:
    """(label, content, style[, eps]) for the AdaIN check."""
    rng = np.random.default_rng(90)
    # (1, 1, 2, 1): the content [1, 3] (mean 2, deviation 1) takes the style [10, 30] (20, 10)
    hand = (tf.constant([[[[1.0], [3.0]]]]), tf.constant([[[[10.0], [30.0]]]]))
    content = rng.normal(2.0, 3.0, size=(2, 4, 5, 3)) * [1.0, 0.1, 5.0]
    style = rng.gamma(2.0, 1.5, size=(2, 4, 6, 3)) * [[[[0.5, 4.0, 1.0]]], [[[2.0, 0.2, 9.0]]]]
    pair = (tf.constant(content, tf.float32), tf.constant(style, tf.float32))
    flat = np.array(content[:1])
    flat[..., 1] = 0.01 + 0.0017 * rng.standard_normal((1, 4, 5))  # variance ~3e-6 < eps
    return [
        (
            "a hand-made case: content [1, 3] (mean 2, deviation 1) and style [10, 30] (mean 20, "
            "deviation 10) give [10, 30]",
            *hand,
        ),
        ("a batch of two, contents and styles of one size", pair[0], pair[1][:, :, :5, :]),
        ("a batch of two, the styles of another height and width than the contents", *pair),
        (
            "a content channel with a variance of about 3e-6, below eps (there eps matters)",
            tf.constant(flat, tf.float32),
            pair[1][:1],
        ),
        ("eps=0.1 passed as the third argument", tf.constant(flat, tf.float32), pair[1][:1], 0.1),
    ]


def check_adain(fn: Callable[..., Any]) -> bool:
    """Check ``fn(content_features, style_features, eps=1e-5)``: the content features with each
    channel's mean and standard deviation (over height and width, per image) replaced by the
    style's, eps added to both variances inside the square root."""
    over = "compute the statistics over axes 1 and 2 only (height and width), per image"
    return _run(
        Exercise(
            "adain",
            "the style's per-channel means and deviations, per image, eps inside both square "
            "roots, on 5 cases",
            cases=_adain_cases(),
            reference=_adain,
            mistakes=[
                (
                    lambda c, s, eps=1e-5: _adain(s, c, eps) if c.shape == s.shape else None,
                    "the content and the style are swapped: keep the content's features and "
                    "give them the style's statistics",
                ),
                (
                    _wrong_adain(axes=(0, 1, 2)),
                    "you took the statistics over the whole batch: " + over,
                ),
                (
                    _wrong_adain(axes=(1, 2, 3)),
                    "you mixed the channels into one mean and deviation: " + over,
                ),
                (_wrong_adain(axes=(1,)), "you used one spatial axis only: " + over),
                (_wrong_adain(axes=(2,)), "you used one spatial axis only: " + over),
                (
                    _wrong_adain(ddof=1),
                    "you used the sample variance (divided by H*W - 1): use the plain variance, "
                    "as tf.nn.moments computes it",
                ),
                (
                    _wrong_adain(deviation=lambda v, eps: np.sqrt(v)),
                    "you forgot eps: take sqrt(variance + eps) for both deviations",
                ),
                (
                    _wrong_adain(deviation=lambda v, eps: np.sqrt(v) + eps),
                    "eps belongs inside the square root: sqrt(variance + eps), not "
                    "sqrt(variance) + eps",
                ),
                (
                    _wrong_adain(deviation=lambda v, eps: v + eps),
                    "use standard deviations (square roots of the variances), not variances",
                ),
                (
                    lambda c, s, eps=1e-5: None if eps == 1e-5 else _adain(c, s),
                    "you ignored the eps argument (always 1e-5?): use the eps that is passed in",
                ),
                (
                    lambda c, s, eps=1e-5: _adain(c, s, eps) - _moments(s)[0],
                    "add the style's mean at the end: the result's mean must be the style's",
                ),
                (
                    lambda c, s, eps=1e-5: _adain(c, s, eps) - _moments(s)[0] + _moments(c)[0],
                    "you kept the content's mean: add the style's mean instead",
                ),
                (
                    lambda c, s, eps=1e-5: c - _moments(c)[0] + _moments(s)[0],
                    "you only moved the means: also divide by the content's deviation and "
                    "multiply by the style's",
                ),
                (
                    lambda c, s, eps=1e-5: _adain(
                        c, s, eps, deviation=lambda v, e: 1 / np.sqrt(v + e)
                    ),
                    "the scale is upside down: divide by the content's deviation and multiply "
                    "by the style's",
                ),
            ],
            shape_hint="the result has the content features' shape (B, H, W, C)",
            rtol=1e-3,
            atol=1e-4,
        ),
        fn,
    )


# --------------------------------------------------------------------- image addresses (nb 11)
_PAGE = "http://example.org/art/room/page.html"
_WEB = ("http", "https")
_ADDRESS_PAGES = [
    (
        "a page whose links and images are relative to its address",
        """<html><body>
        <a href="../b.jpg">the big one</a>
        <img src="a.png" alt="a">
        <a href="next.html">next page</a>
        <img src="/icons/c.gif" alt="">
        </body></html>""",
    ),
    (
        "two <img> with a srcset (widths in w; densities in x, none meaning 1x)",
        """<img src="fallback.jpg" srcset="m.jpg 800w, xl.jpg 1600w, s.jpg 480w, l.jpg 1200w">
        <img src="one.png" srcset="one.png, two.png 2x, one-half.png 1.5x">""",
    ),
    (
        'a page with <base href="https://images.example.net/gallery/">',
        """<html><head><base href="https://images.example.net/gallery/"></head><body>
        <img src="c.png"><a href="/d.jpeg">d</a><img src="//cdn.example.org/e.webp">
        </body></html>""",
    ),
    (
        'a page with a relative <base href="../media/">',
        """<html><head><base href="../media/"></head><body>
        <img src="f.png"><a href="sketches/g.tif">g</a>
        </body></html>""",
    ),
    (
        "addresses that are not http(s): data:, javascript:, mailto:, ftp:, file:",
        """<img src="data:image/png;base64,iVBORw0KGgo=">
        <a href="javascript:void(0)">zoom</a>
        <a href="mailto:curator@example.org">write to us</a>
        <a href="ftp://example.org/h.png">h</a>
        <img src="file:///C:/Users/me/i.png">
        <img src="j.png">""",
    ),
    (
        "the same image four times, once with a #fragment",
        """<img src="k.png"><a href="k.png">k</a><a href="k.png#detail">detail</a>
        <img src="http://example.org/art/room/k.png"><img src="m.png">""",
    ),
    (
        "links to an upper-case .JPG, to a .jpg with a ?query, to text and to a folder",
        """<a href="PHOTO.JPG">photo</a> <a href="print.jpg?size=large">print</a>
        <a href="notes.txt">notes</a> <a href="folder/">folder</a>""",
    ),
    ("a page without images", "<html><body><p>Nothing to see here.</p></body></html>"),
]


def _address_cases() -> list[tuple[str, str, str]]:
    """(label, html, page address) for the image_addresses check."""
    return [(label, html, _PAGE) for label, html in _ADDRESS_PAGES]


def _page_images(
    html: str,
    page_url: str,
    base: str = "resolved",
    srcset: str = "largest",
    links: str = "images",
    suffix: str = "path",
    web_only: bool = True,
    defrag: bool = True,
    once: bool = True,
    order: str = "page",
) -> list[str]:
    """The image addresses of a page as :func:`nst_helpers.collect.image_addresses` finds
    them; each keyword other than its default gives a typical mistake: ``base`` "ignored" or
    "raw" (not resolved against the page), ``srcset`` "src", "first", "last" or "all",
    ``links`` "none" or "all", ``suffix`` "case" (case-sensitive) or "url" (of the whole
    address), no ``web_only`` filter, no ``defrag``, not ``once``, ``order`` "kinds" (the
    images first, then the links)."""
    from html.parser import HTMLParser
    from urllib.parse import urldefrag, urljoin, urlsplit

    from .collect import IMAGE_SUFFIXES, srcset_candidates

    tags: list[tuple[str, dict[str, str]]] = []

    class Tags(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            tags.append((tag, {name: (value or "").strip() for name, value in attrs}))

    Tags(convert_charrefs=True).feed(html)
    given = next((a["href"] for tag, a in tags if tag == "base" and a.get("href")), None)
    start = {"resolved": urljoin(page_url, given or ""), "raw": given, "ignored": None}[base]
    start = start or page_url
    found: list[tuple[str, str]] = []
    for tag, attributes in tags:
        candidates = srcset_candidates(attributes.get("srcset", ""))
        if tag == "img" and candidates and srcset != "src":
            largest = [max(candidates, key=lambda pair: pair[1])]
            chosen = {"largest": largest, "first": candidates[:1], "last": candidates[-1:]}
            found += [("img", address) for address, _ in chosen.get(srcset, candidates)]
        elif tag == "img" and attributes.get("src"):
            found.append(("img", attributes["src"]))
        elif tag == "a" and attributes.get("href") and links != "none":
            found.append(("a", attributes["href"]))
    if order == "kinds":
        found.sort(key=lambda pair: pair[0] != "img")
    urls = []
    for kind, raw in found:
        url = urljoin(start, raw)
        url = urldefrag(url)[0] if defrag else url
        if web_only and urlsplit(url).scheme not in _WEB:
            continue
        path = urlsplit(url).path
        name = {"path": path.lower(), "case": path, "url": url.lower()}[suffix]
        if kind == "a" and links == "images" and not name.endswith(tuple(IMAGE_SUFFIXES)):
            continue
        if not once or url not in urls:
            urls.append(url)
    return urls


_NOT_WEB = (
    "drop the addresses that are not http:// or https:// (data:, javascript:, mailto:, ftp:, "
    "file:): keep a resolved address only when urlsplit(url).scheme is 'http' or 'https'"
)
_ONCE = "list each address once, where it first appears (skip one that is already in the list)"
_FRAGMENT = (
    "remove the #fragment: 'k.png#detail' is the image 'k.png' (urllib.parse.urldefrag(url)[0], "
    "before comparing with the addresses already found)"
)
_ORDER = (
    "the right addresses in another order: keep the page's order, one pass through the tags "
    "with each <img> and <a> where it comes"
)
_ADDRESS_MISTAKES: list[tuple[dict[str, Any], str]] = [
    (
        {"base": "ignored"},
        "the page has a <base href>: resolve the addresses against it (itself resolved against "
        "page_url), not against page_url",
    ),
    (
        {"base": "raw"},
        "resolve a relative <base href> against page_url first, urljoin(page_url, base), then "
        "the page's addresses against the result",
    ),
    (
        {"srcset": "src"},
        "when an <img> has a srcset, take the address of its largest candidate instead of src",
    ),
    (
        {"srcset": "first"},
        "take the largest candidate of a srcset (max by its size), not the first one",
    ),
    (
        {"srcset": "last"},
        "take the largest candidate of a srcset (max by its size), not the last one: the "
        "candidates need not be sorted",
    ),
    ({"srcset": "all"}, "take only the largest candidate of a srcset, not every candidate"),
    (
        {"links": "none"},
        "also keep the <a href> links to image files (whose path ends in an image suffix)",
    ),
    (
        {"links": "all"},
        "keep an <a href> only when its path ends in an image suffix: a link to a page, a "
        "text or a folder is no image",
    ),
    (
        {"suffix": "case"},
        "compare the suffix in lower case: 'PHOTO.JPG' is an image too (path.lower())",
    ),
    (
        {"suffix": "url"},
        "test the suffix of the address's path, urlsplit(url).path, not of the whole "
        "address: 'print.jpg?size=large' is an image",
    ),
    ({"web_only": False}, _NOT_WEB),
    ({"once": False}, _ONCE),
    ({"defrag": False}, _FRAGMENT),
    ({"order": "kinds"}, _ORDER),
]
"""(keywords of :func:`_page_images` that give a typical mistake, message)."""


def _relative(url: str) -> bool:
    from urllib.parse import urlsplit

    return not urlsplit(url).scheme


_ADDRESS_SYMPTOMS: list[tuple[Callable[[list[str], list[str]], bool], str]] = [
    (
        lambda got, expected: any(_relative(url) for url in got),
        "some addresses are not absolute ({example!r}): resolve each one with "
        "urllib.parse.urljoin(base, address), where base is page_url or the page's <base href> "
        "resolved against page_url",
    ),
    (
        lambda got, expected: any(_scheme(url) not in _WEB for url in got),
        _NOT_WEB,
    ),
    (lambda got, expected: any("#" in url for url in got), _FRAGMENT),
    (lambda got, expected: len(set(got)) < len(got), _ONCE),
    (lambda got, expected: sorted(got) == sorted(expected), _ORDER),
]
"""(test of the answer and the right one, message), tried after the mistakes."""


def _scheme(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).scheme


def _address_list(got: Any, label: str) -> list[str]:
    """The answer as a list of str, or an ExerciseError saying what it is instead."""
    if got is None:
        raise ExerciseError(_NONE)
    if isinstance(got, (set, frozenset, dict)):
        raise ExerciseError(
            f"for {label} your function returned a {type(got).__name__}: return a list, in the "
            "page's order"
        )
    if not isinstance(got, (list, tuple)):
        raise ExerciseError(
            f"for {label} your function returned a {type(got).__name__}: return a list of "
            "addresses (str)"
        )
    wrong = next((item for item in got if not isinstance(item, str)), None)
    if wrong is not None:
        raise ExerciseError(
            f"for {label} the list holds a {type(wrong).__name__} ({wrong!r:.80}): each "
            "address is a str"
        )
    return list(got)


def _address_diagnosis(got: list[str], expected: list[str], html: str, page: str) -> str:
    """A named mistake, else a symptom, else what is missing and what should not be there."""
    for mistake, message in _ADDRESS_MISTAKES:
        if _page_images(html, page, **mistake) == got:
            return message
    example = next((url for url in got if url not in expected), got[0] if got else "")
    for test, message in _ADDRESS_SYMPTOMS:
        if test(got, expected):
            return message.format(example=example)
    missing = [url for url in expected if url not in got]
    extra = [url for url in got if url not in expected]
    parts = [f"missing {missing}"] if missing else []
    parts += [f"not expected {extra}"] if extra else []
    return f"expected {expected}, got {got}" + (f" ({'; '.join(parts)})" if parts else "")


def check_image_addresses(fn: Callable[[str, str], Any]) -> bool:
    """Check ``fn(html, page_url)``: the absolute http(s) addresses of the images a page shows
    (``<img src>``, or its ``srcset``'s largest candidate) or links to (``<a href>`` whose path
    ends in an image suffix), resolved against ``page_url`` or the page's ``<base href>``,
    without ``#fragments``, each once, in page order; as
    :func:`nst_helpers.collect.image_addresses`."""
    # Not through _run: the answer is a list of addresses, right or wrong by equality.
    from .collect import image_addresses

    for label, html, page in _address_cases():
        got = _address_list(_call(fn, html, page), label)
        expected = image_addresses(html, page)
        if got != expected:
            raise ExerciseError(f"on {label}: " + _address_diagnosis(got, expected, html, page))
    print(
        f"✓ image_addresses passed: {len(_ADDRESS_PAGES)} pages (relative addresses, srcset, "
        "<base href>, other schemes, duplicates and #fragments, link suffixes)"
    )
    return True


# --------------------------------------------------------------------- warping (nb 10)
def _warp(
    image: Any,
    flow: Any,
    sign: float = 1.0,
    swap: bool = False,
    sample: str = "bilinear",
    outside: str = "clamp",
) -> np.ndarray:
    """Reference: ``image`` (H, W, C) read at ``p + flow(p)`` for every pixel ``p``, bilinearly,
    the points clamped to the border (as :func:`nst_helpers.flow.warp_array`). The keywords
    give wrong answers: ``sign=-1`` (p - flow), ``swap`` (dx and dy exchanged), ``sample``
    ``"nearest"``, ``"floor"`` or ``"swapped weights"``, ``outside="zero"``."""
    image, flow = np.asarray(image, np.float64), np.asarray(flow, np.float64)
    height, width = image.shape[:2]
    rows, columns = np.mgrid[0:height, 0:width]
    dx, dy = (flow[..., 1], flow[..., 0]) if swap else (flow[..., 0], flow[..., 1])
    x, y = columns + sign * dx, rows + sign * dy
    inside = ((x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1))[..., np.newaxis]
    x, y = np.clip(x, 0, width - 1), np.clip(y, 0, height - 1)
    if sample in ("nearest", "floor"):
        pick = np.rint if sample == "nearest" else np.floor
        warped = image[pick(y).astype(int), pick(x).astype(int)]
    else:
        x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
        x1, y1 = np.minimum(x0 + 1, width - 1), np.minimum(y0 + 1, height - 1)
        wx, wy = (x - x0)[..., np.newaxis], (y - y0)[..., np.newaxis]
        if sample == "swapped weights":
            wx, wy = 1 - wx, 1 - wy
        top = (1 - wx) * image[y0, x0] + wx * image[y0, x1]
        bottom = (1 - wx) * image[y1, x0] + wx * image[y1, x1]
        warped = (1 - wy) * top + wy * bottom
    return warped * inside if outside == "zero" else warped


def _warp_cases() -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(label, image (H, W, C), flow (H, W, 2)) for the warp check, float32."""
    rng = np.random.default_rng(10)
    row = np.array([0.0, 10.0, 20.0, 30.0]).reshape(1, 4, 1)
    column = np.array([0.0, 10.0, 20.0]).reshape(3, 1, 1)
    square = np.array([[0.0, 10.0], [20.0, 30.0]]).reshape(2, 2, 1)
    square_flow = np.zeros((2, 2, 2))
    square_flow[0, 0], square_flow[0, 1] = (0.5, 0.5), (-1.0, 1.0)
    cases = [
        (
            "a row of four pixels [0, 10, 20, 30] and the flow (1.75, 0.25) everywhere, which "
            "gives [17.5, 27.5, 30, 30] (x + 1.75 past the right edge is clamped to it, y to "
            "the only row)",
            row,
            np.broadcast_to([1.75, 0.25], (1, 4, 2)),
        ),
        (
            "a column of three pixels [0, 10, 20] (top to bottom) and the flow (0.5, -0.25): "
            "[0, 7.5, 17.5]",
            column,
            np.broadcast_to([0.5, -0.25], (3, 1, 2)),
        ),
        (
            "a 2x2 image [[0, 10], [20, 30]]: pixel (x=0, y=0) reads the centre (0.5, 0.5), 15; "
            "pixel (x=1, y=0) reads (0, 1), 20; the bottom row does not move",
            square,
            square_flow,
        ),
        (
            "a random 5x7 colour image and a random flow of up to 2.5 pixels, some points "
            "outside the image",
            rng.uniform(0.0, 1.0, size=(5, 7, 3)),
            rng.uniform(-2.5, 2.5, size=(5, 7, 2)),
        ),
    ]
    return [(label, np.float32(image), np.float32(flow)) for label, image, flow in cases]


def check_warp_image(fn: Callable[[np.ndarray, np.ndarray], Any]) -> bool:
    """Check ``fn(image, flow)``: the image ``(H, W, C)`` read at ``p + flow(p)`` for every pixel
    ``p`` (``flow[..., 0]`` is dx, the column offset; ``flow[..., 1]`` is dy, the row offset),
    with bilinear interpolation and the points clamped to the border, as
    :func:`nst_helpers.flow.warp_array`."""

    def guarded(image: np.ndarray, flow: np.ndarray) -> Any:
        try:
            return fn(image, flow)
        except IndexError as error:
            raise ExerciseError(
                f"your function raised IndexError: {error}; an index went past the image: clamp "
                "the coordinates to [0, W - 1] and [0, H - 1], take x1 = min(x0 + 1, W - 1) "
                "(and y1 alike), and index the image as image[y, x] (row, then column)"
            ) from error

    clamp = "clamp the coordinates to the border, np.clip(x, 0, W - 1), so the edge pixels repeat"
    return _run(
        Exercise(
            "warp_image",
            "bilinear samples at p + flow(p), clamped to the border, on 4 cases",
            cases=_warp_cases(),
            reference=_warp,
            mistakes=[
                (
                    partial(_warp, sign=-1.0),
                    "you read the image at p - flow(p): this flow is backward, the pixel p of "
                    "the new frame shows what the old one shows at p + flow(p) (add the flow)",
                ),
                (
                    partial(_warp, swap=True),
                    "dx and dy are swapped: flow[..., 0] is dx, the column (x) offset, and "
                    "flow[..., 1] is dy, the row (y) offset",
                ),
                (
                    partial(_warp, sample="nearest"),
                    "you rounded to the nearest pixel: interpolate bilinearly between the four "
                    "pixels around (x, y)",
                ),
                (
                    partial(_warp, sample="floor"),
                    "you took the pixel at (floor(x), floor(y)) without interpolating: mix it "
                    "with its right, lower and lower-right neighbours, weighted by wx = x - x0 "
                    "and wy = y - y0",
                ),
                (
                    partial(_warp, sample="swapped weights"),
                    "the interpolation weights are the wrong way round: the pixel at x0 = "
                    "floor(x) gets 1 - wx and the one at x0 + 1 gets wx, with wx = x - x0 (and "
                    "alike in y)",
                ),
                (
                    partial(_warp, outside="zero"),
                    "the points outside the image came out as 0: " + clamp,
                ),
                (
                    lambda image, flow: image,
                    "the result is the image itself: read the image at p + flow(p), not at p",
                ),
            ],
            shape_hint="the warped image has the image's shape (H, W, C)",
        ),
        guarded if callable(fn) else fn,
    )
