"""Where built layers are kept between synths, and the key that says when to rebuild.

A layer is rebuilt only when something that decides its content changes: the locked distributions
(name, version and wheel hash, see :mod:`cdk_sklearn.packaging.lock`), the runtime, the architecture
and its wheel platform tags, the interpreter release that compiles the bytecode, whether it is slim
(sourceless), and this package's own source (the pruning and compiling rules). The pip that installs
the wheels is *not* part of the key: installing a hash-checked wheel with ``--no-deps`` unpacks the
same files whatever the pip, and what pip adds of its own (``INSTALLER``, ``REQUESTED``,
``direct_url.json``) is removed by :mod:`.prune`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from functools import cache
from pathlib import Path

from cdk_sklearn import __version__

CACHE_ENV = "CDK_SKLEARN_CACHE"
"""Environment variable overriding the cache folder (default ``~/.cache/cdk-sklearn``)."""


def cache_root() -> Path:
    """The cache folder.

    ``$CDK_SKLEARN_CACHE``, else ``$XDG_CACHE_HOME/cdk-sklearn``, else ``~/.cache/cdk-sklearn``.
    """
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit).expanduser().resolve()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser().resolve() / "cdk-sklearn"


@cache
def builder_fingerprint() -> str:
    """Hash of what turns wheels into a layer: cdk-sklearn's version and this package's source files."""
    digest = hashlib.sha256()
    digest.update(f"cdk-sklearn {__version__}\n".encode())
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes() + b"\0")
    return digest.hexdigest()


def build_key(
    pins: tuple[str, ...],
    runtime: str,
    architecture: str,
    bytecode: str | None,
    slim: bool = False,
    platforms: tuple[str, ...] = (),
) -> str:
    """The cache key of a layer build: 24 hex characters of a SHA-256 over its inputs.

    Parameters
    ----------
    pins
        What is installed: ``name==version sha256`` lines of the lock entry (requirement strings
        for the stand-in key of an unbundled synth). Order does not matter.
    runtime, architecture
        The Lambda target.
    bytecode
        The release of the interpreter that compiles .pyc (``"3.13.5"``), or ``None`` for none.
    slim
        Sourceless layer.
    platforms
        The wheel platform tags pip was allowed to pick.
    """
    payload = {
        "pins": sorted(pins),
        "runtime": runtime,
        "architecture": architecture,
        "platforms": list(platforms),
        "bytecode": bytecode,
        "slim": slim,
        "builder": builder_fingerprint(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]


def tree_hash(root: Path) -> str:
    """SHA-256 over every file's relative path, permission bits and SHA-256 (a symlink: its target).

    Recorded when a layer enters the cache and checked on every reuse (see
    :func:`cdk_sklearn.packaging.build.build_from_entry`); it is also the layer's CDK asset hash.
    """
    tree = TreeHash()
    for path in sorted(p for p in root.rglob("*") if p.is_file() or p.is_symlink()):
        relative = path.relative_to(root).as_posix()
        if path.is_symlink():
            tree.add_link(relative, os.readlink(path))
            continue
        with path.open("rb") as handle:
            content = hashlib.file_digest(handle, "sha256").hexdigest()
            tree.add_file(relative, os.fstat(handle.fileno()).st_mode, content)
    return tree.hexdigest()


class TreeHash:
    """The :func:`tree_hash` of files added one by one in path order."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256()

    def add_file(self, relative: str, mode: int, sha256: str) -> None:
        """Add a regular file: its path in the tree, its ``st_mode`` and the hex SHA-256 of its bytes."""
        self._digest.update(f"F {relative} {stat.S_IMODE(mode):04o} {sha256}\n".encode())

    def add_link(self, relative: str, target: str) -> None:
        """Add a symbolic link: its path in the tree and what it points to."""
        self._digest.update(f"L {relative} -> {target}\n".encode())

    def hexdigest(self) -> str:
        """The tree hash of what was added, 64 hex digits."""
        return self._digest.hexdigest()


def copy_tree(source: Path, destination: Path) -> str:
    """Copy ``source``'s files into ``destination`` and return the :func:`tree_hash` of the copy.

    Files are copied, never hard-linked: a link would let a later edit of either copy change both.
    Each file is read once, and the bytes hashed are the bytes written, so the hash describes what
    ``destination`` holds even if ``source`` changes meanwhile. Permission bits and modification
    times are kept; symbolic links are copied as links.
    """
    tree = TreeHash()
    destination.mkdir(parents=True, exist_ok=True)
    folders = [(source, destination)]
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source).as_posix()
        target = destination / relative
        if path.is_symlink():
            target.unlink(missing_ok=True)
            target.symlink_to(os.readlink(path))
            tree.add_link(relative, os.readlink(target))
        elif path.is_dir():
            target.mkdir(exist_ok=True)
            folders.append((path, target))
        else:
            tree.add_file(relative, *_copy_file(path, target))
    for folder, copy in reversed(folders):  # deepest first: filling a folder changes its mtime
        shutil.copystat(folder, copy, follow_symlinks=False)
    return tree.hexdigest()


def _copy_file(source: Path, target: Path) -> tuple[int, str]:
    # One read: hash what is written. Returns the mode set on the copy and the SHA-256 of its bytes.
    digest = hashlib.sha256()
    target.unlink(missing_ok=True)  # never write through an existing link into another file
    with source.open("rb") as reader, target.open("xb") as writer:
        mode = os.fstat(reader.fileno()).st_mode
        while chunk := reader.read(1 << 20):
            digest.update(chunk)
            writer.write(chunk)
    shutil.copystat(source, target, follow_symlinks=False)
    os.chmod(target, stat.S_IMODE(mode))
    return mode, digest.hexdigest()
