"""The static closure check: modules on disk, ELF needs resolved as Lambda's loader would, symbol versions."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cdk_sklearn.packaging.closure import (
    ClosureError,
    check_closure,
    library_problems,
    module_problems,
    read_elf,
)
from cdk_sklearn.packaging.runtime_system import runtime_system
from cdk_sklearn.packaging.target import LambdaTarget
from tests.unit.cdk_sklearn.packaging.elf_fixtures import LIGHTGBM_LIBRARY, SKLEARN_LIBS, layer_with

AL2023 = LambdaTarget("python3.13", "x86_64")
AL2 = LambdaTarget("python3.11", "x86_64")


def test_reads_needed_libraries_of_a_real_shared_object():
    elf = read_elf(LIGHTGBM_LIBRARY)
    assert elf is not None
    assert "libgomp.so.1" in elf.needed and "libc.so.6" in elf.needed
    assert "GOMP_4.0" in elf.version_needs["libgomp.so.1"]


def test_a_python_file_is_not_elf(tmp_path):
    source = tmp_path / "module.py"
    source.write_text("x = 1\n")
    assert read_elf(source) is None


def test_rpath_origin_resolves_a_vendored_library(tmp_path):
    layer = layer_with(tmp_path, sklearn_openmp=True)
    assert library_problems(layer, runtime_system(AL2023)) == []


def test_fails_when_a_vendored_library_is_missing(tmp_path):
    layer = layer_with(tmp_path, sklearn_openmp=True)
    shutil.rmtree(layer / "python" / "scikit_learn.libs")
    problems = library_problems(layer, runtime_system(AL2023))
    assert len(problems) == 1
    assert "python/sklearn/utils/_openmp_helpers" in problems[0] and "libgomp-" in problems[0]


def test_fails_when_lightgbm_needs_libgomp_that_lambda_lacks(tmp_path):
    layer = layer_with(tmp_path, lightgbm_library=True)
    with pytest.raises(ClosureError, match=r"lib_lightgbm\.so needs the shared library libgomp\.so\.1"):
        check_closure(layer, AL2023)


def test_a_library_in_the_layer_lib_folder_resolves(tmp_path):
    layer = layer_with(tmp_path, lightgbm_library=True)
    (layer / "lib").mkdir()
    shutil.copy2(next(SKLEARN_LIBS.glob("libgomp-*")), layer / "lib" / "libgomp.so.1")
    assert library_problems(layer, runtime_system(AL2023)) == []


def test_fails_when_a_symbol_version_is_newer_than_amazon_linux_2(tmp_path):
    # lib_lightgbm.so (manylinux_2_28) needs GLIBC_2.27 from libm; Amazon Linux 2 has glibc 2.26.
    layer = layer_with(tmp_path, lightgbm_library=True)
    (layer / "lib").mkdir()
    shutil.copy2(next(SKLEARN_LIBS.glob("libgomp-*")), layer / "lib" / "libgomp.so.1")
    problems = library_problems(layer, runtime_system(AL2))
    assert any("needs GLIBC_2.27 from libm.so.6" in p and "(GLIBC_2.26)" in p for p in problems), problems


def test_clean_layer_passes_silently(tmp_path, capsys):
    layer = layer_with(tmp_path, sklearn_openmp=True)
    check_closure(layer, AL2023, modules={"sklearn.utils._openmp_helpers", "builtins"})
    assert capsys.readouterr() == ("", "")


def test_module_as_package_source_bytecode_or_extension_is_found(tmp_path):
    site = tmp_path / "python"
    (site / "pkg" / "sub").mkdir(parents=True)
    (site / "pkg" / "__init__.py").write_text("")
    (site / "pkg" / "source.py").write_text("")
    (site / "pkg" / "sourceless.pyc").write_bytes(b"")
    (site / "pkg" / "fast.cpython-313-aarch64-linux-gnu.so").write_bytes(b"")
    modules = {"pkg", "pkg.sub", "pkg.source", "pkg.sourceless", "pkg.fast", "collections"}
    assert module_problems(modules, site) == []


def test_fails_when_a_referenced_module_is_missing(tmp_path):
    (tmp_path / "python").mkdir()
    problems = module_problems({"xgboost.sklearn"}, tmp_path / "python")
    assert problems == [
        "the model references the module xgboost.sklearn, which is not in the layer or the function code; "
        "add the package that provides it to extra_requirements, or ship your own module with "
        "code_paths=['xgboost.py' or 'xgboost/']"
    ]


def test_user_module_and_package_in_code_paths_are_found(tmp_path):
    (tmp_path / "python").mkdir()
    features = tmp_path / "src" / "features.py"
    package = tmp_path / "src" / "mypkg"
    (package / "steps").mkdir(parents=True)
    features.write_text("")
    (package / "__init__.py").write_text("")
    (package / "steps" / "scale.py").write_text("")
    modules = {"features", "mypkg.steps.scale"}
    assert module_problems(modules, tmp_path / "python", [features, package]) == []


def test_fails_when_the_model_references_main(tmp_path):
    (tmp_path / "python").mkdir()
    with pytest.raises(ClosureError, match=r"references __main__.*code_paths=\['features\.py'\]"):
        check_closure(tmp_path, AL2023, modules={"__main__"})


def _scipy_fitpack_layer(root):
    """scipy's _fitpack (RPATH $ORIGIN/../../scipy.libs) -> libgfortran (no RPATH) -> libquadmath."""
    import scipy

    scipy_dir = Path(scipy.__file__).parent
    extension = next(scipy_dir.glob("interpolate/_fitpack.*.so"))
    target = root / "python" / "scipy" / "interpolate"
    target.mkdir(parents=True)
    shutil.copy2(extension, target / extension.name)
    shutil.copytree(scipy_dir.parent / "scipy.libs", root / "python" / "scipy.libs")
    return root


def test_vendored_libraries_find_each_other_through_the_loaders_rpath(tmp_path):
    layer = _scipy_fitpack_layer(tmp_path)
    gfortran = next((layer / "python" / "scipy.libs").glob("libgfortran-8f1e9814*"))
    assert read_elf(gfortran).search_path == ()  # found only through _fitpack's RPATH
    assert library_problems(layer, runtime_system(AL2023)) == []


def test_fails_when_a_library_reached_through_rpath_is_missing(tmp_path):
    layer = _scipy_fitpack_layer(tmp_path)
    next((layer / "python" / "scipy.libs").glob("libquadmath-828275a7*")).unlink()
    problems = library_problems(layer, runtime_system(AL2023))
    assert (
        len(problems) == 1 and "libgfortran-8f1e9814" in problems[0] and "libquadmath-828275a7" in problems[0]
    )


def test_a_vendored_library_nothing_loads_is_not_checked(tmp_path):
    libs = tmp_path / "python" / "orphan.libs"
    libs.mkdir(parents=True)
    shutil.copy2(LIGHTGBM_LIBRARY, libs / "libneedsgomp-0123abcd.so")
    assert library_problems(tmp_path, runtime_system(AL2023)) == []
