"""Tests for nst_helpers.plotting, headless (Agg): loss curves, the live preview, feature maps."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from PIL import Image

from nst_helpers import plotting
from nst_helpers.errors import NSTError
from nst_helpers.optimize import StyleResult
from nst_helpers.plotting import LivePreview, plot_history, show_feature_maps
from nst_helpers.settings import StyleSettings


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def history(steps: int = 10, scale: float = 1.0, start: float = 0.0) -> pd.DataFrame:
    """A falling loss history shaped like StyleResult.history."""
    step = np.arange(1, steps + 1)
    return pd.DataFrame(
        {
            "step": step,
            "seconds": start + 0.5 * step,
            "total": scale * 100.0 / step,
            "content": scale * 10.0 / step,
            "style": scale * 1000.0 / step,
            "tv": np.full(steps, 0.1),
        }
    )


def lines_per_axes(fig) -> list[int]:
    """Curves with data in each panel (seaborn adds empty lines as legend handles)."""
    return [len(data_lines(ax)) for ax in fig.axes]


def data_lines(ax) -> list:
    return [line for line in ax.get_lines() if len(line.get_xdata())]


# --------------------------------------------------------------------------- plot_history


def test_one_history_gives_one_panel_per_term_and_one_line_each():
    fig = plot_history(history())
    assert len(fig.axes) == 4
    assert lines_per_axes(fig) == [1, 1, 1, 1]
    assert [ax.get_title() for ax in fig.axes][0].startswith("total")
    assert all(ax.get_yscale() == "log" for ax in fig.axes)
    assert fig.axes[0].get_legend() is None  # nothing to tell apart


def test_several_runs_give_one_line_per_run_and_a_legend():
    runs = {"Adam": history(12), "L-BFGS": history(5, scale=0.5), "noise": history(3)}
    fig = plot_history(runs, terms=("total", "style"), x="seconds", logy=False)
    assert len(fig.axes) == 2
    assert lines_per_axes(fig) == [3, 3]
    legend = fig.axes[0].get_legend()
    assert legend is not None
    assert sorted(t.get_text() for t in legend.get_texts()) == ["Adam", "L-BFGS", "noise"]
    assert fig.axes[0].get_xlabel() == "wall time (s)"
    assert fig.axes[0].get_yscale() == "linear"


def test_x_axis_uses_the_chosen_column():
    frame = history(4, start=100.0)
    fig = plot_history(frame, terms=["total"], x="seconds")
    xdata = data_lines(fig.axes[0])[0].get_xdata()
    np.testing.assert_allclose(np.asarray(xdata, float), frame["seconds"].to_numpy())
    fig = plot_history(frame, terms="total")  # a single name is accepted too
    np.testing.assert_allclose(
        np.asarray(data_lines(fig.axes[0])[0].get_xdata(), float), frame["step"].to_numpy()
    )


def test_a_style_result_is_accepted_and_zero_losses_do_not_break_the_log_axis():
    frame = history(5)
    frame.loc[0, "content"] = 0.0  # the content loss of the content image itself
    result = StyleResult(
        image=tf.zeros((1, 4, 4, 3)),
        history=frame,
        stop_reason=None,
        evaluations=5,
        weights_source=None,
        settings=StyleSettings(),
    )
    fig = plot_history({"run": result}, terms=("content",))
    line = data_lines(fig.axes[0])[0]
    assert list(line.get_xdata()) == [2, 3, 4, 5]  # the zero is left out
    assert np.all(np.asarray(line.get_ydata(), float) > 0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"terms": ("total", "sytle")}, "unknown loss term"),
        ({"terms": ()}, "terms is empty"),
        ({"x": "time"}, "x must be one of"),
    ],
)
def test_bad_arguments_raise_nst_error(kwargs, match):
    with pytest.raises(NSTError, match=match):
        plot_history(history(), **kwargs)


@pytest.mark.parametrize(
    "runs, match",
    [
        (
            pd.DataFrame(columns=["step", "seconds", "total", "content", "style", "tv"]),
            "empty history",
        ),
        ({}, "dict of runs is empty"),
        ([1.0, 2.0], "pass a StyleResult"),
        ({"a": history().drop(columns="tv")}, r"no column\(s\) \['tv'\]"),
    ],
)
def test_bad_histories_raise_nst_error(runs, match):
    with pytest.raises(NSTError, match=match):
        plot_history(runs)


# --------------------------------------------------------------------------- LivePreview


def test_live_preview_records_calls_without_ipython():
    preview = LivePreview(title="test")
    assert preview.enabled is False  # pytest is not an IPython kernel
    for step in (10, 20, 30):
        preview(step, tf.fill((1, 8, 12, 3), step / 100.0), {"total": 1.0 / step, "style": 2.0})
    assert preview.steps == [10, 20, 30]
    assert preview.terms[-1] == {"total": pytest.approx(1 / 30), "style": 2.0}
    assert preview.handle is None  # nothing was displayed
    assert preview.last_image.shape == (1, 8, 12, 3)
    np.testing.assert_allclose(preview.last_image, 0.3)
    assert list(preview.history.columns) == ["step", "total", "style"]
    assert len(preview.history) == 3


def test_live_preview_accepts_tensors_for_the_terms():
    preview = LivePreview()
    preview(2, tf.zeros((1, 4, 4, 3)), {"total": tf.constant(3.0), "content": tf.constant(1.0)})
    assert preview.terms == [{"total": 3.0, "content": 1.0}]


def test_live_preview_and_plot_history_with_a_real_stylize_run():
    from nst_helpers.optimize import stylize
    from nst_helpers.vgg import FeatureExtractor

    extractor = FeatureExtractor(["block1_conv1", "block1_conv2"], log=lambda line: None)
    y, x = np.mgrid[0:24, 0:32] / 31.0
    content = tf.constant(np.stack([x, y, 0.5 + 0 * x], -1)[None], tf.float32)
    style = tf.constant((np.sin(40 * x)[..., None] > 0).repeat(3, -1)[None], tf.float32)
    preview = LivePreview(title="tiny")
    result = stylize(
        content,
        style,
        steps=6,
        optimizer="adam",
        extractor=extractor,
        content_layers=["block1_conv2"],
        style_layers=["block1_conv1"],
        callback=preview,
        callback_every=2,
        progress=False,
    )
    assert preview.steps == [0, 2, 4, 6]  # step 0: the start image
    assert preview.last_image.shape == (1, 24, 32, 3)
    fig = plot_history({"adam": result, "again": result.history}, x="seconds")
    assert lines_per_axes(fig) == [2, 2, 2, 2]


def test_live_preview_displays_once_and_then_updates_in_place(monkeypatch):
    import IPython.display

    shown = []

    class Handle:
        def update(self, obj):
            shown.append(("update", obj))

    def fake_display(obj, display_id=False):
        shown.append(("display", obj))
        assert display_id is True
        return Handle()

    monkeypatch.setattr(IPython.display, "display", fake_display)
    preview = LivePreview(title="in place", enabled=True)
    for step in (1, 2, 3):
        preview(step, tf.random.uniform((1, 16, 24, 3)), {"total": 10.0 / step})
    assert [kind for kind, _ in shown] == ["display", "update", "update"]
    picture = shown[-1][1]
    assert isinstance(picture, IPython.display.Image)
    assert picture.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert plt.get_fignums() == []  # no pyplot figure that the notebook would show again


@pytest.mark.parametrize("show_loss", [True, False])
def test_live_preview_png_is_wider_with_the_loss_plot(show_loss):
    import io

    preview = LivePreview(show_loss=show_loss, size=2.0)
    preview(1, tf.zeros((1, 20, 20, 3)), {"total": 5.0})
    width, height = Image.open(io.BytesIO(preview.render_png())).size
    assert (width > 1.5 * height) == show_loss


def test_live_preview_without_an_image_says_so():
    with pytest.raises(NSTError, match="no image yet"):
        LivePreview().render_png()


# --------------------------------------------------------------------------- feature maps


@pytest.mark.parametrize(
    "n, ncols, expected_axes, rows",
    [
        (16, 8, 16, 2),
        (10, 4, 10, 3),  # 3 rows of 4, the two empty cells removed
        (5, 8, 5, 1),  # ncols shrinks to n
        (100, 8, 32, 4),  # n shrinks to the 32 channels there are
    ],
)
def test_feature_map_grid_size(n, ncols, expected_axes, rows):
    features = tf.random.uniform((1, 6, 9, 32))
    fig = show_feature_maps(features, n=n, ncols=ncols)
    assert len(fig.axes) == expected_axes
    assert {ax.get_subplotspec().get_gridspec().get_geometry()[0] for ax in fig.axes} == {rows}
    assert fig.axes[0].get_images()[0].get_array().shape == (6, 9)


def test_feature_maps_are_normalized_per_channel_and_constant_channels_are_safe():
    features = np.zeros((5, 7, 3), np.float32)
    features[..., 0] = np.arange(35).reshape(5, 7) * 100.0  # large values
    features[..., 1] = np.arange(35).reshape(5, 7) * 0.001  # tiny values
    features[..., 2] = 4.0  # constant
    fig = show_feature_maps(features, n=3, title="three")
    arrays = [np.asarray(ax.get_images()[0].get_array()) for ax in fig.axes]
    for array in arrays[:2]:
        assert array.min() == pytest.approx(0.0) and array.max() == pytest.approx(1.0)
    np.testing.assert_allclose(arrays[0], arrays[1], atol=1e-6)
    assert np.all(arrays[2] == 0.0)
    assert fig._suptitle.get_text() == "three"


def test_feature_maps_can_show_chosen_channels():
    features = np.zeros((1, 4, 4, 10), np.float32)
    features[0, 1, 2, 7] = 5.0
    fig = show_feature_maps(features, channels=[7, 2, 9])
    assert [ax.get_title() for ax in fig.axes] == ["channel 7", "channel 2", "channel 9"]
    assert np.asarray(fig.axes[0].get_images()[0].get_array())[1, 2] == 1.0
    assert fig._suptitle.get_text().startswith("3 chosen of 10 channels")


@pytest.mark.parametrize(
    "features, kwargs, match",
    [
        (np.zeros((2, 4, 4, 8)), {}, r"expected features of shape"),
        (np.zeros((4, 4)), {}, r"expected features of shape"),
        (np.zeros((1, 4, 4, 8)), {"n": 0}, "n must be a positive whole number"),
        (np.zeros((1, 4, 4, 8)), {"ncols": 2.5}, "ncols must be a positive whole number"),
        (np.zeros((1, 4, 4, 8)), {"channels": [3, 8]}, "channels must be indices from 0 to 7"),
        (np.zeros((1, 4, 4, 8)), {"channels": []}, "channels must be indices"),
    ],
)
def test_feature_maps_bad_input_raises_nst_error(features, kwargs, match):
    with pytest.raises(NSTError, match=match):
        show_feature_maps(features, **kwargs)


def test_plotting_module_is_cheap_to_import():
    """Matplotlib, seaborn and IPython are imported inside the functions only."""
    source = open(plotting.__file__, encoding="utf-8").read()
    top_level = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    heavy = ("matplotlib", "seaborn", "IPython")
    assert not any(name in line for line in top_level for name in heavy)
