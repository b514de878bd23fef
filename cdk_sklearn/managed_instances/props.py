"""The props of Lambda Managed Instances: capacity, scaling, concurrency, network; checked once when made.

In cdk.json an environment on managed instances reads::

    "prod-mi": {"compute": "managed_instances", "runtime": "python3.13", "memory_size": 4096,
                "managed_instances": {"min_environments": 3, "max_environments": 12,
                                      "max_concurrency": 2, "memory_gib_per_vcpu": 4.0}}

Every range below is the Lambda API's (``API_LambdaManagedInstancesCapacityProviderConfig``,
``API_CreateCapacityProvider``; ``/work/shared/AWS-FACTS-2026.md`` section 1.1): this module is their one
home in the library, but for the defaults and the GiB-per-vCPU ratios, which
:mod:`cdk_sklearn.cost.lmi` holds so that ``cdk-sklearn cost`` prices them without starting the CDK. The
rules that need the function's settings too (runtime, memory, the cold-start strategy, the per-process
memory estimate) are :meth:`ManagedInstancesProps.check_function` and
:meth:`ManagedInstancesProps.check_concurrency`, which the endpoint calls before any construct exists.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypedDict

from aws_cdk import aws_ec2 as ec2

from cdk_sklearn.cost.lmi import (
    DEFAULT_GIB_PER_VCPU,
    DEFAULT_MIN_ENVIRONMENTS,
    GIB_PER_VCPU,
    Capacity,
    min_memory_mb,
)
from cdk_sklearn.validation import ConfigSection, PropsError, check_bool, check_int
from lambda_runtime import limits

OWNER = "ManagedInstancesProps"
SECTION = "managed_instances"

MIN_MEMORY_MB: Final = limits.MANAGED_INSTANCES_MEMORY_MB[0]
"""The smallest function Lambda Managed Instances run (2048 MB)."""
MIN_RUNTIME: Final = "python3.13"
"""The oldest Python runtime Lambda Managed Instances runs (lambda-managed-instances-runtimes.html)."""
RUNTIMES: Final[tuple[str, ...]] = tuple(r for r in limits.RUNTIMES if r >= MIN_RUNTIME)
"""The runtimes of :data:`lambda_runtime.limits.RUNTIMES` managed instances accept."""
ENVIRONMENTS: Final = (1, 15000)
"""Minimum and maximum execution environments of a version (FunctionScalingConfig)."""
CONCURRENCY: Final = (1, 1600)
"""PerExecutionEnvironmentMaxConcurrency: for Python, the worker processes of one environment."""
MAX_VCPUS: Final = (12, 15000)
"""A capacity provider's MaxVCpuCount (the service default is 400)."""
SUBNETS: Final = (1, 16)
SECURITY_GROUPS: Final = (1, 5)
MAX_NAT_GATEWAYS: Final = 3
"""One per availability zone of the VPC the construct creates."""

_INSTANCE_TYPE = re.compile(r"[a-z][a-z0-9-]*\.[a-z0-9]+")
# Graviton families carry a "g" after their generation (m7g, c7gn, r8gd, t4g); a1 is the first one.
_GRAVITON = re.compile(r"([a-z]+\d+g[a-z]*|a1)\.")
_SUBNET_ID = re.compile(r"subnet-[0-9a-f]{8,17}")
_SECURITY_GROUP_ID = re.compile(r"sg-[0-9a-f]{8,17}")


# jsii interfaces are protocols isinstance cannot test: an object is taken for one by its ID attribute.
_ID_ATTRIBUTE: Final = {"ISubnet": "subnet_id", "ISecurityGroup": "security_group_id"}


def _has(value: object, attribute: str) -> bool:
    return not isinstance(value, str | bytes) and hasattr(value, attribute)


def instance_architecture(instance_type: str) -> str:
    """The Lambda architecture of an EC2 instance type: ``arm64`` for Graviton families, else ``x86_64``."""
    return "arm64" if _GRAVITON.match(instance_type) else "x86_64"


class ManagedInstancesSettings(TypedDict, total=False):
    """The keys of a ``managed_instances`` object in cdk.json (and the keyword form of
    :class:`ManagedInstancesProps`); ``vpc``, ``subnets`` and ``security_groups`` are Python objects
    for a stack author and have no cdk.json form."""

    min_environments: int
    max_environments: int | None
    max_concurrency: int | None
    instance_types: Sequence[str]
    memory_gib_per_vcpu: float
    max_vcpus: int | None
    subnet_ids: Sequence[str]
    security_group_ids: Sequence[str]
    nat_gateways: int
    flow_logs: bool
    vpc: ec2.IVpc | None
    subnets: Sequence[ec2.ISubnet]
    security_groups: Sequence[ec2.ISecurityGroup]


SETTINGS: tuple[str, ...] = tuple(ManagedInstancesSettings.__annotations__)
CONFIG_KEYS: tuple[str, ...] = SETTINGS[: SETTINGS.index("vpc")]
"""The keys cdk.json may set (the Python objects cannot be written there)."""


@dataclass(frozen=True, kw_only=True)
class ManagedInstancesProps(ConfigSection):
    """How an endpoint runs on Lambda Managed Instances (``compute="managed_instances"``).

    Parameters
    ----------
    min_environments
        Execution environments kept running for the ``live`` alias's version, 1 to 15000. Default 3,
        AWS's availability floor (one per availability zone). It applies per published version: while a
        rollout shifts traffic, both versions hold it.
    max_environments
        Upper bound of the version's execution environments, at least ``min_environments``. Default
        none (the capacity provider's ``max_vcpus`` bounds it).
    max_concurrency
        Concurrent requests per execution environment, 1 to 1600: for Python, the worker processes,
        each of which loads the model on its own. Default: one per vCPU of the environment (predictions
        are CPU-bound and each process runs one thread), as many as fit ``memory_size``.
    instance_types
        EC2 instance types the capacity provider may launch, e.g. ``["m7g.large", "m7g.xlarge"]``;
        all of the function's architecture. Default none (Lambda chooses).
    memory_gib_per_vcpu
        Memory per vCPU of an execution environment, 2.0 to 8.0. Default 4.0.
    max_vcpus
        The capacity provider's ceiling, 12 to 15000 vCPUs: a cost cap. Default none (the service's
        400).
    subnet_ids, security_group_ids
        Existing subnets (1 to 16) and security groups (1 to 5) to launch the instances in, by ID, given
        together. Default none: the construct creates a VPC.
    nat_gateways
        NAT gateways of the VPC the construct creates, 0 to 3. Default 0: private isolated subnets that
        reach S3 and CloudWatch Logs (and X-Ray with tracing) through VPC endpoints only.
    flow_logs
        VPC flow logs to CloudWatch Logs for the VPC the construct creates. Default True.
    vpc, subnets, security_groups
        The same network as ``aws_ec2`` objects, for a stack author: a ``vpc`` alone (its private
        subnets, a security group created in it), or ``subnets`` with ``security_groups`` (or with the
        ``vpc`` to create the group in).
    owner
        The construct named in error messages.
    """

    min_environments: int = DEFAULT_MIN_ENVIRONMENTS
    max_environments: int | None = None
    max_concurrency: int | None = None
    instance_types: tuple[str, ...] = ()
    memory_gib_per_vcpu: float = DEFAULT_GIB_PER_VCPU
    max_vcpus: int | None = None
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    nat_gateways: int = 0
    flow_logs: bool = True
    vpc: ec2.IVpc | None = None
    subnets: tuple[ec2.ISubnet, ...] = ()
    security_groups: tuple[ec2.ISecurityGroup, ...] = ()
    owner: str = field(default=OWNER, compare=False, repr=False)
    config_section = SECTION
    config_keys = CONFIG_KEYS
    default_owner = OWNER

    def __post_init__(self) -> None:
        o = self.owner
        check_int("min_environments", self.min_environments, *ENVIRONMENTS, owner=o)
        if self.max_environments is not None:
            check_int(
                "max_environments", self.max_environments, self.min_environments, ENVIRONMENTS[1], owner=o
            )
        if self.max_concurrency is not None:
            check_int("max_concurrency", self.max_concurrency, *CONCURRENCY, owner=o)
        if self.max_vcpus is not None:
            check_int("max_vcpus", self.max_vcpus, *MAX_VCPUS, owner=o)
        ratio = self.memory_gib_per_vcpu
        # Compared as given, not through float(): an integer past a float's range (JSON has them) overflows.
        if not isinstance(ratio, int | float) or isinstance(ratio, bool) or ratio not in GIB_PER_VCPU:
            raise PropsError(
                o,
                "memory_gib_per_vcpu",
                ratio,
                "2.0, 4.0 or 8.0, the GiB-per-vCPU ratios Lambda documents "
                "(AWS advises 4.0 or 8.0 for Python)",
            )
        object.__setattr__(self, "memory_gib_per_vcpu", float(ratio))
        object.__setattr__(self, "instance_types", self._ids("instance_types", _INSTANCE_TYPE, (0, 100)))
        check_int("nat_gateways", self.nat_gateways, 0, MAX_NAT_GATEWAYS, owner=o)
        check_bool("flow_logs", self.flow_logs, owner=o)
        self._check_network()

    def _ids(self, prop: str, pattern: re.Pattern[str], count: tuple[int, int]) -> tuple[str, ...]:
        value = getattr(self, prop)
        what = {"instance_types": "EC2 instance types such as m7g.large"}.get(prop, "IDs")
        if (
            isinstance(value, str | bytes)
            or not isinstance(value, Sequence)
            or not all(isinstance(v, str) and pattern.fullmatch(v) for v in value)
            or (value and not count[0] <= len(value) <= count[1])
            or len(set(value)) != len(value)
        ):
            allowed = f"a list of {count[0]} to {count[1]} distinct {what} ({pattern.pattern})"
            raise PropsError(self.owner, prop, value, allowed)
        return tuple(value)

    def _check_network(self) -> None:
        o = self.owner
        subnet_ids = self._ids("subnet_ids", _SUBNET_ID, SUBNETS)
        group_ids = self._ids("security_group_ids", _SECURITY_GROUP_ID, SECURITY_GROUPS)
        object.__setattr__(self, "subnet_ids", subnet_ids)
        object.__setattr__(self, "security_group_ids", group_ids)
        if self.vpc is not None and not _has(self.vpc, "vpc_id"):
            raise PropsError(o, "vpc", self.vpc, "an aws_ec2.IVpc, or None")
        subnets = self._objects("subnets", "ISubnet", SUBNETS)
        groups = self._objects("security_groups", "ISecurityGroup", SECURITY_GROUPS)
        if (subnet_ids and subnets) or (group_ids and groups) or (self.vpc is not None and subnet_ids):
            raise PropsError(
                o,
                "subnet_ids",
                list(subnet_ids),
                "either the IDs (cdk.json) or the aws_ec2 objects, not both",
            )
        if bool(subnet_ids) != bool(group_ids):
            raise PropsError(
                o,
                "security_group_ids" if subnet_ids else "subnet_ids",
                list(group_ids or subnet_ids),
                "subnet_ids and security_group_ids together (the construct cannot create a security group "
                "in a VPC it only knows subnets of)",
            )
        if subnets and not groups and self.vpc is None:
            raise PropsError(
                o, "security_groups", [], "security_groups (or the vpc to create one in) with subnets"
            )
        if groups and not subnets and self.vpc is None:
            raise PropsError(o, "subnets", [], "subnets (or the vpc whose private subnets to use) with them")
        if self.user_network and self.nat_gateways:
            raise PropsError(
                o, "nat_gateways", self.nat_gateways, "0 with your own network (its routes are yours)"
            )
        object.__setattr__(self, "subnets", subnets)
        object.__setattr__(self, "security_groups", groups)

    def _objects(self, prop: str, kind: str, count: tuple[int, int]) -> tuple[Any, ...]:
        value = getattr(self, prop)
        if (
            isinstance(value, str | bytes)
            or not isinstance(value, Sequence)
            or not all(_has(v, _ID_ATTRIBUTE[kind]) for v in value)
            or (value and not count[0] <= len(value) <= count[1])
        ):
            raise PropsError(self.owner, prop, value, f"a list of {count[0]} to {count[1]} aws_ec2.{kind}")
        return tuple(value)

    @property
    def user_network(self) -> bool:
        """Whether the instances run in the user's network rather than a VPC the construct creates."""
        return bool(self.subnet_ids or self.subnets or self.vpc is not None)

    def interface_endpoints(self, *, tracing: bool) -> tuple[str, ...]:
        """The interface endpoints of the VPC the construct creates, by name: CloudWatch Logs, and X-Ray
        with tracing; none in your own network."""
        if self.user_network:
            return ()
        return ("Logs", "XRay") if tracing else ("Logs",)

    def capacity(
        self, *, memory_size: int, architecture: str, tracing: bool, availability_zones: int
    ) -> Capacity:
        """What this configuration deploys, as the cost model prices it (the synth line's floor and
        ``cdk-sklearn cost`` read this one description).

        Parameters
        ----------
        memory_size, architecture, tracing
            The function's.
        availability_zones
            The zones of the VPC's subnets (the interface endpoints are billed in each).
        """
        return Capacity(
            memory_mb=memory_size,
            min_environments=self.min_environments,
            max_environments=self.max_environments,
            memory_gib_per_vcpu=self.memory_gib_per_vcpu,
            architecture=architecture,
            instance_types=self.instance_types,
            max_vcpus=self.max_vcpus,
            interface_endpoints=len(self.interface_endpoints(tracing=tracing)),
            availability_zones=availability_zones,
            nat_gateways=self.nat_gateways,
            flow_logs=self.flow_logs and not self.user_network,
        )

    def environment_vcpus(self, memory_size: int) -> float:
        """The vCPUs of one execution environment of ``memory_size`` MB: its memory over the ratio."""
        return memory_size / 1024 / self.memory_gib_per_vcpu

    def check_function(self, *, runtime: str, architecture: str, memory_size: int, cold_start: str) -> None:
        """Refuse a function Lambda Managed Instances cannot run (the rules CDK does not check).

        Raises
        ------
        PropsError
            A runtime older than python3.13, less than 2048 MB, provisioned concurrency or SnapStart,
            or an instance type of the other architecture; named as the endpoint's prop.
        """
        o = self.owner
        if runtime not in RUNTIMES:
            raise PropsError(
                o,
                "runtime",
                runtime,
                f"{', '.join(RUNTIMES)} on managed instances (set runtime='{MIN_RUNTIME}')",
            )
        if memory_size < MIN_MEMORY_MB:
            raise PropsError(
                o,
                "memory_size",
                memory_size,
                f"at least {MIN_MEMORY_MB} on managed instances (set memory_size={MIN_MEMORY_MB})",
            )
        self._check_whole_vcpu(memory_size)
        self._check_vcpu_ceiling(memory_size)
        if cold_start != "none":
            raise PropsError(
                o,
                "cold_start",
                {"strategy": cold_start},
                "strategy 'none' on managed instances: their environments are always warm (min_environments "
                "is the floor), and Lambda refuses provisioned concurrency and SnapStart there",
            )
        other = [t for t in self.instance_types if instance_architecture(t) != architecture]
        if other:
            raise PropsError(
                o,
                "managed_instances.instance_types",
                list(self.instance_types),
                f"instance types of the function's architecture {architecture} ({', '.join(other)} "
                f"{'are' if len(other) > 1 else 'is'} {instance_architecture(other[0])}): change them or "
                "the architecture",
            )

    def _check_whole_vcpu(self, memory_size: int) -> None:
        # An environment's vCPUs are its memory over the ratio; AWS documents no environment smaller than
        # one vCPU (2 GB at 2:1 is its smallest), so 2048 MB at 4:1 would be half a vCPU: refuse it here.
        ratio = self.memory_gib_per_vcpu
        one_vcpu_mb = min_memory_mb(ratio)
        if memory_size < one_vcpu_mb:
            raise PropsError(
                self.owner,
                "memory_size",
                memory_size,
                f"at least {one_vcpu_mb} with managed_instances.memory_gib_per_vcpu={ratio:g}: an execution "
                f"environment gets memory_size / {ratio:g} GiB vCPUs and needs one at least (set "
                f"memory_size={one_vcpu_mb}, or memory_gib_per_vcpu=2.0 for 2048 MB)",
            )

    def _check_vcpu_ceiling(self, memory_size: int) -> None:
        # max_vcpus caps the instances' vCPUs: below min_environments x an environment's vCPUs the alias's
        # version could never reach the minimum it is published with.
        if self.max_vcpus is None:
            return
        needed = math.ceil(self.min_environments * self.environment_vcpus(memory_size))
        if needed > self.max_vcpus:
            fits = math.floor(self.max_vcpus / self.environment_vcpus(memory_size))
            fewer = f"min_environments={fits}" if fits else "a smaller memory_size"
            raise PropsError(
                self.owner,
                "managed_instances.max_vcpus",
                self.max_vcpus,
                f"at least {needed}: min_environments={self.min_environments} environments of "
                f"{self.environment_vcpus(memory_size):g} vCPUs (memory_size={memory_size} at "
                f"{self.memory_gib_per_vcpu:g} GiB per vCPU) must fit it. Set max_vcpus={needed}, or "
                f"{fewer} (a rollout holds the minimum for two versions: twice that is safer)",
            )

    def concurrency(self, memory_size: int, process_mb: int) -> int:
        """The worker processes per execution environment: ``max_concurrency``, checked against memory.

        Parameters
        ----------
        memory_size
            The function's memory, MB.
        process_mb
            One worker process's estimated peak (the endpoint's ``memory_estimate_mb``).

        Raises
        ------
        PropsError
            ``max_concurrency`` processes would not fit ``memory_size``; the message gives the largest
            that fits.
        """
        fits = max(1, memory_size // max(1, process_mb))
        if self.max_concurrency is None:
            return max(1, min(fits, CONCURRENCY[1], math.floor(self.environment_vcpus(memory_size))))
        if self.max_concurrency * process_mb > memory_size:
            raise PropsError(
                self.owner,
                "managed_instances.max_concurrency",
                self.max_concurrency,
                f"at most {fits}: each worker process loads the model on its own (~{process_mb} MB each), "
                f"and {self.max_concurrency} x {process_mb} MB is more than memory_size={memory_size}. Set "
                f"max_concurrency={fits}, or memory_size={self.max_concurrency * process_mb} or more",
            )
        return self.max_concurrency
