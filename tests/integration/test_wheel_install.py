"""Outside the repository: the README's install lines, then ``cdk-sklearn new``, then a bundled synth.

One run, several proofs (each a test below, sharing the module's fixtures):

- the README's install block, run as written (``python`` = a fresh virtualenv's, the checkout path
  = a copy of this checkout's files), builds a non-editable wheel and installs it from the registry,
  pinned by ``constraints.txt`` (through ``PIP_CONSTRAINT``) so nothing new is resolved;
- the wheel carries the library, the function code and the templates, and no tests or dev tools;
- ``cdk-sklearn new`` in a temporary folder writes a project laid out as ``cdk init app --language
  python``, and ``python app.py`` synthesizes it WITH bundling: function code, layer and model assets;
- that synth runs with only the machine's Node on PATH (end-of-life 20 here) and no CPython 3.13 to
  be found: no jsii banner, and exactly one line about the missing interpreter, without jsii in it.

Nothing here can see the repository: a temporary working directory, no ``PYTHONPATH``. About 2-4 min on
a warm pip cache (the layer is built unless the user cache already has it).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cdk_sklearn import __version__
from tests.conftest import PROJECT_DIR

pytestmark = pytest.mark.slow

INSTALL_MARKER = "<!-- install: run as written by tests/integration/test_wheel_install.py -->"
CHECKOUT_PLACEHOLDER = "path/to/cdk-sklearn"
WHEEL_NAME = f"cdk_sklearn-{__version__}-py3-none-any.whl"
NOTICE = "no CPython 3.13 found"
# Folders of the repository that are not the library: none may ship in the wheel.
NOT_SHIPPED = ("tests/", "devtools/", "benchmarks/", "docs/", "examples/")
# Only the machine's own tools: no venv of this repository, no pyenv shims, no python3.13.
MACHINE_PATH = "/usr/bin:/bin"


@dataclass(frozen=True)
class Installed:
    """The fresh virtualenv with the wheel installed, and where things are."""

    work: Path
    python: Path
    wheel: Path
    env: dict[str, str]


@dataclass(frozen=True)
class Synth:
    """The scaffolded project and its bundled synth."""

    project: Path
    outdir: Path
    result: subprocess.CompletedProcess[str]


def install_lines() -> list[str]:
    """The shell lines of the README's install block that run pip."""
    text = (PROJECT_DIR / "README.md").read_text()
    assert INSTALL_MARKER in text, "the README lost its tested install block"
    block = text.split(INSTALL_MARKER, 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return [" ".join(shlex.split(line, comments=True)) for line in block.splitlines() if line.strip()]


def _checkout_copy(destination: Path) -> Path:
    # What a clone has: the tracked files (and new ones not yet committed), no build leftovers.
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_DIR,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for relative in filter(None, listed.split("\0")):
        source = PROJECT_DIR / relative
        if source.is_file():
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def _clean_env(work: Path, venv: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("JSII_", "CDK_", "PYTHON", "VIRTUAL_ENV", "PYENV", "UV_"))
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{MACHINE_PATH}"
    env["PYENV_ROOT"] = str(work / "no-pyenv")  # pyenv's versions/3.13* stay out of reach
    env["VIRTUAL_ENV"] = str(venv)
    # Resolve nothing new: the repository's pins, plus the machine's own pip constraints if any.
    machine = Path("/etc/xdg/pip/constraints.txt")
    constraints = [str(PROJECT_DIR / "constraints.txt"), *([str(machine)] if machine.exists() else [])]
    env["PIP_CONSTRAINT"] = " ".join(constraints)
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return env


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout: int = 1200) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    work = tmp_path_factory.mktemp("outside")
    checkout = _checkout_copy(work / "src" / "cdk-sklearn")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    env = _clean_env(work, venv)
    for line in install_lines():
        words = line.replace(CHECKOUT_PLACEHOLDER, str(checkout)).split()
        assert words[:3] == ["python", "-m", "pip"], line
        _run([str(venv / "bin" / "python"), *words[1:]], cwd=work, env=env)
    yield Installed(work, venv / "bin" / "python", work / "dist" / WHEEL_NAME, env)


@pytest.fixture(scope="module")
def synth(installed: Installed, tmp_path_factory: pytest.TempPathFactory) -> Synth:
    model = tmp_path_factory.mktemp("model") / "iris.joblib"
    _run(
        [str(installed.python), str(PROJECT_DIR / "examples" / "train_iris.py"), "--output", str(model)],
        cwd=installed.work,
        env=installed.env,
    )
    cli = installed.python.parent / "cdk-sklearn"
    _run([str(cli), "new", "my-endpoint", "--model", str(model)], cwd=installed.work, env=installed.env)
    project = installed.work / "my-endpoint"
    outdir = project / "cdk.out"
    env = {**installed.env, "CDK_OUTDIR": str(outdir)}
    # What `cdk synth` runs: cdk.json's "app" (python3 app.py), with the venv first on PATH.
    command = json.loads((project / "cdk.json").read_text())["app"].split()
    result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stderr[-5000:]
    return Synth(project, outdir, result)


def test_readme_install_builds_the_wheel_from_a_checkout(installed: Installed) -> None:
    assert installed.wheel.is_file()


def test_installed_package_is_the_wheel_not_the_repository(installed: Installed) -> None:
    where = _run(
        [str(installed.python), "-c", "import cdk_sklearn, lambda_runtime; print(cdk_sklearn.__file__)"],
        cwd=installed.work,
        env=installed.env,
    )
    assert "/site-packages/cdk_sklearn/" in where and str(PROJECT_DIR) not in where


def test_wheel_ships_no_tests_or_development_tools(installed: Installed) -> None:
    names = zipfile.ZipFile(installed.wheel).namelist()
    assert [n for n in names if n.startswith(NOT_SHIPPED)] == []


def test_wheel_ships_no_aws_proof_anywhere(installed: Installed) -> None:
    # The AWS proof runs only inside this repository (devtools/awsproof): not at the top, not nested.
    names = zipfile.ZipFile(installed.wheel).namelist()
    assert [n for n in names if "awsproof" in n or "devtools" in n] == []


def test_wheel_ships_function_code_and_templates(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    expected = {
        "lambda_runtime/handler.py",
        "lambda_runtime/contract.py",
        "cdk_sklearn/templates/package.json",
        "cdk_sklearn/templates/package-lock.json",
        "cdk_sklearn/templates/app.py.tmpl",
    }
    assert expected <= names


def test_new_project_is_laid_out_as_cdk_init(synth: Synth) -> None:
    names = {p.name for p in synth.project.iterdir()}
    assert {"app.py", "cdk.json", "requirements.txt", "package.json", "package-lock.json", "models"} <= names


def test_new_project_requires_the_installed_wheel(synth: Synth, installed: Installed) -> None:
    requirements = (synth.project / "requirements.txt").read_text()
    assert f"cdk-sklearn @ file://{installed.wheel}" in requirements


def _asset_dirs(outdir: Path) -> list[Path]:
    return [p for p in outdir.iterdir() if p.is_dir() and p.name.startswith("asset.")]


def test_synth_bundles_the_function_code(synth: Synth) -> None:
    assert any((d / "lambda_runtime" / "handler.py").is_file() for d in _asset_dirs(synth.outdir))


def test_synth_bundles_the_layer(synth: Synth) -> None:
    assert any((d / "python" / "sklearn" / "__init__.py").is_file() for d in _asset_dirs(synth.outdir))


def test_synth_stages_the_model(synth: Synth) -> None:
    assert list(synth.outdir.glob("asset.*.joblib"))


def test_synth_on_end_of_life_node_prints_no_jsii_banner(synth: Synth) -> None:
    assert "end-of-life" not in synth.result.stderr and "!!!!" not in synth.result.stderr


def test_missing_interpreter_is_one_line_without_jsii(synth: Synth) -> None:
    lines = [line for line in synth.result.stderr.splitlines() if NOTICE in line]
    assert len(lines) == 1, synth.result.stderr[-3000:]
    assert "jsii" not in lines[0]
    assert not re.search(r"\.py:\d+: ", lines[0]), "a Python warning location"


def test_synth_stderr_never_mentions_jsii(synth: Synth) -> None:
    assert "jsii" not in synth.result.stderr
