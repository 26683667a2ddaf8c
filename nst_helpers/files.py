"""Small file utilities shared by every module that writes or verifies files.

:func:`atomic_write` is the one way the package writes a file: into a hidden temporary
file beside the target, published under the final name only when complete. Without
``overwrite`` the final name is created exclusively, so two runs racing for one new
name cannot both succeed; on any exit (an error, Ctrl-C) the temporary file is removed.
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from .errors import NSTError


def file_hash(path: Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file (``sha256`` by default, any :mod:`hashlib` name), read in 1 MiB
    chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def atomic_write(path: str | os.PathLike, overwrite: bool = True) -> Iterator[BinaryIO]:
    """Write ``path`` all at once: ``with atomic_write(path) as stream: stream.write(...)``.

    The data goes to ``.<name>.<random>.tmp`` in the same folder. When the block ends
    normally the file is published: replacing ``path`` with ``overwrite``, otherwise under
    a name created exclusively (a hard link, which fails if ``path`` exists, even when
    another process created it a moment ago). Raises :class:`NSTError` if ``path`` exists
    and ``overwrite`` is False. On any exit the temporary file is gone.
    """
    target = Path(path)
    # at most 214 bytes, so that any legal name (255 bytes) leaves room for the suffix
    short = target.name.encode()[:200].decode(errors="ignore")
    temporary = target.with_name(f".{short}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "xb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())  # the contents reach the disk before the name does
        if overwrite:
            os.replace(temporary, target)
        else:
            publish_exclusively(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def publish_exclusively(temporary: Path, target: Path) -> None:
    """Give ``temporary``'s finished contents the name ``target``, which must not exist yet."""
    try:
        os.link(temporary, target)
    except FileExistsError:
        raise NSTError(
            f"{target} already exists (another run may have written it just now); "
            "pass overwrite=True (--force on the command line) to replace it."
        ) from None
    except OSError as error:  # file systems without hard links: reserve the name, then replace
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        try:
            os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            raise NSTError(f"{target} already exists; pass overwrite=True to replace it.") from None
        try:
            os.replace(temporary, target)
        except BaseException:
            target.unlink(missing_ok=True)  # the empty file that reserved the name
            raise
