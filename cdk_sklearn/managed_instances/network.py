"""Where the managed instances run: the user's subnets and security groups, or a VPC made for them.

The VPC the construct makes has private isolated subnets across the zones the stack can see (three
with an account and region set; two for an environment-agnostic stack, which CDK cannot name more
zones for) and no route to the internet unless ``nat_gateways`` asks for one. What the function reaches
it reaches through VPC endpoints: S3 through a gateway endpoint (free; the model object), CloudWatch
Logs through an interface endpoint (the function's log lines and the runtime's metrics, which are log
lines), and X-Ray through another when tracing is on. Flow logs go to a log group of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk_sklearn.managed_instances.props import ManagedInstancesProps
from cdk_sklearn.nag import (
    acknowledge,
    acknowledge_compliance,
    acknowledge_inline_policy,
    acknowledge_log_group,
)
from cdk_sklearn.validation import PropsError

HTTPS = 443
MAX_ZONES = 3
"""The zones the created VPC spans when the stack names its account and region."""
AGNOSTIC_ZONES = 2
"""The zones CDK gives an environment-agnostic stack (it cannot name more without an account and region)."""


def zones_of(*, environment_bound: bool) -> int:
    """The zones the created VPC spans: :data:`MAX_ZONES` for a stack with an account and region set,
    else :data:`AGNOSTIC_ZONES`."""
    return MAX_ZONES if environment_bound else AGNOSTIC_ZONES


@dataclass(frozen=True)
class Network:
    """The network the capacity provider launches its instances in.

    Attributes
    ----------
    subnets, security_groups
        What the capacity provider gets.
    vpc
        The VPC the construct created, or None for the user's network.
    interface_endpoints
        The interface endpoints created (billed per zone), by name.
    """

    subnets: tuple[ec2.ISubnet, ...]
    security_groups: tuple[ec2.ISecurityGroup, ...]
    vpc: ec2.Vpc | None = None
    interface_endpoints: tuple[str, ...] = ()

    @property
    def availability_zones(self) -> int:
        """The zones the subnets are in (3 assumed for the user's network)."""
        return len(self.vpc.availability_zones) if self.vpc is not None else 3


def build_network(
    scope: Construct, props: ManagedInstancesProps, *, tracing: bool, retention: logs.RetentionDays
) -> Network:
    """The user's network from ``props``, or a VPC created under ``scope`` (``Vpc`` and its parts).

    Parameters
    ----------
    scope
        Where created resources go.
    props
        The managed-instances props (subnets and groups by ID or as objects, or none).
    tracing
        Whether the function traces to X-Ray: the created VPC then gets an X-Ray interface endpoint.
    retention
        The flow logs' retention (the function's log retention).
    """
    if props.subnet_ids:
        return Network(
            subnets=tuple(
                ec2.Subnet.from_subnet_id(scope, f"Subnet{i}", subnet_id)
                for i, subnet_id in enumerate(props.subnet_ids)
            ),
            security_groups=tuple(
                ec2.SecurityGroup.from_security_group_id(scope, f"SecurityGroup{i}", group_id, mutable=False)
                for i, group_id in enumerate(props.security_group_ids)
            ),
        )
    if props.vpc is not None or props.subnets:
        subnets = props.subnets or _private_subnets(props.vpc)
        # The props guarantee a vpc to create the group in when no security_groups are given.
        groups = props.security_groups or (_instances_group(scope, props.vpc),)
        return Network(subnets=tuple(subnets), security_groups=tuple(groups))
    return _created_network(scope, props, tracing=tracing, retention=retention)


def check_network(props: ManagedInstancesProps) -> None:
    """Refuse a network the instances cannot be placed in, before any construct exists.

    Raises
    ------
    PropsError
        A ``vpc`` given alone (no ``subnets``) that has no private or isolated subnet, the only kind the
        construct places instances in.
    """
    if props.vpc is not None and not props.subnets and not _private_subnets(props.vpc):
        raise PropsError(
            props.owner,
            "managed_instances.vpc",
            props.vpc.node.path,
            "a VPC with private or isolated subnets (the instances' place), or pass subnets= to choose them",
        )


def _private_subnets(vpc: ec2.IVpc | None) -> tuple[ec2.ISubnet, ...]:
    # check_network has refused a vpc without them; props allow a vpc alone, or subnets.
    assert vpc is not None
    return tuple(vpc.private_subnets) or tuple(vpc.isolated_subnets)


def _instances_group(scope: Construct, vpc: ec2.IVpc | None) -> ec2.SecurityGroup:
    assert vpc is not None
    group = ec2.SecurityGroup(
        scope,
        "InstancesSecurityGroup",
        vpc=vpc,
        description="cdk-sklearn managed instances: HTTPS out only (S3, CloudWatch Logs, X-Ray), nothing in",
        allow_all_outbound=False,
    )
    # HTTPS to anywhere: the S3 gateway endpoint's prefix list cannot be named in a template without a
    # context lookup. In isolated subnets (no NAT) that reaches nothing but the VPC endpoints.
    group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(HTTPS), "HTTPS to the VPC endpoints and S3")
    return group


def _created_network(
    scope: Construct, props: ManagedInstancesProps, *, tracing: bool, retention: logs.RetentionDays
) -> Network:
    isolated = props.nat_gateways == 0
    subnets = [
        ec2.SubnetConfiguration(
            name="Instances",
            subnet_type=ec2.SubnetType.PRIVATE_ISOLATED if isolated else ec2.SubnetType.PRIVATE_WITH_EGRESS,
            cidr_mask=20,
        )
    ]
    if not isolated:
        # The NAT gateways' subnets: nothing else is launched there, so no public addresses by default.
        subnets.append(
            ec2.SubnetConfiguration(
                name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24, map_public_ip_on_launch=False
            )
        )
    vpc = ec2.Vpc(
        scope,
        "Vpc",
        ip_addresses=ec2.IpAddresses.cidr("10.0.0.0/16"),
        max_azs=MAX_ZONES,
        nat_gateways=props.nat_gateways,
        subnet_configuration=subnets,
        restrict_default_security_group=True,
    )
    vpc.add_gateway_endpoint("S3Endpoint", service=ec2.GatewayVpcEndpointAwsService.S3)
    group = _instances_group(scope, vpc)
    # The endpoints accept HTTPS from the instances' group only (not the whole VPC's CIDR).
    endpoint_group = ec2.SecurityGroup(
        scope,
        "EndpointsSecurityGroup",
        vpc=vpc,
        description="cdk-sklearn managed instances VPC endpoints: HTTPS from the instances only",
        allow_all_outbound=False,
    )
    endpoint_group.add_ingress_rule(group, ec2.Port.tcp(HTTPS), "HTTPS from the managed instances")
    services = {
        "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
        "XRay": ec2.InterfaceVpcEndpointAwsService.XRAY,
    }
    endpoints = {name: services[name] for name in props.interface_endpoints(tracing=tracing)}
    for name, service in endpoints.items():
        # Private DNS: the SDK's default endpoint names resolve to the endpoint inside the VPC.
        vpc.add_interface_endpoint(
            f"{name}Endpoint",
            service=service,
            private_dns_enabled=True,
            open=False,
            security_groups=[endpoint_group],
        )
    _flow_logs(scope, vpc, props, retention)
    for subnet in vpc.public_subnets:
        acknowledge_compliance(
            subnet,
            "VPCNoUnrestrictedRouteToIGW",
            f"managed_instances.nat_gateways={props.nat_gateways}: this public subnet holds a NAT gateway, "
            "whose route to the internet gateway is what a NAT gateway is for; the instances are in "
            "private subnets and accept no inbound traffic.",
        )
    chosen = vpc.isolated_subnets if isolated else vpc.private_subnets
    return Network(
        subnets=tuple(chosen), security_groups=(group,), vpc=vpc, interface_endpoints=tuple(endpoints)
    )


def _flow_logs(
    scope: Construct, vpc: ec2.Vpc, props: ManagedInstancesProps, retention: logs.RetentionDays
) -> None:
    if not props.flow_logs:
        acknowledge(
            vpc,
            "AwsSolutions-VPC7",
            "managed_instances.flow_logs=False: the owner chose no VPC flow logs (the VPC holds only the "
            "function's instances, which accept no inbound traffic, and its endpoints).",
        )
        acknowledge_compliance(
            vpc,
            "VPCFlowLogsEnabled",
            "managed_instances.flow_logs=False: the owner chose no VPC flow logs (the VPC holds only the "
            "function's instances, which accept no inbound traffic, and its endpoints).",
        )
        return
    log_group = logs.LogGroup(
        scope, "FlowLogs", retention=retention, removal_policy=cdk.RemovalPolicy.DESTROY
    )
    acknowledge_log_group(log_group)
    flow_log = vpc.add_flow_log("FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(log_group))
    acknowledge_inline_policy(flow_log.node.try_find_child("IAMRole"))
