"""The command line: one real run end to end, and every bad input ending in one line, exit 2."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nst_helpers.cli import main
from nst_helpers.errors import NSTError

ROOT = Path(__file__).resolve().parent.parent


def start_cli(*args, cwd, **popen):
    """Start ``python -m nst_helpers`` in the background, its output piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "nst_helpers", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **popen,
    )


def run_cli(*args, cwd):
    """Run ``python -m nst_helpers`` as a user would (quick mode comes from conftest)."""
    return subprocess.run(
        [sys.executable, "-m", "nst_helpers", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def photos(tmp_path):
    y, x = np.mgrid[0:60, 0:80]
    content = np.stack([x * 3, y * 4, 128 + 0 * x], -1).astype(np.uint8)
    style = ((np.sin(x / 3.0) > 0)[..., None] * np.array([250, 200, 40])).astype(np.uint8)
    Image.fromarray(content).save(tmp_path / "content.png")
    Image.fromarray(style).save(tmp_path / "style.jpg")
    return tmp_path


def test_stylize_end_to_end_at_64_px_on_real_weights(photos):
    done = run_cli(
        "stylize",
        "content.png",
        "style.jpg",
        "--output",
        "out.png",
        "--size",
        "64",
        "--steps",
        "4",
        cwd=photos,
    )
    assert done.returncode == 0, done.stderr
    assert "VGG19 weights:" in done.stdout and "Wrote" in done.stdout
    assert "Traceback" not in done.stderr
    with Image.open(photos / "out.png") as result:
        assert result.size == (64, 48)
        pixels = np.asarray(result, dtype=np.float32)
    assert pixels.std() > 5  # an image, not a flat fill

    # A second run must not overwrite the result without --force.
    before = (photos / "out.png").read_bytes()
    again = run_cli(
        "stylize",
        "content.png",
        "style.jpg",
        "-o",
        "out.png",
        "--size",
        "64",
        "--steps",
        "2",
        cwd=photos,
    )
    assert again.returncode == 2 and "already exists" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1 and "Traceback" not in again.stderr
    assert (photos / "out.png").read_bytes() == before
    forced = run_cli(
        "stylize",
        "content.png",
        "style.jpg",
        "-o",
        "out.png",
        "--size",
        "64",
        "--steps",
        "2",
        "--force",
        "--quiet",
        cwd=photos,
    )
    assert forced.returncode == 0, forced.stderr


def test_controls_reach_the_run(photos):
    # Two styles blended, photo colours kept, masks, style scale and two coarse-to-fine levels:
    # the settings the run used (saved from its result) must carry every one of them.
    Image.new("L", (80, 60), 255).save(photos / "all.png")
    Image.new("L", (80, 60), 255).save(photos / "all2.png")
    done = run_cli(
        "stylize",
        "content.png",
        "--style",
        "style.jpg",
        "content.png",
        "--style-blend",
        "0.7",
        "0.3",
        "--mask",
        "all.png",
        "all2.png",
        "--preserve-colors",
        "luminance",
        "--pyramid",
        "2",
        "--style-scale",
        "1.5",
        "--size",
        "64",
        "--steps",
        "4",
        "-o",
        "controls.png",
        "--quiet",
        "--save-settings",
        "controls.json",
        cwd=photos,
    )
    assert done.returncode == 0, done.stderr
    used = json.loads((photos / "controls.json").read_text())["settings"]
    assert used["style_blend"] == [0.7, 0.3] and used["preserve_colors"] == "luminance"
    assert used["pyramid"] == 2 and used["style_scale"] == 1.5 and used["size"] == 64
    assert [Path(m).name for m in used["masks"]] == ["all.png", "all2.png"]
    with Image.open(photos / "controls.png") as result:
        assert result.size == (64, 48)
    again = run_cli(
        "stylize",
        "content.png",
        "--style",
        "style.jpg",
        "content.png",
        "--settings",
        "controls.json",
        "-o",
        "again.png",
        "--quiet",
        "--save-settings",
        "again.json",
        cwd=photos,
    )
    assert again.returncode == 0, again.stderr
    assert json.loads((photos / "again.json").read_text())["settings"] == used


def test_output_over_an_input_is_refused_even_with_force(photos):
    before = (photos / "content.png").read_bytes()
    os.symlink(photos / "content.png", photos / "link.png")
    for output in ("content.png", "link.png", "style.jpg"):
        done = run_cli(
            "stylize",
            "content.png",
            "style.jpg",
            "-o",
            output,
            "--force",
            "--steps",
            "1",
            cwd=photos,
        )
        assert done.returncode == 2 and "one of the inputs" in done.stderr, done.stderr
    assert (photos / "content.png").read_bytes() == before


def test_stopped_early_exits_3_with_the_best_image(photos):
    done = run_cli(
        "stylize",
        "content.png",
        "style.jpg",
        "-o",
        "out.png",
        "--steps",
        "100000",
        "--max-seconds",
        "8",
        "--optimizer",
        "adam",
        "--quiet",
        cwd=photos,
    )
    assert done.returncode == 3, done.stderr
    assert "stopped early" in done.stdout and (photos / "out.png").exists()


def test_ctrl_c_saves_the_best_image_and_exits_3(photos):
    process = start_cli(
        "stylize",
        "content.png",
        "style.jpg",
        "-o",
        "out.png",
        "--steps",
        "100000",
        "--optimizer",
        "adam",
        cwd=photos,
        text=True,
    )
    assert "VGG19 weights" in process.stdout.readline() + process.stdout.readline()
    time.sleep(6)  # some steps
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 3, err
    assert "stopped early: interrupted" in out and "Traceback" not in err
    assert (photos / "out.png").exists()


def test_ctrl_c_while_starting_up_is_one_line(photos):
    process = start_cli(
        "stylize", "content.png", "style.jpg", "-o", "out.png", cwd=photos, text=True
    )
    time.sleep(0.8)  # TensorFlow takes seconds to import
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130
    assert err.strip().splitlines() == ["error: interrupted while starting up; nothing was done"]
    assert not (photos / "out.png").exists()


def test_a_time_limit_reached_before_the_first_step_writes_nothing(photos):
    done = run_cli(
        "stylize",
        "content.png",
        "style.jpg",
        "-o",
        "out.png",
        "--max-seconds",
        "0.001",
        "--quiet",
        cwd=photos,
    )
    assert done.returncode == 130 and "nothing written" in done.stdout
    assert not (photos / "out.png").exists()


def test_a_closed_pipe_does_not_stop_the_run(photos):
    process = start_cli(
        "stylize", "content.png", "style.jpg", "-o", "out.png", "--steps", "2", cwd=photos
    )
    process.stdout.close()  # like `... | head -c 0`: the reader is gone
    err = process.stderr.read().decode()
    assert process.wait(timeout=300) == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err
    assert (photos / "out.png").exists()


def test_warnings_do_not_add_lines(photos, capsys, monkeypatch):
    import nst_helpers.cli as cli

    def warn_then_fail(args, say):
        warnings.warn("something deprecated", DeprecationWarning, stacklevel=1)
        warnings.warn("a user warning", stacklevel=1)
        raise NSTError("the one line")

    monkeypatch.setitem(cli.HANDLERS, "stylize", warn_then_fail)
    with warnings.catch_warnings():
        assert main(["stylize", "content.png", "style.jpg", "-o", "o.png"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == ["error: the one line"]


def _zero_width_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = (0).to_bytes(4, "big") + (5).to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def _bad_inputs(folder: Path) -> dict[str, tuple[list[str], str]]:
    (folder / "notes.jpg").write_text("this is text, not a picture")
    (folder / "empty.png").write_bytes(_zero_width_png())
    Image.new("1", (10_000, 6_000)).save(folder / "bomb.png")  # 60 megapixels, tiny file
    (folder / "a_file").write_text("x")
    Image.new("L", (40, 10), 255).save(folder / "wide_mask.png")  # content is 80x60
    Image.new("RGB", (1000, 10)).save(folder / "strip.png")
    if not (folder / "pipe.png").exists():
        os.mkfifo(folder / "pipe.png")
        os.symlink("/dev/zero", folder / "zero.png")
    ok = ["content.png", "style.jpg"]
    two = ["content.png", "--style", "style.jpg", "content.png"]
    return {
        "blend not summing to 1": (
            [*two, "-o", "o.png", "--style-blend", "0.7", "0.2"],
            "sum to 1",
        ),
        "blend count": ([*two, "-o", "o.png", "--style-blend", "1"], "one blend weight per style"),
        "mask of wrong size": ([*ok, "-o", "o.png", "--mask", "wide_mask.png"], "mask"),
        "style scale 0": ([*ok, "-o", "o.png", "--style-scale", "0"], "--style-scale"),
        "style twice": ([*ok, "--style", "style.jpg", "-o", "o.png"], "exactly once"),
        "no style": (["content.png", "-o", "o.png"], "exactly once"),
        "layer weights count": (
            [*ok, "-o", "o.png", "--style-layer-weights", "1", "2"],
            "5 numbers",
        ),
        "unknown layer": (
            [*ok, "-o", "o.png", "--content-layers", "block9_conv9"],
            "unknown VGG19 layer",
        ),
        "too many levels": ([*ok, "-o", "o.png", "--size", "64", "--pyramid", "4"], "too small"),
        "missing file": (["missing.jpg", "style.jpg", "-o", "o.png"], "No such file"),
        "not an image": (["notes.jpg", "style.jpg", "-o", "o.png"], "not an image"),
        "decompression bomb": (["bomb.png", "style.jpg", "-o", "o.png"], "pixels"),
        "zero-size image": (["content.png", "empty.png", "-o", "o.png"], "empty|zero|not an image"),
        "unwritable folder": ([*ok, "-o", "/proc/nst_out.png"], "not writable"),
        "folder is a file": ([*ok, "-o", "a_file/o.png"], "cannot save"),
        "size 0": ([*ok, "-o", "o.png", "--size", "0"], "--size"),
        "size text": ([*ok, "-o", "o.png", "--size", "big"], "not a whole number"),
        "steps negative": ([*ok, "-o", "o.png", "--steps", "-3"], "--steps"),
        "weight nan": ([*ok, "-o", "o.png", "--style-weight", "nan"], "--style-weight"),
        "weight negative": ([*ok, "-o", "o.png", "--tv-weight", "-1"], "--tv-weight"),
        "bad optimizer": ([*ok, "-o", "o.png", "--optimizer", "sgd"], "--optimizer"),
        "unknown name": (
            ["tubingen", "starry_nigth", "-o", "o.png"],
            "did you mean 'starry_night'",
        ),
        "bad weights": ([*ok, "-o", "o.png", "--weights", "nowhere.h5"], "--weights"),
        "bad suffix": ([*ok, "-o", "o.gif"], r"\.png"),
        "steps huge": ([*ok, "-o", "o.png", "--steps", "1000000000000"], "--steps"),
        "style list empty": (["content.png", "--style", "-o", "o.png"], "--style"),
        "input name too long": (["x" * 300 + ".png", "style.jpg", "-o", "o.png"], "too long"),
        "output name too long": ([*ok, "-o", "x" * 300 + ".png"], "too long"),
        "fifo as input": (["pipe.png", "style.jpg", "-o", "o.png"], "named pipe"),
        "device as input": (["zero.png", "style.jpg", "-o", "o.png"], "device"),
        "style scale too small": (
            [*ok, "-o", "o.png", "--size", "64", "--style-scale", "0.2"],
            "style_scale",
        ),
        "pyramid too deep": (
            [*ok, "-o", "o.png", "--size", "128", "--pyramid", "3", "--style-scale", "0.5"],
            "pyramid",
        ),
        "strip content": (["strip.png", "style.jpg", "-o", "o.png", "--size", "64"], "crop it"),
        "style weight overflow": ([*ok, "-o", "o.png", "--style-weight", "1e300"], "float32"),
        "settings file missing": ([*ok, "-o", "o.png", "--settings", "none.json"], "none.json"),
        "unknown network": ([*ok, "-o", "o.png", "--network", "scaled"], "normalized"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "blend not summing to 1",
        "blend count",
        "mask of wrong size",
        "style scale 0",
        "style twice",
        "no style",
        "layer weights count",
        "unknown layer",
        "too many levels",
        "missing file",
        "not an image",
        "decompression bomb",
        "zero-size image",
        "unwritable folder",
        "folder is a file",
        "size 0",
        "size text",
        "steps negative",
        "weight nan",
        "weight negative",
        "bad optimizer",
        "unknown name",
        "bad weights",
        "bad suffix",
        "steps huge",
        "style list empty",
        "input name too long",
        "output name too long",
        "fifo as input",
        "device as input",
        "style scale too small",
        "pyramid too deep",
        "strip content",
        "style weight overflow",
        "settings file missing",
        "unknown network",
    ],
)
def test_bad_input_gives_one_line_and_exit_2(photos, case, capsys, monkeypatch):
    args, pattern = _bad_inputs(photos)[case]
    monkeypatch.chdir(photos)
    with pytest.raises(SystemExit) as exited:
        raise SystemExit(main(["stylize", *args]))
    assert exited.value.code == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "error" in lines[0] and "Traceback" not in err
    assert re.search(pattern, lines[0]), lines[0]
    assert not (photos / "o.png").exists()


def test_bad_input_in_a_real_process_has_no_traceback(photos):
    done = run_cli("stylize", "missing.jpg", "style.jpg", "-o", "o.png", cwd=photos)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr


def test_list_names_the_built_in_images(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "starry_night" in out and "grace_hopper" in out and "mosaic" in out


def test_fetch_gets_weights_and_every_image(tmp_path, monkeypatch, capsys):
    if not os.environ.get("NST_DATA_MIRROR"):
        pytest.skip(
            "needs the local image mirror (NST_DATA_MIRROR); the network is not used in tests"
        )
    monkeypatch.setenv("NST_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["fetch"]) == 0
    out = capsys.readouterr().out
    assert "VGG19 weights:" in out
    for name in ("starry_night", "tubingen", "grace_hopper", "swirls"):
        assert f"{name}:" in out
