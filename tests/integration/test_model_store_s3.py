"""The model read from S3 with real boto3, against an S3 server on loopback (moto in server mode)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer

from lambda_runtime.app import create_app
from lambda_runtime.config import Settings
from lambda_runtime.model_store import ModelLoadError, load_model
from tests.helpers import models
from tests.helpers.apigw_events import JSON_HEADERS, LambdaContext, http_api_event

BUCKET = "cdk-sklearn-assets"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


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
