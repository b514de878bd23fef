"""Plain aws_cloudwatch (EndpointMonitoring) vs cdk-monitoring-constructs, for one endpoint.

Builds the same test stack (function, alias ``live`` with provisioned concurrency, HTTP API)
and monitors it either with :class:`EndpointMonitoring` or with an equivalent
``MonitoringFacade`` (Lambda fault rate, throttles, spillover, p99 of PredictionLatency,
the HTTP API), then prints: import time, construct + synth time, template size, the
monitoring resources by type, and cdk-nag AwsSolutions findings on them.

cdk-monitoring-constructs is not a dependency; install it beside the venv to measure::

    .venv/bin/pip download --no-deps -d /tmp/cmc_dl cdk-monitoring-constructs==10.3.3
    .venv/bin/pip install --no-deps --target /tmp/cmc /tmp/cmc_dl/*.whl
    for v in plain cmc; do PYTHONPATH=.:/tmp/cmc .venv/bin/python benchmarks/compare_monitoring.py $v; done
"""

from __future__ import annotations

import collections
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aws_cdk as cdk


def monitor(stack: cdk.Stack, variant: str) -> None:
    """Add the test endpoint and its monitoring, plain or through cdk-monitoring-constructs."""
    from tests.unit.cdk_sklearn.plain_endpoint import http_api, plain_endpoint

    function, alias = plain_endpoint(stack, provisioned=2)
    api = http_api(stack, alias)
    if variant == "plain":
        from cdk_sklearn.monitoring import EndpointMonitoring

        EndpointMonitoring(
            stack, "Monitoring", function=function, alias=alias, model_name="iris", api=api, provisioned=True
        )
        return
    import cdk_monitoring_constructs as cmc
    from aws_cdk import aws_cloudwatch as cloudwatch

    facade = cmc.MonitoringFacade(
        stack,
        "Monitoring",
        alarm_factory_defaults=cmc.AlarmFactoryDefaults(alarm_name_prefix="iris", actions_enabled=True),
    )
    facade.monitor_lambda_function(
        lambda_function=alias,
        add_fault_rate_alarm={"Error": cmc.ErrorRateThreshold(max_error_rate=5)},
        add_throttles_count_alarm={"Error": cmc.ErrorCountThreshold(max_error_count=0)},
        add_provisioned_concurrency_spillover_invocations_count_alarm={
            "Warning": cmc.RunningTaskCountThreshold(max_running_tasks=0)
        },
    )
    facade.monitor_api_gateway_v2_http_api(api=api)

    def latency(stat: str) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace="CdkSklearn",
            metric_name="PredictionLatency",
            dimensions_map={"ModelName": "iris"},
            statistic=stat,
        )

    p99_alarm = cmc.CustomThreshold(
        threshold=1000, comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
    )
    facade.monitor_custom(
        alarm_friendly_name="iris",
        human_readable_name="iris predictions",
        metric_groups=[
            cmc.CustomMetricGroup(
                title="PredictionLatency",
                metrics=[
                    latency("p50"),
                    latency("p90"),
                    cmc.CustomMetricWithAlarm(
                        metric=latency("p99"),
                        alarm_friendly_name="LatencyP99",
                        add_alarm={"Error": p99_alarm},
                    ),
                ],
            )
        ],
    )


def nag_findings(variant: str) -> list[str]:
    """cdk-nag AwsSolutions findings under the Monitoring construct, from a fresh app."""
    from cdk_nag import AwsSolutionsChecks

    outdir = Path(tempfile.mkdtemp(prefix=f"nag-{variant}-"))
    app = cdk.App(outdir=str(outdir))
    monitor(cdk.Stack(app, "Test"), variant)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    try:
        app.synth()
    except RuntimeError as exc:  # findings on the test function fail synthesis; the report stays
        assert "ValidationFailed" in str(exc), exc
    report = json.loads((outdir / "validation-report.json").read_text())
    return sorted(
        f"{violation['ruleName'].split('[')[0]} {construct['constructPath']}"
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
        if construct["constructPath"].startswith("Test/Monitoring")
    )


def main(variant: str) -> None:
    started = time.perf_counter()
    if variant == "cmc":
        import cdk_monitoring_constructs  # noqa: F401  (loads its jsii assembly into Node)
    else:
        import cdk_sklearn.monitoring  # noqa: F401
    imported = time.perf_counter()
    app = cdk.App(outdir=tempfile.mkdtemp(prefix=f"monitoring-{variant}-"))
    monitor(cdk.Stack(app, "Test"), variant)
    built = time.perf_counter()
    template: dict[str, Any] = app.synth().get_stack_by_name("Test").template
    synthesized = time.perf_counter()
    ours = [value["Type"] for key, value in template["Resources"].items() if key.startswith("Monitoring")]
    print(
        json.dumps(
            {
                "variant": variant,
                "import_s": round(imported - started, 2),
                "construct_s": round(built - imported, 2),
                "synth_s": round(synthesized - built, 2),
                "template_bytes": len(json.dumps(template, separators=(",", ":"))),
                "monitoring_resources": dict(sorted(collections.Counter(ours).items())),
                "nag_findings_on_monitoring": nag_findings(variant),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "plain")
