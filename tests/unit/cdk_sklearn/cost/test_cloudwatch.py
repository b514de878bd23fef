"""What the construct's default monitoring and logs add to the Lambda bill, computed by hand.

Prices (cdk_sklearn/cost/prices.py, CloudWatch us-east-1): $0.10 per standard alarm metric-month,
$3.00 per dashboard-month, $0.50 per GB (2^30 bytes) of logs ingested; always free: 10 alarm
metrics, 3 dashboards, 5 GB of logs. Lambda arm64 $0.0000133334/GB-s, $0.20/M requests.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from cdk_sklearn.cost.lambda_bill import lambda_option
from cdk_sklearn.cost.workload import REQUEST_LOG_BYTES, Workload
from tests.helpers import models
from tests.helpers.apigw_events import JSON_HEADERS, LambdaContext, http_api_event

APPROX = {"rel": 1e-9}
GB = 1024**3
ROOT = Path(__file__).parents[4]


def _bill(**fields: object) -> dict[str, float]:
    w = Workload(requests_per_month=2e6, memory_mb=1024, duration_ms=5, cold_start_rate=0.0, **fields)  # type: ignore[arg-type]
    return lambda_option(w, "function_url").breakdown(2e6)


def test_default_alarms_bill_five_alarm_metrics() -> None:
    # error rate (3 metrics) + p99 latency (1) + throttles (1) = 5 x $0.10 = $0.50
    assert _bill()["CloudWatch alarms (5 alarm metrics)"] == pytest.approx(0.50, **APPROX)


def test_provisioned_concurrency_adds_the_spillover_alarm() -> None:
    # 6 x $0.10 = $0.60
    assert _bill(provisioned_concurrency=1)["CloudWatch alarms (6 alarm metrics)"] == pytest.approx(
        0.60, **APPROX
    )


def test_the_dashboard_costs_three_dollars() -> None:
    assert _bill()["CloudWatch dashboard"] == pytest.approx(3.00, **APPROX)


def test_logs_are_billed_per_byte_ingested() -> None:
    # 2M x 950 B = 1.9e9 B / 2^30 = 1.76951 GB x $0.50 = $0.884756
    assert _bill()["CloudWatch Logs ingestion (950 B/request)"] == pytest.approx(
        2e6 * 950 / 1073741824 * 0.50, **APPROX
    )


def test_default_bill_is_lambda_plus_monitoring() -> None:
    # requests $0.40 + duration 2M x 0.005 s x 1 GB x $0.0000133334 = $0.133334
    # + alarms $0.50 + dashboard $3.00 + the alarm topic's KMS key $1.00
    # + 5 custom metrics x $0.30 = $1.50 + logs $0.884756
    assert sum(_bill().values()) == pytest.approx(
        0.40 + 0.133334 + 0.50 + 3.00 + 1.00 + 1.50 + 0.8847564458847046, rel=1e-6
    )


def test_the_alarm_topics_kms_key_costs_one_dollar() -> None:
    # KMS: $1 per customer-managed key-month, no free tier for keys
    assert _bill()["KMS key of the alarm topic"] == pytest.approx(1.00, **APPROX)
    assert _bill(include_free_tier=True)["KMS key of the alarm topic"] == pytest.approx(1.00, **APPROX)


def test_an_unencrypted_alarm_topic_has_no_key_to_pay() -> None:
    assert "KMS key of the alarm topic" not in _bill(alarm_topic_key=False)


def test_the_runtimes_five_emf_metrics_are_custom_metrics() -> None:
    # 5 x $0.30 = $1.50, with or without the construct's monitoring
    assert _bill(monitoring=False)["CloudWatch custom metrics (5 EMF)"] == pytest.approx(1.50, **APPROX)


def test_free_tier_covers_the_custom_metrics() -> None:
    # 5 metrics, 10 free
    assert _bill(include_free_tier=True)["CloudWatch custom metrics (5 EMF)"] == 0.0


def test_without_monitoring_only_metrics_and_logs_remain() -> None:
    assert [k for k in _bill(monitoring=False) if k.startswith("CloudWatch")] == [
        "CloudWatch custom metrics (5 EMF)",
        "CloudWatch Logs ingestion (950 B/request)",
    ]


def test_free_tier_covers_the_alarms_and_the_dashboard() -> None:
    bill = _bill(include_free_tier=True)
    assert (bill["CloudWatch alarms (5 alarm metrics)"], bill["CloudWatch dashboard"]) == (0.0, 0.0)


def test_free_tier_covers_five_gb_of_logs() -> None:
    # 5 GB / 950 B = 5,651,272.8 requests free: 8M requests bill (8M - 5,651,272.76) x 950 B
    w = Workload(requests_per_month=8e6, memory_mb=1024, duration_ms=5, include_free_tier=True)
    bill = lambda_option(w, "function_url").breakdown(8e6)
    billed_bytes = 8e6 * 950 - 5 * 1073741824
    assert bill["CloudWatch Logs ingestion (950 B/request)"] == pytest.approx(
        billed_bytes / GB * 0.50, **APPROX
    )


def test_alarm_count_matches_the_monitoring_construct() -> None:
    # Read, not imported (importing monitoring starts jsii): 5 alarm keys, one of them only with
    # provisioned concurrency and one only on managed instances (capacity_cpu, which the on-demand
    # options this module prices never have).
    tree = ast.parse((ROOT / "cdk_sklearn" / "monitoring.py").read_text())
    keys = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "ALARM_KEYS"
    )
    assert keys == ("server_error_rate", "latency_p99", "throttles", "provisioned_spillover", "capacity_cpu")


def test_request_log_line_size_is_what_the_handler_prints(tmp_path: Path) -> None:
    model = tmp_path / "model.joblib"
    models.save(models.TRAINERS["scaled_pipeline"](), model)
    app, stream = models.app_for(model)
    stream.seek(0)
    stream.truncate()
    body = json.dumps({"instances": [[5.1, 3.5, 1.4, 0.2]]})
    for _ in range(3):
        app.handle(http_api_event("POST", "/predict", body, headers=JSON_HEADERS), LambdaContext())
    sizes = [len(line.encode()) + 1 for line in stream.getvalue().splitlines()]
    # One line per request; its size moves by a few bytes with the latency digits.
    assert (len(sizes), all(abs(size - REQUEST_LOG_BYTES) <= 8 for size in sizes)) == (3, True)
