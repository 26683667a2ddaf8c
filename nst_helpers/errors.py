"""The one exception type the package raises for problems a user can fix.

The command line turns an :class:`NSTError` into a single line on stderr and
exit code 2; notebooks show its message. Programming errors (bugs) are left as
ordinary exceptions so that their tracebacks stay visible.
"""

from __future__ import annotations


class NSTError(ValueError):
    """A problem with the user's input or environment, with a message that says what to do."""
