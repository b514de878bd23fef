"""SafeRollout and ab_routing: the deployment group, its config per strategy, rollback on alarms."""

from __future__ import annotations

import dataclasses
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Annotations, Match, Template

from cdk_sklearn.monitoring import EndpointMonitoring
from cdk_sklearn.rollout import STRATEGIES, RolloutProps, RolloutSettings, SafeRollout, ab_routing
from tests.unit.cdk_sklearn.plain_endpoint import plain_endpoint

CONFIG_NAMES = {
    "all_at_once": "CodeDeployDefault.LambdaAllAtOnce",
    "canary": "CodeDeployDefault.LambdaCanary10Percent5Minutes",
    "linear": "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
}


def synth(*, monitored: bool = True, provisioned: int = 0, **props: Any):
    stack = cdk.Stack(cdk.App(), "Test")
    function, alias = plain_endpoint(stack, provisioned)
    alarms: list[cloudwatch.Alarm] = []
    if monitored:
        alarms = EndpointMonitoring(
            stack, "Monitoring", function=function, alias=alias, model_name="iris"
        ).rollback_alarms
    rollout = SafeRollout(stack, "Rollout", alias=alias, alarms=alarms, **props)
    return rollout, stack, Template.from_stack(stack)


@pytest.fixture(scope="module")
def canary():
    return synth()


def test_strategies_cover_the_three_documented_choices():
    assert set(STRATEGIES) == set(CONFIG_NAMES)


@pytest.mark.parametrize("strategy", sorted(CONFIG_NAMES))
def test_strategy_selects_deployment_config(strategy):
    rollout, _, template = synth(strategy=strategy)
    template.has_resource_properties(
        "AWS::CodeDeploy::DeploymentGroup", {"DeploymentConfigName": CONFIG_NAMES[strategy]}
    )
    assert rollout.strategy == strategy


def test_default_strategy_is_canary_10_percent_5_minutes(canary):
    _, _, template = canary
    template.has_resource_properties(
        "AWS::CodeDeploy::DeploymentGroup",
        {"DeploymentConfigName": "CodeDeployDefault.LambdaCanary10Percent5Minutes"},
    )


def test_deployment_shifts_traffic_blue_green(canary):
    _, _, template = canary
    template.has_resource_properties(
        "AWS::CodeDeploy::DeploymentGroup",
        {"DeploymentStyle": {"DeploymentType": "BLUE_GREEN", "DeploymentOption": "WITH_TRAFFIC_CONTROL"}},
    )


def test_rollback_alarms_are_attached(canary):
    _, _, template = canary
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    watched = [key for key in alarms if key.startswith(("MonitoringServerErrorRate", "MonitoringLatencyP99"))]
    template.has_resource_properties(
        "AWS::CodeDeploy::DeploymentGroup",
        {"AlarmConfiguration": {"Enabled": True, "Alarms": [{"Name": {"Ref": key}} for key in watched]}},
    )
    assert len(watched) == 2


def test_rolls_back_on_alarm_failure_and_stop(canary):
    _, _, template = canary
    (group,) = template.find_resources("AWS::CodeDeploy::DeploymentGroup").values()
    rollback = group["Properties"]["AutoRollbackConfiguration"]
    assert rollback["Enabled"] is True
    assert set(rollback["Events"]) == {
        "DEPLOYMENT_FAILURE",
        "DEPLOYMENT_STOP_ON_REQUEST",
        "DEPLOYMENT_STOP_ON_ALARM",
    }


def test_alias_stays_live_and_is_updated_through_codedeploy(canary):
    _, _, template = canary
    (alias,) = template.find_resources("AWS::Lambda::Alias").values()
    assert alias["Properties"]["Name"] == "live"
    update = alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
    group_id = next(iter(template.find_resources("AWS::CodeDeploy::DeploymentGroup")))
    assert update["DeploymentGroupName"] == {"Ref": group_id}


def test_provisioned_concurrency_stays_on_the_alias():
    _, _, template = synth(provisioned=2)
    template.has_resource(
        "AWS::Lambda::Alias",
        {
            "Properties": Match.object_like(
                {"ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 2}}
            ),
            "UpdatePolicy": {"CodeDeployLambdaAliasUpdate": Match.any_value()},
        },
    )


def test_service_role_uses_codedeploy_lambda_limited_policy(canary):
    _, _, template = canary
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "ManagedPolicyArns": [
                {
                    "Fn::Join": [
                        "",
                        [
                            "arn:",
                            {"Ref": "AWS::Partition"},
                            ":iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited",
                        ],
                    ]
                }
            ]
        },
    )


def test_without_alarms_rolls_back_only_on_failure_and_warns():
    rollout, _, template = synth(monitored=False)
    (group,) = template.find_resources("AWS::CodeDeploy::DeploymentGroup").values()
    assert "DEPLOYMENT_STOP_ON_ALARM" not in group["Properties"]["AutoRollbackConfiguration"]["Events"]
    Annotations.from_stack(rollout.node.scope).has_warning(
        "/Test/Rollout", Match.string_like_regexp("SafeRollout has no alarms")
    )


def test_fails_on_unknown_strategy():
    stack = cdk.Stack(cdk.App(), "Test")
    _, alias = plain_endpoint(stack)
    with pytest.raises(
        ValueError,
        match=r"SafeRollout: strategy='blue_green' is invalid; allowed: all_at_once, canary, linear",
    ):
        SafeRollout(stack, "Rollout", alias=alias, strategy="blue_green")
    assert stack.node.try_find_child("Rollout") is None


def test_fails_on_alarms_that_are_not_alarms():
    stack = cdk.Stack(cdk.App(), "Test")
    _, alias = plain_endpoint(stack)
    with pytest.raises(
        ValueError, match=r"SafeRollout: alarms=.* is invalid; allowed: a list of aws_cloudwatch alarms"
    ):
        SafeRollout(stack, "Rollout", alias=alias, alarms=["HighErrors"])  # type: ignore[list-item]


def test_fails_on_an_alias_with_ab_routing():
    stack = cdk.Stack(cdk.App(), "Test")
    function, _ = plain_endpoint(stack)
    ab_alias = lambda_.Alias(
        stack,
        "AbAlias",
        alias_name="ab",
        version=function.current_version,
        additional_versions=ab_routing(function, version="3", weight=0.2),
    )
    with pytest.raises(
        ValueError, match="CodeDeploy cannot deploy an alias that already routes to two versions"
    ):
        SafeRollout(stack, "Rollout", alias=ab_alias)


def test_ab_routing_weights_a_pinned_version():
    stack = cdk.Stack(cdk.App(), "Test")
    function, _ = plain_endpoint(stack)
    lambda_.Alias(
        stack,
        "AbAlias",
        alias_name="live",
        version=function.current_version,
        additional_versions=ab_routing(function, version="7", weight=0.25),
    )
    Template.from_stack(stack).has_resource_properties(
        "AWS::Lambda::Alias",
        {"RoutingConfig": {"AdditionalVersionWeights": [{"FunctionVersion": "7", "FunctionWeight": 0.25}]}},
    )


@pytest.mark.parametrize(
    ("version", "weight", "message"),
    [
        ("$LATEST", 0.1, r"version='\$LATEST' is invalid; allowed: a published version number"),
        ("live", 0.1, r"version='live' is invalid"),
        ("0", 0.1, r"version='0' is invalid"),
        ("7", 0, r"weight=0 is invalid; allowed: a number between 0 and 1, exclusive"),
        ("7", 1, r"weight=1 is invalid"),
        ("7", True, r"weight=True is invalid"),
    ],
)
def test_fails_ab_routing_on_invalid_input(version, weight, message):
    stack = cdk.Stack(cdk.App(), "Test")
    function, _ = plain_endpoint(stack)
    with pytest.raises(ValueError, match=rf"ab_routing: {message}"):
        ab_routing(function, version=version, weight=weight)


def test_settings_are_the_props_fields():
    assert set(RolloutSettings.__annotations__) == {f.name for f in dataclasses.fields(RolloutProps)} - {
        "owner"
    }


def test_takes_props():
    props = RolloutProps(strategy="linear")
    rollout, _, template = synth(props=props)
    assert rollout.props is props
    template.has_resource_properties(
        "AWS::CodeDeploy::DeploymentGroup", {"DeploymentConfigName": CONFIG_NAMES["linear"]}
    )


def test_fails_on_props_and_keyword_props():
    stack = cdk.Stack(cdk.App(), "Test")
    _, alias = plain_endpoint(stack)
    with pytest.raises(TypeError, match=r"SafeRollout: pass props= or keyword props \(strategy\), not both"):
        SafeRollout(  # type: ignore[call-overload]
            stack, "Rollout", alias=alias, props=RolloutProps(), strategy="linear"
        )
    assert stack.node.try_find_child("Rollout") is None


def test_fails_on_unknown_keyword_prop_listing_the_allowed_ones():
    stack = cdk.Stack(cdk.App(), "Test")
    _, alias = plain_endpoint(stack)
    with pytest.raises(TypeError, match=r"SafeRollout: unknown prop\(s\) deployment; allowed: strategy"):
        SafeRollout(stack, "Rollout", alias=alias, deployment="canary")  # type: ignore[call-overload]


def test_from_config_reads_a_cdk_json_section():
    assert RolloutProps.from_config({"strategy": "all_at_once"}) == RolloutProps(strategy="all_at_once")
