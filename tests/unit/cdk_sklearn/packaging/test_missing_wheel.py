"""A requirement without a wheel for the target: one line, whatever pip printed and however it printed it."""

from __future__ import annotations

import subprocess

import pytest
from packaging.tags import Tag

from cdk_sklearn.packaging import install
from cdk_sklearn.packaging.install import (
    ResolutionError,
    explain_missing_wheel,
    pip_error,
    resolve,
    strip_ansi,
    target_tags,
)
from cdk_sklearn.packaging.target import LambdaTarget

PY311 = LambdaTarget("python3.11", "arm64")
# What the index lists, as file names: 1.9.1 has manylinux_2_27/2_28 wheels only (Amazon Linux 2023),
# 1.7.0 still had manylinux2014 ones for CPython 3.11.
LISTING = (
    "scikit_learn-1.9.1-cp311-cp311-manylinux_2_27_aarch64.manylinux_2_28_aarch64.whl",
    "scikit_learn-1.9.1-cp312-cp312-manylinux_2_27_aarch64.manylinux_2_28_aarch64.whl",
    "scikit_learn-1.9.1-cp313-cp313-manylinux_2_27_aarch64.manylinux_2_28_aarch64.whl",
    "scikit_learn-1.9.1-cp314-cp314-manylinux_2_27_aarch64.manylinux_2_28_aarch64.whl",
    "scikit_learn-1.9.1.tar.gz",
    "scikit_learn-1.7.0-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
    "scikit_learn-1.8.0rc1-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
)
EXPECTED = (
    "scikit-learn 1.9.1 has no wheel for python3.11 on Amazon Linux 2 (glibc 2.26, arm64); use runtime "
    "python3.12+ or retrain with scikit-learn<=1.7.0 (the newest with a wheel for python3.11)"
)
# Some pip versions colour their errors and add a hint block; the regex must see through it.
PIP_OUTPUT = (
    "\x1b[31mERROR: Could not find a version that satisfies the requirement scikit-learn==1.9.1\x1b[0m "
    "(from versions: 1.7.0)\n\x1b[31mERROR: No matching distribution found for scikit-learn==1.9.1\x1b[0m\n"
)


@pytest.fixture
def index(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(install, "index_files", lambda distribution: LISTING)


@pytest.mark.usefixtures("index")
def test_message_names_newer_runtimes_and_the_newest_version_that_fits() -> None:
    assert explain_missing_wheel("scikit-learn==1.9.1", PY311) == EXPECTED


@pytest.mark.usefixtures("index")
def test_message_has_no_ansi_escape_from_a_coloured_requirement() -> None:
    assert explain_missing_wheel("scikit-learn==1.9.1\x1b[0m", PY311) == EXPECTED


@pytest.mark.usefixtures("index")
def test_fails_with_one_line_whatever_pip_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_pip(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 1, stdout="", stderr=PIP_OUTPUT)

    monkeypatch.setattr(install.subprocess, "run", fake_pip)
    with pytest.raises(ResolutionError) as raised:
        resolve(["scikit-learn==1.9.1"], PY311)
    assert str(raised.value) == EXPECTED


def test_python311_accepts_manylinux2014_but_not_manylinux_2_28() -> None:
    tags = target_tags(PY311)
    assert Tag("cp311", "cp311", "manylinux2014_aarch64") in tags
    assert Tag("cp311", "cp311", "manylinux_2_28_aarch64") not in tags


def test_python313_accepts_manylinux_2_28() -> None:
    assert Tag("cp313", "cp313", "manylinux_2_28_aarch64") in target_tags(LambdaTarget("python3.13", "arm64"))


def test_strip_ansi_removes_colour_codes() -> None:
    assert strip_ansi("\x1b[1;31mERROR\x1b[0m: x") == "ERROR: x"


def test_pip_error_keeps_only_the_error_lines() -> None:
    output = "Traceback (most recent call last):\n  File x\nWARNING: y\nERROR: the index is unreachable\n"
    assert pip_error(output) == "the index is unreachable"
