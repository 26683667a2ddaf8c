"""Any style in one pass end to end (nst_helpers.anystyle): painting with the controls,
training a decoder that resumes, the shipped decoder and the `arbitrary` command."""

import json

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from conftest import make_photo_folder
from nst_helpers.anystyle import SHIPPED_DECODER, AnyStyle, train_decoder
from nst_helpers.cli import main
from nst_helpers.data import load_content, load_style
from nst_helpers.decoder import build_decoder, build_encoder
from nst_helpers.errors import NSTError
from nst_helpers.realtime import TrainSettings

QUIET = dict(progress=False, log=lambda line: None)
RECONSTRUCTION_ERROR = 0.18  # measured 0.152 at 256 px; an untrained decoder gives 0.34
TINY = TrainSettings(steps=3, size=32, batch=2, style_size=64, checkpoint_every=2, width="half")


@pytest.fixture(scope="module")
def encoder():
    return build_encoder(log=lambda line: None)


@pytest.fixture(scope="module")
def untrained(encoder):
    """An encoder with a decoder of random weights: the controls' arithmetic, not pictures."""
    tf.keras.utils.set_random_seed(0)
    return AnyStyle(encoder, build_decoder("half"), {})


@pytest.fixture(scope="module")
def pictures():
    photo = tf.random.stateless_uniform((1, 37, 53, 3), seed=(1, 2))
    a = tf.random.stateless_uniform((1, 40, 40, 3), seed=(3, 4)) * [1.0, 0.3, 0.2]
    b = tf.random.stateless_uniform((1, 48, 32, 3), seed=(5, 6)) * [0.2, 0.4, 1.0]
    return photo, a, b


def test_any_size_comes_back_at_its_size(untrained, pictures):
    photo, a, _ = pictures
    painted = untrained.paint(photo, [a])
    assert painted.shape == photo.shape  # 37 x 53 is padded to 40 x 56 and cropped back
    assert 0 <= float(tf.reduce_min(painted)) and float(tf.reduce_max(painted)) <= 1


def test_alpha_zero_decodes_the_photos_own_features(untrained, pictures):
    photo, a, _ = pictures
    padded = tf.pad(photo, [[0, 0], [0, 3], [0, 3], [0, 0]], mode="REFLECT")
    own = untrained.decode(untrained.features(padded))[:, :37, :53, :]
    np.testing.assert_allclose(untrained.paint(photo, [a], alpha=0.0), own, atol=1e-5)
    assert float(tf.reduce_max(tf.abs(untrained.paint(photo, [a]) - own))) > 1e-3


def test_weights_and_masks_choose_between_paintings(untrained, pictures):
    photo, a, b = pictures
    only_a = untrained.paint(photo, [a])
    np.testing.assert_allclose(untrained.paint(photo, [a, b], weights=[1, 0]), only_a, atol=1e-5)
    np.testing.assert_allclose(
        untrained.paint(photo, [a, b], weights=[3, 0]), only_a, atol=1e-5
    )  # weights are normalised
    ones, zeros = np.ones((37, 53)), np.zeros((37, 53))
    np.testing.assert_allclose(
        untrained.paint(photo, [a, b], masks=[ones, zeros]), only_a, atol=1e-4
    )
    np.testing.assert_allclose(  # black everywhere: no style, the photo's own features
        untrained.paint(photo, [a, b], masks=[zeros, zeros]),
        untrained.paint(photo, [a], alpha=0.0),
        atol=1e-4,
    )
    mixed = untrained.paint(photo, [a, b])
    assert float(tf.reduce_max(tf.abs(mixed - only_a))) > 1e-3


def test_wct_and_keep_colours_change_the_result(untrained, pictures):
    photo, a, _ = pictures
    adain = untrained.paint(photo, [a])
    assert float(tf.reduce_max(tf.abs(untrained.paint(photo, [a], method="wct") - adain))) > 1e-3
    kept = untrained.paint(photo, [a], keep_colours=True)
    assert float(tf.reduce_max(tf.abs(kept - adain))) > 1e-3


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(method="gram"), "method"),
        (dict(alpha=1.5), "alpha"),
        (dict(weights=[1.0]), "weights"),
        (dict(weights=[1.0, -1.0]), "weights"),
        (dict(masks=[np.ones((37, 53))]), "one mask per painting"),
    ],
)
def test_bad_controls_are_refused(untrained, pictures, options, message):
    photo, a, b = pictures
    with pytest.raises(NSTError, match=message):
        untrained.paint(photo, [a, b], **options)


def test_no_painting_is_refused(untrained, pictures):
    with pytest.raises(NSTError, match="at least one painting"):
        untrained.paint(pictures[0], [])


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Two small photos and a striped painting."""
    return make_photo_folder(tmp_path_factory.mktemp("anystyle"))


def test_a_decoder_trains_resumes_and_records_how(folder):
    output = folder / "decoder.npz"
    kwargs = dict(data=folder / "photos", paintings=[folder / "stripes.png"], preview_every=2)
    train_decoder(output, TINY, **kwargs, **QUIET)
    record = json.loads(output.with_suffix(".json").read_text())
    assert record["width"] == "half" and record["train"]["steps"] == 3
    assert record["loss"] == {
        "kind": "adain",
        "style_weight": 10.0,
        "encoder": "normalized, reflection padding",
    }
    assert record["held_out"]["paintings"] == ["woman_with_hat", "udnie"]
    assert record["seconds"] > 0 and np.isfinite(record["final_loss"]["total"])
    checkpoints = folder / "decoder.checkpoints"
    assert (checkpoints / "preview_000002.png").is_file()
    with pytest.raises(NSTError, match="exists"):
        train_decoder(output, TINY, **kwargs, **QUIET)  # nothing overwritten unasked
    more = TrainSettings(**{**TINY.as_dict(), "steps": 4})
    train_decoder(output, more, overwrite=True, **kwargs, **QUIET)
    assert tf.train.latest_checkpoint(str(checkpoints)).endswith("-4")
    other = TrainSettings(**{**TINY.as_dict(), "steps": 5, "size": 48})
    with pytest.raises(NSTError, match="other train"):
        train_decoder(output, other, overwrite=True, **kwargs, **QUIET)
    from_file, from_folder = AnyStyle.load(output), AnyStyle.load(checkpoints)
    photo = tf.random.stateless_uniform((1, 40, 40, 3), seed=(7, 8))
    style = tf.random.stateless_uniform((1, 40, 40, 3), seed=(9, 1))
    np.testing.assert_allclose(  # float16 on disk: the same picture to within 1 %
        from_file.paint(photo, [style]), from_folder.paint(photo, [style]), atol=1e-2
    )


def test_loading_what_is_not_a_decoder_is_refused(tmp_path):
    with pytest.raises(NSTError, match="no decoder"):
        AnyStyle.load(tmp_path / "missing.npz")
    with pytest.raises(NSTError, match="no decoder checkpoints"):
        AnyStyle.load(tmp_path)
    (tmp_path / "broken.npz").write_bytes(b"not a zip")
    (tmp_path / "broken.json").write_text('{"width": "half"}')
    with pytest.raises(NSTError, match="not a saved network"):
        AnyStyle.load(tmp_path / "broken.npz")


# ------------------------------------------------------------------ the shipped decoder


@pytest.fixture(scope="module")
def shipped():
    return AnyStyle.load(log=lambda line: None)


def test_the_shipped_decoder_says_how_it_was_trained(shipped):
    record = json.loads(SHIPPED_DECODER.with_suffix(".json").read_text())
    assert record["width"] in ("full", "half") and record["train"]["steps"] >= 1000
    assert not set(record["style"]["paintings"]) & {"woman_with_hat", "udnie"}
    assert SHIPPED_DECODER.stat().st_size < 4_000_000


def test_the_shipped_decoder_reconstructs_a_photo_it_never_saw(shipped):
    """alpha 0: the photo's own relu4_1 features decoded. The decoder never trained on
    Tübingen; the stated error is a mean absolute difference per pixel and channel."""
    photo = load_content("tubingen", max_dim=256)
    back = shipped.paint(photo, [photo], alpha=0.0)
    error = float(tf.reduce_mean(tf.abs(back - photo)))
    assert error < RECONSTRUCTION_ERROR, error


def test_the_shipped_decoder_paints_an_unseen_painting_in_both_modes(shipped):
    photo = load_content("golden_gate", max_dim=128)
    painting = load_style("udnie", max_dim=128)
    for method in ("adain", "wct"):
        painted = shipped.paint(photo, [painting], method=method)
        assert painted.shape == photo.shape
        assert float(tf.reduce_mean(tf.abs(painted - photo))) > 0.05  # it is not the photo


# ------------------------------------------------------------------ the command line


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--alpha", "2"], "--alpha"),
        (["--weights", "1"], "--weights"),
        (["--masks", "m.png"], "--masks"),
        (["--size", "0"], "--size"),
    ],
)
def test_bad_arbitrary_input_is_one_line_and_exit_2(folder, capsys, extra, message):
    painting = str(folder / "stripes.png")
    args = ["arbitrary", str(folder / "photos" / "photo0.png"), painting, painting]
    code = main([*args, "-o", str(folder / "bad.png"), *extra])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and message in lines[0]
    assert not (folder / "bad.png").exists()


def test_arbitrary_never_overwrites_and_names_a_missing_painting(folder, capsys):
    photo = str(folder / "photos" / "photo0.png")
    (folder / "taken.png").write_bytes(b"mine")
    assert (
        main(["arbitrary", photo, str(folder / "stripes.png"), "-o", str(folder / "taken.png")])
        == 2
    )
    assert (folder / "taken.png").read_bytes() == b"mine"
    assert main(["arbitrary", photo, str(folder / "nothing.png"), "-o", str(folder / "x.png")]) == 2
    assert "nothing.png" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stopped:
        main(["arbitrary", photo, str(folder / "stripes.png"), "-o", "y.png", "--method", "gram"])
    assert stopped.value.code == 2


def test_arbitrary_paints_with_the_shipped_decoder(folder, capsys, shipped):
    output = folder / "any.png"
    photo, painting = str(folder / "photos" / "photo0.png"), str(folder / "stripes.png")
    assert main(["arbitrary", photo, painting, "-o", str(output), "--size", "64"]) == 0
    assert Image.open(output).size == (64, 46)  # 70 x 50 at 64 px: any aspect ratio
    assert "Wrote" in capsys.readouterr().out


def test_a_folder_of_paintings_is_a_style_set(folder):
    output = folder / "from_folder.npz"
    train_decoder(output, TINY, data=folder / "photos", paintings=folder / "photos", **QUIET)
    record = json.loads(output.with_suffix(".json").read_text())
    assert record["style"]["paintings"] == ["photo0.png", "photo1.png"]


def test_a_decoder_trains_in_reconstruction_mode_and_a_bad_mode_is_refused(folder):
    output = folder / "reconstruction.npz"
    train_decoder(
        output, TINY, mode="reconstruction", data=folder / "photos", paintings=[], **QUIET
    )
    record = json.loads(output.with_suffix(".json").read_text())
    assert record["loss"]["kind"] == "reconstruction" and "pixels" in record["final_loss"]
    with pytest.raises(NSTError, match="mode"):
        train_decoder(folder / "other.npz", TINY, mode="gram", **QUIET)
