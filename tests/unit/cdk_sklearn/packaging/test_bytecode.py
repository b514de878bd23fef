"""Bytecode: interpreter discovery and unchecked-hash .pyc."""

from __future__ import annotations

import importlib.util
import os
import sys

import pytest

from cdk_sklearn.packaging.bytecode import compile_bytecode, find_interpreter, probe

HOST = sys.version_info[:2]


def test_probe_reads_version_of_running_interpreter():
    found = probe(sys.executable)
    assert found is not None and found.version == HOST
    assert found.cache_tag == sys.implementation.cache_tag


def test_probe_rejects_non_python(tmp_path):
    assert probe("/bin/true") is None
    assert probe(str(tmp_path / "absent")) is None


def test_running_interpreter_is_used_when_versions_match(monkeypatch):
    monkeypatch.delenv("CDK_SKLEARN_BYTECODE_PYTHON", raising=False)
    found = find_interpreter(HOST)
    assert found is not None and found.executable == sys.executable


def test_environment_variable_names_interpreter(monkeypatch):
    monkeypatch.setenv("CDK_SKLEARN_BYTECODE_PYTHON", sys.executable)
    found = find_interpreter(HOST)
    assert found is not None and found.version == HOST


def test_fails_when_named_interpreter_has_wrong_version(monkeypatch):
    monkeypatch.delenv("CDK_SKLEARN_BYTECODE_PYTHON", raising=False)
    with pytest.raises(
        ValueError, match=r"bytecode_python=.* is CPython 3\.\d+, but the layer targets Python 3\.99"
    ):
        find_interpreter((3, 99), sys.executable)


def test_fails_when_environment_names_non_python(monkeypatch):
    monkeypatch.setenv("CDK_SKLEARN_BYTECODE_PYTHON", "/bin/true")
    with pytest.raises(ValueError, match="CDK_SKLEARN_BYTECODE_PYTHON='/bin/true' is not a working CPython"):
        find_interpreter(HOST)


def test_compiles_unchecked_hash_pyc_with_runtime_paths(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "mod.py").write_text("def f():\n    return 42\n")
    interpreter = probe(sys.executable)
    assert interpreter is not None
    assert compile_bytecode(tmp_path, interpreter, "/opt/python") == 1
    pyc = package / "__pycache__" / f"mod.{sys.implementation.cache_tag}.pyc"
    data = pyc.read_bytes()
    assert data[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(data[4:8], "little") == 0b01  # hash-based, source not checked
    assert b"/opt/python/pkg/mod.py" in data


def test_fails_on_syntax_error_for_target(tmp_path):
    (tmp_path / "bad.py").write_text("def (:\n")
    interpreter = probe(sys.executable)
    assert interpreter is not None
    with pytest.raises(RuntimeError, match="compiling bytecode in"):
        compile_bytecode(tmp_path, interpreter, "/var/task")


def test_environment_interpreter_of_another_version_is_skipped(monkeypatch):
    # e.g. the python3.13 from `make userlands` while a python3.99 layer is built: not an error.
    monkeypatch.setenv("CDK_SKLEARN_BYTECODE_PYTHON", sys.executable)
    assert find_interpreter((3, 99)) is None


def test_environment_may_list_several_interpreters(monkeypatch):
    monkeypatch.setenv(
        "CDK_SKLEARN_BYTECODE_PYTHON", os.pathsep.join(["/bin/true-not-there", sys.executable])
    )
    with pytest.raises(ValueError, match="is not a working CPython"):
        find_interpreter(HOST)
    monkeypatch.setenv("CDK_SKLEARN_BYTECODE_PYTHON", sys.executable)
    assert find_interpreter(HOST) is not None
