"""What each Lambda runtime's system provides, as data from the manylinux policy."""

from __future__ import annotations

import pytest

from cdk_sklearn.packaging.runtime_system import runtime_system
from cdk_sklearn.packaging.target import LambdaTarget

AL2023_X86 = runtime_system(LambdaTarget("python3.12", "x86_64"))
AL2023_ARM = runtime_system(LambdaTarget("python3.14", "arm64"))
AL2_X86 = runtime_system(LambdaTarget("python3.11", "x86_64"))


def test_python312_and_later_use_the_glibc_2_34_policy():
    assert AL2023_X86.policy == AL2023_ARM.policy == "manylinux_2_34"
    assert AL2_X86.policy == "manylinux_2_26"


@pytest.mark.parametrize("soname", ["libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1", "libz.so.1"])
def test_system_libraries_are_provided(soname):
    assert AL2023_X86.provides(soname) and AL2_X86.provides(soname)


@pytest.mark.parametrize("soname", ["libgomp.so.1", "libGL.so.1", "libglib-2.0.so.0", "libgfortran.so.5"])
def test_openmp_graphics_and_fortran_libraries_are_not_provided(soname):
    assert not AL2023_X86.provides(soname)


def test_loader_is_named_per_architecture():
    assert AL2023_X86.provides("ld-linux-x86-64.so.2") and AL2023_ARM.provides("ld-linux-aarch64.so.1")
    assert not AL2023_ARM.provides("ld-linux-x86-64.so.2")


@pytest.mark.parametrize(
    "version", ["GLIBC_2.34", "GLIBC_2.2.5", "GLIBCXX_3.4.29", "CXXABI_1.3.13", "GLIBC_PRIVATE"]
)
def test_versions_up_to_gcc_11_and_glibc_2_34_are_provided_on_al2023(version):
    assert AL2023_X86.version_too_new(version) is None


@pytest.mark.parametrize(
    ("version", "newest"),
    [("GLIBC_2.35", "GLIBC_2.34"), ("GLIBCXX_3.4.30", "GLIBCXX_3.4.29"), ("CXXABI_1.3.14", "CXXABI_1.3.13")],
)
def test_versions_newer_than_al2023_are_reported_with_the_newest_allowed(version, newest):
    assert AL2023_X86.version_too_new(version) == newest


def test_glibc_2_27_is_too_new_for_amazon_linux_2():
    assert AL2_X86.version_too_new("GLIBC_2.27") == "GLIBC_2.26"
