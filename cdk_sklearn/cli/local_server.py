"""Serve a Lambda proxy handler over plain HTTP on this machine, the way API Gateway would call it.

Each HTTP request becomes an API Gateway HTTP API event (payload format 2.0, shaped as AWS documents
it, including ``requestContext``), the handler's response dict becomes the HTTP response. The same
handler code that runs in Lambda answers, so ``cdk-sklearn serve`` exercises the real function.

Only the standard library is used (:class:`http.server.ThreadingHTTPServer`).
"""

from __future__ import annotations

import base64
import json
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

LambdaHandler = Callable[[dict[str, Any], Any], Any]
"""A Lambda handler: ``(event, context) -> response``."""

MAX_EVENT_BODY_BYTES = 6 * 1024 * 1024
"""Lambda refuses synchronous payloads over 6 MB; API Gateway then answers 413. Mirror that."""

_TEXT_TYPES = ("application/json", "application/xml", "application/javascript", "text/")
_API_ID = "local"


class LocalContext:
    """The parts of the Lambda context object a handler commonly reads."""

    def __init__(self, timeout_seconds: float = 30.0, memory_mb: int = 1024) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self.function_name = "cdk-sklearn-local"
        self.function_version = "$LATEST"
        self.invoked_function_arn = "arn:aws:lambda:local:000000000000:function:cdk-sklearn-local"
        self.memory_limit_in_mb = memory_mb
        self.log_group_name = "/aws/lambda/cdk-sklearn-local"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the (simulated) function timeout."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def is_text(content_type: str | None) -> bool:
    """Whether API Gateway would pass a body of this type as text rather than base64."""
    if not content_type:
        return False
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind.startswith(_TEXT_TYPES) or kind.endswith(("+json", "+xml"))


def build_event(
    method: str,
    target: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    *,
    source_ip: str = "127.0.0.1",
    host: str = "localhost",
    now: float | None = None,
) -> dict[str, Any]:
    """Build an HTTP API payload-2.0 event for one HTTP request.

    Parameters
    ----------
    method
        HTTP verb.
    target
        The request target: path plus optional ``?query``.
    headers
        Header name/value pairs as received (repeated names are joined with commas, as API Gateway does;
        ``Cookie`` headers move to ``cookies``).
    body
        The raw body; sent as text when its Content-Type is textual, else base64.
    source_ip, host
        Client address and the Host the request was sent to.
    now
        Request time (epoch seconds); the current time when ``None``.
    """
    now = time.time() if now is None else now
    parts = urlsplit(target)
    path = parts.path or "/"
    pairs = [(name.lower(), value) for name, value in headers]
    joined = _joined((key, value) for key, value in pairs if key != "cookie")
    cookies = [c.strip() for key, value in pairs if key == "cookie" for c in value.split(";") if c.strip()]
    query = _joined(parse_qsl(parts.query, keep_blank_values=True))
    http = {
        "method": method.upper(),
        "path": path,
        "protocol": "HTTP/1.1",
        "sourceIp": source_ip,
        "userAgent": joined.get("user-agent", ""),
    }
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": parts.query,
        "headers": joined,
        "requestContext": _request_context(http, host, now),
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if body:
        event["body"], event["isBase64Encoded"] = _event_body(body, joined.get("content-type"))
    return event


def _joined(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Name -> value, a repeated name's values joined with commas (as API Gateway joins them)."""
    joined: dict[str, str] = {}
    for key, value in pairs:
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    return joined


def _request_context(http: dict[str, str], host: str, now: float) -> dict[str, Any]:
    """The event's ``requestContext``, with a fresh request id in API Gateway's style."""
    return {
        "accountId": "anonymous",
        "apiId": _API_ID,
        "domainName": host,
        "domainPrefix": host.split(".", 1)[0],
        "http": http,
        "requestId": base64.b32encode(uuid.uuid4().bytes[:10]).decode().rstrip("="),
        "routeKey": "$default",
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }


def _event_body(body: bytes, content_type: str | None) -> tuple[str, bool]:
    """The body as the event carries it, and whether that is base64: text only when typed and UTF-8."""
    if is_text(content_type):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


def parse_response(response: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """Turn a handler's return value into ``(status, headers, body)`` as API Gateway would.

    A dict with ``statusCode`` is a full response; anything else is returned as a JSON 200 body
    (HTTP API payload 2.0 infers that format). A malformed response becomes a 502, as in AWS.
    """
    if not isinstance(response, dict) or "statusCode" not in response:
        body = json.dumps(response).encode()
        return 200, [("Content-Type", "application/json")], body
    try:
        status = int(response["statusCode"])
        raw = response.get("body") or ""
        body = base64.b64decode(raw) if response.get("isBase64Encoded") else str(raw).encode("utf-8")
        headers = [(str(k), str(v)) for k, v in (response.get("headers") or {}).items()]
        for name, values in (response.get("multiValueHeaders") or {}).items():
            headers.extend((str(name), str(v)) for v in values)
        headers.extend(("Set-Cookie", str(c)) for c in response.get("cookies") or ())
    except (TypeError, ValueError, AttributeError):
        return _bad_gateway()
    if not 100 <= status <= 599 or any(_unsafe_header(k, v) for k, v in headers):
        return _bad_gateway()
    return status, headers, body


def _unsafe_header(name: str, value: str) -> bool:
    return any(c in name + value for c in "\r\n\0")


def _bad_gateway() -> tuple[int, list[tuple[str, str]], bytes]:
    return 502, [("Content-Type", "application/json")], b'{"message":"Internal Server Error"}'


class _RequestHandler(BaseHTTPRequestHandler):
    server: LocalServer
    protocol_version = "HTTP/1.1"  # keep-alive, as clients of API Gateway get

    def do_GET(self) -> None:
        self._invoke()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def _invoke(self) -> None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self._send(411, [("Content-Type", "application/json")], b'{"message":"Length Required"}')
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self._send(400, [("Content-Type", "application/json")], b'{"message":"Bad Request"}')
            return
        if length > MAX_EVENT_BODY_BYTES:
            self.close_connection = True  # the body is not read; the connection cannot be reused
            self._send(413, [("Content-Type", "application/json")], b'{"message":"Request Entity Too Large"}')
            return
        body = self.rfile.read(length) if length else b""
        event = build_event(
            self.command,
            self.path,
            _header_pairs(self.headers),
            body,
            source_ip=self.client_address[0],
            host=self.headers.get("Host") or "localhost",
        )
        try:
            context = LocalContext(memory_mb=self.server.memory_mb)
            status, headers, payload = parse_response(self.server.lambda_handler(event, context))
        except Exception as exc:  # as API Gateway does when the function fails: a bare 502
            print(f"local server: the handler raised {type(exc).__name__}: {exc}", file=sys.stderr)
            status, headers, payload = _bad_gateway()
        self._send(status, headers, payload)

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        if not self.server.quiet:
            super().log_message(format, *args)


def _header_pairs(message: Message) -> list[tuple[str, str]]:
    return [(name, str(value)) for name, value in message.items()]


class LocalServer(ThreadingHTTPServer):
    """A threading HTTP server that hands every request to ``lambda_handler`` as an HTTP API event.

    Parameters
    ----------
    address
        ``(host, port)`` to bind; port 0 picks a free one (see ``server_address``).
    lambda_handler
        The function to call with ``(event, context)``.
    quiet
        Do not print an access-log line per request.
    memory_mb
        The memory size the context object reports (``memory_limit_in_mb``).
    """

    daemon_threads = True
    # The default backlog of 5 drops connection attempts from concurrent clients, which then wait a
    # full second for their TCP SYN to be retried.
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        lambda_handler: LambdaHandler,
        *,
        quiet: bool = False,
        memory_mb: int = 1024,
    ) -> None:
        self.lambda_handler = lambda_handler
        self.quiet = quiet
        self.memory_mb = memory_mb
        super().__init__(address, _RequestHandler)

    @property
    def url(self) -> str:
        """Base URL of the server, e.g. ``http://127.0.0.1:8080``."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start_in_thread(self) -> threading.Thread:
        """Serve from a daemon thread (for tests and embedding); stop with ``shutdown()``."""
        thread = threading.Thread(target=self.serve_forever, name="cdk-sklearn-local-server", daemon=True)
        thread.start()
        return thread
