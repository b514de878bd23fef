"""Build the release artifacts (sdist and wheel) so that one commit always gives the same bytes.

The wheel needs nothing beyond ``python -m build`` with ``SOURCE_DATE_EPOCH`` and the exact setuptools
that ``pyproject.toml`` pins: setuptools dates every zip entry with ``SOURCE_DATE_EPOCH``, writes the entries
in sorted order, and takes their modes from the sources. The sdist needs one more step: setuptools writes the
gzip header with the build's clock, each tar member with its file's mtime (the checkout time) and the
builder's user and group. :func:`normalise_sdist` rewrites it with the commit time, owner 0/0 without names,
modes 0644/0755 and the members in sorted order. The wheel is then built from that normalised sdist, as
``python -m build`` builds it from its own.

One input stays: setuptools creates the files it packs into the wheel (the copies in its build folder, the
dist-info files) under the process's umask, and the wheel records their modes. :func:`build` always builds
under umask 022, whatever the caller's.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

# gzip's default: what ``python -m build`` writes, so a normalised sdist is no larger than the original.
GZIP_LEVEL = 9


class ReleaseError(Exception):
    """A release step that cannot go on, with what to do about it."""


@dataclass(frozen=True)
class Artifacts:
    """The two files a release uploads."""

    sdist: Path
    wheel: Path

    def paths(self) -> tuple[Path, Path]:
        """Return ``(sdist, wheel)``."""
        return (self.sdist, self.wheel)


def commit_epoch(source: Path) -> int:
    """Return the commit time of ``source``'s HEAD in seconds since the epoch (its ``SOURCE_DATE_EPOCH``)."""
    out = subprocess.run(
        ["git", "-C", str(source), "log", "-1", "--format=%ct"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return int(out)


def normalise_sdist(sdist: Path, epoch: int) -> None:
    """Rewrite the gzipped tar ``sdist`` in place so that its bytes depend only on the files it holds.

    Parameters
    ----------
    sdist
        A ``.tar.gz`` source distribution.
    epoch
        The time every member and the gzip header get (the commit's ``SOURCE_DATE_EPOCH``).
    """
    with tarfile.open(sdist, "r:gz") as original:
        members = sorted(original.getmembers(), key=lambda member: member.name)
        contents = {
            member.name: original.extractfile(member).read()  # type: ignore[union-attr]
            for member in members
            if member.isfile()
        }
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for member in members:
            if not (member.isfile() or member.isdir()):
                raise ReleaseError(f"{sdist.name}: {member.name} is neither a file nor a folder (a link?)")
            info = tarfile.TarInfo(member.name)
            info.type = member.type
            info.mtime = epoch
            info.mode = 0o755 if member.isdir() or member.mode & 0o111 else 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            data = contents.get(member.name, b"")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if member.isfile() else None)
    # filename="" keeps the file's name out of the gzip header; mtime replaces the build's clock.
    with sdist.open("wb") as handle, gzip.GzipFile("", "wb", GZIP_LEVEL, handle, mtime=epoch) as compressed:
        compressed.write(raw.getvalue())


# The umask every build runs under (setuptools' build-folder copies take it into the wheel's modes).
BUILD_UMASK = 0o022


def build(source: Path, outdir: Path) -> Artifacts:
    """Build the sdist of ``source``, normalise it, and build the wheel from it, into ``outdir``.

    Parameters
    ----------
    source
        A git checkout without uncommitted or untracked files (a release is built from a commit; its HEAD's
        commit time becomes ``SOURCE_DATE_EPOCH``).
    outdir
        Where the two files go; created if missing. It must hold no other sdist or wheel: a release uploads
        everything there.
    """
    changed = subprocess.run(
        ["git", "-C", str(source), "status", "--porcelain"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    if changed:
        listed = ", ".join(line[3:] for line in changed[:5]) + (", ..." if len(changed) > 5 else "")
        raise ReleaseError(f"{source} has uncommitted changes ({listed}): a release is built from a commit")
    epoch = commit_epoch(source)
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(epoch)}
    outdir.mkdir(parents=True, exist_ok=True)
    before = set(outdir.iterdir())
    stale = sorted(path.name for path in before if path.suffix == ".whl" or path.name.endswith(".tar.gz"))
    if stale:
        raise ReleaseError(f"{outdir} already holds {', '.join(stale)}: remove them or use an empty folder")
    _python_m_build(["--sdist", "--outdir", str(outdir), str(source)], env)
    (sdist,) = (path for path in set(outdir.iterdir()) - before if path.name.endswith(".tar.gz"))
    normalise_sdist(sdist, epoch)
    _python_m_build(["--wheel", "--outdir", str(outdir), str(sdist)], env)
    (wheel,) = (path for path in set(outdir.iterdir()) - before if path.suffix == ".whl")
    return Artifacts(sdist, wheel)


def sha256(path: Path) -> str:
    """Return the hex sha256 of the file at ``path``."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_sha256sums(paths: list[Path], destination: Path) -> Path:
    """Write ``sha256sum``'s format for ``paths`` (names only) to ``destination``; return it."""
    lines = [f"{sha256(path)}  {path.name}\n" for path in sorted(paths, key=lambda path: path.name)]
    destination.write_text("".join(lines))
    return destination


def _python_m_build(arguments: list[str], env: dict[str, str]) -> None:
    command = [sys.executable, "-m", "build", *arguments]
    result = subprocess.run(command, env=env, capture_output=True, text=True, umask=BUILD_UMASK)
    if result.returncode != 0:
        raise ReleaseError(
            f"python -m build {' '.join(arguments)} failed (exit {result.returncode}):\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
