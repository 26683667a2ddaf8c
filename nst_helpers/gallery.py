"""A gallery: many photos painted in many styles, kept pair by pair, shown as a contact
sheet and a web page.

::

    report = paint_gallery(["tubingen", "my_photos/"], ["starry_night", "wave"], "gallery",
                           GallerySettings(method="arbitrary", size=256))

The output folder holds::

    gallery.json                 the settings, the photos and paintings (paths, credits) and
                                 the seconds each finished pair took
    originals/<key>.png          the photos and paintings at the run's size (the sheet's edges)
    pairs/<photo>__<style>.png   one painted picture per pair, written as soon as it is done
    contact_sheet.png            rows = photos, columns = paintings, originals along the edges
    index.html                   the same grid as a web page, with every image's credit

A run that stops (Ctrl-C) keeps the pairs done; the same call continues with the rest, as
long as the method, size and steps are the same (``force=True`` starts over). Pairs are
painted by a :data:`Painter`, made once per run: VGG19, the decoder or each network is
built once, not once per pair.
"""

from __future__ import annotations

import argparse
import dataclasses
import html
import json
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

from . import config
from .data import describe, get_entry, may_show, resolve_image
from .errors import NSTError
from .files import atomic_write
from .images import IMAGE_SUFFIXES, load_image, open_rgb, save_image, to_uint8
from .settings import MAX_SIZE, MAX_STEPS, MIN_SIZE
from .validate import SettingError, positive_int

METHODS = ("stylize", "fast", "arbitrary")
"""How pairs are painted: optimization (Gatys et al.), a trained network per painting
(``--style`` names models), or one decoder for any painting (AdaIN)."""

RECORD, SHEET, PAGE, PAIRS, ORIGINALS = (
    "gallery.json",
    "contact_sheet.png",
    "index.html",
    "pairs",
    "originals",
)
TESTS_ONLY = "tests only, never redistribute"
OWN_IMAGE = "your own image"
NOT_PAINTED = "not painted yet"
MIN_TILE = 64
WHITE, GREY, DARK, PALE = (255, 255, 255), (160, 160, 160), (40, 40, 40), (225, 225, 225)

Log = Callable[[str], object]


# ----------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class GallerySettings:
    """How a gallery is painted: ``method`` (one of :data:`METHODS`), ``size`` (longest side
    of each picture, px), ``steps`` (``stylize`` only) and ``tile`` (the contact sheet's
    square tiles, px). Defaults are smaller in quick mode."""

    method: str = "stylize"
    size: int = field(default_factory=lambda: config.defaults().size)
    steps: int = field(default_factory=lambda: config.defaults().steps)
    tile: int = field(default_factory=lambda: config.pick(full=256, quick=96))

    def __post_init__(self):
        if self.method not in METHODS:
            raise SettingError(
                "method", f"method must be one of {', '.join(METHODS)}, not {self.method!r}"
            )
        positive_int(self.size, "size", MIN_SIZE, MAX_SIZE)
        positive_int(self.steps, "steps", 1, MAX_STEPS)
        positive_int(self.tile, "tile", MIN_TILE, MAX_SIZE)

    def paints_like(self, other: GallerySettings) -> bool:
        """Whether pairs painted with ``other`` are what these settings paint (``steps``
        matter to ``stylize`` only; ``tile`` changes the sheet, not the pictures)."""
        return self._pictures() == other._pictures()

    def _pictures(self) -> tuple:
        return self.method, self.size, self.steps if self.method == "stylize" else None

    def describe(self) -> str:
        steps = f", {self.steps} steps" if self.method == "stylize" else ""
        return f"{self.method}, {self.size} px{steps}"


# ----------------------------------------------------------------------------- planning


@dataclass(frozen=True)
class Picture:
    """A photo or a painting of the gallery.

    Attributes:
        given: as the user gave it (a catalogue name, a file, a model).
        label: the short name shown. key: its part of file names (safe and unique).
        path: the image file shown on the sheet's edge (None: a model whose painting is
            unknown).
        credit: who made it and its rights. shareable: False for the catalogue's images
            kept for tests only (:func:`~nst_helpers.data.may_show`).
        model: for ``fast``, the network painting in this style (a shipped name or a path).
    """

    given: str
    label: str
    path: str | None
    credit: str
    shareable: bool = True
    model: str | None = None
    key: str = ""

    @property
    def identity(self) -> str | None:
        """What is painted with: the network, else the image file."""
        return self.model or self.path

    @property
    def sheet_label(self) -> str:
        return self.label if self.shareable else f"{self.label}\n({TESTS_ONLY})"


@dataclass(frozen=True)
class Pair:
    """One photo in one painting's style."""

    photo: Picture
    style: Picture

    @property
    def key(self) -> str:
        return f"{self.photo.key}__{self.style.key}"

    def file(self, folder: Path) -> Path:
        return Path(folder) / PAIRS / f"{self.key}.png"


def plan_pairs(contents: Iterable, styles: Iterable, method: str = "stylize") -> list[Pair]:
    """Every photo in every style, once: rows in the order given, a folder's images sorted."""
    photos, paintings = plan_pictures(contents, styles, method)
    return _product(photos, paintings)


def _product(photos: Sequence[Picture], paintings: Sequence[Picture]) -> list[Pair]:
    return [Pair(photo, painting) for photo in photos for painting in paintings]


def plan_pictures(
    contents: Iterable, styles: Iterable, method: str = "stylize"
) -> tuple[list[Picture], list[Picture]]:
    """The photos and the paintings (for ``fast``: the models), each once, with keys."""
    photos = [image_picture(item) for item in expand_inputs(contents)]
    if method == "fast":  # a folder is a training run's checkpoints, not a set of models
        paintings = [model_picture(item) for item in _listed(styles)]
    else:
        paintings = [image_picture(item) for item in expand_inputs(styles)]
    return _with_keys(_unique(photos)), _with_keys(_unique(paintings))


def _listed(items: Iterable) -> list:
    items = [items] if isinstance(items, str | Path) else list(items)
    if not items:
        raise NSTError("give at least one photo and one painting")
    return items


def expand_inputs(items: Iterable) -> list:
    """Names and files as they are; a folder becomes its image files, sorted by name."""
    expanded = []
    for item in _listed(items):
        folder = Path(str(item)).expanduser()
        expanded.extend(_folder_images(folder) if folder.is_dir() else [item])
    return expanded


def _folder_images(folder: Path) -> list[Path]:
    found = sorted(
        path
        for path in folder.iterdir()
        if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file() and path.name[0] != "."
    )
    if not found:
        raise NSTError(f"{folder} holds no image files ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return found


def _own_file(item) -> bool:
    return Path(str(item)).expanduser().exists()


def image_picture(item) -> Picture:
    """A photo or painting: a file (the user's own) or a catalogue name."""
    path = resolve_image(item)
    if _own_file(item):
        return Picture(str(item), path.stem, str(path.resolve()), f"{path.name}, {OWN_IMAGE}")
    name = get_entry(str(item)).name
    return Picture(str(item), name, str(path.resolve()), describe(name), may_show(name))


def model_picture(item) -> Picture:
    """A trained network (``fast``): a shipped model's name, a ``.npz`` or a checkpoint
    folder; its picture is the painting it was trained on, when that can be found."""
    from .fast import shipped_file

    text = str(item)
    shipped = shipped_file(item) is not None
    model = text if shipped else str(Path(text).expanduser().resolve())
    label = text if shipped else Path(model).name.removesuffix(".checkpoints")
    label = Path(label).stem if label.endswith(".npz") else label
    path, credit, shareable = _painting_of(model_record(item).get("style", {}))
    return Picture(text, label, path, f"{credit}; network {label}", shareable, model)


def model_record(item) -> dict:
    """A network's record without loading it: the JSON beside a ``.npz`` or in a folder."""
    from .fast import shipped_file, shipped_models
    from .runs import read_record

    path, shipped = Path(str(item)).expanduser(), shipped_file(item)
    if shipped is not None and shipped.with_suffix(".json").is_file():
        return json.loads(shipped.with_suffix(".json").read_text(encoding="utf-8"))
    record = read_record(path) if path.is_dir() else None
    if record is not None:
        return record
    if path.is_file() and path.with_suffix(".json").is_file():
        return json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    names = ", ".join(shipped_models()) or "none installed"
    raise NSTError(f"no model {item!r}: give a shipped model ({names}), a .npz or a folder")


def _painting_of(style: dict) -> tuple[str | None, str, bool]:
    """A model's painting: (its file or None, its credit, whether it may be shown)."""
    name = style.get("name")
    try:
        path = str(resolve_image(name).resolve())
        return path, describe(name), may_show(name)
    except (NSTError, TypeError):
        return None, f"trained on {style.get('title') or style.get('file') or 'unknown'}", True


def _unique(pictures: list[Picture]) -> list[Picture]:
    """Each picture once (the same file given twice, or by a folder and by name)."""
    seen: dict[str | None, Picture] = {}
    for picture in pictures:
        seen.setdefault(picture.identity, picture)
    return list(seen.values())


def safe_name(text: str) -> str:
    """A file-name part: letters, digits, ``.``, ``-`` and single ``_`` (pair keys join
    with ``__``), at most 60 characters."""
    name = re.sub(r"[^A-Za-z0-9.-]+", "_", text).strip("._-")[:60]
    return name or "image"


def _with_keys(pictures: list[Picture]) -> list[Picture]:
    """Each picture with a key unique among them (also where case is ignored)."""
    taken, keyed = set(), []
    for picture in pictures:
        base = key = safe_name(picture.label)
        number = 1
        while key.lower() in taken:
            number += 1
            key = f"{base}_{number}"
        taken.add(key.lower())
        keyed.append(dataclasses.replace(picture, key=key))
    return keyed


# ----------------------------------------------------------------------------- the record


@dataclass
class Gallery:
    """A gallery's record (``gallery.json``): settings, pictures, and the pairs done (key ->
    ``seconds`` and what the pair was painted from)."""

    settings: GallerySettings
    photos: list[Picture]
    paintings: list[Picture]
    done: dict[str, dict] = field(default_factory=dict)

    def pairs(self) -> list[Pair]:
        return _product(self.photos, self.paintings)

    def finished(self) -> int:
        """How many of the gallery's pairs are painted."""
        return sum(pair.key in self.done for pair in self.pairs())

    def as_dict(self) -> dict:
        return {
            **dataclasses.asdict(self.settings),
            "contents": [dataclasses.asdict(p) for p in self.photos],
            "styles": [dataclasses.asdict(p) for p in self.paintings],
            "pairs": self.done,
        }

    @classmethod
    def from_dict(cls, record: dict) -> Gallery:
        fields = dataclasses.fields(GallerySettings)
        settings = GallerySettings(**{f.name: record[f.name] for f in fields})
        photos = [Picture(**p) for p in record["contents"]]
        paintings = [Picture(**p) for p in record["styles"]]
        return cls(settings, photos, paintings, dict(record["pairs"]))


def read_gallery(folder: str | Path) -> Gallery | None:
    """The gallery recorded in ``folder``, or None when there is none."""
    path = Path(folder) / RECORD
    if not path.is_file():
        return None
    try:
        return Gallery.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise NSTError(f"{path} is damaged ({error}); pass --force to start over") from error


def _write_record(gallery: Gallery, folder: Path) -> None:
    text = json.dumps(gallery.as_dict(), indent=2, ensure_ascii=False)
    with atomic_write(folder / RECORD) as stream:
        stream.write(text.encode("utf-8"))


# ----------------------------------------------------------------------------- painting

Painter = Callable[[Pair], object]
"""Paints one pair: returns the picture, (1, H, W, 3) in [0, 1]. Raising KeyboardInterrupt
stops the gallery (what is done is kept)."""


class StylizePainter:
    """:func:`~nst_helpers.optimize.stylize` with one VGG19 for every pair."""

    def __init__(self, settings: GallerySettings, log: Log = print):
        from .optimize import build_extractor
        from .settings import StyleSettings

        self.settings = StyleSettings(size=settings.size, steps=settings.steps)
        self.extractor = build_extractor(self.settings, log)

    def __call__(self, pair: Pair):
        from .optimize import stylize

        result = stylize(
            pair.photo.path,
            pair.style.path,
            self.settings,
            extractor=self.extractor,
            progress=False,
            log=lambda line: None,
        )
        if result.interrupted:  # stylize turns Ctrl-C into a result; a gallery keeps none
            raise KeyboardInterrupt
        return result.image


class FastPainter:
    """The trained networks, each loaded once, at first use."""

    def __init__(self, settings: GallerySettings, log: Log = print):
        self.size, self.networks = settings.size, {}

    def __call__(self, pair: Pair):
        from .fast import load_model, paint

        model = pair.style.model
        if model not in self.networks:
            self.networks[model] = load_model(model)[0]
        return paint(self.networks[model], load_image(pair.photo.path, max_dim=self.size))


class ArbitraryPainter:
    """The shipped decoder (AdaIN, alpha 1), loaded once."""

    def __init__(self, settings: GallerySettings, log: Log = print):
        from .anystyle import AnyStyle

        self.size, self.any_style = settings.size, AnyStyle.load(log=log)

    def __call__(self, pair: Pair):
        photo = load_image(pair.photo.path, max_dim=self.size)
        painting = load_image(pair.style.path, max_dim=self.size)
        return self.any_style.paint(photo, [painting])


PAINTERS = {"stylize": StylizePainter, "fast": FastPainter, "arbitrary": ArbitraryPainter}


def make_painter(settings: GallerySettings, log: Log = print) -> Painter:
    """The painter of ``settings.method``, its networks built once."""
    return PAINTERS[settings.method](settings, log)


@dataclass(frozen=True)
class GalleryReport:
    """What a run did: pairs in the gallery, painted now, kept from earlier runs (skipped),
    the seconds spent painting, and whether it stopped early."""

    folder: Path
    pairs: int
    painted: int
    kept: int
    seconds: float
    stopped: bool = False

    @property
    def missing(self) -> int:
        return self.pairs - self.painted - self.kept

    @property
    def sheet(self) -> Path:
        return self.folder / SHEET

    @property
    def page(self) -> Path:
        return self.folder / PAGE


class GalleryStopped(KeyboardInterrupt):
    """Ctrl-C during a gallery: the pairs done are kept; ``report`` says how many."""

    def __init__(self, report: GalleryReport):
        super().__init__("stopped")
        self.report = report


def paint_gallery(
    contents: Iterable,
    styles: Iterable,
    output: str | Path,
    settings: GallerySettings | None = None,
    *,
    force: bool = False,
    painter: Painter | None = None,
    progress: bool = True,
    log: Log = print,
) -> GalleryReport:
    """Paint every photo of ``contents`` in every style of ``styles`` into ``output``.

    Inputs are files, folders (their images) or catalogue names; for ``fast`` the styles are
    models. Pairs already painted with the same method, size and steps are kept; other
    settings raise :class:`NSTError` unless ``force``, which starts over. Ctrl-C raises
    :class:`GalleryStopped` (a KeyboardInterrupt) after writing the sheet and page of what
    is done. ``painter`` replaces the method's (:func:`make_painter`), e.g. in tests.
    """
    settings, folder = settings or GallerySettings(), _check_folder(output)
    photos, paintings = plan_pictures(contents, styles, settings.method)
    gallery = _start(folder, Gallery(settings, photos, paintings), force, log)
    _save_originals(gallery, folder)
    todo = [pair for pair in gallery.pairs() if not _kept(pair, gallery, folder)]
    kept, painted = len(gallery.pairs()) - len(todo), []
    try:
        _paint_all(gallery, todo, folder, painter, painted, progress, log)
    except KeyboardInterrupt:
        report = _finish(gallery, folder, kept, painted, stopped=True)
        raise GalleryStopped(report) from None
    return _finish(gallery, folder, kept, painted)


def _check_folder(output: str | Path) -> Path:
    """The output folder: new, empty, or holding a gallery (never a folder of other files)."""
    folder = Path(output).expanduser()
    if folder.exists() and not folder.is_dir():
        raise NSTError(f"{folder} is a file; the gallery needs a folder")
    ours = {folder / PAIRS, folder / ORIGINALS}  # left empty by a run refused after making them
    others = [p for p in _entries(folder) if not (p in ours and not any(p.iterdir()))]
    if others and not (folder / RECORD).is_file():
        raise NSTError(f"{folder} holds other files and no {RECORD}; choose a new folder")
    return folder


def _entries(folder: Path) -> list[Path]:
    return list(folder.iterdir()) if folder.is_dir() else []


def _start(folder: Path, fresh: Gallery, force: bool, log: Log) -> Gallery:
    """The gallery to paint: ``fresh`` with the pairs done earlier (checked alike)."""
    for part in (folder / PAIRS, folder / ORIGINALS):
        part.mkdir(parents=True, exist_ok=True)
    if force:
        _clear(folder)
    old = None if force else read_gallery(folder)
    if old is not None and not old.settings.paints_like(fresh.settings):
        raise NSTError(
            f"{folder} holds a gallery painted with {old.settings.describe()}, not "
            f"{fresh.settings.describe()}; pass --force to start over (its pairs are "
            "deleted) or choose another folder"
        )
    if old is not None and old.done:
        log(f"Continuing the gallery in {folder}")
    fresh.done = _still_true(old.done if old else {}, fresh)
    _write_record(fresh, folder)
    return fresh


def _still_true(done: dict[str, dict], gallery: Gallery) -> dict[str, dict]:
    """The pairs done earlier, less those whose key now means other pictures."""
    now = {pair.key: _sources(pair) for pair in gallery.pairs()}
    return {
        key: entry
        for key, entry in done.items()
        if key not in now or now[key] == (entry.get("photo"), entry.get("style"))
    }


def _sources(pair: Pair) -> tuple[str | None, str | None]:
    return pair.photo.identity, pair.style.identity


def _clear(folder: Path) -> None:
    """Start over: the pictures and the record of an earlier gallery go."""
    for path in [*(folder / PAIRS).glob("*.png"), *(folder / ORIGINALS).glob("*.png")]:
        path.unlink()
    for name in (RECORD, SHEET, PAGE):
        (folder / name).unlink(missing_ok=True)


def _kept(pair: Pair, gallery: Gallery, folder: Path) -> bool:
    return pair.key in gallery.done and pair.file(folder).is_file()


def _save_originals(gallery: Gallery, folder: Path) -> None:
    """Each photo and painting at the run's size, for the sheet's edges and the page."""
    for picture in [*gallery.photos, *gallery.paintings]:
        if picture.path is not None:
            image = load_image(picture.path, max_dim=gallery.settings.size)
            save_image(image, _original(picture, folder), overwrite=True)


def _original(picture: Picture, folder: Path) -> Path:
    return folder / ORIGINALS / f"{picture.key}.png"


def _paint_all(
    gallery: Gallery,
    todo: list[Pair],
    folder: Path,
    painter: Painter | None,
    painted: list[float],
    progress: bool,
    log: Log,
) -> None:
    """Paint the pairs of ``todo``, each saved and recorded as soon as it is done."""
    if not todo:
        return
    painter = painter or make_painter(gallery.settings, log)
    with _bar(len(gallery.pairs()), len(gallery.pairs()) - len(todo), progress) as bar:
        for pair in todo:
            seconds = _paint_one(pair, painter, folder)
            gallery.done[pair.key] = dict(zip(("photo", "style"), _sources(pair)))
            gallery.done[pair.key]["seconds"] = round(seconds, 3)
            _write_record(gallery, folder)
            painted.append(seconds)
            bar.clear()  # the line above the bar, not through it
            log(f"{pair.photo.label} in the style of {pair.style.label}: {seconds:.1f} s")
            bar.update(1)


def _bar(total: int, done: int, progress: bool):
    from tqdm.auto import tqdm

    from .monitor import SafeStream

    return tqdm(
        total=total,
        initial=done,
        desc="gallery",
        unit="pair",
        disable=not progress,
        file=SafeStream(sys.stderr),
    )


def _paint_one(pair: Pair, painter: Painter, folder: Path) -> float:
    """Paint a pair and save it (all at once: never half a file); returns the seconds."""
    started = time.perf_counter()
    image = painter(pair)
    seconds = time.perf_counter() - started
    save_image(image, pair.file(folder), overwrite=True)
    return seconds


def _finish(
    gallery: Gallery, folder: Path, kept: int, painted: list[float], stopped: bool = False
) -> GalleryReport:
    """Write the contact sheet and the page; the run's report."""
    sheet = contact_sheet(sheet_grid(gallery, folder), gallery.settings.tile)
    with atomic_write(folder / SHEET) as stream:
        sheet.save(stream, format="PNG")
    write_html(gallery, folder)
    pairs = len(gallery.pairs())
    return GalleryReport(folder, pairs, len(painted), kept, sum(painted), stopped)


# ----------------------------------------------------------------------------- contact sheet


@dataclass
class SheetGrid:
    """What a contact sheet shows: ``photos`` (its rows) and ``paintings`` (its columns) as
    ``(label, image or None)``, and ``cells[row][column]``, the painted pictures (None: not
    painted yet). Images are arrays or tensors, (H, W, 3) or (1, H, W, 3), in [0, 1] or
    uint8."""

    photos: list[tuple[str, object]]
    paintings: list[tuple[str, object]]
    cells: list[list[object]]
    title: str = ""


def sheet_grid(gallery: Gallery, folder: str | Path) -> SheetGrid:
    """The grid of a gallery, its pictures read from ``folder``."""
    folder = Path(folder)

    def original(picture: Picture) -> tuple[str, object]:
        return picture.sheet_label, _read(_original(picture, folder))

    def cell(pair: Pair):
        return _read(pair.file(folder)) if pair.key in gallery.done else None

    cells = [[cell(Pair(p, s)) for s in gallery.paintings] for p in gallery.photos]
    paintings = [original(picture) for picture in gallery.paintings]
    title = f"{gallery.settings.describe()}\n{gallery.finished()} of {len(cells) * len(paintings)}"
    return SheetGrid([original(p) for p in gallery.photos], paintings, cells, title)


def _read(path: Path) -> np.ndarray | None:
    return open_rgb(path) if path.is_file() else None


def contact_sheet(grid: SheetGrid, tile: int = 256, gap: int = 4) -> Image.Image:
    """The grid as one picture: square tiles of ``tile`` px ``gap`` px apart; the paintings
    along the top, the photos down the left, each labelled; a painted picture where a row
    meets a column, letterboxed in its tile, or a grey tile where it is not painted yet."""
    rows, columns = len(grid.photos), len(grid.paintings)
    if len(grid.cells) != rows or any(len(row) != columns for row in grid.cells):
        raise NSTError(f"the grid needs {rows} rows of {columns} cells")
    font = _font(tile)
    sheet = Image.new("RGB", (_span(columns + 1, tile, gap), _span(rows + 1, tile, gap)), WHITE)
    sheet.paste(_text_tile(grid.title, tile, font, WHITE, DARK), _corner(0, 0, tile, gap))
    for column, (label, image) in enumerate(grid.paintings, 1):
        sheet.paste(_original_tile(image, label, tile, font), _corner(0, column, tile, gap))
    for row, (label, image) in enumerate(grid.photos, 1):
        sheet.paste(_original_tile(image, label, tile, font), _corner(row, 0, tile, gap))
        for column, cell in enumerate(grid.cells[row - 1], 1):
            sheet.paste(_cell_tile(cell, tile, font), _corner(row, column, tile, gap))
    return sheet


def _span(count: int, tile: int, gap: int) -> int:
    return count * tile + (count + 1) * gap


def _corner(row: int, column: int, tile: int, gap: int) -> tuple[int, int]:
    return gap + column * (tile + gap), gap + row * (tile + gap)


def _font(tile: int):
    try:
        return ImageFont.load_default(size=max(10, tile // 16))
    except TypeError:  # Pillow < 10.1: one small bitmap font
        return ImageFont.load_default()


def fit_tile(image, width: int, height: int | None = None, background=WHITE) -> Image.Image:
    """``image`` scaled to fit a box of ``width`` x ``height`` px (default: a square), up or
    down, centred on ``background``."""
    height = width if height is None else height
    picture = Image.fromarray(to_uint8(image))
    picture = ImageOps.contain(picture, (width, height), Image.Resampling.LANCZOS)
    box = Image.new("RGB", (width, height), background)
    box.paste(picture, ((width - picture.width) // 2, (height - picture.height) // 2))
    return box


def _cell_tile(image, tile: int, font) -> Image.Image:
    if image is None:
        return _text_tile(NOT_PAINTED, tile, font, GREY, DARK)
    return fit_tile(image, tile)


def _original_tile(image, label: str, tile: int, font) -> Image.Image:
    """An original above a dark band with its label (no picture: a pale box); at most three
    lines: the first and the last two (a tests-only note stays)."""
    lines, height = _wrap(label, font, tile - 8), _line_height(font)
    lines = lines if len(lines) <= 3 else [lines[0], *lines[-2:]]
    top = max(0, tile - len(lines) * height - 6)
    square = Image.new("RGB", (tile, tile), DARK)
    box = Image.new("RGB", (tile, top), PALE) if image is None else fit_tile(image, tile, top)
    square.paste(box, (0, 0))
    draw = ImageDraw.Draw(square)
    for number, line in enumerate(lines):
        draw.text((tile / 2, top + 3 + number * height), line, fill=WHITE, font=font, anchor="ma")
    return square


def _text_tile(text: str, tile: int, font, fill, ink) -> Image.Image:
    """A plain tile with ``text`` centred on it (as many lines as fit)."""
    square = Image.new("RGB", (tile, tile), fill)
    height = _line_height(font)
    lines = _wrap(text, font, tile - 8)[: max(1, tile // height)]
    top = (tile - len(lines) * height) / 2
    draw = ImageDraw.Draw(square)
    for number, line in enumerate(lines):
        draw.text((tile / 2, top + number * height), line, fill=ink, font=font, anchor="ma")
    return square


def _line_height(font) -> int:
    return int(font.getbbox("Hg")[3]) + 3


def _wrap(text: str, font, width: int) -> list[str]:
    """``text`` in lines at most ``width`` px wide: split at spaces and newlines."""
    lines = []
    for paragraph in text.split("\n"):
        line = ""
        for word in _pieces(paragraph.split(), font, width):
            if line and font.getlength(f"{line} {word}") > width:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}".strip()
        lines.append(line)
    return lines


def _pieces(words: list[str], font, width: int) -> list[str]:
    """The words, those wider than ``width`` px cut into pieces that fit."""
    pieces = []
    for word in words:
        while len(word) > 1 and font.getlength(word) > width:
            cut = max([1, *(n for n in range(1, len(word)) if font.getlength(word[:n]) <= width)])
            pieces.append(word[:cut])
            word = word[cut:]
        pieces.append(word)
    return pieces


# ----------------------------------------------------------------------------- web page

STYLE_SHEET = """
body {{ font-family: sans-serif; margin: 1em; }}
table {{ border-collapse: collapse; }}
th, td {{ padding: 3px; vertical-align: top; text-align: center; font-weight: normal; }}
img, .missing {{ width: {tile}px; height: {tile}px; object-fit: contain; background: #eee; }}
.missing {{ display: flex; align-items: center; justify-content: center; background: #a0a0a0; }}
.credit {{ font-size: smaller; color: #555; max-width: {tile}px; }}
"""


def gallery_html(gallery: Gallery) -> str:
    """The gallery as a web page: the grid (thumbnails link to the full pictures), the
    originals with their credits, the settings and the time per pair."""
    head = "".join(_header(picture) for picture in gallery.paintings)
    rows = "".join(_row(photo, gallery) for photo in gallery.photos)
    style = STYLE_SHEET.format(tile=gallery.settings.tile // 2 + 32)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f"<title>Style transfer gallery</title><style>{style}</style></head><body>\n"
        f"<h1>Style transfer gallery</h1>\n<p>{html.escape(_summary(gallery))}</p>\n"
        f"<table>\n<tr><th></th>{head}</tr>\n{rows}</table>\n</body></html>\n"
    )


def _summary(gallery: Gallery) -> str:
    seconds = [entry["seconds"] for entry in gallery.done.values() if "seconds" in entry]
    pace = f"{sum(seconds) / len(seconds):.1f} s per pair" if seconds else "no pair yet"
    done = gallery.finished()
    return f"Method {gallery.settings.describe()}; {done} of {len(gallery.pairs())} pairs, {pace}"


def _header(picture: Picture) -> str:
    """An original: its picture (if known), linked to the file, its label and credit."""
    label = html.escape(picture.label)
    image = (
        _linked(f"{ORIGINALS}/{picture.key}.png", label)
        if picture.path is not None
        else '<div class="missing">no picture</div>'
    )
    note = "" if picture.shareable else f" ({TESTS_ONLY})"
    credit = html.escape(picture.credit + (note if TESTS_ONLY not in picture.credit else ""))
    return f'<th>{image}<div>{label}</div><div class="credit">{credit}</div></th>'


def _linked(href: str, alt: str, title: str = "") -> str:
    url = html.escape(quote(href))
    hint = f' title="{html.escape(title)}"' if title else ""
    return f'<a href="{url}"><img src="{url}" loading="lazy" alt="{alt}"{hint}></a>'


def _row(photo: Picture, gallery: Gallery) -> str:
    cells = "".join(_cell(Pair(photo, painting), gallery) for painting in gallery.paintings)
    return f"<tr>{_header(photo)}{cells}</tr>\n"


def _cell(pair: Pair, gallery: Gallery) -> str:
    if pair.key not in gallery.done:
        return f'<td><div class="missing">{NOT_PAINTED}</div></td>'
    about = f"{pair.photo.label} in the style of {pair.style.label}"
    seconds = gallery.done[pair.key].get("seconds")
    took = f", {seconds:.1f} s" if seconds is not None else ""
    return f"<td>{_linked(f'{PAIRS}/{pair.key}.png', html.escape(about), about + took)}</td>"


def write_html(gallery: Gallery, folder: str | Path) -> Path:
    """Write the gallery's page, ``index.html``, into ``folder``; returns its path."""
    path = Path(folder) / PAGE
    with atomic_write(path) as stream:
        stream.write(gallery_html(gallery).encode("utf-8"))
    return path


# ----------------------------------------------------------------------------- command line


def add_gallery_parser(commands) -> argparse.ArgumentParser:
    """The ``gallery`` command, added to the subparsers ``commands``."""
    gallery = commands.add_parser(
        "gallery",
        help="paint many photos in many styles: a contact sheet and a web page",
        description="Paint every photo in every style into FOLDER: pairs/ (kept as they "
        "finish; the same command continues a stopped run), contact_sheet.png, index.html.",
    )
    gallery.add_argument(
        "--content", nargs="+", required=True, metavar="PHOTO", help="files, folders or names"
    )
    gallery.add_argument(
        "--style",
        nargs="+",
        required=True,
        metavar="STYLE",
        help="files, folders or names; with --method fast: shipped models, .npz or folders",
    )
    gallery.add_argument("-o", "--output", required=True, metavar="FOLDER", help="the gallery")
    gallery.add_argument("--method", choices=METHODS, default="stylize", help="(default stylize)")
    for name, text in OPTIONS.items():
        gallery.add_argument(f"--{name}", type=int, metavar="N", help=text)
    gallery.add_argument("--force", action="store_true", help="start over: repaint every pair")
    gallery.add_argument("--quiet", action="store_true", help="no progress bar")
    return gallery


OPTIONS = {
    "size": "longest side of each picture in pixels (default 512, 64 in quick mode)",
    "steps": "stylize's optimizer steps (default 100, 5 in quick mode)",
    "tile": "the contact sheet's tiles in pixels (default 256, 96 in quick mode)",
}


def run_gallery(args: argparse.Namespace, say: Log) -> int:
    """Run ``gallery``: 0 done, 3 stopped with pairs kept (the same command continues),
    130 stopped before any pair."""
    from .cli import EXIT_INTERRUPTED, EXIT_OK, EXIT_STOPPED_EARLY

    given = {name: getattr(args, name) for name in OPTIONS if getattr(args, name) is not None}
    settings = GallerySettings(method=args.method, **given)
    try:
        report = paint_gallery(
            args.content,
            args.style,
            args.output,
            settings,
            force=args.force,
            progress=not args.quiet,
            log=say,
        )
    except GalleryStopped as stop:
        done = stop.report.painted + stop.report.kept
        say(
            f"Stopped early: {done} of {stop.report.pairs} pairs done and kept in "
            f"{stop.report.folder}; the same command continues."
        )
        return EXIT_STOPPED_EARLY if done else EXIT_INTERRUPTED
    say(_said(report))
    return EXIT_OK


def _said(report: GalleryReport) -> str:
    pace = f", {report.seconds / report.painted:.1f} s a pair" if report.painted else ""
    return (
        f"Wrote {report.sheet} and {report.page}: {report.painted} pairs painted{pace}, "
        f"{report.kept} kept from before, {report.pairs} in all"
    )


__all__ = [
    "METHODS",
    "Gallery",
    "GalleryReport",
    "GallerySettings",
    "GalleryStopped",
    "Pair",
    "Painter",
    "Picture",
    "SheetGrid",
    "add_gallery_parser",
    "contact_sheet",
    "fit_tile",
    "gallery_html",
    "make_painter",
    "paint_gallery",
    "plan_pairs",
    "plan_pictures",
    "read_gallery",
    "run_gallery",
    "sheet_grid",
    "write_html",
]
