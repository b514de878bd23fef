"""Routes, request/response formats and every client error, through real-shaped events."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from lambda_runtime.app import App, create_app
from lambda_runtime.config import Settings
from lambda_runtime.engines.sklearn import ENGINE as SKLEARN_ENGINE
from lambda_runtime.model import LoadedModel
from lambda_runtime.observability import JsonLogger
from tests.helpers import models
from tests.helpers.apigw_events import (
    JSON_HEADERS,
    LambdaContext,
    function_url_event,
    http_api_event,
    rest_api_event,
)
from tests.unit.lambda_runtime.conftest import Invoke, invoke_app

ROW = models.IRIS_ROW


# -- health, metadata, routing -------------------------------------------------------------------


def test_health_is_200_when_the_model_is_loaded(iris_app: App) -> None:
    status, body, _ = invoke_app(iris_app, http_api_event("GET", "/health"))
    assert status == 200
    assert body["status"] == "ok"
    assert body["sha256"] == iris_app.settings.model_sha256


def test_metadata_describes_the_model(iris_app: App) -> None:
    status, body, _ = invoke_app(iris_app, http_api_event("GET", "/metadata"))
    assert status == 200
    assert body["estimator_class"] == "sklearn.pipeline.Pipeline"
    assert body["n_features_in_"] == 4
    assert body["feature_names_in_"] is None
    assert body["classes_"] == [0, 1, 2]
    assert body["methods"] == ["predict", "predict_proba", "decision_function"]
    assert re.fullmatch(r"\d+\.\d+.*", body["runtime_sklearn_version"])
    assert body["training_sklearn_version"] is None
    assert body["sha256"] == iris_app.settings.model_sha256


def test_metadata_reports_the_training_version_from_the_environment(model_files: dict[str, Path]) -> None:
    app, _ = models.app_for(model_files["logistic"], MODEL_SKLEARN_VERSION="1.5.2")
    _, body, _ = invoke_app(app, http_api_event("GET", "/metadata"))
    assert body["training_sklearn_version"] == "1.5.2"


def test_metadata_lists_feature_names_of_a_dataframe_model(apps: dict[str, App]) -> None:
    _, body, _ = invoke_app(apps["column_transformer"], http_api_event("GET", "/metadata"))
    assert body["feature_names_in_"] == list(models.CT_COLUMNS)
    assert body["classes_"] == ["cold", "hot"]


def test_fails_with_404_on_an_unknown_route(iris_app: App) -> None:
    status, body, _ = invoke_app(iris_app, http_api_event("GET", "/predictions"))
    assert status == 404
    assert "/predict" in body["error"]


def test_fails_with_405_and_allow_on_a_wrong_verb(iris_app: App) -> None:
    status, body, headers = invoke_app(iris_app, http_api_event("GET", "/predict"))
    assert status == 405
    assert headers["Allow"] == "POST"
    assert "POST" in body["error"]


def test_routes_ignore_a_trailing_slash(post: Invoke) -> None:
    status, _body, _ = post("/predict/", {"instances": [ROW]})
    assert status == 200


def test_routes_strip_a_named_http_api_stage(iris_app: App) -> None:
    event = http_api_event("GET", "/health", stage="prod")
    assert event["rawPath"] == "/prod/health"
    assert invoke_app(iris_app, event)[0] == 200


def test_errors_carry_the_api_gateway_request_id(iris_app: App) -> None:
    event = http_api_event("GET", "/nowhere", request_id="Abc123=")
    _status, body, headers = invoke_app(iris_app, event)
    assert body["request_id"] == "Abc123="
    assert headers["X-Request-Id"] == "Abc123="


# -- event sources ---------------------------------------------------------------------------------


def test_rest_api_event_with_mixed_case_headers(iris_app: App) -> None:
    event = rest_api_event(
        "POST", "/predict", json.dumps({"instances": [ROW]}), headers={"Content-TYPE": "application/json"}
    )
    status, body, _ = invoke_app(iris_app, event)
    assert (status, body["predictions"]) == (200, [0])


def test_rest_api_event_reads_the_method_from_the_query(iris_app: App) -> None:
    event = rest_api_event(
        "POST",
        "/predict",
        json.dumps([ROW]),
        headers={"Content-Type": "application/json"},
        query={"method": "predict_proba"},
    )
    status, body, _ = invoke_app(iris_app, event)
    assert status == 200
    assert len(body["predictions"][0]) == 3


def test_function_url_event(iris_app: App) -> None:
    event = function_url_event("POST", "/predict", json.dumps({"instances": [ROW]}), headers=JSON_HEADERS)
    status, body, _ = invoke_app(iris_app, event)
    assert (status, body["predictions"]) == (200, [0])


@pytest.mark.parametrize("builder", [http_api_event, rest_api_event, function_url_event])
def test_base64_encoded_bodies_are_decoded(iris_app: App, builder) -> None:
    event = builder(
        "POST", "/predict", json.dumps({"instances": [ROW]}), headers=JSON_HEADERS, base64_encoded=True
    )
    assert event["isBase64Encoded"] is True
    status, body, _ = invoke_app(iris_app, event)
    assert (status, body["predictions"]) == (200, [0])


def test_fails_with_400_on_invalid_base64(iris_app: App) -> None:
    event = http_api_event("POST", "/predict", "x", headers=JSON_HEADERS)
    event["body"], event["isBase64Encoded"] = "!!!not base64!!!", True
    status, body, _ = invoke_app(iris_app, event)
    assert status == 400
    assert "base64" in body["error"]


@pytest.mark.parametrize("event", [{}, [], "GET /health", None, {"requestContext": {"requestId": "r1"}}])
def test_fails_with_400_on_a_non_http_event(iris_app: App, event) -> None:
    response = iris_app.handle(event, LambdaContext())
    assert response["statusCode"] == 400
    assert "API Gateway" in json.loads(response["body"])["error"]


# -- request formats -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"instances": [ROW]},
        {"inputs": [ROW]},
        [ROW],
        ROW,  # one flat row is one row
        {"instances": ROW},
    ],
    ids=["instances", "inputs", "bare-rows", "bare-flat-row", "instances-flat-row"],
)
def test_predict_accepts_each_positional_json_format(post: Invoke, body) -> None:
    status, answer, _ = post("/predict", body)
    assert (status, answer) == (200, {"predictions": [0]})


def test_predict_answers_one_prediction_per_row(post: Invoke) -> None:
    rows = [ROW, [6.7, 3.0, 5.2, 2.3], [5.9, 2.8, 4.3, 1.3]]
    _status, answer, _ = post("/predict", {"instances": rows})
    assert answer["predictions"] == [0, 2, 1]


def test_predict_accepts_numbers_sent_as_strings(post: Invoke) -> None:
    status, answer, _ = post("/predict", {"instances": [[str(v) for v in ROW]]})
    assert (status, answer["predictions"]) == (200, [0])


def test_content_type_charset_is_ignored(post: Invoke) -> None:
    status, _, _ = post("/predict", [ROW], headers={"Content-Type": "application/json; charset=UTF-8"})
    assert status == 200


def test_missing_content_type_means_json(iris_app: App) -> None:
    event = http_api_event("POST", "/predict", json.dumps([ROW]))
    assert "content-type" not in event["headers"]
    assert invoke_app(iris_app, event)[0] == 200


def test_csv_without_header_one_row_per_line(post: Invoke) -> None:
    status, answer, _ = post(
        "/predict", "5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n", headers={"Content-Type": "text/csv"}
    )
    assert (status, answer["predictions"]) == (200, [0, 2])


def test_csv_single_line_is_one_row(post: Invoke) -> None:
    _status, answer, _ = post(
        "/predict", "5.1,3.5,1.4,0.2", headers={"Content-Type": "text/csv; charset=utf-8"}
    )
    assert answer["predictions"] == [0]


def test_fails_with_400_on_csv_with_a_header_row(post: Invoke) -> None:
    status, answer, _ = post("/predict", "a,b,c,d\n5.1,3.5,1.4,0.2", headers={"Content-Type": "text/csv"})
    assert status == 400
    assert "no header" in answer["error"]


@pytest.mark.parametrize(
    "body",
    [
        {"instances": [dict(zip(models.CT_COLUMNS, ["red", "S", 10.0], strict=True))]},
        {"dataframe_records": [{"weight": 10.0, "size": "S", "colour": "red"}]},
        {"dataframe_split": {"columns": ["size", "colour", "weight"], "data": [["S", "red", 10.0]]}},
        {"inputs": {"colour": ["red"], "size": ["S"], "weight": [10.0]}},
        {"instances": [["red", "S", 10.0]]},
    ],
    ids=["instances-records", "dataframe_records", "dataframe_split", "inputs-columns", "positional"],
)
def test_named_column_formats_reach_a_column_transformer(post: Invoke, apps: dict[str, App], body) -> None:
    status, answer, _ = post("/predict", body, app=apps["column_transformer"])
    assert (status, answer) == (200, {"predictions": ["hot"]})


def test_csv_reaches_a_column_transformer_in_column_order(post: Invoke, apps: dict[str, App]) -> None:
    status, answer, _ = post(
        "/predict",
        "green,M,9.5\nred,L,11",
        app=apps["column_transformer"],
        headers={"Content-Type": "text/csv"},
    )
    assert (status, answer["predictions"]) == (200, ["cold", "hot"])


# -- methods and response formats --------------------------------------------------------------------


def test_predict_proba_from_the_body_includes_classes(post: Invoke) -> None:
    status, answer, _ = post("/predict", {"instances": [ROW], "method": "predict_proba"})
    assert status == 200
    assert answer["classes"] == [0, 1, 2]
    assert sum(answer["predictions"][0]) == pytest.approx(1.0)
    assert answer["predictions"][0][0] > 0.9


def test_decision_function_from_the_query(post: Invoke) -> None:
    status, answer, _ = post("/predict", [ROW], query={"method": "decision_function"})
    assert status == 200
    assert "classes" not in answer
    scores = answer["predictions"][0]
    assert scores.index(max(scores)) == 0


def test_accept_csv_returns_csv(post: Invoke) -> None:
    status, text, headers = post(
        "/predict", [ROW, [6.7, 3.0, 5.2, 2.3]], headers={**JSON_HEADERS, "Accept": "text/csv"}
    )
    assert status == 200
    assert headers["Content-Type"].startswith("text/csv")
    assert text == "0\n2\n"


def test_accept_csv_with_predict_proba_returns_one_line_per_row(post: Invoke) -> None:
    _status, text, _ = post(
        "/predict", [ROW], headers={**JSON_HEADERS, "Accept": "text/csv"}, query={"method": "predict_proba"}
    )
    values = [float(v) for v in text.strip().split(",")]
    assert len(values) == 3
    assert sum(values) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "accept", ["*/*", "application/*", "application/json", "text/csv;q=0.5, application/json"]
)
def test_accept_headers_that_choose_json(post: Invoke, accept: str) -> None:
    status, _answer, headers = post("/predict", [ROW], headers={**JSON_HEADERS, "Accept": accept})
    assert status == 200
    assert headers["Content-Type"] == "application/json"


def test_accept_quality_values_can_prefer_csv(post: Invoke) -> None:
    _, _, headers = post(
        "/predict", [ROW], headers={**JSON_HEADERS, "Accept": "application/json;q=0.2, text/*"}
    )
    assert headers["Content-Type"].startswith("text/csv")


# -- client errors -----------------------------------------------------------------------------------


def error_of(result: tuple[int, object, dict[str, str]]) -> tuple[int, str]:
    status, body, _ = result
    assert isinstance(body, dict)
    assert set(body) == {"error", "request_id"}
    return status, body["error"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ('{"instances": [[5.1, 3.5', "not valid JSON"),
        ("", "empty"),
        ('"text"', "string"),
        ('{"rows": [[1, 2, 3, 4]]}', "exactly one of"),
        ('{"instances": [[1,2,3,4]], "inputs": [[1,2,3,4]]}', "exactly one of"),
        ('{"instances": []}', "empty"),
        ('{"instances": 5}', "array of rows"),
        ('{"instances": [[1, 2, 3, 4], 5]}', "mixes"),
        ('{"instances": [[1, 2, 3, 4], [1, 2]]}', "row 1 has 2 values"),
        ('{"instances": [[1, 2, 3, [4]]]}', "column 3 is an array"),
        ('{"instances": [[1, 2, 3, {"a": 4}]]}', "column 3 is an object"),
        ('{"instances": [[1, 2, 3, "four"]]}', "'four', not a number"),
        ('{"instances": [[1, 2, 3]]}', "takes 4 features per row"),
        ('{"instances": [[1, 2, 3, 4, 5]]}', "takes 4 features per row"),
        ('{"instances": [[1, 2, 3, Infinity]]}', "infinite"),
        ('{"instances": [[1, 2, 3, 1e999]]}', "infinite"),
        ('{"instances": [[1, 2, 3, 4]], "method": "transform"}', "unknown method"),
        ('{"instances": [{"a": 1}]}', "without column names"),
        ('{"dataframe_split": {"data": 3}}', "dataframe_split"),
        ("[" * 100_000, "nested too deeply"),
    ],
)
def test_fails_with_400_and_a_message_that_says_what_is_wrong(post: Invoke, body: str, fragment: str) -> None:
    status, message = error_of(post("/predict", body))
    assert status == 400
    assert fragment in message


def test_fails_with_400_on_nan_the_estimator_cannot_take(post: Invoke) -> None:
    status, message = error_of(post("/predict", '{"instances": [[5.1, 3.5, NaN, 0.2]]}'))
    assert status == 400
    assert "missing values" in message


def test_null_is_a_missing_value_for_an_estimator_that_takes_nan(post: Invoke, apps: dict[str, App]) -> None:
    status, answer, _ = post("/predict", {"instances": [[5.1, None, 1.4, 0.2]]}, app=apps["nan_tolerant"])
    assert (status, answer["predictions"]) == (200, [0])


def test_fails_with_400_on_a_method_the_estimator_lacks(post: Invoke, apps: dict[str, App]) -> None:
    status, message = error_of(
        post("/predict", [[3.5, 1.4, 0.2]], app=apps["regressor"], query={"method": "predict_proba"})
    )
    assert status == 400
    assert "(Ridge) has no predict_proba; it offers predict" in message


def test_fails_with_400_when_body_and_query_disagree_on_the_method(post: Invoke) -> None:
    status, message = error_of(
        post("/predict", {"instances": [ROW], "method": "predict"}, query={"method": "predict_proba"})
    )
    assert status == 400
    assert "name the method once" in message


def test_fails_with_400_on_missing_and_unknown_columns(post: Invoke, apps: dict[str, App]) -> None:
    body = {"dataframe_records": [{"colour": "red", "sise": "S", "weight": 1.0}]}
    status, message = error_of(post("/predict", body, app=apps["column_transformer"]))
    assert status == 400
    assert "missing ['size']" in message
    assert "unknown ['sise']" in message


def test_fails_with_400_on_a_category_the_model_never_saw(post: Invoke, apps: dict[str, App]) -> None:
    status, message = error_of(post("/predict", [["purple", "S", 1.0]], app=apps["column_transformer"]))
    assert (status, message.split(";")[0]) == (
        400,
        "row 0, column 'colour' is 'purple', a category the model did not see in training",
    )


def test_fails_with_415_on_an_unsupported_content_type(post: Invoke) -> None:
    status, message = error_of(
        post("/predict", "a=1", headers={"Content-Type": "application/x-www-form-urlencoded"})
    )
    assert status == 415
    assert "application/json" in message


def test_fails_with_406_on_an_unsupported_accept(post: Invoke) -> None:
    status, message = error_of(post("/predict", [ROW], headers={**JSON_HEADERS, "Accept": "application/xml"}))
    assert status == 406
    assert "text/csv" in message


def test_fails_with_413_over_the_body_limit(model_files: dict[str, Path]) -> None:
    app, _ = models.app_for(model_files["scaled_pipeline"], MAX_BODY_BYTES="100")
    body = json.dumps({"instances": [ROW] * 10})
    status, message = error_of(
        invoke_app(app, http_api_event("POST", "/predict", body, headers=JSON_HEADERS))
    )
    assert status == 413
    assert "MAX_BODY_BYTES" in message


def test_fails_with_413_over_the_body_limit_before_decoding_base64(model_files: dict[str, Path]) -> None:
    app, _ = models.app_for(model_files["scaled_pipeline"], MAX_BODY_BYTES="100")
    event = http_api_event("POST", "/predict", "x" * 1000, headers=JSON_HEADERS, base64_encoded=True)
    assert invoke_app(app, event)[0] == 413


def test_bodies_under_the_limit_pass(model_files: dict[str, Path]) -> None:
    body = json.dumps({"instances": [ROW]})
    app, _ = models.app_for(model_files["scaled_pipeline"], MAX_BODY_BYTES=str(len(body)))
    assert invoke_app(app, http_api_event("POST", "/predict", body, headers=JSON_HEADERS))[0] == 200


# -- server errors ---------------------------------------------------------------------------------


class ExplodingEstimator:
    """An estimator whose predict fails the way a bug would: not a client mistake."""

    n_features_in_ = 4

    def predict(self, features):
        raise RuntimeError("/opt/python/secret/path.py exploded")


def exploding_app() -> App:
    def loader(settings: Settings) -> LoadedModel:
        return LoadedModel(
            estimator=ExplodingEstimator(),
            sha256="0" * 64,
            file_format="joblib",
            size_bytes=1,
            estimator_class="tests.ExplodingEstimator",
            n_features_in=4,
            feature_names_in=None,
            classes=None,
            methods=("predict",),
            load_warnings=(),
            load_seconds=0.0,
            engine=SKLEARN_ENGINE,
        )

    app = App(Settings(), JsonLogger(), loader=loader)
    app.load()
    return app


def test_unexpected_errors_are_a_generic_500_without_details(capsys: pytest.CaptureFixture[str]) -> None:
    app = exploding_app()
    status, body, _ = invoke_app(
        app, http_api_event("POST", "/predict", json.dumps([ROW]), headers=JSON_HEADERS)
    )
    assert status == 500
    assert set(body) == {"error", "request_id"}
    assert "exploded" not in body["error"] and "/opt" not in body["error"]
    logged = capsys.readouterr().out
    assert "exploded" in logged and "Traceback" in logged  # the operator still gets the details


def test_503_until_the_model_is_loaded_with_the_reason(tmp_path: Path) -> None:
    app = create_app({})
    for method, path in [
        ("GET", "/health"),
        ("POST", "/predict"),
        ("GET", "/v2/health/ready"),
        ("GET", "/metadata"),
    ]:
        status, body, _ = invoke_app(
            app, http_api_event(method, path, json.dumps([ROW]), headers=JSON_HEADERS)
        )
        assert status == 503
        assert "MODEL_URI is not set" in body["error"]


def test_liveness_is_200_even_without_a_model() -> None:
    status, body, _ = invoke_app(create_app({}), http_api_event("GET", "/v2/health/live"))
    assert (status, body) == (200, {"live": True})


def test_a_transient_load_failure_is_retried_on_a_later_request(tmp_path: Path) -> None:
    path = tmp_path / "late.joblib"
    model = models.logistic()
    digest = models.sha256(models.dump_bytes(model))
    app = create_app(
        {"MODEL_URI": str(path), "MODEL_SHA256": digest, "MODEL_RELOAD_INTERVAL_SECONDS": "0.05"}
    )
    assert invoke_app(app, http_api_event("GET", "/health"))[0] == 503
    models.save(model, path)  # the file appears (e.g. S3 became reachable)
    time.sleep(0.06)  # past MODEL_RELOAD_INTERVAL_SECONDS
    assert invoke_app(app, http_api_event("GET", "/health"))[0] == 200


def test_request_ids_are_sanitised_before_they_reach_a_header(iris_app: App) -> None:
    event = http_api_event("GET", "/health", request_id="abc\r\nSet-Cookie: x=1")
    _, _, headers = invoke_app(iris_app, event)
    assert headers["X-Request-Id"] == "abcSet-Cookie:x=1"


def test_the_app_binds_a_handler_to_every_contract_route_and_no_other():
    from lambda_runtime import contract
    from lambda_runtime.app import App
    from lambda_runtime.config import Settings

    app = App(Settings())
    assert [route for route, _ in app.routes] == list(contract.ROUTES)
    assert all(callable(handler) for _, handler in app.routes)


def test_the_model_loaded_line_gives_load_time_and_peak_memory(model_files: dict[str, Path]) -> None:
    import resource

    _, stream = models.app_for(model_files["logistic"])
    line = next(json.loads(x) for x in stream.getvalue().splitlines() if "model loaded" in x)
    # The peak is the process's own, read independently here after the load: never above it.
    peak_now = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert 0 < line["peak_rss_mb"] <= peak_now + 0.1
    assert line["load_ms"] >= 0


def test_the_request_line_carries_lambdas_request_id(model_files: dict[str, Path]) -> None:
    # Managed instances interleave concurrent requests in one log stream; Lambda's JSON logs key them
    # by requestId, the id the runtime interface client hands the handler.
    app, stream = models.app_for(model_files["logistic"])
    context = LambdaContext()
    app.handle(http_api_event("GET", "/health"), context)
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["message"] == "request" and line["requestId"] == context.aws_request_id
    assert line["request_id"] == "JKJaXmPLvHcESHA="  # API Gateway's id, as before
