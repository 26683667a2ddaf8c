"""Gather images from web pages into a folder, with where each one came from.

``collect(["https://example.org/gallery.html"], "styles/")`` (on the command line
``python -m nst_helpers collect URL [URL...] --into FOLDER``) downloads the images a page
shows (``<img src>``, and of ``<img srcset>`` the largest candidate only, instead of
``src``) and links to (``<a href>`` whose path ends in an image suffix), resolved against
the page's address or its ``<base href>``. An address that answers with an image instead
of a page gives that image: page or image is decided by the answer (``Content-Type``
``text/html`` or HTML-looking bytes), never by the address.

``FOLDER/provenance.json`` lists every image kept: its file, page and image addresses,
download time (UTC), sha256, size, width and height, and the licence and credit the page
states (``<link|a rel="license">``, ``<meta name="license|dc.rights|author|copyright">``;
None when it states none; an image's ``alt`` or ``title`` is not a licence). The same bytes
at a second address are stored once (the extra address goes to the record's ``sources``),
and an address recorded there is never downloaded again, so a re-run fetches only what is
new. Deleting a file does not remove its record: delete the record too to fetch it again.

Safety and politeness rules:

* only ``http://`` and ``https://`` addresses are fetched, also for links in a page and for
  redirect targets (no ``file:``, ``ftp:``, ``data:``, ``javascript:``);
* robots.txt is honoured (read once per host; missing means allowed), the User-Agent names
  this tool, requests to one host are ``delay`` seconds apart, and at most
  ``max_redirects`` redirects are followed (a loop is reported, not followed for ever);
* a download stops at ``max_bytes`` (refused from ``Content-Length`` when the server sends
  it, else counted while reading); at most ``max_images`` new images are kept per run;
* what arrives must decode with Pillow as a PNG, JPEG, WebP, BMP, GIF or TIFF image of at
  most 50 million pixels (the extension and ``Content-Type`` are not trusted); images with
  a side under ``min_side`` pixels (icons) are skipped;
* files are written, atomically, only inside the folder: the server's file name is reduced
  to a safe base name (no folders, ``..``, separators or control characters; at most 100
  characters) with the suffix of the decoded format, and never replaces an existing file.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import io
import json
import os
import re
import time
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
import urllib.robotparser
import warnings
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path

from PIL import Image
from tqdm.auto import tqdm

from . import __version__
from .errors import NSTError
from .files import atomic_write
from .validate import finite_number, positive_int

USER_AGENT = f"nst_helpers/{__version__} (neural style transfer course; collect)"
PROVENANCE = "provenance.json"
MAX_PIXELS = 50_000_000  # as nst_helpers.images.MAX_PIXELS (importing it would load TensorFlow)
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"})
"""Link targets judged to be images; the same as :data:`nst_helpers.images.IMAGE_SUFFIXES`."""
FORMAT_SUFFIXES = {
    "PNG": ".png",
    "JPEG": ".jpg",
    "MPO": ".jpg",  # a JPEG with extra frames, as some cameras write
    "WEBP": ".webp",
    "BMP": ".bmp",
    "GIF": ".gif",
    "TIFF": ".tif",
}
"""The Pillow formats kept and the suffix each gets."""
LICENCE_META = (
    "license",
    "licence",
    "dc.rights",
    "dcterms.rights",
    "dc.license",
    "dcterms.license",
)
CREDIT_META = ("author", "copyright", "dc.creator", "dcterms.creator")
CHUNK_BYTES = 1 << 16
NAME_BYTES = 100
RESERVED_NAMES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10))}
RESERVED_NAMES |= {f"lpt{i}" for i in range(10)}
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError)
Log = Callable[[str], object]


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class CollectSettings:
    """How :func:`collect` behaves; the values are checked when the object is made.

    Attributes:
        delay: seconds between two requests to one host (0 in tests).
        max_bytes: the largest download (page or image) read, in bytes.
        max_images: at most this many new images are kept per run.
        min_side: images whose width or height is smaller (icons) are skipped, pixels.
        max_redirects: redirects followed per address.
        timeout: seconds to wait for a server before giving up.
        user_agent: the User-Agent header sent, also the name robots.txt rules apply to.
    """

    delay: float = 1.0
    max_bytes: int = 20 * 2**20
    max_images: int = 100
    min_side: int = 64
    max_redirects: int = 5
    timeout: float = 30.0
    user_agent: str = USER_AGENT

    def __post_init__(self) -> None:
        finite_number(self.delay, "delay")
        finite_number(self.timeout, "timeout", strict=True)
        positive_int(self.max_bytes, "max_bytes")
        positive_int(self.max_images, "max_images")
        positive_int(self.min_side, "min_side")
        positive_int(self.max_redirects, "max_redirects", low=0)
        if not self.user_agent.strip() or not self.user_agent.isprintable():
            raise NSTError(f"user_agent must be printable text, not {self.user_agent!r}")


@dataclass(frozen=True)
class Skipped:
    """An address not kept: ``kind`` is the short reason (``"too small"``), ``detail`` the
    long one; ``page`` is the page that showed it (None for an address given directly)."""

    address: str
    page: str | None
    kind: str
    detail: str


@dataclass
class CollectReport:
    """What :func:`collect` did: the files it wrote, the image addresses already in the
    folder (recorded, or the same bytes as a recorded image) and the addresses skipped."""

    folder: Path
    added: list[Path] = field(default_factory=list)
    already_there: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def summary(self) -> str:
        """One line, e.g. ``collected 2 new images into F (1 already there, 1 skipped: ...)``."""
        count = len(self.added)
        line = f"collected {count} new image{'' if count == 1 else 's'} into {self.folder}"
        parts = [f"{len(self.already_there)} already there"] if self.already_there else []
        if self.skipped:
            kinds = Counter(skip.kind for skip in self.skipped)
            reasons = ", ".join(f"{number} {kind}" for kind, number in kinds.items())
            parts.append(f"{len(self.skipped)} skipped: {reasons}")
        return line + (f" ({', '.join(parts)})" if parts else "")


class _Skip(Exception):
    """An address that is not kept; ``kind`` is the short reason, ``detail`` the long one."""

    def __init__(self, kind: str, detail: str, status: int | None = None):
        super().__init__(detail)
        self.kind, self.detail, self.status = kind, detail, status


class _Unreachable(_Skip):
    """The server could not be reached or answered with an HTTP error."""


# --------------------------------------------------------------------------- pages


@dataclass
class PageInfo:
    """What :func:`read_page` finds in a page: image addresses, licence and credit."""

    images: list[str]
    licence: str | None
    credit: str | None


class _PageParser(HTMLParser):
    """Collects ``<base href>``, image candidates, licence links and meta tags, unresolved."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.images: list[tuple[str, str]] = []  # (kind, raw address): "img" or "link"
        self.licences: list[tuple[str, list[str]]] = []  # (href, text of the <a>)
        self.meta: dict[str, str] = {}
        self._licence_text: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: (value or "").strip() for name, value in attrs}
        rel = values.get("rel", "").lower().split()
        if tag == "base" and self.base is None and values.get("href"):
            self.base = values["href"]
        elif tag == "img":
            self._image(values)
        elif tag in ("a", "link") and "license" in rel and values.get("href"):
            self.licences.append((values["href"], []))
            self._licence_text = self.licences[-1][1] if tag == "a" else None
        elif tag == "a" and values.get("href"):
            self.images.append(("link", values["href"]))
        elif tag == "meta" and values.get("name") and values.get("content"):
            self.meta.setdefault(values["name"].lower(), values["content"])

    def _image(self, values: dict[str, str]) -> None:
        """The largest ``srcset`` candidate when there is one, else ``src``."""
        candidates = srcset_candidates(values.get("srcset", ""))
        if candidates:
            self.images.append(("img", max(candidates, key=lambda pair: pair[1])[0]))
        elif values.get("src"):
            self.images.append(("img", values["src"]))

    def handle_data(self, data: str) -> None:
        if self._licence_text is not None:
            self._licence_text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._licence_text = None


_CANDIDATE = re.compile(r"[\s,]*([^\s,]+(?:,+[^\s,]+)*)([^,]*)")


def srcset_candidates(srcset: str) -> list[tuple[str, tuple[int, float]]]:
    """The (address, size) pairs of a ``srcset``; a size is ``(1, width)`` for ``800w``,
    ``(0, density)`` for ``2x`` or none, so that ``max`` picks the largest."""
    found = []
    for match in _CANDIDATE.finditer(srcset):
        descriptor = re.search(r"(\d+(?:\.\d+)?)\s*([wx])", match.group(2).lower())
        if descriptor is None:
            found.append((match.group(1), (0, 1.0)))
        else:
            kind, value = int(descriptor.group(2) == "w"), float(descriptor.group(1))
            found.append((match.group(1), (kind, value)))
    return found


def is_web_address(url: str) -> bool:
    """True for an absolute ``http://`` or ``https://`` address with a host."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:  # e.g. "http://[::1"
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _resolve(base: str, raw: str) -> str | None:
    """``raw`` made absolute against ``base``, without its ``#fragment``; None when it is
    not a web address (``javascript:``, ``data:``, ``file:``...) or is malformed."""
    try:
        url = urllib.parse.urldefrag(urllib.parse.urljoin(base, raw.strip()))[0]
        return url if is_web_address(url) else None
    except ValueError:  # e.g. a bad IPv6 host
        return None


def _suffix_of(url: str) -> str:
    return Path(urllib.parse.unquote(urllib.parse.urlsplit(url).path)).suffix.lower()


def read_page(html: str, page_url: str) -> PageInfo:
    """The image addresses, licence and credit of the HTML text ``html`` found at
    ``page_url``. See :func:`image_addresses` for the addresses."""
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    base = _resolve(page_url, parser.base) if parser.base else None
    base = base or page_url
    images = []
    for kind, raw in parser.images:
        url = _resolve(base, raw)
        if url and (kind == "img" or _suffix_of(url) in IMAGE_SUFFIXES):
            images.append(url)
    return PageInfo(list(dict.fromkeys(images)), _licence(parser, base), _credit(parser))


def _licence(parser: _PageParser, base: str) -> str | None:
    """The first licence the page states: a ``rel="license"`` link (with its text), else a
    licence meta tag."""
    if parser.licences:
        href, text = parser.licences[0]
        address = urllib.parse.urljoin(base, href)
        words = " ".join("".join(text).split())
        return f"{words} ({address})" if words else address
    return next((parser.meta[name] for name in LICENCE_META if name in parser.meta), None)


def _credit(parser: _PageParser) -> str | None:
    found = [parser.meta[name] for name in CREDIT_META if name in parser.meta]
    return "; ".join(dict.fromkeys(found)) or None


def image_addresses(html: str, page_url: str) -> list[str]:
    """The absolute addresses of the images an HTML page shows or links to, in page order,
    each once.

    ``<img src>`` (or, when the ``<img>`` has a ``srcset``, its largest candidate instead)
    and ``<a href>`` whose path ends in an image suffix (``.png``, ``.jpg``...), resolved
    against ``page_url`` or the page's first ``<base href>``, ``#fragments`` removed. Only
    ``http(s)`` addresses are returned: ``javascript:``, ``data:``, ``file:``... are dropped.

    >>> image_addresses('<img src="a.png"><a href="/b.jpg">b</a>', "http://x.org/p/")
    ['http://x.org/p/a.png', 'http://x.org/b.jpg']
    """
    return read_page(html, page_url).images


# --------------------------------------------------------------------------- network


@dataclass(frozen=True)
class _Fetched:
    url: str  # the final address, after redirects
    content_type: str
    data: bytes

    def is_html(self) -> bool:
        """HTML by its Content-Type or, whatever that says, by its first bytes."""
        if self.content_type.split(";")[0].strip().lower() in (
            "text/html",
            "application/xhtml+xml",
        ):
            return True
        head = self.data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        return head.startswith((b"<!doctype html", b"<html"))

    def text(self) -> str:
        charset = re.search(r"charset=[\"']?([\w.:-]+)", self.content_type, re.IGNORECASE)
        try:
            return self.data.decode(charset.group(1) if charset else "utf-8", errors="replace")
        except LookupError:  # an unknown charset name
            return self.data.decode("utf-8", errors="replace")


def _opener() -> urllib.request.OpenerDirector:
    """HTTP(S) only, with no redirect handler: redirects arrive as HTTPError and are
    followed by :class:`_Client`, which checks each target."""
    opener = urllib.request.OpenerDirector()
    handlers = (
        urllib.request.ProxyHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    )
    for handler in handlers:
        opener.add_handler(handler)
    return opener


def _ascii_url(url: str) -> str:
    """``url`` with spaces, control and non-ASCII characters percent-encoded."""
    return urllib.parse.quote(url, safe="%/:=&?~#+!$,;'@()*[]")


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _read_capped(response: http.client.HTTPResponse, limit: int) -> bytes:
    """The body of ``response``, refused (before reading, from ``Content-Length``, or as soon
    as more arrives) when it is longer than ``limit`` bytes; never reads more than limit + 1."""
    length = (response.headers.get("Content-Length") or "").strip()
    if length.isdigit() and int(length) > limit:
        raise _Skip("too large", f"{int(length):,} bytes, over the limit of {limit:,}")
    chunks, total = [], 0
    while chunk := response.read(min(CHUNK_BYTES, limit + 1 - total)):
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            raise _Skip("too large", f"more than the limit of {limit:,} bytes")
    return b"".join(chunks)


class _Client:
    """GET with robots.txt, a delay per host, checked redirects and a size cap."""

    def __init__(self, settings: CollectSettings):
        self.settings = settings
        self.opener = _opener()
        self.robots: dict[str, urllib.robotparser.RobotFileParser | _Unreachable] = {}
        self.last_request: dict[str, float] = {}

    def fetch(self, url: str, robots: bool = True) -> _Fetched:
        """The answer at ``url`` after at most ``max_redirects`` redirects, each checked."""
        visited: list[str] = []
        while True:
            if not is_web_address(url):
                raise _Skip("not HTTP(S)", f"not an http(s) address: {url[:100]}")
            if robots:
                self._check_robots(url)
            answer = self._request(url)
            if isinstance(answer, _Fetched):
                return answer
            visited.append(url)
            url = answer
            if url in visited:
                raise _Skip("redirect loop", f"redirect loop back to {url}")
            if len(visited) > self.settings.max_redirects:
                limit = self.settings.max_redirects
                raise _Skip("too many redirects", f"more than {limit} redirects")

    def _request(self, url: str) -> _Fetched | str:
        """One GET: the answer, or the address a redirect points to."""
        origin = _origin(url)
        wait = self.last_request.get(origin, -1e9) + self.settings.delay - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        try:
            return self._exchange(url)
        finally:
            self.last_request[origin] = time.monotonic()

    def _exchange(self, url: str) -> _Fetched | str:
        headers = {"User-Agent": self.settings.user_agent, "Accept": "text/html,image/*,*/*;q=0.5"}
        request = urllib.request.Request(_ascii_url(url), headers=headers)
        try:
            with self.opener.open(request, timeout=self.settings.timeout) as response:
                data = _read_capped(response, self.settings.max_bytes)
                return _Fetched(url, response.headers.get("Content-Type", ""), data)
        except urllib.error.HTTPError as error:
            try:
                return _redirect_target(url, error)
            finally:
                error.close()
        except urllib.error.URLError as error:
            raise _Unreachable("unreachable", str(error.reason)) from None
        except (OSError, http.client.HTTPException) as error:  # timeouts, resets, cut answers
            raise _Unreachable("unreachable", str(error) or type(error).__name__) from None
        except ValueError as error:  # http.client.InvalidURL, a bad port
            raise _Skip("bad address", str(error)) from None

    def _check_robots(self, url: str) -> None:
        origin = _origin(url)
        if origin not in self.robots:
            self.robots[origin] = self._read_robots(origin)
        rules = self.robots[origin]
        if isinstance(rules, _Unreachable):
            raise _Unreachable(rules.kind, rules.detail, rules.status)
        if not rules.can_fetch(self.settings.user_agent, _ascii_url(url)):
            raise _Skip("disallowed by robots.txt", f"{origin}/robots.txt disallows it")

    def _read_robots(self, origin: str) -> urllib.robotparser.RobotFileParser | _Unreachable:
        """The host's rules, as urllib.robotparser reads them: none (all allowed) when
        robots.txt is missing (a 4xx answer), all disallowed on 401, 403 or a server error."""
        rules = urllib.robotparser.RobotFileParser(origin + "/robots.txt")
        try:
            answer = self.fetch(origin + "/robots.txt", robots=False)
        except _Unreachable as error:
            if error.status is None:  # no answer at all: the host is down
                return error
            rules.allow_all = 400 <= error.status < 500 and error.status not in (401, 403)
            rules.disallow_all = not rules.allow_all
            return rules
        except _Skip:  # too large, too many redirects: as if there were none
            rules.allow_all = True
            return rules
        rules.parse(answer.text().splitlines())
        return rules


def _redirect_target(url: str, error: urllib.error.HTTPError) -> str:
    """Where a 301, 302, 303, 307 or 308 answer points; other errors raise _Unreachable."""
    location = error.headers.get("Location") if error.headers else None
    if error.code in (301, 302, 303, 307, 308) and location:
        return urllib.parse.urljoin(url, location.strip())
    raise _Unreachable("HTTP error", f"HTTP {error.code} {error.reason}", error.code)


# --------------------------------------------------------------------------- images


@dataclass(frozen=True)
class _ImageFacts:
    format: str
    width: int
    height: int


def _decode(data: bytes) -> _ImageFacts:
    """Decode ``data`` fully with Pillow (first frame); _Skip when it is no image."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                facts = _ImageFacts(str(img.format), *img.size)
                if facts.width * facts.height > MAX_PIXELS:
                    raise Image.DecompressionBombError(f"{facts.width}x{facts.height} pixels")
                img.load()
                return facts
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _Skip("too large", f"too many pixels ({error})") from None
    except _DECODE_ERRORS as error:
        reason = "unknown format" if isinstance(error, Image.UnidentifiedImageError) else error
        raise _Skip("not an image", f"Pillow cannot decode it ({reason})") from None


def _check_image(data: bytes, min_side: int) -> _ImageFacts:
    """The facts of an image worth keeping; _Skip for anything else."""
    facts = _decode(data)
    if facts.format not in FORMAT_SUFFIXES:
        raise _Skip("unsupported format", f"{facts.format} is not PNG, JPEG, WebP, BMP, GIF, TIFF")
    if min(facts.width, facts.height) < min_side:
        size = f"{facts.width}x{facts.height} px"
        raise _Skip("too small", f"{size}, under the minimum side of {min_side} px")
    return facts


def _clean_stem(name: str) -> str:
    """A harmless file name stem from any text: the last path part, no control characters,
    only letters, digits, ``-``, ``_`` and inner dots, at most NAME_BYTES bytes (UTF-8)."""
    name = unicodedata.normalize("NFKC", name).replace("\\", "/").split("/")[-1]
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C")
    stem, suffix = os.path.splitext(name)
    stem = stem if suffix.lower() in IMAGE_SUFFIXES else name
    stem = re.sub(r"\.{2,}", ".", re.sub(r"[^\w.-]+", "_", stem))
    stem = stem.strip("._-").encode()[:NAME_BYTES].decode(errors="ignore").strip("._-")
    if not stem or stem.lower().split(".")[0] in RESERVED_NAMES:
        stem = f"image_{stem}".rstrip("_")
    return stem


def safe_file_name(name: str, folder: str | os.PathLike, suffix: str) -> Path:
    """A new file's path inside ``folder`` named after ``name`` (a server's file name, which
    may hold ``../``, separators or control characters), ending in ``suffix``.

    Keeps only a clean base name (see the module's rules), replaces an image suffix of
    ``name`` with ``suffix`` and adds ``-2``, ``-3``... when the name is taken. Raises
    NSTError if ``suffix`` is not an image suffix or the path would leave ``folder``.
    """
    if suffix.lower() not in IMAGE_SUFFIXES:
        raise NSTError(f"{suffix!r} is not an image suffix: use one of {sorted(IMAGE_SUFFIXES)}")
    folder = Path(folder).expanduser().resolve()
    stem, number = _clean_stem(name), 1
    path = folder / f"{stem}{suffix.lower()}"
    while os.path.lexists(path):
        number += 1
        path = folder / f"{stem}-{number}{suffix.lower()}"
    if path.resolve().parent != folder:
        raise NSTError(f"refusing to write {path}: it is not inside {folder}")
    return path


# --------------------------------------------------------------------------- provenance


def load_provenance(folder: str | os.PathLike) -> list[dict]:
    """The records of ``folder/provenance.json`` (an empty list when there is none)."""
    path = Path(folder).expanduser() / PROVENANCE
    if not path.exists():
        return []
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise NSTError(f"cannot read {path} ({error}); fix it or move it away.") from error
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise NSTError(f"{path} is not a list of records; fix it or move it away.")
    return records


def _save_provenance(folder: Path, records: list[dict]) -> None:
    text = json.dumps(records, indent=2, ensure_ascii=False) + "\n"
    with atomic_write(folder / PROVENANCE) as stream:
        stream.write(text.encode("utf-8"))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _addresses(record: dict) -> list[str]:
    """The image addresses a record stands for: its own and those of its extra sources."""
    sources = record.get("sources") or []
    return [record.get("image"), *(s.get("image") for s in sources if isinstance(s, dict))]


# --------------------------------------------------------------------------- collecting


class _Collector:
    """The state of one :func:`collect` run."""

    def __init__(self, folder: Path, settings: CollectSettings, bar: tqdm):
        self.folder, self.settings, self.bar = folder, settings, bar
        self.client = _Client(settings)
        self.records = load_provenance(folder)
        self.by_sha = {r.get("sha256"): r for r in self.records}
        self.known = {address for r in self.records for address in _addresses(r)}
        self.tried: set[str] = set()
        self.report = CollectReport(folder)

    @property
    def full(self) -> bool:
        return len(self.report.added) >= self.settings.max_images

    def visit(self, url: str) -> None:
        """A page or image address given by the user."""
        if url in self.known or self.full:
            return self.candidate(url, None, None)
        try:
            answer = self.client.fetch(url)
        except _Unreachable as error:
            raise NSTError(f"cannot fetch {url}: {error.detail}; check the address.") from None
        except _Skip as error:
            return self._skip(url, None, error)
        if answer.is_html():
            return self._page(answer)
        self.candidate(url, None, None, answer)

    def _page(self, answer: _Fetched) -> None:
        info = read_page(answer.text(), answer.url)
        self._grow(len(info.images))
        for address in info.images:
            self.candidate(address, answer.url, info)

    def _grow(self, count: int) -> None:
        self.bar.total = (self.bar.total or 0) + count
        self.bar.refresh()

    def candidate(
        self, address: str, page: str | None, info: PageInfo | None, answer: _Fetched | None = None
    ) -> None:
        """An image address (``answer``: its answer, when fetched already): already there,
        skipped, or downloaded and kept."""
        if page is None:
            self._grow(1)
        self.bar.update(1)
        if address in self.tried:
            return
        self.tried.add(address)
        if address in self.known:
            self.report.already_there.append(address)
        elif self.full:
            limit = self.settings.max_images
            self._skip(address, page, _Skip("limit reached", f"max_images={limit}"))
        else:
            self._fetch_and_keep(address, page, info, answer)

    def _fetch_and_keep(
        self, address: str, page: str | None, info: PageInfo | None, answer: _Fetched | None
    ) -> None:
        try:
            self._keep(address, page, info, answer or self.client.fetch(address))
        except _Skip as error:
            self._skip(address, page, error)

    def _keep(self, address: str, page: str | None, info: PageInfo | None, got: _Fetched) -> None:
        """Store ``got`` unless its bytes are already there; record where it came from."""
        facts = _check_image(got.data, self.settings.min_side)
        sha256 = hashlib.sha256(got.data).hexdigest()
        self.known.add(address)
        if sha256 in self.by_sha:
            self._add_source(self.by_sha[sha256], address, page)
            self.report.already_there.append(address)
            return
        name = urllib.parse.unquote(urllib.parse.urlsplit(got.url).path.rsplit("/", 1)[-1])
        path = safe_file_name(name, self.folder, FORMAT_SUFFIXES[facts.format])
        with atomic_write(path, overwrite=False) as stream:
            stream.write(got.data)
        record = _record(path, address, page, info, sha256, len(got.data), facts)
        self.records.append(record)
        self.by_sha[sha256] = record
        _save_provenance(self.folder, self.records)
        self.report.added.append(path)

    def _add_source(self, record: dict, address: str, page: str | None) -> None:
        if address not in _addresses(record):
            source = {"page": page, "image": address, "time": _now()}
            record.setdefault("sources", []).append(source)
            _save_provenance(self.folder, self.records)

    def _skip(self, address: str, page: str | None, error: _Skip) -> None:
        self.report.skipped.append(Skipped(address, page, error.kind, error.detail))


def _record(
    path: Path,
    address: str,
    page: str | None,
    info: PageInfo | None,
    sha256: str,
    size: int,
    facts: _ImageFacts,
) -> dict:
    """The provenance record of a kept image."""
    return {
        "file": path.name,
        "page": page,
        "image": address,
        "time": _now(),
        "sha256": sha256,
        "bytes": size,
        "width": facts.width,
        "height": facts.height,
        "format": facts.format,
        "licence": info.licence if info else None,
        "credit": info.credit if info else None,
    }


def _given_addresses(urls: Iterable[str]) -> list[str]:
    """The addresses given, checked: only http(s) addresses, each once."""
    addresses = [str(url).strip() for url in urls if str(url).strip()]
    for url in addresses:
        if not is_web_address(url):
            raise NSTError(
                f"{url!r} is not an http:// or https:// address; collect only fetches web "
                "pages and images (for files on this computer, copy them into the folder)."
            )
    return list(dict.fromkeys(addresses))


def _prepare_folder(folder: str | os.PathLike) -> Path:
    path = Path(folder).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise NSTError(f"cannot use {path} as the folder: {error.strerror or error}.") from None
    return path


DEFAULT_SETTINGS = CollectSettings()


def collect(
    urls: Iterable[str],
    folder: str | os.PathLike,
    settings: CollectSettings = DEFAULT_SETTINGS,
    progress: bool = True,
    log: Log = print,
) -> CollectReport:
    """Download the images of the web pages (or image addresses) ``urls`` into ``folder``
    and record their provenance in ``folder/provenance.json``; see the module's rules.

    Logs one line per skipped address (at most 10) and a summary line. Raises NSTError for
    an address that is not http(s) or a given address that cannot be reached (no answer, or
    an HTTP error); images that cannot be fetched are skipped with a reason instead.
    """
    addresses = _given_addresses(urls)
    path = _prepare_folder(folder)
    with tqdm(total=0, unit="image", desc="collect", disable=not progress) as bar:
        run = _Collector(path, settings, bar)
        for url in addresses:
            run.visit(url)
    report = run.report
    for skip in report.skipped[:10]:
        log(f"skipped {skip.address[:120]}: {skip.kind} ({skip.detail})")
    if len(report.skipped) > 10:
        log(f"... and {len(report.skipped) - 10} more skipped (CollectReport.skipped)")
    log(report.summary())
    return report


# --------------------------------------------------------------------------- command line


def add_collect_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``collect`` command to the subparsers ``commands``; returns its parser."""
    parser = commands.add_parser(
        "collect",
        help="download the images of web pages, with their provenance",
        description="Download the images that web pages show or link to (or images given by "
        "address) into FOLDER, politely (robots.txt, a delay, size caps), and record where "
        f"each came from in FOLDER/{PROVENANCE}. A second run skips what is already there.",
    )
    parser.add_argument("urls", nargs="*", metavar="URL", help="web page or image addresses")
    parser.add_argument("--from-file", metavar="FILE", help="more addresses, one a line")
    parser.add_argument("--into", required=True, metavar="FOLDER", help="where to put them")
    _add_limit_options(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _add_limit_options(parser: argparse.ArgumentParser) -> None:
    """--max-images, --min-side, --delay and --max-mb, with CollectSettings' defaults."""
    default = CollectSettings()
    options = [
        ("--max-images", int, "N", default.max_images, "new images kept at most"),
        ("--min-side", int, "PX", default.min_side, "skip images with a shorter side (icons)"),
        ("--delay", float, "S", default.delay, "seconds between two requests to one host"),
        ("--max-mb", float, "MB", default.max_bytes / 2**20, "largest download, in MiB"),
    ]
    for option, kind, metavar, value, text in options:
        help_text = f"{text} (default: {value:g})"
        parser.add_argument(option, type=kind, default=value, metavar=metavar, help=help_text)


def read_url_file(path: str | os.PathLike) -> list[str]:
    """The addresses in a text file, one a line; blank lines and ``#`` comments are ignored."""
    try:
        lines = Path(path).expanduser().read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or error
        raise NSTError(f"cannot read --from-file {path}: {reason}.") from None
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def run_collect(args: argparse.Namespace, say: Log) -> int:
    """The ``collect`` command: 0 when done; NSTError for a user error."""
    urls = list(args.urls) + (read_url_file(args.from_file) if args.from_file else [])
    if not urls:
        raise NSTError("collect: give at least one URL, or --from-file with one URL a line.")
    max_mb = finite_number(args.max_mb, "max_mb", strict=True)
    settings = CollectSettings(
        delay=args.delay,
        max_bytes=max(1, int(max_mb * 2**20)),
        max_images=args.max_images,
        min_side=args.min_side,
    )
    collect(urls, args.into, settings, progress=not args.quiet, log=say)
    return 0
