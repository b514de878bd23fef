"""An endpoint on managed instances: the function, its version, the capacity provider and the VPC in the
template, the rules refused before any construct exists, and every front door on the alias."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Match, Template

from cdk_sklearn.endpoint import SklearnLambdaEndpoint
from cdk_sklearn.managed_instances import ManagedInstancesProps
from cdk_sklearn.validation import PropsError
from tests.conftest import SKIP_BUNDLING

MI = {"compute": "managed_instances", "memory_size": 4096}
ISOLATED = ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)


def synth(model: Path, **props: Any) -> tuple[SklearnLambdaEndpoint, Template, cdk.Stack]:
    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "Test")
    endpoint = SklearnLambdaEndpoint(stack, "Iris", model_path=str(model), **{**MI, **props})
    return endpoint, Template.from_stack(stack), stack


@pytest.fixture(scope="module")
def managed(iris_model: Path) -> tuple[SklearnLambdaEndpoint, Template, cdk.Stack]:
    return synth(
        iris_model,
        tracing=True,
        managed_instances={
            "max_environments": 12,
            "max_concurrency": 2,
            "instance_types": ["m7g.large", "m7g.xlarge"],
            "max_vcpus": 64,
        },
    )


def only(template: Template, type_: str) -> tuple[str, dict[str, Any]]:
    resources = template.find_resources(type_)
    assert len(resources) == 1, f"expected one {type_}, found {list(resources)}"
    return next(iter(resources.items()))


def model_function(template: Template) -> tuple[str, dict[str, Any]]:
    functions = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": "lambda_runtime.handler.handler"}}
    )
    (item,) = functions.items()
    return item


def test_function_is_attached_to_the_capacity_provider(managed) -> None:
    _, template, _ = managed
    provider_id, _ = only(template, "AWS::Lambda::CapacityProvider")
    _, function = model_function(template)
    assert function["Properties"]["CapacityProviderConfig"] == {
        "LambdaManagedInstancesCapacityProviderConfig": {
            "CapacityProviderArn": {"Fn::GetAtt": [provider_id, "Arn"]},
            "ExecutionEnvironmentMemoryGiBPerVCpu": 4,
            "PerExecutionEnvironmentMaxConcurrency": 2,
        }
    }


def test_only_the_alias_version_is_published(managed) -> None:
    _, template, _ = managed
    _, function = model_function(template)
    assert function["Properties"]["PublishToLatestPublished"] is False
    assert "FunctionScalingConfig" not in function["Properties"], "no $LATEST.PUBLISHED fleet to scale"


def test_alias_version_carries_the_scaling_bounds(managed) -> None:
    _, template, _ = managed
    version_id, version = only(template, "AWS::Lambda::Version")
    assert version["Properties"]["FunctionScalingConfig"] == {
        "MinExecutionEnvironments": 3,
        "MaxExecutionEnvironments": 12,
    }
    template.has_resource_properties(
        "AWS::Lambda::Alias", {"Name": "live", "FunctionVersion": {"Fn::GetAtt": [version_id, "Version"]}}
    )


def test_function_has_a_logical_id_of_its_own(managed, iris_model) -> None:
    endpoint, template, _ = managed
    managed_id, _ = model_function(template)
    _, on_demand, _ = synth(iris_model, compute="on_demand", memory_size=4096)
    on_demand_id, _ = model_function(on_demand)
    assert managed_id != on_demand_id
    assert endpoint.function.node.id == "ManagedFunction"


def test_one_thread_per_worker_process(managed) -> None:
    _, template, _ = managed
    _, function = model_function(template)
    assert function["Properties"]["Environment"]["Variables"]["OMP_NUM_THREADS"] == "1"


def test_capacity_provider_launches_the_allowed_types_of_the_architecture(managed) -> None:
    _, template, _ = managed
    template.has_resource_properties(
        "AWS::Lambda::CapacityProvider",
        {
            "InstanceRequirements": {
                "AllowedInstanceTypes": ["m7g.large", "m7g.xlarge"],
                "Architectures": ["arm64"],
            },
            "CapacityProviderScalingConfig": {"MaxVCpuCount": 64},
        },
    )


def test_vpc_is_isolated_without_nat(managed) -> None:
    _, template, _ = managed
    template.resource_count_is("AWS::EC2::NatGateway", 0)
    template.resource_count_is("AWS::EC2::InternetGateway", 0)
    for subnet in template.find_resources("AWS::EC2::Subnet").values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False
    template.resource_count_is("AWS::EC2::Route", 0)


def _endpoint_services(template: Template) -> list[str]:
    names = []
    for endpoint in template.find_resources("AWS::EC2::VPCEndpoint").values():
        name = endpoint["Properties"]["ServiceName"]
        names.append(name if isinstance(name, str) else str(name))
    return names


def test_vpc_reaches_s3_logs_and_xray_through_endpoints(managed) -> None:
    _, template, _ = managed
    template.has_resource_properties("AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Gateway"})
    services = " ".join(_endpoint_services(template))
    assert ".s3" in services and ".logs" in services and ".xray" in services


def test_no_xray_endpoint_without_tracing(iris_model) -> None:
    _, template, _ = synth(iris_model)
    services = " ".join(_endpoint_services(template))
    assert ".logs" in services and ".xray" not in services


def test_flow_logs_go_to_a_log_group_with_retention(managed) -> None:
    _, template, _ = managed
    template.has_resource_properties(
        "AWS::EC2::FlowLog", {"LogDestinationType": "cloud-watch-logs", "TrafficType": "ALL"}
    )


def test_no_flow_logs_when_asked(iris_model) -> None:
    _, template, _ = synth(iris_model, managed_instances={"flow_logs": False})
    template.resource_count_is("AWS::EC2::FlowLog", 0)


def test_instances_send_https_only_and_accept_nothing(managed) -> None:
    _, template, _ = managed
    groups = template.find_resources(
        "AWS::EC2::SecurityGroup",
        {"Properties": {"GroupDescription": Match.string_like_regexp("HTTPS out only")}},
    )
    ((group_id, group),) = groups.items()
    ((rule),) = group["Properties"]["SecurityGroupEgress"]
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 443, 443)
    assert "SecurityGroupIngress" not in group["Properties"]
    ingress = template.find_resources("AWS::EC2::SecurityGroupIngress")
    assert ingress, "the endpoints' group admits the instances"
    for rule in ingress.values():
        assert rule["Properties"]["SourceSecurityGroupId"] == {"Fn::GetAtt": [group_id, "GroupId"]}
        assert rule["Properties"]["FromPort"] == 443 == rule["Properties"]["ToPort"]


def test_nat_gateway_only_when_asked(iris_model) -> None:
    _, template, _ = synth(iris_model, managed_instances={"nat_gateways": 1})
    template.resource_count_is("AWS::EC2::NatGateway", 1)


def test_your_subnets_and_groups_create_no_vpc(iris_model) -> None:
    endpoint, template, _ = synth(
        iris_model,
        managed_instances={
            "subnet_ids": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
            "security_group_ids": ["sg-0123456789abcdef0"],
        },
    )
    template.resource_count_is("AWS::EC2::VPC", 0)
    template.has_resource_properties(
        "AWS::Lambda::CapacityProvider",
        {
            "VpcConfig": {
                "SubnetIds": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
                "SecurityGroupIds": ["sg-0123456789abcdef0"],
            }
        },
    )
    assert endpoint.vpc is None


@pytest.mark.parametrize("front_door", ["http_api", "rest_api", "function_url"])
def test_every_front_door_invokes_the_alias(iris_model, front_door: str) -> None:
    endpoint, template, stack = synth(iris_model, front_door=front_door)
    alias_id = stack.get_logical_id(endpoint.alias.node.default_child)
    if front_door == "function_url":
        _, url = only(template, "AWS::Lambda::Url")
        assert url["Properties"]["Qualifier"] == "live"
        return
    permissions = template.find_resources("AWS::Lambda::Permission")
    assert permissions and all(
        p["Properties"]["FunctionName"] == {"Ref": alias_id} for p in permissions.values()
    ), "every route invokes the live alias"


def test_monitoring_alarms_on_the_capacity_and_drops_spillover(managed) -> None:
    endpoint, _, _ = managed
    assert endpoint.monitoring is not None
    assert set(endpoint.monitoring.alarms) == {
        "server_error_rate",
        "latency_p99",
        "throttles",
        "capacity_cpu",
    }


def test_rollout_is_kept_and_marked_unproven(managed) -> None:
    endpoint, template, _ = managed
    template.resource_count_is("AWS::CodeDeploy::DeploymentGroup", 1)
    warnings = [entry.data for entry in endpoint.node.metadata if entry.type == "aws:cdk:warning"]
    assert any("unproven on AWS" in str(w) for w in warnings), warnings


def test_synth_line_prints_processes_and_the_floor(iris_model, capsys) -> None:
    synth(iris_model, managed_instances={"max_concurrency": 2})
    err = capsys.readouterr().err
    assert "managed instances: 2 process(es)" in err
    # 3 x m7g.large x $0.0816 x 1.15 x 730 h = $205.51; a Logs endpoint in 2 zones: 2 x $0.01 x 730 = $14.60
    assert "floor ~$220/month (3 x m7g.large" in err


def test_synth_line_floor_counts_the_xray_endpoint_and_flow_logs(iris_model, capsys) -> None:
    synth(iris_model, tracing=True)
    # 3 x m7g.large $205.51; Logs and X-Ray endpoints in 2 zones: 4 x $0.01 x 730 h = $29.20; flow logs
    # of 3 instances + 4 endpoint interfaces, 10 flows x 4,380 windows x 130 B at $0.50/GB = $0.02
    assert "floor ~$235/month (3 x m7g.large, EC2 + 15% fee; VPC $29)" in capsys.readouterr().err


def test_synth_line_says_when_the_floor_is_not_priced(iris_model, capsys) -> None:
    synth(iris_model, architecture="x86_64")
    assert "floor not priced: no price for an x86_64 instance type" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"runtime": "python3.12"}, "runtime='python3.13'"),
        ({"memory_size": 1024}, "memory_size=2048"),
        ({"provisioned_concurrency": 2}, "strategy 'none' on managed instances"),
        ({"cold_start": {"strategy": "snapstart"}}, "strategy 'none' on managed instances"),
        ({"managed_instances": {"max_concurrency": 40}}, "at most 26"),
        ({"managed_instances": {"instance_types": ["m7i.large"]}}, "m7i.large is x86_64"),
        ({"compute": "on_demand", "managed_instances": {}}, "not set unless compute='managed_instances'"),
        ({"compute": "ec2"}, "compute='ec2' is invalid"),
    ],
)
def test_fails_before_any_construct_exists(iris_model, props: dict[str, Any], message: str) -> None:
    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "Test")
    with pytest.raises(PropsError, match="SklearnLambdaEndpoint: ") as info:
        SklearnLambdaEndpoint(stack, "Iris", model_path=str(iris_model), **{**MI, **props})
    assert message in str(info.value)
    assert stack.node.try_find_child("Iris") is None


def test_a_stack_authors_vpc_gets_a_security_group_of_the_construct(iris_model) -> None:
    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "Test")
    vpc = ec2.Vpc(stack, "Shared", nat_gateways=0, subnet_configuration=[ISOLATED])
    endpoint = SklearnLambdaEndpoint(
        stack, "Iris", model_path=str(iris_model), **MI, managed_instances=ManagedInstancesProps(vpc=vpc)
    )
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::EC2::VPC", 1)
    assert endpoint.vpc is None, "the VPC is the stack author's, not the construct's"
    group_id = stack.get_logical_id(endpoint.node.find_child("InstancesSecurityGroup").node.default_child)
    subnet_ids = [{"Ref": stack.get_logical_id(s.node.default_child)} for s in vpc.isolated_subnets]
    template.has_resource_properties(
        "AWS::Lambda::CapacityProvider",
        {"VpcConfig": {"SubnetIds": subnet_ids, "SecurityGroupIds": [{"Fn::GetAtt": [group_id, "GroupId"]}]}},
    )


# -- memory: up to 32 GB on managed instances, 10,240 MB on demand (AWS facts §1.1) ------------------


def test_a_function_on_managed_instances_may_have_32768_mb(iris_model: Path) -> None:
    _, template, _ = synth(iris_model, memory_size=32768, managed_instances={"memory_gib_per_vcpu": 8.0})
    _, function = model_function(template)
    assert function["Properties"]["MemorySize"] == 32768


def test_fails_on_demand_above_10240_mb_pointing_to_managed_instances(iris_model: Path) -> None:
    stack = cdk.Stack(cdk.App(context=SKIP_BUNDLING), "Test")
    with pytest.raises(
        PropsError, match=r"SklearnLambdaEndpoint: memory_size=12288 .*compute='managed_instances'"
    ):
        SklearnLambdaEndpoint(stack, "Iris", model_path=str(iris_model), memory_size=12288)


def test_compute_sets_the_functions_memory_range(iris_model: Path) -> None:
    from cdk_sklearn.endpoint_props import EndpointProps

    props = EndpointProps.from_settings(model_path=iris_model, compute="managed_instances", memory_size=4096)
    assert props.function.on_managed_instances is True
    assert EndpointProps.from_settings(model_path=iris_model).function.on_managed_instances is False


def test_fails_on_function_props_that_disagree_with_compute(iris_model: Path) -> None:
    from cdk_sklearn.endpoint_props import EndpointProps
    from cdk_sklearn.model_function import ModelFunctionProps

    function = ModelFunctionProps(model_path=iris_model, memory_size=4096)
    with pytest.raises(PropsError, match=r"function.on_managed_instances=False is invalid; allowed: True"):
        EndpointProps(
            function=function, compute="managed_instances", managed_instances=ManagedInstancesProps()
        )
