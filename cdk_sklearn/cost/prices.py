"""The one dated price table the cost model reads: AWS list prices, us-east-1, on-demand, USD.

Every entry carries its unit, where the figure comes from and how far it was checked. Nothing
else in the package holds a price: to re-price, edit this file (and its date), then run the
tests, whose worked examples are written against these figures.

Verification levels used in ``Price.verified``:

``"aws-page"``
    Seen in a copy of the AWS pricing page or AWS documentation, including AWS's own worked
    examples (the copy in the search corpus, dated below).
``"price-list"``
    Seen in a third-party extract of the AWS Price List API offer files (usage type and rate).
``"secondary"``
    Only seen in third-party articles or repositories that quote AWS; several agree.
``"issue-supplied, unverified"``
    Taken from the issue brief; not found in any source available here.
``"unverified"``
    A list price as commonly quoted, not found in any source available here: confirm it with the
    AWS Price List API before relying on it.
``"derived"``
    Arithmetic on an ``"aws-page"`` figure, said how in a comment.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

PRICES_CHECKED: Final = "2026-11-24"
"""The day the figures below were last compared against their sources."""

REGION: Final = "us-east-1"

HOURS_PER_MONTH: Final = 730.0
"""AWS's own convention for a month of always-on resources (8,760 h / 12)."""

SECONDS_PER_MONTH: Final = HOURS_PER_MONTH * 3600.0

_LAMBDA_PAGE: Final = "https://aws.amazon.com/lambda/pricing/"
_APIGW_PAGE: Final = "https://aws.amazon.com/api-gateway/pricing/"
_SAGEMAKER_PAGE: Final = "https://aws.amazon.com/sagemaker/pricing/"
_INIT_BLOG: Final = "https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/"
_CLOUDWATCH_PAGE: Final = "https://aws.amazon.com/cloudwatch/pricing/"
_CLOUDWATCH_COPY: Final = (
    _CLOUDWATCH_PAGE
    + " (transcribed 2026-05 in api-evangelist/cloudwatch plans/cloudwatch-plans-pricing.yml)"
)
_KMS_PAGE: Final = "https://aws.amazon.com/kms/pricing/"
KMS_PRICES_CHECKED: Final = "2026-12-07"
"""The day the KMS figures were added and compared with the stored copy of the KMS pricing page."""
_FREE_TIER_PAGE: Final = "https://aws.amazon.com/free/"
_SFN_PAGE: Final = "https://aws.amazon.com/step-functions/pricing/ (figures from wring.co, 2026-03)"
_S3_PAGE: Final = "https://aws.amazon.com/s3/pricing/"
_VPC_PAGE: Final = "https://aws.amazon.com/vpc/pricing/"
_LMI_PAGE: Final = (
    _LAMBDA_PAGE + " (Lambda Managed Instances; stored copy 55521902740, transcribed 2026-09-20 in "
    "api-evangelist/aws-lambda plans/aws-lambda-plans-pricing.yml)"
)
FREE_TIER_CHANGE: Final = "2025-07-15"
"""Accounts created after this day get credits (up to $200, valid up to 6 months on the Free Plan)
instead of the 12-month per-service free tier, so API Gateway's 1M requests a month no longer apply
to them; always-free offers (Lambda, CloudWatch) remain (aws.amazon.com/free; /work/shared facts
sheet, section 1.9, citing freetier.co, techbytes.app and c3x.dev)."""


@dataclass(frozen=True)
class Price:
    """One price: a value in USD per ``unit``, with its provenance.

    Parameters
    ----------
    value
        USD per one ``unit``.
    unit
        What one unit is, e.g. ``"request"``, ``"GB-second"``, ``"instance-hour"``.
    source
        URL or document the figure comes from.
    checked
        ISO date the figure was last compared against ``source``.
    verified
        How far it was checked; see the module docstring.
    """

    value: float
    unit: str
    source: str
    checked: str
    verified: str


BATCH_PRICES_CHECKED: Final = "2026-11-30"
"""The day the Step Functions, S3, Lambda Managed Instances and VPC figures were added and checked."""


def _p(value: float, unit: str, source: str, verified: str, checked: str = PRICES_CHECKED) -> Price:
    return Price(value=value, unit=unit, source=source, checked=checked, verified=verified)


_TABLE: dict[str, Price] = {
    # --- Lambda, on-demand ----------------------------------------------------------------
    "lambda.request": _p(0.20 / 1e6, "request", _LAMBDA_PAGE, "aws-page"),
    "lambda.duration.x86_64": _p(0.0000166667, "GB-second", _LAMBDA_PAGE, "aws-page"),
    "lambda.duration.arm64": _p(
        0.0000133334, "GB-second", _LAMBDA_PAGE + " (Price List Lambda-GB-Second-ARM)", "price-list"
    ),
    # INIT has been billed at the duration price for ZIP functions on managed runtimes since
    # 2025-08-01; the model therefore prices INIT GB-s with the duration entries above.
    "lambda.init_billing_since": _p(0.0, "marker (2025-08-01)", _INIT_BLOG, "aws-page"),
    # --- Lambda, provisioned concurrency ----------------------------------------------------
    "lambda.pc.held.x86_64": _p(0.0000041667, "GB-second held", _LAMBDA_PAGE, "aws-page"),
    "lambda.pc.held.arm64": _p(
        0.0000033334,
        "GB-second held",
        _LAMBDA_PAGE + " (Price List Lambda-Provisioned-Concurrency-ARM)",
        "price-list",
    ),
    "lambda.pc.duration.x86_64": _p(0.0000097222, "GB-second executed", _LAMBDA_PAGE, "aws-page"),
    "lambda.pc.duration.arm64": _p(
        0.0000077778,
        "GB-second executed",
        _LAMBDA_PAGE + " (Price List Lambda-Provisioned-GB-Second-ARM)",
        "price-list",
    ),
    # --- Lambda, SnapStart (Python and .NET; not charged on Java) ---------------------------
    # The page quotes one figure; arm64 is assumed equal (not separately listed in our sources).
    "lambda.snapstart.cache": _p(
        0.0000015046, "GB-second cached (3-hour minimum per version)", _LAMBDA_PAGE, "aws-page"
    ),
    "lambda.snapstart.restore": _p(0.0001397998, "GB restored", _LAMBDA_PAGE, "aws-page"),
    # --- Lambda, free tier (always free; does not apply to provisioned concurrency) ---------
    "lambda.free.requests": _p(1_000_000, "requests per month", _LAMBDA_PAGE, "aws-page"),
    "lambda.free.gb_seconds": _p(400_000, "GB-seconds per month", _LAMBDA_PAGE, "aws-page"),
    # --- Front doors ------------------------------------------------------------------------
    "apigw.http.request": _p(1.00 / 1e6, "request (first 300M/month)", _APIGW_PAGE, "secondary"),
    "apigw.rest.request": _p(3.50 / 1e6, "request (first 333M/month)", _APIGW_PAGE, "secondary"),
    "lambda.function_url.request": _p(0.0, "request (no extra charge)", _LAMBDA_PAGE, "secondary"),
    # 12-month free tier, per API type: only for accounts created on or before 2025-07-15 (see
    # FREE_TIER_CHANGE); later accounts get credits instead. Applied only when asked for.
    "apigw.free.requests": _p(
        1_000_000,
        "requests per month (first 12 months; accounts created by 2025-07-15 only)",
        _APIGW_PAGE + " ; " + _FREE_TIER_PAGE,
        "secondary",
    ),
    # --- CloudWatch: what the endpoint's monitoring and logs bill -----------------------------
    # Standard resolution; an alarm on a metric-math expression is billed per metric it reads.
    "cloudwatch.alarm.standard": _p(0.10, "alarm metric-month", _CLOUDWATCH_COPY, "secondary"),
    "cloudwatch.dashboard": _p(3.00, "dashboard-month (beyond the 3 free)", _CLOUDWATCH_COPY, "secondary"),
    # First tier (Lambda's logs are tiered since 2025-05; the first step is far above these volumes).
    "cloudwatch.logs.ingestion": _p(0.50, "GB ingested (1 GB = 2^30 bytes)", _CLOUDWATCH_COPY, "secondary"),
    # The runtime's embedded-metric-format metrics: custom metrics, first 10,000 of an account.
    "cloudwatch.metric.custom": _p(0.30, "custom metric-month (first 10,000)", _CLOUDWATCH_COPY, "secondary"),
    # Always free, every account.
    "cloudwatch.free.custom_metrics": _p(10, "custom metrics per month", _CLOUDWATCH_COPY, "secondary"),
    "cloudwatch.free.alarm_metrics": _p(10, "alarm metrics per month", _CLOUDWATCH_COPY, "secondary"),
    "cloudwatch.free.dashboards": _p(3, "dashboards per month", _CLOUDWATCH_COPY, "secondary"),
    "cloudwatch.free.logs_gb": _p(
        5, "GB of logs (ingestion and storage) per month", _CLOUDWATCH_COPY, "secondary"
    ),
    # --- KMS: the customer-managed key of the alarm topics (one per stack) -------------------
    # Prorated hourly; no free tier for keys. With automatic rotation each new backing key adds
    # $1/month (the page); AWS caps that at the first two rotations (April 2024), so a yearly-rotated
    # key costs $1, then $2, then $3 a month at most. The model counts the first year.
    "kms.key": _p(
        1.00, "customer-managed key-month (prorated hourly)", _KMS_PAGE, "aws-page", KMS_PRICES_CHECKED
    ),
    # Symmetric requests beyond the 20,000 free a month; an alarm notification is a handful.
    "kms.request": _p(0.03 / 10_000, "request (symmetric)", _KMS_PAGE, "aws-page", KMS_PRICES_CHECKED),
    # --- SageMaker real-time endpoints (on-demand instance-hours, 24/7) ---------------------
    "sagemaker.ml.t2.medium": _p(0.056, "instance-hour", _SAGEMAKER_PAGE, "secondary"),
    "sagemaker.ml.t3.medium": _p(0.05, "instance-hour", _SAGEMAKER_PAGE, "secondary"),
    "sagemaker.ml.m5.large": _p(0.115, "instance-hour", _SAGEMAKER_PAGE, "secondary"),
    "sagemaker.ml.c5.large": _p(0.102, "instance-hour", _SAGEMAKER_PAGE, "issue-supplied, unverified"),
    # --- SageMaker Serverless Inference -----------------------------------------------------
    # Billed per ms of inference duration at a per-second price proportional to the memory
    # configured (1024 MB -> $0.00002/s, ... 6144 MB -> $0.00012/s); no per-request charge.
    "sagemaker.serverless.duration": _p(0.00002, "GB-second", _SAGEMAKER_PAGE, "secondary"),
    # Free tier: first 2 months after the first SageMaker resource is created.
    "sagemaker.serverless.free.seconds": _p(
        150_000, "seconds of inference per month (first 2 months)", _SAGEMAKER_PAGE, "secondary"
    ),
    # --- Step Functions and S3: what a batch run bills besides Lambda ---------------------------
    # Standard workflows; Distributed Map child executions of type STANDARD are billed the same.
    "stepfunctions.standard.transition": _p(
        0.025 / 1000, "state transition", _SFN_PAGE, "secondary", BATCH_PRICES_CHECKED
    ),
    "s3.request.get": _p(
        0.0004 / 1000, "GET request (S3 Standard)", _S3_PAGE, "unverified", BATCH_PRICES_CHECKED
    ),
    "s3.request.put": _p(
        0.005 / 1000, "PUT, COPY, POST or LIST request (S3 Standard)", _S3_PAGE, "unverified"
    ),
    # --- Lambda Managed Instances (launched 2025-11-30) ---------------------------------------
    "lambda.lmi.request": _p(0.20 / 1e6, "request", _LMI_PAGE, "aws-page", BATCH_PRICES_CHECKED),
    "lambda.lmi.management_fee": _p(
        0.15, "fraction of the EC2 on-demand price", _LMI_PAGE, "aws-page", BATCH_PRICES_CHECKED
    ),
    # AWS's worked example prices m7g.xlarge at $0.1632/h on-demand; m7g.large is half (2 vCPU).
    "ec2.m7g.xlarge": _p(0.1632, "instance-hour (on-demand)", _LMI_PAGE, "aws-page", BATCH_PRICES_CHECKED),
    "ec2.m7g.large": _p(
        0.1632 / 2, "instance-hour (on-demand)", _LMI_PAGE + " (half of m7g.xlarge)", "derived"
    ),
    # LMI runs in your VPC: the model download and logs need a NAT gateway or VPC endpoints.
    "vpc.nat_gateway": _p(0.045, "NAT gateway-hour", _VPC_PAGE, "unverified", BATCH_PRICES_CHECKED),
    "vpc.interface_endpoint": _p(
        0.01, "interface endpoint-hour per AZ", _VPC_PAGE, "unverified", BATCH_PRICES_CHECKED
    ),
}

PRICES: Final = MappingProxyType(_TABLE)
"""The frozen price table, keyed by a dotted name."""

SAGEMAKER_INSTANCE_TYPES: Final = ("ml.t2.medium", "ml.t3.medium", "ml.m5.large", "ml.c5.large")
"""The SageMaker instance types compared, real-time endpoints and Batch Transform alike."""

INSTANCE_VCPUS: Final = MappingProxyType(
    {
        "ml.t2.medium": 2,
        "ml.t3.medium": 2,
        "ml.m5.large": 2,
        "ml.c5.large": 2,
        "m7g.large": 2,
        "m7g.xlarge": 4,
    }
)
"""vCPUs per instance type (AWS instance-type pages): what CPU-second pricing divides by."""

LMI_INSTANCE_TYPES: Final = ("m7g.large", "m7g.xlarge")
"""EC2 instance types priced for Lambda Managed Instances (Graviton, as AWS's worked example)."""


def price(key: str) -> float:
    """Return the USD value of the price named ``key``.

    Raises
    ------
    KeyError
        If ``key`` is not in the table; the message lists the known keys.
    """
    try:
        return PRICES[key].value
    except KeyError:
        raise KeyError(f"no price named {key!r}; known prices: {', '.join(sorted(PRICES))}") from None
