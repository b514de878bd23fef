"""Fixtures: small models trained once per session and saved with joblib, and apps serving them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

from lambda_runtime.app import App
from tests.helpers import models
from tests.helpers.apigw_events import JSON_HEADERS, LambdaContext, http_api_event


@pytest.fixture(scope="session")
def model_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every test model saved as ``<name>.joblib``."""
    folder = tmp_path_factory.mktemp("models")
    files = {}
    for name, train in models.TRAINERS.items():
        path = folder / f"{name}.joblib"
        models.save(train(), path)
        files[name] = path
    return files


@pytest.fixture(scope="session")
def apps(model_files: dict[str, Path]) -> dict[str, App]:
    """One loaded App per test model (session-wide: loading is the slow part)."""
    return {name: models.app_for(path)[0] for name, path in model_files.items()}


@pytest.fixture(scope="session")
def iris_app(apps: dict[str, App]) -> App:
    return apps["scaled_pipeline"]


Invoke = Callable[..., tuple[int, Any, dict[str, str]]]


def invoke_app(app: App, event: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
    """Call the handler; return status, decoded body (JSON when JSON, else text) and headers."""
    response = app.handle(event, LambdaContext())
    assert set(response) == {"statusCode", "headers", "body", "isBase64Encoded"}
    headers = response["headers"]
    body = response["body"]
    if headers["Content-Type"].startswith("application/json"):
        body = json.loads(body)
    return response["statusCode"], body, headers


@pytest.fixture
def post(iris_app: App) -> Invoke:
    """POST a JSON-encoded body (or a raw string) to the iris app over an HTTP API 2.0 event."""

    def send(
        path: str,
        body: Any,
        *,
        app: App | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        text = body if isinstance(body, str) else json.dumps(body)
        event = http_api_event("POST", path, text, headers=headers or JSON_HEADERS, query=query)
        return invoke_app(app or iris_app, event)

    return send


def two_output_forest() -> Any:
    """A forest fitted on a 2-column y (iris class, sepal length over 5.8): a multi-output classifier."""
    features, target = models.iris()
    wide = (features[:, 0] > 5.8).astype(int)
    return RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0).fit(
        features, np.column_stack([target, wide])
    )
