"""Where find_interpreter looks beyond PATH: uv's and pyenv's interpreters (stand-in processes)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from cdk_sklearn.packaging.bytecode import find_interpreter, pyenv_pythons, uv_python
from tests.unit.cdk_sklearn.cli.fake_tools import fake_tool


def test_pyenv_versions_are_listed_newest_patch_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for version in ("3.13.0", "3.13.10", "3.13.2"):
        fake_tool(tmp_path / "versions" / version / "bin", "python3.13", "")
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    assert [Path(p).parts[-3] for p in pyenv_pythons((3, 13))] == ["3.13.10", "3.13.2", "3.13.0"]


def test_pyenv_without_the_version_gives_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_tool(tmp_path / "versions" / "3.12.1" / "bin", "python3.12", "")
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    assert pyenv_pythons((3, 14)) == []


def test_uv_python_is_what_uv_python_find_prints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_tool(tmp_path, "uv", "/opt/uv/cpython-3.14.0/bin/python3.14")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert uv_python((3, 14)) == "/opt/uv/cpython-3.14.0/bin/python3.14"


def test_uv_python_is_none_when_uv_finds_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_tool(tmp_path, "uv", "error: No interpreter found for Python 3.14", exit_code=2)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert uv_python((3, 14)) is None


def test_uv_python_is_none_without_uv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert uv_python((3, 14)) is None


def test_finds_an_interpreter_reported_by_uv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A real CPython of another version than the one running, reached only through the stand-in uv.
    other = (
        next((p for p in pyenv_pythons((3, 12)) + pyenv_pythons((3, 13))), None)
        if sys.version_info[:2] == (3, 11)
        else None
    )
    if other is None:
        pytest.skip("needs a pyenv python3.12 or 3.13 on this machine")
    version = (3, int(Path(other).name.removeprefix("python3.")))
    fake_tool(tmp_path / "bin", "uv", other)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    monkeypatch.delenv("CDK_SKLEARN_BYTECODE_PYTHON", raising=False)
    found = find_interpreter(version)
    assert found is not None and found.executable == other


def test_finds_a_pyenv_interpreter_not_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The real machine: pyenv versions installed under ~/.pyenv, PATH without them.
    candidates = [(v, pyenv_pythons(v)) for v in ((3, 12), (3, 13)) if v != sys.version_info[:2]]
    version, paths = next(((v, p) for v, p in candidates if p), ((0, 0), []))
    if not paths:
        pytest.skip("no pyenv python3.12 or 3.13 on this machine")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CDK_SKLEARN_BYTECODE_PYTHON", raising=False)
    found = find_interpreter(version)
    assert found is not None and found.version == version
