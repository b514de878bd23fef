"""The user's code_paths: checked, then shipped beside lambda_runtime/ in the function code."""

from __future__ import annotations

import pytest

from cdk_sklearn.function_code import _CopyPackage, resolve_code_paths, runtime_source_dir


def test_module_and_package_are_shipped_at_the_code_root(tmp_path):
    module = tmp_path / "src" / "features.py"
    package = tmp_path / "src" / "mypkg"
    package.mkdir(parents=True)
    module.write_text("def clean(x):\n    return x\n")
    (package / "__init__.py").write_text("")
    out = tmp_path / "asset"
    _CopyPackage(runtime_source_dir(), None, resolve_code_paths([module, package])).try_bundle(str(out))
    assert (out / "features.py").read_text().startswith("def clean")
    assert (out / "mypkg" / "__init__.py").is_file()
    assert (out / "lambda_runtime" / "handler.py").is_file()


def test_fails_on_a_file_that_is_not_python(tmp_path):
    data = tmp_path / "notes.txt"
    data.write_text("")
    with pytest.raises(ValueError, match=r"expected an existing \.py file or package folder"):
        resolve_code_paths([data])


def test_fails_on_a_single_string():
    with pytest.raises(ValueError, match=r"a list of paths, got the single path 'features\.py'"):
        resolve_code_paths("features.py")


def test_fails_on_two_paths_importing_under_one_name(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b" / "features").mkdir(parents=True)
    (tmp_path / "a" / "features.py").write_text("")
    with pytest.raises(ValueError, match="both import as 'features'"):
        resolve_code_paths([tmp_path / "a" / "features.py", tmp_path / "b" / "features"])


def test_fails_on_a_path_named_like_the_runtime(tmp_path):
    (tmp_path / "lambda_runtime").mkdir()
    with pytest.raises(ValueError, match="'lambda_runtime' is the function's own"):
        resolve_code_paths([tmp_path / "lambda_runtime"])
