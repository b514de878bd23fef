"""The summary's caveats: every alternative's price comes with what it leaves out (issue 23, friction 10)."""

from __future__ import annotations

import pytest

from cdk_sklearn.cost.compare import all_options, compare
from cdk_sklearn.cost.lmi import Capacity
from cdk_sklearn.cost.summary import Endpoint, caveat, caveat_details, summary_lines
from tests.unit.cdk_sklearn.cost.worked import bare_x86


@pytest.mark.parametrize("kind", ["sagemaker", "sagemaker-serverless", "lambda-managed-instances"])
def test_every_alternative_to_lambda_has_a_caveat(kind: str) -> None:
    workload = bare_x86(requests_per_month=1e6, memory_mb=1024, duration_ms=5.0)
    options = [o for o in all_options(workload) if o.kind == kind]
    assert options and all(caveat(o, workload) for o in options)


def test_the_constructs_own_front_door_has_no_caveat() -> None:
    workload = bare_x86(requests_per_month=1e6, memory_mb=1024, duration_ms=5.0)
    (http_api,) = (o for o in all_options(workload) if o.name == "lambda+http_api")
    assert caveat(http_api, workload) == ""


def test_serverless_details_price_the_https_front_it_lacks() -> None:
    workload = bare_x86(requests_per_month=1e6, memory_mb=1024, duration_ms=5.0)
    (serverless,) = (o for o in all_options(workload) if o.kind == "sagemaker-serverless")
    # API Gateway HTTP API list price: $1.00 per million requests
    assert "an HTTP API in front adds $1.00 per million requests" in caveat_details(serverless, workload)


def test_lmi_caveat_counts_the_instances_always_on() -> None:
    # 4 environments of 1 vCPU: two per m7g.large, but one instance per zone for the first three: 3.
    workload = bare_x86(requests_per_month=1e6, memory_mb=4096, duration_ms=5.0)
    options = all_options(workload, ("http_api",), Capacity(memory_mb=4096, min_environments=4))
    (lmi,) = (o for o in options if o.kind == "lambda-managed-instances")
    assert caveat(lmi, workload) == "python3.13+, >= 2048 MB, in a VPC, 3 x m7g.large always on"


def test_a_repeated_alternative_says_as_above() -> None:
    reports = [
        compare(bare_x86(requests_per_month=n, memory_mb=1024, duration_ms=5.0), ("http_api",))
        for n in (1e6, 2e6)
    ]
    lines = summary_lines(reports, Endpoint("lambda+http_api", "a test", duration_assumed=False))
    assert lines[3].endswith("its CloudWatch not counted)") and lines[4].endswith("(as above)")
