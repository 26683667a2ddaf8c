"""Quick mode for CI and the default sizes and step counts.

Students get full-size defaults. Continuous integration (and ``pytest``, through
``tests/conftest.py``) sets the environment variable ``NST_QUICK=1``; then every
notebook and command uses small images and few steps so that the whole series
executes in minutes on a 2-core CPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

QUICK_ENV_VAR = "NST_QUICK"


def quick_mode() -> bool:
    """Return True when ``NST_QUICK`` is set to a true value (``1``, ``true``, ``yes``, ``on``)."""
    return os.environ.get(QUICK_ENV_VAR, "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Defaults:
    """Default run settings.

    Attributes:
        size: longest side of the content image in pixels.
        steps: optimizer iterations for a full stylization.
        preview_every: steps between preview callbacks.
    """

    size: int
    steps: int
    preview_every: int


FULL = Defaults(size=512, steps=100, preview_every=10)
QUICK = Defaults(size=64, steps=5, preview_every=2)


def defaults() -> Defaults:
    """The settings in force now: :data:`QUICK` in quick mode, else :data:`FULL`."""
    return QUICK if quick_mode() else FULL


def pick(full, quick):
    """Return ``quick`` in quick mode and ``full`` otherwise (for notebook parameters).

    Example: ``steps = pick(full=300, quick=5)``.
    """
    return quick if quick_mode() else full


def cpu_name() -> str | None:
    """The processor's model name from ``/proc/cpuinfo`` (Linux), or None where there is none;
    for the records of benchmarks and trained models."""
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def import_tensorflow_quietly() -> None:
    """Import TensorFlow with the process's stderr (file descriptor 2) muted meanwhile.

    TensorFlow 2.21 prints native log lines (oneDNN, "could not find cuda drivers") before
    its logging honours ``TF_CPP_MIN_LOG_LEVEL``. The command line calls this first; a
    script may too. Python errors still show: stderr is restored before they propagate.
    Notebooks need nothing: a kernel's native stderr goes to the server's log.
    """
    import sys

    if "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow

        tensorflow.config.list_physical_devices("GPU")
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
