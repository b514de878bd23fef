"""prune: removes what never runs, keeps what can be loaded."""

from __future__ import annotations

from pathlib import Path

from cdk_sklearn.packaging.prune import prune


def _touch(root: Path, relative: str, size: int = 10) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    return path


KEPT = [
    "sklearn/base.py",
    "sklearn/tree/_tree.cpython-313-x86_64-linux-gnu.so",
    "numpy.libs/libscipy_openblas64_-4b78795a.so",
    "numpy/testing/__init__.py",
    "sklearn/utils/_testing.py",
    "sklearn/__pycache__/base.cpython-313.pyc",
    "sklearn/datasets/data/iris.csv",
    "scikit_learn-1.9.1.dist-info/METADATA",
    "test/__init__.py",  # a top-level distribution named "test" is not a test suite
]
REMOVED = [
    "sklearn/tree/tests/test_tree.py",
    "numpy/_core/tests/data/file.bin",
    "joblib/test/test_memory.py",
    "sklearn/tree/_tree.pyx",
    "sklearn/tree/_tree.pxd",
    "numpy/_core/include/numpy/ndarraytypes.h",
    "numpy/__init__.pyi",
    "numpy/_core/lib/libnpymath.a",
    "bin/f2py",
    "sklearn/__pycache__/base.cpython-311.pyc",
    "numpy/_core/_multiarray_tests.cpython-313-x86_64-linux-gnu.so",
    "numpy/_core/_simd.cpython-313-x86_64-linux-gnu.so",
    "scipy/_lib/_test_ccallback.cpython-313-x86_64-linux-gnu.so",
    "numpy-2.5.5.dist-info/REQUESTED",
    "numpy-2.5.5.dist-info/INSTALLER",
    "tinypkg-1.0.dist-info/direct_url.json",
]


def test_removes_only_what_never_runs(tmp_path):
    for relative in KEPT + REMOVED:
        _touch(tmp_path, relative)
    report = prune(tmp_path, "cpython-313")
    assert [r for r in KEPT if not (tmp_path / r).exists()] == []
    assert [r for r in REMOVED if (tmp_path / r).exists()] == []
    assert report.files == len(REMOVED)
    assert report.total_bytes == 10 * len(REMOVED)


def test_removes_folders_left_empty(tmp_path):
    _touch(tmp_path, "numpy/_core/include/numpy/ndarraytypes.h")
    _touch(tmp_path, "numpy/__init__.py")
    prune(tmp_path, "cpython-313")
    assert not (tmp_path / "numpy" / "_core").exists()


def test_shared_objects_are_byte_identical(tmp_path):
    library = _touch(tmp_path, "scipy.libs/libgfortran.so.5.0.0", 4096)
    before = library.read_bytes()
    prune(tmp_path, "cpython-313")
    assert library.read_bytes() == before


def test_record_lists_only_files_that_remain(tmp_path):
    _touch(tmp_path, "numpy/__init__.py")
    _touch(tmp_path, "numpy/tests/test_x.py")
    record = tmp_path / "numpy-2.5.5.dist-info" / "RECORD"
    record.parent.mkdir()
    record.write_text(
        "numpy/__init__.py,sha256=a,10\nnumpy/tests/test_x.py,sha256=b,10\n"
        "../../bin/f2py,sha256=c,3\nnumpy-2.5.5.dist-info/RECORD,,\n"
    )
    prune(tmp_path, "cpython-313")
    assert record.read_text() == "numpy-2.5.5.dist-info/RECORD,,\nnumpy/__init__.py,sha256=a,10\n"


def test_record_is_sorted_whatever_order_the_installer_wrote(tmp_path):
    for relative in ("b/__init__.py", "a/__init__.py"):
        _touch(tmp_path, relative)
    record = tmp_path / "b-1.dist-info" / "RECORD"
    record.parent.mkdir()
    record.write_text("b/__init__.py,sha256=b,10\nb-1.dist-info/RECORD,,\na/__init__.py,sha256=a,10\n")
    prune(tmp_path, "cpython-313")
    assert record.read_text() == (
        "a/__init__.py,sha256=a,10\nb-1.dist-info/RECORD,,\nb/__init__.py,sha256=b,10\n"
    )
