"""Tests for nst_helpers.photo_sets, all offline.

Downloads go to a small HTTP server on 127.0.0.1 started here (it serves a zip of tiny
PNGs, honours ``Range`` with 206 and can cut the connection, ignore ``Range`` or serve
other bytes); ``urlopen`` refuses any other host. Caches live in ``tmp_path``.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import re
import socket
import threading
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nst_helpers import photo_sets
from nst_helpers.errors import NSTError
from nst_helpers.photo_sets import PhotoSet


def _png(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (12, 12, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


PHOTOS = {f"val2017/{index:012d}.png": _png(index) for index in range(6)}
BODY = _zip(PHOTOS)
SHA256 = hashlib.sha256(BODY).hexdigest()
OTHER_BODY = _zip({"val2017/other.png": _png(99)})


class _Server(http.server.ThreadingHTTPServer):
    """Serves ``body`` at any path; records each request's headers."""

    body = BODY
    cut_after: int | None = None  # send only this many bytes once, then hang up
    ignore_range = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict[str, str]] = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}/photos/tiny.zip"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        server = self.server
        server.requests.append(dict(self.headers))
        body, start = server.body, 0
        wanted = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
        if wanted and not server.ignore_range:
            start = int(wanted.group(1))
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        limit, server.cut_after = server.cut_after, None
        self.wfile.write(body[start:] if limit is None else body[start : start + limit])

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(autouse=True)
def local_only(monkeypatch, tmp_path):
    """Every urlopen goes to 127.0.0.1 and is counted; the default cache is in tmp_path."""
    real = urllib.request.urlopen
    calls: list[str] = []

    def urlopen(request, *args, **kwargs):
        url = request.full_url if isinstance(request, urllib.request.Request) else request
        assert urllib.parse.urlsplit(url).hostname == "127.0.0.1", f"no internet in tests: {url}"
        calls.append(url)
        return real(request, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setenv("NST_CACHE_DIR", str(tmp_path / "default_cache"))
    return calls


@pytest.fixture
def server():
    running = _Server()
    thread = threading.Thread(target=running.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield running
    running.shutdown()
    running.server_close()


@pytest.fixture
def tiny(server, monkeypatch) -> PhotoSet:
    """A photo set called "tiny" served by ``server``, registered in PHOTO_SETS."""
    photo_set = PhotoSet("tiny", server.url, len(BODY), SHA256, "test photos")
    monkeypatch.setitem(photo_sets.PHOTO_SETS, "tiny", photo_set)
    return photo_set


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _download(tmp_path: Path, name_or_set: str | PhotoSet = "tiny") -> tuple[Path, list[str]]:
    lines: list[str] = []
    path = photo_sets.download_photo_set(
        name_or_set, cache=tmp_path / "cache", progress=False, log=lines.append
    )
    return path, lines


def _interrupt(server: _Server, tmp_path: Path, after: int) -> Path:
    """A first download cut after ``after`` bytes; returns the part file it leaves."""
    server.cut_after = after
    with pytest.raises(NSTError, match="resume"):
        _download(tmp_path)
    part = tmp_path / "cache" / "tiny.zip.part"
    assert part.stat().st_size == after
    assert not (tmp_path / "cache" / "tiny.zip").exists()
    return part


# --------------------------------------------------------------------------- the catalogue


def test_coco_entry_is_the_published_file():
    coco = photo_sets.PHOTO_SETS["coco_val2017"]
    assert coco.url == "http://images.cocodataset.org/zips/val2017.zip"
    assert coco.filename == "val2017.zip"
    assert coco.size_bytes == 815585330
    assert coco.sha256 == "4f7e2ccb2866ec5041993c9cf2a952bbed69647b115d0f74da7ce8f4bef82f05"
    assert "Lin et al. 2014" in coco.credit and "not redistributed" in coco.credit


def test_unknown_photo_set_names_the_known_ones():
    with pytest.raises(NSTError, match="coco_val2017"):
        photo_sets.get_photo_set("coco_val2071")


# --------------------------------------------------------------------------- download


def test_full_download_is_verified_and_extracted(tiny, server, tmp_path):
    lines: list[str] = []
    folder = photo_sets.photo_set_folder(
        "tiny", count=4, cache=tmp_path / "cache", progress=False, log=lines.append
    )
    zip_path = tmp_path / "cache" / "tiny.zip"
    assert folder == tmp_path / "cache" / "tiny"
    assert _sha256(zip_path) == SHA256
    assert not (tmp_path / "cache" / "tiny.zip.part").exists()
    assert len(lines) == 1 and "downloaded" in lines[0]
    files = sorted(folder.iterdir())
    assert len(files) == 4 and all(p.suffix == ".png" for p in files)
    assert all(p.read_bytes() == PHOTOS[f"val2017/{p.name}"] for p in files)
    assert "nst_helpers" in server.requests[0]["User-Agent"]
    assert "Range" not in server.requests[0]


def test_interrupted_download_resumes_with_range(tiny, server, tmp_path):
    part = _interrupt(server, tmp_path, after=700)
    path, lines = _download(tmp_path)
    assert server.requests[-1]["Range"] == "bytes=700-"
    assert _sha256(path) == SHA256
    assert not part.exists()
    assert "resumed" in lines[0]


def test_server_ignoring_range_starts_over(tiny, server, tmp_path):
    _interrupt(server, tmp_path, after=700)
    server.ignore_range = True
    path, lines = _download(tmp_path)
    assert server.requests[-1]["Range"] == "bytes=700-"  # asked, but got a 200
    assert _sha256(path) == SHA256  # not the first 700 bytes twice
    assert "downloaded" in lines[0]


def test_complete_part_answered_416_is_kept(tiny, server, tmp_path):
    part = tmp_path / "cache" / "tiny.zip.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(BODY)
    path, _ = _download(tmp_path)
    assert server.requests[-1]["Range"] == f"bytes={len(BODY)}-"
    assert _sha256(path) == SHA256 and not part.exists()


def test_checksum_mismatch_deletes_the_download(tiny, server, tmp_path):
    server.body = OTHER_BODY
    with pytest.raises(NSTError, match="expected") as caught:
        _download(tmp_path)
    message = str(caught.value)
    assert SHA256 in message and hashlib.sha256(OTHER_BODY).hexdigest() in message
    assert "\n" not in message
    assert list((tmp_path / "cache").iterdir()) == []


def test_cached_zip_is_reused_without_network(tiny, server, tmp_path, local_only):
    first, _ = _download(tmp_path)
    server.shutdown()
    server.server_close()
    local_only.clear()
    again, lines = _download(tmp_path)
    assert again == first and _sha256(again) == SHA256
    assert local_only == [] and "cached" in lines[0]


def test_damaged_cached_zip_is_downloaded_again(tiny, server, tmp_path):
    path, _ = _download(tmp_path)
    path.write_bytes(b"x" * len(BODY))
    again, lines = _download(tmp_path)
    assert _sha256(again) == SHA256
    assert "wrong sha256" in lines[0] and "downloaded" in lines[-1]


def test_unreachable_url_says_resume_and_offline(tmp_path):
    with socket.socket() as probe:  # a port nobody listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = PhotoSet("tiny", f"http://127.0.0.1:{port}/tiny.zip", 10, None, "test")
    with pytest.raises(NSTError) as caught:
        _download(tmp_path, closed)
    message = str(caught.value)
    assert "run again to resume" in message and "packaged_photos" in message
    assert "Offline" in message


def test_trust_on_first_use_records_then_enforces(server, tmp_path):
    unpinned = PhotoSet("tiny", server.url, len(BODY), None, "test")
    path, _ = _download(tmp_path, unpinned)
    record = path.with_name("tiny.zip.sha256.json")
    assert SHA256 in record.read_text()
    path.unlink()
    server.body = OTHER_BODY  # the server now sends something else
    with pytest.raises(NSTError, match=f"expected {SHA256}"):
        _download(tmp_path, unpinned)
    assert not path.exists()


# --------------------------------------------------------------------------- extraction


def test_extract_keeps_names_flat_inside_folder(tmp_path):
    zip_path = tmp_path / "evil.zip"
    zip_path.write_bytes(
        _zip({"../evil.png": _png(1), "/abs/evil2.png": _png(2), "a\\..\\..\\evil3.png": _png(3)})
    )
    assert "../evil.png" in zipfile.ZipFile(zip_path).namelist()
    folder = tmp_path / "out" / "photos"
    paths = photo_sets.extract_photos(zip_path, folder)
    assert paths == [folder / "evil.png", folder / "evil2.png", folder / "evil3.png"]
    everything = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")}
    assert everything == {"evil.zip", "out", "out/photos", *(f"out/photos/{p.name}" for p in paths)}


def test_extract_skips_non_images(tmp_path):
    zip_path = tmp_path / "mixed.zip"
    members = {
        "set/": b"",
        "set/readme.txt": b"hello",
        "set/photo.JPG": b"jpeg bytes",
        "set/script.py": b"print()",
        "__MACOSX/set/._photo.JPG": b"resource fork",
        "set/b.png": _png(1),
    }
    zip_path.write_bytes(_zip(members))
    paths = photo_sets.extract_photos(zip_path, tmp_path / "out")
    assert [p.name for p in paths] == ["b.png", "photo.JPG"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["b.png", "photo.JPG"]


def test_extract_count_is_seeded_sorted_and_nested(tmp_path):
    zip_path = tmp_path / "photos.zip"
    zip_path.write_bytes(BODY)
    three = photo_sets.extract_photos(zip_path, tmp_path / "a", count=3, seed=1)
    again = photo_sets.extract_photos(zip_path, tmp_path / "b", count=3, seed=1)
    five = photo_sets.extract_photos(zip_path, tmp_path / "c", count=5, seed=1)
    names = [p.name for p in three]
    assert len(three) == 3 and names == sorted(names) == [p.name for p in again]
    assert set(names) <= {p.name for p in five}
    assert len(photo_sets.extract_photos(zip_path, tmp_path / "d")) == len(PHOTOS)
    others = [[p.name for p in photo_sets.extract_photos(zip_path, tmp_path / f"s{seed}", 3, seed)]
              for seed in range(2, 6)]  # fmt: skip
    assert any(other != names for other in others)  # the seed matters


def test_extract_rerun_skips_existing_files(tmp_path):
    zip_path = tmp_path / "photos.zip"
    zip_path.write_bytes(BODY)
    first, second = photo_sets.extract_photos(zip_path, tmp_path / "out", count=2)
    same_size = b"\0" * first.stat().st_size
    first.write_bytes(same_size)  # same size: taken as already extracted
    second.write_bytes(b"truncated")  # other size: extracted again
    photo_sets.extract_photos(zip_path, tmp_path / "out", count=2)
    assert first.read_bytes() == same_size
    assert second.read_bytes() == PHOTOS[f"val2017/{second.name}"]


def test_extract_damaged_zip_raises(tmp_path):
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(BODY[: len(BODY) // 2])
    with pytest.raises(NSTError, match="damaged"):
        photo_sets.extract_photos(truncated, tmp_path / "out")
    flipped = bytearray(_zip({"a.png": b"x" * 1000}))
    flipped[flipped.index(b"x" * 100)] ^= 0xFF  # stored data no longer matches its CRC
    bad_crc = tmp_path / "bad_crc.zip"
    bad_crc.write_bytes(bytes(flipped))
    with pytest.raises(NSTError, match="damaged"):
        photo_sets.extract_photos(bad_crc, tmp_path / "out")
