"""Keep every notebook's Colab badge and setup cell identical, from one place.

The repository address lives here only (``REPOSITORY``). Each notebook in
``notebooks/`` starts with a markdown cell holding an H1 title and the "Open in
Colab" badge, and its first code cell is the setup cell below. Run

    python scripts/sync_notebooks.py           # rewrite badges and setup cells
    python scripts/sync_notebooks.py --check   # exit 1 if any notebook is out of date

``tests/test_notebooks.py`` runs the check, so a changed address reaches every notebook.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

REPOSITORY = "https://github.com/nst-course/neural-style-transfer"
BRANCH = "main"
NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

BADGE_PATTERN = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)")

SETUP_CELL = f'''# Setup: run this cell first. In Colab it installs the course's helper package
# (TensorFlow is already there and is not reinstalled); locally it uses the package
# installed by `pip install -r requirements.txt`.
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPOSITORY = "{REPOSITORY}"

if "google.colab" in sys.modules and not os.path.isdir("/content/nst"):
    import subprocess

    subprocess.run(["git", "clone", "--depth", "1", REPOSITORY, "/content/nst"], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "-e", "/content/nst"], check=True)
if "google.colab" in sys.modules:
    sys.path.insert(0, "/content/nst")  # an editable install is seen only after a restart
elif os.path.isdir(os.path.join("..", "nst_helpers")):
    sys.path.insert(0, os.path.abspath(".."))  # a local checkout without `pip install`

import nst_helpers as nst

print("nst_helpers", nst.__version__, "| quick mode" if nst.quick_mode() else "| full size")'''


def badge(notebook: Path) -> str:
    url = (
        REPOSITORY.replace("https://github.com/", "https://colab.research.google.com/github/")
        + f"/blob/{BRANCH}/notebooks/{notebook.name}"
    )
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})"


def sync(notebook: Path, write: bool) -> list[str]:
    """Return what is out of date in one notebook; fix it when ``write``."""
    nb = nbformat.read(notebook, as_version=4)
    problems = []
    first = nb.cells[0] if nb.cells else None
    if first is None or first.cell_type != "markdown" or not first.source.startswith("# "):
        problems.append("the first cell must be markdown starting with an H1 title")
    else:
        wanted = badge(notebook)
        if BADGE_PATTERN.search(first.source):
            fixed = BADGE_PATTERN.sub(wanted, first.source)
        else:
            title, _, rest = first.source.partition("\n")
            fixed = f"{title}\n\n{wanted}\n{rest}"
        if fixed != first.source:
            problems.append("Colab badge out of date")
            first.source = fixed
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    if not code:
        problems.append("no code cells")
    elif code[0].source != SETUP_CELL:
        problems.append("setup cell out of date")
        code[0].source = SETUP_CELL
    if write and problems:
        nbformat.write(nb, notebook)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report; exit 1 if out of date")
    args = parser.parse_args(argv)
    stale = 0
    for notebook in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        problems = sync(notebook, write=not args.check)
        if problems:
            stale += 1
            print(f"{notebook.name}: {'; '.join(problems)}")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
