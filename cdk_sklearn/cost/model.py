"""Monthly cost of serving a model: Lambda behind each front door against SageMaker.

Pure functions over the dated price table in :mod:`cdk_sklearn.cost.prices`; no I/O.

Every option's monthly cost is a sum of :class:`LineItem` s, each of the form
``fixed + usd_per_request * max(0, N - free_requests)`` where ``N`` is requests per month. That
form is exact for the prices modelled (no volume tiers are reached below 300M requests a month)
and makes break-even volumes solvable in closed form: between free-tier kinks every option is a
straight line in ``N``.

Modelling assumptions (also printed by ``cdk-sklearn cost`` and in docs/readme/cost.md):

- A month is 730 hours; always-on resources (SageMaker instances, provisioned concurrency held,
  the SnapStart cache of the live version) are billed for all of it unless told otherwise.
- ``cold_start_rate`` is the fraction of on-demand requests that start a new execution
  environment. Each cold start bills ``init_duration_ms`` at the on-demand duration price (INIT
  billing for ZIP functions on managed runtimes, in force since 2025-08-01).
- With SnapStart a cold start is a restore instead: billed per GB of memory restored, plus any
  billed restore duration (after-restore hooks; none by default) at the duration price. The
  one-off INIT at version publish is not counted (one INIT per version a month, < $0.001).
- With provisioned concurrency, requests are spread evenly over the month, so the share served
  by provisioned environments is ``provisioned_hours / 730``; those requests bill the
  provisioned duration price and never cold start. Spill-over beyond the provisioned count is
  not modelled; the periodic re-INIT of provisioned environments is not counted.
- SageMaker Serverless bills inference duration x memory, memory rounded up to the next of its
  sizes (1024..6144 MB); it has no per-request charge; its container start time is not billed.
- SageMaker real-time endpoints bill instance-hours only; one instance type handles all the
  traffic (capacity is not checked).
- The Lambda options count what the construct creates by default for CloudWatch: with
  ``monitoring`` its alarms (billed per alarm metric: the error-rate alarm reads 3 metrics, the
  latency and throttle alarms 1 each, the provisioned-spillover alarm 1 more with provisioned
  concurrency) and its dashboard; always, the runtime's 5 custom (EMF) metrics and the Logs
  ingestion of the handler's one request line (:data:`REQUEST_LOG_BYTES`) plus Lambda's
  START/END/REPORT lines (:data:`LAMBDA_PLATFORM_LOG_BYTES`).
- Not modelled, for any option: data transfer out, SageMaker data processing ($/GB in and out),
  API Gateway access-log lines, log storage, CloudWatch for the SageMaker options, S3 storage of
  the model, volume tiers (Lambda duration beyond 6 billion GB-s a month, HTTP API beyond 300M
  requests, REST API beyond 333M requests).
- Free tiers are excluded unless ``include_free_tier``: Lambda's 1M requests and 400,000 GB-s
  a month (always free; not for functions with provisioned concurrency), CloudWatch's 10 alarm
  metrics, 10 custom metrics, 3 dashboards and 5 GB of logs (always free), SageMaker
  Serverless's 150,000 s a month (first 2 months). API Gateway's 1M requests a month for 12
  months only with ``apigw_free_tier``: accounts created after 2025-07-15 get credits instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Final, Literal, get_args

from cdk_sklearn.cost.prices import (
    HOURS_PER_MONTH,
    INSTANCE_VCPUS,
    LMI_INSTANCE_TYPES,
    SAGEMAKER_INSTANCE_TYPES,
    price,
)
from lambda_runtime import limits
from lambda_runtime.contract import METRIC_NAMES  # the shared contract, read as data
from lambda_runtime.limits import DEFAULT_ARCHITECTURE

Architecture = Literal["x86_64", "arm64"]
FrontDoor = Literal["http_api", "rest_api", "function_url"]

ARCHITECTURES: Final[tuple[str, ...]] = get_args(Architecture)
FRONT_DOORS: Final[tuple[str, ...]] = get_args(FrontDoor)

SERVERLESS_MEMORY_MB: Final = (1024, 2048, 3072, 4096, 5120, 6144)

_FRONT_DOOR_PRICE: Final[dict[str, str]] = {
    "http_api": "apigw.http.request",
    "rest_api": "apigw.rest.request",
    "function_url": "lambda.function_url.request",
}
_FRONT_DOOR_LABEL: Final[dict[str, str]] = {
    "http_api": "API Gateway HTTP API",
    "rest_api": "API Gateway REST API",
    "function_url": "Lambda Function URL",
}
_HTTP_API_TIER_REQUESTS: Final = 300e6
_REST_API_TIER_REQUESTS: Final = 333e6
_LAMBDA_DURATION_TIER_GB_S: Final = 6e9
_SNAPSTART_MINIMUM_HOURS: Final = 3.0
_BYTES_PER_GB: Final = 1024.0**3

REQUEST_LOG_BYTES: Final = 640
"""Bytes of the one line the handler prints per request (its JSON record carrying the EMF metrics),
newline included. Measured by running ``lambda_runtime``'s handler on an API Gateway HTTP API
predict event for a model named ``model``: 638 to 640 bytes (the latency digits vary); a longer
model name adds its extra characters twice. A test measures it again."""

LAMBDA_PLATFORM_LOG_BYTES: Final = 260
"""Lambda's own lines per invocation in the text log format, from their documented layout with a
36-character request id: ``START RequestId: ... Version: N`` (about 65 bytes), ``END RequestId: ...``
(52) and ``REPORT RequestId: ... Duration ... Max Memory Used ...`` (about 140). An estimate."""

LMI_MIN_INSTANCES: Final = 3
"""Lambda Managed Instances launch three instances by default for AZ resiliency (AWS best-practices
page; the CDK's ``minExecutionEnvironments`` default is 3 too)."""
LMI_TARGET_UTILIZATION: Final = 0.7
"""CPU utilization LMI scales to (the CDK example's ``cpu_utilization(70)``): capacity beyond it is
bought, not used."""
LMI_MIN_MEMORY_MB: Final = 2048
LMI_VPC_OPTIONS: Final = ("endpoints", "nat")
LMI_INTERFACE_ENDPOINTS: Final = 3
"""With ``endpoints``: the S3 gateway endpoint (free) for the model, and a CloudWatch Logs interface
endpoint in each of the 3 AZs the instances span."""

ALARM_METRICS: Final = 5
"""Alarm metrics of the construct's default alarms (``cdk_sklearn.monitoring.ALARM_KEYS`` without
``provisioned_spillover``): server error rate (a metric-math alarm over 5xx, Errors and Invocations,
so 3), p99 latency (1) and throttles (1)."""

PROVISIONED_ALARM_METRICS: Final = 1
"""The provisioned-spillover alarm, created only with provisioned concurrency."""

DASHBOARDS: Final = 1
"""One dashboard per endpoint."""

CUSTOM_METRICS: Final = len(METRIC_NAMES)
"""The runtime's embedded metrics (5, each with the single dimension ModelName): custom metrics,
billed per metric-month whether or not the construct's monitoring is on."""


@dataclass(frozen=True)
class Workload:
    """What is being served and how; every field is validated on construction.

    Parameters
    ----------
    requests_per_month
        Predictions served a month (``N``), >= 0.
    memory_mb
        Lambda memory, 128..10240 MB.
    duration_ms
        Billed duration of one warm prediction, > 0 ms.
    architecture
        ``"x86_64"`` or ``"arm64"``.
    cold_start_rate
        Fraction of on-demand requests that cold start, 0..1. Default 0.01 (AWS reports INITs
        in under 1% of invocations for typical production workloads).
    init_duration_ms
        Billed INIT duration of one cold start. Default 1000 ms.
    provisioned_concurrency
        Execution environments kept warm on the alias; 0 (default) for none.
    provisioned_hours
        Hours a month provisioned concurrency is enabled, 0..730. Default 730.
    snapstart
        Whether SnapStart is on (exclusive with provisioned concurrency, as in AWS).
    snapstart_versions
        Published versions whose snapshot stays cached all month. Default 1.
    snapstart_restore_ms
        Billed restore duration per restore (after-restore hooks). Default 0.
    sagemaker_instances
        Instances behind each SageMaker real-time endpoint, running 24/7. Default 1.
    include_free_tier
        Subtract the free tiers (see the module docstring). Default False.
    monitoring
        Count the alarms and the dashboard the construct creates with ``monitoring=True`` (its
        default). Default True. Logs are counted either way: the handler writes them regardless.
    apigw_free_tier
        Subtract API Gateway's 12-month free tier (1M requests a month), which only accounts
        created on or before 2025-07-15 have. Default False.
    log_bytes_per_request
        Bytes ingested into CloudWatch Logs per request; 0 leaves logs out. Default
        :data:`REQUEST_LOG_BYTES` + :data:`LAMBDA_PLATFORM_LOG_BYTES` (900).
    custom_metrics
        Custom metrics the runtime publishes (EMF); 0 leaves them out. Default
        :data:`CUSTOM_METRICS` (5).
    """

    requests_per_month: float
    memory_mb: int
    duration_ms: float
    architecture: str = DEFAULT_ARCHITECTURE
    cold_start_rate: float = 0.01
    init_duration_ms: float = 1000.0
    provisioned_concurrency: int = 0
    provisioned_hours: float = HOURS_PER_MONTH
    snapstart: bool = False
    snapstart_versions: int = 1
    snapstart_restore_ms: float = 0.0
    sagemaker_instances: int = 1
    include_free_tier: bool = False
    monitoring: bool = True
    apigw_free_tier: bool = False
    log_bytes_per_request: int = REQUEST_LOG_BYTES + LAMBDA_PLATFORM_LOG_BYTES
    custom_metrics: int = CUSTOM_METRICS
    lmi_instance_type: str = "m7g.large"
    lmi_min_instances: int = LMI_MIN_INSTANCES
    lmi_vpc: str = "endpoints"
    lmi_target_utilization: float = LMI_TARGET_UTILIZATION

    def __post_init__(self) -> None:
        _require(
            math.isfinite(self.requests_per_month) and self.requests_per_month >= 0,
            f"requests per month must be a number >= 0, got {self.requests_per_month!r}",
        )
        lo, hi = limits.MEMORY_MB
        _require(
            isinstance(self.memory_mb, int) and lo <= self.memory_mb <= hi,
            f"memory must be a whole number of MB from {lo} to {hi} (the Lambda limits), "
            f"got {self.memory_mb!r}",
        )
        _require(
            math.isfinite(self.duration_ms) and self.duration_ms > 0,
            f"duration must be > 0 ms (the billed duration of one warm prediction), got {self.duration_ms!r}",
        )
        _require(
            self.architecture in ARCHITECTURES,
            f"architecture must be one of {', '.join(ARCHITECTURES)}, got {self.architecture!r}",
        )
        _require(
            0.0 <= self.cold_start_rate <= 1.0,
            "cold-start rate is a fraction of requests from 0 to 1 (0.01 = 1%), "
            f"got {self.cold_start_rate!r}",
        )
        _require(
            math.isfinite(self.init_duration_ms) and self.init_duration_ms >= 0,
            f"INIT duration must be >= 0 ms, got {self.init_duration_ms!r}",
        )
        _require(
            isinstance(self.provisioned_concurrency, int) and self.provisioned_concurrency >= 0,
            f"provisioned concurrency must be a whole number >= 0, got {self.provisioned_concurrency!r}",
        )
        _require(
            0.0 <= self.provisioned_hours <= HOURS_PER_MONTH,
            f"provisioned hours must be from 0 to {HOURS_PER_MONTH:g} (a month), "
            f"got {self.provisioned_hours!r}",
        )
        _require(
            not (self.snapstart and self.provisioned_concurrency > 0),
            "SnapStart and provisioned concurrency cannot be used together on one function version "
            f"(got snapstart=True and provisioned concurrency {self.provisioned_concurrency}); choose one",
        )
        _require(
            isinstance(self.snapstart_versions, int) and self.snapstart_versions >= 1,
            f"SnapStart versions cached must be a whole number >= 1, got {self.snapstart_versions!r}",
        )
        _require(
            math.isfinite(self.snapstart_restore_ms) and self.snapstart_restore_ms >= 0,
            f"SnapStart billed restore duration must be >= 0 ms, got {self.snapstart_restore_ms!r}",
        )
        _require(
            isinstance(self.custom_metrics, int) and self.custom_metrics >= 0,
            f"custom metrics must be a whole number >= 0, got {self.custom_metrics!r}",
        )
        _require(
            isinstance(self.log_bytes_per_request, int) and self.log_bytes_per_request >= 0,
            f"log bytes per request must be a whole number >= 0, got {self.log_bytes_per_request!r}",
        )
        _require(
            isinstance(self.sagemaker_instances, int) and self.sagemaker_instances >= 1,
            f"SageMaker instances per endpoint must be a whole number >= 1, got {self.sagemaker_instances!r}",
        )
        _require(
            self.lmi_instance_type in LMI_INSTANCE_TYPES,
            f"LMI instance type must be one of {', '.join(LMI_INSTANCE_TYPES)}, "
            f"got {self.lmi_instance_type!r}",
        )
        _require(
            isinstance(self.lmi_min_instances, int) and self.lmi_min_instances >= 1,
            f"LMI minimum instances must be a whole number >= 1, got {self.lmi_min_instances!r}",
        )
        _require(
            self.lmi_vpc in LMI_VPC_OPTIONS,
            f"LMI VPC egress must be one of {', '.join(LMI_VPC_OPTIONS)}, got {self.lmi_vpc!r}",
        )
        _require(
            0.0 < self.lmi_target_utilization <= 1.0,
            f"LMI target CPU utilization must be in (0, 1], got {self.lmi_target_utilization!r}",
        )

    @property
    def memory_gb(self) -> float:
        """Lambda memory in GB (1024 MB = 1 GB, as AWS bills it)."""
        return self.memory_mb / 1024.0

    @property
    def serverless_memory_mb(self) -> int:
        """The SageMaker Serverless memory size used: the Lambda memory rounded up, 1024..6144."""
        for size in SERVERLESS_MEMORY_MB:
            if self.memory_mb <= size:
                return size
        return SERVERLESS_MEMORY_MB[-1]


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


@dataclass(frozen=True)
class LineItem:
    """One line of a bill: ``fixed_usd + usd_per_request * max(0, N - free_requests)``.

    ``free_requests`` expresses a free allowance in requests of ``N`` (a GB-s allowance is
    divided by the GB-s each request uses).
    """

    name: str
    fixed_usd: float = 0.0
    usd_per_request: float = 0.0
    free_requests: float = 0.0

    def cost(self, requests_per_month: float) -> float:
        """USD this line bills for ``requests_per_month``."""
        return self.fixed_usd + self.usd_per_request * max(0.0, requests_per_month - self.free_requests)


@dataclass(frozen=True)
class OptionCost:
    """One way to serve the model, as the line items of its monthly bill.

    Attributes
    ----------
    name
        e.g. ``"lambda+http_api"``, ``"sagemaker ml.t3.medium"``, ``"sagemaker serverless"``.
    kind
        ``"lambda"``, ``"sagemaker"`` (real-time endpoint) or ``"sagemaker-serverless"``.
    line_items
        The bill, one entry per charge.
    """

    name: str
    kind: str
    line_items: tuple[LineItem, ...]

    def monthly_usd(self, requests_per_month: float) -> float:
        """Total USD a month at ``requests_per_month``."""
        return sum(item.cost(requests_per_month) for item in self.line_items)

    def breakdown(self, requests_per_month: float) -> dict[str, float]:
        """USD per line item at ``requests_per_month``, in bill order."""
        return {item.name: item.cost(requests_per_month) for item in self.line_items}


def lambda_option(workload: Workload, front_door: str) -> OptionCost:
    """The bill of the Lambda function behind ``front_door``.

    Raises
    ------
    ValueError
        If ``front_door`` is not one of :data:`FRONT_DOORS`.
    """
    if front_door not in FRONT_DOORS:
        raise ValueError(f"front door must be one of {', '.join(FRONT_DOORS)}, got {front_door!r}")
    w = workload
    items = [*_invocation_items(w), *_provisioned_items(w)]
    door_free = w.apigw_free_tier and front_door != "function_url"
    items.append(
        LineItem(
            _FRONT_DOOR_LABEL[front_door],
            usd_per_request=price(_FRONT_DOOR_PRICE[front_door]),
            free_requests=price("apigw.free.requests") if door_free else 0.0,
        )
    )
    items.extend(cloudwatch_items(w))
    return OptionCost(name=f"lambda+{front_door}", kind="lambda", line_items=tuple(items))


def _on_demand_share(w: Workload) -> float:
    # The share of requests that provisioned concurrency does not serve.
    pc_share = w.provisioned_hours / HOURS_PER_MONTH if w.provisioned_concurrency > 0 else 0.0
    return 1.0 - pc_share


def _invocation_items(w: Workload) -> list[LineItem]:
    """Requests, duration, and what cold starts cost (INIT, or SnapStart's restore and cache)."""
    gb = w.memory_gb
    on_demand = _on_demand_share(w)
    duration_price = price(f"lambda.duration.{w.architecture}")
    # Free tier: always free, but never for a function with provisioned concurrency.
    free = w.include_free_tier and w.provisioned_concurrency == 0
    invoke_gb_s = on_demand * gb * w.duration_ms / 1000.0
    cold_ms = w.snapstart_restore_ms if w.snapstart else w.init_duration_ms
    cold_gb_s = on_demand * w.cold_start_rate * gb * cold_ms / 1000.0
    # The 400,000 free GB-s cover invoke and INIT/restore duration alike; expressed in requests
    # the allowance is the same for both lines, so splitting it keeps each line exact.
    gb_s_per_request = invoke_gb_s + cold_gb_s
    free_duration_requests = (
        price("lambda.free.gb_seconds") / gb_s_per_request if free and gb_s_per_request > 0 else 0.0
    )
    items = [
        LineItem(
            "Lambda requests",
            usd_per_request=price("lambda.request"),
            free_requests=price("lambda.free.requests") if free else 0.0,
        ),
        LineItem(
            "Lambda duration",
            usd_per_request=invoke_gb_s * duration_price,
            free_requests=free_duration_requests,
        ),
    ]
    if not w.snapstart:
        items.append(
            LineItem(
                "Lambda INIT duration",
                usd_per_request=cold_gb_s * duration_price,
                free_requests=free_duration_requests,
            )
        )
        return items
    cached_hours = max(HOURS_PER_MONTH, _SNAPSTART_MINIMUM_HOURS)
    items += [
        LineItem(
            "Lambda SnapStart restore duration",
            usd_per_request=cold_gb_s * duration_price,
            free_requests=free_duration_requests,
        ),
        LineItem(
            "Lambda SnapStart cache",
            fixed_usd=w.snapstart_versions * gb * cached_hours * 3600.0 * price("lambda.snapstart.cache"),
        ),
        LineItem(
            "Lambda SnapStart restore",
            usd_per_request=on_demand * w.cold_start_rate * gb * price("lambda.snapstart.restore"),
        ),
    ]
    return items


def _provisioned_items(w: Workload) -> list[LineItem]:
    """Provisioned concurrency: the environments held, and the duration of the requests they serve."""
    if w.provisioned_concurrency <= 0:
        return []
    gb = w.memory_gb
    pc_share = 1.0 - _on_demand_share(w)
    return [
        LineItem(
            "Lambda provisioned concurrency held",
            fixed_usd=w.provisioned_concurrency
            * gb
            * w.provisioned_hours
            * 3600.0
            * price(f"lambda.pc.held.{w.architecture}"),
        ),
        LineItem(
            "Lambda provisioned duration",
            usd_per_request=pc_share
            * gb
            * w.duration_ms
            / 1000.0
            * price(f"lambda.pc.duration.{w.architecture}"),
        ),
    ]


def alarm_metrics(workload: Workload) -> int:
    """Alarm metrics the construct's monitoring bills for this workload (0 without monitoring)."""
    if not workload.monitoring:
        return 0
    return ALARM_METRICS + (PROVISIONED_ALARM_METRICS if workload.provisioned_concurrency > 0 else 0)


def cloudwatch_items(workload: Workload) -> list[LineItem]:
    """CloudWatch line items of a Lambda option: alarms and dashboard (with monitoring), Logs ingestion."""
    w = workload
    items: list[LineItem] = []
    log_bytes = w.log_bytes_per_request
    metrics = alarm_metrics(w)
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


def sagemaker_instance_option(workload: Workload, instance_type: str) -> OptionCost:
    """The bill of a SageMaker real-time endpoint on ``instance_type``, running all month.

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


def all_options(workload: Workload, front_doors: tuple[str, ...] = FRONT_DOORS) -> tuple[OptionCost, ...]:
    """Lambda behind each of ``front_doors``, then every SageMaker option, then Lambda Managed Instances."""
    lambdas = tuple(lambda_option(workload, door) for door in front_doors)
    instances = tuple(sagemaker_instance_option(workload, t) for t in SAGEMAKER_INSTANCE_TYPES)
    return (*lambdas, *instances, sagemaker_serverless_option(workload), lmi_option(workload))


def _line_on(option: OptionCost, segment_start: float) -> tuple[float, float]:
    """Intercept and slope of ``option`` for N between ``segment_start`` and the next kink."""
    intercept = 0.0
    slope = 0.0
    for item in option.line_items:
        intercept += item.fixed_usd
        if item.free_requests <= segment_start:
            intercept -= item.usd_per_request * item.free_requests
            slope += item.usd_per_request
    return intercept, slope


def break_even(a: OptionCost, b: OptionCost) -> tuple[float, ...]:
    """Every volume N > 0 (requests a month) at which ``a`` and ``b`` swap places as the cheaper.

    Solved exactly: the difference of the two bills is linear between free-tier kinks, so each
    segment has at most one root. A root counts only where the order really swaps (not where
    the two merely touch, e.g. when both leave a free tier at the same volume). An empty tuple
    means the lines never cross: one option costs no more than the other at every volume.
    """
    kinks = sorted({i.free_requests for o in (a, b) for i in o.line_items if i.free_requests > 0})
    bounds = [0.0, *kinks, math.inf]
    roots: list[float] = []
    for lo, hi in pairwise(bounds):
        a0, a1 = _line_on(a, lo)
        b0, b1 = _line_on(b, lo)
        slope = a1 - b1
        if slope == 0.0:
            continue  # parallel on this segment: equal everywhere or nowhere, no swap
        root = (b0 - a0) / slope
        if root > 0 and lo <= root < hi and _swaps_at(a, b, root):
            roots.append(root)
    return tuple(roots)


def _difference(a: OptionCost, b: OptionCost, n: float) -> float:
    return a.monthly_usd(n) - b.monthly_usd(n)


def _swaps_at(a: OptionCost, b: OptionCost, root: float) -> bool:
    step = max(root * 1e-6, 1e-6)
    before = _difference(a, b, max(root - step, 0.0))
    after = _difference(a, b, root + step)
    return (before < 0 < after) or (after < 0 < before)


def _probe_points(a: OptionCost, b: OptionCost, roots: tuple[float, ...]) -> list[float]:
    """One volume inside every stretch where the order of ``a`` and ``b`` cannot change."""
    cuts = sorted(
        {0.0, *roots, *(i.free_requests for o in (a, b) for i in o.line_items if i.free_requests > 0)}
    )
    points = [(lo + hi) / 2.0 for lo, hi in pairwise(cuts)]
    points.append(cuts[-1] * 2.0 + 1e6)
    return points


@dataclass(frozen=True)
class BreakEven:
    """Where a Lambda option and another option cost the same.

    Attributes
    ----------
    lambda_option, other_option
        The two option names compared.
    requests_per_month
        The crossing volumes (usually one); empty when the lines never cross.
    lambda_cheaper_at_low_volume
        True when Lambda is the cheaper of the two just above zero requests; None when both cost
        the same there.
    """

    lambda_option: str
    other_option: str
    requests_per_month: tuple[float, ...]
    lambda_cheaper_at_low_volume: bool | None

    def describe(self) -> str:
        """A sentence for people: who is cheaper where."""
        vs = f"{self.lambda_option} vs {self.other_option}"
        if not self.requests_per_month:
            if self.lambda_cheaper_at_low_volume is None:
                return f"{vs}: same cost at every volume"
            winner = self.lambda_option if self.lambda_cheaper_at_low_volume else self.other_option
            return f"{vs}: the lines never cross; {winner} costs no more at any volume"
        first = self.requests_per_month[0]
        low, high = (
            (self.lambda_option, self.other_option)
            if self.lambda_cheaper_at_low_volume
            else (self.other_option, self.lambda_option)
        )
        text = (
            f"{vs}: break even at {format_requests(first)} requests/month; {low} cheaper below, {high} above"
        )
        if len(self.requests_per_month) > 1:
            others = ", ".join(format_requests(n) for n in self.requests_per_month[1:])
            text += f" (order swaps again at {others})"
        return text


def _cheaper_at_low_volume(a: OptionCost, b: OptionCost, roots: tuple[float, ...]) -> bool | None:
    # The first stretch where the two differ decides; None when they are equal everywhere.
    for n in _probe_points(a, b, roots):
        diff = _difference(a, b, n)
        if not math.isclose(diff, 0.0, abs_tol=1e-12):
            return diff < 0
    return None


@dataclass(frozen=True)
class CostReport:
    """The comparison ``cdk-sklearn cost`` prints.

    Attributes
    ----------
    workload
        The inputs used.
    options
        Every option compared, Lambda ones first.
    monthly_usd
        Option name -> USD a month at ``workload.requests_per_month``.
    cheapest
        Name of the cheapest option at that volume.
    break_evens
        Each Lambda option against each other option.
    notes
        Caveats that apply to these inputs (volume tiers reached, memory rounded, ...).
    """

    workload: Workload
    options: tuple[OptionCost, ...]
    monthly_usd: dict[str, float]
    cheapest: str
    break_evens: tuple[BreakEven, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)


def compare(workload: Workload, front_doors: tuple[str, ...] = FRONT_DOORS) -> CostReport:
    """Cost every option at the workload's volume and solve every Lambda-vs-other break-even.

    Raises
    ------
    ValueError
        If ``front_doors`` is empty or names an unknown front door.
    """
    if not front_doors:
        raise ValueError(f"choose at least one front door from {', '.join(FRONT_DOORS)}")
    doors = tuple(dict.fromkeys(front_doors))  # de-duplicated, order kept
    options = all_options(workload, doors)
    n = workload.requests_per_month
    monthly = {o.name: o.monthly_usd(n) for o in options}
    cheapest = min(options, key=lambda o: (monthly[o.name], o.name)).name
    lambdas = [o for o in options if o.kind == "lambda"]
    others = [o for o in options if o.kind != "lambda"]
    break_evens = []
    for lam in lambdas:
        for other in others:
            roots = break_even(lam, other)
            break_evens.append(
                BreakEven(
                    lambda_option=lam.name,
                    other_option=other.name,
                    requests_per_month=roots,
                    lambda_cheaper_at_low_volume=_cheaper_at_low_volume(lam, other, roots),
                )
            )
    return CostReport(
        workload=workload,
        options=options,
        monthly_usd=monthly,
        cheapest=cheapest,
        break_evens=tuple(break_evens),
        notes=_notes(workload, doors),
    )


def _notes(w: Workload, doors: tuple[str, ...]) -> tuple[str, ...]:
    notes = []
    n = w.requests_per_month
    if "http_api" in doors and n > _HTTP_API_TIER_REQUESTS:
        notes.append("HTTP API requests beyond 300M a month are cheaper than modelled ($0.90/M, not $1.00/M)")
    if "rest_api" in doors and n > _REST_API_TIER_REQUESTS:
        notes.append("REST API requests beyond 333M a month are cheaper than modelled ($2.80/M, not $3.50/M)")
    if n * w.memory_gb * w.duration_ms / 1000.0 > _LAMBDA_DURATION_TIER_GB_S:
        notes.append("Lambda duration beyond 6 billion GB-s a month is cheaper than modelled")
    if w.serverless_memory_mb != w.memory_mb:
        notes.append(
            f"SageMaker Serverless priced at {w.serverless_memory_mb} MB, "
            f"its nearest memory size to {w.memory_mb} MB"
        )
    notes.append(
        f"Lambda Managed Instances: python3.13+ only, functions of >= {LMI_MIN_MEMORY_MB} MB, in a VPC; "
        f"priced at {w.lmi_target_utilization:.0%} CPU on {w.lmi_instance_type}, capacity as a smooth "
        "function of volume, no front door counted"
    )
    if w.include_free_tier:
        notes.append(
            "free tiers subtracted: Lambda and CloudWatch (always free), "
            "SageMaker Serverless (first 2 months)"
        )
    if w.apigw_free_tier:
        notes.append(
            "API Gateway's 12-month free tier subtracted (1M requests a month): only accounts created "
            "on or before 2025-07-15 have it"
        )
    return tuple(notes)


def saving(lambda_usd: float, other_usd: float) -> float:
    """Fraction of ``other_usd`` saved by paying ``lambda_usd`` instead (negative: Lambda costs more).

    Raises
    ------
    ValueError
        If ``other_usd`` is not positive (a saving relative to nothing is undefined).
    """
    if other_usd <= 0:
        raise ValueError(f"cannot express a saving relative to a cost of {other_usd!r} USD")
    return 1.0 - lambda_usd / other_usd


def format_requests(n: float) -> str:
    """``1234567`` -> ``"1.23M"``; ``2500`` -> ``"2.5k"``; plain below 1,000."""
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= scale:
            return f"{n / scale:.3g}{suffix}"
    return f"{n:.3g}"


def parse_requests(text: str) -> float:
    """Parse a volume such as ``"2000000"``, ``"2e6"``, ``"2M"``, ``"100k"`` or ``"1.5B"``.

    Raises
    ------
    ValueError
        If ``text`` is not a number (optionally suffixed k, M or B) or is negative.
    """
    cleaned = text.strip().replace("_", "").replace(",", "")
    multiplier = 1.0
    suffixes = {"k": 1e3, "K": 1e3, "m": 1e6, "M": 1e6, "b": 1e9, "B": 1e9}
    if cleaned and cleaned[-1] in suffixes:
        multiplier = suffixes[cleaned[-1]]
        cleaned = cleaned[:-1]
    try:
        value = float(cleaned) * multiplier
    except ValueError:
        raise ValueError(
            f"requests per month must be a number such as 2000000, 2e6, 2M or 100k, got {text!r}"
        ) from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"requests per month must be >= 0, got {text!r}")
    return value


# -- batch scoring: one job, SklearnBatchScoring against SageMaker Batch Transform ----------------

PARENT_TRANSITIONS: Final = 4
"""State transitions of a run's own execution: the Choice, the plan, the Distributed Map, the summary."""
CHILD_TRANSITIONS: Final = 2
"""State transitions per Distributed Map child (a STANDARD execution of one Lambda task): entering
the task and ending the execution. Retries add one each; none are counted."""
PLAN_AND_SUMMARY_SECONDS: Final = 2.0
"""Billed seconds of the plan and summary invocations together (a listing, a few small objects)."""


@dataclass(frozen=True)
class BatchWorkload:
    """One batch-scoring job; every field is validated on construction.

    Parameters
    ----------
    rows
        Rows scored, > 0.
    per_row_ms
        Time to decode, predict and write one row on one vCPU, > 0 ms (``benchmarks/batch.py``
        measures it: 1 / rows per second per process).
    bytes_per_row
        Average input bytes per row. Default 100.
    memory_mb
        Memory of the batch function. Default 2048.
    architecture
        ``"x86_64"`` or ``"arm64"`` (default).
    split_mib
        Input MiB per work item (one Lambda call). Default 64.
    objects
        Input objects (for the listing). Default 1.
    init_ms
        Billed INIT per execution environment (one per concurrent child). Default 2000.
    max_concurrency
        Parallel children at most (execution environments started). Default 50.
    sagemaker_instances
        Instances of each Batch Transform job. Default 1.
    provisioning_minutes
        Billed minutes per Batch Transform instance before it scores (start-up, model download).
        Default 5.
    """

    rows: float
    per_row_ms: float
    bytes_per_row: float = 100.0
    memory_mb: int = 2048
    architecture: str = DEFAULT_ARCHITECTURE
    split_mib: int = 64
    objects: int = 1
    init_ms: float = 2000.0
    max_concurrency: int = 50
    sagemaker_instances: int = 1
    provisioning_minutes: float = 5.0

    def __post_init__(self) -> None:
        _require(math.isfinite(self.rows) and self.rows > 0, f"rows must be > 0, got {self.rows!r}")
        _require(
            math.isfinite(self.per_row_ms) and self.per_row_ms > 0,
            f"time per row must be > 0 ms, got {self.per_row_ms!r}",
        )
        _require(self.bytes_per_row > 0, f"bytes per row must be > 0, got {self.bytes_per_row!r}")
        lo, hi = limits.MEMORY_MB
        _require(
            isinstance(self.memory_mb, int) and lo <= self.memory_mb <= hi,
            f"memory must be a whole number of MB from {lo} to {hi}, got {self.memory_mb!r}",
        )
        _require(
            self.architecture in ARCHITECTURES,
            f"architecture must be one of {', '.join(ARCHITECTURES)}, got {self.architecture!r}",
        )
        _require(
            isinstance(self.split_mib, int) and 1 <= self.split_mib <= 1024,
            f"split must be 1 to 1024 MiB, got {self.split_mib!r}",
        )
        _require(
            isinstance(self.objects, int) and self.objects >= 1, f"objects must be >= 1, got {self.objects!r}"
        )
        _require(self.init_ms >= 0, f"INIT duration must be >= 0 ms, got {self.init_ms!r}")
        _require(
            isinstance(self.max_concurrency, int) and self.max_concurrency >= 1,
            f"max concurrency must be >= 1, got {self.max_concurrency!r}",
        )
        _require(
            isinstance(self.sagemaker_instances, int) and self.sagemaker_instances >= 1,
            f"SageMaker instances must be >= 1, got {self.sagemaker_instances!r}",
        )
        _require(
            self.provisioning_minutes >= 0,
            f"provisioning minutes must be >= 0, got {self.provisioning_minutes!r}",
        )

    @property
    def work_items(self) -> int:
        """Work items (children): the input bytes over the split size, rounded up."""
        return max(1, math.ceil(self.rows * self.bytes_per_row / (self.split_mib * 1024 * 1024)))

    @property
    def cpu_seconds(self) -> float:
        """vCPU-seconds of scoring: rows x time per row."""
        return self.rows * self.per_row_ms / 1000.0


def batch_lambda_option(job: BatchWorkload) -> OptionCost:
    """The bill of one ``SklearnBatchScoring`` run: Step Functions, Lambda, S3 requests."""
    items_n = job.work_items
    environments = min(items_n, job.max_concurrency)
    seconds = job.cpu_seconds + environments * job.init_ms / 1000.0 + PLAN_AND_SUMMARY_SECONDS
    transitions = PARENT_TRANSITIONS + CHILD_TRANSITIONS * items_n
    # Per work item: a ranged GET and a header GET; the map's manifest read, the summary's reads of
    # the result writer's manifest and results. PUTs: an output object per work item, the manifest,
    # the result writer's manifest and results, the summary. LISTs: one per 1,000 objects.
    gets = 2 * items_n + 3
    puts = items_n + 4 + math.ceil(job.objects / 1000)
    items = (
        LineItem(
            f"Step Functions ({transitions:,} transitions)",
            fixed_usd=transitions * price("stepfunctions.standard.transition"),
        ),
        LineItem(f"Lambda requests ({items_n + 2:,})", fixed_usd=(items_n + 2) * price("lambda.request")),
        LineItem(
            f"Lambda duration ({seconds:,.0f} s x {job.memory_mb} MB)",
            fixed_usd=seconds * job.memory_mb / 1024.0 * price(f"lambda.duration.{job.architecture}"),
        ),
        LineItem(
            f"S3 requests ({gets:,} GET, {puts:,} PUT/LIST)",
            fixed_usd=gets * price("s3.request.get") + puts * price("s3.request.put"),
        ),
    )
    return OptionCost(name="lambda batch (step functions)", kind="lambda-batch", line_items=items)


def batch_transform_option(job: BatchWorkload, instance_type: str) -> OptionCost:
    """The bill of a SageMaker Batch Transform job on ``instance_type`` (same hourly rate as hosting).

    Instance-seconds: the job's vCPU-seconds over the instance's vCPUs (every vCPU busy), plus the
    provisioning minutes of each instance.
    """
    if instance_type not in SAGEMAKER_INSTANCE_TYPES:
        raise ValueError(
            f"SageMaker instance type must be one of {', '.join(SAGEMAKER_INSTANCE_TYPES)}, "
            f"got {instance_type!r}"
        )
    scoring = job.cpu_seconds / INSTANCE_VCPUS[instance_type]
    provisioning = job.sagemaker_instances * job.provisioning_minutes * 60.0
    hourly = price(f"sagemaker.{instance_type}")
    items = (
        LineItem(f"Batch Transform scoring ({scoring:,.0f} instance-s)", fixed_usd=scoring * hourly / 3600.0),
        LineItem(
            f"Batch Transform provisioning ({job.sagemaker_instances} x {job.provisioning_minutes:g} min)",
            fixed_usd=provisioning * hourly / 3600.0,
        ),
    )
    return OptionCost(name=f"batch transform {instance_type}", kind="sagemaker-batch", line_items=items)


def compare_batch(job: BatchWorkload) -> dict[str, OptionCost]:
    """The Lambda batch run and a Batch Transform job per instance type, by name."""
    options = [batch_lambda_option(job), *(batch_transform_option(job, t) for t in SAGEMAKER_INSTANCE_TYPES)]
    return {o.name: o for o in options}
