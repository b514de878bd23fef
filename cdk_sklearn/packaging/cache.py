"""Where built layers are kept between synths, and the key that says when to rebuild.

A layer is rebuilt only when something that decides its content changes: the requirements (model pins
plus extras), the runtime, the architecture, whether and for which Python it has bytecode, whether
it is slim (sourceless), and the builder itself (this package's source and the pip that resolves).
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from importlib import metadata
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
    """Hash of what builds layers: this package's source files, cdk-sklearn's and pip's versions."""
    digest = hashlib.sha256()
    digest.update(f"cdk-sklearn {__version__}\n".encode())
    try:
        digest.update(f"pip {metadata.version('pip')}\n".encode())
    except metadata.PackageNotFoundError:  # pragma: no cover - pip is always there when we build
        digest.update(b"pip unknown\n")
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes() + b"\0")
    return digest.hexdigest()


def build_key(
    requirements: tuple[str, ...],
    runtime: str,
    architecture: str,
    bytecode_tag: str | None,
    slim: bool = False,
) -> str:
    """The cache key of a layer build: 24 hex characters of a SHA-256 over its inputs."""
    payload = {
        "requirements": sorted(requirements),
        "runtime": runtime,
        "architecture": architecture,
        "bytecode": bytecode_tag,
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
