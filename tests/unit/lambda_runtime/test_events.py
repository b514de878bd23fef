"""Normalising API Gateway and Function URL events."""

from __future__ import annotations

import base64

import pytest

from lambda_runtime.errors import BadRequest, PayloadTooLarge
from lambda_runtime.events import build_response, parse_event, request_id_of
from tests.helpers.apigw_events import LambdaContext, function_url_event, http_api_event, rest_api_event


def test_http_api_event() -> None:
    request = parse_event(
        http_api_event("post", "/predict", "{}", headers={"X-Custom": "v"}, query={"method": "predict"}), None
    )
    assert (request.method, request.path, request.source) == ("POST", "/predict", "http-api-2.0")
    assert request.headers["x-custom"] == "v"
    assert request.query == {"method": "predict"}
    assert request.request_id == "JKJaXmPLvHcESHA="
    assert request.stage is None


def test_function_url_event_is_recognised() -> None:
    request = parse_event(function_url_event("GET", "/health"), None)
    assert request.source == "function-url"


def test_rest_api_event_lower_cases_header_names() -> None:
    request = parse_event(
        rest_api_event("POST", "/predict", "{}", headers={"Content-Type": "text/csv"}), None
    )
    assert request.source == "api-gateway-1.0"
    assert request.headers["content-type"] == "text/csv"
    assert request.stage == "prod"
    assert request.path == "/predict"


def test_rest_api_event_with_only_multi_value_headers() -> None:
    event = rest_api_event("GET", "/health")
    event["headers"] = None
    event["multiValueHeaders"] = {"Accept": ["text/csv", "application/json"]}
    assert parse_event(event, None).headers == {"accept": "text/csv,application/json"}


def test_body_bytes_decodes_base64() -> None:
    request = parse_event(http_api_event("POST", "/predict", b"\x00\x01binary"), None)
    assert request.is_base64
    assert request.body_bytes(100) == b"\x00\x01binary"


def test_fails_body_bytes_over_the_limit() -> None:
    request = parse_event(http_api_event("POST", "/predict", "x" * 11), None)
    with pytest.raises(PayloadTooLarge, match="over the limit of 10 bytes"):
        request.body_bytes(10)


def test_fails_body_bytes_over_the_limit_counting_utf8_bytes() -> None:
    request = parse_event(http_api_event("POST", "/predict", "é" * 6), None)  # 6 characters, 12 bytes
    with pytest.raises(PayloadTooLarge):
        request.body_bytes(10)


def test_fails_body_bytes_on_bad_base64() -> None:
    event = http_api_event("POST", "/predict", "x")
    event.update(body="%%%", isBase64Encoded=True)
    with pytest.raises(BadRequest, match="base64"):
        parse_event(event, None).body_bytes(100)


def test_request_id_falls_back_to_the_lambda_request_id() -> None:
    context = LambdaContext()
    assert request_id_of({}, context) == context.aws_request_id


def test_response_shape_suits_every_event_source() -> None:
    response = build_response(
        200, "{}", content_type="application/json", request_id="r", headers={"Allow": "GET"}
    )
    assert response == {
        "statusCode": 200,
        "headers": {
            "Content-Type": "application/json",
            "X-Request-Id": "r",
            "Cache-Control": "no-store",
            "Allow": "GET",
        },
        "body": "{}",
        "isBase64Encoded": False,
    }


@pytest.mark.parametrize(
    "event",
    [
        {"version": "2.0", "requestContext": {"http": {"method": 3}}},
        {"httpMethod": "GET"},
        {"path": "/health"},
    ],
)
def test_fails_on_events_without_method_and_path(event) -> None:
    with pytest.raises(BadRequest):
        parse_event(event, None)


def test_base64_helper_round_trip() -> None:
    event = http_api_event("POST", "/predict", "[1]", base64_encoded=True)
    assert base64.b64decode(event["body"]) == b"[1]"
