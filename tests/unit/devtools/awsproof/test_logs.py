"""Cold starts from REPORT lines: parsing, waiting for them, judging each strategy."""

from __future__ import annotations

import pytest

from devtools.awsproof.logs import judge_cold_start, parse_report, wait_for_reports
from tests.unit.devtools.awsproof.fakes import START, FakeClock, report_line, stubbed

GROUP = "/aws/lambda/SklearnProof-dev-ap1-IrisFunction1A2B3C4D-AbCdEf"


def test_report_with_init_duration():
    report = parse_report(report_line("3f1c0e1a-1111-2222-3333-444455556666", 84.2, init=1543.21))
    assert (report.duration_ms, report.init_ms, report.restore_ms) == (84.2, 1543.21, None)


def test_report_with_restore_duration():
    report = parse_report(report_line("3f1c0e1a-1111-2222-3333-444455556666", 12.5, restore=612.4))
    assert (report.init_ms, report.restore_ms) == (None, 612.4)


def test_warm_report_has_neither():
    report = parse_report(report_line("3f1c0e1a-1111-2222-3333-444455556666", 3.1))
    assert (report.init_ms, report.restore_ms, report.billed_ms) == (None, None, 4.0)


def test_other_lines_are_not_reports():
    assert parse_report("START RequestId: 3f1c0e1a-1111 Version: 3\n") is None


def reports(*lines):
    return [parse_report(line) for line in lines]


def test_on_demand_passes_with_an_init():
    verdict = judge_cold_start("none", reports(report_line("a-1", 80, init=1500), report_line("a-2", 3)))
    assert verdict.passed and verdict.figure_ms == 1500


def test_fails_on_demand_without_an_init():
    assert not judge_cold_start("none", reports(report_line("a-1", 3))).passed


def test_snapstart_passes_with_a_restore():
    verdict = judge_cold_start("snapstart", reports(report_line("a-1", 20, restore=640.5)))
    assert verdict.passed and verdict.figure == "Restore Duration 640 ms"


def test_fails_snapstart_without_a_restore():
    assert not judge_cold_start("snapstart", reports(report_line("a-1", 80, init=1500))).passed


def test_provisioned_passes_without_any_init():
    verdict = judge_cold_start("provisioned", reports(report_line("a-1", 4), report_line("a-2", 6)))
    assert verdict.passed and verdict.figure_ms == 5


def test_fails_provisioned_when_an_invocation_initialized_on_demand():
    verdict = judge_cold_start(
        "provisioned", reports(report_line("a-1", 80, init=1500), report_line("a-2", 4))
    )
    assert not verdict.passed and "initialized on demand" in verdict.detail


def test_fails_without_any_report_line():
    assert not judge_cold_start("none", []).passed


def test_fails_on_an_unknown_strategy():
    with pytest.raises(ValueError, match="unknown cold-start strategy 'warm'"):
        judge_cold_start("warm", reports(report_line("a-1", 4)))


def events(*lines):
    return {
        "events": [
            {"logStreamName": "s", "timestamp": 1, "message": line, "eventId": str(i)}
            for i, line in enumerate(lines)
        ]
    }


def request(token=None):
    params = {
        "logGroupName": GROUP,
        "startTime": int(START.timestamp() * 1000),
        "filterPattern": '"REPORT RequestId"',
    }
    return {**params, "nextToken": token} if token else params


def test_waits_until_enough_lines_arrived():
    logs, stub = stubbed("logs")
    stub.add_response("filter_log_events", events(report_line("a-1", 80, init=1500)), request())
    stub.add_response(
        "filter_log_events", {**events(report_line("a-1", 80, init=1500)), "nextToken": "n"}, request()
    )
    stub.add_response("filter_log_events", events(report_line("a-2", 3)), request("n"))
    clock = FakeClock()
    found = wait_for_reports(logs, GROUP, START, at_least=2, clock=clock, interval=10)
    assert [r.request_id for r in found] == ["a-1", "a-2"] and clock.sleeps == [10]


def test_returns_what_arrived_when_the_wait_times_out():
    logs, stub = stubbed("logs")
    for _ in range(3):
        stub.add_response("filter_log_events", events(report_line("a-1", 80, init=1500)), request())
    found = wait_for_reports(logs, GROUP, START, at_least=5, clock=FakeClock(), timeout=25, interval=10)
    assert len(found) == 1
