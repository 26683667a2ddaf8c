"""``python -m nst_helpers ...`` runs the command line (see :mod:`nst_helpers.cli`)."""

from .cli import main

raise SystemExit(main())
