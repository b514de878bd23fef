"""Cache: location and keys."""

from __future__ import annotations

from cdk_sklearn.packaging.cache import build_key, cache_root, copy_tree, tree_hash


def test_cache_root_honours_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CDK_SKLEARN_CACHE", str(tmp_path / "c"))
    assert cache_root() == tmp_path / "c"


def test_cache_root_defaults_under_xdg_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("CDK_SKLEARN_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_root() == tmp_path / "cdk-sklearn"


def test_key_ignores_requirement_order():
    a = build_key(("scikit-learn==1.9.1", "pandas"), "python3.13", "arm64", "cpython-313")
    b = build_key(("pandas", "scikit-learn==1.9.1"), "python3.13", "arm64", "cpython-313")
    assert a == b


def test_key_changes_with_each_input():
    base = (("scikit-learn==1.9.1",), "python3.13", "arm64", "cpython-313")
    variants = [
        (("scikit-learn==1.9.0",), "python3.13", "arm64", "cpython-313"),
        (("scikit-learn==1.9.1", "pandas"), "python3.13", "arm64", "cpython-313"),
        (("scikit-learn==1.9.1",), "python3.12", "arm64", "cpython-313"),
        (("scikit-learn==1.9.1",), "python3.13", "x86_64", "cpython-313"),
        (("scikit-learn==1.9.1",), "python3.13", "arm64", None),
        (("scikit-learn==1.9.1",), "python3.13", "arm64", "cpython-313", True),
        (("scikit-learn==1.9.1",), "python3.13", "arm64", "3.13.5"),
        (("scikit-learn==1.9.1",), "python3.13", "arm64", "cpython-313", False, ("manylinux2014_aarch64",)),
    ]
    keys = {build_key(*base)} | {build_key(*v) for v in variants}
    assert len(keys) == 1 + len(variants)


def test_tree_hash_follows_content_and_names(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    first = tree_hash(tmp_path)
    assert tree_hash(tmp_path) == first
    (tmp_path / "a.py").write_text("x = 2\n")
    second = tree_hash(tmp_path)
    (tmp_path / "a.py").rename(tmp_path / "b.py")
    assert len({first, second, tree_hash(tmp_path)}) == 3


def test_tree_hash_follows_permission_bits(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "a.py").chmod(0o644)
    before = tree_hash(tmp_path)
    (tmp_path / "a.py").chmod(0o664)
    assert tree_hash(tmp_path) != before


def test_copy_tree_returns_the_tree_hash_of_the_copy(tmp_path):
    source = tmp_path / "source"
    (source / "pkg").mkdir(parents=True)
    (source / "pkg" / "a.py").write_text("x = 1\n")
    (source / "pkg" / "tool").write_text("#!/bin/sh\n")
    (source / "pkg" / "tool").chmod(0o755)
    (source / "pkg" / "alias").symlink_to("a.py")
    copied = copy_tree(source, tmp_path / "copy")
    assert copied == tree_hash(tmp_path / "copy") == tree_hash(source)
    assert (tmp_path / "copy" / "pkg" / "alias").is_symlink()
    assert (tmp_path / "copy" / "pkg" / "tool").stat().st_mode & 0o777 == 0o755


def test_key_does_not_depend_on_the_pip_version(monkeypatch):
    from importlib import metadata

    from cdk_sklearn.packaging import cache

    before = build_key(("numpy==2.5.5 " + "ab" * 32,), "python3.13", "arm64", "3.13.5")
    cache.builder_fingerprint.cache_clear()
    real = metadata.version
    monkeypatch.setattr(metadata, "version", lambda name: "1.0" if name == "pip" else real(name))
    try:
        assert build_key(("numpy==2.5.5 " + "ab" * 32,), "python3.13", "arm64", "3.13.5") == before
    finally:
        cache.builder_fingerprint.cache_clear()
