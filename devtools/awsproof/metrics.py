"""The metrics the alarms and the dashboard read exist, under the names and dimensions they use.

An alarm on a metric nobody publishes never fires: a namespace typo, a dimension the runtime does not
write or an alias metric read on the function all look healthy for ever. So the proof reads the
deployed alarms (``describe_alarms`` for the stack's alarm names), takes every metric each one reads
(a single metric, or each ``MetricStat`` of a metric-math expression), and asks CloudWatch whether that
exact metric (namespace, name, every dimension) has been published, and what it summed to during the
run. The runtime's EMF metrics, which the dashboard charts, are checked the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from devtools.awsproof.clock import Clock
from lambda_runtime import contract

METRIC_POLL_SECONDS: Final = 30.0
METRIC_TIMEOUT_SECONDS: Final = 600.0
MAY_BE_ABSENT: Final[Mapping[str, str]] = {
    "Throttles": "Lambda publishes it once an invocation is throttled",
    "ProvisionedConcurrencySpilloverInvocations": "Lambda publishes it once an invocation spills over",
}
"""Metrics an alarm reads that a healthy run need not produce: reported, not failed, when absent."""


@dataclass(frozen=True)
class MetricId:
    """A CloudWatch metric: namespace, name and dimensions (sorted)."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, namespace: str, name: str, dimensions: Iterable[Mapping[str, str]]) -> MetricId:
        """From CloudWatch's ``[{"Name": ..., "Value": ...}]`` dimensions."""
        return cls(namespace, name, tuple(sorted((d["Name"], d["Value"]) for d in dimensions)))

    def api_dimensions(self) -> list[dict[str, str]]:
        """The dimensions as CloudWatch's API takes them."""
        return [{"Name": name, "Value": value} for name, value in self.dimensions]

    def __str__(self) -> str:
        dims = ",".join(f"{k}={v}" for k, v in self.dimensions)
        return f"{self.namespace}/{self.name}{{{dims}}}"


def alarm_metrics(alarm: Mapping[str, Any]) -> list[MetricId]:
    """Every metric an alarm (a ``describe_alarms`` ``MetricAlarms`` item) reads."""
    if alarm.get("MetricName"):
        return [MetricId.of(alarm["Namespace"], alarm["MetricName"], alarm.get("Dimensions", []))]
    found = []
    for query in alarm.get("Metrics", []):
        stat = query.get("MetricStat")
        if stat:
            metric = stat["Metric"]
            found.append(MetricId.of(metric["Namespace"], metric["MetricName"], metric.get("Dimensions", [])))
    return found


def describe_alarms(cloudwatch: Any, names: Sequence[str]) -> list[dict[str, Any]]:
    """The metric alarms named ``names`` (``describe_alarms``, 100 names a call)."""
    alarms: list[dict[str, Any]] = []
    for start in range(0, len(names), 100):
        page = cloudwatch.describe_alarms(
            AlarmNames=list(names[start : start + 100]), AlarmTypes=["MetricAlarm"]
        )
        alarms.extend(page.get("MetricAlarms", []))
    return alarms


def runtime_metrics(model_name: str, namespace: str = contract.DEFAULT_METRICS_NAMESPACE) -> list[MetricId]:
    """The runtime's EMF metrics for ``model_name``, as the contract names them."""
    return [
        MetricId(namespace, name, ((contract.METRIC_DIMENSION, model_name),))
        for name in contract.METRIC_NAMES
    ]


def metric_exists(cloudwatch: Any, metric: MetricId) -> bool:
    """Whether CloudWatch has this exact metric (``list_metrics``: same dimensions, no more)."""
    kwargs: dict[str, Any] = {
        "Namespace": metric.namespace,
        "MetricName": metric.name,
        "Dimensions": metric.api_dimensions(),
    }
    while True:
        page = cloudwatch.list_metrics(**kwargs)
        for item in page.get("Metrics", []):
            if MetricId.of(item["Namespace"], item["MetricName"], item.get("Dimensions", [])) == metric:
                return True
        if not page.get("NextToken"):
            return False
        kwargs["NextToken"] = page["NextToken"]


def metric_sum(cloudwatch: Any, metric: MetricId, start: dt.datetime, end: dt.datetime) -> float | None:
    """The metric's Sum over ``start``..``end`` (one-minute periods), or None without datapoints."""
    answer = cloudwatch.get_metric_statistics(
        Namespace=metric.namespace,
        MetricName=metric.name,
        Dimensions=metric.api_dimensions(),
        StartTime=start,
        EndTime=end,
        Period=60,
        Statistics=["Sum"],
    )
    points = answer.get("Datapoints", [])
    return float(sum(p["Sum"] for p in points)) if points else None


@dataclass(frozen=True)
class MetricCheck:
    """Whether one metric that an alarm (or the dashboard) reads exists."""

    reader: str
    metric: str
    found: bool
    total: float | None
    required: bool

    @property
    def passed(self) -> bool:
        """Found, or allowed to be absent (see :data:`MAY_BE_ABSENT`)."""
        return self.found or not self.required


def check_metrics(
    cloudwatch: Any,
    readers: Mapping[str, Sequence[MetricId]],
    *,
    start: dt.datetime,
    clock: Clock,
    timeout: float = METRIC_TIMEOUT_SECONDS,
    interval: float = METRIC_POLL_SECONDS,
) -> list[MetricCheck]:
    """Poll until every required metric exists, or the deadline; then judge each.

    Parameters
    ----------
    readers
        What reads which metrics: alarm name (or ``dashboard``) to metrics.
    start
        When the run's traffic began, for the sums.

    Returns
    -------
    list[MetricCheck]
        One per (reader, metric). Metrics appear minutes after their first datapoint, hence the wait.
    """
    # Sorted: the same calls in the same order on every run (and in tests).
    wanted = sorted({m for metrics in readers.values() for m in metrics}, key=str)
    required = {m for m in wanted if m.name not in MAY_BE_ABSENT}
    found: set[MetricId] = set()
    deadline = clock.monotonic() + timeout
    while True:
        found |= {m for m in wanted if m not in found and metric_exists(cloudwatch, m)}
        if required <= found or clock.monotonic() + interval > deadline:
            break
        clock.sleep(interval)
    end = clock.now()
    totals = {m: metric_sum(cloudwatch, m, start, end) if m in found else None for m in wanted}
    return [
        MetricCheck(reader, str(m), m in found, totals[m], m in required)
        for reader, metrics in readers.items()
        for m in metrics
    ]
