"""The capacity provider, and the function attached to it with only the alias's version published.

``publish_to_latest_published=False``: Lambda Managed Instances can publish every change to a
``$LATEST.PUBLISHED`` version too, which keeps ``min_environments`` of its own running; the endpoint only
ever invokes the ``live`` alias, so a second fleet would double the floor for nothing. The alias's version
(the function's ``current_version``) carries the scaling bounds instead (``FunctionScalingConfig`` on the
``AWS::Lambda::Version``).
"""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from cdk_sklearn.managed_instances.network import Network
from cdk_sklearn.managed_instances.props import ManagedInstancesProps
from cdk_sklearn.nag import acknowledge

OPERATOR_POLICY = "AWSLambdaManagedEC2ResourceOperator"
OPERATOR_REASON = (
    f"The capacity provider's operator role carries {OPERATOR_POLICY}, the AWS-maintained policy Lambda "
    "needs to launch, patch and stop the instances it manages for this function (CDK attaches it; an inline "
    "copy would freeze a policy AWS keeps current with the service)."
)


def version_options(props: ManagedInstancesProps) -> lambda_.VersionOptions:
    """The scaling bounds of the alias's version: ``min_environments`` and ``max_environments``."""
    return lambda_.VersionOptions(
        min_execution_environments=props.min_environments,
        max_execution_environments=props.max_environments,
    )


def attach_capacity(
    scope: Construct,
    function: lambda_.Function,
    props: ManagedInstancesProps,
    *,
    network: Network,
    architecture: lambda_.Architecture,
    max_concurrency: int,
) -> lambda_.CapacityProvider:
    """Create the capacity provider (``CapacityProvider`` under ``scope``) and attach ``function`` to it.

    Parameters
    ----------
    scope
        The construct the capacity provider belongs to.
    function
        The model function, built with :func:`version_options` as its current version's options.
    props
        The managed-instances props.
    network
        Where the instances run.
    architecture
        The function's architecture: the capacity provider launches only instances of it.
    max_concurrency
        The worker processes per execution environment (checked against memory by the endpoint).
    """
    instance_filter = (
        lambda_.InstanceTypeFilter.allow([ec2.InstanceType(t) for t in props.instance_types])
        if props.instance_types
        else None
    )
    provider = lambda_.CapacityProvider(
        scope,
        "CapacityProvider",
        subnets=list(network.subnets),
        security_groups=list(network.security_groups),
        architectures=[architecture],
        instance_type_filter=instance_filter,
        max_v_cpu_count=props.max_vcpus,
    )
    provider.add_function(
        function,
        per_execution_environment_max_concurrency=max_concurrency,
        execution_environment_memory_gib_per_v_cpu=props.memory_gib_per_vcpu,
        publish_to_latest_published=False,
    )
    acknowledge(
        provider,
        f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{OPERATOR_POLICY}]",
        OPERATOR_REASON,
    )
    return provider
