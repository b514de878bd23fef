"""app.py: one stack per environment from cdk.json, selected with -c env=NAME."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

import app as app_module
from cdk_sklearn.config import ConfigError
from tests.conftest import PROJECT_DIR, SKIP_BUNDLING


def context(iris_model: Path, env: str | None = None) -> dict[str, object]:
    cdk_json = json.loads((PROJECT_DIR / "cdk.json").read_text())["context"]
    for settings in cdk_json["environments"].values():
        settings["model_path"] = str(iris_model)
    cdk_json.update(SKIP_BUNDLING)
    if env:
        cdk_json["env"] = env
    return cdk_json


def template_of(app) -> Template:
    (stack,) = [c for c in app.node.children if hasattr(c, "template_options")]
    return Template.from_stack(stack)


def test_cdk_json_defines_dev_and_prod():
    environments = json.loads((PROJECT_DIR / "cdk.json").read_text())["context"]["environments"]
    assert {"dev", "prod"} <= set(environments)


def test_dev_has_no_provisioned_concurrency(iris_model):
    template = template_of(app_module.build_app(context(iris_model)))
    (alias,) = template.find_resources("AWS::Lambda::Alias").values()
    assert "ProvisionedConcurrencyConfig" not in alias["Properties"]


def test_prod_has_provisioned_concurrency_2(iris_model):
    template = template_of(app_module.build_app(context(iris_model, "prod")))
    template.has_resource_properties(
        "AWS::Lambda::Alias", {"ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 2}}
    )


def test_stack_is_named_after_environment(iris_model):
    app = app_module.build_app(context(iris_model, "prod"))
    assert [c.node.id for c in app.node.children if hasattr(c, "template_options")] == [
        "SklearnEndpoint-prod"
    ]


def test_fails_on_unknown_environment(iris_model):
    with pytest.raises(ConfigError, match="allowed: dev, prod, prod-mi, staging"):
        app_module.build_app(context(iris_model, "qa"))


def test_python_app_py_stops_with_one_line(iris_model, tmp_path):
    env = dict(os.environ, CDK_CONTEXT_JSON=json.dumps({"env": "qa"}), CDK_OUTDIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("cdk-sklearn:")]
    assert lines == [
        "cdk-sklearn: unknown environment 'qa'; allowed: dev, prod, prod-mi, staging "
        "(select one with -c env=NAME, defined under context.environments in cdk.json)"
    ]
    assert "Traceback" not in result.stderr


def test_staging_uses_snapstart(iris_model):
    template = template_of(app_module.build_app(context(iris_model, "staging")))
    template.has_resource_properties("AWS::Lambda::Function", {"SnapStart": {"ApplyOn": "PublishedVersions"}})


def test_prod_autoscales_2_to_10(iris_model):
    template = template_of(app_module.build_app(context(iris_model, "prod")))
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget", {"MinCapacity": 2, "MaxCapacity": 10}
    )


def test_prod_mi_runs_on_managed_instances_publishing_only_the_alias_version(iris_model):
    template = template_of(app_module.build_app(context(iris_model, "prod-mi")))
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"CapacityProviderConfig": Match.any_value(), "PublishToLatestPublished": False, "MemorySize": 4096},
    )
    template.has_resource_properties(
        "AWS::Lambda::Version",
        {"FunctionScalingConfig": {"MinExecutionEnvironments": 3, "MaxExecutionEnvironments": 12}},
    )


def test_build_app_merges_the_given_context_over_cdk_json(demo_model):
    # As `cdk synth -c env=prod` does: cdk.json's environments stay, the given key selects one.
    app = app_module.build_app({"env": "prod", **SKIP_BUNDLING})
    (stack,) = [child for child in app.node.children if isinstance(child, cdk.Stack)]
    assert stack.stack_name == "SklearnEndpoint-prod"
