"""The style studio, driven headlessly: build, change a control, Run, Stop, Save, bad upload;
where it runs (``mode``) and the widget-event polling, which does nothing outside a kernel."""

import io
import json
import sys
import threading
import types
from contextlib import contextmanager

import numpy as np
import pytest
from PIL import Image

from nst_helpers import widgets
from nst_helpers.errors import NSTError
from nst_helpers.settings import StyleSettings
from nst_helpers.widgets import StyleStudio, next_free_path, uploaded_files


@pytest.fixture
def studio(tmp_path, extractor):
    studio = StyleStudio(output_dir=tmp_path / "results", extractor=extractor)
    studio.size.value, studio.steps.value = 48, 3
    return studio


def png_of(array) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def test_uploaded_files_reads_both_ipywidgets_shapes():
    v8 = ({"name": "a.png", "type": "image/png", "size": 3, "content": memoryview(b"abc")},)
    v7 = {"b.jpg": {"metadata": {"name": "b.jpg"}, "content": b"xyz"}}
    assert uploaded_files(v8) == [("a.png", b"abc")]
    assert uploaded_files(v7) == [("b.jpg", b"xyz")]
    assert uploaded_files(()) == [] and uploaded_files({}) == []


def test_studio_builds_with_library_and_defaults(studio):
    # Tübingen and The Starry Night are chosen when they can be had (the mirror, the cache or
    # the network), else the first image of each list that can.
    for picker, wanted in ((studio.content, "tubingen"), (studio.style, "starry_night")):
        if wanted in picker.images:
            assert picker.label == wanted
        else:
            assert picker.label == next(iter(picker.images))
    assert "golden_gate" not in studio.content.images  # test-only rights stay out of class
    assert len(studio.style.images) >= 3  # the generated textures are always there
    assert studio.stop_button.disabled and studio.save_button.disabled


def test_changing_controls_changes_the_settings(studio):
    studio.style.select("mosaic")
    studio.style_weight.value = 1e-3
    studio.blend_with.value = "swirls"
    studio.blend.value = 0.75
    settings = studio.settings()
    assert isinstance(settings, StyleSettings) and settings.style_weight == pytest.approx(1e-3)
    assert studio.style_names() == ["mosaic", "swirls"] and settings.style_blend == (0.75, 0.25)
    assert (settings.size, settings.steps) == (48, 3)


def test_keep_colours_shows_no_at_the_start_and_after_going_back(studio):
    # ipywidgets 8 shows an empty box for a value of None: "no" must stay a real choice.
    colours = studio.preserve_colors
    assert colours.label == "no" and studio.settings().preserve_colors is None
    colours.value = "luminance"
    assert studio.settings().preserve_colors == "luminance"
    colours.index = 0
    assert colours.label == "no" and studio.settings().preserve_colors is None
    studio.apply(StyleSettings(preserve_colors="histogram"))
    assert colours.label == "histogram"
    studio.apply(StyleSettings())
    assert colours.label == "no" and studio.settings().preserve_colors is None


def test_preview_keeps_its_shape_beside_the_loss_plot(studio):
    rows = studio.widget.children
    row = next(child for child in rows if studio.preview in getattr(child, "children", ()))
    assert row.layout.align_items == "flex-start"  # the default, stretch, distorts the preview


def test_run_then_save_writes_png_and_json_without_overwriting(studio, tmp_path):
    studio.style.select("swirls")
    studio.run()
    studio.wait(timeout=300)
    assert not studio.running and len(studio.history) == 1
    result = studio.history[0].result
    assert result.image.shape[1:3] in [(36, 48), (48, 36), (48, 48)]
    assert studio.progress.value == studio.progress.max == 3 and result.steps == 3
    assert studio.preview.value and studio.loss_plot.value  # PNG bytes shown
    assert len(studio.comparison.children) == 1
    assert not studio.save_button.disabled

    first = studio.save()
    second = studio.save()
    assert first != second and first.exists() and second.exists()
    record = json.loads(first.with_suffix(".json").read_text())
    assert record["styles"] == ["swirls"] and record["result"]["steps_done"] == 3
    assert StyleSettings.from_dict(record) == result.settings and result.settings.size == 48
    # a file that is already there is never overwritten
    taken = next_free_path(first.parent)
    taken.write_bytes(b"mine")
    third = studio.save()
    assert taken.read_bytes() == b"mine" and third != taken


def test_stop_ends_the_run_early_with_the_best_image(studio):
    studio.steps.value = 200
    studio.optimizer.value = "adam"
    original = studio._on_step

    def press_stop_at_step_two(step, image, terms):
        if step == 2:
            studio.stop()  # what the Stop button's click does
        original(step, image, terms)

    studio._on_step = press_stop_at_step_two
    studio.run()
    studio.wait(timeout=300)
    run = studio.history[-1]
    assert run.result.stop_reason == "stopped" and run.result.steps == 2
    assert "stopped early" in studio.status.value
    assert np.isfinite(run.result.image.numpy()).all()


def test_bad_upload_shows_a_message_and_keeps_the_choice(studio):
    before = studio.content.label
    import datetime

    studio.content.upload.value = (
        {
            "name": "notes.jpg",
            "type": "image/jpeg",
            "size": 5,
            "content": memoryview(b"hello"),
            "last_modified": datetime.datetime.now(),
        },
    )
    assert studio.content.label == before
    assert (
        "notes.jpg" in studio.content.message.value
        and "not an image" in studio.content.message.value
    )


def test_good_upload_becomes_the_content(studio):
    y, x = np.mgrid[0:30, 0:40]
    photo = np.stack([x * 6, y * 8, 100 + 0 * x], -1).astype(np.uint8)
    studio.content.load_upload("me.png", png_of(photo))
    assert studio.content.label == "me.png" and studio.content.image.shape == (1, 30, 40, 3)
    assert studio.content.label == "me.png"


def test_save_before_any_run_is_refused(studio):
    with pytest.raises(NSTError, match="nothing to save"):
        studio.save()


def test_a_saved_json_sets_the_controls_and_repeats_the_run(studio, tmp_path):
    studio.style.select("mosaic")
    studio.blend_with.value, studio.blend.value = "swirls", 0.6
    studio.optimizer.value, studio.init.value, studio.style_weight.value = "adam", "noise", 1e-3
    studio.run(blocking=True)
    first = studio.history[-1].result
    path = studio.save()

    fresh = StyleStudio(output_dir=tmp_path / "other", extractor=studio.extractor)
    settings = fresh.load(path.with_suffix(".json"))
    assert settings == first.settings == fresh.settings()
    assert fresh.style.label == "mosaic" and fresh.style_names() == ["mosaic", "swirls"]
    fresh.run(blocking=True)
    again = fresh.history[-1].result
    np.testing.assert_allclose(again.image.numpy(), first.image.numpy(), atol=1e-6)


def test_bad_settings_show_a_message_instead_of_running(studio):
    studio.steps.value = 1
    studio.controls["steps"].value = 1
    studio.size.value = 32
    object.__setattr__(studio, "settings", lambda: StyleSettings(steps=0))
    studio.run()
    assert not studio.running and "steps must be" in studio.status.value


# ----------------------------------------------------------------------------- where it runs


class FakeKernel:
    """Stands in for an ipykernel: ``do_one_iteration`` as in ipykernel 6, and the request
    being handled (a button's ``comm_msg`` or a cell's ``execute_request``)."""

    def __init__(self, handling="comm_msg"):
        self.handling = handling

    async def do_one_iteration(self):
        pass

    def get_parent(self):
        return {"header": {"msg_type": self.handling}}


class FakeUiEvents:
    """Stands in for ``jupyter_ui_poll.ui_events()``: records polls and the release."""

    def __init__(self):
        self.polls, self.released = [], False

    def __enter__(self):
        return self.polls.append

    def __exit__(self, *exc):
        return False

    def _post_run_cell(self):
        self.released = True


def test_outside_a_kernel_auto_mode_uses_the_worker_thread(studio):
    assert widgets.running_kernel() is None and not widgets.kernel_can_poll()
    assert widgets.choose_mode() == "thread" and studio.mode == "thread"
    assert widgets.choose_mode("main") == "main" and widgets.choose_mode("thread") == "thread"
    with pytest.raises(NSTError, match="mode must be one of"):
        StyleStudio(mode="background")


def test_in_colab_auto_mode_steps_on_the_main_thread(monkeypatch):
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    assert widgets.in_colab() and widgets.choose_mode("auto") == "main"
    assert widgets.choose_mode("thread") == "thread"  # an explicit choice is kept


def test_polling_needs_do_one_iteration_and_no_ipykernel7_lock(monkeypatch):
    pytest.importorskip("jupyter_ui_poll")
    assert widgets.kernel_can_poll(FakeKernel())  # ipykernel 6, Colab's too
    ipykernel7 = FakeKernel()
    ipykernel7._main_asyncio_lock = object()
    assert not widgets.kernel_can_poll(ipykernel7)
    assert not widgets.kernel_can_poll(types.SimpleNamespace())  # no do_one_iteration
    ipykernel5 = types.SimpleNamespace(do_one_iteration=lambda: None)  # not a coroutine
    assert not widgets.kernel_can_poll(ipykernel5)
    monkeypatch.setattr(widgets, "running_kernel", lambda: FakeKernel())
    assert widgets.choose_mode("auto") == "main"


def test_widget_events_outside_a_kernel_is_a_poll_that_does_nothing(monkeypatch):
    ui_poll = pytest.importorskip("jupyter_ui_poll")

    def must_not_be_called():
        raise AssertionError("jupyter_ui_poll used outside a kernel")

    monkeypatch.setattr(ui_poll, "ui_events", must_not_be_called)
    with widgets.widget_events() as poll:
        assert poll(10) is None and poll() is None


@pytest.mark.parametrize("handling, released", [("comm_msg", True), ("execute_request", False)])
def test_widget_events_polls_with_jupyter_ui_poll_in_a_kernel(monkeypatch, handling, released):
    ui_poll = pytest.importorskip("jupyter_ui_poll")
    events = FakeUiEvents()
    monkeypatch.setattr(ui_poll, "ui_events", lambda: events)
    monkeypatch.setattr(widgets, "running_kernel", lambda: FakeKernel(handling))
    with widgets.widget_events() as poll:
        poll(10)
        poll(10)
    assert events.polls == [10, 10]
    # In a click handler the cells held back meanwhile are released when the run ends; in
    # a cell, jupyter-ui-poll releases them itself when the cell ends.
    assert events.released is released


def test_main_mode_handles_the_stop_click_between_steps(studio, monkeypatch):
    studio.mode = "main"
    studio.steps.value = 200
    studio.optimizer.value = "adam"
    threads, calls = [], []

    @contextmanager
    def one_click_waiting():
        def poll(count):
            threads.append(threading.current_thread())
            calls.append(count)
            if len(calls) == 3:  # after steps 0, 1, 2: the Stop click has arrived
                studio.stop_button.click()

        yield poll

    monkeypatch.setattr(widgets, "widget_events", one_click_waiting)
    studio.run()  # returns when the run has ended, on this thread
    assert studio._thread is None and not studio.running
    assert set(threads) == {threading.current_thread()}
    run = studio.history[-1]
    assert run.result.stop_reason == "stopped" and run.result.steps == 2
    assert calls == [widgets.POLL_EVENTS] * 3 and studio._poll is widgets._no_poll
    assert "stopped early" in studio.status.value and not studio.run_button.disabled


def test_main_mode_outside_a_kernel_just_runs(studio):
    studio.mode = "main"
    studio.run()
    studio.wait(timeout=1)  # nothing to wait for
    assert studio._thread is None and not studio.running and len(studio.history) == 1
    assert studio.history[0].result.steps == 3 and studio.progress.value == 3
    assert "Stop cannot be clicked" not in studio.status.value  # no kernel: no Stop button


def test_main_mode_gives_the_buttons_back_when_polling_cannot_start(studio, monkeypatch):
    @contextmanager
    def broken():
        raise RuntimeError("Nesting not supported")
        yield

    studio.mode = "main"
    monkeypatch.setattr(widgets, "widget_events", broken)
    with pytest.raises(RuntimeError):
        studio.run()
    assert not studio.running and not studio.run_button.disabled and studio.stop_button.disabled
