"""Reproducible synthesis: the same committed lock gives the same template on another machine.

Two real synths (layer bundled from PyPI wheels, about a minute each on a warm pip cache) in two
folders, each with its own empty layer cache: the first writes the lock beside its "cdk.json", the
second gets a copy of that lock (a fresh checkout) and must produce a byte-identical template.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_

from cdk_sklearn.layer import SklearnLayer
from cdk_sklearn.model.artifact import inspect_model
from tests.conftest import PROJECT_DIR

pytestmark = pytest.mark.slow

USERLAND_PYTHON = PROJECT_DIR / ".cache" / "userlands" / "python3.13-x86_64"


def _synth(app_dir: Path, model: Path) -> dict[str, object]:
    app = cdk.App(outdir=str(app_dir / "cdk.out"))
    stack = cdk.Stack(app, "LockStack")
    SklearnLayer(
        stack,
        "Sklearn",
        model=inspect_model(model),
        runtime=lambda_.Runtime.PYTHON_3_13,
        architecture=lambda_.Architecture.X86_64,
    )
    template: dict[str, object] = app.synth().get_stack_by_name("LockStack").template
    return template


def test_same_lock_other_machine_gives_identical_template(iris_model, tmp_path, monkeypatch, capfd):
    monkeypatch.delenv("CDK_SKLEARN_LOCK")  # the default: beside cdk.json, the app's working folder
    # Compile .pyc when a CPython 3.13 is at hand (`make userlands`), so bytecode is covered too.
    monkeypatch.setenv(
        "CDK_SKLEARN_BYTECODE_PYTHON", str(USERLAND_PYTHON) if USERLAND_PYTHON.exists() else ""
    )
    one, two = tmp_path / "machine-one" / "app", tmp_path / "machine-two" / "checkout"
    for folder in (one, two):
        folder.mkdir(parents=True)
        (folder / "cdk.json").write_text('{"app": "python app.py"}\n')

    monkeypatch.chdir(one)
    monkeypatch.setenv("CDK_SKLEARN_CACHE", str(tmp_path / "machine-one" / "cache"))
    first = _synth(one, iris_model)
    lock = one / "pylock.cdk-sklearn.toml"
    assert lock.is_file(), "the first synth writes the lock beside cdk.json"
    assert "resolved (new layer python3.13 x86_64: numpy>=2 scikit-learn==1.9.1)" in capfd.readouterr().err
    committed = lock.read_bytes()

    shutil.copy(lock, two / lock.name)  # the lock travels with the repository, nothing else does
    monkeypatch.chdir(two)
    monkeypatch.setenv("CDK_SKLEARN_CACHE", str(tmp_path / "machine-two" / "cache"))
    second = _synth(two, iris_model)

    assert json.dumps(second, sort_keys=True) == json.dumps(first, sort_keys=True)
    assert (two / lock.name).read_bytes() == committed, "a synth with a matching entry changes nothing"
    assert "resolved" not in capfd.readouterr().err
    assets = [sorted(p.name for p in (d / "cdk.out").glob("asset.*")) for d in (one, two)]
    assert assets[0] == assets[1] and len(assets[0]) == 1


OLDER_PIP = "pip==24.2"  # older than the venv's (26.x): another --target layout code, same wheels


@pytest.fixture(scope="module")
def older_pip(tmp_path_factory) -> Path:
    """A virtualenv with an older pip (from the configured index); skips when it cannot be made."""
    venv = tmp_path_factory.mktemp("older-pip") / "venv"
    made = subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=False)
    python = venv / "bin" / "python"
    installed = made.returncode == 0 and (
        subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", OLDER_PIP],
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )
    if not installed:
        pytest.skip(f"could not install {OLDER_PIP} into a virtualenv (no index?)")
    return python


def test_same_lock_other_pip_gives_identical_layer(older_pip, tmp_path, monkeypatch):
    from cdk_sklearn.packaging import install
    from cdk_sklearn.packaging.build import build_layer
    from cdk_sklearn.packaging.target import LambdaTarget

    monkeypatch.setenv("CDK_SKLEARN_BYTECODE_PYTHON", "")
    target, requirements = LambdaTarget("python3.13", "x86_64"), ("scikit-learn==1.9.1",)
    lock = tmp_path / "pylock.cdk-sklearn.toml"
    monkeypatch.setenv("CDK_SKLEARN_CACHE", str(tmp_path / "cache-new-pip"))
    ours = build_layer(requirements, target, None, lock=lock, log=lambda _: None)

    real = install.pip_command
    monkeypatch.setattr(install, "pip_command", lambda: [str(older_pip), *real()[1:]])
    monkeypatch.setenv("CDK_SKLEARN_CACHE", str(tmp_path / "cache-old-pip"))
    theirs = build_layer(requirements, target, None, lock=lock, log=lambda _: None)

    assert not theirs.reused and theirs.key == ours.key
    assert theirs.content_hash == ours.content_hash
