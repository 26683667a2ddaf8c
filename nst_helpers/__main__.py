"""``python -m nst_helpers ...`` runs the command line (see :mod:`nst_helpers.cli`).

TensorFlow is imported here, quietly and before anything else, so that Ctrl-C during its
few seconds of start-up ends in one line instead of a traceback.
"""

import sys


def run() -> int:
    """Start TensorFlow, then run the command line; returns the exit code."""
    try:
        from .config import import_tensorflow_quietly

        import_tensorflow_quietly()
        from .cli import main
    except KeyboardInterrupt:
        print("error: interrupted while starting up; nothing was done", file=sys.stderr)
        return 130
    return main()


if __name__ == "__main__":
    raise SystemExit(run())
