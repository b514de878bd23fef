"""``cdk-sklearn cost``: the monthly cost of serving N predictions, Lambda against SageMaker."""

from __future__ import annotations

import argparse
import json
from typing import Any

from cdk_sklearn.cli.main import UsageError
from cdk_sklearn.cost.batch import BatchWorkload, compare_batch
from cdk_sklearn.cost.cloudwatch import alarm_metrics
from cdk_sklearn.cost.compare import CostReport, compare, saving
from cdk_sklearn.cost.prices import (
    FREE_TIER_CHANGE,
    HOURS_PER_MONTH,
    LMI_INSTANCE_TYPES,
    PRICES,
    PRICES_CHECKED,
    REGION,
)
from cdk_sklearn.cost.workload import (
    ARCHITECTURES,
    CUSTOM_METRICS,
    FRONT_DOORS,
    LAMBDA_PLATFORM_LOG_BYTES,
    LMI_MIN_INSTANCES,
    LMI_VPC_OPTIONS,
    REQUEST_LOG_BYTES,
    Workload,
    format_requests,
    parse_requests,
)
from lambda_runtime.limits import DEFAULT_ARCHITECTURE

ASSUMPTIONS = (
    f"a month is {HOURS_PER_MONTH:g} hours; SageMaker instances run all of it",
    "INIT of each cold start billed at the Lambda duration price (billed since 2025-08-01)",
    "SageMaker Serverless: duration x memory (rounded up to 1-6 GB), no per-request charge",
    f"API Gateway's 12-month free tier not applied: accounts created after {FREE_TIER_CHANGE} get "
    "credits instead (--apigw-free-tier for an older account)",
    "not modelled: data transfer, SageMaker data processing, API access logs, log storage, "
    "CloudWatch for SageMaker, volume tiers",
)


def register(subparsers: Any) -> None:
    """Add the ``cost`` sub-command to the CLI."""
    parser = subparsers.add_parser(
        "cost",
        help="monthly cost of serving N predictions: Lambda + front door vs SageMaker",
        description=(
            "Monthly cost of serving N predictions a month from Lambda behind each front door, "
            f"against SageMaker real-time endpoints and SageMaker Serverless ({REGION} list prices "
            f"checked {PRICES_CHECKED}), with the break-even volume of each comparison."
        ),
    )
    _add_workload_arguments(parser)
    _add_lambda_arguments(parser)
    _add_managed_instances_arguments(parser)
    _add_batch_arguments(parser)
    _add_sagemaker_arguments(parser)
    _add_billing_arguments(parser)
    _add_output_arguments(parser)
    parser.set_defaults(func=run)


def _add_workload_arguments(parser: argparse.ArgumentParser) -> None:
    """What is served: requests a month (or a batch job), memory, duration, CPU, front doors."""
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--requests-per-month",
        metavar="N",
        help="predictions a month: 2000000, 2e6, 2M or 100k (the endpoint comparison)",
    )
    what.add_argument(
        "--batch-rows",
        metavar="N",
        help="rows of one batch job: SklearnBatchScoring against SageMaker Batch Transform",
    )
    parser.add_argument(
        "--memory-mb",
        type=int,
        metavar="M",
        help="Lambda memory, 128..10240 MB (required for the endpoint comparison; batch default 2048)",
    )
    parser.add_argument(
        "--duration-ms",
        type=float,
        metavar="D",
        help="billed duration of one warm prediction (ms); also its CPU time on Lambda Managed Instances",
    )
    parser.add_argument(
        "--architecture",
        choices=ARCHITECTURES,
        default=DEFAULT_ARCHITECTURE,
        help=f"default: {DEFAULT_ARCHITECTURE}, as the construct",
    )
    parser.add_argument(
        "--front-door",
        action="append",
        choices=(*FRONT_DOORS, "all"),
        metavar="{" + ",".join(FRONT_DOORS) + ",all}",
        help="what answers HTTPS in front of Lambda; repeat to compare several (default: all three)",
    )


def _add_lambda_arguments(parser: argparse.ArgumentParser) -> None:
    """How Lambda avoids cold starts, and what they cost."""
    parser.add_argument(
        "--cold-start-rate",
        type=float,
        default=0.01,
        metavar="R",
        help="fraction of requests that cold start, 0..1 (default 0.01)",
    )
    parser.add_argument(
        "--init-duration-ms",
        type=float,
        default=1000.0,
        metavar="MS",
        help="billed INIT duration of one cold start (default 1000)",
    )
    parser.add_argument(
        "--provisioned-concurrency",
        type=int,
        default=0,
        metavar="C",
        help="environments kept warm (default 0)",
    )
    parser.add_argument(
        "--provisioned-hours",
        type=float,
        default=HOURS_PER_MONTH,
        metavar="H",
        help=f"hours a month provisioned concurrency is on (default {HOURS_PER_MONTH:g})",
    )
    parser.add_argument("--snapstart", action="store_true", help="SnapStart on (cold starts become restores)")
    parser.add_argument(
        "--snapstart-versions", type=int, default=1, metavar="V", help="versions cached all month (default 1)"
    )


def _add_managed_instances_arguments(parser: argparse.ArgumentParser) -> None:
    """Lambda Managed Instances, the option past the break-even volumes."""
    parser.add_argument(
        "--lmi-instance-type",
        choices=LMI_INSTANCE_TYPES,
        default="m7g.large",
        help="Lambda Managed Instances: EC2 type (default m7g.large)",
    )
    parser.add_argument(
        "--lmi-min-instances",
        type=int,
        default=LMI_MIN_INSTANCES,
        metavar="K",
        help=f"Lambda Managed Instances always running (default {LMI_MIN_INSTANCES}, AWS's AZ floor)",
    )
    parser.add_argument(
        "--lmi-vpc",
        choices=LMI_VPC_OPTIONS,
        default="endpoints",
        help="how LMI instances reach S3 and CloudWatch: VPC endpoints (default) or a NAT gateway",
    )


def _add_batch_arguments(parser: argparse.ArgumentParser) -> None:
    """A batch job (``--batch-rows``) against SageMaker Batch Transform."""
    batch = parser.add_argument_group("batch job (with --batch-rows)")
    batch.add_argument("--per-row-ms", type=float, default=0.02, metavar="MS", help="vCPU time per row")
    batch.add_argument("--bytes-per-row", type=float, default=100.0, metavar="B", help="input bytes per row")
    batch.add_argument("--split-mib", type=int, default=64, metavar="MIB", help="input MiB per work item")
    batch.add_argument("--objects", type=int, default=1, metavar="K", help="input objects")
    batch.add_argument(
        "--provisioning-minutes",
        type=float,
        default=5.0,
        metavar="MIN",
        help="billed start-up minutes per Batch Transform instance (default 5)",
    )


def _add_sagemaker_arguments(parser: argparse.ArgumentParser) -> None:
    """The SageMaker side of the comparison."""
    parser.add_argument(
        "--sagemaker-instances",
        type=int,
        default=1,
        metavar="K",
        help="instances behind each SageMaker real-time endpoint (default 1)",
    )


def _add_billing_arguments(parser: argparse.ArgumentParser) -> None:
    """Free tiers and what the construct adds: alarms, dashboard, logs, metrics."""
    parser.add_argument(
        "--include-free-tier",
        action="store_true",
        help="subtract free tiers (Lambda and CloudWatch always-free, SageMaker Serverless 2 months)",
    )
    parser.add_argument(
        "--apigw-free-tier",
        action="store_true",
        help=f"subtract API Gateway's 12-month free tier (1M requests/month): only accounts created "
        f"on or before {FREE_TIER_CHANGE} have it; later ones get credits instead",
    )
    parser.add_argument(
        "--no-monitoring",
        dest="monitoring",
        action="store_false",
        help="the endpoint is built with monitoring=False: no alarms, no dashboard (logs are still "
        "written and billed)",
    )
    parser.add_argument(
        "--log-bytes-per-request",
        type=int,
        default=REQUEST_LOG_BYTES + LAMBDA_PLATFORM_LOG_BYTES,
        metavar="B",
        help=f"CloudWatch Logs bytes per request (default {REQUEST_LOG_BYTES + LAMBDA_PLATFORM_LOG_BYTES}: "
        f"the handler's {REQUEST_LOG_BYTES}-byte request line + Lambda's START/END/REPORT); "
        "0 leaves logs out",
    )
    parser.add_argument(
        "--custom-metrics",
        type=int,
        default=CUSTOM_METRICS,
        metavar="K",
        help=f"custom metrics billed a month (default {CUSTOM_METRICS}: the runtime's EMF metrics); "
        "0 leaves them out",
    )


def _add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """How the result is shown."""
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument(
        "--plot", metavar="FILE.png", help="also draw cost against requests per month to FILE.png"
    )


def workload_from_args(args: argparse.Namespace) -> Workload:
    """Build the validated :class:`Workload` from parsed arguments (raises ``ValueError``)."""
    missing = [
        flag
        for flag, value in (("--memory-mb", args.memory_mb), ("--duration-ms", args.duration_ms))
        if value is None
    ]
    if missing:
        raise UsageError(f"the endpoint comparison needs {' and '.join(missing)}")
    return Workload(
        requests_per_month=parse_requests(args.requests_per_month),
        memory_mb=args.memory_mb,
        duration_ms=args.duration_ms,
        architecture=args.architecture,
        cold_start_rate=args.cold_start_rate,
        init_duration_ms=args.init_duration_ms,
        provisioned_concurrency=args.provisioned_concurrency,
        provisioned_hours=args.provisioned_hours,
        snapstart=args.snapstart,
        snapstart_versions=args.snapstart_versions,
        sagemaker_instances=args.sagemaker_instances,
        include_free_tier=args.include_free_tier,
        monitoring=args.monitoring,
        apigw_free_tier=args.apigw_free_tier,
        log_bytes_per_request=args.log_bytes_per_request,
        custom_metrics=args.custom_metrics,
        lmi_instance_type=args.lmi_instance_type,
        lmi_min_instances=args.lmi_min_instances,
        lmi_vpc=args.lmi_vpc,
    )


def batch_from_args(args: argparse.Namespace) -> BatchWorkload:
    """Build the validated :class:`BatchWorkload` from parsed arguments (raises ``ValueError``)."""
    return BatchWorkload(
        rows=parse_requests(args.batch_rows),
        per_row_ms=args.per_row_ms,
        bytes_per_row=args.bytes_per_row,
        memory_mb=args.memory_mb if args.memory_mb is not None else 2048,
        architecture=args.architecture,
        split_mib=args.split_mib,
        objects=args.objects,
        sagemaker_instances=args.sagemaker_instances,
        provisioning_minutes=args.provisioning_minutes,
    )


def run_batch(args: argparse.Namespace) -> int:
    """Price one batch job: SklearnBatchScoring against a Batch Transform job per instance type."""
    job = batch_from_args(args)
    options = compare_batch(job)
    totals = {name: option.monthly_usd(0.0) for name, option in options.items()}
    if args.json:
        doc = {
            "inputs": {
                "rows": job.rows,
                "per_row_ms": job.per_row_ms,
                "bytes_per_row": job.bytes_per_row,
                "memory_mb": job.memory_mb,
                "architecture": job.architecture,
                "split_mib": job.split_mib,
                "work_items": job.work_items,
                "sagemaker_instances": job.sagemaker_instances,
                "provisioning_minutes": job.provisioning_minutes,
            },
            "region": REGION,
            "currency": "USD",
            "options": [
                {
                    "name": name,
                    "cost_usd": totals[name],
                    "line_items": [{"name": k, "usd": v} for k, v in option.breakdown(0.0).items()],
                }
                for name, option in options.items()
            ],
            "cheapest": min(totals, key=lambda name: (totals[name], name)),
        }
        print(json.dumps(doc, indent=2))
        return 0
    lines = [
        f"One batch job of {format_requests(job.rows)} rows ({job.work_items:,} work items of "
        f"{job.split_mib} MiB), {job.per_row_ms:g} ms/row on one vCPU; {REGION} list prices",
        "",
    ]
    cheapest = min(totals, key=lambda name: (totals[name], name))
    for name, option in sorted(options.items(), key=lambda kv: totals[kv[0]]):
        mark = "  <- cheapest" if name == cheapest else ""
        lines.append(f"  {name:<32} {_usd(totals[name]):>12}{mark}")
        lines.extend(f"      {k:<52} {_usd(v):>12}" for k, v in option.breakdown(0.0).items())
    lines.append("")
    lines.append(
        "Assumptions: Batch Transform bills the hosting instance-hour rate, every vCPU busy, plus its "
        "provisioning minutes; Lambda bills the rows' CPU time, one INIT per concurrent child, a plan and a "
        "summary call; S3 storage and data transfer not modelled."
    )
    print("\n".join(lines))
    return 0


def front_doors_from_args(args: argparse.Namespace) -> tuple[str, ...]:
    """The front doors asked for, in the order given; all three when none or ``all``."""
    chosen: list[str] | None = args.front_door
    if not chosen or "all" in chosen:
        return FRONT_DOORS
    return tuple(dict.fromkeys(chosen))


def run(args: argparse.Namespace) -> int:
    """Compute the comparison, print it (table or JSON), optionally draw the plot."""
    if args.batch_rows is not None:
        return run_batch(args)
    report = compare(workload_from_args(args), front_doors_from_args(args))
    plot_path = None
    if args.plot:
        from cdk_sklearn.cost.plot import plot_costs  # matplotlib only when asked for

        try:
            plot_path = str(plot_costs(report, args.plot))
        except ModuleNotFoundError as exc:
            if not (exc.name or "").startswith("matplotlib"):
                raise
            raise UsageError(
                "--plot needs matplotlib, which is not installed; "
                "install the extra: pip install 'cdk-sklearn[plot]'"
            ) from None
    if args.json:
        print(json.dumps(report_to_json(report, plot_path), indent=2))
    else:
        print(render_text(report, plot_path))
    return 0


def _savings(report: CostReport) -> list[dict[str, Any]]:
    rows = []
    for lam in (o for o in report.options if o.kind == "lambda"):
        for other in (o for o in report.options if o.kind != "lambda"):
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


def _usd(value: float) -> str:
    return f"${value:,.2f}" if value >= 0.995 or value == 0 else f"${value:,.4f}"


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
    lines.append(f"  {'option':<{width}}  {'USD/month':>12}")
    for o in sorted(report.options, key=lambda o: report.monthly_usd[o.name]):
        mark = "  <- cheapest" if o.name == report.cheapest else ""
        lines.append(f"  {o.name:<{width}}  {_usd(report.monthly_usd[o.name]):>12}{mark}")
    for o in (o for o in report.options if o.kind == "lambda"):
        lines.append("")
        lines.append(f"{o.name}:")
        for name, usd in o.breakdown(n).items():
            lines.append(f"  {name:<40} {_usd(usd):>12}")
    lines.append("")
    lines.append("Saving of Lambda against each other option at this volume:")
    for row in _savings(report):
        value = _describe_saving(row["saving"])
        lines.append(f"  {row['lambda']} vs {row['versus']}: {value}")
    lines.append("")
    lines.append("Break-even volumes:")
    lines.extend(f"  {b.describe()}" for b in report.break_evens)
    lines.append("")
    lines.append("Assumptions: " + "; ".join(ASSUMPTIONS) + ".")
    for note in report.notes:
        lines.append(f"Note: {note}.")
    if plot_path:
        lines.append(f"Plot written to {plot_path}")
    return "\n".join(lines)
