"""Lambda's Runtime API on loopback, for one execution environment of the deploy proof.

The function's process runs AWS's own runtime interface client (``awslambdaric``), which speaks this
API as it speaks Lambda's (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html):

- ``GET /2018-06-01/runtime/invocation/next`` is held open until an event exists, then answered with
  the event and the ``Lambda-Runtime-Aws-Request-Id``, ``Lambda-Runtime-Deadline-Ms`` and
  ``Lambda-Runtime-Invoked-Function-Arn`` headers. The first call ends INIT, as on Lambda.
- ``POST /2018-06-01/runtime/invocation/{id}/response`` and ``.../{id}/error`` complete the invocation.
  A response larger than Lambda's synchronous payload limit is refused with 413, and the invocation
  gets the error Lambda returns to the caller (``Function.ResponseSizeTooLarge``).
- ``POST /2018-06-01/runtime/init/error`` records the INIT failure.

Several workers may poll at once, as AWS's runtime interface client does on Lambda Managed Instances
(``AWS_LAMBDA_MAX_CONCURRENCY`` worker processes, each with its own connection): every held ``next``
gets a different event, events wait in order while every worker is busy, the function's timeout counts
from the moment an event is handed out, and an outcome is accepted only for a request id that was
handed out and not yet answered. Each invocation records the worker connection it was handed to and
the one its outcome came from, so a proof can check that they are the same.

What a caller of ``Invoke`` would see when the process is killed (memory) or overruns its timeout is
decided by :mod:`tests.support.lambda_environment`, which owns the process; this module only serves the
protocol. Standard library only.
"""

from __future__ import annotations

import json
import queue
import re
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from lambda_runtime.contract import SYNC_PAYLOAD_LIMIT_BYTES

PREFIX = "/2018-06-01/runtime"
_INVOCATION = re.compile(rf"^{PREFIX}/invocation/([^/]+)/(response|error)$")


@dataclass
class Invocation:
    """One event handed to the runtime, and how it ended.

    Attributes
    ----------
    request_id
        The ``Lambda-Runtime-Aws-Request-Id``.
    payload
        The event, as JSON bytes.
    timeout_seconds
        The function's timeout.
    deadline_ms
        Epoch milliseconds at which the function's timeout ends (``Lambda-Runtime-Deadline-Ms``), set
        when the event is handed to a worker (``None`` while it waits for one).
    outcome
        ``"response"`` or ``"error"`` once the runtime has answered (else ``None``).
    body
        What the runtime posted (or Lambda's error document, for a refused response).
    error_type
        The ``Lambda-Runtime-Function-Error-Type`` header of an error.
    handed_to, answered_from
        The worker connections (client address) that took the event and that posted its outcome.
    """

    request_id: str
    payload: bytes
    timeout_seconds: float
    deadline_ms: int | None = None
    outcome: str | None = None
    body: bytes = b""
    error_type: str | None = None
    handed_to: tuple[str, int] | None = None
    answered_from: tuple[str, int] | None = None
    received: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)

    def finish(self, outcome: str, body: bytes, error_type: str | None = None) -> bool:
        """Record the first outcome; return False when the invocation had already ended."""
        if self.done.is_set():
            return False
        self.outcome, self.body, self.error_type = outcome, body, error_type
        self.done.set()
        return True


def too_large_error() -> dict[str, str]:
    """The error Lambda returns to a synchronous caller when the response is over the limit."""
    return {
        "errorMessage": (
            f"Response payload size exceeded maximum allowed payload size ({SYNC_PAYLOAD_LIMIT_BYTES} bytes)."
        ),
        "errorType": "Function.ResponseSizeTooLarge",
    }


class RuntimeApi:
    """The Runtime API of one execution environment, served on a loopback port.

    Parameters
    ----------
    function_arn
        What ``Lambda-Runtime-Invoked-Function-Arn`` says.
    """

    def __init__(self, function_arn: str) -> None:
        self.function_arn = function_arn
        self.init_error: dict[str, Any] | None = None
        self.init_error_type: str | None = None
        self.init_ended = threading.Event()
        """Set by the first ``next`` call or by ``init/error``."""
        self.init_ended_at: float | None = None
        """``time.perf_counter()`` when INIT ended."""
        self.user_agent: str | None = None
        """The runtime client's ``User-Agent`` (``aws-lambda-python/<python>-<awslambdaric>``)."""
        self._pending: queue.Queue[Invocation | None] = queue.Queue()
        self._invocations: dict[str, Invocation] = {}
        self._server: ThreadingHTTPServer | None = None
        self._polling = threading.Condition()
        self._held = 0
        self.polling_peak_at: dict[int, float] = {}
        """``time.perf_counter()`` when, for the first time, this many ``next`` calls were held at once."""

    @property
    def address(self) -> str:
        """``host:port``, the value of ``AWS_LAMBDA_RUNTIME_API``."""
        assert self._server is not None, "serve() first"
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    @contextmanager
    def serve(self) -> Iterator[RuntimeApi]:
        """Serve on a free loopback port until the block ends."""
        api = self

        class Handler(_Handler):
            runtime_api = api

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._pending.put(None)  # wakes a held ``next``
            self._server.shutdown()
            self._server.server_close()

    def submit(self, event: Any, timeout_seconds: float) -> Invocation:
        """Queue ``event``; its deadline is ``timeout_seconds`` from now, as Lambda counts it."""
        invocation = Invocation(
            request_id=str(uuid.uuid4()), payload=json.dumps(event).encode(), timeout_seconds=timeout_seconds
        )
        self._invocations[invocation.request_id] = invocation
        self._pending.put(invocation)
        return invocation

    def wait_polling(self, workers: int, timeout: float) -> float | None:
        """Wait until ``workers`` ``next`` calls are held at once (every worker ended its INIT).

        Returns the ``time.perf_counter()`` at which that first happened, or ``None`` after ``timeout``.
        """
        with self._polling:
            self._polling.wait_for(lambda: workers in self.polling_peak_at, timeout)
            return self.polling_peak_at.get(workers)

    # -- the handlers' side ------------------------------------------------------------------------

    def _next(self, user_agent: str | None, worker: tuple[str, int]) -> Invocation | None:
        if not self.init_ended.is_set():
            self.init_ended_at = time.perf_counter()
            self.user_agent = user_agent
            self.init_ended.set()
        with self._polling:
            self._held += 1
            self.polling_peak_at.setdefault(self._held, time.perf_counter())
            self._polling.notify_all()
        try:
            invocation = self._pending.get()
        finally:
            with self._polling:
                self._held -= 1
        if invocation is None:
            self._pending.put(None)  # for any other held call
            return None
        invocation.handed_to = worker
        # The timeout runs from the hand-out: an event that waited for a free worker still gets all of it.
        invocation.deadline_ms = int((time.time() + invocation.timeout_seconds) * 1000)
        return invocation

    def _complete(
        self, request_id: str, outcome: str, body: bytes, error_type: str | None, worker: tuple[str, int]
    ) -> HTTPStatus:
        invocation = self._invocations.get(request_id)
        if invocation is None or not invocation.received.is_set():
            return HTTPStatus.BAD_REQUEST
        invocation.answered_from = worker
        if outcome == "response" and len(body) > SYNC_PAYLOAD_LIMIT_BYTES:
            invocation.finish(
                "error", json.dumps(too_large_error()).encode(), "Function.ResponseSizeTooLarge"
            )
            return HTTPStatus.REQUEST_ENTITY_TOO_LARGE
        return HTTPStatus.ACCEPTED if invocation.finish(outcome, body, error_type) else HTTPStatus.BAD_REQUEST

    def _init_error(self, body: bytes, error_type: str | None) -> None:
        self.init_error = json.loads(body or b"{}")
        self.init_error_type = error_type
        if not self.init_ended.is_set():
            self.init_ended_at = time.perf_counter()
            self.init_ended.set()


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet about a runtime killed mid-request (memory, timeout): the invoke reports it."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    runtime_api: RuntimeApi
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        """No Nagle: headers and body are separate writes, which would wait for a delayed ACK (40 ms)."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the proof reports what matters."""

    def _reply(self, status: HTTPStatus, body: bytes = b"{}", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path != f"{PREFIX}/invocation/next":
            self._reply(HTTPStatus.NOT_FOUND)
            return
        invocation = self.runtime_api._next(self.headers.get("User-Agent"), self.client_address[:2])
        if invocation is None:  # the environment is shutting down: leave the runtime waiting
            self.close_connection = True
            return
        invocation.received.set()
        self._reply(
            HTTPStatus.OK,
            invocation.payload,
            {
                "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
                "Lambda-Runtime-Invoked-Function-Arn": self.runtime_api.function_arn,
                "Lambda-Runtime-Trace-Id": f"Root=1-00000000-{invocation.request_id.replace('-', '')[:24]}",
            },
        )

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
        if self.path == f"{PREFIX}/init/error":
            self.runtime_api._init_error(body, error_type)
            self._reply(HTTPStatus.ACCEPTED)
            return
        match = _INVOCATION.match(self.path)
        if match is None:
            self._reply(HTTPStatus.NOT_FOUND)
            return
        status = self.runtime_api._complete(match[1], match[2], body, error_type, self.client_address[:2])
        self._reply(status, json.dumps(too_large_error()).encode() if status == 413 else b"{}")
