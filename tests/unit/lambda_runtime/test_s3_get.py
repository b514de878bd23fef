"""The standard-library S3 GET signs exactly as botocore does, and finds credentials as Lambda gives them."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from lambda_runtime import s3_get
from lambda_runtime.s3_get import Credentials, S3GetError, object_url, resolve_credentials, sign_get

NOW = dt.datetime(2026, 11, 30, 9, 45, 7, tzinfo=dt.UTC)
KEYS = [
    Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
    Credentials("ASIAEXAMPLE", "secret/with+chars", "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ"),
]
URLS = [
    "https://cdk-sklearn-assets.s3.eu-west-1.amazonaws.com/asset/abc.onnx",
    "https://s3.us-east-1.amazonaws.com/my.dotted.bucket/a%20b/%C3%A9t%C3%A9%2B1.joblib",
    "http://127.0.0.1:45123/bucket/models/model.onnx",
    "https://example.com:8443/bucket/key~x",
]


@pytest.mark.parametrize("credentials", KEYS)
@pytest.mark.parametrize("url", URLS)
def test_authorization_matches_botocore_byte_for_byte(
    url: str, credentials: Credentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours = sign_get(url, "eu-west-1", credentials, NOW)
    # botocore's own S3 signer, on a request with every header we send except those it adds itself,
    # at the same instant.
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: NOW.replace(tzinfo=None))
    request = AWSRequest(method="GET", url=url, headers={"User-Agent": ours["User-Agent"]})
    boto = BotoCredentials(credentials.access_key, credentials.secret_key, credentials.token)
    S3SigV4Auth(boto, "s3", "eu-west-1").add_auth(request)
    theirs = dict(request.headers.items())
    assert ours["Authorization"] == theirs["Authorization"]
    # Everything botocore would send, we send, with the same values (Host comes from the URL there).
    for name in ("X-Amz-Date", "X-Amz-Content-SHA256", "X-Amz-Security-Token"):
        assert ours.get(name) == theirs.get(name)


def test_endpoints_follow_boto3() -> None:
    env = {"AWS_REGION": "eu-west-1"}
    assert object_url("assets", "a b/c.onnx", env) == "https://assets.s3.eu-west-1.amazonaws.com/a%20b/c.onnx"
    assert object_url("a.b", "k", env) == "https://s3.eu-west-1.amazonaws.com/a.b/k"
    assert (
        object_url("bkt", "k", {"AWS_REGION": "cn-north-1"}) == "https://bkt.s3.cn-north-1.amazonaws.com.cn/k"
    )
    custom = {**env, "AWS_ENDPOINT_URL": "http://127.0.0.1:9000/"}
    assert object_url("b", "k", custom) == "http://127.0.0.1:9000/b/k"
    assert object_url("b", "k", {**custom, "AWS_ENDPOINT_URL_S3": "http://s3.local"}) == "http://s3.local/b/k"
    ignored = {**custom, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}
    assert object_url("bkt", "k", ignored) == "https://bkt.s3.eu-west-1.amazonaws.com/k"


class _Endpoint(BaseHTTPRequestHandler):
    """Answers with the scripted (status, body) list, recording the requests' headers."""

    script: ClassVar[list[tuple[int, bytes]]] = []
    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        type(self).seen.append({k.lower(): v for k, v in self.headers.items()} | {"path": self.path})
        status, body = type(self).script.pop(0) if type(self).script else (500, b"")
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[tuple[str, type[_Endpoint]]]:
    handler = type("Handler", (_Endpoint,), {"script": [], "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


CREDENTIALS_JSON = json.dumps(
    {
        "AccessKeyId": "ASIACONTAINER",
        "SecretAccessKey": "s3cr3t",
        "Token": "tok",
        "Expiration": "2026-12-01T00:00:00Z",
    }
).encode()


def test_container_credentials_with_a_token(endpoint: tuple[str, type[_Endpoint]]) -> None:
    url, handler = endpoint
    handler.script = [(200, CREDENTIALS_JSON)]
    env = {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"{url}/2021-04-23/credentials",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer abc",
    }
    assert resolve_credentials(env) == Credentials("ASIACONTAINER", "s3cr3t", "tok")
    assert handler.seen[0]["authorization"] == "Bearer abc"
    assert handler.seen[0]["path"] == "/2021-04-23/credentials"


def test_container_credentials_with_a_token_file(
    endpoint: tuple[str, type[_Endpoint]], tmp_path: Path
) -> None:
    url, handler = endpoint
    handler.script = [(503, b""), (200, CREDENTIALS_JSON)]  # retried
    token = tmp_path / "token"
    token.write_text("file-token\n")
    env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": url, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token)}
    assert resolve_credentials(env).access_key == "ASIACONTAINER"
    assert [seen["authorization"] for seen in handler.seen] == ["file-token", "file-token"]


def test_environment_credentials_win_and_none_is_an_error() -> None:
    env = {
        "AWS_ACCESS_KEY_ID": "A",
        "AWS_SECRET_ACCESS_KEY": "S",
        "AWS_SESSION_TOKEN": "T",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:1",
    }
    assert resolve_credentials(env) == Credentials("A", "S", "T")
    with pytest.raises(S3GetError, match="no AWS credentials") as caught:
        resolve_credentials({})
    assert not caught.value.retryable


ENV = {"AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "S", "AWS_REGION": "us-east-1"}


def test_retries_5xx_and_hashes_the_body(endpoint: tuple[str, type[_Endpoint]]) -> None:
    url, handler = endpoint
    handler.script = [(503, b"<Error><Code>SlowDown</Code></Error>"), (500, b""), (200, b"model bytes")]
    data, digest = s3_get.get_object("bucket", "k", {**ENV, "AWS_ENDPOINT_URL_S3": url}, sleep=lambda _: None)
    assert data == b"model bytes"
    assert digest == __import__("hashlib").sha256(b"model bytes").hexdigest()
    assert len(handler.seen) == 3
    assert handler.seen[0]["path"] == "/bucket/k"
    assert handler.seen[0]["x-amz-content-sha256"] == s3_get.EMPTY_SHA256


def test_does_not_retry_what_s3_will_repeat(endpoint: tuple[str, type[_Endpoint]]) -> None:
    url, handler = endpoint
    handler.script = [(404, b"<Error><Code>NoSuchKey</Code></Error>")]
    with pytest.raises(S3GetError) as caught:
        s3_get.get_object("bucket", "k", {**ENV, "AWS_ENDPOINT_URL_S3": url}, sleep=lambda _: None)
    assert (caught.value.code, caught.value.retryable, len(handler.seen)) == ("NoSuchKey", False, 1)


def test_gives_up_after_the_last_attempt_on_connection_errors() -> None:
    env = {**ENV, "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9"}  # discard port: connection refused
    with pytest.raises(S3GetError) as caught:
        s3_get.get_object("bucket", "k", env, sleep=lambda _: None)
    assert caught.value.retryable


def test_only_the_contracts_entry_points_import_boto3() -> None:
    import ast

    from lambda_runtime import contract

    package = Path(__file__).resolve().parents[3] / "lambda_runtime"
    importers = set()
    for source in package.rglob("*.py"):
        module = ".".join(source.relative_to(package.parent).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(source.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            if any(name.split(".")[0] in ("boto3", "botocore") for name in names):
                importers.add(module)
    assert importers, "no module imports boto3: the check would pass whatever the contract says"
    assert importers <= set(contract.BOTO3_ENTRY_POINTS)


class _Misbehaving(BaseHTTPRequestHandler):
    """A 200 whose headers and body misbehave as ``mode`` says."""

    mode: ClassVar[str] = ""
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        self.send_response(200)
        body = b"0123456789" * 10
        mode = type(self).mode
        if mode == "superscript-length":
            self.send_header("Content-Length", "\u00b2")
        elif mode == "no-length":
            self.send_header("Connection", "close")
        elif mode == "huge-length":
            self.send_header("Content-Length", str(1 << 40))
        elif mode in ("truncated", "trickle", "whole"):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "trickle":
            for byte in body:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.2)
        elif mode in ("truncated", "huge-length"):
            self.wfile.write(body[:37])
        else:
            self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def misbehaving() -> Iterator[tuple[str, type[_Misbehaving]]]:
    handler = type("Handler", (_Misbehaving,), {"mode": "", "requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("mode", "code"),
    [
        ("superscript-length", "BadContentLength"),
        ("no-length", "BadContentLength"),
        ("truncated", "IncompleteRead"),
        ("huge-length", "TooLarge"),
    ],
)
def test_fails_cleanly_on_a_misbehaving_response(misbehaving, mode: str, code: str) -> None:
    url, handler = misbehaving
    handler.mode = mode
    with pytest.raises(S3GetError) as caught:
        s3_get.get_object("bucket", "k", {**ENV, "AWS_ENDPOINT_URL_S3": url}, sleep=lambda _: None)
    assert caught.value.code == code


def test_deadline_holds_while_the_body_trickles_in(misbehaving, monkeypatch: pytest.MonkeyPatch) -> None:
    # One byte every 0.2 s: each read is far within the socket timeout, the whole body is not.
    url, handler = misbehaving
    handler.mode = "trickle"
    monkeypatch.setattr(s3_get, "DEADLINE_SECONDS", 1.0)
    started = time.monotonic()
    with pytest.raises(S3GetError) as caught:
        s3_get.get_object("bucket", "k", {**ENV, "AWS_ENDPOINT_URL_S3": url}, sleep=lambda _: None)
    assert caught.value.code == "Timeout"
    assert time.monotonic() - started < 2.5
    assert len(handler.requests) == 1  # past the deadline nothing is retried


def test_reads_a_well_formed_body_whole(misbehaving) -> None:
    url, handler = misbehaving
    handler.mode = "whole"
    data, digest = s3_get.get_object("bucket", "k", {**ENV, "AWS_ENDPOINT_URL_S3": url}, sleep=lambda _: None)
    assert data == b"0123456789" * 10
    assert digest == hashlib.sha256(data).hexdigest()


def test_relative_uri_comes_before_the_full_uri(endpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    # botocore's ContainerProvider reads the relative URI (on 169.254.170.2) first; point that host at
    # the loopback endpoint to see which one was asked.
    url, handler = endpoint
    handler.script = [(200, CREDENTIALS_JSON)]
    monkeypatch.setattr(s3_get, "_CONTAINER_HOST", url.removeprefix("http://"))
    env = {
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/relative",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"{url}/full",
    }
    assert resolve_credentials(env).access_key == "ASIACONTAINER"
    assert [seen["path"] for seen in handler.seen] == ["/v2/credentials/relative"]


@pytest.mark.parametrize(
    "uri",
    [
        "http://169.254.169.254/latest/meta-data/",  # instance metadata: not a container host
        "http://example.com/credentials",
        "http://10.0.0.1:8080/credentials",
        "ftp://127.0.0.1/credentials",
    ],
)
def test_fails_on_a_full_uri_botocore_refuses(uri: str) -> None:
    with pytest.raises(S3GetError, match="is not allowed") as caught:
        resolve_credentials(
            {"AWS_CONTAINER_CREDENTIALS_FULL_URI": uri, "AWS_CONTAINER_AUTHORIZATION_TOKEN": "t"}
        )
    assert not caught.value.retryable


@pytest.mark.parametrize(
    "uri",
    [
        "http://localhost:1/creds",
        "http://127.0.0.2:1/creds",
        "http://[::1]:1/creds",
        "http://169.254.170.23/creds",
        "https://credentials.example.com/creds",
    ],
)
def test_full_uri_hosts_botocore_allows(uri: str) -> None:
    s3_get._check_container_uri(uri)  # no exception: refused hosts are tested above


@pytest.mark.parametrize("token", ["abc\r\nX-Injected: 1", "abc\n"])
def test_fails_on_a_token_with_a_line_break(endpoint, token: str) -> None:
    url, handler = endpoint
    env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": f"{url}/c", "AWS_CONTAINER_AUTHORIZATION_TOKEN": token}
    with pytest.raises(S3GetError, match="line break"):
        resolve_credentials(env)
    assert handler.seen == []  # refused before any request


def test_the_token_file_wins_over_the_token(endpoint, tmp_path: Path) -> None:
    url, handler = endpoint
    handler.script = [(200, CREDENTIALS_JSON)]
    token_file = tmp_path / "token"
    token_file.write_text("from-the-file")
    env = {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"{url}/c",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "from-the-variable",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token_file),
    }
    resolve_credentials(env)
    assert handler.seen[0]["authorization"] == "from-the-file"


@pytest.mark.parametrize("region", ["eu-west-1.evil.example", "us-east-1/", "", "a" * 70, "eu west"])
def test_fails_on_a_region_that_is_not_a_region_name(region: str) -> None:
    env = {**ENV, "AWS_REGION": region} if region else {**ENV, "AWS_REGION": "", "AWS_DEFAULT_REGION": "-x"}
    with pytest.raises(S3GetError) as caught:
        s3_get.get_object("bucket", "k", env, sleep=lambda _: None)
    assert caught.value.code == "InvalidRegion"


def test_fails_on_a_relative_uri_that_moves_the_host() -> None:
    # botocore checks the URL as built: "169.254.170.2" + ".evil.example/x" is another host.
    env = {
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": ".attacker.example/creds",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "t",
    }
    with pytest.raises(S3GetError, match="is not allowed") as caught:
        resolve_credentials(env)
    assert not caught.value.retryable


class _TrickleCredentials(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(CREDENTIALS_JSON)))
        self.end_headers()
        for byte in CREDENTIALS_JSON:
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(0.3)

    def log_message(self, *args: Any) -> None:
        pass


def test_deadline_holds_while_credentials_trickle_in() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TrickleCredentials)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    try:
        env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": f"http://127.0.0.1:{server.server_address[1]}/c"}
        started = time.monotonic()
        with pytest.raises(S3GetError, match="gave no credentials"):
            resolve_credentials(env, deadline=time.monotonic() + 1.0)
        assert time.monotonic() - started < 2.5
    finally:
        server.shutdown()
        server.server_close()


def test_fails_on_a_body_larger_than_the_functions_memory(misbehaving) -> None:
    url, handler = misbehaving
    handler.mode = "whole"  # 100 bytes declared; the function below has less than that
    env = {**ENV, "AWS_ENDPOINT_URL_S3": url, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "0"}
    with pytest.raises(S3GetError) as caught:
        s3_get.get_object("bucket", "k", env, sleep=lambda _: None)
    assert (caught.value.code, caught.value.retryable) == ("TooLarge", False)
