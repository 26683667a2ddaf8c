"""Test-session setup for everything pytest runs here (unit tests and notebooks):
quick mode, and the local image mirror when present.

The notebooks that nbval executes run in kernels that inherit this process's
environment, so setting the variables here switches them to quick mode too, also
when a single notebook is run (``pytest notebooks/03_gram_matrices_and_style.ipynb``).
"""

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

os.environ["NST_QUICK"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

# The student editions (scripts/make_student_notebooks.py) have stubs that raise on purpose:
# nbval executes only the solved notebooks; tests/test_notebooks.py checks the copies.
collect_ignore_glob = ["notebooks/student/*"]

_MIRROR = Path(__file__).resolve().parent.parent / "shared" / "data"
if _MIRROR.is_dir():
    os.environ.setdefault("NST_DATA_MIRROR", str(_MIRROR))
