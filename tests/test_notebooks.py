"""The notebooks' structure, and their exercises against the checks, without running them.

nbval executes the full notebooks separately (``pytest notebooks/``). Here:

(a) every notebook is committed without outputs or execution counts;
(b) ``scripts/sync_notebooks.py --check`` passes (badge and setup cell up to date);
(c) each notebook has an H1 title, the Colab badge, at least one exercise (a code cell
    with ``### BEGIN SOLUTION`` / ``### END SOLUTION``) followed by a code cell calling
    ``checks.check_...(name)``, and "Summary" and "References" sections;
(d) ``scripts/make_student_notebooks.py`` writes copies with every solution replaced
    by the stub; each exercise's stub fails its check with a message about
    ``# YOUR CODE HERE``, and each full solution passes it.

RULE FOR NOTEBOOK AUTHORS: a code cell that holds an exercise (BEGIN/END SOLUTION) must be
self-contained. It is executed here on its own, in a fresh namespace that only holds
``tf`` (tensorflow), ``np`` (numpy) and ``nst`` (nst_helpers); anything else it uses
(other imports, helper functions, constants) must be defined in that same cell. The
next code cell must call the check on the function the exercise defines, e.g.
``checks.check_gram_matrix(gram_matrix)``.
"""

from __future__ import annotations

import importlib.util
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


def test_student_script_writes_stubbed_copies(tmp_path, capsys):
    script = load_script("make_student_notebooks")
    out = tmp_path / "student"
    assert script.main(["--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for path in NOTEBOOKS:
        assert path.name in printed
        full, copy = read(path), read(out / path.name)
        assert len(copy.cells) == len(full.cells)
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
    # A second run must not overwrite the copies silently.
    assert script.main(["--out", str(out)]) == 2
    assert script.main(["--out", str(out), "--force"]) == 0


def fresh_namespace() -> dict:
    return {"__name__": "exercise", "tf": tf, "np": np, "nst": nst}


@pytest.mark.parametrize("path, index, source, check, function", EXERCISES)
def test_stub_fails_its_check_and_solution_passes(path, index, source, check, function):
    if check is None:
        pytest.fail(
            f"{path.name} cell {index}: the next code cell calls no checks.check_...(function)"
        )
    script = load_script("make_student_notebooks")
    stub, _ = script.strip_solutions(source)

    namespace = fresh_namespace()
    exec(compile(stub, f"{path.name}[{index}] (student copy)", "exec"), namespace)
    with pytest.raises(checks.ExerciseError, match="YOUR CODE HERE"):
        getattr(checks, check)(namespace[function])

    namespace = fresh_namespace()
    exec(compile(source, f"{path.name}[{index}]", "exec"), namespace)
    assert getattr(checks, check)(namespace[function]) is True
