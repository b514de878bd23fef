"""The cost model against worked examples computed by hand (arithmetic written out in each test).

Prices used (us-east-1, cdk_sklearn/prices.py): Lambda $0.20/M requests, $0.0000166667/GB-s x86_64,
$0.0000133334/GB-s arm64; provisioned concurrency $0.0000041667/GB-s held + $0.0000097222/GB-s
executed (x86_64); SnapStart $0.0000015046/GB-s cached + $0.0001397998/GB restored; HTTP API
$1.00/M, REST API $3.50/M, Function URL free; SageMaker ml.t3.medium $0.05/h, ml.m5.large
$0.115/h; SageMaker Serverless $0.00002/GB-s.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdk_sklearn.cost.model import (
    FRONT_DOORS,
    LineItem,
    OptionCost,
    Workload,
    break_even,
    compare,
    format_requests,
    lambda_option,
    parse_requests,
    sagemaker_instance_option,
    sagemaker_serverless_option,
    saving,
)


def bare_x86(**fields: object) -> Workload:
    """The worked examples below price the bare function on x86_64: no alarms, dashboard, metrics or logs
    (the construct's default monitoring and arm64 have tests of their own in test_monitoring.py)."""
    return Workload(
        **{
            "architecture": "x86_64",
            "monitoring": False,
            "log_bytes_per_request": 0,
            "custom_metrics": 0,
            **fields,
        }
    )  # type: ignore[arg-type]


APPROX = {"rel": 1e-9}


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


def test_sagemaker_instances_bill_730_hours_each() -> None:
    # ml.t3.medium 1 x 730 h x $0.05 = $36.50; ml.m5.large 2 x 730 h x $0.115 = $167.90
    one = bare_x86(requests_per_month=5e6, memory_mb=1024, duration_ms=5)
    two = bare_x86(requests_per_month=5e6, memory_mb=1024, duration_ms=5, sagemaker_instances=2)
    assert sagemaker_instance_option(one, "ml.t3.medium").monthly_usd(5e6) == pytest.approx(36.50, **APPROX)
    assert sagemaker_instance_option(two, "ml.m5.large").monthly_usd(0) == pytest.approx(167.90, **APPROX)


def test_sagemaker_serverless_rounds_memory_up_to_its_sizes() -> None:
    # 1500 MB -> 2048 MB = 2 GB; 1M x 0.1 s x 2 GB = 200,000 GB-s x $0.00002 = $4.00
    w = bare_x86(requests_per_month=1e6, memory_mb=1500, duration_ms=100)
    assert w.serverless_memory_mb == 2048
    assert sagemaker_serverless_option(w).monthly_usd(1e6) == pytest.approx(4.00, **APPROX)


def test_sagemaker_serverless_memory_is_at_least_1024_and_at_most_6144_mb() -> None:
    assert bare_x86(requests_per_month=1, memory_mb=128, duration_ms=1).serverless_memory_mb == 1024
    assert bare_x86(requests_per_month=1, memory_mb=10240, duration_ms=1).serverless_memory_mb == 6144


def test_sagemaker_serverless_free_tier_is_150000_seconds() -> None:
    # 150,000 s / 0.1 s = 1.5M free requests; 2M - 1.5M = 0.5M x 0.1 s x 1 GB x $0.00002 = $1.00
    w = bare_x86(requests_per_month=2e6, memory_mb=1024, duration_ms=100, include_free_tier=True)
    assert sagemaker_serverless_option(w).monthly_usd(2e6) == pytest.approx(1.00, **APPROX)


def test_break_even_http_api_against_t3_medium_solved_by_hand() -> None:
    # Lambda+HTTP API per request: $0.0000002 + $0.000001 + 0.005 s x 1 GB x $0.0000166667
    #                             = $0.0000012833335; no fixed cost.
    # ml.t3.medium: $36.50 fixed.  N = 36.50 / 0.0000012833335 = 28,441,551.4
    w = bare_x86(requests_per_month=2e6, memory_mb=1024, duration_ms=5, cold_start_rate=0.0)
    (n,) = break_even(lambda_option(w, "http_api"), sagemaker_instance_option(w, "ml.t3.medium"))
    assert n == pytest.approx(36.50 / 0.0000012833335, **APPROX)


def test_break_even_rest_api_against_m5_large_solved_by_hand() -> None:
    # per request $0.0000002 + $0.0000035 + $0.0000000833335 = $0.0000037833335
    # N = 730 x $0.115 / $0.0000037833335 = $83.95 / $0.0000037833335 = 22,189,426
    w = bare_x86(requests_per_month=2e6, memory_mb=1024, duration_ms=5, cold_start_rate=0.0)
    (n,) = break_even(lambda_option(w, "rest_api"), sagemaker_instance_option(w, "ml.m5.large"))
    assert n == pytest.approx(83.95 / 0.0000037833335, **APPROX)


def test_break_even_across_a_free_tier_kink_solved_by_hand() -> None:
    # Function URL, free tier on, 1 GB, 5 ms, no cold starts:
    #   requests free to 1M, then $0.0000002 each;
    #   GB-s free to 400,000 / 0.005 = 80M requests, then $0.0000000833335 each.
    # At 80M: $0.0000002 x 79M = $15.80 < $36.50 (ml.t3.medium), so the crossing is beyond 80M:
    #   36.50 = 15.80 + $0.0000002833335 x (N - 80M)  ->  N = 80M + 20.70 / 0.0000002833335
    w = bare_x86(
        requests_per_month=1e6, memory_mb=1024, duration_ms=5, cold_start_rate=0.0, include_free_tier=True
    )
    (n,) = break_even(lambda_option(w, "function_url"), sagemaker_instance_option(w, "ml.t3.medium"))
    assert n == pytest.approx(80e6 + 20.70 / 0.0000002833335, **APPROX)


def test_break_even_is_never_when_sagemaker_serverless_is_cheaper_per_request() -> None:
    # 5 ms x 1 GB x $0.00002 = $0.0000001 per request < Lambda's $0.0000002 request fee alone.
    w = bare_x86(requests_per_month=2e6, memory_mb=1024, duration_ms=5, cold_start_rate=0.0)
    report = compare(w, ("function_url",))
    (row,) = [b for b in report.break_evens if b.other_option == "sagemaker serverless"]
    assert row.requests_per_month == ()
    assert row.lambda_cheaper_at_low_volume is False
    assert "never cross" in row.describe()


def test_break_even_is_never_and_lambda_wins_for_long_predictions() -> None:
    # 1 s x 1 GB: Lambda $0.0000002 + $0.0000166667 = $0.0000168667 < serverless $0.00002 per request.
    w = bare_x86(requests_per_month=2e6, memory_mb=1024, duration_ms=1000, cold_start_rate=0.0)
    report = compare(w, ("function_url",))
    (row,) = [b for b in report.break_evens if b.other_option == "sagemaker serverless"]
    assert row.requests_per_month == ()
    assert row.lambda_cheaper_at_low_volume is True


def test_touching_at_a_free_tier_edge_is_not_a_break_even() -> None:
    # With free tiers both Lambda+HTTP API and SageMaker Serverless cost $0 up to 1M requests; past
    # 1M Lambda pays and Serverless (free to 150,000 s / 0.005 s = 30M) does not: no swap at 1M.
    w = bare_x86(
        requests_per_month=2e6, memory_mb=1024, duration_ms=5, cold_start_rate=0.0, include_free_tier=True
    )
    assert break_even(lambda_option(w, "http_api"), sagemaker_serverless_option(w)) == ()


def test_break_even_is_symmetric() -> None:
    w = bare_x86(requests_per_month=2e6, memory_mb=2048, duration_ms=40, include_free_tier=True)
    a, b = lambda_option(w, "rest_api"), sagemaker_instance_option(w, "ml.c5.large")
    assert break_even(a, b) == pytest.approx(break_even(b, a), **APPROX)


def test_identical_options_never_break_even() -> None:
    option = OptionCost("x", "lambda", (LineItem("a", fixed_usd=1.0, usd_per_request=1e-6),))
    assert break_even(option, option) == ()


@settings(max_examples=60, deadline=None)
@given(
    memory_mb=st.integers(128, 10240),
    duration_ms=st.floats(0.5, 5000),
    cold=st.floats(0.0, 0.2),
    free=st.booleans(),
    door=st.sampled_from(FRONT_DOORS),
    instance=st.sampled_from(["ml.t2.medium", "ml.t3.medium", "ml.m5.large", "ml.c5.large"]),
)
def test_at_every_break_even_both_bills_are_equal_and_swap_order(
    memory_mb: int, duration_ms: float, cold: float, free: bool, door: str, instance: str
) -> None:
    w = bare_x86(
        requests_per_month=1e6,
        memory_mb=memory_mb,
        duration_ms=duration_ms,
        cold_start_rate=cold,
        include_free_tier=free,
    )
    lam, sm = lambda_option(w, door), sagemaker_instance_option(w, instance)
    roots = break_even(lam, sm)
    # Lambda has no fixed cost and SageMaker instances no marginal one: exactly one crossing.
    assert len(roots) == 1
    n = roots[0]
    assert lam.monthly_usd(n) == pytest.approx(sm.monthly_usd(n), rel=1e-9)
    assert lam.monthly_usd(n * 0.99) < sm.monthly_usd(n * 0.99)
    assert lam.monthly_usd(n * 1.01) > sm.monthly_usd(n * 1.01)


def test_compare_names_every_option_and_the_cheapest() -> None:
    w = bare_x86(requests_per_month=2e6, memory_mb=1024, duration_ms=5, cold_start_rate=0.0)
    report = compare(w)
    assert [o.name for o in report.options] == [
        "lambda+http_api",
        "lambda+rest_api",
        "lambda+function_url",
        "sagemaker ml.t2.medium",
        "sagemaker ml.t3.medium",
        "sagemaker ml.m5.large",
        "sagemaker ml.c5.large",
        "sagemaker serverless",
        "lambda managed instances m7g.large",
    ]
    # Serverless: 2M x 0.005 s x 1 GB x $0.00002 = $0.20, below Function URL's $0.566667.
    assert report.cheapest == "sagemaker serverless"
    assert report.monthly_usd["sagemaker serverless"] == pytest.approx(0.20, **APPROX)
    assert len(report.break_evens) == 3 * 6


def test_compare_notes_volume_tiers_beyond_300m_requests() -> None:
    w = bare_x86(requests_per_month=400e6, memory_mb=1024, duration_ms=5)
    assert any("300M" in note for note in compare(w, ("http_api",)).notes)


def test_saving_is_the_fraction_of_the_other_bill_avoided() -> None:
    # $2.566667 instead of $36.50 saves 1 - 2.566667 / 36.50 = 92.968%
    assert saving(2.566667, 36.50) == pytest.approx(1 - 2.566667 / 36.50, **APPROX)
    assert saving(2.0, 1.0) == pytest.approx(-1.0, **APPROX)


def test_fails_saving_relative_to_a_free_option() -> None:
    with pytest.raises(ValueError, match="relative to a cost of 0"):
        saving(1.0, 0.0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2000000", 2e6), ("2e6", 2e6), ("2M", 2e6), ("100k", 1e5), ("1.5B", 1.5e9), ("1_000", 1e3)],
)
def test_parse_requests_accepts_suffixes(text: str, expected: float) -> None:
    assert parse_requests(text) == expected


@pytest.mark.parametrize("text", ["lots", "-5", "2X", "", "nan"])
def test_fails_parse_requests_on_bad_volume(text: str) -> None:
    with pytest.raises(ValueError, match="requests per month"):
        parse_requests(text)


def test_format_requests_uses_k_m_b() -> None:
    assert [format_requests(n) for n in (950, 2500, 2e6, 28_441_551, 1.5e9)] == [
        "950",
        "2.5k",
        "2M",
        "28.4M",
        "1.5B",
    ]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"requests_per_month": -1.0}, "requests per month must be a number >= 0, got -1.0"),
        ({"requests_per_month": math.inf}, "requests per month"),
        ({"memory_mb": 64}, "from 128 to 10240 .* got 64"),
        ({"memory_mb": 20000}, "got 20000"),
        ({"duration_ms": 0.0}, "duration must be > 0 ms"),
        ({"architecture": "sparc"}, "architecture must be one of x86_64, arm64, got 'sparc'"),
        ({"cold_start_rate": 1.5}, "cold-start rate .* got 1.5"),
        ({"init_duration_ms": -1.0}, "INIT duration"),
        ({"provisioned_concurrency": -2}, "provisioned concurrency"),
        ({"provisioned_hours": 800.0}, "provisioned hours must be from 0 to 730"),
        ({"snapstart": True, "provisioned_concurrency": 1}, "SnapStart and provisioned concurrency"),
        ({"snapstart_versions": 0}, "SnapStart versions"),
        ({"sagemaker_instances": 0}, "SageMaker instances"),
    ],
)
def test_fails_workload_with_invalid_inputs(overrides: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {
        "requests_per_month": 1e6,
        "memory_mb": 1024,
        "duration_ms": 5.0,
        **overrides,
    }
    with pytest.raises(ValueError, match=message):
        bare_x86(**fields)  # type: ignore[arg-type]


def test_fails_unknown_front_door() -> None:
    w = bare_x86(requests_per_month=1e6, memory_mb=1024, duration_ms=5)
    with pytest.raises(
        ValueError, match="front door must be one of http_api, rest_api, function_url, got 'alb'"
    ):
        lambda_option(w, "alb")


def test_fails_unknown_sagemaker_instance_type() -> None:
    w = bare_x86(requests_per_month=1e6, memory_mb=1024, duration_ms=5)
    with pytest.raises(ValueError, match=r"got 'ml\.p4d\.24xlarge'"):
        sagemaker_instance_option(w, "ml.p4d.24xlarge")


def test_fails_compare_without_front_doors() -> None:
    w = bare_x86(requests_per_month=1e6, memory_mb=1024, duration_ms=5)
    with pytest.raises(ValueError, match="at least one front door"):
        compare(w, ())


def test_readme_cost_table_matches_the_model() -> None:
    # docs/readme/cost.md quotes monthly costs; re-price them so a price change cannot leave it stale.
    doc = (Path(__file__).parents[4] / "docs" / "readme" / "cost.md").read_text()
    columns = [
        "lambda+http_api",
        "lambda+rest_api",
        "lambda+function_url",
        "sagemaker ml.t3.medium",
        "sagemaker ml.t2.medium",
        "sagemaker ml.c5.large",
        "sagemaker ml.m5.large",
        "sagemaker serverless",
    ]
    checked = 0
    for volume in ("100k", "1M", "2M"):
        row = next(line for line in doc.splitlines() if line.startswith(f"| {volume} | $"))
        quoted = [float(cell.strip().lstrip("$")) for cell in row.strip("|").split("|")[1:]]
        w = bare_x86(requests_per_month=parse_requests(volume), memory_mb=1024, duration_ms=5)
        report = compare(w)
        for name, value in zip(columns, quoted, strict=True):
            assert round(report.monthly_usd[name], 2) == value, (volume, name)
            checked += 1
    assert checked == 24
