"""Run the notebooks at full size once, then show their key pictures before anything runs.

    python scripts/make_expected_pictures.py run 02 05   # execute at full size (minutes each)
    python scripts/make_expected_pictures.py embed       # pictures and times into the notebooks
    python scripts/make_student_notebooks.py             # then refresh the student editions

``run`` executes each notebook as a student would (quick mode off, inline plots) with nbclient
and keeps the executed copy and a record of the run (wall time, date, VGG19 weights, CPU
count) in ``outputs/full_size/``; nothing in ``notebooks/`` changes. ``embed`` takes the image
output of every cell named in :data:`PICTURES` from those copies, shrinks it to a small JPEG
and puts it, as a markdown attachment (Colab renders no relative links), in an "Expected
result" cell right after its code cell; it also writes the measured time into the opening
cell. A notebook without a record is left as it is. Widgets leave no picture in a notebook:
a screenshot saved as ``outputs/full_size/<notebook>-<cell id>.png`` (scripts/drive_studio.js
takes them) is used for such a cell instead.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import sys
import time
from datetime import date
from pathlib import Path

import nbformat
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
RECORDS = ROOT / "outputs" / "full_size"
WIDTH = 900  # px: wide enough for a row of four results, small enough for ~1 MB notebooks
QUALITY = 72
TIME_LINE = "**Running time at full size:**"
WEIGHTS_WORDS = {
    "compact": "the 8-bit copy of VGG19's ImageNet weights",
    "imagenet": "Keras' float32 VGG19 ImageNet weights",
}

PICTURES: dict[str, list[str]] = {
    "01_images_and_preprocessing": ["nb01-12", "nb01-24", "nb01-27d"],
    "02_vgg19_features": ["nb02-17", "nb02-23", "nb02-25"],
    "03_gram_matrices_and_style": [
        "572b5651",
        "879f7af8",
        "8014a11b",
        "nb03-norm-shares",
        "nb03-norm-textures",
    ],
    "04_losses": ["9b03f880", "nb04-figure3-grid"],
    "05_the_optimization_loop": ["nb05-08", "nb05-13", "nb05-17", "nb05-20"],
    "06_controlling_style": [
        "nb06-figure2",
        "b359c3a1",
        "f4e9aa8a",
        "c80826a5",
        "3f624389",
        "39d25056",
        "23f68ec3",
        "f11acedf",
    ],
    "07_style_studio": ["64cf26aa", "52b26577", "9506aef3"],
    "08_real_time_style_transfer": [
        "nb08-08",
        "nb08-17",
        "nb08-25",
        "nb08-36",
        "nb08-43",
        "nb08-46",
        "nb08-50",
    ],
    "09_any_style_in_one_pass": [
        "nb09-05",
        "nb09-25",
        "nb09-33",
        "nb09-35",
        "nb09-39",
        "nb09-41",
        "nb09-44",
    ],
    "10_video": [
        "nb10-05",
        "nb10-07",
        "nb10-14",
        "nb10-16",
        "nb10-23b",
        "nb10-26",
        "nb10-29",
        "nb10-31",
    ],
    "11_your_own_collection": ["nb11-14", "nb11-22", "nb11-26"],
}
"""Notebook -> ids of the code cells whose pictures are shown before running."""


# ----------------------------------------------------------------------------- run


def run(stem: str) -> dict:
    """Execute ``notebooks/<stem>.ipynb`` at full size; keep the executed copy and a record."""
    from nbclient import NotebookClient

    for variable in ("NST_QUICK", "MPLBACKEND"):  # full size, and matplotlib's inline plots
        os.environ.pop(variable, None)
    notebook = nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)
    client = NotebookClient(
        notebook, timeout=3600, kernel_name="python3", resources={"metadata": {"path": NOTEBOOKS}}
    )
    start = time.perf_counter()
    client.execute()
    record = {
        "notebook": stem,
        "seconds": round(time.perf_counter() - start),
        "date": date.today().isoformat(),
        "cpus": os.cpu_count(),
        "weights": _weights_line(),
    }
    RECORDS.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, RECORDS / f"{stem}.ipynb")
    (RECORDS / f"{stem}.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


def _weights_line() -> str:
    """Which VGG19 weights the run used, in a few words."""
    from nst_helpers.weights import resolve_weights

    kind = resolve_weights(log=lambda line: None).kind
    return WEIGHTS_WORDS.get(kind, "VGG19 weights from a file")


# ----------------------------------------------------------------------------- embed


def cell_picture(cell: nbformat.NotebookNode) -> bytes | None:
    """The cell's PNG outputs as one PNG, stacked top to bottom; None when it shows none."""
    outputs = cell.get("outputs", [])
    pngs = [o["data"]["image/png"] for o in outputs if "image/png" in o.get("data", {})]
    if len(pngs) < 2:
        return base64.b64decode(pngs[0]) if pngs else None
    images = [Image.open(io.BytesIO(base64.b64decode(png))).convert("RGB") for png in pngs]
    size = (max(i.width for i in images), sum(i.height for i in images))
    stacked = Image.new("RGB", size, "white")
    top = 0
    for image in images:
        stacked.paste(image, (0, top))
        top += image.height
    buffer = io.BytesIO()
    stacked.save(buffer, "PNG")
    return buffer.getvalue()


def small_jpeg(png: bytes) -> bytes:
    """``png`` as a JPEG at most :data:`WIDTH` px wide."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    if image.width > WIDTH:
        image = image.resize((WIDTH, round(image.height * WIDTH / image.width)), Image.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=QUALITY, optimize=True)
    return buffer.getvalue()


def expected_cell(cell_id: str, jpeg: bytes, made_by: str, record: dict) -> nbformat.NotebookNode:
    """The markdown cell that shows one expected picture, with where it came from."""
    name = f"expected-{cell_id}.jpg"
    text = (
        f"**Expected result** of the cell above, from {made_by} on {record['date']} "
        f"({record['cpus']}-core CPU, {record['weights']}). Yours will differ in the details, "
        "more so with other weights.\n\n"
        f"![expected result of the cell above](attachment:{name})"
    )
    cell = nbformat.v4.new_markdown_cell(text, id=f"expected-{cell_id}")
    cell.attachments = {name: {"image/jpeg": base64.b64encode(jpeg).decode()}}
    return cell


def picture_for(stem: str, cell_id: str, executed: dict) -> tuple[bytes | None, str]:
    """A cell's picture and what made it: a screenshot saved as
    ``outputs/full_size/<stem>-<cell id>.png`` (widgets leave no picture in a notebook, see
    scripts/drive_studio.js), else the cell's PNG outputs in the full-size run."""
    shot = RECORDS / f"{stem}-{cell_id}.png"
    if shot.is_file():
        return shot.read_bytes(), "a screenshot of JupyterLab in headless Chromium"
    cell = executed.get(cell_id)
    return (cell_picture(cell) if cell is not None else None), "one full-size run"


def embed(stem: str) -> str:
    """Put the pictures and the time of ``stem``'s recorded run into the notebook."""
    path = NOTEBOOKS / f"{stem}.ipynb"
    record_path = RECORDS / f"{stem}.json"
    if not record_path.is_file():
        return f"{stem}: no full-size run recorded (run it first); left as it is"
    record = json.loads(record_path.read_text(encoding="utf-8"))
    executed = {c.id: c for c in nbformat.read(RECORDS / f"{stem}.ipynb", as_version=4).cells}
    notebook = nbformat.read(path, as_version=4)
    notebook.cells = [c for c in notebook.cells if not c.id.startswith("expected-")]
    missing = []
    for cell_id in PICTURES.get(stem, []):
        index = next((i for i, c in enumerate(notebook.cells) if c.id == cell_id), None)
        png, made_by = picture_for(stem, cell_id, executed)
        if index is None or png is None:
            missing.append(cell_id)
            continue
        notebook.cells.insert(index + 1, expected_cell(cell_id, small_jpeg(png), made_by, record))
    notebook.cells[0].source = with_time(notebook.cells[0].source, record)
    nbformat.write(notebook, path)
    index = NOTEBOOKS / "README.md"
    index.write_text(index_with_time(index.read_text(encoding="utf-8"), stem, record), "utf-8")
    size = path.stat().st_size // 1024
    note = f"; no picture for {missing}" if missing else ""
    return f"{stem}: {len(PICTURES.get(stem, [])) - len(missing)} pictures, {size} KB{note}"


def duration(record: dict) -> str:
    """The recorded running time in words: ``"about 6 min"`` or ``"under a minute"``."""
    minutes = round(record["seconds"] / 60)
    return f"about {minutes} min" if minutes else "under a minute"


def with_time(title: str, record: dict) -> str:
    """The opening cell with its running-time line set from the record."""
    line = (
        f"{TIME_LINE} {duration(record)} on a {record['cpus']}-core CPU "
        f"(measured {record['date']}); much less on a GPU."
    )
    kept = [text for text in title.split("\n\n") if not text.startswith(TIME_LINE)]
    return "\n\n".join([*kept, line])


def index_with_time(index: str, stem: str, record: dict) -> str:
    """notebooks/README.md with the last column of ``stem``'s row set to its running time."""
    lines = index.split("\n")
    for number, line in enumerate(lines):
        if line.startswith(f"| {stem[:2]} |"):
            cells = line.split(" | ")
            lines[number] = " | ".join([*cells[:-1], f"{duration(record)} |"])
    return "\n".join(lines)


# ----------------------------------------------------------------------------- command line


def stems(prefixes: list[str]) -> list[str]:
    every = sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    chosen = [s for s in every if not prefixes or any(s.startswith(p) for p in prefixes)]
    if prefixes and not chosen:
        raise SystemExit(f"no notebook starts with {prefixes}; there are {every}")
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("run", "embed"))
    parser.add_argument("notebooks", nargs="*", help="numbers or names (default: all)")
    args = parser.parse_args(argv)
    for stem in stems(args.notebooks):
        if args.action == "run":
            print(f"{stem}: running at full size...", flush=True)
            print(f"{stem}: {run(stem)['seconds']} s", flush=True)
        else:
            print(embed(stem))
    return 0


if __name__ == "__main__":
    sys.exit(main())
