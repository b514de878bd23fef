"""EndpointMonitoring: the dashboard's metrics, each alarm's metric and threshold, notifications."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, cast

import aws_cdk as cdk
import pytest
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from cdk_sklearn.monitoring import (
    DEFAULT_NAMESPACE,
    EMF_METRICS,
    EndpointMonitoring,
    MonitoringProps,
    MonitoringSettings,
)
from tests.unit.cdk_sklearn.plain_endpoint import http_api, plain_endpoint


def synth(*, with_api: bool = True, provisioned: bool = False, **props: Any):
    stack = cdk.Stack(cdk.App(), "Test")
    function, alias = plain_endpoint(stack, 2 if provisioned else 0)
    api = http_api(stack, alias) if with_api else None
    monitoring = EndpointMonitoring(
        stack,
        "Monitoring",
        function=function,
        alias=alias,
        model_name="iris",
        api=api,
        provisioned=provisioned,
        **props,
    )
    return monitoring, Template.from_stack(stack)


def dashboard_body(template: Template) -> Any:
    """The dashboard JSON, with every CloudFormation token replaced by a placeholder string."""
    (dashboard,) = template.find_resources("AWS::CloudWatch::Dashboard").values()
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
    text = "".join(part if isinstance(part, str) else "TOKEN" for part in parts)
    return json.loads(text)


def charted(body: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(namespace, metric name, statistic) of every metric on every graph."""
    found = set()
    for widget in body["widgets"]:
        for line in widget["properties"].get("metrics", []):
            options = line[-1] if isinstance(line[-1], dict) else {}
            found.add((line[0], line[1], options.get("stat", "")))
    return found


def alarm_named(template: Template, logical_prefix: str) -> Any:
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    (match,) = [props["Properties"] for key, props in alarms.items() if key.startswith(logical_prefix)]
    return match


@pytest.fixture(scope="module")
def provisioned() -> Any:
    return synth(provisioned=True, alarm_email="ops@example.com")


@pytest.fixture(scope="module")
def bare() -> Any:
    return synth(with_api=False)


@pytest.mark.parametrize(
    "metric",
    [
        ("AWS/Lambda", "Invocations", "Sum"),
        ("AWS/ApiGateway", "4xx", "Sum"),
        ("AWS/ApiGateway", "5xx", "Sum"),
        ("cdk-sklearn", "4xx", "Sum"),
        ("cdk-sklearn", "5xx", "Sum"),
        ("cdk-sklearn", "PredictionLatency", "p50"),
        ("cdk-sklearn", "PredictionLatency", "p90"),
        ("cdk-sklearn", "PredictionLatency", "p99"),
        ("AWS/Lambda", "Duration", "p99"),
        ("AWS/Lambda", "ConcurrentExecutions", "Maximum"),
        ("AWS/Lambda", "ProvisionedConcurrencyUtilization", "Maximum"),
        ("AWS/Lambda", "ProvisionedConcurrencySpilloverInvocations", "Sum"),
        ("AWS/Lambda", "Throttles", "Sum"),
        ("cdk-sklearn", "ColdStart", "Sum"),
    ],
)
def test_dashboard_charts_metric(provisioned, metric):
    _, template = provisioned
    assert metric in charted(dashboard_body(template))


def test_dashboard_charts_init_duration_from_report_lines(provisioned):
    _, template = provisioned
    (query,) = [w for w in dashboard_body(template)["widgets"] if w["type"] == "log"]
    assert "@initDuration" in query["properties"]["query"]
    assert "SOURCE '/aws/lambda/TOKEN'" in query["properties"]["query"]


def test_dashboard_reads_runtime_metrics_for_this_model_only(provisioned):
    _, template = provisioned
    for widget in dashboard_body(template)["widgets"]:
        for line in widget["properties"].get("metrics", []):
            if line[0] == "cdk-sklearn":
                assert line[2:4] == ["ModelName", "iris"]


def test_dashboard_shows_alarm_states(provisioned):
    _, template = provisioned
    (status,) = [w for w in dashboard_body(template)["widgets"] if w["type"] == "alarm"]
    assert len(status["properties"]["alarms"]) == 4


def test_server_error_rate_alarm_is_5xx_share_of_invocations(provisioned):
    _, template = provisioned
    alarm = alarm_named(template, "MonitoringServerErrorRateAlarm")
    expression = next(m for m in alarm["Metrics"] if "Expression" in m)
    assert expression["Expression"] == "100 * (FILL(serverErrors, 0) + FILL(functionErrors, 0)) / invocations"
    names = {m["Id"]: m["MetricStat"]["Metric"]["MetricName"] for m in alarm["Metrics"] if "MetricStat" in m}
    assert names == {"serverErrors": "5xx", "functionErrors": "Errors", "invocations": "Invocations"}
    assert alarm["Threshold"] == 5
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"


def test_server_error_rate_threshold_is_a_prop():
    _, template = synth(server_error_rate_percent=1.5)
    assert alarm_named(template, "MonitoringServerErrorRateAlarm")["Threshold"] == 1.5


def test_latency_alarm_is_p99_prediction_latency_over_threshold():
    _, template = synth(latency_p99_threshold_ms=250)
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "cdk-sklearn",
            "MetricName": "PredictionLatency",
            "Dimensions": [{"Name": "ModelName", "Value": "iris"}],
            "ExtendedStatistic": "p99",
            "Period": 60,
            "Threshold": 250,
            "ComparisonOperator": "GreaterThanThreshold",
            "EvaluationPeriods": 3,
            "DatapointsToAlarm": 2,
        },
    )


def test_throttles_alarm_fires_on_any_throttle_of_the_alias(bare):
    _, template = bare
    alarm = alarm_named(template, "MonitoringThrottlesAlarm")
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == ("AWS/Lambda", "Throttles", "Sum")
    assert [d["Name"] for d in alarm["Dimensions"]] == ["FunctionName", "Resource"]
    assert alarm["Threshold"] == 0


def logical_ids(monitoring: EndpointMonitoring) -> dict[str, str]:
    """The template's logical id of each alarm in ``monitoring.alarms``, by key."""
    stack = cdk.Stack.of(monitoring)
    return {
        key: stack.get_logical_id(cast(cdk.CfnElement, alarm.node.default_child))
        for key, alarm in monitoring.alarms.items()
    }


def synthesized_alarms(monitoring: EndpointMonitoring, template: Template) -> dict[str, Any]:
    """The template's alarm of each key of ``monitoring.alarms``."""
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    return {key: alarms[logical_id]["Properties"] for key, logical_id in logical_ids(monitoring).items()}


@pytest.mark.parametrize("case", ["provisioned", "bare", "managed"])
def test_alarms_are_every_alarm_the_template_holds(request, case):
    monitoring, template = request.getfixturevalue(case)
    keyed = list(logical_ids(monitoring).values())
    assert sorted(keyed) == sorted(template.find_resources("AWS::CloudWatch::Alarm"))


@pytest.fixture(scope="module")
def managed() -> Any:
    return synth(capacity_provider_name="iris-capacity")


def test_capacity_cpu_alarm_on_managed_instances(managed):
    monitoring, template = managed
    alarm = synthesized_alarms(monitoring, template)["capacity_cpu"]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
        "AWS/Lambda",
        "CPUUtilization",
        "Average",
    )
    assert alarm["Dimensions"] == [{"Name": "CapacityProviderName", "Value": "iris-capacity"}]
    assert (alarm["Threshold"], alarm["Period"], alarm["EvaluationPeriods"]) == (85, 300, 3)


def test_managed_instances_chart_cpu_memory_and_allocation(managed):
    _, template = managed
    names = {(namespace, name) for namespace, name, _ in charted(dashboard_body(template))}
    assert {
        ("AWS/Lambda", "CPUUtilization"),
        ("AWS/Lambda", "MemoryUtilization"),
        ("AWS/Lambda", "vCPUAllocated"),
    } <= names


def test_throttles_alarm_on_managed_instances_says_traffic_doubling_throttles(managed):
    _, template = managed
    alarm = alarm_named(template, "MonitoringThrottlesAlarm")
    assert "more than doubles within 5 minutes" in alarm["AlarmDescription"]
    assert "provisioned concurrency" not in alarm["AlarmDescription"]


def test_no_capacity_alarm_on_demand(bare):
    monitoring, _ = bare
    assert "capacity_cpu" not in monitoring.alarms


def test_fails_on_provisioned_concurrency_with_a_capacity_provider():
    with pytest.raises(ValueError, match="provisioned=True is invalid; allowed: False on managed instances"):
        synth(provisioned=True, capacity_provider_name="iris-capacity")


def test_spillover_alarm_when_provisioned(provisioned):
    monitoring, template = provisioned
    alarm = synthesized_alarms(monitoring, template)["provisioned_spillover"]
    assert alarm["MetricName"] == "ProvisionedConcurrencySpilloverInvocations"


def test_no_spillover_alarm_or_chart_without_provisioned_concurrency(bare):
    monitoring, template = bare
    assert "provisioned_spillover" not in monitoring.alarms
    spillover = "ProvisionedConcurrencySpilloverInvocations"
    assert spillover not in json.dumps(template.find_resources("AWS::CloudWatch::Alarm"))
    names = {name for _, name, _ in charted(dashboard_body(template))}
    assert not {"ProvisionedConcurrencyUtilization", spillover} & names


def test_rollback_alarms_are_error_rate_and_latency(provisioned):
    monitoring, _ = provisioned
    assert monitoring.rollback_alarms == [
        monitoring.alarms["server_error_rate"],
        monitoring.alarms["latency_p99"],
    ]


def test_alarms_name_the_alias_without_referencing_it(provisioned):
    # A Ref to the alias would make the alarms depend on the resource CodeDeploy updates.
    _, template = provisioned
    alias_id = next(iter(template.find_resources("AWS::Lambda::Alias")))
    assert alias_id not in json.dumps(template.find_resources("AWS::CloudWatch::Alarm"))


def test_email_creates_a_topic_every_alarm_notifies(provisioned):
    monitoring, template = provisioned
    template.resource_count_is("AWS::SNS::Topic", 1)
    template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"}
    )
    topic_id = next(iter(template.find_resources("AWS::SNS::Topic")))
    for alarm in template.find_resources("AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]
        assert alarm["Properties"]["OKActions"] == [{"Ref": topic_id}]
    assert monitoring.topic is not None


def test_topic_refuses_plain_http_publishing(provisioned):
    _, template = provisioned
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                        )
                    ]
                )
            }
        },
    )


def test_given_topic_is_used_and_none_created():
    stack = cdk.Stack(cdk.App(), "Test")
    function, alias = plain_endpoint(stack)
    topic = sns.Topic.from_topic_arn(stack, "Ops", "arn:aws:sns:eu-west-1:123456789012:ops")
    monitoring = EndpointMonitoring(
        stack, "Monitoring", function=function, alias=alias, model_name="iris", alarm_topic=topic
    )
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::SNS::Topic", 0)
    template.resource_count_is("AWS::SNS::Subscription", 0)
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"AlarmActions": ["arn:aws:sns:eu-west-1:123456789012:ops"]}
    )
    assert monitoring.topic is topic


def test_every_alarm_notifies_a_topic_even_without_an_email(bare):
    monitoring, template = bare
    assert not monitoring.subscribed
    template.resource_count_is("AWS::SNS::Topic", 1)
    template.resource_count_is("AWS::SNS::Subscription", 0)
    (topic_id,) = template.find_resources("AWS::SNS::Topic")
    for alarm in template.find_resources("AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]


def test_works_without_api(bare):
    monitoring, template = bare
    namespaces = {namespace for namespace, _, _ in charted(dashboard_body(template))}
    assert namespaces == {"AWS/Lambda", "cdk-sklearn"}
    template.resource_count_is("AWS::CloudWatch::Alarm", 3)
    assert monitoring.dashboard is not None


def test_charts_a_rest_api():
    stack = cdk.Stack(cdk.App(), "Test")
    function, alias = plain_endpoint(stack)
    api = apigw.LambdaRestApi(stack, "RestApi", handler=alias)
    EndpointMonitoring(stack, "Monitoring", function=function, alias=alias, model_name="iris", api=api)
    charted_metrics = charted(dashboard_body(Template.from_stack(stack)))
    assert {("AWS/ApiGateway", "4XXError", "Sum"), ("AWS/ApiGateway", "5XXError", "Sum")} <= charted_metrics


def test_metrics_namespace_is_a_prop():
    _, template = synth(with_api=False, metrics_namespace="Acme/Models")
    body = dashboard_body(template)
    assert ("Acme/Models", "PredictionLatency", "p99") in charted(body)
    assert ("cdk-sklearn", "PredictionLatency", "p99") not in charted(body)
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"Namespace": "Acme/Models", "MetricName": "PredictionLatency"}
    )


def test_log_group_name_is_a_prop():
    _, template = synth(with_api=False, log_group_name="/custom/iris")
    (query,) = [w for w in dashboard_body(template)["widgets"] if w["type"] == "log"]
    assert "SOURCE '/custom/iris'" in query["properties"]["query"]


@pytest.mark.parametrize(
    ("prop", "value", "allowed"),
    [
        ("model_name", "iris model", "letters, digits"),
        ("model_name", "", "letters, digits"),
        ("metrics_namespace", "AWS/Lambda", "not starting with 'AWS/'"),
        ("metrics_namespace", "Cdk*Sklearn", "letters, digits"),
        ("latency_p99_threshold_ms", 0, "a finite number > 0"),
        ("latency_p99_threshold_ms", float("nan"), "a finite number > 0"),
        ("latency_p99_threshold_ms", True, "a finite number > 0"),
        ("server_error_rate_percent", 101, "<= 100"),
        ("server_error_rate_percent", -1, "a finite number > 0"),
        ("alarm_email", "ops-at-example.com", "an e-mail address"),
        ("encrypt_alarm_topic", "yes", "True or False"),
        ("api", "https://example.com", "HttpApi"),
        ("provisioned", 2, "True or False"),
    ],
)
def test_fails_on_invalid_prop(prop, value, allowed):
    stack = cdk.Stack(cdk.App(), "Test")
    function, alias = plain_endpoint(stack)
    props: dict[str, Any] = {"model_name": "iris", prop: value}
    with pytest.raises(ValueError, match=rf"EndpointMonitoring: {prop}=.* is invalid; allowed: .*{allowed}"):
        EndpointMonitoring(stack, "Monitoring", function=function, alias=alias, **props)
    assert stack.node.try_find_child("Monitoring") is None


def test_fails_on_a_metric_the_runtime_does_not_emit(bare):
    monitoring, _ = bare
    with pytest.raises(
        ValueError, match="metric 'Latency' is not emitted by the runtime; allowed: PredictionLatency"
    ):
        monitoring.runtime_metric("Latency")


def test_reads_the_metrics_the_runtime_emits():
    # cdk_sklearn may not import lambda_runtime (it ships alone in the function); the test can.
    from lambda_runtime.contract import DEFAULT_METRICS_NAMESPACE, METRIC_UNITS

    assert set(EMF_METRICS) == set(METRIC_UNITS)
    assert DEFAULT_NAMESPACE == DEFAULT_METRICS_NAMESPACE


def alarm_metrics(template: Template) -> list[tuple[str, str, list[str]]]:
    """(namespace, metric name, dimension names) of every metric every alarm reads, math included."""
    found = []
    for alarm in template.find_resources("AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        stats = [m["MetricStat"]["Metric"] for m in props.get("Metrics", []) if "MetricStat" in m]
        if "MetricName" in props:
            stats.append(props)
        for metric in stats:
            dimensions = [d["Name"] for d in metric.get("Dimensions", [])]
            found.append((metric["Namespace"], metric["MetricName"], dimensions))
    return found


def dashboard_metrics(template: Template) -> list[tuple[str, str, list[str]]]:
    """(namespace, metric name, dimension names) of every metric on every dashboard widget."""
    found = []
    for widget in dashboard_body(template)["widgets"]:
        for line in widget["properties"].get("metrics", []):
            fields = line[:-1] if isinstance(line[-1], dict) else line
            found.append((fields[0], fields[1], fields[2::2]))
    return found


def test_metrics_namespace_feeds_every_alarm_and_widget_on_the_runtime_metrics():
    from lambda_runtime.contract import METRIC_DIMENSION, METRIC_NAMES

    monitoring, template = synth(provisioned=True, metrics_namespace="team-a")
    metrics = alarm_metrics(template) + dashboard_metrics(template)
    # The runtime's metrics are the ones with its dimension; AWS's (API Gateway's 4xx too) have others.
    runtime = [(namespace, name) for namespace, name, dims in metrics if METRIC_DIMENSION in dims]
    assert {name for _, name in runtime} == set(METRIC_NAMES)
    assert {namespace for namespace, _ in runtime} == {"team-a"}
    assert "cdk-sklearn" not in {namespace for namespace, _, _ in metrics}
    assert "cdk-sklearn" not in json.dumps(dashboard_body(template))
    assert len(alarm_metrics(template)) > len(monitoring.alarms)  # the error rate's math is read too


def test_settings_are_the_props_fields():
    assert set(MonitoringSettings.__annotations__) == {
        f.name for f in dataclasses.fields(MonitoringProps)
    } - {"owner"}


def test_props_form_builds_the_same_alarms_as_keywords():
    props = MonitoringProps(latency_p99_threshold_ms=250, metrics_namespace="team-a")
    stack = cdk.Stack(cdk.App(), "Test")
    function, alias = plain_endpoint(stack)
    monitoring = EndpointMonitoring(
        stack, "Monitoring", function=function, alias=alias, model_name="iris", props=props
    )
    assert monitoring.props is props
    Template.from_stack(stack).has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"Namespace": "team-a", "MetricName": "PredictionLatency", "Threshold": 250},
    )


def test_fails_on_props_and_keyword_props():
    stack = cdk.Stack(cdk.App(), "Test")
    function, alias = plain_endpoint(stack)
    with pytest.raises(TypeError, match="pass props= or keyword props"):
        EndpointMonitoring(  # type: ignore[call-overload]
            stack,
            "Monitoring",
            function=function,
            alias=alias,
            model_name="iris",
            props=MonitoringProps(),
            alarm_email="ops@example.com",
        )


def test_fails_on_unknown_keyword_prop_listing_the_allowed_ones():
    stack = cdk.Stack(cdk.App(), "Test")
    function, alias = plain_endpoint(stack)
    with pytest.raises(TypeError, match=r"unknown prop\(s\) latency_ms; allowed: metrics_namespace, "):
        EndpointMonitoring(  # type: ignore[call-overload]
            stack, "Monitoring", function=function, alias=alias, model_name="iris", latency_ms=5
        )
    assert stack.node.try_find_child("Monitoring") is None


def test_from_config_reads_a_cdk_json_section():
    props = MonitoringProps.from_config({"latency_p99_threshold_ms": 250, "alarm_email": "ops@example.com"})
    assert props == MonitoringProps(latency_p99_threshold_ms=250.0, alarm_email="ops@example.com")
