"""The installed-set check on hand-made ``.dist-info`` folders: markers for the target and for pip's host."""

from __future__ import annotations

import platform

from cdk_sklearn.packaging.completeness import check_installed, target_environment
from cdk_sklearn.packaging.target import LambdaTarget

# A target whose machine is not this host's, so markers on platform_machine tell the two apart.
OTHER = LambdaTarget("python3.13", "arm64" if platform.machine() == "x86_64" else "x86_64")


def _install(site_packages, name: str, version: str, *requires: str) -> None:
    dist_info = site_packages / f"{name}-{version}.dist-info"
    dist_info.mkdir(parents=True)
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {requirement}" for requirement in requires]
    (dist_info / "METADATA").write_text("\n".join(lines) + "\n")


def test_target_environment_is_lambda_linux():
    environment = target_environment(LambdaTarget("python3.12", "arm64"), "3.12.9")
    assert (environment["sys_platform"], environment["platform_machine"]) == ("linux", "aarch64")
    assert (environment["python_version"], environment["python_full_version"]) == ("3.12", "3.12.9")


def test_dependency_pip_added_for_the_host_is_not_extra(tmp_path):
    # pip evaluates markers for the machine it runs on, even with --platform.
    _install(tmp_path, "top", "1.0", f"hostonly; platform_machine == '{platform.machine()}'")
    _install(tmp_path, "hostonly", "1.0")
    assert not check_installed(tmp_path, ["top"], [], OTHER)


def test_fails_on_dependency_only_the_target_needs(tmp_path):
    _install(tmp_path, "top", "1.0", f"targetonly; platform_machine == '{OTHER.machine}'")
    found = check_installed(tmp_path, ["top"], [], OTHER)
    assert found.missing == ["targetonly (required by top)"]


def test_without_dependencies_roots_are_not_followed(tmp_path):
    _install(tmp_path, "xgboost", "3.0.2", "nvidia-nccl-cu12", "numpy")
    _install(tmp_path, "numpy", "2.5.5")
    assert not check_installed(tmp_path, ["numpy"], ["xgboost==3.0.2"], OTHER)


def test_fails_naming_missing_extra_and_conflicting_in_one_line(tmp_path):
    _install(tmp_path, "top", "1.0", "dep>=2", "gone")
    _install(tmp_path, "dep", "1.0")
    _install(tmp_path, "stray", "1.0")
    found = check_installed(tmp_path, ["top"], [], OTHER)
    assert found.describe() == (
        "missing gone (required by top); not required by anything: stray; "
        "top requires dep>=2 but the entry pins dep 1.0"
    )
