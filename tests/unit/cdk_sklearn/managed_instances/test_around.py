"""Everything around a function on managed instances: several endpoints in one stack, a shared API, batch
scoring on the endpoint, rollout off, the capacity alarm, a network by ID from cdk.json, and the move of an
environment from on demand (which logical IDs persist, which are replaced, and that none collide)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

import app as app_module
from cdk_sklearn.batch.scoring import SklearnBatchScoring
from cdk_sklearn.endpoint import SklearnLambdaEndpoint
from cdk_sklearn.front_door import SharedHttpApi
from devtools.checks import check_environment, nag_findings
from tests.conftest import PROJECT_DIR, SKIP_BUNDLING
from tests.unit.cdk_sklearn.managed_instances.test_template_schema import schema

MI: dict[str, Any] = {"compute": "managed_instances", "memory_size": 4096}


def of_type(template: dict[str, Any], type_name: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_name}


@pytest.fixture(scope="module")
def two(iris_model: Path) -> tuple[cdk.App, cdk.Stack, list[SklearnLambdaEndpoint]]:
    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "S")
    api = SharedHttpApi(stack, "Api")
    endpoints = [
        SklearnLambdaEndpoint(stack, "A", model_path=str(iris_model), model_name="a", **MI),
        SklearnLambdaEndpoint(stack, "B", model_path=str(iris_model), model_name="b", **MI),
        SklearnLambdaEndpoint(stack, "C", model_path=str(iris_model), model_name="c", shared_api=api, **MI),
        SklearnLambdaEndpoint(stack, "D", model_path=str(iris_model), model_name="d", shared_api=api, **MI),
    ]
    return app, stack, endpoints


def test_each_endpoint_gets_its_own_capacity_provider_and_vpc(two) -> None:
    # A capacity provider is the security boundary between functions (AWS): one per endpoint.
    _, stack, endpoints = two
    template = Template.from_stack(stack).to_json()
    assert len(of_type(template, "AWS::Lambda::CapacityProvider")) == 4
    assert len(of_type(template, "AWS::EC2::VPC")) == 4
    assert len({e.capacity_provider.node.path for e in endpoints if e.capacity_provider}) == 4


def test_several_endpoints_and_a_shared_api_leave_no_finding(two) -> None:
    app, _, _ = two
    assert nag_findings(app) == []


def test_shared_api_routes_invoke_each_models_alias(two) -> None:
    _, stack, endpoints = two
    template = Template.from_stack(stack).to_json()
    for endpoint in endpoints[2:]:
        alias_id = stack.get_logical_id(endpoint.alias.node.default_child)
        permissions = [
            p
            for p in of_type(template, "AWS::Lambda::Permission").values()
            if p["Properties"]["FunctionName"] == {"Ref": alias_id}
        ]
        assert permissions, f"no route invokes {endpoint.node.id}'s live alias"


def test_batch_scoring_runs_on_the_endpoints_alias(iris_model) -> None:
    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "S")
    endpoint = SklearnLambdaEndpoint(stack, "E", model_path=str(iris_model), **MI)
    bucket = s3.Bucket(stack, "In")
    batch = SklearnBatchScoring(
        stack, "Batch", endpoint=endpoint, input_bucket=bucket, input_prefix="in/", output_prefix="out/"
    )
    assert batch.function is endpoint.alias
    template = Template.from_stack(stack).to_json()
    assert len(of_type(template, "AWS::Lambda::CapacityProvider")) == 1
    handlers = [f["Properties"].get("Handler") for f in of_type(template, "AWS::Lambda::Function").values()]
    assert handlers.count("lambda_runtime.handler.handler") == 1, "no on-demand function of the job's own"


def test_rollout_none_has_no_codedeploy_and_no_unproven_warning(iris_model) -> None:
    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "S")
    endpoint = SklearnLambdaEndpoint(stack, "E", model_path=str(iris_model), rollout="none", **MI)
    Template.from_stack(stack).resource_count_is("AWS::CodeDeploy::DeploymentGroup", 0)
    warnings = [str(e.data) for e in endpoint.node.metadata if e.type == "aws:cdk:warning"]
    assert not [w for w in warnings if "managed-instances-rollout" in w or "unproven" in w]


def test_capacity_alarm_shows_missing_cpu_data_instead_of_ok(iris_model) -> None:
    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "S")
    SklearnLambdaEndpoint(stack, "E", model_path=str(iris_model), **MI)
    alarms = of_type(Template.from_stack(stack).to_json(), "AWS::CloudWatch::Alarm").values()
    ((alarm),) = [a["Properties"] for a in alarms if a["Properties"].get("MetricName") == "CPUUtilization"]
    assert alarm["TreatMissingData"] == "missing"


def test_prod_mi_in_your_network_by_id_is_clean(demo_model) -> None:
    context = json.loads((PROJECT_DIR / "cdk.json").read_text())["context"]
    prod_mi = context["environments"]["prod-mi"]
    network = {
        "subnet_ids": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
        "security_group_ids": ["sg-0123456789abcdef0"],
    }
    mine = {**prod_mi, "managed_instances": {**prod_mi["managed_instances"], **network}}
    context = {**context, "environments": {**context["environments"], "prod-mi": mine}}
    assert check_environment(app_module.build_app, context, "prod-mi") == []


# -- moving an environment from on demand -------------------------------------------------------------------


def _resources(model: Path, **props: Any) -> dict[str, Any]:
    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "S")
    SklearnLambdaEndpoint(stack, "E", model_path=str(model), memory_size=4096, **props)
    return dict(Template.from_stack(stack).to_json()["Resources"])


@pytest.fixture(scope="module")
def moved(iris_model: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    return _resources(iris_model), _resources(iris_model, compute="managed_instances")


def _replaced(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[str]]:
    """Resources kept by logical ID whose change CloudFormation can only make by replacing them."""
    replaced = {}
    for logical_id in before.keys() & after.keys():
        old, new = before[logical_id], after[logical_id]
        create_only = {p.split("/")[-1] for p in schema(old["Type"]).get("createOnlyProperties", [])}
        changed = {
            p
            for p in old.get("Properties", {}).keys() | new.get("Properties", {}).keys()
            if old.get("Properties", {}).get(p) != new.get("Properties", {}).get(p)
        }
        if changed & create_only:
            replaced[logical_id] = sorted(changed & create_only)
    return replaced


def test_switching_compute_creates_a_new_function_and_version(moved) -> None:
    before, after = moved
    functions = {
        k for k, v in before.items() if v["Type"] in ("AWS::Lambda::Function", "AWS::Lambda::Version")
    }
    new = {k for k, v in after.items() if v["Type"] in ("AWS::Lambda::Function", "AWS::Lambda::Version")}
    model = {k for k in functions if "Function" in k and "Custom" not in k}
    assert model and not model & new, "the on-demand function is never updated in place onto a provider"


def test_switching_compute_replaces_only_the_alias(moved) -> None:
    # The alias moves to the new function (FunctionName is create-only): a new "live" alias on a function
    # of another name, so the two never collide; everything else updates in place.
    before, after = moved
    replaced = _replaced(before, after)
    assert list(replaced.values()) == [["FunctionName"]]
    ((alias_id),) = replaced
    assert after[alias_id]["Type"] == "AWS::Lambda::Alias"


def test_no_resource_of_either_side_has_a_fixed_name(moved) -> None:
    # A replacement creates the new resource before deleting the old: a fixed physical name would collide.
    names = ("FunctionName", "LogGroupName", "AlarmName", "CapacityProviderName", "RoleName")
    for resources in moved:
        for logical_id, resource in resources.items():
            if resource["Type"] in ("AWS::Lambda::Alias", "AWS::Lambda::Permission", "AWS::Lambda::Version"):
                continue  # their FunctionName is the function they belong to, not their own name
            fixed = [n for n in names if isinstance(resource.get("Properties", {}).get(n), str)]
            assert not fixed, f"{logical_id} has a fixed {fixed}"
