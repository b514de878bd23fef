"""What is served and how: the inputs every bill reads, and request volumes as people write them.

The fields are validated on construction, so every bill can trust them; the package docstring of
:mod:`cdk_sklearn.cost` states the modelling assumptions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal, get_args

from cdk_sklearn.cost.prices import HOURS_PER_MONTH
from lambda_runtime import limits
from lambda_runtime.contract import METRIC_NAMES  # the shared contract, read as data
from lambda_runtime.limits import DEFAULT_ARCHITECTURE

Architecture = Literal["x86_64", "arm64"]
FrontDoor = Literal["http_api", "rest_api", "function_url"]

ARCHITECTURES: Final[tuple[str, ...]] = get_args(Architecture)
FRONT_DOORS: Final[tuple[str, ...]] = get_args(FrontDoor)

SERVERLESS_MEMORY_MB: Final = (1024, 2048, 3072, 4096, 5120, 6144)

REQUEST_LOG_BYTES: Final = 690
"""Bytes of the one line the handler prints per request (its JSON record carrying the EMF metrics),
newline included. Measured by running ``lambda_runtime``'s handler on an API Gateway HTTP API
predict event for a model named ``model``: 638 to 640 bytes (the latency digits vary); a longer
model name adds its extra characters twice. A test measures it again."""

LAMBDA_PLATFORM_LOG_BYTES: Final = 260
"""Lambda's own lines per invocation in the text log format, from their documented layout with a
36-character request id: ``START RequestId: ... Version: N`` (about 65 bytes), ``END RequestId: ...``
(52) and ``REPORT RequestId: ... Duration ... Max Memory Used ...`` (about 140). An estimate."""

DEFAULT_DURATION_MS: Final = 10.0
"""The billed duration of one warm prediction ``cdk-sklearn cost`` assumes when not told: an assumption,
not a measurement. The benchmarked models (MLPs, a 100-tree random forest, a scaled logistic
regression) answer one row in 0.2 to 2.9 ms (median; p99 up to 3.4 ms) on a full vCPU
(docs/readme/benchmarks.md); a function of 1,024 MB gets 1024/1769 of a vCPU, so about 1.7x that, and
Lambda bills whole milliseconds. 10 ms leaves room for a heavier model and the JSON. Measure yours:
``cdk-sklearn serve`` logs ``PredictionLatency`` (ms) for each request."""

DEFAULT_FRONT_DOOR: Final = "http_api"
"""The front door of an endpoint that does not choose one (``FrontDoorProps.front_door``'s default;
a test keeps the two equal, without this module importing the CDK)."""

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
    alarm_topic_key
        With monitoring, count the customer-managed KMS key that encrypts the alarm topic
        (``encrypt_alarm_topic=True``, the default; one key per stack). Default True.
    apigw_free_tier
        Subtract API Gateway's 12-month free tier (1M requests a month), which only accounts
        created on or before 2025-07-15 have. Default False.
    log_bytes_per_request
        Bytes ingested into CloudWatch Logs per request; 0 leaves logs out. Default
        :data:`REQUEST_LOG_BYTES` + :data:`LAMBDA_PLATFORM_LOG_BYTES` (950).
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
    alarm_topic_key: bool = True
    apigw_free_tier: bool = False
    log_bytes_per_request: int = REQUEST_LOG_BYTES + LAMBDA_PLATFORM_LOG_BYTES
    custom_metrics: int = CUSTOM_METRICS

    def __post_init__(self) -> None:
        # One group of fields at a time; the first wrong field raises, naming itself and what is allowed.
        self._check_function()
        self._check_cold_starts()
        self._check_bills()

    def _check_function(self) -> None:
        require(
            math.isfinite(self.requests_per_month) and self.requests_per_month >= 0,
            f"requests per month must be a number >= 0, got {self.requests_per_month!r}",
        )
        lo, hi = limits.MEMORY_MB
        require(
            isinstance(self.memory_mb, int) and lo <= self.memory_mb <= hi,
            f"memory must be a whole number of MB from {lo} to {hi} (the Lambda limits), "
            f"got {self.memory_mb!r}",
        )
        require(
            math.isfinite(self.duration_ms) and self.duration_ms > 0,
            f"duration must be > 0 ms (the billed duration of one warm prediction), got {self.duration_ms!r}",
        )
        require(
            self.architecture in ARCHITECTURES,
            f"architecture must be one of {', '.join(ARCHITECTURES)}, got {self.architecture!r}",
        )

    def _check_cold_starts(self) -> None:
        require(
            0.0 <= self.cold_start_rate <= 1.0,
            "cold-start rate is a fraction of requests from 0 to 1 (0.01 = 1%), "
            f"got {self.cold_start_rate!r}",
        )
        require(
            math.isfinite(self.init_duration_ms) and self.init_duration_ms >= 0,
            f"INIT duration must be >= 0 ms, got {self.init_duration_ms!r}",
        )
        require(
            isinstance(self.provisioned_concurrency, int) and self.provisioned_concurrency >= 0,
            f"provisioned concurrency must be a whole number >= 0, got {self.provisioned_concurrency!r}",
        )
        require(
            0.0 <= self.provisioned_hours <= HOURS_PER_MONTH,
            f"provisioned hours must be from 0 to {HOURS_PER_MONTH:g} (a month), "
            f"got {self.provisioned_hours!r}",
        )
        require(
            not (self.snapstart and self.provisioned_concurrency > 0),
            "SnapStart and provisioned concurrency cannot be used together on one function version "
            f"(got snapstart=True and provisioned concurrency {self.provisioned_concurrency}); choose one",
        )
        require(
            isinstance(self.snapstart_versions, int) and self.snapstart_versions >= 1,
            f"SnapStart versions cached must be a whole number >= 1, got {self.snapstart_versions!r}",
        )
        require(
            math.isfinite(self.snapstart_restore_ms) and self.snapstart_restore_ms >= 0,
            f"SnapStart billed restore duration must be >= 0 ms, got {self.snapstart_restore_ms!r}",
        )

    def _check_bills(self) -> None:
        require(
            isinstance(self.custom_metrics, int) and self.custom_metrics >= 0,
            f"custom metrics must be a whole number >= 0, got {self.custom_metrics!r}",
        )
        require(
            isinstance(self.log_bytes_per_request, int) and self.log_bytes_per_request >= 0,
            f"log bytes per request must be a whole number >= 0, got {self.log_bytes_per_request!r}",
        )
        require(
            isinstance(self.sagemaker_instances, int) and self.sagemaker_instances >= 1,
            f"SageMaker instances per endpoint must be a whole number >= 1, got {self.sagemaker_instances!r}",
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


def require(condition: bool, message: str) -> None:
    """Raise ``ValueError(message)`` unless ``condition`` holds (the inputs' validation)."""
    if not condition:
        raise ValueError(message)


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
