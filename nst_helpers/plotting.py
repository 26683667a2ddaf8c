"""Plots for the notebooks: loss curves, a live preview of a run, and feature-map grids.

* :func:`plot_history` draws the loss terms of one or several runs of
  :func:`~nst_helpers.optimize.stylize` (their ``history`` DataFrames), one panel per
  term, against the step or the wall time.
* :class:`LivePreview` is a ``callback`` for ``stylize``: in Jupyter it shows the
  current image and the loss so far in ONE output area that is updated in place;
  elsewhere it only records what it was given.
* :func:`show_feature_maps` shows the first channels of a VGG feature map as a grid.

Matplotlib, seaborn and IPython are imported inside the functions, so importing this
module costs nothing.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .errors import NSTError
from .validate import positive_int

TERMS: tuple[str, ...] = ("total", "content", "style", "tv")
"""The loss columns of a ``StyleResult.history``."""

X_AXES: tuple[str, ...] = ("step", "seconds")
"""The columns :func:`plot_history` can put on the x axis."""

_TERM_TITLES = {
    "total": "total (weighted sum)",
    "content": "content loss",
    "style": "style loss",
    "tv": "total variation",
}


# --------------------------------------------------------------------------- loss curves


def _as_history(run: Any, label: str) -> pd.DataFrame:
    """A history DataFrame from a DataFrame or anything with a ``.history`` (a StyleResult)."""
    history = getattr(run, "history", run)
    if not isinstance(history, pd.DataFrame):
        raise NSTError(
            f"run {label!r} is a {type(run).__name__}; pass a StyleResult, its .history "
            "DataFrame, or a dict label -> one of those."
        )
    if history.empty:
        raise NSTError(f"run {label!r} has an empty history: the run recorded no steps.")
    return history


def _runs(history_or_dict: Any) -> dict[str, pd.DataFrame]:
    """Normalize the input of :func:`plot_history` to ``{label: DataFrame}``."""
    if isinstance(history_or_dict, Mapping):
        if not history_or_dict:
            raise NSTError("the dict of runs is empty; pass at least one label -> history.")
        return {str(label): _as_history(run, str(label)) for label, run in history_or_dict.items()}
    return {"": _as_history(history_or_dict, "history")}


def _check_columns(runs: Mapping[str, pd.DataFrame], terms: Sequence[str], x: str) -> None:
    """Raise NSTError for an unknown term or x axis, or a history that lacks a column."""
    if x not in X_AXES:
        raise NSTError(f"x must be one of {X_AXES}, not {x!r}.")
    if not terms:
        raise NSTError(f"terms is empty; choose some of {TERMS}.")
    unknown = [term for term in terms if term not in TERMS]
    if unknown:
        raise NSTError(f"unknown loss term(s) {unknown}; choose from {TERMS}.")
    for label, history in runs.items():
        missing = [column for column in (x, *terms) if column not in history.columns]
        if missing:
            name = f"run {label!r}" if label else "the history"
            raise NSTError(
                f"{name} has no column(s) {missing}; its columns are {list(history.columns)}."
            )


def _long_table(
    runs: Mapping[str, pd.DataFrame], terms: Sequence[str], x: str, logy: bool
) -> pd.DataFrame:
    """All runs stacked in long form: columns ``run``, ``x``, ``term``, ``value``."""
    parts = []
    for label, history in runs.items():
        part = history[[x, *terms]].melt(id_vars=x, var_name="term", value_name="value")
        part = part.rename(columns={x: "x"})
        part.insert(0, "run", label)
        parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    table["value"] = table["value"].astype(float)
    if logy:  # zero losses (e.g. the content loss of the content image) have no logarithm
        table.loc[table["value"] <= 0, "value"] = np.nan
    return table


def plot_history(
    history_or_dict: Any,
    terms: Sequence[str] = TERMS,
    x: str = "step",
    logy: bool = True,
    size: float = 3.2,
):
    """Loss curves of one or several runs, one panel per loss term; returns the ``Figure``.

    Args:
        history_or_dict: a ``StyleResult.history`` DataFrame (or the StyleResult), or a
            dict ``label -> history`` to compare runs, e.g. ``{"Adam": a, "L-BFGS": b}``.
        terms: which columns to plot, from ``("total", "content", "style", "tv")``.
        x: ``"step"`` or ``"seconds"`` (wall time since the start of the run).
        logy: logarithmic loss axis (zeros are left out there).
        size: width of one panel in inches.
    Raises:
        NSTError: unknown term or x axis, empty or malformed history.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    terms = [terms] if isinstance(terms, str) else list(terms)
    runs = _runs(history_or_dict)
    _check_columns(runs, terms, x)
    table = _long_table(runs, terms, x, logy)
    several = len(runs) > 1 or next(iter(runs)) != ""

    fig, axes = plt.subplots(1, len(terms), figsize=(size * len(terms), size * 0.8), squeeze=False)
    for ax, term in zip(axes.flat, terms):
        data = table[table["term"] == term]
        sns.lineplot(
            data=data,
            x="x",
            y="value",
            hue="run" if several else None,
            estimator=None,
            sort=False,
            ax=ax,
            legend=several and ax is axes.flat[0],
        )
        if logy:
            ax.set_yscale("log")
        ax.set_title(_TERM_TITLES[term])
        ax.set_xlabel("wall time (s)" if x == "seconds" else "step")
        ax.set_ylabel("loss" if ax is axes.flat[0] else "")
        ax.grid(True, which="major", alpha=0.3)
    legend = axes.flat[0].get_legend()
    if legend is not None:
        legend.set_title(None)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- live preview


def _in_ipython() -> bool:
    """True when running inside an IPython shell or Jupyter kernel."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None


class LivePreview:
    """A ``stylize`` callback that shows the current image in one output area, updated in place.

    Use::

        preview = LivePreview(title="Tübingen x Starry Night")
        result = nst.stylize(content, style, callback=preview, callback_every=10)

    In Jupyter the first call creates the output (``display(..., display_id=True)``)
    and later calls replace it (``handle.update``), so a run leaves one picture, not
    one per call. Outside IPython (scripts, tests) nothing is drawn. Either way every
    call is recorded: ``steps``, ``terms`` (one dict per call) and ``last_image``.

    Args:
        title: shown above the image, with the step and the loss.
        show_loss: draw the total loss so far next to the image.
        size: height of the picture in inches.
        enabled: draw (True), only record (False), or draw when in IPython (None).
    """

    def __init__(
        self,
        title: str | None = None,
        show_loss: bool = True,
        size: float = 4.0,
        enabled: bool | None = None,
    ):
        self.title = title
        self.show_loss = show_loss
        self.size = float(size)
        self.enabled = _in_ipython() if enabled is None else bool(enabled)
        self.steps: list[int] = []
        self.terms: list[dict[str, float]] = []
        self.last_image: np.ndarray | None = None
        self.handle = None  # IPython DisplayHandle after the first drawing

    def __call__(self, step: int, image, terms: Mapping[str, float]) -> None:
        """Record one call of ``stylize``'s callback and redraw the preview."""
        self.steps.append(int(step))
        self.terms.append({name: float(value) for name, value in terms.items()})
        self.last_image = np.asarray(image, dtype=np.float32)
        if self.enabled:
            self._draw()

    @property
    def history(self) -> pd.DataFrame:
        """What was recorded: one row per call with ``step`` and the loss terms."""
        return pd.DataFrame([{"step": s, **t} for s, t in zip(self.steps, self.terms)])

    def render_png(self) -> bytes:
        """The current preview as PNG bytes (no pyplot, so nothing else gets displayed)."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        from .images import to_uint8

        if self.last_image is None:
            raise NSTError("the preview has no image yet; it is drawn after the first callback.")
        pixels = to_uint8(self.last_image)
        height, width = pixels.shape[:2]
        image_width = self.size * width / height
        loss_width = self.size * 1.1 if self.show_loss else 0.0
        fig = Figure(figsize=(image_width + loss_width, self.size + 0.4))
        FigureCanvasAgg(fig)
        ratios = [image_width, loss_width] if self.show_loss else [image_width]
        axes = fig.subplots(1, len(ratios), width_ratios=ratios, squeeze=False).flat
        axes[0].imshow(pixels)
        axes[0].axis("off")
        total = self.terms[-1].get("total", float("nan"))
        heading = f"step {self.steps[-1]}, loss {total:.4g}"
        axes[0].set_title(f"{self.title}\n{heading}" if self.title else heading, fontsize=10)
        if self.show_loss:
            ax = axes[1]
            totals = [t.get("total", np.nan) for t in self.terms]
            ax.plot(self.steps, totals, marker="o", markersize=3)
            if all(value > 0 for value in totals):
                ax.set_yscale("log")
            ax.set_xlabel("step")
            ax.set_title("total loss", fontsize=10)
            ax.grid(True, alpha=0.3)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")  # keeps a long title
        return buffer.getvalue()

    def _draw(self) -> None:
        from IPython.display import Image, display

        picture = Image(data=self.render_png(), format="png")
        if self.handle is None:
            self.handle = display(picture, display_id=True)
        else:
            self.handle.update(picture)


# --------------------------------------------------------------------------- feature maps


def normalize_channels(features) -> np.ndarray:
    """Scale each channel of ``(H, W, C)`` features to [0, 1] (a constant channel becomes 0)."""
    array = np.asarray(features, dtype=np.float32)
    low = array.min(axis=(0, 1), keepdims=True)
    span = array.max(axis=(0, 1), keepdims=True) - low
    return np.where(span > 0, (array - low) / np.where(span > 0, span, 1.0), 0.0)


def show_feature_maps(
    features,
    n: int = 16,
    ncols: int = 8,
    title: str | None = None,
    size: float = 1.5,
    cmap: str = "viridis",
    channels: Sequence[int] | None = None,
):
    """The first ``n`` channels of a feature map as a grid of small images; returns the ``Figure``.

    Each channel is scaled to its own [0, 1] range, so the grid shows *where* a filter
    responds, not how strongly compared with the others.

    Args:
        features: ``(1, H, W, C)`` (a batch of one) or ``(H, W, C)``.
        n: how many channels (at most C); ``ncols`` per row.
        title: figure title; the default names the shape.
        size: side of one cell in inches.
        channels: show these channel indices instead of the first ``n`` (e.g. the most
            active ones); ``n`` is then ignored.
    """
    import matplotlib.pyplot as plt

    array = np.asarray(features, dtype=np.float32)
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 3:
        raise NSTError(
            f"expected features of shape (1, H, W, C) or (H, W, C), got {array.shape}; "
            "pass one layer's output for one image."
        )
    if channels is None:
        indices = list(range(min(positive_int(n, "n"), array.shape[-1])))
    else:
        indices = [int(c) for c in np.asarray(channels).ravel()]
        bad = [c for c in indices if not 0 <= c < array.shape[-1]]
        if not indices or bad:
            raise NSTError(
                f"channels must be indices from 0 to {array.shape[-1] - 1}, got {list(channels)!r}."
            )
    n = len(indices)
    ncols = min(positive_int(ncols, "ncols"), n)
    nrows = -(-n // ncols)
    maps = normalize_channels(array[..., indices])
    height, width = maps.shape[:2]
    fig, axes = plt.subplots(
        nrows, ncols, squeeze=False, figsize=(size * ncols, size * nrows * height / width + 0.5)
    )
    for index, ax in enumerate(axes.flat):
        if index >= n:
            ax.remove()
            continue
        ax.imshow(maps[..., index], cmap=cmap, vmin=0.0, vmax=1.0)
        ax.set_title(f"channel {indices[index]}", fontsize=8)
        ax.axis("off")
    if title is None:
        which = f"first {n}" if channels is None else f"{n} chosen"
        title = f"{which} of {array.shape[-1]} channels, {height}x{width} positions"
    fig.suptitle(title)
    fig.tight_layout()
    return fig
