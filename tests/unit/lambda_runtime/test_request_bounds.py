"""Bounded work per request (issue 21): caps from the contract, linear checks, no caller-made 5xx."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lambda_runtime import contract as c
from lambda_runtime.app import App
from lambda_runtime.engines.checks import column_mismatch
from lambda_runtime.errors import BadRequest
from tests.helpers import models, onnx_models
from tests.helpers.apigw_events import JSON_HEADERS, http_api_event
from tests.unit.lambda_runtime.conftest import invoke_app, two_output_forest

INFER = "/v2/models/model/infer"
ROW = models.IRIS_ROW


def send(app: App, path: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    text = body if isinstance(body, str) else json.dumps(body)
    status, answer, _ = invoke_app(app, http_api_event("POST", path, text, headers=headers or JSON_HEADERS))
    return status, answer


@pytest.fixture(scope="module")
def columns_app(apps: dict[str, App]) -> App:
    return apps["column_transformer"]


# -- finding 1: wrong column names ---------------------------------------------------------------


def test_fails_with_400_naming_the_cap_when_a_record_names_too_many_columns(columns_app: App) -> None:
    record = {f"c{i}": 1 for i in range(c.MAX_COLUMNS + 1)}
    status, answer = send(columns_app, "/predict", {"instances": [record]})
    assert status == 400
    assert f"at most {c.MAX_COLUMNS}" in answer["error"]


def test_fails_with_400_naming_the_cap_when_a_split_names_too_many_columns(columns_app: App) -> None:
    names = [f"c{i}" for i in range(c.MAX_COLUMNS + 1)]
    body = {"dataframe_split": {"columns": names, "data": [[1] * len(names)]}}
    status, answer = send(columns_app, "/predict", body)
    assert status == 400
    assert f"at most {c.MAX_COLUMNS}" in answer["error"]


def test_column_mismatch_is_linear_in_the_columns_named() -> None:
    # Quadratic counting took about 2 s for this many names on a 2-core host; linear takes milliseconds.
    got = [f"c{i}" for i in range(c.MAX_COLUMNS - 1)] + ["c0"]
    started = time.perf_counter()
    with pytest.raises(BadRequest, match="repeated \\['c0'\\]"):
        column_mismatch(got, ("colour", "size", "weight"), "the columns")
    assert time.perf_counter() - started < 0.5


def test_fails_with_400_listing_a_few_unknown_columns_and_how_many_more(columns_app: App) -> None:
    record = {"colour": "red", "size": "S", "weight": 1.0} | {f"x{i}": 1 for i in range(100)}
    status, answer = send(columns_app, "/predict", {"instances": [record]})
    assert status == 400
    assert "and 80 more" in answer["error"]


# -- rows and JSON --------------------------------------------------------------------------------


def test_fails_with_400_naming_the_cap_on_too_many_rows(iris_app: App) -> None:
    status, answer = send(iris_app, "/predict", "[" + ",".join(["[]"] * (c.MAX_ROWS + 1)) + "]")
    assert status == 400
    assert f"at most {c.MAX_ROWS}" in answer["error"]


def test_fails_with_400_on_an_integer_too_long_to_read(iris_app: App) -> None:
    status, answer = send(iris_app, "/predict", '{"instances": [[' + "9" * 5000 + ", 1, 1, 1]]}")
    assert status == 400
    assert "too long" in answer["error"]


# -- finding 9 and the OIP shapes -------------------------------------------------------------------


@pytest.mark.parametrize("length", ["²", "١٢", "9" * 5000, "+5", "5 5"])
def test_fails_with_400_on_a_malformed_header_length(iris_app: App, length: str) -> None:
    headers = {"Inference-Header-Content-Length": length, "Content-Type": "application/octet-stream"}
    status, answer = send(iris_app, INFER, '{"inputs": []}', headers)
    assert status == 400
    assert "Inference-Header-Content-Length" in answer["error"]


def tensor(shape: list[int], data: list[Any]) -> dict[str, Any]:
    return {"inputs": [{"name": "input-0", "shape": shape, "datatype": "FP64", "data": data}]}


def test_fails_fast_with_400_on_a_shape_with_a_zero_dimension(iris_app: App) -> None:
    started = time.perf_counter()
    status, answer = send(iris_app, INFER, tensor([10**9, 0], []))
    assert status == 400
    assert "zero dimension" in answer["error"]
    assert time.perf_counter() - started < 1


def test_fails_with_400_naming_the_cap_on_a_huge_shape(iris_app: App) -> None:
    status, answer = send(iris_app, INFER, tensor([10**6, 10**6], [1.0]))
    assert status == 400
    assert str(c.MAX_TENSOR_ELEMENTS) in answer["error"]


def test_fails_with_400_naming_the_cap_on_a_long_shape(iris_app: App) -> None:
    status, answer = send(iris_app, INFER, tensor([1] * 100_000, [1.0]))
    assert status == 400
    assert "rank 100000" in answer["error"]


def test_fails_with_400_on_too_many_inputs(iris_app: App) -> None:
    inputs = [{"name": f"c{i}", "shape": [1], "datatype": "FP64", "data": [1.0]} for i in range(10_001)]
    status, answer = send(iris_app, INFER, {"inputs": inputs})
    assert status == 400
    assert f"at most {c.MAX_COLUMNS}" in answer["error"]


# -- multi-output classifiers over the Open Inference Protocol ------------------------------------


@pytest.fixture(scope="module")
def two_output_app(tmp_path_factory: pytest.TempPathFactory) -> App:
    path = Path(tmp_path_factory.mktemp("multi")) / "forest.joblib"
    models.save(two_output_forest(), path)
    return models.app_for(path)[0]


def test_fails_with_400_on_scores_of_outputs_with_different_class_counts(two_output_app: App) -> None:
    body = tensor([2, 4], ROW * 2) | {"outputs": [{"name": "predict_proba"}]}
    status, answer = send(two_output_app, INFER, body)
    assert status == 400
    assert "3, 2 classes" in answer["error"]
    assert "POST /predict" in answer["error"]


def test_multi_output_predict_is_one_tensor_of_a_label_per_output(two_output_app: App) -> None:
    status, answer = send(two_output_app, INFER, tensor([2, 4], ROW * 2))
    assert status == 200
    assert answer["outputs"][0]["shape"] == [2, 2]


# -- findings 2 and 12: the ONNX engine --------------------------------------------------------------


@pytest.fixture(scope="module")
def onnx_columns(tmp_path_factory: pytest.TempPathFactory) -> App:
    _, data = onnx_models.column_transformer()
    path = onnx_models.save(data, tmp_path_factory.mktemp("ct") / "ct.onnx")
    return models.app_for(path, MODEL_FORMAT="onnx")[0]


def int64_logistic() -> bytes:
    """A logistic regression on iris (tenths, as whole numbers) behind one int64 matrix input."""
    from skl2onnx.common.data_types import Int64TensorType
    from sklearn.linear_model import LogisticRegression

    features, target = models.iris()
    estimator = LogisticRegression(max_iter=5000).fit(np.round(features * 10).astype(np.int64), target)
    return onnx_models.convert(estimator, initial_types=[("X", Int64TensorType([None, 4]))])


@pytest.fixture(scope="module")
def onnx_int64(tmp_path_factory: pytest.TempPathFactory) -> App:
    path = onnx_models.save(int64_logistic(), tmp_path_factory.mktemp("i64") / "i64.onnx")
    return models.app_for(path, MODEL_FORMAT="onnx")[0]


def test_fails_with_400_naming_row_and_column_of_an_unseen_category(onnx_columns: App) -> None:
    rows = [
        {"colour": "red", "size": "S", "weight": 1.0},
        {"colour": "purple", "size": "S", "weight": 1.0},
    ]
    status, answer = send(onnx_columns, "/predict", {"instances": rows})
    assert status == 400
    assert "row 1, column 'colour' = 'purple'" in answer["error"]
    assert "did not see in training" in answer["error"]


def test_fails_with_400_showing_the_text_cells_of_a_lone_unseen_category(onnx_columns: App) -> None:
    status, answer = send(
        onnx_columns, "/predict", {"instances": [{"colour": "x", "size": "S", "weight": 1}]}
    )
    assert status == 400
    assert "row 0 ('colour' = 'x', 'size' = 'S')" in answer["error"]


def test_fails_with_400_on_an_unseen_category_over_the_inference_protocol(onnx_columns: App) -> None:
    inputs = [
        {"name": "colour", "shape": [1, 1], "datatype": "BYTES", "data": ["purple"]},
        {"name": "size", "shape": [1, 1], "datatype": "BYTES", "data": ["S"]},
        {"name": "weight", "shape": [1, 1], "datatype": "FP32", "data": [1.0]},
    ]
    status, answer = send(onnx_columns, INFER, {"inputs": inputs})
    assert status == 400
    assert "did not see in training" in answer["error"]


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (1e19, "row 1, column 2 is 1e+19"),
        (-1e19, "row 1, column 2 is -1e+19"),
        (2.5, "row 1, column 2 is 2.5"),
    ],
)
def test_fails_with_400_naming_row_and_column_of_a_value_an_int64_input_cannot_hold(
    onnx_int64: App, value: float, fragment: str
) -> None:
    status, answer = send(onnx_int64, "/predict", {"instances": [[50, 30, 10, 2], [50, 30, value, 2]]})
    assert status == 400
    assert fragment in answer["error"]
    assert "64-bit integers" in answer["error"]


def test_an_int64_input_takes_the_largest_whole_numbers_it_holds(onnx_int64: App) -> None:
    status, _ = send(onnx_int64, "/predict", {"instances": [[50, 30, -(2**63), 2]]})
    assert status == 200


def always_failing_graph() -> bytes:
    """A graph whose Reshape fails whatever the rows hold: a fault of the model, not of the request."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 4])
    y = helper.make_tensor_value_info("variable", TensorProto.FLOAT, None)
    shape = numpy_helper.from_array(np.array([5, 5], dtype=np.int64), "shape")
    node = helper.make_node("Reshape", ["X", "shape"], ["variable"])
    graph = helper.make_graph([node], "broken", [x], [y], [shape])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    entry = model.metadata_props.add()
    entry.key, entry.value = c.ONNX_METADATA_KEY, json.dumps({"schema": 1})
    data: bytes = onnx.shape_inference.infer_shapes(model).SerializeToString()
    return data


def test_a_failure_of_the_model_itself_stays_a_500(tmp_path: Path) -> None:
    path = onnx_models.save(always_failing_graph(), tmp_path / "broken.onnx")
    app = models.app_for(path, MODEL_FORMAT="onnx")[0]
    status, answer = send(app, "/predict", {"instances": [ROW, ROW]})
    assert status == 500
    assert "internal error" in answer["error"]


def test_fails_fast_with_400_on_more_arrays_than_rows_allowed(iris_app: App) -> None:
    # 2.5 million arrays nested 500 deep: parsing them all took seconds; counting takes milliseconds.
    deep = "[" * 500 + "1" + "]" * 500
    started = time.perf_counter()
    status, answer = send(iris_app, "/predict", "[" + ",".join([deep] * 5000) + "]")
    assert status == 400
    assert f"at most {c.MAX_JSON_CONTAINERS}" in answer["error"]
    assert time.perf_counter() - started < 1
