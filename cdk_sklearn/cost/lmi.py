"""The bill of the function on Lambda Managed Instances: EC2 capacity with its fee, requests and
the VPC's egress; and the monthly floor of a configuration the construct deploys (:func:`lmi_floor`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from cdk_sklearn.cost.bill import LineItem, OptionCost
from cdk_sklearn.cost.cloudwatch import cloudwatch_items
from cdk_sklearn.cost.prices import HOURS_PER_MONTH, INSTANCE_VCPUS, LMI_INSTANCE_TYPES, price
from cdk_sklearn.cost.workload import Workload
from lambda_runtime import limits

LMI_MIN_MEMORY_MB: Final = limits.MANAGED_INSTANCES_MEMORY_MB[0]
LMI_INTERFACE_ENDPOINTS: Final = 3
"""With ``endpoints``: the S3 gateway endpoint (free) for the model, and a CloudWatch Logs interface
endpoint in each of the 3 AZs the instances span."""


def lmi_option(workload: Workload) -> OptionCost:
    """The bill of the function on Lambda Managed Instances (python3.13+, functions of >= 2 GB).

    Instances are priced by CPU-seconds: each request takes ``duration_ms`` of one vCPU, instances
    run at ``lmi_target_utilization``, and at least ``lmi_min_instances`` run all month. Above the
    volume those serve, capacity grows with the volume (fractional instances: the smooth bill of an
    autoscaled fleet). Each instance-hour bills the EC2 on-demand price plus the 15% management fee;
    each request $0.20/M, with no duration charge; the VPC's egress (VPC endpoints or a NAT gateway)
    is a fixed monthly cost. CloudWatch Logs as for the other Lambda options.
    """
    w = workload
    itype = w.lmi_instance_type
    hourly = price(f"ec2.{itype}") * (1.0 + price("lambda.lmi.management_fee"))
    cpu_seconds = w.duration_ms / 1000.0
    instance_cpu_seconds = INSTANCE_VCPUS[itype] * 3600.0 * HOURS_PER_MONTH * w.lmi_target_utilization
    floor_requests = w.lmi_min_instances * instance_cpu_seconds / cpu_seconds
    items = [
        LineItem(
            f"LMI {w.lmi_min_instances} x {itype} (EC2 + 15% fee), {HOURS_PER_MONTH:g} h",
            fixed_usd=w.lmi_min_instances * hourly * HOURS_PER_MONTH,
        ),
        LineItem(
            f"LMI {itype} beyond the floor (EC2 + 15% fee)",
            usd_per_request=cpu_seconds
            / (INSTANCE_VCPUS[itype] * 3600.0 * w.lmi_target_utilization)
            * hourly,
            free_requests=floor_requests,
        ),
        LineItem("LMI requests", usd_per_request=price("lambda.lmi.request")),
    ]
    if w.lmi_vpc == "nat":
        items.append(LineItem("VPC NAT gateway", fixed_usd=price("vpc.nat_gateway") * HOURS_PER_MONTH))
    else:
        items.append(
            LineItem(
                f"VPC endpoints (Logs x{LMI_INTERFACE_ENDPOINTS} AZ; S3 gateway free)",
                fixed_usd=LMI_INTERFACE_ENDPOINTS * price("vpc.interface_endpoint") * HOURS_PER_MONTH,
            )
        )
    items.extend(cloudwatch_items(w))
    return OptionCost(
        name=f"lambda managed instances {itype}", kind="lambda-managed-instances", line_items=tuple(items)
    )


LMI_AVAILABILITY_ZONES: Final = 3
"""The zones AWS spreads a capacity provider's instances over ("three instances by default for AZ
resiliency", lambda-managed-instances-best-practices): a floor of fewer instances is not offered."""

INSTANCE_MEMORY_GIB: Final = MappingProxyType({"m7g.large": 8.0, "m7g.xlarge": 16.0})
"""Memory per priced instance type (AWS's M7g page: 4 GiB per vCPU)."""


class UnpricedError(LookupError):
    """The configuration needs an instance type the price table does not hold."""


@dataclass(frozen=True)
class LmiFloor:
    """What a managed-instances configuration costs a month before its first request.

    Attributes
    ----------
    instance_type
        The instance type priced.
    instances
        Instances the floor keeps running: the minimum environments packed onto instances, at least one
        per availability zone the environments spread over.
    instances_usd
        Their EC2 on-demand price plus Lambda's 15% management fee, a month.
    network_usd
        The VPC's fixed monthly cost: interface endpoints per zone, or NAT gateways (0 for your network).
    """

    instance_type: str
    instances: int
    instances_usd: float
    network_usd: float

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


def lmi_floor(
    *,
    min_environments: int,
    memory_mb: int,
    memory_gib_per_vcpu: float,
    architecture: str,
    instance_type: str | None = None,
    interface_endpoints: int = 1,
    availability_zones: int = LMI_AVAILABILITY_ZONES,
    nat_gateways: int = 0,
) -> LmiFloor:
    """The monthly floor of a managed-instances configuration, from the price table.

    Each execution environment takes ``memory_mb`` and ``memory_mb / 1024 / memory_gib_per_vcpu`` vCPUs;
    ``min_environments`` of them are packed onto instances of ``instance_type``, and AWS keeps at least
    three instances (one per zone) for up to three environments. Requests ($0.20/M) come on top, as does
    capacity beyond the floor.

    Parameters
    ----------
    min_environments
        The version's minimum execution environments.
    memory_mb, memory_gib_per_vcpu
        The function's memory and the environment's memory per vCPU.
    architecture
        ``arm64`` or ``x86_64``.
    instance_type
        The instance type to price. Default: the smallest priced one of ``architecture`` that holds one
        environment.
    interface_endpoints, nat_gateways
        The VPC's fixed costs: interface endpoints (each billed per zone) and NAT gateways. Pass 0 and 0
        for your own network (its costs are yours).
    availability_zones
        The zones the interface endpoints are in.

    Raises
    ------
    UnpricedError
        No priced instance type of ``architecture`` holds an environment (the table prices Graviton
        ``m7g`` only).
    """
    env_vcpus = memory_mb / 1024 / memory_gib_per_vcpu
    env_gib = memory_mb / 1024

    def per_instance(itype: str) -> int:
        return int(min(INSTANCE_VCPUS[itype] / env_vcpus, INSTANCE_MEMORY_GIB[itype] / env_gib))

    candidates = (
        [instance_type] if instance_type else [t for t in LMI_INSTANCE_TYPES if architecture == "arm64"]
    )
    fitting = [t for t in candidates if t in INSTANCE_MEMORY_GIB and per_instance(t) >= 1]
    if not fitting:
        wanted = instance_type or f"an {architecture} instance type"
        raise UnpricedError(
            f"no price for {wanted} holding a {memory_mb} MB environment at {memory_gib_per_vcpu:g} GiB/vCPU "
            f"(the price table has {', '.join(LMI_INSTANCE_TYPES)})"
        )
    itype = fitting[0]
    instances = max(
        min(min_environments, LMI_AVAILABILITY_ZONES), math.ceil(min_environments / per_instance(itype))
    )
    hourly = price(f"ec2.{itype}") * (1.0 + price("lambda.lmi.management_fee"))
    network = (
        nat_gateways * price("vpc.nat_gateway")
        + interface_endpoints * availability_zones * price("vpc.interface_endpoint")
    ) * HOURS_PER_MONTH
    return LmiFloor(itype, instances, instances * hourly * HOURS_PER_MONTH, network)
