"""The bill of the function on Lambda Managed Instances: EC2 capacity with its fee, requests and
the VPC's egress."""

from __future__ import annotations

from typing import Final

from cdk_sklearn.cost.bill import LineItem, OptionCost
from cdk_sklearn.cost.cloudwatch import cloudwatch_items
from cdk_sklearn.cost.prices import HOURS_PER_MONTH, INSTANCE_VCPUS, price
from cdk_sklearn.cost.workload import Workload

LMI_MIN_MEMORY_MB: Final = 2048
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
