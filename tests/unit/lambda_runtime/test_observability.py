"""One JSON line per request, carrying CloudWatch embedded metrics."""

from __future__ import annotations

import io
import json
from pathlib import Path

from lambda_runtime.observability import JsonLogger
from tests.helpers import models
from tests.helpers.apigw_events import JSON_HEADERS, LambdaContext, http_api_event


def request_lines(stream: io.StringIO) -> list[dict]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [line for line in lines if line["message"] == "request"]


def test_one_line_per_request_with_the_fields_and_emf_metrics(model_files: dict[str, Path]) -> None:
    app, stream = models.app_for(model_files["logistic"], MODEL_NAME="iris", METRICS_NAMESPACE="ns")
    app.handle(
        http_api_event("POST", "/predict", json.dumps([models.IRIS_ROW] * 3), headers=JSON_HEADERS),
        LambdaContext(),
    )
    (line,) = request_lines(stream)
    assert line["route"] == "/predict"
    assert line["http_method"] == "POST"
    assert line["method"] == "predict"
    assert line["rows"] == 3
    assert line["status"] == 200
    assert line["request_id"] == "JKJaXmPLvHcESHA="
    assert line["latency_ms"] > 0
    directive = line["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "ns"
    assert directive["Dimensions"] == [["ModelName"]]
    assert line["ModelName"] == "iris"
    names = [m["Name"] for m in directive["Metrics"]]
    assert names == ["PredictionLatency", "Rows", "ColdStart", "4xx", "5xx"]
    assert all(name in line for name in names)  # EMF: every declared metric has a value on the line
    assert (line["Rows"], line["ColdStart"], line["4xx"], line["5xx"]) == (3, 1, 0, 0)


def test_cold_start_is_counted_once_and_errors_are_counted(model_files: dict[str, Path]) -> None:
    app, stream = models.app_for(model_files["logistic"])
    app.handle(http_api_event("GET", "/health"), LambdaContext())
    app.handle(http_api_event("GET", "/missing"), LambdaContext())
    first, second = request_lines(stream)
    assert (first["ColdStart"], second["ColdStart"]) == (1, 0)
    assert (second["status"], second["4xx"], second["5xx"]) == (404, 1, 0)
    assert "PredictionLatency" not in second
    assert "no route" in second["error"]


def test_log_level_filters_messages_but_not_request_lines() -> None:
    stream = io.StringIO()
    logger = JsonLogger("ERROR", stream)
    logger.info("hidden")
    logger.error("shown", detail=1)
    logger.request({"status": 200}, {"ColdStart": 0}, namespace="ns", dimensions={"ModelName": "m"})
    messages = [json.loads(line)["message"] for line in stream.getvalue().splitlines()]
    assert messages == ["shown", "request"]
