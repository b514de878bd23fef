"""The sdist normalisation and the archive comparison, on small archives made here."""

from __future__ import annotations

import gzip
import hashlib
import io
import struct
import tarfile
import zipfile
from pathlib import Path

import pytest

from devtools.release.artifacts import ReleaseError, normalise_sdist, write_sha256sums
from devtools.release.reproduce import differences

EPOCH = 1_765_000_000
FILES = {
    "pkg-1.0/PKG-INFO": b"Name: pkg\n",
    "pkg-1.0/pkg/__init__.py": b"X = 1\n",
    "pkg-1.0/run.sh": b"#!/bin/sh\n",
}


def _sdist(path: Path, order: list[str], uid: int, mtime: int, mode: int, gzip_mtime: int) -> Path:
    # As setuptools writes one: the builder's owner and times, members in whatever order it walked.
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        folder = tarfile.TarInfo("pkg-1.0")
        folder.type, folder.mode, folder.mtime, folder.uid, folder.uname = (
            tarfile.DIRTYPE,
            0o775,
            mtime,
            uid,
            "dev",
        )
        tar.addfile(folder)
        for name in order:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.uid, info.gid, info.uname, info.gname = (
                len(FILES[name]),
                mtime,
                uid,
                uid,
                "dev",
                "dev",
            )
            info.mode = 0o775 if name.endswith(".sh") else mode
            tar.addfile(info, io.BytesIO(FILES[name]))
    path.write_bytes(gzip.compress(raw.getvalue(), mtime=gzip_mtime))
    return path


def _normalised(tmp_path: Path, name: str, **made: int | list[str]) -> Path:
    path = _sdist(tmp_path / name, **made)  # type: ignore[arg-type]
    normalise_sdist(path, EPOCH)
    return path


def test_two_sdists_of_the_same_files_become_the_same_bytes(tmp_path: Path):
    one = _normalised(tmp_path, "a.tar.gz", order=sorted(FILES), uid=1000, mtime=1, mode=0o644, gzip_mtime=5)
    other = _normalised(
        tmp_path, "b.tar.gz", order=sorted(FILES, reverse=True), uid=0, mtime=99_999, mode=0o664, gzip_mtime=7
    )
    assert one.read_bytes() == other.read_bytes()


def test_members_are_sorted_timed_at_the_epoch_and_owned_by_nobody(tmp_path: Path):
    path = _normalised(
        tmp_path, "a.tar.gz", order=sorted(FILES, reverse=True), uid=1000, mtime=1, mode=0o664, gzip_mtime=5
    )
    with tarfile.open(path) as tar:
        members = tar.getmembers()
        assert [member.name for member in members] == ["pkg-1.0", *sorted(FILES)]
        assert {(member.mtime, member.uid, member.gid, member.uname, member.gname) for member in members} == {
            (EPOCH, 0, 0, "", "")
        }
        assert {member.name: member.mode for member in members} == {
            "pkg-1.0": 0o755,
            "pkg-1.0/PKG-INFO": 0o644,
            "pkg-1.0/pkg/__init__.py": 0o644,
            "pkg-1.0/run.sh": 0o755,
        }
        assert {name: tar.extractfile(name).read() for name in FILES} == FILES  # type: ignore[union-attr]


def test_gzip_header_carries_the_epoch_and_no_file_name(tmp_path: Path):
    path = _normalised(tmp_path, "a.tar.gz", order=sorted(FILES), uid=1000, mtime=1, mode=0o644, gzip_mtime=5)
    header = path.read_bytes()[:10]
    flags, mtime = header[3], struct.unpack("<I", header[4:8])[0]
    assert (mtime, flags & 0x08) == (EPOCH, 0)  # FNAME (0x08) unset: no name in the header


def test_fails_on_a_link_member(tmp_path: Path):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        link = tarfile.TarInfo("pkg-1.0/link")
        link.type, link.linkname = tarfile.SYMTYPE, "elsewhere"
        tar.addfile(link)
    path = tmp_path / "link.tar.gz"
    path.write_bytes(gzip.compress(raw.getvalue()))
    with pytest.raises(ReleaseError, match=r"pkg-1.0/link is neither a file nor a folder"):
        normalise_sdist(path, EPOCH)


def _wheel(path: Path, members: dict[str, bytes], date_time: tuple[int, ...] = (2026, 1, 1, 0, 0, 0)) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time), data)  # type: ignore[arg-type]
    return path


def test_differences_name_the_members_that_differ(tmp_path: Path):
    one = _wheel(tmp_path / "one.whl", {"a.py": b"1", "b.py": b"2", "gone.py": b""})
    other = _wheel(tmp_path / "other.whl", {"a.py": b"1", "b.py": b"3", "new.py": b""})
    assert differences(one, other) == [
        "only in the first: gone.py",
        "only in the second: new.py",
        "b.py differs",
    ]


def test_differences_see_a_date_in_a_member_header(tmp_path: Path):
    one = _wheel(tmp_path / "one.whl", {"a.py": b"1"})
    other = _wheel(tmp_path / "other.whl", {"a.py": b"1"}, date_time=(2026, 1, 2, 0, 0, 0))
    assert differences(one, other) == ["a.py differs"]


def test_differences_see_the_member_order(tmp_path: Path):
    one = _wheel(tmp_path / "one.whl", {"a.py": b"1", "b.py": b"2"})
    other = _wheel(tmp_path / "other.whl", {"b.py": b"2", "a.py": b"1"})
    assert differences(one, other) == ["members in another order"]


def test_sha256sums_in_sha256sum_format(tmp_path: Path):
    (tmp_path / "b.whl").write_bytes(b"wheel")
    (tmp_path / "a.tar.gz").write_bytes(b"sdist")
    sums = write_sha256sums([tmp_path / "b.whl", tmp_path / "a.tar.gz"], tmp_path / "SHA256SUMS")
    assert sums.read_text() == (
        f"{hashlib.sha256(b'sdist').hexdigest()}  a.tar.gz\n{hashlib.sha256(b'wheel').hexdigest()}  b.whl\n"
    )
