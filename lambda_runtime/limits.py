"""AWS Lambda's limits and cdk-sklearn's defaults for a model function: the one home of each value.

Standard library only and free of jsii, so every reader can afford it: the constructs (which validate
props against these ranges), the CLI (``cdk-sklearn layer build`` and ``cost`` default to what the
construct deploys without starting Node), the cost model and the AWS proof. The function itself never
reads it. Sources: https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html and
https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html (checked 2026-12).
"""

from __future__ import annotations

from typing import Final

# --- Lambda's own limits -------------------------------------------------------------------------

RUNTIMES: Final[tuple[str, ...]] = ("python3.11", "python3.12", "python3.13", "python3.14")
"""The Lambda Python runtimes a model function can use, oldest first (the layer supports each)."""

SNAPSTART_RUNTIMES: Final[tuple[str, ...]] = ("python3.12", "python3.13", "python3.14")
"""The Python runtimes Lambda SnapStart supports."""

ARCHITECTURES: Final[tuple[str, ...]] = ("x86_64", "arm64")
"""The Lambda architectures, by the names Lambda uses."""

MEMORY_MB: Final[tuple[int, int]] = (128, 10240)
"""A function's memory size, MB, inclusive (on-demand Lambda)."""

MANAGED_INSTANCES_MEMORY_MB: Final[tuple[int, int]] = (2048, 32768)
"""A function's memory size on Lambda Managed Instances, MB, inclusive: at least 2 GB, and up to 32 GB
(lambda-managed-instances docs; the on-demand API caps it at :data:`MEMORY_MB`'s 10,240)."""

TIMEOUT_SECONDS: Final[tuple[int, int]] = (1, 900)
"""A function's timeout, seconds, inclusive."""

EPHEMERAL_STORAGE_MB: Final[tuple[int, int]] = (512, 10240)
"""A function's ``/tmp`` size, MB, inclusive."""

FULL_VCPU_MEMORY_MB: Final = 1769
"""The memory size at which a function gets one full vCPU; CPU share is proportional below it."""

MAX_VCPUS: Final = 6
"""The vCPUs a function gets at the largest memory size (10,240 MB)."""

LOG_RETENTION_NAMES: Final[dict[int, str]] = {
    1: "ONE_DAY",
    3: "THREE_DAYS",
    5: "FIVE_DAYS",
    7: "ONE_WEEK",
    14: "TWO_WEEKS",
    30: "ONE_MONTH",
    60: "TWO_MONTHS",
    90: "THREE_MONTHS",
    120: "FOUR_MONTHS",
    150: "FIVE_MONTHS",
    180: "SIX_MONTHS",
    365: "ONE_YEAR",
    400: "THIRTEEN_MONTHS",
    545: "EIGHTEEN_MONTHS",
    731: "TWO_YEARS",
    1096: "THREE_YEARS",
    1827: "FIVE_YEARS",
    2192: "SIX_YEARS",
    2557: "SEVEN_YEARS",
    2922: "EIGHT_YEARS",
    3288: "NINE_YEARS",
    3653: "TEN_YEARS",
}
"""The retention periods CloudWatch Logs accepts (days), with their ``aws_logs.RetentionDays`` names."""

LOG_RETENTION_DAYS: Final[tuple[int, ...]] = tuple(LOG_RETENTION_NAMES)
"""The retention periods CloudWatch Logs accepts, in days."""

# --- cdk-sklearn's defaults ------------------------------------------------------------------------

DEFAULT_RUNTIME: Final = "python3.13"
"""The runtime a model function uses unless told otherwise (the newest one boot-tested under its CPython)."""

DEFAULT_ARCHITECTURE: Final = "arm64"
"""The architecture a model function uses unless told otherwise (Graviton: about 20% cheaper per GB-s)."""

DEFAULT_MEMORY_MB: Final = 1024
"""An endpoint function's memory size unless told otherwise."""

DEFAULT_TIMEOUT_SECONDS: Final = 30
"""An endpoint function's timeout unless told otherwise (also the HTTP API's integration limit)."""

DEFAULT_EPHEMERAL_STORAGE_MB: Final = 512
"""A model function's ``/tmp`` size unless told otherwise (the free amount)."""

DEFAULT_LOG_RETENTION_DAYS: Final = 30
"""How long a model function's logs are kept unless told otherwise."""

BATCH_MEMORY_MB: Final = 2048
"""A batch job's own function's memory size unless told otherwise."""

BATCH_TIMEOUT_SECONDS: Final = 900
"""A batch job's own function's timeout unless told otherwise: each work item may take the maximum."""
