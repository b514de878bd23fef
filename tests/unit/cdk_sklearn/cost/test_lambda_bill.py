"""The Lambda bill against worked examples computed by hand (arithmetic written out in each test).

Prices used (us-east-1, cdk_sklearn/cost/prices.py): Lambda $0.20/M requests, $0.0000166667/GB-s x86_64,
$0.0000133334/GB-s arm64; provisioned concurrency $0.0000041667/GB-s held + $0.0000097222/GB-s
executed (x86_64); SnapStart $0.0000015046/GB-s cached + $0.0001397998/GB restored; HTTP API
$1.00/M, REST API $3.50/M, Function URL free.
"""

from __future__ import annotations

import pytest

from cdk_sklearn.cost.lambda_bill import lambda_option
from tests.unit.cdk_sklearn.cost.worked import APPROX, bare_x86


def test_issue_example_lambda_behind_http_api_at_2m_requests() -> None:
    # 2,000,000 requests x $0.20/1M                     = $0.40
    # 2,000,000 x 0.005 s x 1 GB = 10,000 GB-s x $0.0000166667 = $0.166667
    # HTTP API 2,000,000 x $1.00/1M                      = $2.00
    w = bare_x86(requests_per_month=2e6, memory_mb=1024, duration_ms=5, cold_start_rate=0.0)
    bill = lambda_option(w, "http_api").breakdown(2e6)
    assert bill["Lambda requests"] == pytest.approx(0.40, **APPROX)
    assert bill["Lambda duration"] == pytest.approx(0.166667, **APPROX)
    assert bill["Lambda INIT duration"] == 0.0
    assert bill["API Gateway HTTP API"] == pytest.approx(2.00, **APPROX)
    assert lambda_option(w, "http_api").monthly_usd(2e6) == pytest.approx(2.566667, **APPROX)


def test_rest_api_and_function_url_price_the_front_door_only() -> None:
    # Same Lambda bill ($0.566667); REST API 2 x $3.50 = $7.00; Function URL $0.
    w = bare_x86(requests_per_month=2e6, memory_mb=1024, duration_ms=5, cold_start_rate=0.0)
    assert lambda_option(w, "rest_api").monthly_usd(2e6) == pytest.approx(0.566667 + 7.00, **APPROX)
    assert lambda_option(w, "function_url").monthly_usd(2e6) == pytest.approx(0.566667, **APPROX)


def test_init_duration_is_billed_per_cold_start_at_the_arm64_duration_price() -> None:
    # 1,000,000 requests, 512 MB = 0.5 GB, 20 ms, arm64, 2% cold starts of 1,500 ms INIT:
    # requests   1,000,000 x $0.20/1M                                  = $0.20
    # duration   1,000,000 x 0.020 s x 0.5 GB = 10,000 GB-s x $0.0000133334 = $0.133334
    # INIT       20,000 cold starts x 1.5 s x 0.5 GB = 15,000 GB-s x $0.0000133334 = $0.200001
    w = bare_x86(
        requests_per_month=1e6,
        memory_mb=512,
        duration_ms=20,
        architecture="arm64",
        cold_start_rate=0.02,
        init_duration_ms=1500,
    )
    bill = lambda_option(w, "function_url").breakdown(1e6)
    assert bill["Lambda requests"] == pytest.approx(0.20, **APPROX)
    assert bill["Lambda duration"] == pytest.approx(0.133334, **APPROX)
    assert bill["Lambda INIT duration"] == pytest.approx(0.200001, **APPROX)
    assert sum(bill.values()) == pytest.approx(0.533335, **APPROX)


def test_snapstart_reproduces_the_aws_pricing_page_example() -> None:
    # AWS's Lambda pricing page, SnapStart example: 7.44M requests, 1024 MB, 2 s, x86, 1% restores.
    # requests  7.44M x $0.20/1M                                   = $1.488   (AWS: $1.49)
    # duration  7.44M x 2 s x 1 GB = 14.88M GB-s x $0.0000166667     = $248.0005 (AWS: $248.00)
    # restore   74,400 x 1 GB x $0.0001397998                        = $10.4011 (AWS: $10.4)
    # cache     1 GB x 730 h x 3,600 s = 2,628,000 GB-s x $0.0000015046 = $3.9541
    #           (AWS uses a 31-day month, 2,678,400 s -> $4.03; we use 730 h throughout)
    w = bare_x86(
        requests_per_month=7.44e6, memory_mb=1024, duration_ms=2000, cold_start_rate=0.01, snapstart=True
    )
    bill = lambda_option(w, "function_url").breakdown(7.44e6)
    assert bill["Lambda requests"] == pytest.approx(1.488, **APPROX)
    assert bill["Lambda duration"] == pytest.approx(248.0005, rel=1e-6)
    assert bill["Lambda SnapStart restore"] == pytest.approx(74_400 * 0.0001397998, **APPROX)
    assert bill["Lambda SnapStart restore"] == pytest.approx(10.40, abs=0.005)
    assert bill["Lambda SnapStart cache"] == pytest.approx(2_628_000 * 0.0000015046, **APPROX)
    assert bill["Lambda SnapStart restore duration"] == 0.0  # no after-restore hooks by default
    assert "Lambda INIT duration" not in bill  # a restore replaces the INIT


def test_snapstart_cache_is_billed_per_cached_version() -> None:
    # 3 versions x 0.5 GB x 2,628,000 s x $0.0000015046 = $5.9306
    w = bare_x86(requests_per_month=0, memory_mb=512, duration_ms=10, snapstart=True, snapstart_versions=3)
    assert lambda_option(w, "function_url").breakdown(0)["Lambda SnapStart cache"] == pytest.approx(
        3 * 0.5 * 2_628_000 * 0.0000015046, **APPROX
    )


def test_provisioned_concurrency_all_month_serves_every_request_warm() -> None:
    # PC 2 x 2048 MB all month, 3M requests of 50 ms, x86_64:
    # held      2 x 2 GB x 730 h x 3,600 s = 10,512,000 GB-s x $0.0000041667 = $43.8003
    # executed  3M x 0.05 s x 2 GB = 300,000 GB-s x $0.0000097222          = $2.91666
    # requests  3M x $0.20/1M                                                = $0.60
    # no on-demand duration, no INIT (every request lands on a warm provisioned environment)
    w = bare_x86(requests_per_month=3e6, memory_mb=2048, duration_ms=50, provisioned_concurrency=2)
    bill = lambda_option(w, "function_url").breakdown(3e6)
    assert bill["Lambda provisioned concurrency held"] == pytest.approx(10_512_000 * 0.0000041667, **APPROX)
    assert bill["Lambda provisioned duration"] == pytest.approx(300_000 * 0.0000097222, **APPROX)
    assert bill["Lambda requests"] == pytest.approx(0.60, **APPROX)
    assert bill["Lambda duration"] == 0.0
    assert bill["Lambda INIT duration"] == 0.0


def test_provisioned_concurrency_half_the_month_splits_requests_evenly() -> None:
    # PC 1 x 1 GB for 365 h (half of 730): half the 2M requests run provisioned, half on demand.
    # held      1 GB x 365 h x 3,600 s = 1,314,000 GB-s x $0.0000041667 = $5.47504
    # executed  1M x 0.1 s x 1 GB = 100,000 GB-s x $0.0000097222       = $0.97222
    # on-demand 1M x 0.1 s x 1 GB = 100,000 GB-s x $0.0000166667       = $1.66667
    # INIT      1M x 1% = 10,000 x 1 s x 1 GB = 10,000 GB-s x $0.0000166667 = $0.166667
    w = bare_x86(
        requests_per_month=2e6,
        memory_mb=1024,
        duration_ms=100,
        cold_start_rate=0.01,
        init_duration_ms=1000,
        provisioned_concurrency=1,
        provisioned_hours=365,
    )
    bill = lambda_option(w, "function_url").breakdown(2e6)
    assert bill["Lambda provisioned concurrency held"] == pytest.approx(1_314_000 * 0.0000041667, **APPROX)
    assert bill["Lambda provisioned duration"] == pytest.approx(100_000 * 0.0000097222, **APPROX)
    assert bill["Lambda duration"] == pytest.approx(100_000 * 0.0000166667, **APPROX)
    assert bill["Lambda INIT duration"] == pytest.approx(10_000 * 0.0000166667, **APPROX)


def test_provisioned_concurrency_uses_arm64_prices_on_arm64() -> None:
    # 1 x 1 GB all month on arm64: 2,628,000 GB-s x $0.0000033334 = $8.7602
    w = bare_x86(
        requests_per_month=0, memory_mb=1024, duration_ms=5, architecture="arm64", provisioned_concurrency=1
    )
    held = lambda_option(w, "function_url").breakdown(0)["Lambda provisioned concurrency held"]
    assert held == pytest.approx(2_628_000 * 0.0000033334, **APPROX)


def test_free_tier_reproduces_the_aws_pricing_page_example() -> None:
    # AWS's Lambda pricing page, example 1: 3M requests, 120 ms, 1536 MB, x86, free tier on.
    # compute   3M x 0.12 s x 1.5 GB = 540,000 GB-s - 400,000 free = 140,000 x $0.0000166667 = $2.33
    # requests  3M - 1M free = 2M x $0.20/1M                                               = $0.40
    w = bare_x86(
        requests_per_month=3e6, memory_mb=1536, duration_ms=120, cold_start_rate=0.0, include_free_tier=True
    )
    bill = lambda_option(w, "function_url").breakdown(3e6)
    assert bill["Lambda duration"] == pytest.approx(140_000 * 0.0000166667, **APPROX)
    assert bill["Lambda requests"] == pytest.approx(0.40, **APPROX)
    assert sum(bill.values()) == pytest.approx(2.73, abs=0.005)


def test_apigw_free_tier_covers_the_first_million_http_api_requests() -> None:
    # An account created by 2025-07-15: 3M requests - 1M free = 2M x $1.00/1M = $2.00
    w = bare_x86(requests_per_month=3e6, memory_mb=1024, duration_ms=5, apigw_free_tier=True)
    assert lambda_option(w, "http_api").breakdown(3e6)["API Gateway HTTP API"] == pytest.approx(
        2.00, **APPROX
    )


def test_free_tier_leaves_api_gateway_requests_billed() -> None:
    # Accounts created after 2025-07-15 get credits, not API Gateway's 12 months: 3M x $1.00/1M = $3.00
    w = bare_x86(requests_per_month=3e6, memory_mb=1024, duration_ms=5, include_free_tier=True)
    assert lambda_option(w, "http_api").breakdown(3e6)["API Gateway HTTP API"] == pytest.approx(
        3.00, **APPROX
    )


def test_free_tier_gb_seconds_are_shared_between_invoke_and_init() -> None:
    # 1 GB, 100 ms, 10% cold starts of 1 s: 0.1 + 0.1 = 0.2 GB-s per request on average, so the
    # 400,000 free GB-s last 2M requests. At 3M: invoke 3M x 0.1 = 300,000 GB-s, INIT 300,000 GB-s;
    # billable 600,000 - 400,000 = 200,000 GB-s x $0.0000166667 = $3.33334, split evenly.
    w = bare_x86(
        requests_per_month=3e6,
        memory_mb=1024,
        duration_ms=100,
        cold_start_rate=0.1,
        init_duration_ms=1000,
        include_free_tier=True,
    )
    bill = lambda_option(w, "function_url").breakdown(3e6)
    assert bill["Lambda duration"] + bill["Lambda INIT duration"] == pytest.approx(
        200_000 * 0.0000166667, **APPROX
    )
    assert bill["Lambda duration"] == pytest.approx(bill["Lambda INIT duration"], **APPROX)


def test_free_tier_is_not_applied_to_a_function_with_provisioned_concurrency() -> None:
    w = bare_x86(
        requests_per_month=1e6,
        memory_mb=1024,
        duration_ms=5,
        provisioned_concurrency=1,
        include_free_tier=True,
    )
    assert lambda_option(w, "function_url").breakdown(1e6)["Lambda requests"] == pytest.approx(0.20, **APPROX)


def test_fails_unknown_front_door() -> None:
    w = bare_x86(requests_per_month=1e6, memory_mb=1024, duration_ms=5)
    with pytest.raises(
        ValueError, match="front door must be one of http_api, rest_api, function_url, got 'alb'"
    ):
        lambda_option(w, "alb")
