"""Responses Lambda would refuse (over 6 MB as it serializes them) become a 413 saying how many rows fit."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from lambda_runtime import contract as c
from lambda_runtime.app import App
from tests.helpers import models
from tests.helpers.apigw_events import JSON_HEADERS, LambdaContext, http_api_event

ROW = models.IRIS_ROW
# About 64 bytes of predict_proba per iris row: 100,000 rows answer about 6.4 MB.
TOO_MANY_ROWS = 100_000
CSV_HEADERS = {"content-type": "text/csv", "accept": "text/csv"}


def send(app: App, path: str, body: str, headers: dict[str, str], **query: str) -> dict[str, Any]:
    event = http_api_event("POST", path, body, headers=headers, query=query or None)
    return app.handle(event, LambdaContext())


def lambda_size(response: dict[str, Any]) -> int:
    """The response's size as the Lambda runtime serializes it."""
    return len(json.dumps(response).encode())


def rows_that_fit(response: dict[str, Any]) -> int:
    found = re.search(r"send at most (\d+) rows per request", json.loads(response["body"])["error"])
    assert found, response["body"]
    return int(found.group(1))


@pytest.fixture(scope="module")
def too_large(iris_app: App) -> dict[str, Any]:
    body = json.dumps({"instances": [ROW] * TOO_MANY_ROWS})
    return send(iris_app, "/predict", body, JSON_HEADERS, method="predict_proba")


def test_fails_with_413_when_a_json_response_would_exceed_the_limit(too_large: dict[str, Any]) -> None:
    assert too_large["statusCode"] == 413
    error = json.loads(too_large["body"])["error"]
    size = int(re.search(r"the response would be (\d+) bytes", error).group(1))  # type: ignore[union-attr]
    assert size > c.SYNC_PAYLOAD_LIMIT_BYTES
    assert f"over the {c.SYNC_PAYLOAD_LIMIT_BYTES}-byte limit of a synchronous Lambda response" in error


def test_the_rows_the_413_says_fit_are_answered_within_the_limit(
    iris_app: App, too_large: dict[str, Any]
) -> None:
    fit = rows_that_fit(too_large)
    assert TOO_MANY_ROWS * 0.9 < fit < TOO_MANY_ROWS  # an estimate, not a wild guess
    body = json.dumps({"instances": [ROW] * fit})
    response = send(iris_app, "/predict", body, JSON_HEADERS, method="predict_proba")
    assert response["statusCode"] == 200
    assert lambda_size(response) <= c.SYNC_PAYLOAD_LIMIT_BYTES


def test_a_large_response_under_the_limit_is_served(iris_app: App) -> None:
    # About 3.8 MB: measured (it is past the length below which no body can be too large), then sent.
    body = json.dumps({"instances": [ROW] * 60_000})
    response = send(iris_app, "/predict", body, JSON_HEADERS, method="predict_proba")
    assert response["statusCode"] == 200
    assert len(json.loads(response["body"])["predictions"]) == 60_000


def test_fails_with_413_when_a_csv_response_grows_past_the_limit_once_escaped(tmp_path: Path) -> None:
    # Non-ASCII class names: the CSV body is about 1.4 MB of characters, but Lambda serializes the
    # response object as ASCII JSON, where each of them is a 6-byte \uXXXX escape: about 7.6 MB.
    path = tmp_path / "kanji.joblib"
    models.save(models.string_classes(("日本語日本語", "中文中文中文", "한국어한국어")), path)
    app, _ = models.app_for(path)
    rows = 200_000
    response = send(app, "/predict", "\n".join(["5.1,3.5,1.4,0.2"] * rows), CSV_HEADERS)
    assert response["statusCode"] == 413
    assert response["headers"]["Content-Type"] == "application/json"
    assert rows_that_fit(response) < rows


def test_fails_with_413_when_a_v2_infer_response_would_exceed_the_limit(iris_app: App) -> None:
    rows = 120_000  # the output tensor is flat, about 55 bytes per row
    body = json.dumps(
        {
            "inputs": [
                {
                    "name": "input-0",
                    "shape": [rows, 4],
                    "datatype": "FP64",
                    "data": ROW * rows,
                }
            ],
            "outputs": [{"name": "predict_proba"}],
        }
    )
    response = send(iris_app, "/v2/models/model/infer", body, JSON_HEADERS)
    assert response["statusCode"] == 413
    assert rows_that_fit(response) < rows


def test_the_413_is_logged_with_the_request(tmp_path: Path) -> None:
    path = tmp_path / "iris.joblib"
    models.save(models.scaled_pipeline(), path)
    app, stream = models.app_for(path)
    send(app, "/predict", json.dumps([ROW] * TOO_MANY_ROWS), JSON_HEADERS, method="predict_proba")
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["status"] == 413
    assert line["rows"] == TOO_MANY_ROWS
    assert "the response would be" in line["error"]
