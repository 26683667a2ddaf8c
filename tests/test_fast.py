"""Real-time style transfer end to end (nst_helpers.fast): training a model that resumes,
its provenance, loading by name, file or checkpoint folder, and the two commands."""

import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from conftest import make_photo_folder
from nst_helpers.cli import main
from nst_helpers.errors import NSTError
from nst_helpers.fast import (
    checkpoint_folder,
    load_model,
    paint,
    shipped_models,
    train_fast,
)
from nst_helpers.realtime import TrainSettings

TINY = TrainSettings(steps=3, size=32, batch=2, style_size=64, checkpoint_every=2)
QUIET = dict(progress=False, log=lambda line: None)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A folder of two small photos and a striped painting."""
    return make_photo_folder(tmp_path_factory.mktemp("fast"))


@pytest.fixture(scope="module")
def trained(inputs):
    """A 3-step model, then the same run continued to 5 steps."""
    output = inputs / "stripes.npz"
    kwargs = dict(data=inputs / "photos", preview_every=2, **QUIET)
    train_fast(inputs / "stripes.png", output, TINY, **kwargs)
    first = json.loads(output.with_suffix(".json").read_text())
    more = TrainSettings(**{**TINY.as_dict(), "steps": 5})
    train_fast(inputs / "stripes.png", output, more, overwrite=True, **kwargs)
    return output, first, json.loads(output.with_suffix(".json").read_text())


def test_training_writes_the_model_its_provenance_and_previews(trained, inputs):
    output, first, _ = trained
    assert output.is_file() and first["width"] == "half"
    assert (
        first["style"]
        == {
            "file": "stripes.png",
            "sha256": first["style"]["sha256"],
        }
        and len(first["style"]["sha256"]) == 64
    )
    assert first["data"]["photos"] == ["photo0.png", "photo1.png"]
    assert first["train"]["steps"] == 3 and first["loss"]["style_weight"] == 5e-4
    assert first["seconds"] > 0 and first["hardware"] and first["tensorflow"] == tf.__version__
    assert set(first["final_loss"]) == {"content", "style", "tv", "total"}
    previews = sorted(p.name for p in checkpoint_folder(output).glob("preview_*.png"))
    assert previews[:1] == ["preview_000002.png"]


def test_running_again_with_more_steps_resumes(trained):
    output, first, again = trained
    assert again["train"]["steps"] == 5
    assert tf.train.latest_checkpoint(str(checkpoint_folder(output))).endswith("-5")
    assert again["seconds"] > first["seconds"]  # the time of both sessions


def test_other_settings_in_the_same_folder_are_refused(trained, inputs):
    output = trained[0]
    bigger = TrainSettings(**{**TINY.as_dict(), "size": 48})
    with pytest.raises(NSTError, match="other train"):
        train_fast(inputs / "stripes.png", output, bigger, data=inputs / "photos", overwrite=True)


def test_an_existing_model_is_not_overwritten_unless_asked(trained, inputs):
    before = trained[0].read_bytes()
    with pytest.raises(NSTError, match="exists"):
        train_fast(inputs / "stripes.png", trained[0], TINY, data=inputs / "photos", **QUIET)
    assert trained[0].read_bytes() == before


def test_the_model_loads_from_its_file_and_from_its_checkpoints(trained):
    output = trained[0]
    saved, record = load_model(output)
    latest, progress = load_model(checkpoint_folder(output))
    photo = tf.random.stateless_uniform((1, 37, 53, 3), seed=(1, 2))
    a, b = paint(saved, photo), paint(latest, photo)
    assert a.shape == (1, 37, 53, 3) and record["train"]["steps"] == 5
    assert progress["checkpoint"].endswith("-5")
    np.testing.assert_allclose(a, b, atol=2e-2)  # float16 copy vs float32 checkpoint


def test_unknown_models_name_the_shipped_ones():
    with pytest.raises(NSTError, match="shipped model"):
        load_model("no_such_model")


@pytest.mark.parametrize("name", sorted(shipped_models()))
def test_every_shipped_model_paints_and_says_where_it_came_from(name):
    network, record = load_model(name)
    for key in ("style", "data", "train", "loss", "seconds", "hardware", "commit", "date"):
        assert record[key] is not None, key
    assert (
        record["style"]["rights"].startswith("public domain") or "CC" in record["style"]["rights"]
    )
    photo = tf.image.resize(tf.random.stateless_uniform((1, 8, 8, 3), seed=(3, 4)), (192, 256))
    painted = paint(network, photo)
    assert painted.shape == photo.shape
    assert float(tf.reduce_mean(tf.abs(painted - photo))) > 0.05  # it paints, not copies


def test_there_are_three_shipped_models():
    assert len(shipped_models()) >= 3, "train them: scripts/train_shipped_models.py"


# ----------------------------------------------------------------------------- commands


def test_fast_command_paints_with_a_saved_model(trained, inputs, capsys):
    photo = inputs / "photos" / "photo0.png"
    out = inputs / "fast_out.png"
    assert main(["fast", str(photo), "--model", str(trained[0]), "-o", str(out)]) == 0
    assert Image.open(out).size == (64, 46)  # quick mode's 64 px, the photo's aspect ratio
    assert "Wrote" in capsys.readouterr().out
    assert main(["fast", str(photo), "--model", str(trained[0]), "-o", str(out)]) == 2
    assert "exists" in capsys.readouterr().err


def _train_fast_cases(root: Path) -> dict[str, tuple[list[str], str]]:
    model = str(root / "m.npz")
    return {
        "zero steps": (["stripes.png", "-o", model, "--steps", "0"], "--steps"),
        "text batch": (["stripes.png", "-o", model, "--batch", "two"], "not a whole number"),
        "bad width": (["stripes.png", "-o", model, "--width", "wide"], "--width"),
        "missing data": (["stripes.png", "-o", model, "--data", "nowhere"], "not a folder"),
        "png output": (["stripes.png", "-o", str(root / "m.png")], ".npz"),
        "no style": (["missing.png", "-o", model], "missing.png"),
        "negative weight": (["stripes.png", "-o", model, "--style-weight", "-1"], "style"),
    }


@pytest.mark.parametrize("case", sorted(_train_fast_cases(Path("."))))
def test_bad_train_fast_input_is_one_line_and_exit_2(inputs, case, capsys, monkeypatch):
    monkeypatch.chdir(inputs)
    args, expected = _train_fast_cases(inputs)[case]
    with pytest.raises(SystemExit) as stop:
        raise SystemExit(main(["train-fast", *args]))
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err and not (inputs / "m.npz").exists()


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--model", "no_such_model"], "no_such_model"),
        (["--size", "0"], "--size"),
    ],
)
def test_bad_fast_input_is_one_line_and_exit_2(inputs, args, expected, capsys):
    photo = str(inputs / "photos" / "photo1.png")
    out = str(inputs / "never.png")
    code = main(
        ["fast", photo, "-o", out, *(args if "--model" in args else ["--model", "x", *args])]
    )
    assert code == 2 and expected in capsys.readouterr().err
    assert not Path(out).exists()


def test_a_run_can_start_from_a_trained_model(trained, inputs):
    start, _ = load_model(trained[0])
    still = TrainSettings(**{**TINY.as_dict(), "steps": 1, "learning_rate": 1e-12})
    output = inputs / "continued.npz"
    train_fast(
        inputs / "stripes.png", output, still, data=inputs / "photos", init=trained[0], **QUIET
    )
    continued, record = load_model(output)
    photo = tf.random.stateless_uniform((1, 40, 40, 3), seed=(5, 6))
    np.testing.assert_allclose(paint(continued, photo), paint(start, photo), atol=1e-2)
    assert record["init"]["model"] == str(trained[0]) and record["init"]["record"]["train"]
    with pytest.raises(NSTError, match="width"):
        full = TrainSettings(**{**TINY.as_dict(), "width": "full"})
        train_fast(inputs / "stripes.png", inputs / "f.npz", full, init=trained[0], **QUIET)


def test_ctrl_c_keeps_the_steps_and_the_same_command_resumes(inputs):
    import signal
    import subprocess
    import sys
    import time

    args = ["stripes.png", "-o", "ctrl_c.npz", "--size", "32", "--batch", "2"]
    args += ["--style-size", "64", "--data", "photos", "--preview-every", "1", "--quiet"]
    command = [sys.executable, "-m", "nst_helpers", "train-fast", *args]
    process = subprocess.Popen(
        [*command, "--steps", "100000"], cwd=inputs, stdout=subprocess.PIPE, text=True
    )
    assert "Training" in process.stdout.readline()
    assert "VGG19 weights" in process.stdout.readline()
    second = inputs / "ctrl_c.checkpoints" / "preview_000002.png"  # written after step 2
    for _ in range(600):
        if second.exists():
            break
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=120)
    assert process.returncode == 3 and "run the same command again" in out
    latest = tf.train.latest_checkpoint(str(inputs / "ctrl_c.checkpoints"))
    done = int(latest.rsplit("-", 1)[1])
    assert done >= 2 and not (inputs / "ctrl_c.npz").exists()
    again = subprocess.run(
        [*command, "--steps", str(done + 2)], cwd=inputs, capture_output=True, text=True
    )
    assert again.returncode == 0 and "Resuming" in again.stdout, again.stderr[-500:]
    assert json.loads((inputs / "ctrl_c.json").read_text())["final_loss"]
    assert tf.train.latest_checkpoint(str(inputs / "ctrl_c.checkpoints")).endswith(f"-{done + 2}")
