"""The ONNX engine serves the same routes, bodies, errors and answers as the scikit-learn engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lambda_runtime.app import App
from tests.helpers import models, onnx_models
from tests.helpers.apigw_events import JSON_HEADERS, LambdaContext, http_api_event
from tests.unit.lambda_runtime.conftest import invoke_app

ROW = models.IRIS_ROW


def serve(tmp_path: Path, data: bytes, name: str = "model.onnx", **env: str) -> App:
    path = onnx_models.save(data, tmp_path / name)
    app, _ = models.app_for(path, MODEL_FORMAT="onnx", **env)
    return app


@pytest.fixture(scope="module")
def forest(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, App]:
    estimator, data = onnx_models.forest()
    return estimator, serve(tmp_path_factory.mktemp("forest"), data)


@pytest.fixture(scope="module")
def columns(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, App]:
    estimator, data = onnx_models.column_transformer()
    return estimator, serve(tmp_path_factory.mktemp("ct"), data)


def post(app: App, body: Any, path: str = "/predict", **kw: Any) -> tuple[int, Any, dict[str, str]]:
    text = body if isinstance(body, str) else json.dumps(body)
    headers = kw.pop("headers", JSON_HEADERS)
    return invoke_app(app, http_api_event("POST", path, text, headers=headers, **kw))


def test_predict_and_predict_proba_match_scikit_learn(forest: tuple[Any, App]) -> None:
    estimator, app = forest
    rows = models.iris()[0][::10].tolist()
    status, body, _ = post(app, {"instances": rows})
    assert status == 200
    assert body["predictions"] == estimator.predict(np.array(rows)).tolist()
    status, body, _ = post(app, {"instances": rows, "method": "predict_proba"})
    assert status == 200
    assert body["classes"] == [0, 1, 2]
    np.testing.assert_allclose(body["predictions"], estimator.predict_proba(np.array(rows)), atol=1e-6)


def test_csv_in_and_out(forest: tuple[Any, App]) -> None:
    _, app = forest
    status, body, headers = post(
        app, "5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n", headers={"content-type": "text/csv", "accept": "text/csv"}
    )
    assert (status, body) == (200, "0\n2\n")
    assert headers["Content-Type"].startswith("text/csv")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([[1.0, 2.0, 3.0]], "takes 4 features per row"),
        ([[1.0, "x", 3.0, 4.0]], "row 0, column 1 is 'x', not a number"),
        ([[1.0, None, 3.0, 4.0]], "missing values (null or NaN)"),
        ({"instances": [[1e400, 1, 1, 1]]}, "infinite"),
        ([[1e300, 1, 1, 1]], "too large for a 32-bit float"),
        ({"dataframe_records": [{"a": 1}]}, "fitted without column names"),
        ({"instances": [ROW], "method": "decision_function"}, "ONNX graph has no output"),
    ],
)
def test_fails_with_the_same_400s_as_scikit_learn(forest: tuple[Any, App], body: Any, message: str) -> None:
    _, app = forest
    text = json.dumps(body).replace("Infinity", "1e400") if "1e400" not in json.dumps(body) else None
    status, answer, _ = post(app, text or json.dumps(body))
    assert status == 400, answer
    assert message in answer["error"]


def test_nan_passes_where_the_metadata_allows_it(tmp_path: Path) -> None:
    estimator, _ = onnx_models.forest()
    record = onnx_models.record_for(estimator, inputs=[{"name": "X", "allow_nan": True}])
    data = onnx_models.convert(estimator, sample=models.iris()[0][:1].astype(np.float32), record=record)
    status, body, _ = post(serve(tmp_path, data), [[5.1, None, 1.4, 0.2]])
    assert status == 200 and len(body["predictions"]) == 1


def test_decision_function_where_the_graph_has_raw_scores(tmp_path: Path) -> None:
    estimator, data = onnx_models.binary_raw_scores()
    app = serve(tmp_path, data)
    rows = models.iris()[0][::25].tolist()
    status, body, _ = post(app, {"instances": rows, "method": "decision_function"})
    assert status == 200
    np.testing.assert_allclose(body["predictions"], estimator.decision_function(np.array(rows)), rtol=1e-6)
    status, body, _ = post(app, {"instances": rows, "method": "predict_proba"})
    assert status == 400 and "offers predict, decision_function" in body["error"]


def test_a_regressor_answers_one_value_per_row(tmp_path: Path) -> None:
    estimator, data = onnx_models.regressor()
    rows = models.iris()[0][:3, 1:].tolist()
    status, body, _ = post(serve(tmp_path, data), rows)
    assert status == 200
    np.testing.assert_allclose(body["predictions"], estimator.predict(np.array(rows)), rtol=1e-6)


def test_an_mlp_matches_scikit_learn(tmp_path: Path) -> None:
    estimator, data = onnx_models.mlp()
    rows = models.iris()[0][::15].tolist()
    status, body, _ = post(serve(tmp_path, data), {"instances": rows, "method": "predict_proba"})
    assert status == 200
    np.testing.assert_allclose(body["predictions"], estimator.predict_proba(np.array(rows)), atol=1e-5)


def test_named_columns_map_to_graph_inputs_without_pandas(columns: tuple[Any, App]) -> None:
    estimator, app = columns
    frame, _ = models.ct_frame(6)
    records = frame.to_dict(orient="records")
    expected = estimator.predict(frame).tolist()
    bodies = [
        {"dataframe_records": records},
        {"instances": [{k: r[k] for k in reversed(list(r))} for r in records]},
        {
            "dataframe_split": {
                "columns": ["weight", "colour", "size"],
                "data": frame[["weight", "colour", "size"]].values.tolist(),
            }
        },
        {"inputs": {c: frame[c].tolist() for c in frame.columns}},
        frame.values.tolist(),  # positional, in the model's column order
    ]
    for body in bodies:
        status, answer, _ = post(app, body)
        assert (status, answer["predictions"]) == (200, expected), body
    status, answer, _ = post(app, {"dataframe_records": records, "method": "predict_proba"})
    assert answer["classes"] == ["cold", "hot"]
    np.testing.assert_allclose(answer["predictions"], estimator.predict_proba(frame), atol=1e-6)


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"colour": "red", "size": "S"}, "missing ['weight']"),
        ({"colour": "red", "size": "S", "weight": 1.0, "x": 1}, "unknown ['x']"),
        ({"colour": 3, "size": "S", "weight": 1.0}, "row 0, column 'colour' is 3; this column takes strings"),
        ({"colour": "red", "size": "S", "weight": "heavy"}, "column 'weight' is 'heavy', not a number"),
        ({"colour": "red", "size": "S", "weight": None}, "missing values (null or NaN)"),
        ({"colour": None, "size": "S", "weight": 1.0}, "missing values (null or NaN)"),
    ],
)
def test_fails_on_wrong_named_columns(columns: tuple[Any, App], record: dict[str, Any], message: str) -> None:
    status, body, _ = post(columns[1], {"dataframe_records": [record]})
    assert status == 400
    assert message in body["error"]


def test_metadata_reports_the_engine_and_the_converter(forest: tuple[Any, App]) -> None:
    status, body, _ = invoke_app(forest[1], http_api_event("GET", "/metadata"))
    assert status == 200
    assert body["engine"] == "onnx"
    assert body["format"] == "onnx"
    assert body["estimator_class"].endswith("RandomForestClassifier")
    assert body["converter"]["skl2onnx"] and body["verification"] == {"rows": 150, "passed": True}
    assert body["runtime_onnxruntime_version"]
    assert body["classes_"] == [0, 1, 2] and body["methods"] == ["predict", "predict_proba"]
    assert body["n_features_in_"] == 4


def test_open_inference_protocol(forest: tuple[Any, App], columns: tuple[Any, App]) -> None:
    _estimator, app = forest
    status, body, _ = invoke_app(app, http_api_event("GET", "/v2/models/model"))
    assert body["platform"] == "onnxruntime_onnx"
    assert body["inputs"] == [{"name": "X", "datatype": "FP32", "shape": [-1, 4]}]
    assert body["outputs"] == [
        {"name": "predict", "datatype": "INT64", "shape": [-1]},
        {"name": "predict_proba", "datatype": "FP32", "shape": [-1, 3]},
    ]
    request = {
        "inputs": [{"name": "X", "shape": [1, 4], "datatype": "FP32", "data": ROW}],
        "outputs": [{"name": "predict"}, {"name": "predict_proba"}],
    }
    status, body, _ = post(app, request, "/v2/models/model/infer")
    assert status == 200
    assert body["outputs"][0]["data"] == [0] and body["outputs"][1]["shape"] == [1, 3]
    status, body, _ = invoke_app(columns[1], http_api_event("GET", "/v2/models/model"))
    assert [(i["name"], i["datatype"]) for i in body["inputs"]] == [
        ("colour", "BYTES"),
        ("size", "BYTES"),
        ("weight", "FP32"),
    ]


def test_a_graph_without_metadata_still_serves(tmp_path: Path) -> None:
    _estimator, data = onnx_models.forest()
    import onnx

    graph = onnx.load_from_string(data)
    del graph.metadata_props[:]
    app = serve(tmp_path, graph.SerializeToString())
    status, body, _ = post(app, {"instances": [ROW], "method": "predict_proba"})
    assert status == 200 and "classes" not in body


def test_fails_503_on_unreadable_metadata_or_bytes(tmp_path: Path) -> None:
    estimator, _ = onnx_models.forest()
    data = onnx_models.convert(estimator, sample=models.iris()[0][:1].astype(np.float32), record=[1])  # type: ignore[arg-type]
    for name, payload in (("meta.onnx", data), ("junk.onnx", b"not a graph")):
        app = serve(tmp_path, payload, name)
        status, body, _ = invoke_app(app, http_api_event("GET", "/health"))
        assert status == 503
        assert "ONNX" in body["error"]


def test_threads_follow_the_functions_memory() -> None:
    from lambda_runtime.engines.onnx import lambda_vcpus

    assert lambda_vcpus({"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024"}) == 1
    assert lambda_vcpus({"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1769"}) == 1
    assert lambda_vcpus({"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "3538"}) == min(
        2, __import__("os").cpu_count() or 1
    )


def test_handler_context_is_unused_by_the_engine(forest: tuple[Any, App]) -> None:
    response = forest[1].handle(http_api_event("GET", "/health"), LambdaContext())
    assert response["statusCode"] == 200
