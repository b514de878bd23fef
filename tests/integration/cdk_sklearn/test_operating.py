"""The ops constructs in a synthesized stack: clean for cfn-lint and for cdk-nag AwsSolutions.

Real synthesis, cdk-nag's AwsSolutions pack and the cfn-lint command on the template file, through
the same helpers as ``make lint`` (devtools.checks). About 10 s on 2 cores, mostly cfn-lint
loading its schemas.
"""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk

from cdk_sklearn.monitoring import EndpointMonitoring
from cdk_sklearn.nag import acknowledgments
from cdk_sklearn.rollout import NAG_MANAGED_POLICY_RULE, SafeRollout
from devtools.checks import lint_findings, nag_findings
from tests.unit.cdk_sklearn.plain_endpoint import http_api, plain_endpoint

OPS_PATHS = ("Test/Monitoring/", "Test/Rollout/")


def build(outdir: Path) -> cdk.App:
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "Test")
    function, alias = plain_endpoint(stack, provisioned=2)
    monitoring = EndpointMonitoring(
        stack,
        "Monitoring",
        function=function,
        alias=alias,
        model_name="iris",
        api=http_api(stack, alias),
        alarm_email="ops@example.com",
        provisioned=True,
    )
    SafeRollout(stack, "Rollout", alias=alias, strategy="canary", alarms=monitoring.rollback_alarms)
    return app


def test_cfn_lint_finds_nothing(tmp_path):
    build(tmp_path).synth()
    assert lint_findings([tmp_path / "Test.template.json"]) == []


def test_cdk_nag_finds_nothing_in_ops_resources(tmp_path):
    findings = nag_findings(build(tmp_path))
    assert [line for line in findings if any(path in line for path in OPS_PATHS)] == []
    # The check ran: it flags the test stack's bare function and API, which are not the ops constructs'.
    assert any("Test/Function/" in line for line in findings)


def test_the_only_acknowledgment_is_codedeploys_managed_policy(tmp_path):
    found = acknowledgments(build(tmp_path))
    assert found == {"Test/Rollout/DeploymentGroup": [NAG_MANAGED_POLICY_RULE]}


def test_template_is_json_with_the_ops_resources(tmp_path):
    build(tmp_path).synth()
    resources = json.loads((tmp_path / "Test.template.json").read_text())["Resources"].values()
    types = {r["Type"] for r in resources}
    assert {
        "AWS::CloudWatch::Dashboard",
        "AWS::CodeDeploy::DeploymentGroup",
        "AWS::SNS::Subscription",
    } <= types
