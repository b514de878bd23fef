from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.layers import find_sklearn_lambda_package, package_sizes, prune_like_sklearn_lambda


def _write(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)


def test_package_sizes_counts_libs_and_metadata_under_their_distribution(tmp_path: Path):
    _write(tmp_path / "numpy/core.py", 100)
    _write(tmp_path / "numpy.libs/libopenblas.so", 1000)
    _write(tmp_path / "numpy-2.4.6.dist-info/METADATA", 10)
    _write(tmp_path / "sklearn/base.py", 50)
    _write(tmp_path / "scikit_learn-1.9.1.dist-info/RECORD", 5)
    assert package_sizes(tmp_path) == {"numpy": 1110, "scikit_learn": 55}


def test_pruning_removes_bytecode_metadata_and_tests_only(tmp_path: Path):
    for name in (
        "pkg/mod.py",
        "pkg/__pycache__/mod.cpython-313.pyc",
        "pkg/tests/test_x.py",
        "pkg-1.0.dist-info/METADATA",
        "pkg/stray.pyc",
    ):
        _write(tmp_path / name, 1)
    prune_like_sklearn_lambda(tmp_path)
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()) == ["pkg/mod.py"]


def test_fails_when_the_sklearn_lambda_copy_has_no_handler(tmp_path: Path):
    with pytest.raises(ValueError, match=r"holds no scikit_learn_lambda/lib.py.*git clone"):
        find_sklearn_lambda_package(tmp_path)


def test_finds_the_handler_package_in_a_checkout(tmp_path: Path):
    _write(tmp_path / "scikit-learn-lambda/scikit_learn_lambda/lib.py", 1)
    assert find_sklearn_lambda_package(tmp_path) == tmp_path / "scikit-learn-lambda/scikit_learn_lambda"
