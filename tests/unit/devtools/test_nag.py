"""cdk-nag (AwsSolutions and the NIST 800-53 R5, HIPAA Security and PCI DSS 3.2.1 packs): zero findings
for every configuration, and exactly the acknowledgments we wrote."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest

from cdk_sklearn.endpoint import SklearnLambdaEndpoint
from cdk_sklearn.nag import acknowledge_compliance, acknowledgments
from cdk_sklearn.rollout import NAG_MANAGED_POLICY_RULE
from devtools.checks import nag_findings
from tests.conftest import SKIP_BUNDLING
from tests.helpers.routes import ROUTE_KEYS as ROUTES

CONFIGURATIONS: dict[str, dict[str, Any]] = {
    "default": {},
    "python3.14": {"runtime": "python3.14"},
    "public": {"auth": "none"},
    "jwt": {"auth": "jwt", "jwt_issuer": "https://issuer.example.com", "jwt_audience": ["a"]},
    "rest_iam": {"front_door": "rest_api"},
    "rest_api_key": {"front_door": "rest_api", "auth": "api_key"},
    "function_url": {"front_door": "function_url", "reserved_concurrency": 5},
    "autoscaled": {"cold_start": {"strategy": "provisioned", "min": 2, "max": 10}},
    "snapstart": {"cold_start": {"strategy": "snapstart"}},
    "no_rollout_no_monitoring": {"rollout": "none", "monitoring": False, "runtime": "python3.14"},
    "rest_tracing": {"front_door": "rest_api", "tracing": True},
}

REST_ACKS = [
    "AwsSolutions-APIG3",
    "AwsSolutions-COG4",
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
]
# The complete list of acknowledgments per configuration (construct path below the stack -> rule ids).
EXPECTED_ACKS: dict[str, dict[str, list[str]]] = {
    "default": {"E/Function": ["AwsSolutions-L1"]},
    "python3.14": {},
    "public": {"E/Function": ["AwsSolutions-L1"]}
    | {f"E/HttpApi/{m}--{p.strip('/').replace('/', '--')}": ["AwsSolutions-APIG4"] for m, p in ROUTES},
    "jwt": {"E/Function": ["AwsSolutions-L1"]},
    "rest_iam": {"E/Function": ["AwsSolutions-L1"], "E/RestApi": REST_ACKS},
    "rest_api_key": {
        "E/Function": ["AwsSolutions-L1"],
        "E/RestApi": sorted([*REST_ACKS, "AwsSolutions-APIG4"]),
    },
    "function_url": {"E/Function": ["AwsSolutions-L1"]},
    "autoscaled": {"E/Function": ["AwsSolutions-L1"]},
    "snapstart": {"E/Function": ["AwsSolutions-L1"]},
    "rest_tracing": {
        "E/Function": ["AwsSolutions-L1"],
        "E/FunctionRole": ["AwsSolutions-IAM5[Resource::*]"],
        "E/RestApi": REST_ACKS,
    },
}


CODEDEPLOY = {"E/Rollout/DeploymentGroup": [NAG_MANAGED_POLICY_RULE]}
EXPECTED_ACKS = {
    name: acks if name == "no_rollout_no_monitoring" else {**acks, **CODEDEPLOY}
    for name, acks in {**EXPECTED_ACKS, "no_rollout_no_monitoring": {}}.items()
}

# The compliance packs (NIST 800-53 R5, HIPAA Security, PCI DSS 3.2.1): each rule acknowledged in the
# packs that run it. PCI DSS has no LambdaConcurrency or LambdaDLQ rule, only HIPAA checks X-Ray.
ALL_THREE = ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")


def _in(rule: str, packs: tuple[str, ...] = ALL_THREE) -> list[str]:
    return [f"{pack}-{rule}" for pack in packs]


LAMBDA_ACKS = _in("LambdaDLQ", ALL_THREE[:2]) + _in("LambdaInsideVPC")
CONCURRENCY_ACKS = _in("LambdaConcurrency", ALL_THREE[:2])
STAGE_ACKS = (
    _in("APIGWAssociatedWithWAF", ALL_THREE[1:])
    + _in("APIGWCacheEnabledAndEncrypted")
    + _in("APIGWSSLEnabled")
)


def _with_compliance(name: str, acks: dict[str, list[str]]) -> dict[str, list[str]]:
    config = CONFIGURATIONS[name]
    found = {path: list(ids) for path, ids in acks.items()}
    found["E/FunctionLogs"] = _in("CloudWatchLogGroupEncrypted")
    found["E/FunctionRole/DefaultPolicy"] = _in("IAMNoInlinePolicy")
    function = LAMBDA_ACKS + ([] if "reserved_concurrency" in config else CONCURRENCY_ACKS)
    found["E/Function"] = sorted(found.get("E/Function", []) + function)
    if config.get("front_door") != "function_url":
        found["E/AccessLogs"] = _in("CloudWatchLogGroupEncrypted")
    if config.get("front_door") == "rest_api":
        stage = STAGE_ACKS + ([] if config.get("tracing") else _in("APIGWXrayEnabled", ALL_THREE[:1]))
        found["E/RestApi/DeploymentStage.prod"] = sorted(stage)
    return found


EXPECTED_ACKS = {name: _with_compliance(name, acks) for name, acks in EXPECTED_ACKS.items()}


def build(model, props: dict[str, Any]) -> cdk.App:
    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "S")
    SklearnLambdaEndpoint(stack, "E", model_path=str(model), **props)
    return app


@pytest.mark.parametrize("name", sorted(CONFIGURATIONS))
def test_no_unacknowledged_findings(iris_model, name):
    assert nag_findings(build(iris_model, CONFIGURATIONS[name])) == []


@pytest.mark.parametrize("name", sorted(CONFIGURATIONS))
def test_acknowledgments_are_exactly_these(iris_model, name):
    found = {
        path.removeprefix("S/"): ids
        for path, ids in acknowledgments(build(iris_model, CONFIGURATIONS[name])).items()
    }
    assert found == EXPECTED_ACKS[name]


def test_nag_catches_what_is_not_acknowledged(iris_model):
    from aws_cdk import aws_s3 as s3

    app = build(iris_model, {})
    s3.Bucket(app.node.find_child("S"), "Unsafe")
    assert any("AwsSolutions-S10" in line for line in nag_findings(app))


def test_fails_on_a_compliance_rule_no_pack_has():
    stack = cdk.Stack(cdk.App(), "S")
    with pytest.raises(ValueError, match="no compliance pack has rule 'LambdaDLQs'"):
        acknowledge_compliance(stack, "LambdaDLQs", "typo")
    assert acknowledgments(stack) == {}
