"""ROUTE_PREFIX: a model served from an API shared by several models answers under /models/<name>/."""

from __future__ import annotations

import json

import pytest

from lambda_runtime.config import Settings
from tests.helpers import models
from tests.helpers.apigw_events import JSON_HEADERS, LambdaContext, http_api_event


@pytest.fixture(scope="module")
def prefixed_app(model_files):
    return models.app_for(model_files["scaled_pipeline"], ROUTE_PREFIX="/models/iris", MODEL_NAME="iris")[0]


def call(app, method, path, body=None):
    response = app.handle(http_api_event(method, path, body, headers=JSON_HEADERS), LambdaContext())
    return response["statusCode"], json.loads(response["body"])


def test_predict_under_prefix(prefixed_app):
    status, body = call(
        prefixed_app, "POST", "/models/iris/predict", json.dumps({"instances": [[5.1, 3.5, 1.4, 0.2]]})
    )
    assert (status, body["predictions"]) == (200, [0])


def test_health_and_oip_under_prefix(prefixed_app):
    assert call(prefixed_app, "GET", "/models/iris/health")[0] == 200
    assert call(prefixed_app, "GET", "/models/iris/v2/models/iris")[0] == 200


def test_fails_without_prefix(prefixed_app):
    status, body = call(prefixed_app, "POST", "/predict", "{}")
    assert status == 404
    assert "under /models/iris/" in body["error"]


def test_fails_on_other_models_prefix(prefixed_app):
    assert call(prefixed_app, "GET", "/models/forest/health")[0] == 404


def test_prefix_parsed_into_segments():
    assert Settings.from_environ({"ROUTE_PREFIX": "/models/iris"}).route_prefix == ("models", "iris")


def test_bad_prefix_is_a_problem():
    settings = Settings.from_environ({"ROUTE_PREFIX": "models iris"})
    assert settings.route_prefix == ()
    assert any("ROUTE_PREFIX" in p for p in settings.problems)
