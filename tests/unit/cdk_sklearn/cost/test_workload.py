"""The workload's validation, and request volumes as people write them."""

from __future__ import annotations

import math

import pytest

from cdk_sklearn.cost.workload import format_requests, parse_requests
from tests.unit.cdk_sklearn.cost.worked import bare_x86


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
