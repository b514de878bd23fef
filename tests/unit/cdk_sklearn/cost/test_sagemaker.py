"""The SageMaker bills against worked examples computed by hand.

Prices used (us-east-1, cdk_sklearn/cost/prices.py): SageMaker ml.t3.medium $0.05/h, ml.m5.large $0.115/h;
SageMaker Serverless $0.00002/GB-s.
"""

from __future__ import annotations

import pytest

from cdk_sklearn.cost.sagemaker import sagemaker_instance_option, sagemaker_serverless_option
from tests.unit.cdk_sklearn.cost.worked import APPROX, bare_x86


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


def test_fails_unknown_sagemaker_instance_type() -> None:
    w = bare_x86(requests_per_month=1e6, memory_mb=1024, duration_ms=5)
    with pytest.raises(ValueError, match=r"got 'ml\.p4d\.24xlarge'"):
        sagemaker_instance_option(w, "ml.p4d.24xlarge")
