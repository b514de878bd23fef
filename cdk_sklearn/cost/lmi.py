"""The bill of the function on Lambda Managed Instances, from what the construct deploys.

:class:`Capacity` holds the inputs: a managed-instances configuration as the endpoint's props make it
(:meth:`cdk_sklearn.managed_instances.ManagedInstancesProps.capacity`), or as ``cdk-sklearn cost``'s
flags describe it. :func:`lmi_floor` prices what it costs a month before its first request (the synth
line prints it); :func:`lmi_option` adds what traffic costs on top of that same floor: environments
beyond it, requests, the front door and CloudWatch. One computation for both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from cdk_sklearn.cost.bill import LineItem, OptionCost
from cdk_sklearn.cost.cloudwatch import cloudwatch_items
from cdk_sklearn.cost.lambda_bill import front_door_item
from cdk_sklearn.cost.prices import HOURS_PER_MONTH, INSTANCE_VCPUS, LMI_INSTANCE_TYPES, price
from cdk_sklearn.cost.workload import Workload, require
from lambda_runtime import limits

LMI_MIN_MEMORY_MB: Final = limits.MANAGED_INSTANCES_MEMORY_MB[0]
"""The smallest function Lambda Managed Instances run."""

DEFAULT_MIN_ENVIRONMENTS: Final = 3
"""The construct's ``min_environments``: AWS's availability floor, one execution environment per zone
(kept here, free of jsii, so that ``cdk-sklearn cost`` prices the construct's default without the CDK)."""

GIB_PER_VCPU: Final = (2.0, 4.0, 8.0)
"""ExecutionEnvironmentMemoryGiBPerVCpu: the API takes a number from 2.0 to 8.0, but the ratios Lambda
documents and its console offers are 2:1, 4:1 and 8:1
(docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-scaling.html);
other values have never been seen to work, so they are refused at synth."""

DEFAULT_GIB_PER_VCPU: Final = 4.0
"""The construct's ``memory_gib_per_vcpu``: AWS's best practice for Python is 4:1 or 8:1 (the CDK's
default 2.0 starves a process of memory)."""

LMI_AVAILABILITY_ZONES: Final = 3
"""The zones AWS spreads a capacity provider's instances over ("three instances by default for AZ
resiliency", lambda-managed-instances-best-practices): a floor of fewer instances is not offered."""

TARGET_UTILIZATION: Final = 0.7
"""CPU utilization the capacity scales to (the CDK example's ``cpu_utilization(70)``): capacity beyond it
is bought, not used."""

INSTANCE_MEMORY_GIB: Final = MappingProxyType({"m7g.large": 8.0, "m7g.xlarge": 16.0})
"""Memory per priced instance type (AWS's M7g page: 4 GiB per vCPU)."""

FLOW_LOG_RECORD_BYTES: Final = 130
"""Bytes ingested per flow-log record: AWS's example record in the default (version 2) format is about
105 characters, plus the log event's overhead."""
FLOW_LOG_FLOWS_PER_INTERFACE: Final = 10
"""Flows a network interface reports per aggregation window: an assumption (the instances hold a few
long-lived HTTPS connections to the endpoints and to Lambda), not a measurement."""
FLOW_LOG_WINDOWS_PER_MONTH: Final = HOURS_PER_MONTH * 6
"""Aggregation windows a month at the 600-second default (``MaxAggregationInterval``)."""
_BYTES_PER_GB: Final = 1024.0**3


class UnpricedError(LookupError):
    """The configuration needs an instance type the price table does not hold."""


def min_memory_mb(memory_gib_per_vcpu: float) -> int:
    """The smallest function managed instances run at this GiB-per-vCPU ratio: 2048 MB, and one whole
    vCPU per execution environment (2048 at 2:1, 4096 at 4:1, 8192 at 8:1)."""
    return max(LMI_MIN_MEMORY_MB, int(memory_gib_per_vcpu * 1024))


@dataclass(frozen=True, kw_only=True)
class Capacity:
    """A managed-instances configuration as the price table needs it; validated when made.

    Parameters
    ----------
    memory_mb
        The function's memory: each execution environment's.
    min_environments, max_environments
        The version's scaling bounds (``max_environments`` None: unbounded but by ``max_vcpus``).
    memory_gib_per_vcpu
        The environment's memory per vCPU.
    architecture
        ``arm64`` or ``x86_64``.
    instance_types
        The types the capacity provider may launch; empty: any of ``architecture``. The cheapest priced
        one that holds an environment is priced.
    max_vcpus
        The capacity provider's ceiling, or None.
    interface_endpoints, availability_zones, nat_gateways, flow_logs
        The VPC the construct creates: interface endpoints (each billed per zone), NAT gateways, flow
        logs. 0, 0 and False for your own network (its costs are yours).
    target_utilization
        CPU utilization the capacity scales to.

    Raises
    ------
    ValueError
        A value out of range; the message names it and the fix.
    """

    memory_mb: int
    min_environments: int = DEFAULT_MIN_ENVIRONMENTS
    max_environments: int | None = None
    memory_gib_per_vcpu: float = DEFAULT_GIB_PER_VCPU
    architecture: str = limits.DEFAULT_ARCHITECTURE
    instance_types: tuple[str, ...] = ()
    max_vcpus: int | None = None
    interface_endpoints: int = 1
    availability_zones: int = LMI_AVAILABILITY_ZONES
    nat_gateways: int = 0
    flow_logs: bool = True
    target_utilization: float = TARGET_UTILIZATION

    def __post_init__(self) -> None:
        ratio = self.memory_gib_per_vcpu
        require(
            isinstance(ratio, int | float) and ratio > 0, f"memory per vCPU must be > 0 GiB, got {ratio!r}"
        )
        lowest, top = min_memory_mb(ratio), limits.MANAGED_INSTANCES_MEMORY_MB[1]
        require(
            isinstance(self.memory_mb, int) and lowest <= self.memory_mb <= top,
            f"memory on managed instances must be from {lowest} to {top} MB at {ratio:g} GiB per vCPU "
            f"(at least {LMI_MIN_MEMORY_MB}, and one whole vCPU per environment), got {self.memory_mb!r}: "
            f"pass --memory-mb {lowest}" + (", or --memory-gib-per-vcpu 2" if ratio > 2 else ""),
        )
        for name in ("min_environments", "interface_endpoints", "availability_zones", "nat_gateways"):
            value = getattr(self, name)
            low = 1 if name in ("min_environments", "availability_zones") else 0
            require(isinstance(value, int) and value >= low, f"{name} must be a whole number >= {low}")
        top_envs = self.max_environments
        require(
            top_envs is None or (isinstance(top_envs, int) and top_envs >= self.min_environments),
            f"max_environments must be at least min_environments ({self.min_environments}), got {top_envs!r}",
        )
        require(
            0.0 < self.target_utilization <= 1.0,
            f"target CPU utilization must be in (0, 1], got {self.target_utilization!r}",
        )

    @property
    def environment_vcpus(self) -> float:
        """The vCPUs of one execution environment: its memory over the ratio."""
        return self.memory_mb / 1024 / self.memory_gib_per_vcpu

    def per_instance(self, instance_type: str) -> int:
        """Execution environments one instance of a priced type holds (by vCPUs and by memory)."""
        return int(
            min(
                INSTANCE_VCPUS[instance_type] / self.environment_vcpus,
                INSTANCE_MEMORY_GIB[instance_type] / (self.memory_mb / 1024),
            )
        )

    def floor_instances(self, instance_type: str) -> int:
        """Instances the floor keeps: the minimum environments packed, at least one per zone for up to
        three environments."""
        packed = math.ceil(self.min_environments / self.per_instance(instance_type))
        return max(min(self.min_environments, LMI_AVAILABILITY_ZONES), packed)

    def instance_type(self) -> str:
        """The priced type: the cheapest floor among the allowed types the table prices that hold one
        environment.

        Raises
        ------
        UnpricedError
            None does (the table prices Graviton ``m7g`` only).
        """
        allowed = self.instance_types or (LMI_INSTANCE_TYPES if self.architecture == "arm64" else ())
        fitting = [t for t in allowed if t in INSTANCE_MEMORY_GIB and self.per_instance(t) >= 1]
        if not fitting:
            wanted = ", ".join(self.instance_types) or f"an {self.architecture} instance type"
            raise UnpricedError(
                f"no price for {wanted} holding a {self.memory_mb} MB environment at "
                f"{self.memory_gib_per_vcpu:g} GiB/vCPU (the price table has {', '.join(LMI_INSTANCE_TYPES)})"
            )
        return min(fitting, key=lambda t: self.floor_instances(t) * price(f"ec2.{t}"))


def instance_hour_usd(instance_type: str) -> float:
    """One instance-hour: the EC2 on-demand price plus Lambda's 15% management fee."""
    return price(f"ec2.{instance_type}") * (1.0 + price("lambda.lmi.management_fee"))


@dataclass(frozen=True)
class LmiFloor:
    """What a managed-instances configuration costs a month before its first request.

    Attributes
    ----------
    instance_type
        The instance type priced.
    instances
        Instances the floor keeps running.
    items
        The floor's bill: the instances (EC2 + 15% fee), then the VPC's fixed costs.
    """

    instance_type: str
    instances: int
    items: tuple[LineItem, ...]

    @property
    def instances_usd(self) -> float:
        """The instances' EC2 on-demand price plus the management fee, a month."""
        return self.items[0].fixed_usd

    @property
    def network_usd(self) -> float:
        """The VPC's fixed monthly cost: interface endpoints per zone, NAT gateways, flow logs."""
        return sum(item.fixed_usd for item in self.items[1:])

    @property
    def total_usd(self) -> float:
        """The monthly floor."""
        return self.instances_usd + self.network_usd

    def describe(self) -> str:
        """One line, e.g. ``floor ~$227/month (3 x m7g.large, EC2 + 15% fee; VPC $22)``."""
        return (
            f"floor ~${self.total_usd:,.0f}/month ({self.instances} x {self.instance_type}, EC2 + 15% fee; "
            f"VPC ${self.network_usd:,.0f})"
        )


def lmi_floor(capacity: Capacity) -> LmiFloor:
    """The monthly floor of a managed-instances configuration, from the price table.

    Raises
    ------
    UnpricedError
        No priced instance type holds an environment.
    """
    c = capacity
    itype = c.instance_type()
    instances = c.floor_instances(itype)
    items = [
        LineItem(
            f"LMI floor: {instances} x {itype} (EC2 + 15% fee), {HOURS_PER_MONTH:g} h",
            fixed_usd=instances * instance_hour_usd(itype) * HOURS_PER_MONTH,
        )
    ]
    if c.interface_endpoints:
        items.append(
            LineItem(
                f"VPC interface endpoints ({c.interface_endpoints} x {c.availability_zones} AZ)",
                fixed_usd=c.interface_endpoints
                * c.availability_zones
                * price("vpc.interface_endpoint")
                * HOURS_PER_MONTH,
            )
        )
    if c.nat_gateways:
        items.append(
            LineItem(
                f"VPC NAT gateways ({c.nat_gateways})",
                fixed_usd=c.nat_gateways * price("vpc.nat_gateway") * HOURS_PER_MONTH,
            )
        )
    if c.flow_logs:
        interfaces = instances + c.interface_endpoints * c.availability_zones
        records = interfaces * FLOW_LOG_FLOWS_PER_INTERFACE * FLOW_LOG_WINDOWS_PER_MONTH
        items.append(
            LineItem(
                f"VPC flow logs ({interfaces} interfaces, estimate)",
                fixed_usd=records
                * FLOW_LOG_RECORD_BYTES
                / _BYTES_PER_GB
                * price("cloudwatch.logs.ingestion"),
            )
        )
    return LmiFloor(itype, instances, tuple(items))


def lmi_option(workload: Workload, capacity: Capacity, front_door: str) -> OptionCost:
    """The bill of the function on Lambda Managed Instances behind ``front_door``: the floor of
    :func:`lmi_floor`, environments beyond it, requests, the front door and CloudWatch.

    Each request takes ``duration_ms`` of one vCPU; environments run at ``target_utilization``. The
    floor's instances serve what their environment slots can at that utilization; above it the bill
    grows with the volume, an environment-hour at a time (fractional: the smooth bill of an autoscaled
    fleet). Requests bill $0.20/M, with no duration charge.

    Raises
    ------
    UnpricedError
        No priced instance type holds an environment.
    """
    floor = lmi_floor(capacity)
    itype = floor.instance_type
    cpu_seconds = workload.duration_ms / 1000.0
    environment_hour = environment_cpu_seconds_per_hour(capacity)
    slots = floor.instances * capacity.per_instance(itype)
    items = [
        *floor.items,
        LineItem(
            f"LMI environments beyond the floor ({itype}, EC2 + 15% fee)",
            usd_per_request=cpu_seconds
            / environment_hour
            * instance_hour_usd(itype)
            / capacity.per_instance(itype),
            free_requests=slots * environment_hour * HOURS_PER_MONTH / cpu_seconds,
        ),
        LineItem("LMI requests", usd_per_request=price("lambda.lmi.request")),
        front_door_item(workload, front_door),
        *cloudwatch_items(workload, managed_instances=True),
    ]
    return OptionCost(
        name=f"managed instances+{front_door}",
        kind="lambda-managed-instances",
        line_items=tuple(items),
        detail=f"{floor.instances} x {itype} always on",
    )


def environment_cpu_seconds_per_hour(capacity: Capacity) -> float:
    """CPU-seconds one execution environment serves an hour at the target utilization."""
    return capacity.environment_vcpus * 3600.0 * capacity.target_utilization


def lmi_ceiling(capacity: Capacity, duration_ms: float) -> float | None:
    """Requests a month the configuration serves at most (``max_environments``, ``max_vcpus``) at the
    target utilization, or None when neither bounds it. Beyond, Lambda throttles.

    Raises
    ------
    UnpricedError
        No priced instance type holds an environment.
    """
    bounds = []
    if capacity.max_environments is not None:
        bounds.append(float(capacity.max_environments))
    if capacity.max_vcpus is not None:
        itype = capacity.instance_type()
        instances = capacity.max_vcpus // INSTANCE_VCPUS[itype]
        bounds.append(float(instances * capacity.per_instance(itype)))
    if not bounds:
        return None
    return min(bounds) * environment_cpu_seconds_per_hour(capacity) * HOURS_PER_MONTH / (duration_ms / 1000.0)
