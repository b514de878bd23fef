"""The answer first: what this endpoint costs a month at a few volumes, the cheapest alternative with its
caveats beside its price, and the break-even volumes that matter (``cdk-sklearn cost`` without
``--details``).

Pure functions over :class:`~cdk_sklearn.cost.compare.CostReport` s; no I/O. The caveats are what the
prices leave out: an alternative is cheaper on paper for reasons a reader must weigh (a SageMaker
Serverless endpoint cold-starts in seconds and has no HTTPS URL of its own).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from cdk_sklearn.cost.bill import OptionCost
from cdk_sklearn.cost.compare import BreakEven, CostReport
from cdk_sklearn.cost.lmi import LMI_MIN_MEMORY_MB, Capacity, lmi_ceiling
from cdk_sklearn.cost.prices import PRICES_CHECKED, REGION, price
from cdk_sklearn.cost.workload import DEFAULT_DURATION_MS, Workload, format_requests

DEFAULT_VOLUMES: Final[tuple[float, ...]] = (1e5, 1e6, 1e7, 1e8)
"""Requests a month the summary shows when ``--requests-per-month`` is not given."""

FRONT_DOOR_LABELS: Final[dict[str, str]] = {
    "http_api": "HTTP API",
    "rest_api": "REST API",
    "function_url": "Function URL",
}


def caveat(option: OptionCost, workload: Workload) -> str:
    """What the price of ``option`` leaves out, in a few words ("" when nothing beyond the common
    assumptions); printed next to its price."""
    if option.kind == "sagemaker-serverless":
        front = price("apigw.http.request") * 1e6
        return (
            f"cold starts of seconds; no HTTPS URL of its own (an HTTP API in front: +${front:.2f}/M); "
            "its CloudWatch not counted"
        )
    if option.kind == "sagemaker":
        return "one instance always on, capacity not checked, its CloudWatch not counted"
    if option.kind == "lambda-managed-instances":
        return f"python3.13+, >= {LMI_MIN_MEMORY_MB} MB, in a VPC, {option.detail}"
    if option.name == "lambda+function_url":
        return "no API Gateway: no stage throttling (reserved concurrency only), no JWT auth (IAM or none)"
    return ""


def caveat_details(option: OptionCost, workload: Workload) -> str:
    """:func:`caveat` with the figures behind it, for ``--details``."""
    if option.kind == "sagemaker-serverless":
        front = price("apigw.http.request") * 1e6
        return (
            "cold starts of seconds after idle (about 6 s on demand in AWS's own example); called "
            f"through the signed SageMaker InvokeEndpoint API, not a public HTTPS URL (an HTTP API in "
            f"front adds ${front:.2f} per million requests); memory at most 6 GB; data processing and "
            "its CloudWatch not counted, while the Lambda options count theirs"
        )
    return caveat(option, workload)


@dataclass(frozen=True)
class Endpoint:
    """What "this endpoint" is in the summary.

    Attributes
    ----------
    option
        The name of its option in the reports (``lambda+<front door>``).
    source
        Where its settings come from, in words ("the construct's defaults", "cdk.json environment prod").
    duration_assumed
        Whether the duration is :data:`~cdk_sklearn.cost.workload.DEFAULT_DURATION_MS` rather than given.
    capacity
        Its managed-instances configuration when it runs on Lambda Managed Instances, else None.
    """

    option: str
    source: str
    duration_assumed: bool
    capacity: Capacity | None = None

    @property
    def front_door(self) -> str:
        """Its front door: what follows the ``+`` of its option's name."""
        return self.option.rsplit("+", 1)[-1]


def usd(value: float) -> str:
    """Dollars as the reports print them: cents, or four decimals below a dollar."""
    return f"${value:,.2f}" if value >= 0.995 or value == 0 else f"${value:,.4f}"


def _describe_endpoint(report: CostReport, endpoint: Endpoint) -> str:
    w = report.workload
    door = FRONT_DOOR_LABELS.get(endpoint.front_door, endpoint.front_door)
    assumed = " (assumed, see below)" if endpoint.duration_assumed else ""
    c = endpoint.capacity
    if c is not None:
        option = next(o for o in report.options if o.name == endpoint.option)
        on_demand = (
            f" (on-demand Lambda priced at its largest, {w.memory_mb} MB)"
            if w.memory_mb < c.memory_mb
            else ""
        )
        return (
            f"This endpoint ({endpoint.source}): Lambda Managed Instances {c.memory_mb} MB {c.architecture}, "
            f"{c.memory_gib_per_vcpu:g} GiB/vCPU, {c.min_environments} environments at least "
            f"({option.detail}) + {door}, {w.duration_ms:g} ms of CPU per prediction{assumed}{on_demand}"
        )
    extras = ""
    if w.provisioned_concurrency:
        extras += f", provisioned concurrency {w.provisioned_concurrency}"
    if w.snapstart:
        extras += ", SnapStart"
    return (
        f"This endpoint ({endpoint.source}): Lambda {w.memory_mb} MB {w.architecture} + {door}{extras}, "
        f"{w.duration_ms:g} ms per prediction{assumed}"
    )


def _alternative_row(report: CostReport, endpoint: Endpoint, previous: str | None) -> tuple[str, str]:
    """One row of the table, and the alternative it names (its caveat is not repeated on the next row)."""
    n = report.workload.requests_per_month
    own = report.monthly_usd[endpoint.option]
    others = [o for o in report.options if o.name != endpoint.option]
    best = min(others, key=lambda o: (report.monthly_usd[o.name], o.name))
    note = "as above" if best.name == previous else caveat(best, report.workload)
    best_text = f"{best.name} {usd(report.monthly_usd[best.name])}" + (f" ({note})" if note else "")
    return f"  {format_requests(n):>14}  {usd(own):>13}  {best_text}", best.name


def _crossing(b: BreakEven, other_label: str) -> str | None:
    """ "X costs less above N requests/month" (or below), from this endpoint's side; None when the
    lines never cross."""
    if not b.requests_per_month:
        return None
    n = format_requests(b.requests_per_month[0])
    side = "above" if b.lambda_cheaper_at_low_volume else "below"
    return f"{other_label} costs less {side} {n} requests/month"


def _managed_break_even_lines(report: CostReport, endpoint: Endpoint, capacity: Capacity) -> list[str]:
    """This endpoint on managed instances against on-demand Lambda behind the same front door, and the
    volume its scaling bounds cap it at."""
    on_demand = f"lambda+{endpoint.front_door}"
    lines = []
    for b in report.break_evens:
        if (b.lambda_option, b.other_option) != (on_demand, endpoint.option):
            continue
        label = f"on-demand {on_demand}"
        if b.requests_per_month:
            side = "below" if b.lambda_cheaper_at_low_volume else "above"
            lines.append(
                f"  {label} costs less {side} {format_requests(b.requests_per_month[0])} requests/month"
            )
        else:
            more = "less" if b.lambda_cheaper_at_low_volume else "more"
            lines.append(f"  {label} costs {more} than this endpoint at every volume")
    ceiling = lmi_ceiling(capacity, report.workload.duration_ms)
    if ceiling is not None:
        lines.append(
            f"  its scaling bounds (max_environments, max_vcpus) serve at most {format_requests(ceiling)} "
            f"requests/month at {capacity.target_utilization:.0%} CPU; more are throttled"
        )
    return lines


def _break_even_lines(report: CostReport, endpoint: Endpoint) -> list[str]:
    """This endpoint against Lambda Managed Instances and against the cheapest SageMaker instance (on
    managed instances: against on-demand Lambda)."""
    if endpoint.capacity is not None:
        return _managed_break_even_lines(report, endpoint, endpoint.capacity)
    mine = {b.other_option: b for b in report.break_evens if b.lambda_option == endpoint.option}
    options = {o.name: o for o in report.options}
    picks = [o for o in report.options if o.kind == "lambda-managed-instances"]
    instances = [o for o in report.options if o.kind == "sagemaker"]
    if instances:
        picks.append(min(instances, key=lambda o: o.monthly_usd(0.0)))
    lines = []
    for option in picks:
        b = mine.get(option.name)
        if b is None:
            continue
        label = f"{option.name} (from {usd(options[option.name].monthly_usd(0.0))} a month)"
        crossing = _crossing(b, label)
        if crossing is not None:
            lines.append(f"  {crossing}")
        elif b.lambda_cheaper_at_low_volume:
            lines.append(f"  {label} costs more than this endpoint at every volume")
        else:
            lines.append(f"  {label} costs less than this endpoint at every volume")
    return lines


def summary_lines(reports: Sequence[CostReport], endpoint: Endpoint, *, details: bool = False) -> list[str]:
    """The summary ``cdk-sklearn cost`` prints first: one row per volume, caveats inline.

    Parameters
    ----------
    reports
        One comparison per volume, all of the same workload but its volume.
    endpoint
        Which option is this endpoint, and where its settings come from.
    details
        Whether the full tables follow (then the summary does not point to ``--details``).
    """
    first = reports[0]
    w = first.workload
    counted = (
        "its alarms, dashboard, metrics and logs counted"
        if w.monitoring
        else "its metrics and logs counted (no monitoring)"
    )
    lines = [
        _describe_endpoint(first, endpoint) + f"; {counted}",
        f"Monthly cost, {REGION} list prices checked {PRICES_CHECKED}, free tiers "
        + ("included" if w.include_free_tier else "excluded")
        + ":",
        f"  {'requests/month':>14}  {'this endpoint':>13}  cheapest alternative (what its price leaves out)",
    ]
    previous = None
    for report in reports:
        row, previous = _alternative_row(report, endpoint, previous)
        lines.append(row)
    crossings = _break_even_lines(first, endpoint)
    if crossings:
        lines += ["Break-even with this endpoint:", *crossings]
    if endpoint.duration_assumed:
        lines.append(
            f"{DEFAULT_DURATION_MS:g} ms per prediction is an assumption (the benchmarked models answer one "
            "row in 0.2-2.9 ms on a full vCPU). Measure yours: `cdk-sklearn serve` logs each request's "
            "PredictionLatency and latency_ms; pass --duration-ms."
        )
    if not details:
        lines.append("Every option, its bill, the break-evens and the assumptions: --details (or --json).")
    return lines
