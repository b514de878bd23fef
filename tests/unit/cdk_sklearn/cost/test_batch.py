"""Batch-job pricing against bills worked out by hand.

Prices written out (cdk_sklearn/cost/prices.py, us-east-1): Step Functions Standard $0.025 per 1,000
transitions; Lambda $0.20/M requests, $0.0000133334/GB-s arm64; S3 $0.0004 per 1,000 GET, $0.005 per
1,000 PUT/LIST; SageMaker ml.t3.medium $0.05/h.
"""

from __future__ import annotations

import pytest

from cdk_sklearn.cost.batch import BatchWorkload, batch_lambda_option, batch_transform_option
from tests.unit.cdk_sklearn.cost.worked import APPROX


def test_batch_run_of_50m_rows_bill_by_hand() -> None:
    # 50M rows x 100 B = 5e9 B / 64 MiB (67,108,864 B) = 74.5 -> 75 work items; 50 environments.
    # Lambda: 50M x 0.02 ms = 1,000 s + 50 x 2 s INIT + 2 s plan/summary = 1,102 s x 2 GB x $0.0000133334
    # Requests 77 x $0.0000002; transitions 4 + 2 x 75 = 154 x $0.000025;
    # S3: 2 x 75 + 3 = 153 GET x $0.0000004, 75 + 4 + 1 = 80 PUT/LIST x $0.000005.
    job = BatchWorkload(rows=50e6, per_row_ms=0.02)
    expected = 1102 * 2 * 0.0000133334 + 77 * 0.0000002 + 154 * 0.000025 + 153 * 0.0000004 + 80 * 0.000005
    assert batch_lambda_option(job).monthly_usd(0) == pytest.approx(expected, **APPROX)


def test_batch_transform_bills_cpu_seconds_over_vcpus_and_provisioning() -> None:
    # 1,000 vCPU-s / 2 vCPU = 500 s, + 5 min = 300 s; 800 s x $0.05 / 3600
    job = BatchWorkload(rows=50e6, per_row_ms=0.02)
    assert batch_transform_option(job, "ml.t3.medium").monthly_usd(0) == pytest.approx(
        800 * 0.05 / 3600, **APPROX
    )


def test_small_job_is_cheaper_on_lambda_than_batch_transform_start_up() -> None:
    # 1M rows: Lambda 2 work items, 20 s + 2 x 2 s + 2 s = 26 s x 2 GB x $0.0000133334 = $0.000693;
    # Batch Transform: 10 s + 300 s provisioning = 310 s x $0.05/3600 = $0.004306.
    job = BatchWorkload(rows=1e6, per_row_ms=0.02)
    assert batch_lambda_option(job).monthly_usd(0) < batch_transform_option(job, "ml.t3.medium").monthly_usd(
        0
    )


def test_fails_on_rows_of_zero() -> None:
    with pytest.raises(ValueError, match="rows must be > 0"):
        BatchWorkload(rows=0, per_row_ms=0.02)
