"""The release artifacts of one commit are the same bytes wherever they are built, and PyPI would take them.

Builds HEAD of this checkout (committed files only) with the release tooling, twice, from two clones that
differ in folder, file times and checkout umask; and once more with a plain ``python -m build``. Needs
``build`` and ``twine`` in the venv (``make test`` installs them; constraints.txt pins them) and PyPI or a pip
cache for the pinned setuptools. About a minute.
"""

from __future__ import annotations

import gzip
import importlib.util
import os
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from devtools.release.artifacts import ReleaseError, build
from devtools.release.reproduce import Reproduction, clone, reproduce
from tests.conftest import PROJECT_DIR

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reproduction(tmp_path_factory: pytest.TempPathFactory) -> Reproduction:
    missing = [tool for tool in ("build", "twine") if importlib.util.find_spec(tool) is None]
    if missing:
        tools = " and ".join(missing)
        pytest.fail(f"{tools} missing from this venv: run `make release-tools` (pinned in constraints.txt)")
    return reproduce(PROJECT_DIR, tmp_path_factory.mktemp("release"))


@pytest.fixture(scope="module")
def commit_time(reproduction: Reproduction) -> int:
    # From git itself, not from the tooling under test.
    out = subprocess.run(
        ["git", "-C", str(PROJECT_DIR), "show", "-s", "--format=%ct", reproduction.commit],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout)


def test_two_clones_build_byte_identical_wheels(reproduction: Reproduction):
    assert reproduction.first.wheel.read_bytes() == reproduction.second.wheel.read_bytes(), (
        reproduction.mismatches()
    )


def test_two_clones_build_byte_identical_sdists(reproduction: Reproduction):
    assert reproduction.first.sdist.read_bytes() == reproduction.second.sdist.read_bytes(), (
        reproduction.mismatches()
    )


def test_plain_python_m_build_gives_the_release_wheel(
    reproduction: Reproduction, tmp_path: Path, commit_time: int
):
    clone(PROJECT_DIR, tmp_path / "plain")
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(commit_time)}
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(tmp_path / "dist"), str(tmp_path / "plain")],
        env=env,
        capture_output=True,
        check=True,
        umask=0o022,
    )
    assert (
        tmp_path / "dist" / reproduction.first.wheel.name
    ).read_bytes() == reproduction.first.wheel.read_bytes()


def test_wheel_entries_are_dated_at_the_commit(reproduction: Reproduction, commit_time: int):
    expected = time.gmtime(commit_time)[:6]
    expected = (*expected[:5], expected[5] // 2 * 2)  # zip keeps even seconds
    with zipfile.ZipFile(reproduction.first.wheel) as wheel:
        assert {info.date_time for info in wheel.infolist()} == {expected}


def test_sdist_members_are_dated_at_the_commit_and_owned_by_nobody(
    reproduction: Reproduction, commit_time: int
):
    with tarfile.open(reproduction.first.sdist) as tar:
        owners = {
            (member.mtime, member.uid, member.gid, member.uname, member.gname) for member in tar.getmembers()
        }
    assert owners == {(commit_time, 0, 0, "", "")}


def test_sdist_gzip_header_is_dated_at_the_commit(reproduction: Reproduction, commit_time: int):
    with gzip.open(reproduction.first.sdist) as archive:
        archive.read(1)
        assert archive.mtime == commit_time  # type: ignore[attr-defined]


def test_twine_check_strict_accepts_both(reproduction: Reproduction):
    result = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, reproduction.first.paths())],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_wheel_metadata_names_the_cdk_framework_and_the_license(reproduction: Reproduction):
    with zipfile.ZipFile(reproduction.first.wheel) as wheel:
        (name,) = [name for name in wheel.namelist() if name.endswith(".dist-info/METADATA")]
        lines = wheel.read(name).decode().splitlines()
    assert {
        "Classifier: Framework :: AWS CDK",
        "Classifier: Framework :: AWS CDK :: 2",
        "License-Expression: Apache-2.0",
        "License-File: LICENSE",
    } <= set(lines)


def test_fails_to_build_a_checkout_with_uncommitted_changes(tmp_path: Path):
    clone(PROJECT_DIR, tmp_path / "dirty")
    (tmp_path / "dirty" / "lambda_runtime" / "stray.py").write_text("X = 1\n")
    with pytest.raises(ReleaseError, match=r"uncommitted changes \(lambda_runtime/stray.py\)"):
        build(tmp_path / "dirty", tmp_path / "dist")


def test_fails_to_build_into_a_folder_holding_artifacts(tmp_path: Path):
    clone(PROJECT_DIR, tmp_path / "clean")
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "old-0.1.0-py3-none-any.whl").write_bytes(b"")
    with pytest.raises(ReleaseError, match=r"already holds old-0.1.0-py3-none-any.whl"):
        build(tmp_path / "clean", tmp_path / "dist")
