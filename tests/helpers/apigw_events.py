"""Events shaped as AWS documents them for Lambda proxy integrations, and a small Lambda context.

* HTTP API payload format 2.0:
  https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
* REST API proxy integration (payload format 1.0):
  https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
* Lambda Function URLs (the 2.0 shape, domain ``<url-id>.lambda-url.<region>.on.aws``):
  https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html
"""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any
from urllib.parse import urlencode

JSON_HEADERS = {"content-type": "application/json"}


class LambdaContext:
    """The attributes and method of the context object the Python runtime passes to handlers."""

    def __init__(self, function_name: str = "sklearn-endpoint", timeout_ms: int = 10_000) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self.function_name = function_name
        self.function_version = "1"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}:live"
        self.memory_limit_in_mb = 1024
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "2026/01/01/[1]0123456789abcdef"
        self._deadline = time.monotonic() + timeout_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _body(body: str | bytes | None, base64_encoded: bool) -> tuple[str | None, bool]:
    if body is None:
        return None, False
    raw = body.encode() if isinstance(body, str) else body
    if base64_encoded or isinstance(body, bytes):
        return base64.b64encode(raw).decode("ascii"), True
    return body, False


def http_api_event(
    method: str,
    path: str,
    body: str | bytes | None = None,
    *,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    base64_encoded: bool = False,
    stage: str = "$default",
    domain: str = "r3pmxmplak.execute-api.us-east-1.amazonaws.com",
    request_id: str = "JKJaXmPLvHcESHA=",
) -> dict[str, Any]:
    """An API Gateway HTTP API event, payload format 2.0 (header names lower-cased, as AWS sends them)."""
    raw_path = path if stage == "$default" else f"/{stage}{path}"
    encoded, is_b64 = _body(body, base64_encoded)
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": urlencode(query or {}),
        "headers": {
            "accept": "*/*",
            "host": domain,
            "user-agent": "curl/8.5.0",
            "x-forwarded-for": "203.0.113.10",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
            **{k.lower(): v for k, v in (headers or {}).items()},
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": domain.split(".", 1)[0],
            "domainName": domain,
            "domainPrefix": domain.split(".", 1)[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": "curl/8.5.0",
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": stage,
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": is_b64,
    }
    if query:
        event["queryStringParameters"] = dict(query)
    if encoded is not None:
        event["body"] = encoded
    return event


def function_url_event(
    method: str,
    path: str,
    body: str | bytes | None = None,
    *,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    base64_encoded: bool = False,
) -> dict[str, Any]:
    """A Lambda Function URL event: the 2.0 shape with the lambda-url domain (auth type NONE)."""
    return http_api_event(
        method,
        path,
        body,
        headers=headers,
        query=query,
        base64_encoded=base64_encoded,
        domain="a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6.lambda-url.us-east-1.on.aws",
        request_id="c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    )


def rest_api_event(
    method: str,
    path: str,
    body: str | bytes | None = None,
    *,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    base64_encoded: bool = False,
    stage: str = "prod",
) -> dict[str, Any]:
    """An API Gateway REST API proxy event (payload 1.0): header case kept as the client sent it."""
    sent = {
        "Accept": "*/*",
        "Host": "1234567890.execute-api.us-east-1.amazonaws.com",
        "User-Agent": "curl/8.5.0",
        "X-Forwarded-For": "203.0.113.10",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
        **(headers or {}),
    }
    encoded, is_b64 = _body(body, base64_encoded)
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": sent,
        "multiValueHeaders": {k: [v] for k, v in sent.items()},
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "1234567890",
            "domainName": "1234567890.execute-api.us-east-1.amazonaws.com",
            "httpMethod": method,
            "path": f"/{stage}{path}",
            "protocol": "HTTP/1.1",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "requestTimeEpoch": int(time.time() * 1000),
            "resourceId": "123456",
            "resourcePath": "/{proxy+}",
            "stage": stage,
            "identity": {"sourceIp": "203.0.113.10", "userAgent": "curl/8.5.0"},
        },
        "body": encoded,
        "isBase64Encoded": is_b64,
    }
