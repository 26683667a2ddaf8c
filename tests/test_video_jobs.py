"""Painting a video file: streaming, resuming after Ctrl-C, refusing what it must not touch."""

import json

import numpy as np
import pytest

from nst_helpers import clips, temporal, video, video_jobs
from nst_helpers.cli import main
from nst_helpers.errors import NSTError


@pytest.fixture
def clip_file(tmp_path):
    """A 6-frame MP4 (48x64, 8 fps) of a moving camera over a texture."""
    clip = clips.synthetic_clip(clips.textured_photo(96, 128), frames=6, size=(48, 64))
    return video.write_video(tmp_path / "clip.mp4", clip.frames, fps=8)


class Negative(temporal.FramePainter):
    """Paints a frame as its negative; raises Ctrl-C at call ``stop_at`` (1-based)."""

    def __init__(self, stop_at=None):
        self.calls, self.stop_at = 0, stop_at

    def __call__(self, frame, previous):
        self.calls += 1
        if self.calls == self.stop_at:
            raise KeyboardInterrupt
        return 1.0 - frame


@pytest.fixture
def painters(monkeypatch):
    """make_painter replaced: (the painters made, one per run; the call at which each next
    one raises Ctrl-C, if any)."""
    made, stops = [], []

    def make(style, settings):
        made.append(Negative(stops.pop(0) if stops else None))
        return made[-1]

    monkeypatch.setattr(video_jobs, "make_painter", make)
    monkeypatch.setattr(video_jobs, "_style_input", lambda style, settings, log: style)
    return made, stops


def test_a_video_is_painted_frame_by_frame_and_keeps_its_rate(clip_file, tmp_path, painters):
    settings = temporal.VideoSettings(method="per-frame", size=64)
    report = video_jobs.paint_video(clip_file, tmp_path / "out.mp4", "x", settings, progress=False)
    info = video.probe(report.output)
    assert (info.frames, info.fps, info.width, info.height) == (6, 8.0, 64, 48)
    assert (report.painted, report.kept) == (6, 0)
    first_in = next(video.read_frames(clip_file))
    first_out = next(video.read_frames(report.output))
    assert np.abs(first_out - (1 - first_in)).mean() < 0.03  # the negative, through the codec
    assert not video_jobs.work_folder(report.output).exists()  # cleaned up when done
    assert report.flicker > 0 and report.input_flicker > 0


def test_ctrl_c_keeps_the_finished_frames_and_the_same_call_continues(
    clip_file, tmp_path, painters
):
    made, stops = painters
    stops.append(4)  # the first run stops while painting its 4th frame
    output, settings = tmp_path / "out.gif", temporal.VideoSettings(method="fast", size=64)
    with pytest.raises(KeyboardInterrupt):
        video_jobs.paint_video(clip_file, output, "x", settings, progress=False)
    folder = video_jobs.work_folder(output)
    assert [p.name for p in video.frame_files(folder)] == [f"frame_{i:06d}.png" for i in (1, 2, 3)]
    assert not output.exists()
    report = video_jobs.paint_video(clip_file, output, "x", settings, progress=False)
    assert (report.kept, report.painted, made[-1].calls) == (3, 3, 3)
    assert video.probe(output).frames == 6


def test_frames_of_another_run_are_refused_unless_forced(clip_file, tmp_path, painters):
    made, stops = painters
    stops.append(2)
    output = tmp_path / "out.mp4"
    with pytest.raises(KeyboardInterrupt):
        video_jobs.paint_video(
            clip_file, output, "x", temporal.VideoSettings(size=64), progress=False
        )
    other = temporal.VideoSettings(size=48)
    with pytest.raises(NSTError, match="another run"):
        video_jobs.paint_video(clip_file, output, "x", other, progress=False)
    report = video_jobs.paint_video(clip_file, output, "x", other, force=True, progress=False)
    assert (report.kept, report.painted) == (0, 6)
    assert video.probe(output).width == 48


def test_an_unrelated_folder_in_the_way_is_left_alone(clip_file, tmp_path, painters):
    output = tmp_path / "out.mp4"
    folder = video_jobs.work_folder(output)
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    for force in (False, True):
        with pytest.raises(NSTError, match="not a video run"):
            video_jobs.paint_video(clip_file, output, "x", force=force, progress=False)
    assert (folder / "notes.txt").read_text() == "mine"


def test_the_job_record_names_input_style_and_settings(clip_file, tmp_path):
    job = video_jobs.describe_job(clip_file, "wave", temporal.VideoSettings(size=64))
    assert job["input_bytes"] == clip_file.stat().st_size and job["style"] == "wave"
    assert job["settings"]["size"] == 64
    json.dumps(job)  # it is written as JSON


def test_a_static_clip_painted_once_has_no_flicker(tmp_path):
    still = clips.textured_photo(48, 64)
    source = video.write_video(tmp_path / "still", [still] * 4, fps=4)  # a frame folder
    painted = video.write_video(tmp_path / "painted", [1 - still] * 4, fps=4)
    flicker, own = video_jobs.clip_flicker_scores(source, painted, size=64)
    assert flicker == pytest.approx(0.0, abs=1e-9) and own == pytest.approx(0.0, abs=1e-9)


def test_command_line_errors_are_one_line_with_exit_2(clip_file, tmp_path, capsys):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(clip_file.read_bytes()[: clip_file.stat().st_size // 2])
    output = tmp_path / "out.mp4"
    assert main(["video", str(broken), "--style", "wave", "-o", str(output)]) == 2
    assert "broken.mp4" in capsys.readouterr().err and not output.exists()
    assert main(["video", str(clip_file), "--style", "wave", "-o", str(clip_file)]) == 2
    assert "exists" in capsys.readouterr().err
    assert (
        main(["video", str(clip_file), "--style", "wave", "-o", str(output), "--blend", "2"]) == 2
    )
    assert "--blend" in capsys.readouterr().err


def test_command_line_paints_with_a_shipped_network(clip_file, tmp_path, capsys):
    output = tmp_path / "out.gif"
    args = ["video", str(clip_file), "--style", "starry_night", "--method", "fast", "-o"]
    assert main([*args, str(output), "--size", "48", "--quiet"]) == 0
    said = capsys.readouterr().out
    assert "6 frames" in said and "flicker" in said
    assert "Using starry_night_steady" in said  # the network fine-tuned for video
    assert video.probe(output).frames == 6
