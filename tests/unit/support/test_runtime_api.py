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


# -- several workers polling at once (managed instances) ------------------------------------------------


def _worker(api: RuntimeApi, barrier: threading.Barrier, served: list[tuple[str, Any]]) -> None:
    """A worker on its own connection: take one event, wait for every sibling to hold one, answer it."""
    connection = http.client.HTTPConnection(api.address, timeout=10)
    connection.request("GET", f"{PREFIX}/invocation/next")
    response = connection.getresponse()
    request_id, event = response.getheader("Lambda-Runtime-Aws-Request-Id"), json.loads(response.read())
    barrier.wait(timeout=10)  # only passes if every worker holds an event at the same time
    answer = json.dumps({"answer_to": event["n"]}).encode()
    connection.request("POST", f"{PREFIX}/invocation/{request_id}/response", answer)
    assert connection.getresponse().status == 202
    served.append((request_id, event))


def test_several_workers_get_different_events_at_once_and_each_answer_finds_its_request(
    api: RuntimeApi,
) -> None:
    workers = 4
    barrier, served = threading.Barrier(workers), []  # type: ignore[var-annotated]
    threads = [threading.Thread(target=_worker, args=(api, barrier, served)) for _ in range(workers)]
    for thread in threads:
        thread.start()
    assert api.wait_polling(workers, timeout=10) is not None  # every worker ended INIT
    invocations = [api.submit({"n": n}, timeout_seconds=30) for n in range(workers)]
    for thread in threads:
        thread.join(20)
    assert sorted(event["n"] for _, event in served) == list(range(workers))
    for n, invocation in enumerate(invocations):
        assert invocation.outcome == "response" and json.loads(invocation.body) == {"answer_to": n}
    # Four connections took the four events, and each answer came back on the connection that took it.
    assert len({i.handed_to for i in invocations}) == workers
    assert all(i.answered_from == i.handed_to for i in invocations)


def test_events_beyond_the_workers_wait_and_their_timeout_starts_at_hand_out(api: RuntimeApi) -> None:
    first, second = api.submit({"n": 1}, timeout_seconds=2), api.submit({"n": 2}, timeout_seconds=2)
    thread, answers = _next_in_thread(api)  # one worker: the second event waits for it
    thread.join(10)
    assert first.received.is_set() and not second.received.is_set() and second.deadline_ms is None
    time.sleep(1.0)
    _call(api, "POST", f"{PREFIX}/invocation/{first.request_id}/response", b"1")
    thread, answers = _next_in_thread(api)
    thread.join(10)
    assert answers[0][1]["Lambda-Runtime-Aws-Request-Id"] == second.request_id
    # Handed out a second later, the second event still has its whole 2 s.
    assert second.deadline_ms is not None and second.deadline_ms - time.time() * 1000 > 1500


def test_fails_an_answer_for_a_request_no_worker_was_handed(api: RuntimeApi) -> None:
    waiting = api.submit({}, timeout_seconds=30)  # no worker polls: never handed out
    status, _, _ = _call(api, "POST", f"{PREFIX}/invocation/{waiting.request_id}/response", b"{}")
    assert status == 400 and not waiting.done.is_set()
