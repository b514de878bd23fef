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
    """SHA-256 over every file's relative path, executable bit and content, in path order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() or p.is_symlink()):
        relative = path.relative_to(root).as_posix()
        if path.is_symlink():
            digest.update(f"L {relative} -> {os.readlink(path)}\n".encode())
            continue
        executable = "x" if os.access(path, os.X_OK) else "-"
        digest.update(f"F {relative} {executable} ".encode())
        with path.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()
