"""Watching a run: the loss history, the progress bar, previews, and ways to stop early.

A run stops early, keeping its best image, when the user presses Ctrl-C (or a notebook's
stop button, both ``KeyboardInterrupt``), when a callback raises :class:`StopRun`, when
``should_stop()`` returns True, or when ``max_seconds`` have passed. A loss that is not a
finite number stops the run with an :class:`NSTError`: nothing useful can follow it.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import numpy as np
import pandas as pd
import tensorflow as tf

from .errors import NSTError

HISTORY_COLUMNS = ["step", "seconds", "total", "content", "style", "tv", "size"]
Terms = dict[str, float]
Callback = Callable[[int, tf.Tensor, Terms], None]


class StopRun(Exception):
    """Raise it from a callback to end a run early; the best image so far is returned."""


class RunMonitor:
    """Records one row per step (row 0: the start image) and decides when to stop.

    Args:
        steps: the steps planned in all (for the progress bar).
        callback: ``callback(step, image, terms)`` every ``callback_every`` steps, step 0 too.
        should_stop: a callable polled after each step; True ends the run early.
        max_seconds: a time limit for the whole run, None for none.
        progress: show a progress bar (a widget in Jupyter, text in a terminal).
        shown: turns an image being optimized into the one the user sees (colour mode).
    """

    def __init__(
        self,
        steps: int,
        callback: Callback | None = None,
        callback_every: int = 1,
        should_stop: Callable[[], bool] | None = None,
        max_seconds: float | None = None,
        progress: bool = True,
        shown: Callable[[tf.Tensor], tf.Tensor] = tf.identity,
    ):
        from tqdm.auto import tqdm

        self.rows: list[dict] = []
        self.size = 0
        self.stop_reason: str | None = None
        self.callback, self.callback_every, self.shown = callback, max(1, callback_every), shown
        self.should_stop, self.max_seconds = should_stop, max_seconds
        self.start = time.perf_counter()
        self.bar = tqdm(
            total=steps,
            desc="stylizing",
            unit="step",
            disable=not progress,
            file=SafeStream(sys.stderr),
        )

    @property
    def stopped(self) -> bool:
        return self.stop_reason is not None

    def record(self, terms: Mapping[str, float], image: tf.Tensor, first: bool = False) -> None:
        """Add a row for ``image``; ``first`` marks a level's start, kept only for the run's."""
        if first and self.rows:
            return
        step = len(self.rows)
        _check_finite(terms, step)
        self.rows.append(
            {"step": step, "seconds": time.perf_counter() - self.start, **terms, "size": self.size}
        )
        if step:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{terms['total']:.4g}")
        if self.callback is not None and step % self.callback_every == 0:
            self.callback(step, self.shown(tf.convert_to_tensor(image)), dict(terms))
        self._stop_if_asked()

    def _stop_if_asked(self) -> None:
        if self.should_stop is not None and self.should_stop():
            raise StopRun("stopped")
        if self.max_seconds is not None and time.perf_counter() - self.start > self.max_seconds:
            raise StopRun(f"time limit of {self.max_seconds:g} s")

    @contextmanager
    def stoppable(self) -> Iterator[None]:
        """Turn Ctrl-C and :class:`StopRun` inside the block into ``stop_reason``."""
        try:
            yield
        except KeyboardInterrupt:
            self.stop_reason = "interrupted"
        except StopRun as stop:
            self.stop_reason = str(stop) or "stopped"

    def history(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=HISTORY_COLUMNS)

    def close(self) -> None:
        self.bar.close()

    def __enter__(self) -> RunMonitor:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _check_finite(terms: Mapping[str, float], step: int) -> None:
    total = terms["total"]
    if math.isfinite(total):
        return
    where = "for the start image" if step == 0 else f"at step {step}"
    raise NSTError(
        f"the loss is {total} {where}: a weight may be too large for float32, or the "
        "VGG19 weights or the images contain NaN or infinite values"
    )


def as_floats(terms: Mapping[str, tf.Tensor]) -> Terms:
    """Loss terms as Python floats."""
    return {name: float(np.asarray(value)) for name, value in terms.items()}


class SafeStream:
    """A text stream that goes quiet, instead of raising, once its reader has gone away
    (``python -m nst_helpers ... | head -c 100``): the run goes on and still saves its image."""

    def __init__(self, stream):
        self.stream, self.closed_pipe = stream, False

    def write(self, text: str) -> int:
        return self._quietly(self.stream.write, text) or len(text)

    def flush(self) -> None:
        self._quietly(self.stream.flush)

    def _quietly(self, method: Callable, *args):
        if self.closed_pipe:
            return None
        try:
            return method(*args)
        except (BrokenPipeError, ValueError):
            self.closed_pipe = True
            _silence(self.stream)
            return None

    def __getattr__(self, name: str):
        return getattr(self.stream, name)


def _silence(stream) -> None:
    """Point the stream's file descriptor at /dev/null, so that Python's flush at exit is quiet."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
