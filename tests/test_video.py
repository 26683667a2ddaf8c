"""Reading and writing videos (nst_helpers.video): MP4, GIF and frame folders, streamed."""

import inspect
import os
import struct

import numpy as np
import pytest
from PIL import Image

from nst_helpers.errors import NSTError
from nst_helpers.video import VideoWriter, probe, read_frames, write_video

KINDS = ["clip.mp4", "clip.gif", "clip"]  # a file of each kind, and a folder of PNG frames


def make_frames(count=10, height=48, width=64):
    """Smooth frames, told apart by their blue level k / count."""
    y, x = np.mgrid[0:height, 0:width]
    return [
        np.stack([x / width, y / height, np.full(x.shape, k / count)], -1).astype(np.float32)
        for k in range(count)
    ]


def mp4_atoms(data):
    """The top-level boxes of an MP4 file: {name: (offset, size)}."""
    atoms, offset = {}, 0
    while offset < len(data):
        size, name = struct.unpack(">I4s", data[offset : offset + 8])
        atoms[name.decode()] = (offset, size)
        offset += size
    return atoms


# ------------------------------------------------------------------------ round trips


@pytest.mark.parametrize(
    "name, fps, read_fps, tolerance",
    [
        ("clip.mp4", 12, 12.0, 0.03),  # lossy codec; measured mean |error| 0.010
        ("clip.gif", 10, 10.0, 0.02),  # 256 colours a frame; measured 0.011
        ("clip", 12, 12.0, 0.002),  # PNG: only the rounding to 8 bits; measured 0.001
        ("clip.gif", 12, 12.5, 0.02),  # a GIF stores 8/100 s for 1/12 s
    ],
)
def test_round_trip_keeps_frame_count_rate_and_pictures(tmp_path, name, fps, read_fps, tolerance):
    frames = make_frames()
    path = write_video(tmp_path / name, frames, fps=fps)
    assert path == tmp_path / name
    info = probe(path)
    assert (info.frames, info.width, info.height) == (10, 64, 48)
    assert info.fps == pytest.approx(read_fps)
    assert info.kind == {"clip.mp4": "mp4", "clip.gif": "gif", "clip": "frames"}[name]
    back = list(read_frames(path))
    assert len(back) == 10
    for original, copy in zip(frames, back):
        assert copy.shape == (48, 64, 3) and copy.dtype == np.float32
        assert np.abs(copy - original).mean() < tolerance


def test_mp4_keeps_red_red(tmp_path):
    """OpenCV works in BGR: a channel swap would turn red into blue."""
    red = np.zeros((48, 64, 3), np.float32)
    red[..., 0] = 0.9
    back = next(read_frames(write_video(tmp_path / "red.mp4", [red] * 3)))
    assert back[..., 0].mean() > 0.8 and back[..., 2].mean() < 0.1


@pytest.mark.parametrize(
    "name, size", [("odd.mp4", (34, 48)), ("odd.gif", (33, 47)), ("odd", (33, 47))]
)
def test_odd_frame_size_survives(tmp_path, name, size):
    """47 wide, 33 high: an MP4 comes back padded to 48x34 (mp4v needs even sides; the last
    row and column repeat), a GIF and a frame folder come back 47x33."""
    frames = make_frames(4, height=33, width=47)
    back = list(read_frames(write_video(tmp_path / name, frames)))
    assert len(back) == 4 and back[0].shape == (*size, 3)
    assert np.abs(back[1][:33, :47] - frames[1]).mean() < 0.02
    if name.endswith(".mp4"):
        assert np.abs(back[1][33] - back[1][32]).mean() < 0.02
        assert np.abs(back[1][:, 47] - back[1][:, 46]).mean() < 0.02


def test_frame_folder_rate_comes_from_the_argument_then_fps_txt_then_12(tmp_path):
    write_video(tmp_path / "clip", make_frames(3), fps=24)
    assert (tmp_path / "clip" / "fps.txt").read_text().strip() == "24"
    assert probe(tmp_path / "clip").fps == 24.0
    assert probe(tmp_path / "clip", fps=5).fps == 5.0
    (tmp_path / "clip" / "fps.txt").unlink()
    assert probe(tmp_path / "clip").fps == 12.0
    (tmp_path / "clip" / "fps.txt").write_text("fast")
    with pytest.raises(NSTError, match="fps.txt"):
        probe(tmp_path / "clip")


def test_frame_folder_is_read_in_natural_order_and_resized(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    for number in (10, 2, 1):
        level = np.full((48, 64, 3), number * 20, np.uint8)
        Image.fromarray(level).save(folder / f"f{number}.png")
    (folder / "notes.txt").write_text("not a frame")
    back = list(read_frames(folder, max_dim=32))
    assert [round(float(f.mean()) * 255) for f in back] == [20, 40, 200]
    assert back[0].shape == (24, 32, 3)


# ------------------------------------------------------------------------- streaming


def test_read_frames_is_a_generator_that_reads_on_demand(tmp_path):
    path = write_video(tmp_path / "clip", make_frames(3))
    for kind in ("clip.mp4", "clip.gif"):
        assert inspect.isgenerator(read_frames(write_video(tmp_path / kind, make_frames(3))))
    frames = read_frames(path)
    assert inspect.isgenerator(frames)
    assert next(frames)[0, 0, 2] == 0.0
    white = np.full((48, 64, 3), 255, np.uint8)
    Image.fromarray(white).save(path / "frame_000002.png")  # replaced after the first read
    assert next(frames).min() == 1.0


# ---------------------------------------------------------------------- damaged input


def test_mp4_cut_in_half_is_refused_naming_the_file(tmp_path):
    """cv2.VideoCapture reads no frame and raises nothing: the NSTError comes from probe."""
    path = write_video(tmp_path / "clip.mp4", make_frames())
    data = path.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(NSTError, match="cut.mp4.*truncated") as error:
        read_frames(cut)
    assert "\n" not in str(error.value)
    with pytest.raises(NSTError, match="cut.mp4"):
        probe(cut)


def test_mp4_with_fewer_frames_than_its_header_is_refused_after_the_good_ones(tmp_path):
    """Half the picture data cut out, the index (moov box) kept: the header still says 10
    frames, OpenCV decodes 5 and stops."""
    data = write_video(tmp_path / "clip.mp4", make_frames()).read_bytes()
    atoms = mp4_atoms(data)
    start, size = atoms["mdat"]
    keep = (size - 8) // 2
    moov_start, moov_size = atoms["moov"]
    damaged = (
        data[:start]
        + struct.pack(">I4s", 8 + keep, b"mdat")
        + data[start + 8 : start + 8 + keep]
        + data[moov_start : moov_start + moov_size]
    )
    path = tmp_path / "damaged.mp4"
    path.write_bytes(damaged)
    assert probe(path).frames == 10
    frames = read_frames(path)
    good = [next(frames) for _ in range(3)]
    assert len(good) == 3
    with pytest.raises(NSTError, match=r"damaged.mp4.* of the 10 frames"):
        list(frames)


@pytest.mark.parametrize("name", ["notes.mp4", "notes.gif"])
def test_a_text_file_named_like_a_video_is_refused(tmp_path, name):
    (tmp_path / name).write_text("these are my notes, not a video\n")
    with pytest.raises(NSTError, match=name):
        read_frames(tmp_path / name)


def test_missing_video_and_empty_folder_are_refused(tmp_path):
    with pytest.raises(NSTError, match="no such video.*missing.mp4"):
        read_frames(tmp_path / "missing.mp4")
    (tmp_path / "empty").mkdir()
    with pytest.raises(NSTError, match="no PNG or JPEG frames"):
        probe(tmp_path / "empty")


# --------------------------------------------------------------------------- writing


@pytest.mark.parametrize("name", KINDS)
def test_writer_refuses_to_overwrite_without_permission(tmp_path, name):
    path = write_video(tmp_path / name, make_frames(2))
    with pytest.raises(NSTError, match="already exists"):
        VideoWriter(path, fps=12)
    write_video(path, make_frames(5), overwrite=True)
    assert probe(path).frames == 5
    assert sorted(os.listdir(tmp_path)) == [name]  # no temporary file or folder left


def test_overwrite_replaces_only_a_folder_of_frames(tmp_path):
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "thesis.tex").write_text("precious")
    with pytest.raises(NSTError, match="more than frames"):
        VideoWriter(tmp_path / "results", overwrite=True)
    assert (tmp_path / "results" / "thesis.tex").exists()


@pytest.mark.parametrize("name", KINDS)
def test_an_error_in_the_block_leaves_nothing_behind(tmp_path, name):
    with pytest.raises(RuntimeError, match="interrupted"):
        with VideoWriter(tmp_path / name, fps=12) as out:
            for frame in make_frames(3):
                out.write(frame)
            raise RuntimeError("interrupted")
    assert os.listdir(tmp_path) == []


def test_writer_refuses_bad_frames_and_names(tmp_path):
    with pytest.raises(NSTError, match="is 32x24 but"):
        with VideoWriter(tmp_path / "clip.mp4") as out:
            out.write(make_frames(1)[0])
            out.write(make_frames(1, height=24, width=32)[0])
    assert os.listdir(tmp_path) == []
    with pytest.raises(NSTError, match="no frames were written"):
        with VideoWriter(tmp_path / "clip.gif"):
            pass
    with pytest.raises(NSTError, match=".mp4 or .gif"):
        VideoWriter(tmp_path / "clip.avi")
    with pytest.raises(NSTError, match="does not exist"):
        VideoWriter(tmp_path / "missing" / "clip")
    assert os.listdir(tmp_path) == []


def test_a_name_ending_in_a_slash_is_a_frame_folder(tmp_path):
    path = write_video(f"{tmp_path / 'take.v2'}/", make_frames(2))
    assert path.is_dir() and probe(path).kind == "frames"
    assert sorted(p.name for p in path.iterdir()) == [
        "fps.txt",
        "frame_000001.png",
        "frame_000002.png",
    ]
