"""Signed calls: botocore's SigV4 header byte for byte, every contract route, answers judged."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import urlsplit

import botocore.auth
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

from devtools.awsproof.calls import (
    EXPECTATIONS,
    ModelUnderTest,
    SignedCaller,
    call_every_route,
    call_unsigned,
    sign,
    signing_service,
    urllib_transport,
)
from lambda_runtime.contract import ROUTES
from tests.unit.devtools.awsproof.fakes import FakeClock

FROZEN = dt.datetime(2026, 11, 30, 9, 45, 12)
CREDENTIALS = ReadOnlyCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token")
HTTP_API = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/predict"
FUNCTION_URL = "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws/v2/models/iris/infer"
BODY = json.dumps({"instances": [[5.1, 3.5, 1.4, 0.2]]}).encode()
HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


def botocore_headers(monkeypatch, method, url, body, service, region):
    """What botocore's own SigV4Auth.add_auth produces with its clock frozen at FROZEN."""
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: FROZEN)
    request = AWSRequest(method=method, url=url, data=body, headers=dict(HEADERS))
    SigV4Auth(CREDENTIALS, service, region).add_auth(request)
    return dict(request.headers.items())


def test_execute_api_signature_equals_botocores(monkeypatch):
    ours = sign("POST", HTTP_API, BODY, HEADERS, CREDENTIALS, FROZEN)
    assert ours == botocore_headers(monkeypatch, "POST", HTTP_API, BODY, "execute-api", "eu-west-1")


def test_function_url_signature_equals_botocores(monkeypatch):
    ours = sign("POST", FUNCTION_URL, BODY, HEADERS, CREDENTIALS, FROZEN)
    assert ours == botocore_headers(monkeypatch, "POST", FUNCTION_URL, BODY, "lambda", "eu-west-1")


def test_get_without_body_signature_equals_botocores(monkeypatch):
    url = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod/v2/health/ready"
    ours = sign("GET", url, b"", HEADERS, CREDENTIALS, FROZEN)
    assert ours == botocore_headers(monkeypatch, "GET", url, b"", "execute-api", "eu-west-1")


def test_signature_names_the_scope_of_the_signing_time():
    headers = sign("POST", HTTP_API, BODY, HEADERS, CREDENTIALS, FROZEN)
    assert headers["Authorization"].startswith(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261130/eu-west-1/execute-api/aws4_request"
    )


def test_signature_changes_with_the_time():
    later = FROZEN + dt.timedelta(seconds=1)
    first = sign("POST", HTTP_API, BODY, HEADERS, CREDENTIALS, FROZEN)["Authorization"]
    assert first != sign("POST", HTTP_API, BODY, HEADERS, CREDENTIALS, later)["Authorization"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (HTTP_API, ("execute-api", "eu-west-1")),
        ("https://xyz123.execute-api.us-east-1.amazonaws.com/prod/", ("execute-api", "us-east-1")),
        (FUNCTION_URL, ("lambda", "eu-west-1")),
    ],
)
def test_signing_service_of_each_front_door(url, expected):
    assert signing_service(url) == expected


def test_fails_to_sign_for_a_host_that_is_no_front_door():
    with pytest.raises(ValueError, match="neither an API Gateway nor a Lambda Function URL"):
        signing_service("https://example.com/predict")


def test_every_contract_route_has_an_expectation():
    assert set(EXPECTATIONS) == {route.name for route in ROUTES}


# -- through a local server -------------------------------------------------------------------------

MODEL = ModelUnderTest("iris-dev-ap1", ((5.1, 3.5, 1.4, 0.2), (6.7, 3.0, 5.2, 2.3)), (0, 2), "ab" * 32)


class _Endpoint(BaseHTTPRequestHandler):
    """Answers the contract's routes as the runtime would, for MODEL; records what it was sent."""

    predictions: ClassVar[list[int]] = [0, 2]
    status: int = 200
    refuse_unsigned: bool = True
    seen: ClassVar[list[tuple[str, str, str]]] = []

    def log_message(self, *args):  # quiet
        pass

    def _answer(self, document):
        body = json.dumps(document).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        type(self).seen.append(("GET", self.path, self.headers.get("Authorization", "")))
        if self.refuse_unsigned and "Authorization" not in self.headers:
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path = urlsplit(self.path).path
        if path in ("/health", "/metadata"):
            self._answer({"status": "ok", "sha256": MODEL.sha256})
        elif path == f"/v2/models/{MODEL.model_name}":
            self._answer({"name": MODEL.model_name})
        else:
            self._answer({"live": True})

    def do_POST(self):
        document = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append(("POST", self.path, self.headers.get("Authorization", "")))
        if self.path == "/predict":
            assert len(document["instances"]) == 2
            self._answer({"predictions": self.predictions})
        else:
            assert document["inputs"][0]["shape"] == [2, 4]
            self._answer({"outputs": [{"name": "predict", "data": self.predictions}]})


@pytest.fixture
def server():
    handler = type("Handler", (_Endpoint,), {"seen": [], "predictions": [0, 2], "status": 200})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield handler, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def caller():
    return SignedCaller(
        lambda: CREDENTIALS, FakeClock(), urllib_transport, service="execute-api", region="eu-west-1"
    )


def test_every_route_and_verb_is_called(server):
    handler, url = server
    call_every_route(url, MODEL, caller(), FakeClock())
    assert len(handler.seen) == sum(len(route.verbs) for route in ROUTES)


def test_every_call_is_signed(server):
    handler, url = server
    call_every_route(url, MODEL, caller(), FakeClock())
    assert all(auth.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") for _, _, auth in handler.seen)


def test_matching_answers_pass(server):
    _, url = server
    assert all(result.passed for result in call_every_route(url, MODEL, caller(), FakeClock()))


def test_fails_when_predictions_differ_from_scikit_learns(server):
    handler, url = server
    handler.predictions = [1, 1]
    failed = {r.route: r.detail for r in call_every_route(url, MODEL, caller(), FakeClock()) if not r.passed}
    assert set(failed) == {"predict", "v2_infer"}


def test_fails_when_the_endpoint_answers_503(server):
    handler, url = server
    handler.status = 503
    results = call_every_route(url, MODEL, caller(), FakeClock())
    assert not any(r.passed for r in results) and results[0].detail.startswith("HTTP 503")


def test_an_unsigned_request_refused_with_403_passes(server):
    _, url = server
    assert call_unsigned(url, MODEL, urllib_transport, FakeClock()).passed


def test_fails_when_an_unsigned_request_is_answered(server):
    handler, url = server
    handler.refuse_unsigned = False
    result = call_unsigned(url, MODEL, urllib_transport, FakeClock())
    assert not result.passed and "IAM auth is off" in result.detail
