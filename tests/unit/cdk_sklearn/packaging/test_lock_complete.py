"""A lock entry installs exactly what its wheels require: no missing, no extra, no version outside a range.

Against a local package index (pip, no network): the entries are resolved by pip, then edited as a hand
or a bad merge would edit them.
"""

from __future__ import annotations

import hashlib

import pytest

from cdk_sklearn.packaging.build import build_layer
from cdk_sklearn.packaging.install import LockedPackage
from cdk_sklearn.packaging.lock import LayerSpec, Lock, LockEntry, LockError, locked_entry, upgrade
from cdk_sklearn.packaging.target import LambdaTarget
from tests.helpers.wheels import make_wheel, use_local_index

ARM64 = LambdaTarget("python3.13", "arm64")


@pytest.fixture
def index(tmp_path, monkeypatch):
    folder = tmp_path / "index"
    make_wheel(
        folder,
        "toppkg",
        "1.0",
        metadata=[
            "Requires-Dist: deppkg>=1",
            "Requires-Dist: winpkg; sys_platform == 'win32'",
            "Provides-Extra: fast",
            "Requires-Dist: fastpkg; extra == 'fast'",
        ],
    )
    make_wheel(folder, "deppkg", "1.0")
    make_wheel(folder, "deppkg", "0.5")
    make_wheel(folder, "fastpkg", "2.0")
    make_wheel(folder, "winpkg", "1.0")
    make_wheel(folder, "straypkg", "3.0")
    use_local_index(monkeypatch, folder)
    monkeypatch.setenv("CDK_SKLEARN_CACHE", str(tmp_path / "cache"))
    return folder


def _package(index, name: str, version: str) -> LockedPackage:
    wheel = f"{name}-{version}-py3-none-any.whl"
    return LockedPackage(name, version, wheel, hashlib.sha256((index / wheel).read_bytes()).hexdigest())


def _lock_with(tmp_path, index, requirements, *pins: tuple[str, str]):
    spec = LayerSpec.of(requirements, ARM64)
    entry = LockEntry(spec, ARM64.platform_tags, tuple(_package(index, *pin) for pin in pins))
    path = tmp_path / "pylock.cdk-sklearn.toml"
    Lock(path, {entry.key: entry}).write()
    return path, entry


def _build(path, requirements):
    return build_layer(requirements, ARM64, None, lock=path, log=lambda _: None)


def test_resolved_entry_builds_with_extras_and_markers(tmp_path, index):
    path = tmp_path / "pylock.cdk-sklearn.toml"
    entry = locked_entry(LayerSpec.of(["toppkg[fast]"], ARM64), path, None, lambda _: None)
    assert [p.name for p in entry.packages] == ["deppkg", "fastpkg", "toppkg"]
    assert _build(path, ["toppkg[fast]"]).lock == ("deppkg==1.0", "fastpkg==2.0", "toppkg==1.0")


def test_fails_on_entry_missing_a_transitive_dependency(tmp_path, index):
    path, entry = _lock_with(tmp_path, index, ["toppkg"], ("toppkg", "1.0"))
    with pytest.raises(LockError) as caught:
        _build(path, ["toppkg"])
    message = str(caught.value)
    assert "missing deppkg (required by toppkg)" in message
    assert f"cdk-sklearn lock --upgrade --entry {entry.key}" in message
    assert not list((tmp_path / "cache" / "layers").iterdir()), "nothing was cached"


def test_fails_on_entry_with_a_package_nothing_requires(tmp_path, index):
    path, _ = _lock_with(
        tmp_path, index, ["toppkg"], ("toppkg", "1.0"), ("deppkg", "1.0"), ("straypkg", "3.0")
    )
    with pytest.raises(LockError, match=r"not required by anything: straypkg\. cdk-sklearn stopped"):
        _build(path, ["toppkg"])


def test_fails_on_extra_dependency_not_asked_for(tmp_path, index):
    # fastpkg belongs to toppkg[fast]; the entry asks for plain toppkg.
    path, _ = _lock_with(
        tmp_path, index, ["toppkg"], ("toppkg", "1.0"), ("deppkg", "1.0"), ("fastpkg", "2.0")
    )
    with pytest.raises(LockError, match="not required by anything: fastpkg"):
        _build(path, ["toppkg"])


def test_fails_on_transitive_version_outside_its_range(tmp_path, index):
    path, _ = _lock_with(tmp_path, index, ["toppkg"], ("toppkg", "1.0"), ("deppkg", "0.5"))
    with pytest.raises(LockError, match=r"toppkg requires deppkg>=1 but the entry pins deppkg 0\.5"):
        _build(path, ["toppkg"])


def test_the_upgrade_the_message_names_repairs_the_entry(tmp_path, index):
    path, entry = _lock_with(tmp_path, index, ["toppkg"], ("toppkg", "1.0"))
    with pytest.raises(LockError):
        _build(path, ["toppkg"])
    upgrade(path, [entry.key], lambda _: None)
    assert _build(path, ["toppkg"]).lock == ("deppkg==1.0", "toppkg==1.0")
