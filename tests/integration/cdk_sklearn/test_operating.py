"""The ops constructs in a synthesized stack: clean for cfn-lint and for cdk-nag AwsSolutions.

Real synthesis (``app.synth()``, with the cdk-nag validation plugin) and the real cfn-lint rules
over the template file. About 10 s on 2 cores, most of it cfn-lint loading its schemas.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import cfnlint.api
import pytest
from cdk_nag import AwsSolutionsChecks

from cdk_sklearn.monitoring import EndpointMonitoring
from cdk_sklearn.rollout import SafeRollout
from tests.unit.cdk_sklearn.plain_endpoint import http_api, plain_endpoint

OPS_PATHS = ("Test/Monitoring/", "Test/Rollout/")


def build(outdir: Path, *, nag: bool) -> cdk.App:
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
    if nag:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


@pytest.fixture(scope="module")
def nag_report(tmp_path_factory: pytest.TempPathFactory) -> Any:
    outdir = tmp_path_factory.mktemp("nag")
    try:
        build(outdir, nag=True).synth()
    except RuntimeError as exc:
        # The plugin fails synthesis on findings elsewhere in the test stack (its inline
        # function); the report is written either way.
        assert "ValidationFailed" in str(exc)
    return json.loads((outdir / "validation-report.json").read_text())


def test_cfn_lint_finds_nothing_in_ops_resources(tmp_path):
    template = build(tmp_path, nag=False).synth().get_stack_by_name("Test").template
    matches = cfnlint.api.lint(json.dumps(template), regions=["us-east-1", "eu-west-1"])
    ops_ids = {key for key in template["Resources"] if key.startswith(("Monitoring", "Rollout"))}
    ours = [m for m in matches if set(m.path) & ops_ids]
    assert ours == []
    # The rest comes from the plain Function L2 in the test stack (W3005: the CDK's explicit
    # DependsOn on the role it also references), not from the ops constructs.
    assert {m.rule.id for m in matches} <= {"W3005"}


def test_cdk_nag_finds_nothing_in_ops_resources(nag_report):
    violations = [
        (violation["ruleName"], construct["constructPath"])
        for plugin in nag_report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    ]
    assert [v for v in violations if v[1].startswith(OPS_PATHS)] == []
    # The check ran: it does flag the test stack's own function.
    assert any(path.startswith("Test/Function/") for _, path in violations)
