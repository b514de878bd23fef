"""Fixtures the batch tests share: models loaded as the runtime loads them, and a local object store."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_runtime.batch import LocalStore
from lambda_runtime.model import LoadedModel
from tests.helpers import models
from tests.helpers.batch import loaded


@pytest.fixture(scope="module")
def forest(tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    return loaded(models.random_forest(), tmp_path_factory.mktemp("forest"))


@pytest.fixture(scope="module")
def frame_model(tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    return loaded(models.column_transformer(), tmp_path_factory.mktemp("ct"))


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    return LocalStore({"in": tmp_path / "in", "out": tmp_path / "out"})
