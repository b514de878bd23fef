"""Every kind of estimator the issue names answers each method it has, and nothing else."""

from __future__ import annotations

import numpy as np
import pytest

from lambda_runtime.app import App
from tests.helpers import models
from tests.unit.lambda_runtime.conftest import Invoke

IRIS_ROWS = [models.IRIS_ROW, [6.7, 3.0, 5.2, 2.3]]
CLASSIFIERS = ["logistic", "random_forest", "scaled_pipeline", "mlp", "nan_tolerant"]


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classifiers_predict_like_the_estimator(post: Invoke, apps: dict[str, App], name: str) -> None:
    estimator = apps[name].model.estimator  # type: ignore[union-attr]
    status, answer, _ = post("/predict", {"instances": IRIS_ROWS}, app=apps[name])
    assert status == 200
    assert answer["predictions"] == estimator.predict(np.array(IRIS_ROWS)).tolist()


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classifiers_predict_proba_matches_the_estimator(
    post: Invoke, apps: dict[str, App], name: str
) -> None:
    estimator = apps[name].model.estimator  # type: ignore[union-attr]
    status, answer, _ = post("/predict", {"instances": IRIS_ROWS, "method": "predict_proba"}, app=apps[name])
    assert status == 200
    assert np.allclose(answer["predictions"], estimator.predict_proba(np.array(IRIS_ROWS)))
    assert answer["classes"] == [0, 1, 2]


@pytest.mark.parametrize(
    ("name", "has_decision_function"),
    [("logistic", True), ("random_forest", False), ("scaled_pipeline", True), ("mlp", False)],
)
def test_decision_function_only_where_the_estimator_has_it(
    post: Invoke, apps: dict[str, App], name: str, has_decision_function: bool
) -> None:
    status, _, _ = post("/predict", [models.IRIS_ROW], app=apps[name], query={"method": "decision_function"})
    assert status == (200 if has_decision_function else 400)


def test_regressor_predicts_floats(post: Invoke, apps: dict[str, App]) -> None:
    rows = [row[1:] for row in IRIS_ROWS]
    status, answer, _ = post("/predict", {"instances": rows}, app=apps["regressor"])
    estimator = apps["regressor"].model.estimator  # type: ignore[union-attr]
    assert status == 200
    assert answer["predictions"] == pytest.approx(estimator.predict(np.array(rows)).tolist())


def test_regressor_feature_count_is_checked_against_n_features_in(post: Invoke, apps: dict[str, App]) -> None:
    status, answer, _ = post("/predict", {"instances": IRIS_ROWS}, app=apps["regressor"])
    assert status == 400
    assert "takes 3 features" in answer["error"]


def test_column_transformer_predict_proba_names_string_classes(post: Invoke, apps: dict[str, App]) -> None:
    body = {"dataframe_records": [{"colour": "blue", "size": "L", "weight": 8.0}], "method": "predict_proba"}
    status, answer, _ = post("/predict", body, app=apps["column_transformer"])
    assert status == 200
    assert answer["classes"] == ["cold", "hot"]
    assert answer["predictions"][0][0] > 0.5


def test_column_transformer_takes_null_as_missing_and_says_it_cannot(
    post: Invoke, apps: dict[str, App]
) -> None:
    body = {"dataframe_records": [{"colour": "blue", "size": "L", "weight": None}]}
    status, answer, _ = post("/predict", body, app=apps["column_transformer"])
    assert status == 400
    assert "missing values" in answer["error"]


def test_column_transformer_fails_on_nested_cells(post: Invoke, apps: dict[str, App]) -> None:
    body = {"dataframe_records": [{"colour": ["blue"], "size": "L", "weight": 1.0}]}
    status, answer, _ = post("/predict", body, app=apps["column_transformer"])
    assert status == 400
    assert "'colour' is an array" in answer["error"]


def test_column_transformer_fails_on_the_wrong_number_of_positional_values(
    post: Invoke, apps: dict[str, App]
) -> None:
    status, answer, _ = post("/predict", [["blue", "L"]], app=apps["column_transformer"])
    assert status == 400
    assert "colour, size, weight" in answer["error"]
