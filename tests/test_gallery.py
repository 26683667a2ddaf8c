"""The gallery (nst_helpers.gallery): planning the pairs, the contact sheet, the web page,
continuing a stopped run, and real runs with the shipped networks."""

import html
import json

import numpy as np
import pytest
from PIL import Image

from nst_helpers.cli import _Parser
from nst_helpers.data import describe
from nst_helpers.errors import NSTError
from nst_helpers.gallery import (
    GREY,
    TESTS_ONLY,
    WHITE,
    GallerySettings,
    GalleryStopped,
    SheetGrid,
    StylizePainter,
    add_gallery_parser,
    contact_sheet,
    paint_gallery,
    plan_pairs,
    read_gallery,
    run_gallery,
)
from nst_helpers.validate import SettingError

QUIET = dict(progress=False, log=lambda line: None)
TINY = GallerySettings(method="stylize", size=32, steps=1, tile=64)


def solid(path, colour, size=(24, 16)):
    Image.new("RGB", size, colour).save(path)
    return path


@pytest.fixture
def inputs(tmp_path):
    """A folder of two photos (and a text file), and two paintings: solid colours."""
    photos = tmp_path / "photos"
    photos.mkdir()
    solid(photos / "b.png", (200, 30, 30))
    solid(photos / "a.jpg", (30, 200, 30))
    (photos / "notes.txt").write_text("not an image")
    styles = [solid(tmp_path / "s1.png", (10, 10, 200)), solid(tmp_path / "s2.png", (250, 250, 0))]
    return photos, styles


class FakePainter:
    """Paints every pair mid-grey and counts its calls; Ctrl-C at call ``stop_at``."""

    def __init__(self, stop_at=None):
        self.calls, self.stop_at = [], stop_at

    def __call__(self, pair):
        self.calls.append(pair.key)
        if len(self.calls) == self.stop_at:
            raise KeyboardInterrupt
        return np.full((1, 20, 30, 3), 0.5, np.float32)


def run(inputs, output, painter, settings=TINY, **options):
    photos, styles = inputs
    return paint_gallery([photos], styles, output, settings, painter=painter, **QUIET, **options)


def pair_files(folder):
    return sorted(path.name for path in (folder / "pairs").glob("*.png"))


# ----------------------------------------------------------------------------- planning


def test_plan_pairs_every_photo_in_every_style_once(inputs, tmp_path):
    photos, styles = inputs
    pairs = plan_pairs([photos, "tubingen", photos / "a.jpg"], [*styles, styles[0]])
    labels = [(pair.photo.label, pair.style.label) for pair in pairs]
    assert labels == [(p, s) for p in ("a", "b", "tubingen") for s in ("s1", "s2")]
    assert len({pair.key for pair in pairs}) == 6
    assert pairs[0].photo.credit == "a.jpg, your own image"
    assert pairs[-1].photo.credit == describe("tubingen")


def test_keys_are_safe_and_unique(tmp_path):
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        solid(tmp_path / folder / "My photo__1.png", (1, 2, 3))
    weird = solid(tmp_path / "<b>&.png", (1, 2, 3))
    pairs = plan_pairs([tmp_path / "one", tmp_path / "two", weird], ["wave"])
    assert [pair.key for pair in pairs] == ["My_photo_1__wave", "My_photo_1_2__wave", "b__wave"]


def test_an_empty_folder_or_a_bad_method_is_refused(tmp_path):
    with pytest.raises(NSTError, match="no image files"):
        plan_pairs([tmp_path], ["wave"])
    with pytest.raises(SettingError, match="stylize, fast, arbitrary"):
        GallerySettings(method="paint")


# ----------------------------------------------------------------------------- contact sheet


def tile_of(sheet, row, column, tile=64, gap=4):
    left, top = gap + column * (tile + gap), gap + row * (tile + gap)
    return np.asarray(sheet)[top : top + tile, left : left + tile].astype(float)


def colour(rgb, shape=(10, 20)):
    return np.full((*shape, 3), rgb, np.uint8)


def test_contact_sheet_has_a_tile_per_original_and_pair():
    grid = SheetGrid(
        photos=[("p1", colour((200, 0, 0))), ("p2", colour((0, 200, 0), (30, 30)))],
        paintings=[("s1", colour((0, 0, 200))), ("s2", None), ("s3", colour((90, 90, 90)))],
        cells=[[colour((10, 20, 30)), None, colour((1, 1, 1))], [colour((40, 50, 60))] * 3],
        title="a title",
    )
    sheet = contact_sheet(grid, tile=64, gap=4)
    assert sheet.size == (4 * 64 + 5 * 4, 3 * 64 + 4 * 4)
    wide = tile_of(sheet, 2, 1)  # 10x20 letterboxed into 64x64: 32 rows of colour, centred
    assert np.allclose(wide[20:44].mean(axis=(0, 1)), (40, 50, 60), atol=1)
    assert np.allclose(wide[:12].mean(axis=(0, 1)), WHITE)
    photo = tile_of(sheet, 2, 0)  # 30x30 above its label: a square of 45 px, centred
    assert np.allclose(photo[5:40, 20:44].mean(axis=(0, 1)), (0, 200, 0), atol=1)
    painting = tile_of(sheet, 0, 1)
    assert np.allclose(painting[10:34].mean(axis=(0, 1)), (0, 0, 200), atol=1)
    label = painting[-12:]  # the label's dark band, with white letters on it
    assert label.mean() < 120 and label.max() > 200


def test_a_missing_pair_is_a_grey_tile_with_words():
    grid = SheetGrid([("p", colour((9, 9, 9)))], [("s", colour((9, 9, 9)))], [[None]])
    missing = tile_of(contact_sheet(grid, tile=64, gap=4), 1, 1)
    assert np.all(missing[:16] == GREY)  # above the words
    assert np.abs(missing.mean(axis=(0, 1)) - GREY).max() < 25
    assert missing.min() < 100  # the words are drawn


def test_contact_sheet_refuses_a_ragged_grid():
    with pytest.raises(NSTError, match="2 cells"):
        contact_sheet(SheetGrid([("p", None)], [("a", None), ("b", None)], [[None]]))


# ----------------------------------------------------------------------------- the page


def test_html_escapes_names_links_every_pair_and_credits_every_image(tmp_path):
    weird = solid(tmp_path / "<b>&.png", (5, 5, 5))
    output = tmp_path / "gallery"
    report = paint_gallery(
        [weird, "golden_gate"],
        ["wave", "starry_night"],
        output,
        TINY,
        painter=FakePainter(),
        **QUIET,
    )
    page = (output / "index.html").read_text(encoding="utf-8")
    assert "<b>&" not in page and "&lt;b&gt;&amp;" in page
    assert html.escape("<b>&.png, your own image") in page
    for name in ("golden_gate", "wave", "starry_night"):
        assert html.escape(describe(name)) in page
    assert TESTS_ONLY in page
    gallery = read_gallery(output)
    for pair in gallery.pairs():
        assert f'href="pairs/{pair.key}.png"' in page
    assert page.count('loading="lazy"') == report.pairs + 4  # pairs and originals
    assert "stylize, 32 px, 1 steps" in page and "4 of 4 pairs" in page


# ----------------------------------------------------------------------------- resuming


def test_a_second_run_paints_only_the_missing_pair(inputs, tmp_path):
    output = tmp_path / "out"
    first = run(inputs, output, FakePainter())
    assert (first.painted, first.kept, first.pairs) == (4, 0, 4)
    assert pair_files(output) == ["a__s1.png", "a__s2.png", "b__s1.png", "b__s2.png"]
    assert Image.open(output / "contact_sheet.png").size == (3 * 64 + 4 * 4,) * 2
    (output / "pairs" / "b__s1.png").unlink()
    again = FakePainter()
    second = run(inputs, output, again)
    assert again.calls == ["b__s1"] and (second.painted, second.kept) == (1, 3)
    record = json.loads((output / "gallery.json").read_text())
    assert record["method"] == "stylize" and record["size"] == 32 and record["steps"] == 1
    assert sorted(record["pairs"]) == ["a__s1", "a__s2", "b__s1", "b__s2"]
    assert all(entry["seconds"] >= 0 for entry in record["pairs"].values())
    assert [c["path"] for c in record["contents"]] == [
        str(inputs[0].resolve() / "a.jpg"),
        str(inputs[0].resolve() / "b.png"),
    ]


def test_ctrl_c_keeps_the_finished_pairs_and_the_next_run_paints_the_rest(inputs, tmp_path):
    output = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt) as stopped:
        run(inputs, output, FakePainter(stop_at=3))
    assert isinstance(stopped.value, GalleryStopped) and stopped.value.report.stopped
    assert stopped.value.report.painted == 2
    assert pair_files(output) == ["a__s1.png", "a__s2.png"]
    assert not [p for p in output.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"]
    assert (output / "contact_sheet.png").is_file()  # of what is done
    rest = FakePainter()
    report = run(inputs, output, rest)
    assert rest.calls == ["b__s1", "b__s2"] and (report.painted, report.kept) == (2, 2)


def test_other_settings_are_refused_unless_forced(inputs, tmp_path):
    output = tmp_path / "out"
    run(inputs, output, FakePainter())
    bigger = GallerySettings(method="stylize", size=48, steps=1, tile=64)
    with pytest.raises(NSTError, match="stylize, 32 px, 1 steps.*--force"):
        run(inputs, output, FakePainter(), bigger)
    bigger_tiles = FakePainter()  # the tiles change the sheet only: nothing is repainted
    run(inputs, output, bigger_tiles, GallerySettings(method="stylize", size=32, steps=1, tile=96))
    assert bigger_tiles.calls == []
    again = FakePainter()
    run(inputs, output, again, bigger, force=True)
    assert len(again.calls) == 4 and read_gallery(output).settings.size == 48


def test_a_folder_of_other_files_is_refused(inputs, tmp_path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "thesis.tex").write_text("mine")
    with pytest.raises(NSTError, match="other files"):
        run(inputs, tmp_path / "busy", FakePainter(), force=True)


def test_stylize_turns_a_stopped_run_into_ctrl_c(monkeypatch, inputs):
    import nst_helpers.optimize as optimize

    class Stopped:
        interrupted, image = True, None

    monkeypatch.setattr(optimize, "build_extractor", lambda settings, log: None)
    monkeypatch.setattr(optimize, "stylize", lambda *args, **kwargs: Stopped())
    pair = plan_pairs([inputs[0]], inputs[1])[0]
    with pytest.raises(KeyboardInterrupt):
        StylizePainter(TINY)(pair)


# ----------------------------------------------------------------------------- command line


def parse(*argv):
    parser = _Parser(prog="nst")
    add_gallery_parser(parser.add_subparsers(dest="command", parser_class=_Parser))
    return parser.parse_args(["gallery", *argv])


def test_the_command_continues_after_ctrl_c(monkeypatch, inputs, tmp_path):
    import nst_helpers.gallery as gallery

    photos, styles = inputs
    argv = ["--content", str(photos), "--style", *map(str, styles), "-o", str(tmp_path / "g")]
    argv += ["--size", "32", "--steps", "1", "--quiet"]
    said = []
    monkeypatch.setattr(gallery, "make_painter", lambda settings, log: FakePainter(stop_at=1))
    assert run_gallery(parse(*argv), said.append) == 130
    monkeypatch.setattr(gallery, "make_painter", lambda settings, log: FakePainter(stop_at=3))
    assert run_gallery(parse(*argv), said.append) == 3
    assert "2 of 4 pairs done and kept" in said[-1]
    monkeypatch.setattr(gallery, "make_painter", lambda settings, log: FakePainter())
    assert run_gallery(parse(*argv), said.append) == 0
    assert "2 pairs painted" in said[-1] and "2 kept from before" in said[-1]


def test_the_command_refuses_a_bad_method(capsys):
    with pytest.raises(SystemExit) as refused:
        parse("--content", "tubingen", "--style", "wave", "-o", "out", "--method", "paint")
    assert refused.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_a_real_gallery_with_the_shipped_networks(tmp_path):
    output = tmp_path / "fast"
    argv = ["--content", "tubingen", "grace_hopper", "--style", "starry_night", "wave"]
    args = parse(*argv, "--method", "fast", "--size", "48", "--tile", "64", "-o", str(output))
    said = []
    assert run_gallery(args, said.append) == 0
    assert "4 pairs painted" in said[-1] and len(said) == 5  # a line a pair, then the summary
    assert pair_files(output) == [
        "grace_hopper__starry_night.png",
        "grace_hopper__wave.png",
        "tubingen__starry_night.png",
        "tubingen__wave.png",
    ]
    assert max(Image.open(output / "pairs" / "tubingen__wave.png").size) == 48
    sheet = np.asarray(Image.open(output / "contact_sheet.png"))
    assert sheet.shape == (3 * 64 + 4 * 4, 3 * 64 + 4 * 4, 3)
    painted = tile_of(sheet, 1, 1, tile=64)  # the photo painted: not grey, not blank
    assert painted.std() > 10 and np.abs(painted.mean(axis=(0, 1)) - GREY).max() > 5
    record = read_gallery(output)
    assert record.paintings[0].path.endswith("starry_night.jpg")  # the model's painting
    assert record.paintings[0].model == "starry_night"
    assert "The Starry Night" in (output / "index.html").read_text(encoding="utf-8")


def test_a_real_gallery_with_the_shipped_decoder(tmp_path):
    settings = GallerySettings(method="arbitrary", size=32, tile=64)
    report = paint_gallery(["tubingen"], ["wave"], tmp_path / "any", settings, **QUIET)
    assert (report.painted, report.pairs) == (1, 1)
    painted = Image.open(tmp_path / "any" / "pairs" / "tubingen__wave.png")
    assert max(painted.size) == 32


def test_a_pair_whose_photo_changed_is_painted_again(tmp_path):
    for folder, rgb in (("old", (9, 9, 9)), ("new", (99, 99, 99))):
        (tmp_path / folder).mkdir()
        solid(tmp_path / folder / "x.png", rgb)
    output = tmp_path / "out"
    paint_gallery([tmp_path / "old"], ["wave"], output, TINY, painter=FakePainter(), **QUIET)
    again = FakePainter()  # the key x__wave now means another photo
    paint_gallery([tmp_path / "new"], ["wave"], output, TINY, painter=again, **QUIET)
    assert again.calls == ["x__wave"]
    assert read_gallery(output).done["x__wave"]["photo"] == str(tmp_path / "new" / "x.png")
