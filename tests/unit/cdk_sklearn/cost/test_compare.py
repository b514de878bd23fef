"""Comparisons and break-even volumes against solutions worked out by hand.

Prices used (us-east-1, cdk_sklearn/cost/prices.py): Lambda $0.20/M requests, $0.0000166667/GB-s x86_64;
HTTP API $1.00/M, REST API $3.50/M, Function URL free; SageMaker ml.t3.medium $0.05/h, ml.m5.large
$0.115/h; SageMaker Serverless $0.00002/GB-s.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdk_sklearn.cost.bill import LineItem, OptionCost
from cdk_sklearn.cost.compare import break_even, compare, saving
from cdk_sklearn.cost.lambda_bill import lambda_option
from cdk_sklearn.cost.sagemaker import sagemaker_instance_option, sagemaker_serverless_option
from cdk_sklearn.cost.workload import FRONT_DOORS, parse_requests
from tests.unit.cdk_sklearn.cost.worked import APPROX, bare_x86


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
        "managed instances+http_api",
    ]
    # Serverless: 2M x 0.005 s x 1 GB x $0.00002 = $0.20, below Function URL's $0.566667.
    assert report.cheapest == "sagemaker serverless"
    assert report.monthly_usd["sagemaker serverless"] == pytest.approx(0.20, **APPROX)
    # Each Lambda option against the 5 SageMaker options; managed instances only behind the same door.
    assert len(report.break_evens) == 3 * 5 + 1


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


def test_managed_instances_are_compared_behind_the_same_front_door_only() -> None:
    w = bare_x86(requests_per_month=2e6, memory_mb=1024, duration_ms=5)
    pairs = [(b.lambda_option, b.other_option) for b in compare(w, ("rest_api", "http_api")).break_evens]
    assert [p for p in pairs if p[1].startswith("managed")] == [
        ("lambda+rest_api", "managed instances+rest_api")
    ]
