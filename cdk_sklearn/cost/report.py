"""The full comparison at one volume, as people read it (``--details``) and as JSON (``--json``).

Pure functions over a :class:`~cdk_sklearn.cost.compare.CostReport`; no I/O. Each option's caveat
(:func:`~cdk_sklearn.cost.summary.caveat`) stands next to its price.
"""

from __future__ import annotations

from typing import Any

from cdk_sklearn.cost.cloudwatch import alarm_metrics
from cdk_sklearn.cost.compare import CostReport, comparable, saving
from cdk_sklearn.cost.prices import FREE_TIER_CHANGE, HOURS_PER_MONTH, PRICES, PRICES_CHECKED, REGION
from cdk_sklearn.cost.summary import caveat, caveat_details, usd
from cdk_sklearn.cost.workload import Workload, format_requests

ASSUMPTIONS = (
    f"a month is {HOURS_PER_MONTH:g} hours; SageMaker instances run all of it",
    "INIT of each cold start billed at the Lambda duration price (billed since 2025-08-01)",
    "SageMaker Serverless: duration x memory (rounded up to 1-6 GB), no per-request charge",
    f"API Gateway's 12-month free tier not applied: accounts created after {FREE_TIER_CHANGE} get "
    "credits instead (--apigw-free-tier for an older account)",
    "not modelled: data transfer, SageMaker data processing, API access logs, log storage, "
    "CloudWatch for SageMaker, volume tiers",
)


def _savings(report: CostReport) -> list[dict[str, Any]]:
    rows = []
    for lam in (o for o in report.options if o.kind == "lambda"):
        for other in (o for o in report.options if o.kind != "lambda" and comparable(lam, o)):
            other_usd = report.monthly_usd[other.name]
            rows.append(
                {
                    "lambda": lam.name,
                    "versus": other.name,
                    "saving": saving(report.monthly_usd[lam.name], other_usd) if other_usd > 0 else None,
                }
            )
    return rows


def report_to_json(report: CostReport, plot_path: str | None = None) -> dict[str, Any]:
    """The JSON document ``--json`` prints: inputs, every option's cost, break-evens, savings."""
    w = report.workload
    n = w.requests_per_month
    return {
        "inputs": {
            "requests_per_month": n,
            "memory_mb": w.memory_mb,
            "duration_ms": w.duration_ms,
            "architecture": w.architecture,
            "front_doors": [o.name.removeprefix("lambda+") for o in report.options if o.kind == "lambda"],
            "cold_start_rate": w.cold_start_rate,
            "init_duration_ms": w.init_duration_ms,
            "provisioned_concurrency": w.provisioned_concurrency,
            "provisioned_hours": w.provisioned_hours,
            "snapstart": w.snapstart,
            "snapstart_versions": w.snapstart_versions,
            "sagemaker_instances": w.sagemaker_instances,
            "include_free_tier": w.include_free_tier,
            "apigw_free_tier": w.apigw_free_tier,
            "monitoring": w.monitoring,
            "alarm_metrics": alarm_metrics(w),
            "log_bytes_per_request": w.log_bytes_per_request,
            "custom_metrics": w.custom_metrics,
        },
        "counted": counted(w),
        "region": REGION,
        "prices_checked": PRICES_CHECKED,
        "currency": "USD",
        "options": [
            {
                "name": o.name,
                "monthly_cost_usd": report.monthly_usd[o.name],
                "line_items": [{"name": k, "usd": v} for k, v in o.breakdown(n).items()],
            }
            for o in report.options
        ],
        "cheapest": report.cheapest,
        "break_even": [
            {
                "lambda": b.lambda_option,
                "versus": b.other_option,
                "requests_per_month": list(b.requests_per_month),
                "lambda_cheaper_at_low_volume": b.lambda_cheaper_at_low_volume,
                "summary": b.describe(),
            }
            for b in report.break_evens
        ],
        "savings": _savings(report),
        "caveats": {o.name: caveat_details(o, w) for o in report.options if caveat(o, w)},
        "assumptions": list(ASSUMPTIONS),
        "notes": list(report.notes),
        "prices": {
            key: {
                "value": p.value,
                "unit": p.unit,
                "source": p.source,
                "checked": p.checked,
                "verified": p.verified,
            }
            for key, p in PRICES.items()
        },
        "plot": plot_path,
    }


def counted(w: Workload) -> str:
    """What the Lambda options count for CloudWatch, in a sentence."""
    parts = []
    if w.monitoring:
        parts.append(
            f"{alarm_metrics(w)} standard alarm metrics and 1 dashboard (the construct's monitoring; "
            "the dashboard as beyond the account's 3 free)"
        )
    else:
        parts.append("no alarms or dashboard (--no-monitoring)")
    if w.custom_metrics:
        parts.append(f"{w.custom_metrics} custom metrics (the runtime's EMF)")
    if w.log_bytes_per_request:
        parts.append(f"Logs ingestion at {w.log_bytes_per_request} B/request")
    return "Lambda options count CloudWatch: " + ", ".join(parts)


def _describe_saving(fraction: float | None) -> str:
    if fraction is None:
        return "n/a (the other option costs nothing)"
    if fraction >= 0:
        return f"Lambda saves {fraction:.1%}"
    return f"Lambda costs {1.0 - fraction:.1f}x as much"


def render_text(report: CostReport, plot_path: str | None = None) -> str:
    """The human-readable report: costs, Lambda bills, savings, break-evens, assumptions."""
    w = report.workload
    n = w.requests_per_month
    lines = [
        f"Monthly cost of {format_requests(n)} predictions/month ({n:,.0f}); {REGION} list prices checked "
        f"{PRICES_CHECKED}; free tiers {'included' if w.include_free_tier else 'excluded'}",
        f"Lambda {w.memory_mb} MB {w.architecture}, {w.duration_ms:g} ms/prediction, cold starts "
        f"{w.cold_start_rate:.2%} x {w.init_duration_ms:g} ms"
        + (
            f", provisioned concurrency {w.provisioned_concurrency} for {w.provisioned_hours:g} h"
            if w.provisioned_concurrency
            else ""
        )
        + (", SnapStart" if w.snapstart else "")
        + f"; SageMaker endpoints x{w.sagemaker_instances} instance(s)",
        counted(w),
        "",
    ]
    width = max(len(o.name) for o in report.options)
    lines.append(f"  {'option':<{width}}  {'USD/month':>12}  what the price leaves out")
    for o in sorted(report.options, key=lambda o: report.monthly_usd[o.name]):
        mark = "  <- cheapest" if o.name == report.cheapest else ""
        note = caveat(o, w)
        lines.append(f"  {o.name:<{width}}  {usd(report.monthly_usd[o.name]):>12}  {note}{mark}".rstrip())
    for o in (o for o in report.options if o.kind in ("lambda", "lambda-managed-instances")):
        lines.append("")
        lines.append(f"{o.name}:")
        for name, value in o.breakdown(n).items():
            lines.append(f"  {name:<40} {usd(value):>12}")
    lines.append("")
    lines.append("Saving of Lambda against each other option at this volume:")
    for row in _savings(report):
        lines.append(f"  {row['lambda']} vs {row['versus']}: {_describe_saving(row['saving'])}")
    lines.append("")
    lines.append("Break-even volumes:")
    lines.extend(f"  {b.describe()}" for b in report.break_evens)
    lines.append("")
    lines.append("Caveats of the alternatives:")
    # One line per kind of alternative (every SageMaker instance type shares its caveat).
    shown = {o.name if o.kind == "lambda" else o.kind: o for o in report.options if caveat(o, w)}
    for o in shown.values():
        label = "sagemaker instances" if o.kind == "sagemaker" else o.name
        lines.append(f"  {label}: {caveat_details(o, w)}")
    lines.append("")
    lines.append("Assumptions: " + "; ".join(ASSUMPTIONS) + ".")
    for note in report.notes:
        lines.append(f"Note: {note}.")
    if plot_path:
        lines.append(f"Plot written to {plot_path}")
    return "\n".join(lines)
