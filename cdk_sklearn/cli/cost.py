"""``cdk-sklearn cost``: what this endpoint costs a month, against SageMaker and Lambda Managed Instances.

The answer first (:mod:`cdk_sklearn.cost.summary`): this endpoint's monthly cost at the volume asked
(or a few), the cheapest alternative with what its price leaves out, and the break-evens that
matter. Nothing is required: memory is the construct's default, or that of ``--env ENV`` read from
the cdk.json in the current folder through the endpoint's own props; the duration of a prediction is
a stated assumption (:data:`~cdk_sklearn.cost.workload.DEFAULT_DURATION_MS`) until measured. The full
tables are behind ``--details`` (:mod:`cdk_sklearn.cost.report`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from cdk_sklearn.cli.cost_capacity import (
    CAPACITY_FLAGS,
    add_managed_instances_arguments,
    capacity_from_args,
    managed_settings,
)
from cdk_sklearn.cli.main import UsageError
from cdk_sklearn.cost.batch import BatchWorkload, compare_batch
from cdk_sklearn.cost.compare import CostReport, compare
from cdk_sklearn.cost.lmi import UnpricedError, lmi_option
from cdk_sklearn.cost.prices import (
    FREE_TIER_CHANGE,
    HOURS_PER_MONTH,
    PRICES_CHECKED,
    REGION,
)
from cdk_sklearn.cost.report import render_text, report_to_json
from cdk_sklearn.cost.summary import DEFAULT_VOLUMES, Endpoint, summary_lines, usd
from cdk_sklearn.cost.workload import (
    ARCHITECTURES,
    CUSTOM_METRICS,
    DEFAULT_DURATION_MS,
    DEFAULT_FRONT_DOOR,
    FRONT_DOORS,
    LAMBDA_PLATFORM_LOG_BYTES,
    REQUEST_LOG_BYTES,
    Workload,
    format_requests,
    parse_requests,
)
from lambda_runtime import limits


def register(subparsers: Any) -> None:
    """Add the ``cost`` sub-command to the CLI."""
    parser = subparsers.add_parser(
        "cost",
        help="what this endpoint costs a month, against SageMaker and Lambda Managed Instances",
        description=(
            "What this endpoint costs a month at a few volumes (or --requests-per-month), the cheapest "
            "alternative with what its price leaves out, and the break-even volumes; --details for "
            f"every option's bill. {REGION} list prices checked {PRICES_CHECKED}. Memory: the "
            "construct's default, or --env ENV's from ./cdk.json; duration: an assumption until you "
            "pass --duration-ms."
        ),
    )
    _add_workload_arguments(parser)
    _add_lambda_arguments(parser)
    add_managed_instances_arguments(parser)
    _add_batch_arguments(parser)
    _add_sagemaker_arguments(parser)
    _add_billing_arguments(parser)
    _add_output_arguments(parser)
    parser.set_defaults(func=run)


def _add_workload_arguments(parser: argparse.ArgumentParser) -> None:
    """What is served: requests a month (or a batch job), memory, duration, CPU, front doors."""
    what = parser.add_mutually_exclusive_group()
    what.add_argument(
        "--requests-per-month",
        metavar="N",
        help="predictions a month: 2000000, 2e6, 2M or 100k, or several: 100k,1M,10M "
        f"(default {','.join(format_requests(n) for n in DEFAULT_VOLUMES)})",
    )
    what.add_argument(
        "--batch-rows",
        metavar="N",
        help="rows of one batch job: SklearnBatchScoring against SageMaker Batch Transform",
    )
    parser.add_argument(
        "--env",
        metavar="ENV",
        help="price this environment of the app: memory, architecture, front door, cold-start "
        "strategy and monitoring read from ./cdk.json (context.environments.ENV) through the "
        "endpoint's props; flags given override them",
    )
    parser.add_argument(
        "--memory-mb",
        type=int,
        metavar="M",
        help=f"Lambda memory, 128..10240 MB (default: --env's, else the construct's "
        f"{limits.DEFAULT_MEMORY_MB}; batch {limits.BATCH_MEMORY_MB})",
    )
    parser.add_argument(
        "--duration-ms",
        type=float,
        metavar="D",
        help=f"billed duration of one warm prediction (ms); also its CPU time on Lambda Managed "
        f"Instances (default {DEFAULT_DURATION_MS:g}, an assumption: measure yours with `cdk-sklearn "
        "serve`, which logs each request's PredictionLatency and latency_ms)",
    )
    parser.add_argument(
        "--architecture",
        choices=ARCHITECTURES,
        default=None,
        help=f"default: --env's, else {limits.DEFAULT_ARCHITECTURE}, as the construct",
    )
    parser.add_argument(
        "--front-door",
        action="append",
        choices=(*FRONT_DOORS, "all"),
        metavar="{" + ",".join(FRONT_DOORS) + ",all}",
        help="what answers HTTPS in front of Lambda; repeat to compare several, the first is this "
        f"endpoint's (default: --env's, else {DEFAULT_FRONT_DOOR}, then the other two)",
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
        default=None,
        metavar="C",
        help="environments kept warm (default: --env's cold_start min, else 0)",
    )
    parser.add_argument(
        "--provisioned-hours",
        type=float,
        default=HOURS_PER_MONTH,
        metavar="H",
        help=f"hours a month provisioned concurrency is on (default {HOURS_PER_MONTH:g})",
    )
    parser.add_argument(
        "--snapstart",
        action="store_true",
        default=None,
        help="SnapStart on (cold starts become restores; default: --env's cold_start strategy)",
    )
    parser.add_argument(
        "--snapstart-versions", type=int, default=1, metavar="V", help="versions cached all month (default 1)"
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
        default=None,
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
    parser.add_argument(
        "--details",
        action="store_true",
        help="after the summary, every option's bill, the savings, the break-evens and the assumptions",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument(
        "--plot", metavar="FILE.png", help="also draw cost against requests per month to FILE.png"
    )


def endpoint_settings(env: str, folder: Path) -> dict[str, Any]:
    """The cost inputs of environment ``env`` of the app in ``folder``, read through the endpoint's props.

    The cdk.json context is validated by :func:`cdk_sklearn.config.load_environment`, as ``cdk synth``
    validates it, so the figures are those of what would deploy: memory, architecture, front door,
    cold-start strategy (provisioned concurrency at its minimum, or SnapStart) and monitoring.
    Importing the config starts the CDK (a few seconds), so it happens only with ``--env``.

    Raises
    ------
    UsageError
        No cdk.json in ``folder``, or the environment is unknown or invalid.
    """
    path = folder / "cdk.json"
    if not path.is_file():
        raise UsageError(
            f"--env {env}: no cdk.json in {folder}; run cdk-sklearn cost in the app's folder, or leave "
            "out --env and pass --memory-mb"
        )
    try:
        context = json.loads(path.read_text(encoding="utf-8")).get("context", {})
    except (ValueError, AttributeError) as exc:
        raise UsageError(f"--env {env}: {path} is not a JSON object with a context: {exc}") from None
    from cdk_sklearn.config import ConfigError, load_environment

    try:
        config = load_environment({**context, "env": env})
    except ConfigError as exc:
        raise UsageError(f"--env {env}: {exc}") from None
    props = config.endpoint
    settings: dict[str, Any] = {
        "memory_mb": props.function.memory_size,
        "architecture": props.function.architecture,
        "front_door": props.front_door.front_door,
        "monitoring": props.monitoring is not None,
    }
    if props.monitoring is not None:
        settings["alarm_topic_key"] = props.monitoring.encrypt_alarm_topic
    if props.cold_start.strategy == "provisioned":
        settings["provisioned_concurrency"] = props.cold_start.min
    elif props.cold_start.strategy == "snapstart":
        settings["snapstart"] = True
    settings.update(managed_settings(config))
    return settings


def volumes_from_args(args: argparse.Namespace) -> tuple[float, ...]:
    """The volumes asked for (``--requests-per-month``, comma-separated), else :data:`DEFAULT_VOLUMES`."""
    if args.requests_per_month is None:
        return DEFAULT_VOLUMES
    volumes = tuple(parse_requests(part) for part in args.requests_per_month.split(",") if part.strip())
    if not volumes:
        raise UsageError(f"--requests-per-month {args.requests_per_month!r} names no volume; e.g. 2M")
    return volumes


def workload_from_args(
    args: argparse.Namespace, settings: dict[str, Any] | None = None, *, memory_mb: int | None = None
) -> Workload:
    """Build the validated :class:`Workload` at the first volume from parsed arguments, falling back to
    ``settings`` (an environment's, :func:`endpoint_settings`) and then to the construct's defaults;
    ``memory_mb``, when given, over all of them.

    Raises
    ------
    ValueError
        A value out of range (the message names it and what is allowed).
    """
    given = settings or {}

    def pick(flag: Any, key: str, default: Any) -> Any:
        return flag if flag is not None else given.get(key, default)

    return Workload(
        requests_per_month=volumes_from_args(args)[0],
        memory_mb=memory_mb or pick(args.memory_mb, "memory_mb", limits.DEFAULT_MEMORY_MB),
        duration_ms=pick(args.duration_ms, "duration_ms", DEFAULT_DURATION_MS),
        architecture=pick(args.architecture, "architecture", limits.DEFAULT_ARCHITECTURE),
        cold_start_rate=args.cold_start_rate,
        init_duration_ms=args.init_duration_ms,
        provisioned_concurrency=pick(args.provisioned_concurrency, "provisioned_concurrency", 0),
        provisioned_hours=args.provisioned_hours,
        snapstart=pick(args.snapstart, "snapstart", False),
        snapstart_versions=args.snapstart_versions,
        sagemaker_instances=args.sagemaker_instances,
        include_free_tier=args.include_free_tier,
        monitoring=pick(args.monitoring, "monitoring", True),
        alarm_topic_key=given.get("alarm_topic_key", True),
        apigw_free_tier=args.apigw_free_tier,
        log_bytes_per_request=args.log_bytes_per_request,
        custom_metrics=args.custom_metrics,
    )


def batch_from_args(args: argparse.Namespace) -> BatchWorkload:
    """Build the validated :class:`BatchWorkload` from parsed arguments (raises ``ValueError``)."""
    return BatchWorkload(
        rows=parse_requests(args.batch_rows),
        per_row_ms=args.per_row_ms,
        bytes_per_row=args.bytes_per_row,
        memory_mb=args.memory_mb if args.memory_mb is not None else limits.BATCH_MEMORY_MB,
        architecture=args.architecture or limits.DEFAULT_ARCHITECTURE,
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
        lines.append(f"  {name:<32} {usd(totals[name]):>12}{mark}")
        lines.extend(f"      {k:<52} {usd(v):>12}" for k, v in option.breakdown(0.0).items())
    lines.append("")
    lines.append(
        "Assumptions: Batch Transform bills the hosting instance-hour rate, every vCPU busy, plus its "
        "provisioning minutes; Lambda bills the rows' CPU time, one INIT per concurrent child, a plan and a "
        "summary call; S3 storage and data transfer not modelled."
    )
    print("\n".join(lines))
    return 0


def front_doors_from_args(
    args: argparse.Namespace, endpoint_door: str = DEFAULT_FRONT_DOOR
) -> tuple[str, ...]:
    """The front doors to compare, this endpoint's first: those asked for in the order given, or
    ``endpoint_door`` then the other two (all three with ``all``)."""
    chosen: list[str] | None = args.front_door
    if chosen and "all" not in chosen:
        return tuple(dict.fromkeys(chosen))
    first = chosen[0] if chosen and chosen[0] != "all" else endpoint_door
    return (first, *(door for door in FRONT_DOORS if door != first))


def run(args: argparse.Namespace) -> int:
    """Price the endpoint at each volume; print the summary (with ``--details`` the full tables), or
    JSON; optionally draw the plot."""
    if args.batch_rows is not None:
        return run_batch(args)
    if args.env is not None:
        settings = endpoint_settings(args.env, Path.cwd())
        source = f"cdk.json environment {args.env}"
    else:
        settings, source = {}, "the construct's defaults"
    flags = ("memory_mb", "architecture", "compute", *CAPACITY_FLAGS)
    if any(getattr(args, flag) is not None for flag in flags):
        source += ", with the flags given"
    capacity, managed = capacity_from_args(args, settings)
    # On-demand Lambda, priced beside managed instances, stops at 10,240 MB.
    workload = workload_from_args(
        args, settings, memory_mb=min(capacity.memory_mb, limits.MEMORY_MB[1]) if managed else None
    )
    doors = front_doors_from_args(args, settings.get("front_door", DEFAULT_FRONT_DOOR))
    try:
        reports = [
            compare(dataclasses.replace(workload, requests_per_month=n), doors, capacity)
            for n in volumes_from_args(args)
        ]
    except UnpricedError as exc:
        raise UsageError(
            f"Lambda Managed Instances not priced: {exc}; pass --architecture arm64 or --instance-type"
        ) from None
    endpoint = Endpoint(
        option=lmi_option(workload, capacity, doors[0]).name if managed else f"lambda+{doors[0]}",
        source=source,
        duration_assumed=args.duration_ms is None,
        capacity=capacity if managed else None,
    )
    plot_path = _plot(reports[0], args.plot) if args.plot else None
    if args.json:
        docs = [_json_doc(report, endpoint, plot_path) for report in reports]
        print(json.dumps(docs[0] if len(docs) == 1 else {"volumes": docs}, indent=2))
        return 0
    lines = summary_lines(reports, endpoint, details=args.details)
    if args.details:
        for report in reports:
            lines += ["", render_text(report)]
    if plot_path:
        lines.append(f"Plot written to {plot_path}")
    print("\n".join(lines))
    return 0


def _json_doc(report: CostReport, endpoint: Endpoint, plot_path: str | None) -> dict[str, Any]:
    """``report_to_json`` with what the summary adds: which option is this endpoint, and how it was set."""
    doc = report_to_json(report, plot_path)
    doc["this_endpoint"] = {
        "option": endpoint.option,
        "source": endpoint.source,
        "duration_assumed": endpoint.duration_assumed,
        "compute": "on_demand" if endpoint.capacity is None else "managed_instances",
    }
    if endpoint.capacity is not None:
        doc["this_endpoint"]["managed_instances"] = dataclasses.asdict(endpoint.capacity)
    return doc


def _plot(report: CostReport, path: str) -> str:
    from cdk_sklearn.cost.plot import plot_costs  # matplotlib only when asked for

    try:
        return str(plot_costs(report, path))
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("matplotlib"):
            raise
        raise UsageError(
            "--plot needs matplotlib, which is not installed; "
            "install the extra: pip install 'cdk-sklearn[plot]'"
        ) from None
