"""Workloads of the worked examples: the bare function, without the CloudWatch side the construct adds."""

from __future__ import annotations

from cdk_sklearn.cost.workload import Workload

APPROX = {"rel": 1e-9}


def bare_x86(**fields: object) -> Workload:
    """The bare function on x86_64, as the worked examples price it: no alarms, dashboard, metrics or
    logs (the construct's default monitoring and arm64 have tests of their own in test_cloudwatch.py)."""
    return Workload(
        **{
            "architecture": "x86_64",
            "monitoring": False,
            "log_bytes_per_request": 0,
            "custom_metrics": 0,
            **fields,
        }
    )  # type: ignore[arg-type]


def bare(**fields: object) -> Workload:
    """The bare function on the default architecture (arm64)."""
    return Workload(
        **{"monitoring": False, "log_bytes_per_request": 0, "custom_metrics": 0, **fields}  # type: ignore[arg-type]
    )
