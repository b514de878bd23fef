"""Every environment in cdk.json is clean under cdk-nag AwsSolutions and cfn-lint (what `make lint` runs)."""

from __future__ import annotations

import json

import pytest

import app as app_module
from cdk_sklearn.cli.new_sources import recommended_feature_flags
from devtools.checks import check_environment, lint_findings
from tests.conftest import PROJECT_DIR

CONTEXT = json.loads((PROJECT_DIR / "cdk.json").read_text())["context"]


@pytest.mark.parametrize("env", sorted(CONTEXT["environments"]))
def test_environment_is_clean(env, iris_model):
    context = json.loads(json.dumps(CONTEXT))
    for settings in context["environments"].values():
        settings["model_path"] = str(iris_model)
    assert check_environment(app_module.build_app, context, env) == []


def test_prod_is_clean_under_aws_cdk_libs_recommended_flags(iris_model):
    # The flags `cdk-sklearn new` writes into a project's cdk.json change templates.
    context = {**json.loads(json.dumps(CONTEXT)), **recommended_feature_flags()}
    for settings in context["environments"].values():
        settings["model_path"] = str(iris_model)
    assert check_environment(app_module.build_app, context, "prod") == []


def test_cfn_lint_reports_errors(tmp_path):
    broken = tmp_path / "broken.template.json"
    broken.write_text(json.dumps({"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {}}}}))
    findings = lint_findings([broken])
    assert any(":E3003:" in line or "E3003" in line for line in findings), findings
