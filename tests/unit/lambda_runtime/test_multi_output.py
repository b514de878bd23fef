"""Multi-output classifiers over HTTP: /predict answers one list per output, whatever the row count."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lambda_runtime.app import App
from tests.helpers import models
from tests.unit.lambda_runtime.conftest import Invoke, two_output_forest

TWO_ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]  # as many rows as the model has outputs


@pytest.fixture(scope="module")
def forest_app(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, App]:
    estimator = two_output_forest()
    path = Path(tmp_path_factory.mktemp("multi")) / "forest.joblib"
    models.save(estimator, path)
    return estimator, models.app_for(path)[0]


def test_predict_proba_answers_one_list_per_output(post: Invoke, forest_app) -> None:
    estimator, app = forest_app
    status, answer, _ = post("/predict", {"instances": TWO_ROWS, "method": "predict_proba"}, app=app)
    assert status == 200
    assert answer["predictions"] == [part.tolist() for part in estimator.predict_proba(np.array(TWO_ROWS))]
