"""The model read from S3 by the standard-library SigV4 GET, against an S3 server on loopback (moto in
server mode; real boto3 only sets the bucket up), with both credential sources Lambda uses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import boto3
import pytest

from lambda_runtime.app import create_app
from lambda_runtime.config import Settings
from lambda_runtime.model import ModelLoadError
from lambda_runtime.store import load_model
from tests.helpers import models
from tests.helpers.apigw_events import JSON_HEADERS, LambdaContext, http_api_event

BUCKET = "cdk-sklearn-assets"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def aws_env(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    # boto3 itself honours AWS_ENDPOINT_URL_S3: the runtime code has no test-only switch.
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return s3_endpoint


@pytest.fixture
def bucket(aws_env: str):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    return s3


@pytest.fixture(scope="module")
def model_bytes() -> bytes:
    return models.dump_bytes(models.scaled_pipeline())


def test_loads_the_model_from_s3_and_serves_it(bucket, model_bytes: bytes) -> None:
    bucket.put_object(Bucket=BUCKET, Key="asset/abc.joblib", Body=model_bytes)
    app = create_app(
        {"MODEL_URI": f"s3://{BUCKET}/asset/abc.joblib", "MODEL_SHA256": models.sha256(model_bytes)}
    )
    response = app.handle(
        http_api_event("POST", "/predict", json.dumps([models.IRIS_ROW]), headers=JSON_HEADERS),
        LambdaContext(),
    )
    assert (response["statusCode"], json.loads(response["body"])) == (200, {"predictions": [0]})


def test_fails_on_a_tampered_object_and_answers_503(bucket, model_bytes: bytes) -> None:
    tampered = model_bytes[:-1] + bytes([model_bytes[-1] ^ 1])
    bucket.put_object(Bucket=BUCKET, Key="asset/tampered.joblib", Body=tampered)
    settings = {
        "MODEL_URI": f"s3://{BUCKET}/asset/tampered.joblib",
        "MODEL_SHA256": models.sha256(model_bytes),
    }
    with pytest.raises(ModelLoadError, match="integrity check"):
        load_model(Settings.from_environ(settings))
    app = create_app(settings)
    for method, path in (("GET", "/health"), ("POST", "/predict")):
        response = app.handle(
            http_api_event(method, path, "[[1,2,3,4]]", headers=JSON_HEADERS), LambdaContext()
        )
        assert response["statusCode"] == 503
        message = json.loads(response["body"])["error"]
        assert "integrity check" in message
        assert BUCKET not in message


def test_fails_retryably_on_a_missing_object(bucket) -> None:
    with pytest.raises(ModelLoadError, match="NoSuchKey") as caught:
        load_model(
            Settings.from_environ({"MODEL_URI": f"s3://{BUCKET}/absent.joblib", "MODEL_SHA256": "0" * 64})
        )
    assert caught.value.retryable


def test_fails_on_an_s3_uri_without_a_key(aws_env: str) -> None:
    with pytest.raises(ModelLoadError, match="s3://bucket/key"):
        load_model(Settings.from_environ({"MODEL_URI": f"s3://{BUCKET}", "MODEL_SHA256": "0" * 64}))


def test_serves_an_onnx_model_from_s3(bucket) -> None:
    from tests.helpers import onnx_models

    _, data = onnx_models.forest()
    bucket.put_object(Bucket=BUCKET, Key="asset/forest.onnx", Body=data)
    app = create_app(
        {
            "MODEL_URI": f"s3://{BUCKET}/asset/forest.onnx",
            "MODEL_SHA256": models.sha256(data),
            "MODEL_FORMAT": "onnx",
        }
    )
    response = app.handle(
        http_api_event("POST", "/predict", json.dumps([models.IRIS_ROW]), headers=JSON_HEADERS),
        LambdaContext(),
    )
    assert (response["statusCode"], json.loads(response["body"])) == (200, {"predictions": [0]})


class _CredentialsEndpoint(BaseHTTPRequestHandler):
    """The container credentials endpoint Lambda runs under SnapStart, on loopback."""

    tokens: ClassVar[list[str | None]] = []

    def do_GET(self) -> None:
        type(self).tokens.append(self.headers.get("Authorization"))
        body = json.dumps(
            {
                "AccessKeyId": "ASIASNAPSTART",
                "SecretAccessKey": "secret",
                "Token": "session",
                "Expiration": "2099-01-01T00:00:00Z",
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_reads_with_container_credentials_as_under_snapstart(
    bucket, model_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket.put_object(Bucket=BUCKET, Key="asset/snap.joblib", Body=model_bytes)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CredentialsEndpoint)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    try:
        # SnapStart functions get no key in the environment, only the endpoint and its token.
        monkeypatch.delenv("AWS_ACCESS_KEY_ID")
        monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
        monkeypatch.setenv(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI", f"http://127.0.0.1:{server.server_address[1]}/creds"
        )
        monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "snap-token")
        model = load_model(
            Settings.from_environ(
                {"MODEL_URI": f"s3://{BUCKET}/asset/snap.joblib", "MODEL_SHA256": models.sha256(model_bytes)}
            )
        )
    finally:
        server.shutdown()
        server.server_close()
    assert model.sha256 == models.sha256(model_bytes)
    assert _CredentialsEndpoint.tokens == ["snap-token"]


def test_the_serving_path_never_imports_boto3(bucket, model_bytes: bytes, aws_env: str) -> None:
    bucket.put_object(Bucket=BUCKET, Key="asset/fresh.joblib", Body=model_bytes)
    env = {
        **os.environ,
        "MODEL_URI": f"s3://{BUCKET}/asset/fresh.joblib",
        "MODEL_SHA256": models.sha256(model_bytes),
    }
    script = (
        "import sys, json\n"
        "from lambda_runtime.handler import handler\n"
        "from tests.helpers.apigw_events import http_api_event, LambdaContext\n"
        "r = handler(http_api_event('GET', '/health'), LambdaContext())\n"
        "aws = sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore'))\n"
        "print(json.dumps([r['statusCode'], aws]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=REPO, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [200, []]
