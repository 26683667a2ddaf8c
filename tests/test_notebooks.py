"""The notebooks' structure, and their exercises against the checks, without running them.

nbval executes the full notebooks separately (``pytest notebooks/``). Here:

(a) every notebook is committed without outputs or execution counts;
(b) ``scripts/sync_notebooks.py --check`` passes (badge and setup cell up to date);
(c) each notebook has an H1 title, the Colab badge, at least one exercise (a code cell
    with ``### BEGIN SOLUTION`` / ``### END SOLUTION``) followed by a code cell calling
    ``checks.check_...(name)``, and "Summary" and "References" sections;
(d) ``scripts/make_student_notebooks.py`` writes the student editions: every solution
    replaced by the stub, the ``# test-only`` cells and lines dropped, their own Colab badge
    and a note linking the solved notebook. The committed copies in ``notebooks/student/``
    must be what the script writes now; each of their stubs fails its check with a message
    about ``# YOUR CODE HERE``, and each solution of the solved notebooks passes it. nbval
    does not execute the student copies (root ``conftest.py``).

RULE FOR NOTEBOOK AUTHORS: a code cell that holds an exercise (BEGIN/END SOLUTION) must be
self-contained. It is executed here on its own, in a fresh namespace that only holds
``tf`` (tensorflow), ``np`` (numpy) and ``nst`` (nst_helpers); anything else it uses
(other imports, helper functions, constants) must be defined in that same cell. The
next code cell must call the check on the function the exercise defines, e.g.
``checks.check_gram_matrix(gram_matrix)``.
"""

from __future__ import annotations

import fnmatch
import functools
import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType

import nbformat
import numpy as np
import pytest
import tensorflow as tf

import nst_helpers as nst
from nst_helpers import checks

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
STUDENT_DIR = NOTEBOOK_DIR / "student"
REGENERATE = "run `python scripts/make_student_notebooks.py`"

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
CHECK_CALL = re.compile(r"checks\.(check_\w+)\((\w+)\)")


def load_script(name: str) -> ModuleType:
    """Import ``scripts/<name>.py`` as a module."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


@functools.cache
def student(name: str) -> nbformat.NotebookNode:
    """The committed student copy ``notebooks/student/<name>``."""
    path = STUDENT_DIR / name
    if not path.is_file():
        pytest.fail(f"no student copy {path.relative_to(ROOT)}: {REGENERATE}")
    return read(path)


def exercises(notebook: nbformat.NotebookNode) -> list[tuple[int, str, str | None, str | None]]:
    """(cell index, exercise source, check name, function name) for every exercise cell;
    the names come from the next code cell (None when it calls no check)."""
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or BEGIN not in cell.source:
            continue
        following = next((c for c in notebook.cells[index + 1 :] if c.cell_type == "code"), None)
        match = CHECK_CALL.search(following.source) if following is not None else None
        found.append((index, cell.source, *(match.groups() if match else (None, None))))
    return found


EXERCISES = [
    pytest.param(path, index, source, check, function, id=f"{path.stem}-cell{index}-{check}")
    for path in NOTEBOOKS
    for index, source, check, function in exercises(read(path))
]
ids = [path.stem for path in NOTEBOOKS]


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no notebooks named NN_*.ipynb in {NOTEBOOK_DIR}"


# ----------------------------------------------------------------------------- (a) clean


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_is_committed_without_outputs(path):
    notebook = read(path)
    nbformat.validate(notebook)
    dirty = [
        i
        for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "code"
        and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]
    assert not dirty, (
        f"{path.name}: code cells {dirty} have outputs or execution counts; clear them"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_markdown_has_no_control_characters(path):
    r"""A tab or backspace in prose is a LaTeX command eaten by a string escape (``\times``
    typed into a Python string without the second backslash becomes a tab and ``imes``)."""
    for index, cell in enumerate(read(path).cells):
        if cell.cell_type == "markdown":
            bad = re.search(r"[\x00-\x09\x0b-\x1f]", cell.source)
            assert bad is None, (
                f"{path.name}, cell {index}: {cell.source[bad.start() - 20 :][:40]!r}"
            )


# ----------------------------------------------------------------------------- (b) synced


def test_badges_and_setup_cells_are_in_sync(capsys):
    status = load_script("sync_notebooks").main(["--check"])
    assert status == 0, f"run `python scripts/sync_notebooks.py`: {capsys.readouterr().out}"


# ----------------------------------------------------------------------------- (c) structure


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_has_title_badge_and_sections(path):
    notebook = read(path)
    first = notebook.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), (
        "first cell: markdown H1 title"
    )
    assert "colab-badge.svg" in first.source and "colab.research.google.com" in first.source, (
        "no Colab badge"
    )
    headings = [
        line
        for cell in notebook.cells
        if cell.cell_type == "markdown"
        for line in cell.source.splitlines()
        if re.match(r"#{1,6} ", line)
    ]
    for section in ("Summary", "References"):
        assert any(section.lower() in line.lower() for line in headings), (
            f"{path.name}: no {section!r} heading"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_has_exercises_followed_by_checks(path):
    found = exercises(read(path))
    assert found, f"{path.name}: no exercise (a code cell with {BEGIN!r} ... {END!r})"
    for index, source, check, function in found:
        assert source.count(BEGIN) == source.count(END) == 1, (
            f"cell {index}: one BEGIN and one END marker"
        )
        assert source.index(BEGIN) < source.index(END), f"cell {index}: BEGIN must come before END"
        assert check is not None, (
            f"cell {index}: the next code cell must call checks.check_...(function)"
        )
        assert hasattr(checks, check), f"cell {index}: nst_helpers.checks has no {check}"
        assert re.search(rf"^\s*def {function}\(", source, re.M), (
            f"cell {index} does not define {function}()"
        )


# ----------------------------------------------------------------------------- (d) student copies


def test_strip_solutions_keeps_indentation():
    script = load_script("make_student_notebooks")
    source = (
        "def f(x):\n    '''Doc.'''\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n"
    )
    stripped, blocks = script.strip_solutions(source)
    assert blocks == 1
    assert stripped == (
        "def f(x):\n    '''Doc.'''\n    # YOUR CODE HERE\n"
        '    raise NotImplementedError("Write your solution here, then run the check below.")\n'
    )
    with pytest.raises(script.SolutionMarkerError):
        script.strip_solutions("    ### BEGIN SOLUTION\n    return x\n")


TINY_TITLE = (
    "# 09 · A tiny notebook\n\n"
    "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
    "(https://colab.research.google.com/github/x/y/blob/main/notebooks/09_tiny.ipynb)\n\n"
    "What you will learn."
)
TINY_EXERCISE = (
    "def double(x):\n"
    "    ### BEGIN SOLUTION\n"
    "    return 2 * x\n"
    "    ### END SOLUTION\n"
    "\n"
    "assert double(2) == 4  # test-only"
)


def tiny_notebook(*code: str) -> nbformat.NotebookNode:
    """A title cell, the setup cell, then the given code cells."""
    setup = load_script("sync_notebooks").SETUP_CELL
    cells = [nbformat.v4.new_markdown_cell(TINY_TITLE)]
    cells += [nbformat.v4.new_code_cell(source) for source in (setup, *code)]
    for index, cell in enumerate(cells):
        cell.id = f"tiny-{index}"
    return nbformat.v4.new_notebook(cells=cells)


def test_test_only_markers_are_dropped():
    script = load_script("make_student_notebooks")
    notebook = tiny_notebook(
        TINY_EXERCISE,
        "# test-only\nassert double(3) == 6",
        "result = double(5)\nassert result == 10  # test-only\nprint(result)",
        "total = 0\nfor i in range(3):\n    total += i\n    assert total < 9  # test-only",
    )
    notebook.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi")]
    notebook.cells[2].execution_count = 3
    copy, stubs = script.student_copy(notebook, "09_tiny.ipynb")
    assert stubs == 1
    assert [cell.id for cell in copy.cells] == ["tiny-0", "tiny-1", "tiny-2", "tiny-4", "tiny-5"]
    code = [cell.source for cell in copy.cells[2:]]
    assert code == [
        "def double(x):\n    # YOUR CODE HERE\n"
        '    raise NotImplementedError("Write your solution here, then run the check below.")',
        "result = double(5)\nprint(result)",
        "total = 0\nfor i in range(3):\n    total += i",
    ]
    assert not copy.cells[2].outputs and copy.cells[2].execution_count is None
    assert 'os.path.join("..", "..", "nst_helpers")' in copy.cells[1].source
    title = copy.cells[0].source
    assert title.startswith("# 09 · A tiny notebook\n") and title.endswith("What you will learn.")
    assert "notebooks/student/09_tiny.ipynb" in title and "/x/y/" not in title
    assert "**Student edition.**" in title and "/notebooks/09_tiny.ipynb)" in title
    # The solved notebook is left as it was.
    assert notebook.cells[2].source == TINY_EXERCISE and len(notebook.cells) == 6

    # A marker anywhere else is a mistake, and so is a drop that breaks the code.
    for wrong in ("x = 1  # test-only: why", "x = 1  #test-only"):
        with pytest.raises(script.TestOnlyMarkerError):
            script.student_copy(tiny_notebook(wrong), "09_tiny.ipynb")
    with pytest.raises(script.TestOnlyMarkerError, match="invalid Python"):
        script.student_copy(tiny_notebook("if True:\n    x = 1  # test-only"), "09_tiny.ipynb")


def test_student_script_writes_stubbed_copies(tmp_path, capsys):
    script = load_script("make_student_notebooks")
    out = tmp_path / "student"
    assert script.main(["--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for path in NOTEBOOKS:
        assert path.name in printed
        full, copy = read(path), read(out / path.name)
        kept = [
            cell.id
            for cell in full.cells
            if cell.cell_type != "code" or script.strip_test_only(cell.source) is not None
        ]
        assert [cell.id for cell in copy.cells] == kept
        text = "\n".join(cell.source for cell in copy.cells)
        assert BEGIN not in text and END not in text, (
            f"{path.name}: a solution is left in the student copy"
        )
        stubs = sum(
            cell.source.count("# YOUR CODE HERE") for cell in copy.cells if cell.cell_type == "code"
        )
        assert stubs >= len(exercises(full)), f"{path.name}: missing stubs"
        assert all(
            not cell.get("outputs") and cell.get("execution_count") is None
            for cell in copy.cells
            if cell.cell_type == "code"
        )
    # A second run must not overwrite the copies silently (outside notebooks/student/).
    assert script.main(["--out", str(out)]) == 2
    assert script.main(["--out", str(out), "--force"]) == 0


def test_committed_student_copies_are_up_to_date(tmp_path):
    script = load_script("make_student_notebooks")
    fresh = tmp_path / "student"
    script.write_student_notebooks(out=fresh, log=lambda line: None)
    wanted = sorted(path.name for path in fresh.glob("*.ipynb"))
    committed = sorted(path.name for path in STUDENT_DIR.glob("*.ipynb"))
    stale = sorted(set(wanted) ^ set(committed))
    stale += [
        name
        for name in sorted(set(wanted) & set(committed))
        if json.loads((fresh / name).read_text(encoding="utf-8"))
        != json.loads((STUDENT_DIR / name).read_text(encoding="utf-8"))
    ]
    assert not stale, f"notebooks/student/ is stale ({', '.join(stale)}): {REGENERATE}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_student_copy_has_badge_note_and_setup(path):
    script = load_script("make_student_notebooks")
    copy = student(path.name)
    title = copy.cells[0].source
    assert title.startswith("# "), "first cell: markdown H1 title"
    badges = script._SYNC.BADGE_PATTERN.findall(title)
    assert badges == [script.student_badge(path.name)], (
        f"the badge must open notebooks/student/{path.name}: {REGENERATE}"
    )
    assert "Student edition" in title and "# YOUR CODE HERE" in title
    assert f"[`../{path.name}`]({script.github_url(f'notebooks/{path.name}')})" in title, (
        "the note must link the solved notebook"
    )
    setup = next(cell.source for cell in copy.cells if cell.cell_type == "code")
    assert setup == script._student_setup(script._SYNC.SETUP_CELL), REGENERATE
    assert (STUDENT_DIR / ".." / ".." / "nst_helpers" / "__init__.py").is_file()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_student_copy_has_no_solutions_or_test_only_code(path):
    copy = student(path.name)
    for index, cell in enumerate(copy.cells):
        for marker in (BEGIN, END, "# test-only"):
            assert marker not in cell.source, f"{path.name} cell {index} holds {marker!r}"
        if cell.cell_type == "code":
            assert not cell.get("outputs") and cell.get("execution_count") is None


def test_nbval_does_not_run_student_copies():
    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)
    patterns = [str(ROOT / pattern) for pattern in conftest.collect_ignore_glob]

    def ignored(path: Path) -> bool:
        return any(fnmatch.fnmatch(str(path), pattern) for pattern in patterns)

    assert all(ignored(path) for path in STUDENT_DIR.glob("*.ipynb"))
    assert not any(ignored(path) for path in NOTEBOOKS)


def fresh_namespace() -> dict:
    return {"__name__": "exercise", "tf": tf, "np": np, "nst": nst}


@pytest.mark.parametrize("path, index, source, check, function", EXERCISES)
def test_stub_fails_its_check_and_solution_passes(path, index, source, check, function):
    """The stub as committed in notebooks/student/ fails the check; the solution passes."""
    if check is None:
        pytest.fail(
            f"{path.name} cell {index}: the next code cell calls no checks.check_...(function)"
        )
    script = load_script("make_student_notebooks")
    cell_id = read(path).cells[index].id
    stub = next((cell.source for cell in student(path.name).cells if cell.id == cell_id), None)
    assert stub is not None and "# YOUR CODE HERE" in stub, (
        f"notebooks/student/{path.name} has no stub for cell {index} ({cell_id}): {REGENERATE}"
    )

    namespace = fresh_namespace()
    exec(compile(stub, f"student/{path.name}[{cell_id}]", "exec"), namespace)
    with pytest.raises(checks.ExerciseError, match="YOUR CODE HERE"):
        getattr(checks, check)(namespace[function])

    namespace = fresh_namespace()
    solution = script.strip_test_only(source)
    exec(compile(solution, f"{path.name}[{index}]", "exec"), namespace)
    assert getattr(checks, check)(namespace[function]) is True


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_pictured_attachment_is_in_the_notebook(path):
    """Pictures shown before anything runs live in the cell's attachments (Colab renders
    no relative links), and the notebook stays small."""
    notebook = read(path)
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        for name in re.findall(r"\(attachment:([^)\s]+)\)", cell.source):
            assert name in cell.get("attachments", {}), f"{path.name}: {name} is missing"
            assert "image/png" in cell.attachments[name] or "image/jpeg" in cell.attachments[name]
    assert path.stat().st_size < 1_000_000, f"{path.name} is over 1 MB"


def test_notebook_01_shows_the_schematic_of_the_method():
    cells = read(NOTEBOOK_DIR / "01_images_and_preprocessing.ipynb").cells
    assert any(
        "(attachment:method.png)" in c.source and "method.png" in c.get("attachments", {})
        for c in cells
        if c.cell_type == "markdown"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_expected_pictures_follow_their_cells_and_the_time_is_stated(path):
    """Each cell named in scripts/make_expected_pictures.py is followed by its picture, made
    by that script from a full-size run; the opening cell states the measured time."""
    script = load_script("make_expected_pictures")
    cells = read(path).cells
    ids = [cell.id for cell in cells]
    for cell_id in script.PICTURES.get(path.stem, []):
        assert cell_id in ids, f"{path.name}: no cell {cell_id} (update PICTURES in the script)"
        after = cells[ids.index(cell_id) + 1]
        name = f"expected-{cell_id}.jpg"
        assert after.id == f"expected-{cell_id}" and name in after.get("attachments", {}), (
            f"{path.name}: cell {cell_id} has no expected picture after it: run "
            "`python scripts/make_expected_pictures.py run/embed`"
        )
        assert f"(attachment:{name})" in after.source and "**Expected result**" in after.source
    time_stated = rf"{re.escape(script.TIME_LINE)} (about \d+ min|under a minute) on a"
    stated = re.search(time_stated, cells[0].source)
    assert stated, f"{path.name}: the opening cell does not state the measured full-size time"
    index = (NOTEBOOK_DIR / "README.md").read_text(encoding="utf-8")
    row = next(line for line in index.splitlines() if line.startswith(f"| {path.name[:2]} |"))
    assert row.endswith(f"| {stated.group(1)} |"), f"the index lists another time for {path.name}"
