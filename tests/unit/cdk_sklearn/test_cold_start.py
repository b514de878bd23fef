"""Cold-start strategies: none, provisioned (fixed / autoscaled with schedules), SnapStart."""

from __future__ import annotations

import dataclasses
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from cdk_sklearn.cold_start import ColdStart, ColdStartSettings, ScalingSchedule
from cdk_sklearn.endpoint import SklearnLambdaEndpoint
from cdk_sklearn.validation import PropsError
from tests.conftest import SKIP_BUNDLING


def synth(model, **props: Any) -> Template:
    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "Test")
    SklearnLambdaEndpoint(stack, "Iris", model_path=str(model), **props)
    return Template.from_stack(stack)


AUTOSCALED = {
    "strategy": "provisioned",
    "min": 2,
    "max": 10,
    "target_utilization": 0.6,
    "schedules": [{"name": "office-hours", "cron": "cron(0 7 ? * MON-FRI *)", "min": 4, "max": 10}],
}


def test_none_has_neither_snapstart_nor_provisioning(iris_model):
    template = synth(iris_model)
    (function,) = template.find_resources("AWS::Lambda::Function").values()
    assert "SnapStart" not in function["Properties"]
    template.resource_count_is("AWS::ApplicationAutoScaling::ScalableTarget", 0)
    (alias,) = template.find_resources("AWS::Lambda::Alias").values()
    assert "ProvisionedConcurrencyConfig" not in alias["Properties"]


def test_fixed_provisioned(iris_model):
    template = synth(iris_model, cold_start={"strategy": "provisioned", "min": 3})
    template.has_resource_properties(
        "AWS::Lambda::Alias", {"ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 3}}
    )
    template.resource_count_is("AWS::ApplicationAutoScaling::ScalableTarget", 0)


def test_autoscaled_alias_starts_at_min(iris_model):
    template = synth(iris_model, cold_start=AUTOSCALED)
    template.has_resource_properties(
        "AWS::Lambda::Alias", {"ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 2}}
    )


def test_autoscaled_target_and_policy(iris_model):
    template = synth(iris_model, cold_start=AUTOSCALED)
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {
            "MinCapacity": 2,
            "MaxCapacity": 10,
            "ScalableDimension": "lambda:function:ProvisionedConcurrency",
            "ScheduledActions": [
                Match.object_like(
                    {
                        "ScheduledActionName": "office-hours",
                        "Schedule": "cron(0 7 ? * MON-FRI *)",
                        "ScalableTargetAction": {"MinCapacity": 4, "MaxCapacity": 10},
                    }
                )
            ],
        },
    )
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": Match.object_like(
                {
                    "TargetValue": 0.6,
                    "PredefinedMetricSpecification": {
                        "PredefinedMetricType": "LambdaProvisionedConcurrencyUtilization"
                    },
                }
            ),
        },
    )


def test_snapstart_on_published_versions(iris_model):
    template = synth(iris_model, cold_start={"strategy": "snapstart"})
    template.has_resource_properties("AWS::Lambda::Function", {"SnapStart": {"ApplyOn": "PublishedVersions"}})
    (alias,) = template.find_resources("AWS::Lambda::Alias").values()
    assert "ProvisionedConcurrencyConfig" not in alias["Properties"]


def test_provisioned_concurrency_shorthand():
    assert ColdStart.from_config({"min": 2}) == ColdStart(strategy="provisioned", min=2)


def test_fails_on_snapstart_with_provisioned(iris_model):
    with pytest.raises(ValueError, match="SnapStart cannot be combined with provisioned concurrency"):
        synth(iris_model, cold_start={"strategy": "snapstart", "min": 2})


def test_fails_on_snapstart_with_provisioned_concurrency_prop(iris_model):
    with pytest.raises(
        ValueError, match="provisioned_concurrency=2 is invalid; allowed: 0 when cold_start is set"
    ):
        synth(iris_model, cold_start={"strategy": "snapstart"}, provisioned_concurrency=2)


def test_fails_on_snapstart_with_python311(iris_model):
    with pytest.raises(
        ValueError, match=r"allowed: runtime python3.12, python3.13, python3.14 \(got python3.11\)"
    ):
        synth(iris_model, cold_start={"strategy": "snapstart"}, runtime="python3.11")


def test_fails_on_snapstart_with_large_ephemeral_storage(iris_model):
    with pytest.raises(ValueError, match=r"ephemeral_storage_mb <= 512 \(got 1024\)"):
        synth(iris_model, cold_start={"strategy": "snapstart"}, ephemeral_storage_mb=1024)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"strategy": "warm"}, "strategy='warm' is invalid; allowed: none, provisioned, snapstart"),
        ({"strategy": "provisioned", "min": 0}, "min=0 is invalid; allowed: an integer >= 1"),
        ({"strategy": "provisioned", "min": 5, "max": 2}, "max=2 is invalid; allowed: at least min"),
        (
            {"strategy": "provisioned", "min": 1, "max": 2, "target_utilization": 1.5},
            "target_utilization=1.5",
        ),
        (
            {
                "strategy": "provisioned",
                "min": 1,
                "schedules": [{"name": "a", "cron": "cron(0 1 * * ? *)", "min": 1, "max": 2}],
            },
            "schedules only with autoscaling",
        ),
        (
            {
                "strategy": "provisioned",
                "min": 1,
                "max": 2,
                "schedules": [{"name": "a", "cron": "0 1 * * *", "min": 1, "max": 2}],
            },
            "cron(...)",
        ),
        ({"strategy": "provisioned", "min": 1, "maximum": 3}, "unknown: maximum"),
    ],
)
def test_fails_on_bad_cold_start(config, message):
    with pytest.raises(ValueError) as excinfo:
        ColdStart.from_config(config)
    assert message in str(excinfo.value)


def test_fails_on_reserved_concurrency_below_provisioned(iris_model):
    with pytest.raises(ValueError, match=r"reserved_concurrency=5 is invalid; allowed: at least .* \(10\)"):
        synth(iris_model, cold_start=AUTOSCALED, reserved_concurrency=5)


def test_settings_are_the_fields():
    assert set(ColdStartSettings.__annotations__) == {f.name for f in dataclasses.fields(ColdStart)}


def test_from_config_reads_schedules():
    cold_start = ColdStart.from_config(AUTOSCALED)
    assert cold_start.schedules == (
        ScalingSchedule(name="office-hours", cron="cron(0 7 ? * MON-FRI *)", min=4, max=10),
    )


@pytest.mark.parametrize(
    ("config", "prop"),
    [
        ({"strategy": "provisioned", "min": 0}, "cold_start.min"),
        ({"strategy": "warm"}, "cold_start.strategy"),
        ({"min": 1, "max": 2, "schedules": "office-hours"}, "cold_start.schedules"),
        (
            {"min": 1, "max": 2, "schedules": [{"name": "a", "cron": "x", "min": 1, "max": 2}]},
            "cold_start.schedules[].cron",
        ),
    ],
)
def test_fails_from_config_naming_the_prop_in_its_section(config, prop):
    with pytest.raises(PropsError) as excinfo:
        ColdStart.from_config(config, owner="SklearnLambdaEndpoint")
    assert (excinfo.value.owner, excinfo.value.prop) == ("SklearnLambdaEndpoint", prop)
