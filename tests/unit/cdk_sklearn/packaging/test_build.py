"""Build pipeline pieces that need no network: requirement merging and cache reuse."""

from __future__ import annotations

import json

import pytest

from cdk_sklearn.packaging.build import build_layer, copy_layer, entry_key, merge_requirements
from cdk_sklearn.packaging.cache import tree_hash
from cdk_sklearn.packaging.install import LockedPackage
from cdk_sklearn.packaging.lock import LayerSpec, Lock, LockEntry
from cdk_sklearn.packaging.target import LambdaTarget

TARGET = LambdaTarget("python3.13", "x86_64")


def test_merge_keeps_model_pins_first_and_drops_duplicates():
    merged = merge_requirements(("scikit-learn==1.9.1", "pandas"), ["pandas", " xgboost==3.0.0 ", ""])
    assert merged == ("scikit-learn==1.9.1", "pandas", "xgboost==3.0.0")


def test_fails_on_pip_option_in_extras():
    with pytest.raises(ValueError, match="'--index-url=x' is a pip option"):
        merge_requirements(("scikit-learn==1.9.1",), ["--index-url=x"])


def test_cached_build_is_reused_without_pip(tmp_path, monkeypatch):
    monkeypatch.setenv("CDK_SKLEARN_CACHE", str(tmp_path))
    requirements = ("scikit-learn==1.9.1",)
    spec = LayerSpec.of(requirements, TARGET)
    package = LockedPackage(
        "scikit-learn", "1.9.1", "scikit_learn-1.9.1-cp313-cp313-manylinux_2_28_x86_64.whl", "ab" * 32
    )
    entry = LockEntry(spec, TARGET.platform_tags, (package,))
    lock = tmp_path / "pylock.cdk-sklearn.toml"
    Lock(lock, {entry.key: entry}).write()
    home = tmp_path / "layers" / entry_key(entry, None)
    (home / "layer" / "python" / "sklearn").mkdir(parents=True)
    (home / "layer" / "python" / "sklearn" / "__init__.py").write_text("")
    record = {
        "content_hash": tree_hash(home / "layer"),
        "lock": ["scikit-learn==1.9.1"],
        "packages": {"sklearn": 0},
        "layer_bytes": 0,
        "bytecode_tag": None,
        "pruned_bytes": 0,
    }
    (home / "build.json").write_text(json.dumps(record))
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/nothing-here")  # any pip call would fail
    build = build_layer(requirements, TARGET, None, lock=lock)
    assert build.reused and build.content_hash == record["content_hash"]
    copy_layer(build, tmp_path / "out")
    assert (tmp_path / "out" / "python" / "sklearn" / "__init__.py").is_file()


def test_cache_key_follows_the_locked_wheels_not_the_requirements():
    spec = LayerSpec.of(("numpy>=2",), TARGET)
    one = LockEntry(
        spec,
        TARGET.platform_tags,
        (LockedPackage("numpy", "2.5.5", "numpy-2.5.5-py3-none-any.whl", "ab" * 32),),
    )
    rebuilt = LockEntry(
        spec,
        TARGET.platform_tags,
        (LockedPackage("numpy", "2.5.5", "numpy-2.5.5-py3-none-any.whl", "cd" * 32),),
    )
    assert entry_key(one, None) != entry_key(rebuilt, None)
    assert entry_key(one, None) == entry_key(LockEntry(spec, TARGET.platform_tags, one.packages), None)


def test_fails_on_slim_without_bytecode_interpreter(tmp_path, monkeypatch):
    monkeypatch.setenv("CDK_SKLEARN_CACHE", str(tmp_path))
    with pytest.raises(ValueError, match="a slim layer ships bytecode instead of sources, but no Python 3"):
        build_layer(("scikit-learn==1.9.1",), TARGET, None, slim=True)
    assert not (tmp_path / "layers").exists()


def test_merges_requirements_naming_one_distribution_differently():
    assert merge_requirements(["scikit-learn==1.9.1", "pandas"], ["Pandas>=2", "scikit_learn==1.9.1"]) == (
        "scikit-learn==1.9.1",
        "pandas>=2",
    )


def test_fails_on_requirements_that_contradict_the_model_pin():
    with pytest.raises(ValueError, match=r"'scikit-learn==1.9.1' and 'Scikit_Learn==1.8.0' conflict"):
        merge_requirements(["scikit-learn==1.9.1"], ["Scikit_Learn==1.8.0"])
