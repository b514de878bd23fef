"""CloudWatch's part of a Lambda option's bill: the construct's alarms and dashboard (and the KMS key of
their topic), the runtime's metrics and the Logs ingestion of every request."""

from __future__ import annotations

from typing import Final

from cdk_sklearn.cost.bill import LineItem
from cdk_sklearn.cost.prices import price
from cdk_sklearn.cost.workload import Workload

_BYTES_PER_GB: Final = 1024.0**3

ALARM_METRICS: Final = 5
"""Alarm metrics of the construct's default alarms (``cdk_sklearn.monitoring.ALARM_KEYS`` without
``provisioned_spillover``): server error rate (a metric-math alarm over 5xx, Errors and Invocations,
so 3), p99 latency (1) and throttles (1)."""

PROVISIONED_ALARM_METRICS: Final = 1
"""The provisioned-spillover alarm, created only with provisioned concurrency."""

DASHBOARDS: Final = 1
"""One dashboard per endpoint."""

ALARM_TOPIC_KEYS: Final = 1
"""The KMS key of the alarm topic (``cdk_sklearn.alarm_topic``): one per stack, counted once here."""


CAPACITY_ALARM_METRICS: Final = 1
"""The capacity provider's CPU alarm (``capacity_cpu``), created only on Lambda Managed Instances."""


def alarm_metrics(workload: Workload, *, managed_instances: bool = False) -> int:
    """Alarm metrics the construct's monitoring bills for this workload (0 without monitoring); on
    Lambda Managed Instances (``managed_instances``) the capacity alarm replaces the spillover one."""
    if not workload.monitoring:
        return 0
    if managed_instances:
        return ALARM_METRICS + CAPACITY_ALARM_METRICS
    return ALARM_METRICS + (PROVISIONED_ALARM_METRICS if workload.provisioned_concurrency > 0 else 0)


def cloudwatch_items(workload: Workload, *, managed_instances: bool = False) -> list[LineItem]:
    """CloudWatch line items of a Lambda option: alarms and dashboard (with monitoring), Logs ingestion.

    ``managed_instances``: the function runs on Lambda Managed Instances (its alarms differ)."""
    w = workload
    items: list[LineItem] = []
    log_bytes = w.log_bytes_per_request
    metrics = alarm_metrics(w, managed_instances=managed_instances)
    if metrics:
        free_alarms = price("cloudwatch.free.alarm_metrics") if w.include_free_tier else 0.0
        items.append(
            LineItem(
                f"CloudWatch alarms ({metrics} alarm metrics)",
                fixed_usd=max(0.0, metrics - free_alarms) * price("cloudwatch.alarm.standard"),
            )
        )
        free_dashboards = price("cloudwatch.free.dashboards") if w.include_free_tier else 0.0
        items.append(
            LineItem(
                "CloudWatch dashboard",
                fixed_usd=max(0.0, DASHBOARDS - free_dashboards) * price("cloudwatch.dashboard"),
            )
        )
        if w.alarm_topic_key:
            # The alarm topic's customer-managed key; its requests (a few per alarm notification)
            # stay far inside KMS's 20,000 free requests a month and are not counted.
            items.append(
                LineItem("KMS key of the alarm topic", fixed_usd=ALARM_TOPIC_KEYS * price("kms.key"))
            )
    if w.custom_metrics:
        free_metrics = price("cloudwatch.free.custom_metrics") if w.include_free_tier else 0.0
        items.append(
            LineItem(
                f"CloudWatch custom metrics ({w.custom_metrics} EMF)",
                fixed_usd=max(0.0, w.custom_metrics - free_metrics) * price("cloudwatch.metric.custom"),
            )
        )
    if log_bytes == 0:
        return items
    free_log_requests = (
        price("cloudwatch.free.logs_gb") * _BYTES_PER_GB / log_bytes if w.include_free_tier else 0.0
    )
    items.append(
        LineItem(
            f"CloudWatch Logs ingestion ({log_bytes} B/request)",
            usd_per_request=log_bytes / _BYTES_PER_GB * price("cloudwatch.logs.ingestion"),
            free_requests=free_log_requests,
        )
    )
    return items
