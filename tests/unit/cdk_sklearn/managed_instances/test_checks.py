"""cdk-nag (every pack devtools.checks runs) and cfn-lint on managed-instances endpoints: no finding left, and
exactly the acknowledgments written for them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

import app as app_module
from cdk_sklearn.endpoint import SklearnLambdaEndpoint
from cdk_sklearn.nag import acknowledgments
from devtools.checks import check_environment, nag_findings
from tests.conftest import PROJECT_DIR, SKIP_BUNDLING

SUBNETS = {"subnet_ids": ["subnet-0123456789abcdef0"], "security_group_ids": ["sg-0123456789abcdef0"]}
CONFIGURATIONS: dict[str, dict[str, Any]] = {
    "default": {},
    "tracing_rest": {"tracing": True, "front_door": "rest_api"},
    "flow_logs_off": {"managed_instances": {"flow_logs": False}},
    "nat": {"managed_instances": {"nat_gateways": 1}},
    "own_network": {"managed_instances": SUBNETS},
}


def build(model: Path, props: dict[str, Any]) -> cdk.App:
    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "S")
    SklearnLambdaEndpoint(
        stack, "E", model_path=str(model), compute="managed_instances", memory_size=4096, **props
    )
    return app


@pytest.mark.parametrize("name", sorted(CONFIGURATIONS))
def test_no_unacknowledged_findings(iris_model, name: str) -> None:
    assert nag_findings(build(iris_model, CONFIGURATIONS[name])) == []


def _packs(
    rule: str, packs: tuple[str, ...] = ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
) -> list[str]:
    return [f"{pack}-{rule}" for pack in packs]


def test_acknowledgments_of_the_managed_parts_are_exactly_these(iris_model) -> None:
    found = {path.removeprefix("S/"): ids for path, ids in acknowledgments(build(iris_model, {})).items()}
    managed = {
        path: ids for path, ids in found.items() if path.startswith(("E/Vpc", "E/FlowLogs", "E/Capacity"))
    }
    assert managed == {
        "E/Vpc/FlowLog/IAMRole": _packs("IAMNoInlinePolicy"),
        "E/FlowLogs": _packs("CloudWatchLogGroupEncrypted"),
        "E/CapacityProvider": [
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AWSLambdaManagedEC2ResourceOperator]"
        ],
        # CDK's own: the flow log's role and log group ARNs are tokens its template checks cannot read.
        "E/Vpc/FlowLog": ["F3002", "F3003"],
    }
    assert "E/ManagedFunction" in found and "E/Function" not in found


def test_flow_logs_off_is_acknowledged_with_the_owner_choice(iris_model) -> None:
    found = acknowledgments(build(iris_model, CONFIGURATIONS["flow_logs_off"]))
    assert found["S/E/Vpc"] == sorted(["AwsSolutions-VPC7", *_packs("VPCFlowLogsEnabled")])


def test_prod_mi_environment_is_clean_under_nag_and_cfn_lint(demo_model) -> None:
    context = json.loads((PROJECT_DIR / "cdk.json").read_text())["context"]
    assert context["environments"]["prod-mi"]["compute"] == "managed_instances"
    assert check_environment(app_module.build_app, context, "prod-mi") == []
