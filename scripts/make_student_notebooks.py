"""Write the student editions of the notebooks into ``notebooks/student/`` (committed).

Each student copy is its solved notebook with:

* every solution replaced by a stub: in every code cell, the lines from
  ``### BEGIN SOLUTION`` to ``### END SOLUTION`` (markers included) become::

      # YOUR CODE HERE
      raise NotImplementedError("Write your solution here, then run the check below.")

  indented like the BEGIN marker;
* the test-only content dropped: a code cell whose first line is ``# test-only`` goes
  entirely, and so does any single line that ends with the comment ``# test-only``
  (``assert result.steps == 5  # test-only``). These are for the automatic tests of the
  solved notebooks, not for students. Comments survive notebook cleaners, unlike cell tags;
  a ``# test-only`` anywhere else is an error;
* its own "Open in Colab" badge (``notebooks/student/<name>``), followed by a note that this
  is the student edition and a link to the solved notebook;
* a setup cell that finds a local checkout two folders up instead of one;
* outputs and execution counts cleared.

``tests/test_notebooks.py`` regenerates the copies and fails when the committed ones are
stale. Run from anywhere:

    python scripts/make_student_notebooks.py                  # refresh notebooks/student/
    python scripts/make_student_notebooks.py --out /tmp/s --force
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
DEFAULT_OUT = NOTEBOOKS / "student"
PATTERN = "[0-9][0-9]_*.ipynb"

BEGIN = re.compile(r"^(\s*)### BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*### END SOLUTION\s*$")
STUB = (
    "# YOUR CODE HERE",
    'raise NotImplementedError("Write your solution here, then run the check below.")',
)

TEST_ONLY = "# test-only"
TEST_ONLY_CELL = re.compile(r"^\s*# test-only\s*$")  # the first line of a test-only cell
TEST_ONLY_LINE = re.compile(r"# test-only\s*$")  # the end of a test-only line
TEST_ONLY_ANYWHERE = re.compile(r"#\s*test-only")

# The setup cell looks for a checkout one folder up; a student copy is one folder deeper.
CHECKOUT_ONE_UP = ('os.path.join("..", "nst_helpers")', 'os.path.abspath("..")')
CHECKOUT_TWO_UP = (
    'os.path.join("..", "..", "nst_helpers")',
    'os.path.abspath(os.path.join("..", ".."))',
)

BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"


def _load_sync():
    """``scripts/sync_notebooks.py``: the repository address, branch and badge pattern."""
    path = Path(__file__).resolve().with_name("sync_notebooks.py")
    spec = importlib.util.spec_from_file_location("sync_notebooks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_SYNC = _load_sync()


class StudentCopyError(ValueError):
    """A notebook that cannot be turned into a student copy."""


class SolutionMarkerError(StudentCopyError):
    """A BEGIN SOLUTION marker without its END (or the other way round)."""


class TestOnlyMarkerError(StudentCopyError):
    """A ``# test-only`` marker neither on a cell's first line nor at the end of a line."""

    __test__ = False  # not a pytest test class


def github_url(path: str) -> str:
    """The GitHub page of a file in the repository, e.g. ``notebooks/01_x.ipynb``."""
    return f"{_SYNC.REPOSITORY}/blob/{_SYNC.BRANCH}/{path}"


def colab_url(path: str) -> str:
    """The Colab address that opens a notebook of the repository."""
    colab = _SYNC.REPOSITORY.replace(
        "https://github.com/", "https://colab.research.google.com/github/"
    )
    return f"{colab}/blob/{_SYNC.BRANCH}/{path}"


def student_badge(name: str) -> str:
    """The "Open in Colab" badge of the student copy ``notebooks/student/<name>``."""
    return f"[![Open In Colab]({BADGE_IMAGE})]({colab_url(f'notebooks/student/{name}')})"


def student_note(name: str) -> str:
    """The note at the top of a student copy, linking its solved notebook (absolute links:
    relative ones do not work in Colab)."""
    solved = f"notebooks/{name}"
    return (
        "> **Student edition.** The exercises in this notebook are stubs marked\n"
        "> `# YOUR CODE HERE`: replace each stub with your own code, then run the check in the\n"
        "> cell below it. The worked solutions are in the solved notebook\n"
        f"> [`../{name}`]({github_url(solved)}) ([open it in Colab]({colab_url(solved)}))."
    )


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


def _parses(source: str) -> bool:
    try:
        ast.parse(source)
    except SyntaxError:
        return False
    return True


def strip_test_only(source: str) -> str | None:
    """Return the code cell ``source`` without its test-only content: None when the whole
    cell is test-only (its first line is ``# test-only``), else the source without the
    lines that end with ``# test-only``."""
    lines = source.split("\n")
    if TEST_ONLY_CELL.match(lines[0]):
        return None
    kept = []
    for number, line in enumerate(lines, 1):
        if TEST_ONLY_LINE.search(line):
            continue
        if TEST_ONLY_ANYWHERE.search(line):
            raise TestOnlyMarkerError(
                f"line {number}: a test-only cell starts with the line {TEST_ONLY!r} alone, "
                f"and a test-only line ends with {TEST_ONLY!r}"
            )
        kept.append(line)
    if len(kept) == len(lines):
        return source
    while kept and not kept[-1].strip():
        kept.pop()
    stripped = "\n".join(kept)
    if not stripped.strip():
        return None
    if _parses(source) and not _parses(stripped):
        raise TestOnlyMarkerError("dropping the lines marked # test-only leaves invalid Python")
    return stripped


def _student_title(source: str, name: str) -> str:
    """The first cell with the student badge, followed by the note."""
    if not source.startswith("# "):
        raise StudentCopyError("the first cell must be markdown starting with an H1 title")
    top = f"{student_badge(name)}\n\n{student_note(name)}"
    if _SYNC.BADGE_PATTERN.search(source):
        return _SYNC.BADGE_PATTERN.sub(lambda match: top, source, count=1)
    title, _, rest = source.partition("\n")
    return f"{title}\n\n{top}\n{rest}"


def _student_setup(source: str) -> str:
    """The setup cell, looking for a local checkout two folders up."""
    for one_up, two_up in zip(CHECKOUT_ONE_UP, CHECKOUT_TWO_UP):
        if one_up not in source:
            raise StudentCopyError(
                f"the setup cell (first code cell) does not contain {one_up}; update "
                "CHECKOUT_ONE_UP in scripts/make_student_notebooks.py with the setup cell"
            )
        source = source.replace(one_up, two_up)
    return source


def student_copy(notebook: nbformat.NotebookNode, name: str) -> tuple[nbformat.NotebookNode, int]:
    """The student copy of the solved notebook ``notebooks/<name>``, and its number of stubs."""
    copy = nbformat.from_dict(notebook)
    if not copy.cells or copy.cells[0].cell_type != "markdown":
        raise StudentCopyError("the first cell must be markdown starting with an H1 title")
    copy.cells[0].source = _student_title(copy.cells[0].source, name)
    cells, total, setup_done = [], 0, False
    for index, cell in enumerate(copy.cells):
        if cell.cell_type != "code":
            cells.append(cell)
            continue
        try:
            source = strip_test_only(cell.source)
            if source is None:
                continue
            cell.source, blocks = strip_solutions(source)
            if not setup_done:
                cell.source, setup_done = _student_setup(cell.source), True
        except StudentCopyError as error:
            raise type(error)(f"code cell {index}: {error}") from None
        total += blocks
        cell.outputs = []
        cell.execution_count = None
        cells.append(cell)
    if not setup_done:
        raise StudentCopyError("no code cells (the first one must be the setup cell)")
    copy.cells = cells
    return copy, total


def write_student_notebooks(
    notebooks: Path = NOTEBOOKS, out: Path = DEFAULT_OUT, force: bool = False, log=print
) -> list[Path]:
    """Write a student copy of every ``NN_*.ipynb`` in ``notebooks`` into ``out``.

    The default ``out``, ``notebooks/student/``, holds nothing but generated copies: it is
    refreshed without ``force``, and copies whose solved notebook is gone are removed. Any
    other non-empty folder needs ``force``."""
    sources = sorted(Path(notebooks).glob(PATTERN))
    if not sources:
        raise FileNotFoundError(f"no notebooks named NN_*.ipynb in {notebooks}")
    out = Path(out)
    refresh = out.resolve() == DEFAULT_OUT.resolve()
    if out.exists() and any(out.iterdir()) and not (force or refresh):
        raise FileExistsError(f"{out} exists and is not empty; pass --force to overwrite it")
    copies = []
    for source in sources:
        try:
            copies.append(
                (source.name, *student_copy(nbformat.read(source, as_version=4), source.name))
            )
        except StudentCopyError as error:
            raise type(error)(f"{source.name}: {error}") from None
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, copy, stubs in copies:
        target = out / name
        nbformat.write(copy, target)
        written.append(target)
        log(f"wrote {target} ({stubs} exercise{'s' if stubs != 1 else ''} stubbed)")
    if refresh:
        for old in sorted(set(out.glob(PATTERN)) - set(written)):
            old.unlink()
            log(f"removed {old} (its solved notebook is gone)")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--notebooks", type=Path, default=NOTEBOOKS, help="folder of the solved notebooks"
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="write into a non-empty output folder (other than the default)",
    )
    args = parser.parse_args(argv)
    try:
        write_student_notebooks(args.notebooks, args.out, args.force)
    except (FileExistsError, FileNotFoundError, StudentCopyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
