"""Fixtures for the benchmark harness tests: small real models and the venv as a stand-in layer."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest

from benchmarks.models import BenchModel, generate, model_specs


@pytest.fixture(scope="session")
def small_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, BenchModel]:
    """The smallest MLP of the article and the demo pipeline, really trained and saved."""
    specs = [s for s in model_specs(mlp_units=(100,)) if s.name in {"mlp-100x3", "scaler-logreg"}]
    return {m.name: m for m in generate(tmp_path_factory.mktemp("bench-models"), specs)}


@pytest.fixture(scope="session")
def venv_site() -> Path:
    """This venv's site-packages: numpy, scikit-learn and joblib, as a layer would hold them."""
    return Path(sysconfig.get_paths()["purelib"])
