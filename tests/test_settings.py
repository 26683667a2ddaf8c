"""StyleSettings: defaults, one place for every check, JSON round trips."""

import json

import numpy as np
import pytest

from nst_helpers.errors import NSTError
from nst_helpers.settings import MAX_STEPS, StyleSettings, setting_names
from nst_helpers.validate import SettingError


def test_defaults_are_the_papers_layers_and_the_tuned_weights():
    s = StyleSettings()
    assert s.content_layers == ("block4_conv2",)
    assert s.style_layers == (
        "block1_conv1",
        "block2_conv1",
        "block3_conv1",
        "block4_conv1",
        "block5_conv1",
    )
    assert (s.content_weight, s.style_weight, s.tv_weight) == (1.0, 5e-4, 1e4)
    assert s.optimizer == "lbfgs" and s.init == "content" and s.size is None
    assert s.steps == 5  # quick mode (conftest); 100 for students


@pytest.mark.parametrize(
    "changes, setting, words",
    [
        ({"size": 0}, "size", "between 16 and 4096"),
        ({"size": 8.5}, "size", "whole number"),
        ({"steps": 10**12}, "steps", f"between 1 and {MAX_STEPS}"),
        ({"steps": True}, "steps", "whole number"),
        ({"optimizer": "sgd"}, "optimizer", "one of"),
        ({"style_weight": float("nan")}, "style_weight", "finite"),
        ({"style_weight": 1e300}, "style_weight", "float32"),
        ({"tv_weight": -1.0}, "tv_weight", ">= 0"),
        ({"style_scale": 0}, "style_scale", "> 0"),
        ({"learning_rate": 0.0}, "learning_rate", "> 0"),
        ({"init": "zeros"}, "init", "none of these"),
        ({"pyramid": 7}, "pyramid", "between 1 and 6"),
        ({"steps": 2, "pyramid": 3}, "steps", "cannot be split"),
        ({"style_blend": [0.7, 0.2]}, "style_blend", "sum to 1"),
        ({"style_blend": [1.5, -0.5]}, "style_blend", ">= 0"),
        ({"content_layers": ["block9_conv9"]}, "content_layers", "unknown VGG19 layer"),
        ({"style_layers": [], "content_layers": []}, "style_layers", "at least one"),
        ({"style_layer_weights": [1, 2]}, "style_layer_weights", "5 numbers"),
        ({"style_layer_weights": {"block4_conv2": 1}}, "style_layer_weights", "not style layers"),
        ({"preserve_colors": "sepia"}, "preserve_colors", "one of"),
        ({"pooling": "min"}, "pooling", "one of"),
        ({"network": "scaled"}, "network", "one of"),
        ({"seed": -1}, "seed", "at least 0"),
        ({"max_seconds": 0}, "max_seconds", "> 0"),
        ({"weights": "nowhere.h5"}, "weights", "none of these"),
    ],
)
def test_each_bad_value_names_its_setting(changes, setting, words):
    with pytest.raises(SettingError, match=words) as raised:
        StyleSettings(**changes)
    assert raised.value.setting == setting


def test_replace_checks_again_and_refuses_unknown_names():
    s = StyleSettings().replace(style_weight=1e-3, steps=7)
    assert (s.style_weight, s.steps) == (1e-3, 7)
    with pytest.raises(SettingError):
        s.replace(steps=0)
    with pytest.raises(NSTError, match="unknown setting"):
        s.replace(stpes=3)


def test_sequences_become_tuples_and_a_mapping_of_layer_weights_a_row():
    s = StyleSettings(
        style_layers=["block1_conv1", "block2_conv1"],
        style_layer_weights={"block2_conv1": 2.0},
        style_blend=[0.25, 0.75],
    )
    assert s.style_layers == ("block1_conv1", "block2_conv1")
    assert s.style_layer_weights == (0.0, 2.0) and s.style_blend == (0.25, 0.75)
    assert s.layer_weights() == {"block1_conv1": 0.0, "block2_conv1": 2.0}
    assert StyleSettings(content_layers="block5_conv2").content_layers == ("block5_conv2",)


def test_json_round_trip_gives_equal_settings(tmp_path):
    s = StyleSettings(
        size=96,
        steps=12,
        optimizer="adam",
        style_blend=(0.5, 0.5),
        preserve_colors="luminance",
        pyramid=2,
        seed=3,
        max_seconds=60.0,
    )
    path = s.to_json(tmp_path / "run.json", content="tubingen")
    assert json.loads(path.read_text())["content"] == "tubingen"
    assert StyleSettings.from_json(path) == s
    assert StyleSettings.from_dict(s.to_dict()) == s
    with pytest.raises(NSTError, match="exists"):
        s.to_json(path)  # never overwritten by default


def test_arrays_cannot_be_saved_as_json():
    s = StyleSettings(masks=[np.ones((4, 4))])
    with pytest.raises(NSTError, match="save it as an image file"):
        s.to_dict()


def test_every_setting_is_an_option_of_the_command_line():
    from nst_helpers.cli import build_parser, flag

    stylize = build_parser()._subparsers._group_actions[0].choices["stylize"]
    options = {option for action in stylize._actions for option in action.option_strings}
    assert {flag(name) for name in setting_names()} <= options
