"""The local server: HTTP requests become HTTP API 2.0 events for the real handler."""

from __future__ import annotations

import base64
import http.client
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from cdk_sklearn.cli.local_server import LocalServer, build_event, is_text, parse_response
from lambda_runtime.app import App
from tests.helpers import models


def test_build_event_has_the_http_api_2_0_shape() -> None:
    event = build_event(
        "post",
        "/predict?method=predict_proba&x=1&x=2",
        [("Content-Type", "application/json"), ("X-Multi", "a"), ("X-Multi", "b"), ("Cookie", "a=1; b=2")],
        b"[1]",
        source_ip="10.0.0.1",
        host="localhost:8080",
        now=1_700_000_000.0,
    )
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/predict"
    assert event["rawQueryString"] == "method=predict_proba&x=1&x=2"
    assert event["queryStringParameters"] == {"method": "predict_proba", "x": "1,2"}
    assert event["headers"] == {"content-type": "application/json", "x-multi": "a,b"}
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["body"] == "[1]" and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["http"] == {
        "method": "POST",
        "path": "/predict",
        "protocol": "HTTP/1.1",
        "sourceIp": "10.0.0.1",
        "userAgent": "",
    }
    assert context["stage"] == "$default"
    assert context["timeEpoch"] == 1_700_000_000_000
    assert context["time"] == "14/Nov/2023:22:13:20 +0000"
    assert context["requestId"]


def test_build_event_base64_encodes_binary_bodies() -> None:
    event = build_event("POST", "/predict", [("Content-Type", "application/octet-stream")], b"\x00\xff")
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\x00\xff"


def test_build_event_omits_absent_body_and_query() -> None:
    event = build_event("GET", "/health", [], b"")
    assert "body" not in event and "queryStringParameters" not in event


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("application/json", True),
        ("text/csv", True),
        ("application/x-www-form-urlencoded", False),
        (None, False),
        ("application/vnd.api+json", True),
    ],
)
def test_is_text(kind, text) -> None:
    assert is_text(kind) is text


def test_parse_response_decodes_base64_and_cookies() -> None:
    status, headers, body = parse_response(
        {
            "statusCode": 201,
            "headers": {"A": "1"},
            "body": base64.b64encode(b"hi").decode(),
            "isBase64Encoded": True,
            "cookies": ["c=1"],
        }
    )
    assert (status, body) == (201, b"hi")
    assert headers == [("A", "1"), ("Set-Cookie", "c=1")]


def test_parse_response_infers_a_json_200_from_other_values() -> None:
    assert parse_response({"a": 1}) == (200, [("Content-Type", "application/json")], b'{"a": 1}')


def test_fails_parse_response_on_header_injection_with_a_502() -> None:
    assert parse_response({"statusCode": 200, "headers": {"X": "a\r\nB: c"}, "body": ""})[0] == 502


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    path: Path = tmp_path_factory.mktemp("serve") / "iris.joblib"
    models.save(models.scaled_pipeline(), path)
    app, _ = models.app_for(path)
    server = LocalServer(("127.0.0.1", 0), app.handle, quiet=True)
    server.start_in_thread()
    yield server
    server.shutdown()
    server.server_close()


def request(server: LocalServer, method: str, path: str, body: bytes | None = None, headers=None):
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(str(host), port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_serves_health(server: LocalServer) -> None:
    status, headers, body = request(server, "GET", "/health")
    assert status == 200
    assert json.loads(body)["status"] == "ok"
    assert headers["X-Request-Id"]


def test_serves_predictions(server: LocalServer) -> None:
    status, _, body = request(
        server,
        "POST",
        "/predict?method=predict_proba",
        json.dumps([models.IRIS_ROW]).encode(),
        {"Content-Type": "application/json"},
    )
    assert status == 200
    assert json.loads(body)["classes"] == [0, 1, 2]


def test_serves_csv(server: LocalServer) -> None:
    status, headers, body = request(
        server,
        "POST",
        "/predict",
        b"5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3",
        {"Content-Type": "text/csv", "Accept": "text/csv"},
    )
    assert (status, body) == (200, b"0\n2\n")
    assert headers["Content-Type"].startswith("text/csv")


def test_passes_handler_errors_through(server: LocalServer) -> None:
    status, headers, _body = request(server, "DELETE", "/predict")
    assert status == 405
    assert headers["Allow"] == "POST"


def test_fails_with_413_over_lambdas_payload_limit_without_reading_it(server: LocalServer) -> None:
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(str(host), port, timeout=10)
    try:
        connection.putrequest("POST", "/predict")
        connection.putheader("Content-Length", str(7 * 1024 * 1024))
        connection.endheaders()
        assert connection.getresponse().status == 413
    finally:
        connection.close()


def test_keeps_connections_alive(server: LocalServer) -> None:
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(str(host), port, timeout=10)
    try:
        for _ in range(3):
            connection.request("GET", "/v2/health/live")
            assert connection.getresponse().read() == b'{"live":true}'
    finally:
        connection.close()


def test_the_app_behind_the_server_is_a_real_app(server: LocalServer) -> None:
    assert isinstance(server.lambda_handler.__self__, App)  # type: ignore[attr-defined]


def test_the_context_reports_the_servers_memory_size() -> None:
    def memory(event: dict[str, object], context: object) -> object:
        return {"memory": context.memory_limit_in_mb}

    server = LocalServer(("127.0.0.1", 0), memory, quiet=True, memory_mb=3008)
    server.start_in_thread()
    try:
        status, _, body = request(server, "GET", "/")
    finally:
        server.shutdown()
        server.server_close()
    assert (status, json.loads(body)) == (200, {"memory": 3008})
