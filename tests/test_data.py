"""Tests for nst_helpers.data and nst_helpers.textures.

No test reaches the internet: every download goes to 127.0.0.1 (a closed port or a
small local server), and ``urlopen`` refuses any other host. Caches and fake mirrors
live in ``tmp_path``; the real repository and ``~/.cache`` are never written.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import http.server
import importlib.util
import io
import os
import re
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from nst_helpers import data, textures
from nst_helpers.errors import NSTError

CLOSED_PORT_URL = "http://127.0.0.1:9/x.jpg"  # port 9 (discard) is closed: connection refused
REPO_ROOT = Path(__file__).resolve().parent.parent
STYLES = {
    "starry_night",
    "shipwreck",
    "woman_with_hat",
    "wave",
    "udnie",
    "brush_strokes",
    "mosaic",
    "swirls",
}
CONTENT = {"tubingen", "golden_gate", "chicago", "grace_hopper"}


def _find_mirror() -> Path | None:
    candidates = [
        os.environ.get("NST_DATA_MIRROR"),
        REPO_ROOT.parent / "shared" / "data",
        REPO_ROOT / "shared" / "data",
        "/work/shared/data",
    ]
    for folder in candidates:
        if folder and (Path(folder) / "styles" / "starry_night.jpg").is_file():
            return Path(folder)
    return None


MIRROR = _find_mirror()


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Private cache, no mirror, and no network beyond 127.0.0.1."""
    monkeypatch.setenv("NST_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("NST_DATA_MIRROR", raising=False)
    monkeypatch.setattr(data, "DEFAULT_MIRROR", tmp_path / "no_mirror_here")
    real_urlopen = urllib.request.urlopen

    def local_only(request, *args, **kwargs):
        url = request.full_url if isinstance(request, urllib.request.Request) else request
        assert urllib.parse.urlsplit(url).hostname == "127.0.0.1", f"test tried to reach {url}"
        return real_urlopen(request, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", local_only)
    return tmp_path


@pytest.fixture
def empty_project(tmp_path, monkeypatch):
    """Pretend the project has empty styles/ and images/ folders."""
    monkeypatch.setattr(data, "PROJECT_ROOT", tmp_path / "project")
    return tmp_path / "project"


def _point_url(monkeypatch, name: str, url: str, sha256: str | None = None) -> None:
    entry = data.MANIFEST[name]
    changed = dataclasses.replace(entry, url=url, sha256=entry.sha256 if sha256 is None else sha256)
    monkeypatch.setitem(data.MANIFEST, name, changed)


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@pytest.fixture
def server(tmp_path):
    """A local HTTP server for the folder it returns; yields (folder, base url)."""
    folder = tmp_path / "served"
    folder.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder))
    )
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield folder, f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _jpeg_bytes(width: int = 40, height: int = 30) -> bytes:
    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(buffer, "JPEG")
    return buffer.getvalue()


# --------------------------------------------------------------------------- manifest


def test_manifest_is_complete_and_consistent():
    assert set(data.MANIFEST) == STYLES | CONTENT
    for name, e in data.MANIFEST.items():
        assert e.name == name
        assert e.kind == ("style" if name in STYLES else "content")
        assert e.source in {"download", "matplotlib", "generated"}
        assert e.title and e.artist and e.rights and e.filename
        if e.source == "download":
            assert e.url.startswith("https://")
            assert re.fullmatch(r"[0-9a-f]{64}", e.sha256)
            assert e.filename == f"{name}.jpg"
    assert len({(e.kind, e.filename) for e in data.MANIFEST.values()}) == len(data.MANIFEST)
    assert {n for n, e in data.MANIFEST.items() if e.source == "generated"} == set(
        textures.TEXTURES
    )
    assert data.MANIFEST["golden_gate"].rights == "unknown: use for tests only, never redistribute"
    assert data.MANIFEST["chicago"].rights == data.MANIFEST["golden_gate"].rights


def test_generated_styles_are_in_the_repository():
    for name in textures.TEXTURES:
        path = REPO_ROOT / "styles" / f"{name}.png"
        assert path.is_file(), f"run python scripts/make_styles.py to create {path}"
        with Image.open(path) as img:
            assert img.size == (512, 512) and img.mode == "RGB"


def test_cache_dir_precedence(tmp_path, monkeypatch):
    assert data.cache_dir() == tmp_path / "cache" and data.cache_dir().is_dir()
    monkeypatch.delenv("NST_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data.cache_dir() == tmp_path / "xdg" / "nst_helpers"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data.cache_dir() == tmp_path / "home" / ".cache" / "nst_helpers"


# --------------------------------------------------------------------------- mirror


@pytest.mark.skipif(MIRROR is None, reason="the shared data mirror is not on this machine")
def test_mirror_hit(monkeypatch, tmp_path, empty_project):
    monkeypatch.setenv("NST_DATA_MIRROR", str(MIRROR))
    path, where = data.locate("starry_night")
    assert where == "mirror" and path == MIRROR / "styles" / "starry_night.jpg"
    assert data.locate("tubingen") == (MIRROR / "content" / "tubingen.jpg", "mirror")
    style = data.load_style("starry_night", max_dim=64)
    assert style.shape[0] == 1 and style.shape[-1] == 3 and max(style.shape[1:3]) == 64
    assert _files(tmp_path / "cache") == []  # read in place, not copied
    assert data.list_images()["available_offline"].all()


@pytest.mark.skipif(MIRROR is None, reason="the shared data mirror is not on this machine")
def test_mirror_beside_the_project_is_found_without_the_variable(
    monkeypatch, tmp_path, empty_project
):
    monkeypatch.setattr(data, "DEFAULT_MIRROR", MIRROR)  # NST_DATA_MIRROR is unset here
    assert data.mirror_folder() == MIRROR
    assert data.locate("tubingen") == (MIRROR / "content" / "tubingen.jpg", "mirror")
    monkeypatch.setenv("NST_DATA_MIRROR", str(tmp_path / "elsewhere"))  # the variable wins
    assert data.mirror_folder() == tmp_path / "elsewhere"


def test_mirror_file_with_wrong_sha256_is_skipped(monkeypatch, tmp_path, empty_project):
    fake = tmp_path / "mirror"
    (fake / "styles").mkdir(parents=True)
    (fake / "styles" / "starry_night.jpg").write_bytes(_jpeg_bytes())
    monkeypatch.setenv("NST_DATA_MIRROR", str(fake))
    _point_url(monkeypatch, "starry_night", CLOSED_PORT_URL)
    with (
        pytest.warns(UserWarning, match="sha256"),
        pytest.raises(NSTError, match="NST_DATA_MIRROR"),
    ):
        data.locate("starry_night")


def test_offline_without_mirror_says_what_to_do(monkeypatch, empty_project):
    _point_url(monkeypatch, "starry_night", CLOSED_PORT_URL)
    with pytest.raises(NSTError) as info:
        data.load_style("starry_night")
    message = str(info.value)
    for part in [
        "Could not download starry_night",
        CLOSED_PORT_URL,
        "NST_DATA_MIRROR",
        "styles/starry_night.jpg",
        str(empty_project / "styles" / "starry_night.jpg"),
        "your own image",
    ]:
        assert part in message
    _point_url(monkeypatch, "tubingen", CLOSED_PORT_URL)
    with pytest.raises(NSTError, match="content/tubingen.jpg"):
        data.image_path("tubingen")


# --------------------------------------------------------------------------- downloads


def test_download_lands_in_cache_then_is_reused(monkeypatch, tmp_path, empty_project, server):
    folder, base = server
    payload = _jpeg_bytes()
    (folder / "s.jpg").write_bytes(payload)
    _point_url(monkeypatch, "starry_night", f"{base}/s.jpg", hashlib.sha256(payload).hexdigest())

    path, where = data.locate("starry_night")
    assert where == "download" and path == tmp_path / "cache" / "styles" / "starry_night.jpg"
    assert path.read_bytes() == payload
    assert _files(tmp_path / "cache") == [path]  # no temporary file left behind

    _point_url(monkeypatch, "starry_night", CLOSED_PORT_URL)  # the server is no longer needed
    assert data.locate("starry_night") == (path, "cache")
    assert data.load_style("starry_night").shape == (1, 30, 40, 3)


def test_download_with_wrong_sha256_leaves_nothing(monkeypatch, tmp_path, empty_project, server):
    folder, base = server
    (folder / "s.jpg").write_bytes(_jpeg_bytes())
    _point_url(monkeypatch, "starry_night", f"{base}/s.jpg", "0" * 64)
    with pytest.raises(NSTError, match="sha256"):
        data.locate("starry_night")
    assert _files(tmp_path / "cache") == []


def test_damaged_cache_file_is_fetched_again(monkeypatch, tmp_path, empty_project, server):
    folder, base = server
    payload = _jpeg_bytes()
    (folder / "s.jpg").write_bytes(payload)
    _point_url(monkeypatch, "starry_night", f"{base}/s.jpg", hashlib.sha256(payload).hexdigest())
    damaged = tmp_path / "cache" / "styles" / "starry_night.jpg"
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(b"truncated")
    with pytest.warns(UserWarning, match="damaged"):
        assert data.locate("starry_night") == (damaged, "download")
    assert damaged.read_bytes() == payload


def test_downloaded_and_generated_files_have_normal_permissions(
    monkeypatch, tmp_path, empty_project, server
):
    folder, base = server
    payload = _jpeg_bytes()
    (folder / "s.jpg").write_bytes(payload)
    _point_url(monkeypatch, "starry_night", f"{base}/s.jpg", hashlib.sha256(payload).hexdigest())
    reference = tmp_path / "reference"
    reference.write_bytes(b"")
    downloaded, where = data.locate("starry_night")
    assert where == "download"
    generated, where = data.locate("brush_strokes")
    assert where == "generated"
    assert downloaded.stat().st_mode == reference.stat().st_mode  # not mkstemp's 0600
    assert generated.stat().st_mode == reference.stat().st_mode
    assert sorted(p.name for p in _files(tmp_path / "cache")) == [
        "brush_strokes.png",
        "starry_night.jpg",
    ]


def test_ctrl_c_during_a_download_leaves_nothing(monkeypatch, tmp_path, empty_project):
    class Interrupted(io.BytesIO):
        def read(self, *args):
            raise KeyboardInterrupt

    _point_url(monkeypatch, "starry_night", CLOSED_PORT_URL)
    monkeypatch.setattr(urllib.request, "urlopen", lambda *args, **kwargs: Interrupted())
    with pytest.raises(KeyboardInterrupt):
        data.locate("starry_night")
    assert _files(tmp_path / "cache") == []


def test_missing_file_on_server_is_reported(monkeypatch, empty_project, server):
    _, base = server
    _point_url(monkeypatch, "starry_night", f"{base}/missing.jpg")
    with pytest.raises(NSTError, match="404"):
        data.locate("starry_night")


def test_project_folder_comes_first(monkeypatch, empty_project):
    own = empty_project / "styles" / "starry_night.jpg"
    own.parent.mkdir(parents=True)
    own.write_bytes(_jpeg_bytes())
    _point_url(monkeypatch, "starry_night", CLOSED_PORT_URL)
    assert data.locate("starry_night") == (own, "project")


# --------------------------------------------------------------------------- other sources


def test_grace_hopper_loads_offline(monkeypatch, empty_project):
    path, where = data.locate("grace_hopper")
    assert where == "matplotlib" and path.is_file()
    image = data.load_content("grace_hopper", max_dim=32)
    assert image.shape[0] == 1 and max(image.shape[1:3]) == 32
    assert data.resolve_image("Grace Hopper") == path  # case and spaces are forgiven


def test_generated_style_made_into_cache_without_repository(tmp_path, empty_project):
    path, where = data.locate("mosaic")
    assert where == "generated" and path == tmp_path / "cache" / "styles" / "mosaic.png"
    assert data.locate("mosaic") == (path, "cache")
    assert np.array_equal(np.asarray(Image.open(path)), textures.mosaic(512, 0))


def test_generated_style_read_from_project():
    assert data.locate("swirls") == (REPO_ROOT / "styles" / "swirls.png", "project")


# --------------------------------------------------------------------------- names and paths


def test_unknown_name_suggests_the_closest():
    with pytest.raises(NSTError, match="did you mean 'starry_night'"):
        data.image_path("starry_nigth")
    with pytest.raises(NSTError, match="starry_night"):
        data.resolve_image("starry_nigth")
    with pytest.raises(NSTError, match="Unknown image name"):
        data.describe("zzz")


def test_resolve_image_paths(tmp_path):
    own = tmp_path / "own.jpg"
    own.write_bytes(_jpeg_bytes())
    assert data.resolve_image(own) == own
    assert data.resolve_image(str(own)) == own
    with pytest.raises(NSTError, match="No such file"):
        data.resolve_image("foo/bar.jpg")
    with pytest.raises(NSTError, match="No such file"):
        data.resolve_image(tmp_path / "missing")
    with pytest.raises(NSTError, match="folder"):
        data.resolve_image(tmp_path)
    assert data.load_style(own).shape == (1, 30, 40, 3)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("fifo", r"pipe.jpg is a named pipe \(FIFO\), not an image file"),
        ("zero", r"zero.jpg is a character device \(such as /dev/zero\), not an image file"),
        ("dangling", r"dangling.jpg is a link to .*gone.jpg, which does not exist"),
        ("long", r"the file name 'a{20}.*' is too long \(300 bytes; the limit is 255"),
    ],
    ids=["fifo", "zero", "dangling", "long"],
)
def test_resolve_image_says_what_a_path_is_instead_of_no_such_file(tmp_path, kind, message):
    names = {
        "fifo": "pipe.jpg",
        "zero": "zero.jpg",
        "dangling": "dangling.jpg",
        "long": "a" * 296 + ".jpg",
    }
    path = tmp_path / names[kind]
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "zero":
        path.symlink_to("/dev/zero")
    elif kind == "dangling":
        path.symlink_to(tmp_path / "gone.jpg")
    for given in (path, str(path)):
        with pytest.raises(NSTError, match=message):
            data.resolve_image(given)


def test_resolve_image_prefers_a_name_to_an_odd_file_of_that_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.mkfifo("grace_hopper")
    assert data.resolve_image("grace_hopper").name == "grace_hopper.jpg"


# --------------------------------------------------------------------------- overview


def test_list_images(monkeypatch, empty_project):
    table = data.list_images()
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == [
        "name",
        "kind",
        "title",
        "artist",
        "year",
        "rights",
        "source",
        "available_offline",
    ]
    assert set(table["name"]) == STYLES | CONTENT
    offline = dict(zip(table["name"], table["available_offline"]))
    assert not offline["starry_night"] and offline["mosaic"] and offline["grace_hopper"]
    assert set(data.list_images("content")["name"]) == CONTENT
    assert set(data.list_images(kind="style")["name"]) == STYLES
    with pytest.raises(NSTError, match="kind"):
        data.list_images("painting")


def test_describe():
    assert (
        data.describe("starry_night") == "Vincent van Gogh, The Starry Night (1889), public domain"
    )
    credit = data.describe("tubingen")
    assert "CC BY 3.0" in credit and "Andreas Praefcke" in credit
    assert "public domain" in data.describe("grace_hopper")
    assert "CC0" in data.describe("brush_strokes")
    assert "never redistribute" in data.describe("chicago")


def test_fetch_all_goes_on_after_failures(monkeypatch, empty_project):
    _point_url(monkeypatch, "starry_night", CLOSED_PORT_URL)
    lines: list[str] = []
    results = data.fetch_all(["starry_night", "grace_hopper", "nope"], progress=lines.append)
    assert isinstance(results["starry_night"], NSTError)
    assert isinstance(results["nope"], NSTError)
    assert isinstance(results["grace_hopper"], Path) and results["grace_hopper"].is_file()
    assert lines[0].startswith("starry_night: FAILED: Could not download")
    assert lines[1].startswith("grace_hopper: matplotlib ")
    assert len(lines) == 3


# --------------------------------------------------------------------------- textures


@pytest.mark.parametrize("name", sorted(textures.TEXTURES))
def test_texture_is_seeded_and_lively(name):
    a = textures.make_texture(name, size=128, seed=0)
    assert a.shape == (128, 128, 3) and a.dtype == np.uint8
    assert np.array_equal(a, textures.make_texture(name, size=128, seed=0))
    assert not np.array_equal(a, textures.make_texture(name, size=128, seed=1))
    assert (a.reshape(-1, 3).std(axis=0) > 10).all()


def test_make_texture_rejects_unknown_names():
    with pytest.raises(NSTError, match="brush_strokes, mosaic, swirls"):
        textures.make_texture("plaid")


def test_make_styles_script_refuses_to_overwrite(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location(
        "make_styles", REPO_ROOT / "scripts" / "make_styles.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out = tmp_path / "styles"
    out.mkdir()
    (out / "mosaic.png").write_bytes(b"keep me")
    assert script.main(["--out", str(out)]) == 2
    assert (out / "mosaic.png").read_bytes() == b"keep me"
    assert "--force" in capsys.readouterr().err
    assert script.main(["--out", str(out), "--force"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "brush_strokes.png",
        "mosaic.png",
        "swirls.png",
    ]
