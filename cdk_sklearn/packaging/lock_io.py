"""Safe writes of the layer lock: one writer at a time across processes, and nothing half-written.

Two synths of one app may run at once (two stacks in two terminals, a CI matrix on one runner), each
adding its own entry. Every read-modify-write of the lock holds :func:`exclusive`, an ``flock`` on a
sibling file (``.pylock.cdk-sklearn.toml.lock``), and re-reads the file inside it, so neither loses the
other's entry. :func:`write_durably` writes a temporary file, flushes it to disk (``fsync``), renames it
over the lock and flushes the folder: after a crash or a power cut the lock is the old file or the new
one, never an empty or partial one.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

if sys.platform != "win32":
    import fcntl


def guard_path(path: Path) -> Path:
    """The file whose ``flock`` guards writes of the lock at ``path`` (kept: removing it would race)."""
    return path.with_name(f".{path.name}.lock")


@contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold the inter-process lock of the lock file at ``path`` (blocks while another process holds it).

    Not re-entrant: a process holding it must not ask again. On Windows, which has no ``flock``, it
    does not lock.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if sys.platform == "win32":
        yield
        return
    with guard_path(path).open("a") as guard:
        fcntl.flock(guard.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(guard.fileno(), fcntl.LOCK_UN)


def write_durably(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically and durably (temporary file, fsync, rename, fsync folder)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        _sync_folder(path.parent)
    finally:
        temporary.unlink(missing_ok=True)


def _sync_folder(folder: Path) -> None:
    # The rename is only durable once the folder's entry is on disk; Windows cannot open a folder.
    if sys.platform == "win32":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
