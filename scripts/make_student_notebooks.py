"""Write student copies of the notebooks: solutions replaced by stubs, outputs cleared.

In every code cell, the lines from ``### BEGIN SOLUTION`` to ``### END SOLUTION``
(markers included) become::

    # YOUR CODE HERE
    raise NotImplementedError("Write your solution here, then run the check below.")

indented like the BEGIN marker. Run from anywhere:

    python scripts/make_student_notebooks.py                  # into student_notebooks/
    python scripts/make_student_notebooks.py --out /tmp/s --force
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
DEFAULT_OUT = ROOT / "student_notebooks"

BEGIN = re.compile(r"^(\s*)### BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*### END SOLUTION\s*$")
STUB = (
    "# YOUR CODE HERE",
    'raise NotImplementedError("Write your solution here, then run the check below.")',
)


class SolutionMarkerError(ValueError):
    """A BEGIN SOLUTION marker without its END (or the other way round)."""


def strip_solutions(source: str) -> tuple[str, int]:
    """Return (source with every solution block replaced by the stub, number of blocks)."""
    lines, out, blocks = source.split("\n"), [], 0
    inside: str | None = None
    for number, line in enumerate(lines, 1):
        begin = BEGIN.match(line)
        if inside is None:
            if begin:
                inside, blocks = begin.group(1), blocks + 1
            elif END.match(line):
                raise SolutionMarkerError(f"line {number}: END SOLUTION without BEGIN SOLUTION")
            else:
                out.append(line)
        elif begin:
            raise SolutionMarkerError(f"line {number}: BEGIN SOLUTION inside another solution")
        elif END.match(line):
            out.extend(inside + stub for stub in STUB)
            inside = None
    if inside is not None:
        raise SolutionMarkerError("BEGIN SOLUTION without END SOLUTION")
    return "\n".join(out), blocks


def student_copy(notebook: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, int]:
    """A copy of the notebook with solutions stubbed and outputs cleared; and the number of
    stubs."""
    copy = nbformat.from_dict(notebook)
    total = 0
    for index, cell in enumerate(copy.cells):
        if cell.cell_type != "code":
            continue
        try:
            cell.source, blocks = strip_solutions(cell.source)
        except SolutionMarkerError as error:
            raise SolutionMarkerError(f"code cell {index}: {error}") from None
        total += blocks
        cell.outputs = []
        cell.execution_count = None
    return copy, total


def write_student_notebooks(
    notebooks: Path = NOTEBOOKS, out: Path = DEFAULT_OUT, force: bool = False, log=print
) -> list[Path]:
    """Write a student copy of every ``NN_*.ipynb`` in ``notebooks`` into ``out``."""
    sources = sorted(Path(notebooks).glob("[0-9][0-9]_*.ipynb"))
    if not sources:
        raise FileNotFoundError(f"no notebooks named NN_*.ipynb in {notebooks}")
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not force:
        raise FileExistsError(f"{out} exists and is not empty; pass --force to overwrite it")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sources:
        copy, stubs = student_copy(nbformat.read(source, as_version=4))
        target = out / source.name
        nbformat.write(copy, target)
        written.append(target)
        log(f"wrote {target} ({stubs} exercise{'s' if stubs != 1 else ''} stubbed)")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--notebooks", type=Path, default=NOTEBOOKS, help="folder of the full notebooks"
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})"
    )
    parser.add_argument("--force", action="store_true", help="write into a non-empty output folder")
    args = parser.parse_args(argv)
    try:
        write_student_notebooks(args.notebooks, args.out, args.force)
    except (FileExistsError, FileNotFoundError, SolutionMarkerError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
