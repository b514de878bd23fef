"""LambdaTarget: platform tags and pip options per runtime."""

from __future__ import annotations

import pytest

from cdk_sklearn.packaging.target import LambdaTarget


def test_amazon_linux_2023_runtimes_accept_manylinux_2_28():
    target = LambdaTarget("python3.13", "arm64")
    assert target.platform_tags == ("manylinux_2_28_aarch64", "manylinux2014_aarch64")
    assert target.glibc == "2.34"


def test_amazon_linux_2_runtimes_accept_manylinux2014_only():
    target = LambdaTarget("python3.11", "x86_64")
    assert target.platform_tags == ("manylinux2014_x86_64",)
    assert target.describe() == "python3.11 on Amazon Linux 2 (glibc 2.26, x86_64)"


def test_pip_arguments_pin_interpreter_and_abi():
    arguments = LambdaTarget("python3.14", "x86_64").pip_arguments()
    assert arguments == [
        "--platform",
        "manylinux_2_28_x86_64",
        "--platform",
        "manylinux2014_x86_64",
        "--only-binary=:all:",
        "--python-version",
        "3.14",
        "--implementation",
        "cp",
        "--abi",
        "cp314",
    ]


def test_fails_on_unsupported_runtime():
    with pytest.raises(ValueError, match=r"'python3.10' is not supported .* python3.11, python3.12"):
        LambdaTarget("python3.10", "x86_64")


def test_fails_on_unknown_architecture():
    with pytest.raises(ValueError, match=r"'aarch64' is not supported; use one of x86_64, arm64"):
        LambdaTarget("python3.13", "aarch64")
