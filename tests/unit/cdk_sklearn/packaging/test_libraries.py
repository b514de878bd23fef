"""Shipping in lib/ the shared libraries Lambda lacks, from copies wheels vendor."""

from __future__ import annotations

from cdk_sklearn.packaging.closure import library_problems, read_elf
from cdk_sklearn.packaging.libraries import add_missing_libraries, vendored_copies
from cdk_sklearn.packaging.runtime_system import runtime_system
from cdk_sklearn.packaging.target import LambdaTarget
from tests.unit.cdk_sklearn.packaging.elf_fixtures import layer_with

SYSTEM = runtime_system(LambdaTarget("python3.13", "x86_64"))


def test_libgomp_for_lightgbm_comes_from_scikit_learns_vendored_copy(tmp_path):
    layer = layer_with(tmp_path, lightgbm_library=True, sklearn_openmp=True)
    added = add_missing_libraries(layer, SYSTEM)
    assert [a.name for a in added] == ["libgomp.so.1"]
    assert added[0].source.parent.name == "scikit_learn.libs"
    assert added[0].needed_by == ("python/lightgbm/lib/lib_lightgbm.so",)
    copied = read_elf(layer / "lib" / "libgomp.so.1")
    assert copied is not None  # a real shared object, not a link
    assert library_problems(layer, SYSTEM) == []


def test_nothing_is_added_to_a_complete_layer(tmp_path):
    layer = layer_with(tmp_path, sklearn_openmp=True)
    assert add_missing_libraries(layer, SYSTEM) == []
    assert not (layer / "lib").exists()


def test_nothing_is_added_without_a_vendored_copy(tmp_path):
    layer = layer_with(tmp_path, lightgbm_library=True)
    assert add_missing_libraries(layer, SYSTEM) == []
    assert len(library_problems(layer, SYSTEM)) == 1


def test_vendored_copy_must_keep_the_major_version(tmp_path):
    libs = tmp_path / "pkg.libs"
    libs.mkdir()
    for name in ("libgomp-0123abcd.so.1.0.0", "libgomp-0123abcd.so.2", "libgompx-0123abcd.so.1"):
        (libs / name).write_bytes(b"")
    assert [p.name for p in vendored_copies(tmp_path, "libgomp.so.1")] == ["libgomp-0123abcd.so.1.0.0"]


def test_openmp_threads_follow_the_functions_vcpus():
    from cdk_sklearn.packaging.libraries import openmp_environment

    # Lambda: one vCPU per 1,769 MB, at most 6 (10,240 MB).
    expected = {128: "1", 1024: "1", 1769: "1", 1770: "2", 3538: "2", 5307: "3", 10240: "6"}
    assert {mb: openmp_environment(mb)["OMP_NUM_THREADS"] for mb in expected} == expected
