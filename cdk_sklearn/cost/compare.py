"""Every option at one volume, and the volumes where a Lambda option and another swap places.

Between free-tier kinks every bill is a straight line in the requests a month, so break-even
volumes are solved in closed form.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Final

from cdk_sklearn.cost.bill import OptionCost
from cdk_sklearn.cost.lambda_bill import lambda_option
from cdk_sklearn.cost.lmi import (
    DEFAULT_GIB_PER_VCPU,
    LMI_MIN_MEMORY_MB,
    Capacity,
    lmi_option,
    min_memory_mb,
)
from cdk_sklearn.cost.prices import SAGEMAKER_INSTANCE_TYPES
from cdk_sklearn.cost.sagemaker import sagemaker_instance_option, sagemaker_serverless_option
from cdk_sklearn.cost.workload import FRONT_DOORS, Workload, format_requests

_HTTP_API_TIER_REQUESTS: Final = 300e6
_REST_API_TIER_REQUESTS: Final = 333e6
_LAMBDA_DURATION_TIER_GB_S: Final = 6e9


def alternative_capacity(memory_mb: int, **changes: Any) -> Capacity:
    """Lambda Managed Instances as the construct would deploy a function of ``memory_mb`` with its
    defaults (or ``changes``, :class:`~cdk_sklearn.cost.lmi.Capacity` fields): on Graviton, the price
    table's instances, at ``memory_mb`` or the least managed instances run at the ratio if more.

    Raises
    ------
    ValueError
        A change out of range.
    """
    ratio = changes.get("memory_gib_per_vcpu", DEFAULT_GIB_PER_VCPU)
    return Capacity(**{"architecture": "arm64", **changes, "memory_mb": max(memory_mb, min_memory_mb(ratio))})


def all_options(
    workload: Workload, front_doors: tuple[str, ...] = FRONT_DOORS, capacity: Capacity | None = None
) -> tuple[OptionCost, ...]:
    """Lambda behind each of ``front_doors``, then every SageMaker option, then Lambda Managed Instances
    (``capacity``, default :func:`alternative_capacity`) behind the first front door.

    Raises
    ------
    UnpricedError
        ``capacity`` needs an instance type the price table does not hold.
    """
    lambdas = tuple(lambda_option(workload, door) for door in front_doors)
    instances = tuple(sagemaker_instance_option(workload, t) for t in SAGEMAKER_INSTANCE_TYPES)
    managed = lmi_option(workload, capacity or alternative_capacity(workload.memory_mb), front_doors[0])
    return (*lambdas, *instances, sagemaker_serverless_option(workload), managed)


def comparable(lambda_option: OptionCost, other: OptionCost) -> bool:
    """Whether a Lambda option is compared with ``other``: every option, but Lambda Managed Instances
    only behind the same front door (the door's price would otherwise decide the comparison)."""
    if other.kind != "lambda-managed-instances":
        return True
    return other.name.rsplit("+", 1)[-1] == lambda_option.name.rsplit("+", 1)[-1]


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


def compare(
    workload: Workload, front_doors: tuple[str, ...] = FRONT_DOORS, capacity: Capacity | None = None
) -> CostReport:
    """Cost every option at the workload's volume and solve every Lambda-vs-other break-even.

    ``capacity`` is the Lambda Managed Instances configuration priced (default
    :func:`alternative_capacity`).

    Raises
    ------
    ValueError
        If ``front_doors`` is empty or names an unknown front door.
    UnpricedError
        ``capacity`` needs an instance type the price table does not hold.
    """
    if not front_doors:
        raise ValueError(f"choose at least one front door from {', '.join(FRONT_DOORS)}")
    doors = tuple(dict.fromkeys(front_doors))  # de-duplicated, order kept
    capacity = capacity or alternative_capacity(workload.memory_mb)
    options = all_options(workload, doors, capacity)
    n = workload.requests_per_month
    monthly = {o.name: o.monthly_usd(n) for o in options}
    cheapest = min(options, key=lambda o: (monthly[o.name], o.name)).name
    lambdas = [o for o in options if o.kind == "lambda"]
    others = [o for o in options if o.kind != "lambda"]
    break_evens = []
    for lam in lambdas:
        for other in (o for o in others if comparable(lam, o)):
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
        notes=_notes(workload, doors, capacity),
    )


def _notes(w: Workload, doors: tuple[str, ...], capacity: Capacity) -> tuple[str, ...]:
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
        f"priced at {capacity.memory_mb} MB, {capacity.memory_gib_per_vcpu:g} GiB per vCPU, "
        f"{capacity.min_environments} environments at least, {capacity.target_utilization:.0%} CPU, "
        "capacity as a smooth function of volume, behind the same front door"
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
