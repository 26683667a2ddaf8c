"""Tests for nst_helpers.collect, all offline.

A real HTTP server on 127.0.0.1 (a fresh one per test, on a free port) serves pages and
images made here: a gallery with relative and absolute links, a srcset, an icon, an HTML
file posing as a JPEG, a JPEG named .png, a duplicate and a robots.txt-disallowed image;
plus redirect chains and loops, a redirect to ``file:``, endless downloads and a file name
with ``../`` in it. It records every request (time, path, User-Agent).
"""

from __future__ import annotations

import argparse
import hashlib
import http.server
import io
import json
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nst_helpers import __version__, collect
from nst_helpers.collect import (
    CollectReport,
    CollectSettings,
    Skipped,
    add_collect_parser,
    image_addresses,
    run_collect,
    safe_file_name,
)
from nst_helpers.errors import NSTError

FAST = CollectSettings(delay=0, timeout=5)


def _image(width: int, height: int, seed: int, fmt: str = "PNG") -> bytes:
    """A colour gradient, different for each seed."""
    y, x = np.mgrid[0:height, 0:width]
    pixels = np.stack([x * 2 + seed * 37, y * 3 + seed * 11, (x + y + seed * 53)], -1)
    buffer = io.BytesIO()
    Image.fromarray((pixels % 256).astype(np.uint8)).save(buffer, format=fmt)
    return buffer.getvalue()


ONE, TWO, LARGE = _image(96, 80, 1), _image(96, 80, 2, "JPEG"), _image(120, 100, 3)
SMALL, ICON, MISNAMED = _image(48, 40, 4), _image(16, 16, 5), _image(96, 80, 6, "JPEG")
SECRET, FOUR, TOP = _image(96, 80, 7), _image(80, 96, 8), _image(96, 80, 9)
PNG, JPEG = {"Content-Type": "image/png"}, {"Content-Type": "image/jpeg"}
HTML = {"Content-Type": "text/html; charset=utf-8"}
ROBOTS = b"User-agent: *\nDisallow: /private/\n"

GALLERY = """<!doctype html>
<html><head><title>Paintings</title>
<link rel="license" href="https://creativecommons.org/licenses/by-sa/4.0/">
<meta name="author" content="Ada Painter">
</head><body>
<img src="one.png" alt="public domain" title="Licence: public domain">
<a href="{base}/pictures/two.jpg">a painting</a>
<img src="three-small.png" srcset="three-small.png 1x, three-large.png 2x" alt="">
<img src="/icons/icon.png">
<img src="fake.jpg">
<img src="misnamed.png">
<img src="/copy/one-again.png">
<img src="/private/secret.png">
<img src="file:///etc/passwd"><a href="file:///etc/passwd.png">p</a>
<a href="javascript:alert('x.png')">j</a>
<a href="notes.html">notes</a>
</body></html>
"""

KEPT_PATHS = {"/gallery/one.png", "/pictures/two.jpg", "/gallery/three-large.png"}
KEPT_PATHS |= {"/gallery/misnamed.png", "/copy/one-again.png"}

Route = tuple[int, dict[str, str], bytes] | Callable[[http.server.BaseHTTPRequestHandler], None]


class _Server(http.server.ThreadingHTTPServer):
    """Serves ``routes`` by raw request path; records (time, path, User-Agent) per request."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.base = f"http://127.0.0.1:{self.server_address[1]}"
        self.requests: list[tuple[float, str, str]] = []
        self.streamed: dict[str, int] = {}  # bytes an endless download sent before the hang-up
        self.stream_done = threading.Event()
        self.routes: dict[str, Route] = {
            "/robots.txt": (200, {"Content-Type": "text/plain"}, ROBOTS),
            "/gallery/index.html": (200, HTML, GALLERY.format(base=self.base).encode()),
            "/gallery/one.png": (200, PNG, ONE),
            "/pictures/two.jpg": (200, JPEG, TWO),
            "/gallery/three-large.png": (200, PNG, LARGE),
            "/gallery/three-small.png": (200, PNG, SMALL),
            "/icons/icon.png": (200, PNG, ICON),
            "/gallery/fake.jpg": (200, JPEG, b"<html><body>not a picture</body></html>"),
            "/gallery/misnamed.png": (200, PNG, MISNAMED),
            "/copy/one-again.png": (200, PNG, ONE),
            "/private/secret.png": (200, PNG, SECRET),
            "/gallery/notes.html": (200, HTML, b"<html>notes</html>"),
        }

    def page(self, path: str, body: str) -> str:
        """Serve the HTML ``body`` at ``path``; returns its address."""
        self.routes[path] = (200, HTML, body.encode())
        return self.base + path

    def redirect(self, path: str, target: str) -> None:
        self.routes[path] = (302, {"Location": target}, b"")

    def paths(self) -> list[str]:
        return [path for _, path, _ in self.requests]

    def handle_error(self, request, client_address) -> None:
        pass  # hang-ups in the middle of an endless download are expected


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        agent = self.headers.get("User-Agent", "")
        self.server.requests.append((time.monotonic(), self.path, agent))
        route = self.server.routes.get(self.path, (404, HTML, b"<html>no such page</html>"))
        if callable(route):
            return route(self)
        status, headers, body = route
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def _endless(total: int, declare: bool) -> Callable[[_Handler], None]:
    """A route that streams ``total`` bytes (with or without Content-Length) and records
    how many it could send before the client hung up."""

    def send(handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "image/png")
        if declare:
            handler.send_header("Content-Length", str(total))
        handler.end_headers()
        sent, chunk = 0, b"\x89PNG" + bytes(65532)
        try:
            while sent < total:
                handler.wfile.write(chunk)
                sent += len(chunk)
        except OSError:
            pass
        finally:
            handler.server.streamed[handler.path] = sent
            handler.server.stream_done.set()

    return send


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    monkeypatch.setenv("no_proxy", "*")


@pytest.fixture
def server():
    running = _Server()
    thread = threading.Thread(target=running.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield running
    running.shutdown()
    running.server_close()


def _collect(urls, folder, settings=FAST, lines=None):
    log = lines.append if lines is not None else lambda line: None
    return collect.collect(urls, folder, settings, progress=False, log=log)


def _provenance(folder: Path) -> list[dict]:
    return json.loads((folder / "provenance.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- pure functions


def test_image_addresses_resolve_relative_absolute_base_and_srcset():
    html = """<html><head><base href="/static/"></head><body>
    <img src="a.png"> <img src=" /b.gif#top "> <img src="https://cdn.org/c.webp">
    <img src="small.png" srcset="mid.png 1.5x, big.png 2x, small.png">
    <img srcset="w1.png 300w, w2.png 900w">
    <a href="d.JPG?size=2">d</a> <a href="page.html">not an image</a> <img src="a.png">
    <img src="javascript:alert(1)"> <img src="data:image/png;base64,iVBO">
    <a href="file:///etc/passwd.png">f</a> <a href="ftp://host/e.png">ftp</a></body></html>"""
    assert image_addresses(html, "http://site.org/dir/page.html") == [
        "http://site.org/static/a.png",
        "http://site.org/b.gif",
        "https://cdn.org/c.webp",
        "http://site.org/static/big.png",
        "http://site.org/static/w2.png",
        "http://site.org/static/d.JPG?size=2",
    ]
    # without <base href>, relative addresses follow the page's own address
    assert image_addresses('<img src="../up.png">', "http://site.org/a/b/p.html") == [
        "http://site.org/a/up.png"
    ]


def test_read_page_finds_licence_and_credit_but_not_in_alt_or_title():
    html = """<meta name="Author" content="Ada Painter">
    <meta name="copyright" content="(c) 2020 Ada">
    <img src="x.png" alt="CC0" title="public domain">
    <a rel="license noopener" href="/licence.html">CC BY 4.0</a>"""
    info = collect.read_page(html, "http://site.org/p/index.html")
    assert info.licence == "CC BY 4.0 (http://site.org/licence.html)"
    assert info.credit == "Ada Painter; (c) 2020 Ada"
    meta_only = collect.read_page('<meta name="dc.rights" content="CC0 1.0">', "http://a.org/")
    assert meta_only.licence == "CC0 1.0" and meta_only.credit is None
    nothing = collect.read_page(
        '<img src="x.png" alt="licence: CC0" title="CC BY">', "http://a.org/"
    )
    assert nothing.licence is None and nothing.credit is None


@pytest.mark.parametrize(
    "name, expected",
    [
        ("../../etc/passwd", "passwd.png"),
        ("..", "image.png"),
        ("..\\..\\windows\\evil.jpg", "evil.png"),
        ("a\x00b\nc\x1b.png", "abc.png"),
        (".hidden.gif", "hidden.png"),
        ("CON", "image_CON.png"),
        ("my photo (1).webp", "my_photo_1.png"),
        ("", "image.png"),
    ],
)
def test_safe_file_name_stays_inside_the_folder(tmp_path, name, expected):
    path = safe_file_name(name, tmp_path, ".png")
    assert path.name == expected
    assert path.parent == tmp_path.resolve()


def test_safe_file_name_limits_length_avoids_taken_names_and_checks_the_suffix(tmp_path):
    long = safe_file_name("é" * 400 + ".jpg", tmp_path, ".jpg")
    assert len(long.name.encode()) <= 104 and long.suffix == ".jpg"
    (tmp_path / "cat.png").write_bytes(b"taken")
    (tmp_path / "cat-2.png").symlink_to(tmp_path / "nowhere")  # a broken link is taken too
    assert safe_file_name("cat.png", tmp_path, ".png").name == "cat-3.png"
    with pytest.raises(NSTError, match="not an image suffix"):
        safe_file_name("cat.png", tmp_path, ".sh")


def test_suffixes_and_pixel_limit_match_the_images_module():
    from nst_helpers import images

    assert collect.IMAGE_SUFFIXES == images.IMAGE_SUFFIXES
    assert collect.MAX_PIXELS == images.MAX_PIXELS
    assert set(collect.FORMAT_SUFFIXES.values()) <= images.IMAGE_SUFFIXES


def test_settings_are_checked():
    with pytest.raises(NSTError, match="delay"):
        CollectSettings(delay=-1)
    with pytest.raises(NSTError, match="max_images"):
        CollectSettings(max_images=0)
    with pytest.raises(NSTError, match="user_agent"):
        CollectSettings(user_agent="bad\r\nHeader: injected")


def test_summary_counts_the_skips_by_reason(tmp_path):
    skips = [Skipped(f"http://a/{k}", None, kind, "") for k, kind in enumerate("xyx")]
    report = CollectReport(tmp_path, [tmp_path / "a.png"] * 5, ["u", "v"], skips)
    assert report.summary() == (
        f"collected 5 new images into {tmp_path} (2 already there, 3 skipped: 2 x, 1 y)"
    )
    assert CollectReport(tmp_path, [tmp_path]).summary() == f"collected 1 new image into {tmp_path}"


# --------------------------------------------------------------------------- against a server


def test_gallery_keeps_real_images_with_their_provenance(server, tmp_path):
    folder, lines = tmp_path / "styles", []
    page = server.base + "/gallery/index.html"
    before = datetime.now(timezone.utc).replace(microsecond=0)
    report = _collect([page], folder, lines=lines)
    names = {"one.png", "two.jpg", "three-large.png", "misnamed.jpg"}
    assert {path.name for path in report.added} == names
    assert {p.name for p in folder.iterdir()} == names | {"provenance.json"}
    assert lines[-1] == (
        f"collected 4 new images into {folder} (1 already there, 3 skipped: 1 too small, "
        "1 not an image, 1 disallowed by robots.txt)"
    )
    skipped = {skip.address.removeprefix(server.base): skip.kind for skip in report.skipped}
    assert skipped == {
        "/icons/icon.png": "too small",
        "/gallery/fake.jpg": "not an image",
        "/private/secret.png": "disallowed by robots.txt",
    }
    records = _provenance(folder)
    assert [r["file"] for r in records] == ["one.png", "two.jpg", "three-large.png", "misnamed.jpg"]
    for record in records:
        data = (folder / record["file"]).read_bytes()
        assert record["sha256"] == hashlib.sha256(data).hexdigest()
        assert record["bytes"] == len(data)
        assert record["page"] == page
        assert record["licence"] == "https://creativecommons.org/licenses/by-sa/4.0/"
        assert record["credit"] == "Ada Painter"
        assert before <= datetime.fromisoformat(record["time"]) <= before + timedelta(seconds=30)
        assert datetime.fromisoformat(record["time"]).utcoffset() == timedelta(0)
    assert (records[0]["width"], records[0]["height"], records[0]["format"]) == (96, 80, "PNG")
    assert (records[2]["width"], records[2]["height"]) == (120, 100)
    assert records[3]["format"] == "JPEG"  # served as misnamed.png: named by what it is
    # the duplicate is stored once, with the second address as another source
    assert records[0]["image"] == server.base + "/gallery/one.png"
    assert [s["image"] for s in records[0]["sources"]] == [server.base + "/copy/one-again.png"]
    assert report.already_there == [server.base + "/copy/one-again.png"]
    # never requested: the srcset's small fallback, robots-disallowed, non-image and non-HTTP
    requested = server.paths()
    for path in ("/gallery/three-small.png", "/private/secret.png", "/gallery/notes.html"):
        assert path not in requested
    assert not any("passwd" in path or "alert" in path for path in requested)


def test_a_rerun_downloads_nothing_already_there(server, tmp_path):
    page = server.base + "/gallery/index.html"
    first = _collect([page], tmp_path)
    records = _provenance(tmp_path)
    server.requests.clear()
    second = _collect([page], tmp_path)
    assert second.added == []
    assert sorted(second.already_there) == sorted(server.base + p for p in KEPT_PATHS)
    assert not set(server.paths()) & KEPT_PATHS  # none of them fetched again
    assert set(server.paths()) <= {"/robots.txt", "/gallery/index.html"} | {
        "/icons/icon.png",
        "/gallery/fake.jpg",
    }  # only the page and what was skipped last time
    assert _provenance(tmp_path) == records
    assert len(first.added) == 4


def test_the_same_bytes_on_a_later_run_become_another_source(server, tmp_path):
    _collect([server.base + "/gallery/one.png"], tmp_path)
    server.routes["/elsewhere/one-copy.png"] = (200, PNG, ONE)
    report = _collect([server.base + "/elsewhere/one-copy.png"], tmp_path)
    assert report.added == [] and report.already_there == [server.base + "/elsewhere/one-copy.png"]
    (record,) = _provenance(tmp_path)
    assert record["page"] is None  # given directly, not found on a page
    assert record["sources"][0]["image"] == server.base + "/elsewhere/one-copy.png"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.png", "provenance.json"]


def test_user_agent_names_the_tool_and_robots_txt_is_read_once(server, tmp_path):
    _collect([server.base + "/gallery/index.html", server.base + "/pictures/two.jpg"], tmp_path)
    agents = {agent for _, _, agent in server.requests}
    assert agents == {f"nst_helpers/{__version__} (neural style transfer course; collect)"}
    assert server.paths().count("/robots.txt") == 1
    assert server.paths()[0] == "/robots.txt"


def test_requests_to_one_host_are_delay_apart(server, tmp_path):
    url = server.page("/pair.html", '<img src="/gallery/one.png"><img src="/pictures/two.jpg">')
    _collect([url], tmp_path, CollectSettings(delay=0.2, timeout=5))
    times = [moment for moment, _, _ in server.requests]
    assert len(times) == 4  # robots.txt, the page, two images
    assert min(np.diff(times)) >= 0.19


def test_base_href_is_followed(server, tmp_path):
    server.routes["/assets/four.png"] = (200, PNG, FOUR)
    server.routes["/top.png"] = (200, PNG, TOP)
    body = '<head><base href="/assets/"></head><img src="four.png"><a href="../top.png">t</a>'
    report = _collect([server.page("/based/page.html", body)], tmp_path)
    assert sorted(p.name for p in report.added) == ["four.png", "top.png"]
    assert "/based/four.png" not in server.paths()
    assert [r["licence"] for r in _provenance(tmp_path)] == [None, None]  # the page states none


def test_a_direct_image_address_and_a_page_told_apart_by_the_answer(server, tmp_path):
    octet = {"Content-Type": "application/octet-stream"}
    server.routes["/download"] = (200, octet, ONE)  # an image at an address without suffix
    # a page at an address that looks like an image, sent without a helpful Content-Type
    server.routes["/looks-like.png"] = (200, octet, b'<!DOCTYPE html><img src="/pictures/two.jpg">')
    report = _collect([server.base + "/download", server.base + "/looks-like.png"], tmp_path)
    assert sorted(p.name for p in report.added) == ["download.png", "two.jpg"]
    pages = {r["file"]: r["page"] for r in _provenance(tmp_path)}
    assert pages == {"download.png": None, "two.jpg": server.base + "/looks-like.png"}


def _ico() -> bytes:
    buffer = io.BytesIO()
    Image.open(io.BytesIO(ONE)).save(buffer, format="ICO", sizes=[(96, 80)])
    return buffer.getvalue()


@pytest.mark.parametrize(
    "body, kind",
    [
        (ONE[: len(ONE) // 2], "not an image"),  # a PNG cut in the middle: its header is fine
        (b"GIF89a" + bytes(40), "not an image"),
        (_ico(), "unsupported format"),
    ],
    ids=["truncated", "garbage", "icon-format"],
)
def test_only_complete_images_of_the_course_formats_are_kept(server, tmp_path, body, kind):
    server.routes["/picture.png"] = (200, PNG, body)
    report = _collect([server.base + "/picture.png"], tmp_path)
    assert [s.kind for s in report.skipped] == [kind]
    assert report.added == [] and list(tmp_path.iterdir()) == []


def test_a_server_file_name_with_dot_dot_stays_in_the_folder(server, tmp_path):
    server.routes["/img/..%2F..%2Fevil.png"] = (200, PNG, ONE)
    folder = tmp_path / "a" / "b" / "into"
    report = _collect([server.base + "/img/..%2F..%2Fevil.png"], folder)
    assert report.added == [folder.resolve() / "evil.png"]
    assert [p.relative_to(tmp_path) for p in tmp_path.rglob("evil*")] == [Path("a/b/into/evil.png")]


def test_redirects_are_followed_up_to_the_limit(server, tmp_path):
    server.redirect("/r/1", "/r/2")
    server.redirect("/r/2", server.base + "/r/3")
    server.redirect("/r/3", "/gallery/one.png")
    url = server.page("/chain.html", '<img src="/r/1">')
    report = _collect([url], tmp_path, CollectSettings(delay=0, max_redirects=2))
    assert [(s.kind, s.detail) for s in report.skipped] == [
        ("too many redirects", "more than 2 redirects")
    ]
    assert "/gallery/one.png" not in server.paths()
    again = _collect([url], tmp_path / "again", CollectSettings(delay=0, max_redirects=3))
    assert [p.name for p in again.added] == ["one.png"]
    assert _provenance(tmp_path / "again")[0]["image"] == server.base + "/r/1"


def test_a_redirect_loop_ends_with_a_reason(server, tmp_path):
    server.redirect("/loop/a", "/loop/b")
    server.redirect("/loop/b", "/loop/a")
    url = server.page("/loop.html", '<img src="/loop/a">')
    report = _collect([url], tmp_path)
    (skip,) = report.skipped
    assert skip.kind == "redirect loop" and skip.address == server.base + "/loop/a"
    assert server.paths().count("/loop/a") == 1 and server.paths().count("/loop/b") == 1


def test_a_redirect_to_a_local_file_is_refused(server, tmp_path):
    server.redirect("/to-file.png", "file:///etc/passwd")
    url = server.page("/sneaky.html", '<img src="/to-file.png">')
    report = _collect([url], tmp_path)
    assert [(s.kind, s.detail) for s in report.skipped] == [
        ("not HTTP(S)", "not an http(s) address: file:///etc/passwd")
    ]
    assert report.added == []


@pytest.mark.parametrize("declare", [False, True], ids=["counted", "content-length"])
def test_downloads_stop_at_max_bytes(server, tmp_path, declare):
    total = 64 * 2**20
    server.routes["/huge.png"] = _endless(total, declare)
    url = server.page("/huge.html", '<img src="/huge.png">')
    start = time.monotonic()
    report = _collect([url], tmp_path, CollectSettings(delay=0, max_bytes=100_000))
    assert time.monotonic() - start < 5
    (skip,) = report.skipped
    assert skip.kind == "too large"
    assert ("67,108,864 bytes" in skip.detail) == declare
    assert server.stream_done.wait(5)
    assert server.streamed["/huge.png"] < total // 4  # the client hung up early
    assert report.added == [] and not (tmp_path / "provenance.json").exists()


def test_max_images_limits_new_images_without_fetching_the_rest(server, tmp_path):
    report = _collect(
        [server.base + "/gallery/index.html"], tmp_path, CollectSettings(delay=0, max_images=1)
    )
    assert [p.name for p in report.added] == ["one.png"]
    assert {s.kind for s in report.skipped} >= {"limit reached"}
    assert "/pictures/two.jpg" not in server.paths()


def test_a_non_http_address_is_refused(tmp_path):
    for url in ("file:///etc/passwd", "ftp://example.org/a.png", "javascript:alert(1)"):
        with pytest.raises(NSTError, match="not an http:// or https:// address"):
            _collect([url], tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_page_raises_naming_it(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again when the block ends: nobody listens
    url = f"http://127.0.0.1:{port}/gallery.html"
    with pytest.raises(NSTError, match=f"cannot fetch {url}"):
        _collect([url], tmp_path)


def test_a_missing_page_raises_with_the_http_status(server, tmp_path):
    url = server.base + "/no/such/page.html"
    with pytest.raises(NSTError, match=f"cannot fetch {url}: HTTP 404"):
        _collect([url], tmp_path)


# --------------------------------------------------------------------------- command line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nst")
    add_collect_parser(parser.add_subparsers(dest="command", required=True))
    return parser


def test_run_collect_from_the_command_line(server, tmp_path):
    listing = tmp_path / "urls.txt"
    listing.write_text(f"# paintings\n\n{server.base}/pictures/two.jpg\n", encoding="utf-8")
    folder = tmp_path / "out"
    args = _parser().parse_args(
        ["collect", f"{server.base}/gallery/one.png", "--from-file", str(listing),
         "--into", str(folder), "--delay", "0", "--min-side", "8", "--max-mb", "1", "--quiet"]
    )  # fmt: skip
    lines: list[str] = []
    assert run_collect(args, lines.append) == 0
    assert [r["file"] for r in _provenance(folder)] == ["one.png", "two.jpg"]
    assert lines[-1] == f"collected 2 new images into {folder}"
    assert (args.max_images, args.min_side) == (100, 8)


def test_run_collect_user_errors(tmp_path):
    parser = _parser()
    with pytest.raises(NSTError, match="at least one URL"):
        run_collect(parser.parse_args(["collect", "--into", str(tmp_path)]), print)
    missing = tmp_path / "missing.txt"
    with pytest.raises(NSTError, match="cannot read --from-file"):
        run_collect(
            parser.parse_args(["collect", "--from-file", str(missing), "--into", "x"]), print
        )
    with pytest.raises(NSTError, match="max_mb"):
        run_collect(
            parser.parse_args(["collect", "http://a.org", "--into", "x", "--max-mb", "0"]), print
        )
    with pytest.raises(SystemExit):
        parser.parse_args(["collect", "http://a.org"])  # --into is required
