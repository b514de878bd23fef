"""The proof app as the CDK synthesizes it: the names the proof looks things up by are really there.

The proof finds endpoints, functions, alarms and CodeDeploy groups in a deployed stack by output and
logical-id prefixes; these tests read those from the synthesized templates (never from the
construct's code) so a renamed construct id fails here, offline, instead of on AWS.
"""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Template

from devtools.awsproof import plan as plan_module
from devtools.awsproof.deploy import CONTEXT_MODEL, CONTEXT_RUN, StackResource, parse_outputs, resource_of
from devtools.awsproof.models import train_frame
from devtools.awsproof.plan import RUN_TAG, build_plan, read_environments
from devtools.awsproof.proof_app import build_proof_app
from devtools.awsproof.run import ROLLBACK_ALARM_STEMS
from tests.conftest import PROJECT_DIR, SKIP_BUNDLING

RUN = "ap2611300945c0de"


@pytest.fixture(scope="module")
def plan():
    return build_plan(RUN, "eu-west-1", None, read_environments(PROJECT_DIR / "cdk.json"))


@pytest.fixture(scope="module")
def templates(iris_model, tmp_path_factory):
    frame = train_frame(tmp_path_factory.mktemp("proof") / "frame.joblib")
    found = {}
    for env in plan_module.ENVIRONMENTS:
        context = {
            **SKIP_BUNDLING,
            "env": env,
            CONTEXT_RUN: RUN,
            CONTEXT_MODEL.format(key="iris"): str(iris_model),
            CONTEXT_MODEL.format(key="frame"): str(frame),
        }
        app = build_proof_app(context)
        stack = app.node.find_child(plan_module.stack_name(env, RUN))
        found[env] = Template.from_stack(stack).to_json()
    return found


def resources(template) -> list[StackResource]:
    return [StackResource(lid, lid, r["Type"]) for lid, r in template["Resources"].items()]


@pytest.mark.parametrize("env", plan_module.ENVIRONMENTS)
def test_outputs_give_the_proof_every_endpoints_url(templates, env, tmp_path):
    outputs = tmp_path / "outputs.json"
    stack = plan_module.stack_name(env, RUN)
    outputs.write_text(json.dumps({stack: {key: "https://x/" for key in templates[env]["Outputs"]}}))
    assert set(parse_outputs(outputs, stack)) == {"Iris", "Frame"}


@pytest.mark.parametrize("env", plan_module.ENVIRONMENTS)
def test_each_endpoint_has_the_one_function_the_proof_reads_logs_of(templates, env):
    found = resources(templates[env])
    assert all(resource_of(found, cid, "AWS::Lambda::Function", "Function") for cid in ("Iris", "Frame"))


def test_rollback_alarms_are_under_the_rollback_model(templates):
    alarms = [r.logical_id for r in resources(templates["prod"]) if r.type == "AWS::CloudWatch::Alarm"]
    assert all(any(a.startswith("Iris") and stem in a for a in alarms) for stem in ROLLBACK_ALARM_STEMS)


@pytest.mark.parametrize("type_", ["AWS::CodeDeploy::Application", "AWS::CodeDeploy::DeploymentGroup"])
def test_the_rollback_models_codedeploy_resources_are_found(templates, type_):
    assert resource_of(resources(templates["prod"]), "Iris", type_)


def test_model_names_are_the_plans(templates, plan):
    names = {
        r["Properties"]["Environment"]["Variables"]["MODEL_NAME"]
        for r in templates["prod"]["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
        and "MODEL_NAME" in r["Properties"].get("Environment", {}).get("Variables", {})
    }
    assert names == {m.model_name for m in plan.rollback_environment.models}


@pytest.mark.parametrize(
    ("env", "type_"),
    [
        ("dev", "AWS::Lambda::Url"),
        ("staging", "AWS::ApiGateway::RestApi"),
        ("prod", "AWS::ApiGatewayV2::Api"),
    ],
)
def test_each_environment_has_its_planned_front_door(templates, env, type_):
    assert any(r["Type"] == type_ for r in templates[env]["Resources"].values())


def test_functions_are_tagged_with_the_run(templates):
    functions = [r for r in templates["dev"]["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert all({"Key": RUN_TAG, "Value": RUN} in f["Properties"]["Tags"] for f in functions)


def test_plan_defaults_are_the_endpoints(iris_model):
    from cdk_sklearn.endpoint_props import EndpointProps

    props = EndpointProps.from_settings(model_path=str(iris_model))
    assert (
        props.function.memory_size,
        props.front_door.front_door,
        props.monitoring is not None,
        props.rollout.strategy,
    ) == (
        plan_module.DEFAULT_MEMORY_MB,
        plan_module.DEFAULT_FRONT_DOOR,
        plan_module.DEFAULT_MONITORING,
        plan_module.DEFAULT_ROLLOUT,
    )
