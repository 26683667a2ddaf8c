"""The package's checks of single values, one of each, with the messages users see."""

from __future__ import annotations

import math
from numbers import Integral, Real

from .errors import NSTError


class SettingError(NSTError):
    """A bad value for one named setting; ``setting`` is its name (``style_weight``...).

    The command line reports it under the option's name (``--style-weight``).
    """

    def __init__(self, setting: str, message: str):
        super().__init__(message)
        self.setting = setting


def positive_int(value: object, name: str, low: int = 1, high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]``; bools, floats and text are refused."""
    if high is not None:
        wanted = f"a whole number between {low} and {high}"
    else:
        wanted = "a positive whole number" if low == 1 else f"a whole number of at least {low}"
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise SettingError(name, f"{name} must be {wanted}, not {value!r}")
    if value < low or (high is not None and value > high):
        raise SettingError(name, f"{name} must be {wanted}, not {value}")
    return int(value)


def finite_number(value: object, name: str, low: float = 0.0, strict: bool = False) -> float:
    """``value`` as a float that is finite in float32 and ``>= low`` (``> low`` if ``strict``)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise SettingError(name, f"{name} must be a number, not {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise SettingError(name, f"{name} must be a finite number, not {number}")
    if abs(number) > FLOAT32_MAX:
        raise SettingError(
            name,
            f"{name} = {number:g} is beyond float32's range "
            f"(at most {FLOAT32_MAX:.1e}); the loss would be infinite",
        )
    if number < low or (strict and number == low):
        raise SettingError(
            name, f"{name} must be {'>' if strict else '>='} {low:g}, not {number:g}"
        )
    return number


FLOAT32_MAX = 3.4028234663852886e38
