"""A standard photo set to train real-time style networks on, downloaded when online.

``photo_set_folder()`` downloads COCO's 2017 validation images (one 778 MiB zip, 5000
photos) into the cache, checks its sha256 and unpacks 2000 of them into a folder that
:func:`nst_helpers.photos.folder_photos` reads::

    folder = photo_set_folder("coco_val2017", count=2000)   # in Colab, say
    photos, credits = folder_photos(folder)

The zip is written as ``<file>.part`` and renamed only when complete and verified, so an
interrupted download resumes where it stopped the next time (an HTTP ``Range`` request),
and a complete zip in the cache is used without touching the network. Offline, train on
the packaged photos (:func:`nst_helpers.photos.packaged_photos`) instead.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from tqdm.auto import tqdm

from . import __version__
from .data import DOWNLOAD_TIMEOUT_S, cache_dir
from .errors import NSTError
from .files import atomic_write, file_hash

USER_AGENT = f"nst_helpers/{__version__} (neural style transfer course; photo_sets)"
CHUNK_BYTES = 1 << 20
Log = Callable[[str], object]


@dataclass(frozen=True)
class PhotoSet:
    """A zip of photos on the web.

    Attributes:
        name: the short name used in code, e.g. ``"coco_val2017"``.
        url: public address of the zip.
        size_bytes: its size, for the progress bar before the server says it.
        sha256: hex digest of the zip, or None to trust the first complete download
            (its digest is then recorded beside the cached zip and later uses must match).
        credit: where the photos come from and on what terms.
    """

    name: str
    url: str
    size_bytes: int
    sha256: str | None
    credit: str

    @property
    def filename(self) -> str:
        """The zip's file name in the cache (the last part of its address)."""
        return PurePosixPath(urllib.parse.urlsplit(self.url).path).name or f"{self.name}.zip"


PHOTO_SETS: dict[str, PhotoSet] = {
    "coco_val2017": PhotoSet(
        "coco_val2017",
        "http://images.cocodataset.org/zips/val2017.zip",
        815585330,
        # size and sha256 from TensorFlow Datasets, tensorflow_datasets/url_checksums/coco.txt
        # (MD5 442b8da7639aecaf257c1dceb8ba8c80, as other loaders publish it)
        "4f7e2ccb2866ec5041993c9cf2a952bbed69647b115d0f74da7ce8f4bef82f05",
        "COCO 2017 validation images (Lin et al. 2014, Microsoft COCO: Common Objects in "
        "Context); images under Flickr licences listed in COCO's annotations; for training "
        "only, not redistributed",
    ),
}
"""The photo sets by name. ``coco_val2017`` is checked against the sha256 published with
TensorFlow Datasets (``tensorflow_datasets/url_checksums/coco.txt``)."""


# --------------------------------------------------------------------------- lookup


def get_photo_set(name_or_set: str | PhotoSet) -> PhotoSet:
    """The :data:`PHOTO_SETS` entry called ``name_or_set`` (a PhotoSet is returned as it is)."""
    if isinstance(name_or_set, PhotoSet):
        return name_or_set
    if name_or_set in PHOTO_SETS:
        return PHOTO_SETS[name_or_set]
    raise NSTError(f"Unknown photo set {name_or_set!r}: use one of {', '.join(PHOTO_SETS)}.")


def _cache_folder(cache: Path | None) -> Path:
    folder = Path(cache).expanduser() if cache is not None else cache_dir() / "photo_sets"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# --------------------------------------------------------------------------- checksums


def _record_path(zip_path: Path) -> Path:
    return zip_path.with_name(zip_path.name + ".sha256.json")


def _expected_sha256(photo_set: PhotoSet, zip_path: Path) -> str | None:
    """The published sha256, else the one recorded after the first download, else None."""
    if photo_set.sha256:
        return photo_set.sha256
    try:
        return json.loads(_record_path(zip_path).read_text())["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _record_sha256(zip_path: Path, sha256: str) -> None:
    """Trust on first use: remember the digest of the first complete download."""
    with atomic_write(_record_path(zip_path)) as stream:
        stream.write(json.dumps({"file": zip_path.name, "sha256": sha256}).encode())


def _verify(photo_set: PhotoSet, path: Path, zip_path: Path) -> str:
    """sha256 of ``path``; deletes it and raises NSTError when it is not the expected one."""
    expected, got = _expected_sha256(photo_set, zip_path), file_hash(path)
    if expected and got != expected:
        path.unlink(missing_ok=True)
        raise NSTError(
            f"{path.name} of {photo_set.name} has the wrong sha256 (expected {expected}, "
            f"got {got}); the file was deleted: run again to download it afresh."
        )
    return got


# --------------------------------------------------------------------------- download


def _range_start(response: http.client.HTTPResponse) -> int | None:
    """First byte of a 206 answer, from ``Content-Range: bytes N-M/T``."""
    found = re.match(r"bytes\s+(\d+)-", response.headers.get("Content-Range", ""))
    return int(found.group(1)) if found else None


def _open(url: str, offset: int) -> tuple[http.client.HTTPResponse | None, int]:
    """GET ``url`` from byte ``offset``: (response, byte it starts at), or (None, offset)
    when the server answers 416 because nothing is left to send."""
    headers = {"User-Agent": USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_S)
    except urllib.error.HTTPError as error:
        if error.code != 416 or not offset:
            raise
        error.close()
        return None, offset
    if offset and response.status == 206 and _range_start(response) != offset:
        response.close()  # a range we did not ask for: start over
        return _open(url, 0)
    return response, offset if response.status == 206 else 0


def _download_part(photo_set: PhotoSet, part: Path, progress: bool) -> str:
    """Fetch the rest of ``part``; returns ``"downloaded"`` or ``"resumed"``.
    A server that ignores ``Range`` (200 instead of 206) makes it start over."""
    offset = part.stat().st_size if part.is_file() else 0
    response, start = _open(photo_set.url, offset)
    if response is None:
        return "resumed"
    length = response.headers.get("Content-Length")
    total = start + int(length) if length and length.isdigit() else photo_set.size_bytes
    bar = tqdm(
        total=total,
        initial=start,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc=photo_set.filename,
        disable=not progress,
    )
    with response, bar, open(part, "ab" if start else "wb") as out:
        for chunk in iter(lambda: response.read(CHUNK_BYTES), b""):
            out.write(chunk)
            bar.update(len(chunk))
        out.flush()
        os.fsync(out.fileno())
        if out.tell() < total:
            raise ConnectionError(f"connection closed after {out.tell()} of {total} bytes")
    return "resumed" if start else "downloaded"


def _network_error(photo_set: PhotoSet, part: Path, error: BaseException) -> NSTError:
    kept = part.stat().st_size if part.is_file() else 0
    return NSTError(
        f"Could not download {photo_set.name} from {photo_set.url} ({error}); {kept} bytes "
        f"are kept in {part}: run again to resume the download. Offline, train on the "
        f"packaged photos instead (nst_helpers.photos.packaged_photos)."
    )


def _fetch(photo_set: PhotoSet, folder: Path, progress: bool, log: Log) -> tuple[Path, str]:
    """The verified zip in ``folder`` and how it got there: cached, resumed or downloaded."""
    final = folder / photo_set.filename
    if final.is_file():
        try:
            _verify(photo_set, final, final)
            return final, "cached"
        except NSTError:  # _verify deleted it
            log(f"{final} was damaged (wrong sha256): downloading it again.")
    part = final.with_name(final.name + ".part")
    try:
        how = _download_part(photo_set, part, progress)
    except (OSError, http.client.HTTPException) as error:  # URLError, timeout, reset, ...
        plain = isinstance(error, urllib.error.URLError) and not hasattr(error, "code")
        reason = error.reason if plain else error
        raise _network_error(photo_set, part, reason) from error
    sha256 = _verify(photo_set, part, final)
    os.replace(part, final)
    if not photo_set.sha256 and _expected_sha256(photo_set, final) is None:
        _record_sha256(final, sha256)
    return final, how


def download_photo_set(
    name_or_set: str | PhotoSet,
    cache: Path | None = None,
    progress: bool = True,
    log: Log = print,
) -> Path:
    """Path of the photo set's verified zip in ``cache`` (default ``cache_dir()/photo_sets``),
    downloading or resuming it when needed; logs one line saying which.

    Raises NSTError on a wrong checksum (the bad file is deleted) or a network failure (the
    part downloaded so far is kept, and the next call resumes it).
    """
    photo_set = get_photo_set(name_or_set)
    path, how = _fetch(photo_set, _cache_folder(cache), progress, log)
    log(f"{photo_set.name}: {how} {path}")
    return path


# --------------------------------------------------------------------------- extraction


def _flat_name(member: str) -> str:
    """The last part of a member's name: never a folder, so nothing lands outside."""
    return PurePosixPath(member.replace("\\", "/")).name


def _image_members(archive: zipfile.ZipFile) -> list[tuple[str, zipfile.ZipInfo]]:
    """(flat name, member) for each image file, sorted by name; the first of equal names wins."""
    from .images import IMAGE_SUFFIXES  # loads TensorFlow: only when extracting

    found: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        name = _flat_name(info.filename)
        image = PurePosixPath(name).suffix.lower() in IMAGE_SUFFIXES
        if image and not info.is_dir() and not name.startswith("."):
            found.setdefault(name, info)
    return sorted(found.items())


def _choose(members: list, count: int | None, seed: int) -> list:
    """All ``members``, or ``count`` of them picked by a seeded shuffle (a smaller count
    gives a subset of a larger one), in their original order."""
    if count is not None and count < 0:
        raise NSTError(f"count must be None or at least 0, not {count}")
    if count is None or count >= len(members):
        return members
    picked = set(random.Random(seed).sample(range(len(members)), len(members))[:count])
    return [member for index, member in enumerate(members) if index in picked]


def _extract_one(archive: zipfile.ZipFile, name: str, info: zipfile.ZipInfo, folder: Path) -> Path:
    target = folder / name
    if target.is_file() and not target.is_symlink() and target.stat().st_size == info.file_size:
        return target  # extracted by an earlier run
    with archive.open(info) as source, atomic_write(target) as out:
        shutil.copyfileobj(source, out, CHUNK_BYTES)
    return target


def extract_photos(
    zip_path: Path, folder: Path, count: int | None = None, seed: int = 0
) -> list[Path]:
    """Extract ``count`` images (all when None; else a seeded random choice) from the zip into
    ``folder``, flat, by file name only; returns their paths, sorted.

    Only members with an image suffix are read; files already there with the same size are
    kept, so a second run is quick. Raises NSTError when the zip is damaged.
    """
    folder = Path(folder).expanduser()
    try:
        with zipfile.ZipFile(zip_path) as archive:
            chosen = _choose(_image_members(archive), count, seed)
            folder.mkdir(parents=True, exist_ok=True)
            return [_extract_one(archive, name, info, folder) for name, info in chosen]
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise NSTError(
            f"{zip_path} is damaged ({error}): delete it and run again to download it afresh."
        ) from error


def photo_set_folder(
    name: str = "coco_val2017",
    count: int | None = 2000,
    cache: Path | None = None,
    progress: bool = True,
    log: Log = print,
) -> Path:
    """Folder ``cache/name`` holding ``count`` photos of the set (downloaded when needed),
    ready for :func:`nst_helpers.photos.folder_photos`; logs one line saying whether the zip
    was cached, resumed or downloaded. Photos from an earlier, larger ``count`` stay there."""
    photo_set = get_photo_set(name)
    root = _cache_folder(cache)
    zip_path, how = _fetch(photo_set, root, progress, log)
    folder = root / photo_set.name
    paths = extract_photos(zip_path, folder, count)
    log(f"{photo_set.name}: zip {how} ({zip_path}); {len(paths)} photos in {folder}")
    return folder
