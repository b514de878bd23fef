"""Open Inference Protocol v2 routes."""

from __future__ import annotations

import pytest

from lambda_runtime.app import App, create_app
from tests.helpers import models
from tests.helpers.apigw_events import http_api_event
from tests.unit.lambda_runtime.conftest import Invoke, invoke_app

TENSOR = {"name": "input-0", "shape": [1, 4], "datatype": "FP64", "data": models.IRIS_ROW}


def test_server_metadata(iris_app: App) -> None:
    status, body, _ = invoke_app(iris_app, http_api_event("GET", "/v2"))
    assert status == 200
    assert body["name"] == "cdk-sklearn"


def test_live_and_ready(iris_app: App) -> None:
    assert invoke_app(iris_app, http_api_event("GET", "/v2/health/live"))[:2] == (200, {"live": True})
    assert invoke_app(iris_app, http_api_event("GET", "/v2/health/ready"))[:2] == (200, {"ready": True})
    assert invoke_app(iris_app, http_api_event("GET", "/v2/models/model/ready"))[0] == 200


def test_not_ready_without_a_model() -> None:
    status, body, _ = invoke_app(create_app({}), http_api_event("GET", "/v2/health/ready"))
    assert status == 503
    assert "MODEL_URI" in body["error"]


def test_model_metadata(iris_app: App) -> None:
    status, body, _ = invoke_app(iris_app, http_api_event("GET", "/v2/models/model"))
    assert status == 200
    assert body["name"] == "model"
    assert body["platform"] == "sklearn"
    assert body["inputs"] == [{"name": "input-0", "datatype": "FP64", "shape": [-1, 4]}]
    assert {o["name"]: o["shape"] for o in body["outputs"]} == {
        "predict": [-1],
        "predict_proba": [-1, 3],
        "decision_function": [-1, 3],
    }


def test_fails_with_404_on_another_model_name(iris_app: App) -> None:
    status, body, _ = invoke_app(iris_app, http_api_event("GET", "/v2/models/other"))
    assert status == 404
    assert "'model'" in body["error"]


def test_model_name_comes_from_the_environment(model_files) -> None:
    app, _ = models.app_for(model_files["logistic"], MODEL_NAME="iris")
    assert invoke_app(app, http_api_event("GET", "/v2/models/iris"))[0] == 200
    assert invoke_app(app, http_api_event("GET", "/v2/models/model"))[0] == 404


def test_infer_defaults_to_predict(post: Invoke) -> None:
    status, body, _ = post("/v2/models/model/infer", {"id": "req-1", "inputs": [TENSOR]})
    assert status == 200
    assert body["model_name"] == "model"
    assert body["id"] == "req-1"
    assert body["outputs"] == [{"name": "predict", "shape": [1], "datatype": "INT64", "data": [0]}]


def test_infer_outputs_select_methods(post: Invoke) -> None:
    body = {"inputs": [TENSOR], "outputs": [{"name": "predict"}, {"name": "predict_proba"}]}
    status, answer, _ = post("/v2/models/model/infer", body)
    assert status == 200
    proba = answer["outputs"][1]
    assert (proba["name"], proba["shape"], proba["datatype"]) == ("predict_proba", [1, 3], "FP64")
    assert sum(proba["data"]) == pytest.approx(1.0)


def test_infer_accepts_nested_data_and_several_rows(post: Invoke) -> None:
    tensor = {**TENSOR, "shape": [2, 4], "data": [models.IRIS_ROW, [6.7, 3.0, 5.2, 2.3]]}
    _status, answer, _ = post("/v2/models/model/infer", {"inputs": [tensor]})
    assert answer["outputs"][0]["data"] == [0, 2]


def test_infer_one_named_input_per_column(post: Invoke, apps: dict[str, App]) -> None:
    inputs = [
        {"name": "weight", "shape": [2], "datatype": "FP64", "data": [10.0, 9.0]},
        {"name": "colour", "shape": [2], "datatype": "BYTES", "data": ["red", "blue"]},
        {"name": "size", "shape": [2, 1], "datatype": "BYTES", "data": [["S"], ["M"]]},
    ]
    status, answer, _ = post("/v2/models/model/infer", {"inputs": inputs}, app=apps["column_transformer"])
    assert status == 200
    assert answer["outputs"][0] == {
        "name": "predict",
        "shape": [2],
        "datatype": "BYTES",
        "data": ["hot", "cold"],
    }


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, '"inputs"'),
        ({"inputs": [{**TENSOR, "shape": [1, 3]}]}, "needs 3 values"),
        ({"inputs": [{**TENSOR, "datatype": "FLOAT"}]}, '"datatype"'),
        ({"inputs": [{**TENSOR, "data": ["a", "b", "c", "d"]}]}, "not a number"),
        ({"inputs": [{**TENSOR, "shape": [1, -4]}]}, '"shape"'),
        ({"inputs": [TENSOR], "outputs": [{"name": "transform"}]}, "output name"),
        ({"inputs": [{**TENSOR, "shape": [1, 1, 4]}]}, "rank 3"),
        ({"inputs": [{k: v for k, v in TENSOR.items() if k != "name"}]}, '"name"'),
    ],
)
def test_fails_with_400_on_a_malformed_inference_request(post: Invoke, body, fragment: str) -> None:
    status, answer, _ = post("/v2/models/model/infer", body)
    assert status == 400
    assert fragment in answer["error"]


def test_fails_with_415_on_csv_for_infer(post: Invoke) -> None:
    status, _, _ = post("/v2/models/model/infer", "1,2,3,4", headers={"Content-Type": "text/csv"})
    assert status == 415
