"""The deploy proof's Runtime API emulator, spoken to over HTTP as a runtime client speaks to Lambda's."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from lambda_runtime.contract import SYNC_PAYLOAD_LIMIT_BYTES
from tests.support.runtime_api import PREFIX, RuntimeApi

ARN = "arn:aws:lambda:us-east-1:123456789012:function:f"


@pytest.fixture
def api() -> Iterator[RuntimeApi]:
    with RuntimeApi(ARN).serve() as served:
        yield served


def _call(api: RuntimeApi, method: str, path: str, body: bytes | None = None, **headers: str) -> Any:
    connection = http.client.HTTPConnection(api.address, timeout=10)
    connection.request(method, path, body, headers={k.replace("_", "-"): v for k, v in headers.items()})
    response = connection.getresponse()
    return response.status, dict(response.getheaders()), response.read()


def _next_in_thread(api: RuntimeApi) -> tuple[threading.Thread, list[Any]]:
    answers: list[Any] = []
    thread = threading.Thread(
        target=lambda: answers.append(_call(api, "GET", f"{PREFIX}/invocation/next", User_Agent="ric/1")),
        daemon=True,
    )
    thread.start()
    return thread, answers


def test_next_is_held_until_an_event_exists_then_carries_lambdas_headers(api: RuntimeApi) -> None:
    thread, answers = _next_in_thread(api)
    time.sleep(0.2)
    assert not answers and api.init_ended.is_set() and api.user_agent == "ric/1"
    invocation = api.submit({"a": 1}, timeout_seconds=30)
    thread.join(10)
    status, headers, body = answers[0]
    assert status == 200 and json.loads(body) == {"a": 1}
    assert headers["Lambda-Runtime-Aws-Request-Id"] == invocation.request_id
    assert headers["Lambda-Runtime-Invoked-Function-Arn"] == ARN
    assert abs(int(headers["Lambda-Runtime-Deadline-Ms"]) - (time.time() + 30) * 1000) < 5000


def _received(api: RuntimeApi) -> Any:
    thread, _ = _next_in_thread(api)
    invocation = api.submit({}, timeout_seconds=30)
    thread.join(10)
    return invocation


def test_response_completes_the_invocation(api: RuntimeApi) -> None:
    invocation = _received(api)
    status, _, _ = _call(api, "POST", f"{PREFIX}/invocation/{invocation.request_id}/response", b'{"ok": 1}')
    assert status == 202 and invocation.done.is_set()
    assert (invocation.outcome, invocation.body) == ("response", b'{"ok": 1}')


def test_error_keeps_the_runtimes_document_and_type(api: RuntimeApi) -> None:
    invocation = _received(api)
    path = f"{PREFIX}/invocation/{invocation.request_id}/error"
    status, _, _ = _call(
        api, "POST", path, b'{"errorType": "ValueError"}', Lambda_Runtime_Function_Error_Type="E"
    )
    assert status == 202
    assert (invocation.outcome, invocation.error_type) == ("error", "E")


def test_fails_a_response_over_the_payload_limit_with_lambdas_error(api: RuntimeApi) -> None:
    invocation = _received(api)
    body = b'"' + b"x" * SYNC_PAYLOAD_LIMIT_BYTES + b'"'
    status, _, _ = _call(api, "POST", f"{PREFIX}/invocation/{invocation.request_id}/response", body)
    assert status == 413 and invocation.outcome == "error"
    assert json.loads(invocation.body)["errorType"] == "Function.ResponseSizeTooLarge"


def test_fails_an_answer_for_an_unknown_request(api: RuntimeApi) -> None:
    status, _, _ = _call(api, "POST", f"{PREFIX}/invocation/nope/response", b"{}")
    assert status == 400


def test_init_error_ends_init_with_the_runtimes_document(api: RuntimeApi) -> None:
    document = {"errorType": "Runtime.ImportModuleError", "errorMessage": "Unable to import module 'x'"}
    path = f"{PREFIX}/init/error"
    status, _, _ = _call(
        api, "POST", path, json.dumps(document).encode(), Lambda_Runtime_Function_Error_Type="T"
    )
    assert status == 202 and api.init_ended.is_set()
    assert (api.init_error, api.init_error_type) == (document, "T")
