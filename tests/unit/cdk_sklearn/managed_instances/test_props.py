"""ManagedInstancesProps: the Lambda API's ranges and the network's combinations, every refusal."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2

from cdk_sklearn.managed_instances import ManagedInstancesProps, instance_architecture
from cdk_sklearn.validation import PropsError

SUBNET = "subnet-0123456789abcdef0"
GROUP = "sg-0123456789abcdef0"


def test_defaults_are_aws_floor_and_python_best_practice() -> None:
    props = ManagedInstancesProps()
    assert (props.min_environments, props.memory_gib_per_vcpu, props.nat_gateways, props.flow_logs) == (
        3,
        4.0,
        0,
        True,
    )
    assert props.max_concurrency is None and not props.user_network


@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("min_environments", 0),
        ("min_environments", 15001),
        ("max_concurrency", 0),
        ("max_concurrency", 1601),
        ("memory_gib_per_vcpu", 1.5),
        ("memory_gib_per_vcpu", 8.5),
        ("memory_gib_per_vcpu", 3.0),
        ("memory_gib_per_vcpu", True),
        ("max_vcpus", 11),
        ("max_vcpus", 15001),
        ("nat_gateways", 4),
        ("flow_logs", "yes"),
        ("instance_types", "m7g.large"),
        ("instance_types", ["M7G LARGE"]),
    ],
)
def test_fails_outside_the_api_ranges(prop: str, value: Any) -> None:
    with pytest.raises(PropsError, match=f"{prop}="):
        ManagedInstancesProps(**{prop: value})


def test_fails_on_max_environments_below_min() -> None:
    with pytest.raises(
        PropsError, match="max_environments=2 is invalid; allowed: an integer from 3 to 15000"
    ):
        ManagedInstancesProps(max_environments=2)


def test_fails_on_17_subnets() -> None:
    subnets = [f"subnet-{i:017x}" for i in range(17)]
    with pytest.raises(PropsError, match=r"subnet_ids=.*1 to 16"):
        ManagedInstancesProps(subnet_ids=subnets, security_group_ids=[GROUP])


def test_fails_on_6_security_groups() -> None:
    groups = [f"sg-{i:017x}" for i in range(6)]
    with pytest.raises(PropsError, match=r"security_group_ids=.*1 to 5"):
        ManagedInstancesProps(subnet_ids=[SUBNET], security_group_ids=groups)


def test_fails_on_subnets_without_security_groups() -> None:
    with pytest.raises(PropsError, match="subnet_ids and security_group_ids together"):
        ManagedInstancesProps(subnet_ids=[SUBNET])


def test_fails_on_nat_gateways_in_your_own_network() -> None:
    with pytest.raises(PropsError, match="nat_gateways=1 is invalid; allowed: 0 with your own network"):
        ManagedInstancesProps(subnet_ids=[SUBNET], security_group_ids=[GROUP], nat_gateways=1)


def test_fails_on_subnet_objects_without_groups_or_vpc() -> None:
    stack = cdk.Stack()
    subnet = ec2.Subnet.from_subnet_id(stack, "S", SUBNET)
    with pytest.raises(PropsError, match="security_groups"):
        ManagedInstancesProps(subnets=[subnet])


def test_fails_on_strings_given_as_subnet_objects() -> None:
    with pytest.raises(PropsError, match=r"aws_ec2\.ISubnet"):
        ManagedInstancesProps(subnets=[SUBNET])


def test_cdk_json_section_names_the_key() -> None:
    with pytest.raises(PropsError, match=r"managed_instances\.max_concurrency=0"):
        ManagedInstancesProps.from_config({"max_concurrency": 0}, owner="SklearnLambdaEndpoint")


def test_fails_on_the_python_objects_in_cdk_json() -> None:
    with pytest.raises(PropsError, match="unknown: vpc"):
        ManagedInstancesProps.from_config({"vpc": "vpc-1"})


@pytest.mark.parametrize(
    ("instance_type", "architecture"),
    [
        ("m7g.large", "arm64"),
        ("c7gn.xlarge", "arm64"),
        ("r8gd.2xlarge", "arm64"),
        ("a1.large", "arm64"),
        ("m7i.large", "x86_64"),
        ("c6in.xlarge", "x86_64"),
        ("m5.large", "x86_64"),
    ],
)
def test_instance_architecture_follows_the_graviton_family_letter(
    instance_type: str, architecture: str
) -> None:
    assert instance_architecture(instance_type) == architecture


@pytest.mark.parametrize(
    ("settings", "prop", "fix"),
    [
        ({"runtime": "python3.12"}, "runtime", "runtime='python3.13'"),
        ({"memory_size": 1024}, "memory_size", "memory_size=2048"),
        ({"memory_size": 2048}, "memory_size", "set memory_size=4096, or memory_gib_per_vcpu=2.0"),
        ({"cold_start": "provisioned"}, "cold_start", "strategy 'none'"),
        ({"cold_start": "snapstart"}, "cold_start", "strategy 'none'"),
        ({"architecture": "x86_64"}, "managed_instances.instance_types", "m7g.large is arm64"),
    ],
)
def test_fails_on_a_function_managed_instances_cannot_run(
    settings: dict[str, Any], prop: str, fix: str
) -> None:
    function = {"runtime": "python3.13", "architecture": "arm64", "memory_size": 4096, "cold_start": "none"}
    with pytest.raises(PropsError, match=f"{prop}=") as info:
        ManagedInstancesProps(instance_types=("m7g.large",)).check_function(**{**function, **settings})
    assert fix in str(info.value)


def test_default_concurrency_is_one_process_per_vcpu() -> None:
    # 8192 MB at 4 GiB per vCPU: 2 vCPUs, and 2 x 150 MB fits.
    assert ManagedInstancesProps().concurrency(8192, 150) == 2


def test_default_concurrency_is_at_most_what_fits() -> None:
    # 8192 MB at 2 GiB per vCPU: 4 vCPUs, but 3 x 2500 MB is all that fits.
    assert ManagedInstancesProps(memory_gib_per_vcpu=2.0).concurrency(8192, 2500) == 3


def test_fails_on_more_processes_than_fit_and_gives_the_largest() -> None:
    with pytest.raises(PropsError, match="max_concurrency=8 is invalid; allowed: at most 5") as info:
        ManagedInstancesProps(max_concurrency=8).concurrency(4096, 800)
    assert "memory_size=6400" in str(info.value)
