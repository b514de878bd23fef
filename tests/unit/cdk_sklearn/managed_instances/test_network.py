"""The VPC the construct makes for managed instances: zones, routes to S3, endpoints, security groups, NAT."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Template

from cdk_sklearn.endpoint import SklearnLambdaEndpoint
from cdk_sklearn.managed_instances import ManagedInstancesProps
from cdk_sklearn.validation import PropsError
from tests.conftest import SKIP_BUNDLING

ENV = cdk.Environment(account="123456789012", region="us-east-1")


def synth(model: Path, env: cdk.Environment | None = None, **managed: Any) -> dict[str, Any]:
    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "S", env=env)
    SklearnLambdaEndpoint(
        stack,
        "E",
        model_path=str(model),
        compute="managed_instances",
        memory_size=4096,
        managed_instances=managed,
    )
    return Template.from_stack(stack).to_json()


def of_type(template: dict[str, Any], type_name: str) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in template["Resources"].items() if v["Type"] == type_name}


def provider_subnets(template: dict[str, Any]) -> list[str]:
    ((provider),) = of_type(template, "AWS::Lambda::CapacityProvider").values()
    return [ref["Ref"] for ref in provider["VpcConfig"]["SubnetIds"]]


def route_tables_of(template: dict[str, Any], subnets: list[str]) -> set[str]:
    return {
        association["RouteTableId"]["Ref"]
        for association in of_type(template, "AWS::EC2::SubnetRouteTableAssociation").values()
        if association["SubnetId"]["Ref"] in subnets
    }


@pytest.fixture(scope="module")
def isolated(iris_model: Path) -> dict[str, Any]:
    return synth(iris_model)


@pytest.fixture(scope="module")
def with_nat(iris_model: Path) -> dict[str, Any]:
    return synth(iris_model, nat_gateways=2)


def test_environment_agnostic_stack_spreads_over_two_zones(isolated) -> None:
    # CDK's Stack without env names two zones (Fn::GetAZs, index 0 and 1): one subnet in each.
    subnets = provider_subnets(isolated)
    zones = [of_type(isolated, "AWS::EC2::Subnet")[s]["AvailabilityZone"] for s in subnets]
    assert zones == [{"Fn::Select": [i, {"Fn::GetAZs": ""}]} for i in (0, 1)]


def test_stack_with_an_environment_spreads_over_three_zones(iris_model) -> None:
    template = synth(iris_model, env=ENV)
    zones = {of_type(template, "AWS::EC2::Subnet")[s]["AvailabilityZone"] for s in provider_subnets(template)}
    assert len(zones) == 3


@pytest.mark.parametrize("case", ["isolated", "with_nat"])
def test_s3_gateway_endpoint_is_on_the_instances_route_tables(request, case: str) -> None:
    template = request.getfixturevalue(case)
    ((gateway),) = [
        e for e in of_type(template, "AWS::EC2::VPCEndpoint").values() if e["VpcEndpointType"] == "Gateway"
    ]
    attached = {ref["Ref"] for ref in gateway["RouteTableIds"]}
    assert route_tables_of(template, provider_subnets(template)) <= attached


@pytest.mark.parametrize("case", ["isolated", "with_nat"])
def test_instances_may_reach_the_s3_gateway_endpoint(request, case: str) -> None:
    # A gateway endpoint has no security group: traffic to it is addressed to S3's public ranges (the
    # prefix list), so the instances' egress must allow those, not only the interface endpoints' group.
    template = request.getfixturevalue(case)
    ((provider),) = of_type(template, "AWS::Lambda::CapacityProvider").values()
    ((group_ref),) = provider["VpcConfig"]["SecurityGroupIds"]
    egress = of_type(template, "AWS::EC2::SecurityGroup")[group_ref["Fn::GetAtt"][0]]["SecurityGroupEgress"]
    assert any(
        (rule.get("CidrIp") == "0.0.0.0/0" or "DestinationPrefixListId" in rule)
        and rule["IpProtocol"] == "tcp"
        and rule["FromPort"] <= 443 <= rule["ToPort"]
        for rule in egress
    ), egress


def test_interface_endpoints_resolve_privately_in_the_instances_subnets(isolated) -> None:
    interfaces = [
        e for e in of_type(isolated, "AWS::EC2::VPCEndpoint").values() if e["VpcEndpointType"] == "Interface"
    ]
    assert interfaces
    for endpoint in interfaces:
        assert endpoint["PrivateDnsEnabled"] is True
        assert [ref["Ref"] for ref in endpoint["SubnetIds"]] == provider_subnets(isolated)


def test_nat_gateways_sit_in_public_subnets_and_the_instances_stay_private(with_nat) -> None:
    assert len(of_type(with_nat, "AWS::EC2::NatGateway")) == 2
    subnets = of_type(with_nat, "AWS::EC2::Subnet")
    public = {
        k
        for k, s in subnets.items()
        if any(t["Value"] == "Public" for t in s["Tags"] if t["Key"] == "aws-cdk:subnet-type")
    }
    assert public and not public & set(provider_subnets(with_nat))
    for subnet in provider_subnets(with_nat):
        assert subnets[subnet]["MapPublicIpOnLaunch"] is False
    # The instances' subnets route to the internet through a NAT gateway, never an internet gateway.
    routes = [
        r
        for r in of_type(with_nat, "AWS::EC2::Route").values()
        if r["RouteTableId"]["Ref"] in route_tables_of(with_nat, provider_subnets(with_nat))
    ]
    assert routes and all("NatGatewayId" in r and "GatewayId" not in r for r in routes)


def test_fails_on_a_vpc_without_private_subnets_before_any_construct_exists(iris_model) -> None:
    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "S")
    public = ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC)
    vpc = ec2.Vpc(stack, "V", subnet_configuration=[public])
    with pytest.raises(
        PropsError, match=r"managed_instances\.vpc=.* is invalid; allowed: a VPC with private"
    ):
        SklearnLambdaEndpoint(
            stack,
            "E",
            model_path=str(iris_model),
            compute="managed_instances",
            memory_size=4096,
            managed_instances=ManagedInstancesProps(vpc=vpc),
        )
    assert stack.node.try_find_child("E") is None, "no half-built endpoint is left in the tree"
