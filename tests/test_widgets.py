"""The style studio, driven headlessly: build, change a control, Run, Stop, Save, bad upload."""

import io
import json

import numpy as np
import pytest
from PIL import Image

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
