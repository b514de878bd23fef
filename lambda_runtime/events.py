"""Turn Lambda proxy events into one :class:`Request` shape, and responses back into dicts.

Three event sources reach the handler, each shaped as AWS documents it:

* API Gateway HTTP API, payload format 2.0 (``version: "2.0"``, ``rawPath``, ``requestContext.http``);
* API Gateway REST API (and HTTP API with payload format 1.0): ``httpMethod``, ``path``,
  ``multiValueHeaders``;
* Lambda Function URLs, which send the 2.0 shape.

Header names are case-insensitive in HTTP; HTTP APIs lower-case them but REST APIs keep the client's
case, so they are lower-cased here once.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import BadRequest, PayloadTooLarge

_MAX_ID_CHARS = 128
_UNSAFE_ID_CHARS = re.compile(r"[^\x21-\x7e]")


@dataclass(frozen=True)
class Request:
    """The parts of an HTTP request the routes need, independent of the event source.

    Attributes
    ----------
    method
        Upper-case HTTP verb.
    path
        The request path as sent (may start with the stage name on non-default HTTP API stages).
    stage
        The API Gateway stage, or ``None`` for ``$default`` and Function URLs.
    headers
        Header values keyed by lower-case name.
    query
        Query-string parameters (last value wins for repeated keys).
    body
        The body as sent in the event (base64 text when ``is_base64`` is true).
    is_base64
        Whether the event carried the body base64-encoded.
    request_id
        API Gateway's request id when present, otherwise the Lambda request id.
    source
        ``"http-api-2.0"``, ``"function-url"`` or ``"api-gateway-1.0"``.
    """

    method: str
    path: str
    stage: str | None
    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: str | None
    is_base64: bool
    request_id: str
    source: str

    def body_bytes(self, limit: int) -> bytes:
        """Return the decoded body, refusing (413) anything over ``limit`` bytes.

        Raises
        ------
        PayloadTooLarge
            The decoded body is larger than ``limit``.
        BadRequest
            The body is flagged base64 but is not valid base64, or is not encodable text.
        """
        raw = self.body or ""
        if self.is_base64:
            # Check the encoded size first so a huge body is refused before it is decoded.
            if (len(raw) // 4) * 3 > limit + 3:
                raise _too_large(len(raw) // 4 * 3, limit)
            try:
                data = base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError):
                raise BadRequest(
                    "the event says the body is base64-encoded (isBase64Encoded: true) but it is not valid "
                    "base64; send the body as plain text or encode it correctly"
                ) from None
        else:
            if len(raw) > limit:
                raise _too_large(len(raw), limit)
            try:
                data = raw.encode("utf-8")
            except UnicodeEncodeError:
                raise BadRequest("the body is not valid UTF-8 text; send UTF-8 encoded JSON or CSV") from None
        if len(data) > limit:
            raise _too_large(len(data), limit)
        return data


def _too_large(size: int, limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the request body is about {size} bytes, over the limit of {limit} bytes (MAX_BODY_BYTES); "
        "split the rows over several requests"
    )


def parse_event(event: Any, context: Any) -> Request:
    """Normalise an API Gateway or Function URL event.

    Raises
    ------
    BadRequest
        ``event`` is not an HTTP proxy event (for example a direct test invocation with ``{}``).
    """
    if not isinstance(event, Mapping):
        raise _not_http(event)
    ctx = event.get("requestContext")
    ctx = ctx if isinstance(ctx, Mapping) else {}
    request_id = request_id_of(event, context)
    stage = _text(ctx.get("stage"))
    if stage == "$default":
        stage = None

    http = ctx.get("http")
    if event.get("version") == "2.0" or isinstance(http, Mapping):
        http = http if isinstance(http, Mapping) else {}
        method = _text(http.get("method"))
        path = _text(event.get("rawPath")) or _text(http.get("path"))
        domain = _text(ctx.get("domainName")) or ""
        source = "function-url" if ".lambda-url." in domain else "http-api-2.0"
        headers = _headers(event.get("headers"), None)
    else:
        method = _text(event.get("httpMethod"))
        path = _text(event.get("path"))
        source = "api-gateway-1.0"
        headers = _headers(event.get("headers"), event.get("multiValueHeaders"))
    if not method or not path:
        raise _not_http(event)

    return Request(
        method=method.upper(),
        path=path,
        stage=stage,
        headers=headers,
        query=_query(event.get("queryStringParameters")),
        body=event.get("body") if isinstance(event.get("body"), str) else None,
        is_base64=event.get("isBase64Encoded") is True,
        request_id=request_id,
        source=source,
    )


def request_id_of(event: Any, context: Any) -> str:
    """API Gateway's request id if the event has one, else the Lambda request id, else a new one."""
    ctx = event.get("requestContext") if isinstance(event, Mapping) else None
    found = _text(ctx.get("requestId")) if isinstance(ctx, Mapping) else None
    found = found or _text(getattr(context, "aws_request_id", None)) or ""
    # The id is echoed in a response header: keep visible ASCII only, so it can never split a header.
    found = _UNSAFE_ID_CHARS.sub("", found)[:_MAX_ID_CHARS]
    return found or uuid.uuid4().hex


def _not_http(event: Any) -> BadRequest:
    return BadRequest(
        "this function answers HTTP requests from API Gateway (REST or HTTP API) or a Lambda Function URL; "
        f"the event received ({type(event).__name__}) has no HTTP method and path. Invoke it through the "
        "API, or send an API Gateway proxy event"
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _headers(single: Any, multi: Any) -> dict[str, str]:
    headers: dict[str, str] = {}
    if isinstance(multi, Mapping):
        for name, values in multi.items():
            if isinstance(name, str) and isinstance(values, list):
                headers[name.lower()] = ",".join(v for v in values if isinstance(v, str))
    if isinstance(single, Mapping):
        for name, value in single.items():
            if isinstance(name, str) and isinstance(value, str):
                headers[name.lower()] = value
    return headers


def _query(params: Any) -> dict[str, str]:
    if not isinstance(params, Mapping):
        return {}
    return {k: v for k, v in params.items() if isinstance(k, str) and isinstance(v, str)}


def build_response(
    status: int,
    body: str | bytes,
    *,
    content_type: str,
    request_id: str,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Return a proxy response valid for REST APIs, HTTP APIs (1.0 and 2.0) and Function URLs.

    A ``bytes`` body (binary tensors) is sent base64-encoded with ``isBase64Encoded: true``: HTTP APIs
    and Function URLs decode it; a REST API does when the content type is one of its binary media types.
    """
    all_headers = {
        "Content-Type": content_type,
        "X-Request-Id": request_id,
        # Predictions are per request; no cache in between should keep them.
        "Cache-Control": "no-store",
    }
    if headers:
        all_headers.update(headers)
    if isinstance(body, bytes):
        return {
            "statusCode": status,
            "headers": all_headers,
            "body": base64.b64encode(body).decode("ascii"),
            "isBase64Encoded": True,
        }
    return {"statusCode": status, "headers": all_headers, "body": body, "isBase64Encoded": False}
