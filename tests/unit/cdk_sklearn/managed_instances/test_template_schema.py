"""The managed-instances template against what CloudFormation accepts: the resource schemas cfn-lint ships
(AWS's registry schemas) for ``AWS::Lambda::CapacityProvider``, ``AWS::Lambda::Function`` and
``AWS::Lambda::Version``, and the roles Lambda documents (the operator role's AWS managed policy; no VPC
permissions for a function whose network is its capacity provider's)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import cfnlint
import pytest
from aws_cdk.assertions import Template

from cdk_sklearn.endpoint import SklearnLambdaEndpoint
from cdk_sklearn.managed_instances import props as mi
from tests.conftest import SKIP_BUNDLING

SCHEMAS = Path(cfnlint.__file__).parent / "data" / "schemas"


def schema(type_name: str) -> dict[str, Any]:
    """The registry schema of ``type_name`` as cfn-lint ships it for us-east-1."""
    index = json.loads((SCHEMAS / "providers" / "us-east-1.json").read_text())
    return json.loads((SCHEMAS / "resources" / f"{index[type_name]}.json").read_text())


def bounds(definition: dict[str, Any]) -> tuple[float, float]:
    return definition["minimum"], definition["maximum"]


@pytest.fixture(scope="module")
def template(iris_model: Path) -> dict[str, Any]:
    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "S")
    SklearnLambdaEndpoint(
        stack,
        "E",
        model_path=str(iris_model),
        compute="managed_instances",
        memory_size=4096,
        tracing=True,
        managed_instances={"max_environments": 6, "max_concurrency": 2, "max_vcpus": 24},
    )
    return Template.from_stack(stack).to_json()


def resources(template: dict[str, Any], type_name: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_name}


def model_function(template: dict[str, Any]) -> dict[str, Any]:
    (function,) = [
        f["Properties"]
        for f in resources(template, "AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == "lambda_runtime.handler.handler"
    ]
    return function


# -- the props' ranges lie inside the schemas' -------------------------------------------------------------


def test_scaling_bounds_are_inside_the_version_schema() -> None:
    scaling = schema("AWS::Lambda::Version")["definitions"]["FunctionScalingConfig"]["properties"]
    for key in ("MinExecutionEnvironments", "MaxExecutionEnvironments"):
        low, high = bounds(scaling[key])
        assert low <= mi.ENVIRONMENTS[0] and mi.ENVIRONMENTS[1] <= high


def test_concurrency_and_ratio_are_inside_the_function_schema() -> None:
    config = schema("AWS::Lambda::Function")["definitions"]["LambdaManagedInstancesCapacityProviderConfig"]
    assert bounds(config["properties"]["PerExecutionEnvironmentMaxConcurrency"]) == mi.CONCURRENCY
    low, high = bounds(config["properties"]["ExecutionEnvironmentMemoryGiBPerVCpu"])
    assert all(low <= ratio <= high for ratio in mi.GIB_PER_VCPU)


def test_network_and_vcpu_limits_are_inside_the_capacity_provider_schema() -> None:
    definitions = schema("AWS::Lambda::CapacityProvider")["definitions"]
    vpc = definitions["CapacityProviderVpcConfig"]["properties"]
    assert (vpc["SubnetIds"]["minItems"], vpc["SubnetIds"]["maxItems"]) == mi.SUBNETS
    assert vpc["SecurityGroupIds"]["maxItems"] == mi.SECURITY_GROUPS[1]
    low, high = bounds(definitions["CapacityProviderScalingConfig"]["properties"]["MaxVCpuCount"])
    assert low <= mi.MAX_VCPUS[0] and mi.MAX_VCPUS[1] <= high


# -- the synthesized resources ---------------------------------------------------------------------------


def test_capacity_provider_has_every_required_property(template) -> None:
    required = schema("AWS::Lambda::CapacityProvider")["required"]
    ((provider),) = resources(template, "AWS::Lambda::CapacityProvider").values()
    assert set(required) <= set(provider["Properties"])
    assert len(provider["Properties"]["InstanceRequirements"]["Architectures"]) == 1  # the schema's maxItems


def test_function_carries_the_concurrency_and_ratio_asked(template) -> None:
    config = model_function(template)["CapacityProviderConfig"][
        "LambdaManagedInstancesCapacityProviderConfig"
    ]
    assert config["PerExecutionEnvironmentMaxConcurrency"] == 2
    assert config["ExecutionEnvironmentMemoryGiBPerVCpu"] == 4


def test_only_the_alias_version_is_published_with_the_bounds(template) -> None:
    function = model_function(template)
    assert function["PublishToLatestPublished"] is False
    ((version_id, version),) = resources(template, "AWS::Lambda::Version").items()
    assert version["Properties"]["FunctionScalingConfig"] == {
        "MinExecutionEnvironments": 3,
        "MaxExecutionEnvironments": 6,
    }
    ((alias),) = resources(template, "AWS::Lambda::Alias").values()
    assert alias["Properties"]["FunctionVersion"] == {"Fn::GetAtt": [version_id, "Version"]}


def test_function_has_no_vpc_config_and_its_role_no_network_permissions(template) -> None:
    # The capacity provider holds the network; the function's own role never creates network interfaces.
    assert "VpcConfig" not in model_function(template)
    role_id = model_function(template)["Role"]["Fn::GetAtt"][0]
    role = template["Resources"][role_id]["Properties"]
    assert "ManagedPolicyArns" not in role
    policies = [
        p["Properties"]["PolicyDocument"]
        for p in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
    ]
    actions = [
        action
        for document in policies
        for statement in document["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    ]
    assert actions and not [a for a in actions if a.startswith("ec2:")]


def test_operator_role_is_lambdas_with_the_aws_managed_policy(template) -> None:
    ((provider),) = resources(template, "AWS::Lambda::CapacityProvider").values()
    role_id = provider["Properties"]["PermissionsConfig"]["CapacityProviderOperatorRoleArn"]["Fn::GetAtt"][0]
    role = template["Resources"][role_id]["Properties"]
    ((statement),) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
    ((policy),) = role["ManagedPolicyArns"]
    assert policy["Fn::Join"][1][-1] == ":iam::aws:policy/AWSLambdaManagedEC2ResourceOperator"


def test_capacity_alarm_dimension_is_the_providers_name(template) -> None:
    # Ref of a resource is its primary identifier: for a capacity provider, its name (the dimension's value).
    assert schema("AWS::Lambda::CapacityProvider")["primaryIdentifier"] == [
        "/properties/CapacityProviderName"
    ]
    (provider_id,) = resources(template, "AWS::Lambda::CapacityProvider")
    alarms = [
        a["Properties"]
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "CPUUtilization"
    ]
    ((alarm),) = alarms
    assert alarm["Dimensions"] == [{"Name": "CapacityProviderName", "Value": {"Ref": provider_id}}]
