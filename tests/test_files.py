"""Tests for nst_helpers.files.atomic_write: complete files or none, and one winner per new name."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import pytest

from nst_helpers import files
from nst_helpers.errors import NSTError
from nst_helpers.files import atomic_write


def test_publishes_complete_content_only_when_the_block_ends(tmp_path):
    target = tmp_path / "out.bin"
    with atomic_write(target) as stream:
        stream.write(b"first half, ")
        assert not target.exists()  # nothing under the final name while writing
        [temporary] = os.listdir(tmp_path)
        assert temporary.startswith(".out.bin.") and temporary.endswith(".tmp")
        stream.write(b"second half")
    assert target.read_bytes() == b"first half, second half"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_overwrite_replaces_an_existing_file(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with atomic_write(str(target)) as stream:
        stream.write(b"new")
    assert target.read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_without_overwrite_an_existing_name_is_refused_and_kept(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"precious")
    with (
        pytest.raises(NSTError, match=r"out.bin already exists.*overwrite=True"),
        atomic_write(target, overwrite=False) as stream,
    ):
        stream.write(b"intruder")
    assert target.read_bytes() == b"precious"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_two_open_writers_for_one_new_name_only_one_wins(tmp_path):
    target = tmp_path / "out.bin"
    with (
        pytest.raises(NSTError, match="already exists"),
        atomic_write(target, overwrite=False) as first,
    ):
        first.write(b"first")
        with atomic_write(target, overwrite=False) as second:  # opened before first closes
            second.write(b"second")
    assert target.read_bytes() == b"second"  # the one that finished first
    assert os.listdir(tmp_path) == ["out.bin"]


def test_racing_threads_for_one_new_name_exactly_one_wins(tmp_path):
    target, count = tmp_path / "out.bin", 8
    everyone_wrote = threading.Barrier(count)
    winners, losers = [], []

    def write(index: int) -> None:
        try:
            with atomic_write(target, overwrite=False) as stream:
                stream.write(f"writer {index}".encode())
                everyone_wrote.wait(timeout=10)  # nobody publishes before all have written
            winners.append(index)
        except NSTError:
            losers.append(index)

    threads = [threading.Thread(target=write, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert len(winners) == 1 and len(losers) == count - 1
    assert target.read_bytes() == f"writer {winners[0]}".encode()
    assert os.listdir(tmp_path) == ["out.bin"]


@pytest.mark.parametrize("overwrite", [True, False])
@pytest.mark.parametrize("error", [ValueError("bad data"), KeyboardInterrupt()], ids=repr)
def test_an_error_inside_the_block_leaves_nothing(tmp_path, error, overwrite):
    target = tmp_path / "out.bin"
    with pytest.raises(type(error)), atomic_write(target, overwrite=overwrite) as stream:
        stream.write(b"half")
        raise error
    assert os.listdir(tmp_path) == []


def test_an_error_inside_the_block_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt), atomic_write(target) as stream:
        stream.write(b"new but unfinished")
        raise KeyboardInterrupt
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_written_file_has_normal_permissions(tmp_path):
    reference = tmp_path / "reference"
    reference.write_bytes(b"")
    with atomic_write(tmp_path / "out.bin", overwrite=False) as stream:
        stream.write(b"x")
    assert (tmp_path / "out.bin").stat().st_mode == reference.stat().st_mode


def _no_hard_links(src, dst, *args, **kwargs):
    raise OSError(errno.EPERM, "Operation not permitted")


def test_without_hard_links_the_name_is_still_taken_exclusively(tmp_path, monkeypatch):
    monkeypatch.setattr(files.os, "link", _no_hard_links)
    target = tmp_path / "out.bin"
    with atomic_write(target, overwrite=False) as stream:
        stream.write(b"content")
    assert target.read_bytes() == b"content"
    with (
        pytest.raises(NSTError, match="already exists"),
        atomic_write(target, overwrite=False) as stream,
    ):
        stream.write(b"intruder")
    assert target.read_bytes() == b"content"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_file_hash_of_a_known_content(tmp_path):
    path: Path = tmp_path / "abc"
    path.write_bytes(b"abc")
    expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert files.file_hash(path) == expected
