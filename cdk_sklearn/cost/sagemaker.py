"""The bills of SageMaker's options: a real-time endpoint on an instance type, and Serverless Inference."""

from __future__ import annotations

from cdk_sklearn.cost.bill import LineItem, OptionCost
from cdk_sklearn.cost.prices import HOURS_PER_MONTH, SAGEMAKER_INSTANCE_TYPES, price
from cdk_sklearn.cost.workload import Workload


def check_instance_type(instance_type: str) -> None:
    """Refuse a SageMaker instance type the price table does not hold.

    Raises
    ------
    ValueError
        If ``instance_type`` is not one of :data:`cdk_sklearn.cost.prices.SAGEMAKER_INSTANCE_TYPES`.
    """
    if instance_type not in SAGEMAKER_INSTANCE_TYPES:
        raise ValueError(
            f"SageMaker instance type must be one of {', '.join(SAGEMAKER_INSTANCE_TYPES)}, "
            f"got {instance_type!r}"
        )


def sagemaker_instance_option(workload: Workload, instance_type: str) -> OptionCost:
    """The bill of a SageMaker real-time endpoint on ``instance_type``, running all month.

    Raises
    ------
    ValueError
        If ``instance_type`` is not one of :data:`cdk_sklearn.cost.prices.SAGEMAKER_INSTANCE_TYPES`.
    """
    check_instance_type(instance_type)
    hourly = price(f"sagemaker.{instance_type}")
    item = LineItem(
        f"SageMaker {instance_type} x{workload.sagemaker_instances}, {HOURS_PER_MONTH:g} h",
        fixed_usd=workload.sagemaker_instances * hourly * HOURS_PER_MONTH,
    )
    return OptionCost(name=f"sagemaker {instance_type}", kind="sagemaker", line_items=(item,))


def sagemaker_serverless_option(workload: Workload) -> OptionCost:
    """The bill of a SageMaker Serverless Inference endpoint with the workload's memory."""
    seconds_per_request = workload.duration_ms / 1000.0
    gb = workload.serverless_memory_mb / 1024.0
    free = (
        price("sagemaker.serverless.free.seconds") / seconds_per_request
        if workload.include_free_tier
        else 0.0
    )
    item = LineItem(
        f"SageMaker Serverless duration ({workload.serverless_memory_mb} MB)",
        usd_per_request=seconds_per_request * gb * price("sagemaker.serverless.duration"),
        free_requests=free,
    )
    return OptionCost(name="sagemaker serverless", kind="sagemaker-serverless", line_items=(item,))
