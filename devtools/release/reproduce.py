"""Prove a commit's release artifacts reproducible: two clones, built differently, give the same bytes.

The second clone differs from the first in everything a build must not depend on: its folder, its files'
mtimes (moved by a day, as a checkout made another day) and the umask it was checked out under (002 instead
of 022, as on a system that gives users their own group, so its files are group-writable). When the bytes
differ, :func:`differences` names the members that do.
"""

from __future__ import annotations

import os
import subprocess
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from devtools.release.artifacts import Artifacts, build, sha256

ONE_DAY = 86_400


@dataclass(frozen=True)
class Reproduction:
    """The two builds of one commit."""

    commit: str
    first: Artifacts
    second: Artifacts

    def mismatches(self) -> list[str]:
        """Return one line per artifact whose two builds differ, naming the differing members."""
        lines = []
        for one, other in zip(self.first.paths(), self.second.paths(), strict=True):
            if sha256(one) != sha256(other):
                detail = "; ".join(differences(one, other)) or "same members, other archive bytes"
                lines.append(f"{one.name}: {detail}")
        return lines


def clone(source: Path, destination: Path, umask: int = 0o022) -> str:
    """Clone ``source``'s HEAD commit into ``destination`` (no hard links, detached); return the commit."""
    commit = subprocess.run(
        ["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    for command in (
        ["git", "clone", "--quiet", "--no-local", "--no-checkout", str(source), str(destination)],
        ["git", "-C", str(destination), "checkout", "--quiet", "--detach", commit],
    ):
        subprocess.run(command, capture_output=True, check=True, umask=umask)
    return commit


def reproduce(source: Path, workdir: Path) -> Reproduction:
    """Build ``source``'s HEAD twice under ``workdir`` (two unlike clones) and return both builds."""
    commit = clone(source, workdir / "first")
    first = build(workdir / "first", workdir / "first-dist")
    clone(source, workdir / "second", umask=0o002)
    _shift_mtimes(workdir / "second", ONE_DAY)
    second = build(workdir / "second", workdir / "second-dist")
    return Reproduction(commit, first, second)


def differences(one: Path, other: Path) -> list[str]:
    """Name what differs between two archives of the same kind: members, their contents or their headers."""
    left, right = _members(one), _members(other)
    lines = [f"only in the first: {name}" for name in sorted(left.keys() - right.keys())]
    lines += [f"only in the second: {name}" for name in sorted(right.keys() - left.keys())]
    lines += [f"{name} differs" for name in sorted(left.keys() & right.keys()) if left[name] != right[name]]
    if not lines and list(left) != list(right):
        lines.append("members in another order")
    return lines


def _members(archive: Path) -> dict[str, tuple[object, ...]]:
    # Each member's bytes and the header fields a build could leak into (time, mode, owner).
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as wheel:
            return {
                info.filename: (wheel.read(info), info.date_time, info.external_attr, info.compress_type)
                for info in wheel.infolist()
            }
    with tarfile.open(archive, "r:gz") as tar:
        return {
            member.name: (
                _read(tar, member),
                member.mtime,
                member.mode,
                member.uid,
                member.gid,
                member.uname,
                member.gname,
            )
            for member in tar.getmembers()
        }


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = tar.extractfile(member) if member.isfile() else None
    return handle.read() if handle is not None else b""


def _shift_mtimes(root: Path, seconds: int) -> None:
    for folder, _, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            stat = path.stat()
            os.utime(path, (stat.st_atime + seconds, stat.st_mtime + seconds))
