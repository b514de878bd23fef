"""The alarms' metrics: read from describe_alarms, looked up exactly, waited for, judged."""

from __future__ import annotations

import datetime as dt

import pytest

from devtools.awsproof.metrics import (
    MetricId,
    alarm_metrics,
    check_metrics,
    describe_alarms,
    metric_exists,
    runtime_metrics,
)
from lambda_runtime.contract import METRIC_NAMES
from tests.unit.devtools.awsproof.fakes import START, FakeClock, stubbed

FUNCTION = "SklearnProof-prod-ap1-IrisFunction1A2B3C4D-AbCdEf"
MODEL = "iris-prod-ap1"
ALIAS = [{"Name": "FunctionName", "Value": FUNCTION}, {"Name": "Resource", "Value": f"{FUNCTION}:live"}]
# describe_alarms answers for the error-rate (metric math) and the latency alarm, as deployed.
ERROR_RATE = {
    "AlarmName": "SklearnProof-prod-ap1-IrisMonitoringServerErrorRateAlarm-1A2B",
    "StateValue": "OK",
    "EvaluationPeriods": 3,
    "Threshold": 5.0,
    "ComparisonOperator": "GreaterThanThreshold",
    "Metrics": [
        {
            "Id": "expr_1",
            "Expression": "100 * (FILL(serverErrors, 0) + FILL(functionErrors, 0)) / invocations",
            "Label": "5xx rate (%)",
            "ReturnData": True,
        },
        {
            "Id": "serverErrors",
            "MetricStat": {
                "Metric": {
                    "Namespace": "cdk-sklearn",
                    "MetricName": "5xx",
                    "Dimensions": [{"Name": "ModelName", "Value": MODEL}],
                },
                "Period": 60,
                "Stat": "Sum",
            },
            "ReturnData": False,
        },
        {
            "Id": "functionErrors",
            "MetricStat": {
                "Metric": {"Namespace": "AWS/Lambda", "MetricName": "Errors", "Dimensions": ALIAS},
                "Period": 60,
                "Stat": "Sum",
            },
            "ReturnData": False,
        },
        {
            "Id": "invocations",
            "MetricStat": {
                "Metric": {"Namespace": "AWS/Lambda", "MetricName": "Invocations", "Dimensions": ALIAS},
                "Period": 60,
                "Stat": "Sum",
            },
            "ReturnData": False,
        },
    ],
}
LATENCY = {
    "AlarmName": "SklearnProof-prod-ap1-IrisMonitoringLatencyP99Alarm-3C4D",
    "StateValue": "OK",
    "Namespace": "cdk-sklearn",
    "MetricName": "PredictionLatency",
    "Dimensions": [{"Name": "ModelName", "Value": MODEL}],
    "ExtendedStatistic": "p99",
    "Period": 60,
    "EvaluationPeriods": 3,
    "Threshold": 250.0,
    "ComparisonOperator": "GreaterThanThreshold",
}
SPILLOVER = {
    "AlarmName": "SklearnProof-prod-ap1-IrisMonitoringProvisionedSpilloverAlarm-5E6F",
    "StateValue": "OK",
    "Namespace": "AWS/Lambda",
    "MetricName": "ProvisionedConcurrencySpilloverInvocations",
    "Dimensions": ALIAS,
    "Statistic": "Sum",
    "Period": 60,
    "EvaluationPeriods": 3,
    "Threshold": 0.0,
    "ComparisonOperator": "GreaterThanThreshold",
}


def lambda_metric(name):
    return MetricId.of("AWS/Lambda", name, ALIAS)


def test_metric_math_alarm_reads_each_metric_stat():
    assert alarm_metrics(ERROR_RATE) == [
        MetricId("cdk-sklearn", "5xx", (("ModelName", MODEL),)),
        lambda_metric("Errors"),
        lambda_metric("Invocations"),
    ]


def test_single_metric_alarm_reads_its_metric():
    assert alarm_metrics(LATENCY) == [MetricId("cdk-sklearn", "PredictionLatency", (("ModelName", MODEL),))]


def test_runtime_metrics_are_the_contracts():
    assert [m.name for m in runtime_metrics(MODEL)] == list(METRIC_NAMES)


def test_alarms_are_described_by_name():
    cloudwatch, stub = stubbed("cloudwatch")
    names = [ERROR_RATE["AlarmName"], LATENCY["AlarmName"]]
    stub.add_response(
        "describe_alarms",
        {"MetricAlarms": [ERROR_RATE, LATENCY]},
        {"AlarmNames": names, "AlarmTypes": ["MetricAlarm"]},
    )
    assert [a["AlarmName"] for a in describe_alarms(cloudwatch, names)] == names


def listed(metric: MetricId, dimensions=None):
    dims = dimensions if dimensions is not None else metric.api_dimensions()
    return {"Metrics": [{"Namespace": metric.namespace, "MetricName": metric.name, "Dimensions": dims}]}


def lookup(metric: MetricId):
    return {"Namespace": metric.namespace, "MetricName": metric.name, "Dimensions": metric.api_dimensions()}


def test_metric_with_the_alarms_dimensions_exists():
    cloudwatch, stub = stubbed("cloudwatch")
    metric = lambda_metric("Invocations")
    stub.add_response("list_metrics", listed(metric), lookup(metric))
    assert metric_exists(cloudwatch, metric)


def test_fails_when_only_a_metric_with_more_dimensions_exists():
    cloudwatch, stub = stubbed("cloudwatch")
    metric = lambda_metric("Invocations")
    wider = [*metric.api_dimensions(), {"Name": "ExecutedVersion", "Value": "3"}]
    stub.add_response("list_metrics", listed(metric, wider), lookup(metric))
    assert not metric_exists(cloudwatch, metric)


def statistics(metric, total, end):
    params = {**lookup(metric), "StartTime": START, "EndTime": end, "Period": 60, "Statistics": ["Sum"]}
    return {"Label": metric.name, "Datapoints": [{"Timestamp": START, "Sum": total}]}, params


def test_metrics_are_waited_for_then_summed():
    cloudwatch, stub = stubbed("cloudwatch")
    metric = MetricId("cdk-sklearn", "5xx", (("ModelName", MODEL),))
    stub.add_response("list_metrics", {"Metrics": []}, lookup(metric))
    stub.add_response("list_metrics", listed(metric), lookup(metric))
    answer, params = statistics(metric, 0.0, START + dt.timedelta(seconds=30))
    stub.add_response("get_metric_statistics", answer, params)
    checks = check_metrics(
        cloudwatch, {ERROR_RATE["AlarmName"]: [metric]}, start=START, clock=FakeClock(), interval=30
    )
    assert [(c.found, c.total, c.passed) for c in checks] == [(True, 0.0, True)]


def test_spillover_may_be_absent():
    cloudwatch, stub = stubbed("cloudwatch")
    metric = alarm_metrics(SPILLOVER)[0]
    stub.add_response("list_metrics", {"Metrics": []}, lookup(metric))
    checks = check_metrics(cloudwatch, {SPILLOVER["AlarmName"]: [metric]}, start=START, clock=FakeClock())
    assert [(c.found, c.passed) for c in checks] == [(False, True)]


def test_fails_when_a_metric_an_alarm_reads_never_appears():
    cloudwatch, stub = stubbed("cloudwatch")
    metric = MetricId("cdk-sklearn", "PredictionLatency", (("ModelName", MODEL),))
    for _ in range(3):
        stub.add_response("list_metrics", {"Metrics": []}, lookup(metric))
    checks = check_metrics(
        cloudwatch, {LATENCY["AlarmName"]: [metric]}, start=START, clock=FakeClock(), timeout=60, interval=30
    )
    assert [(c.found, c.passed) for c in checks] == [(False, False)]


@pytest.mark.parametrize("alarm", [ERROR_RATE, LATENCY, SPILLOVER])
def test_every_recorded_alarm_reads_at_least_one_metric(alarm):
    assert alarm_metrics(alarm)
