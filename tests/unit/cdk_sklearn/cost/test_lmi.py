"""Lambda Managed Instances against bills worked out by hand.

Prices written out (cdk_sklearn/cost/prices.py, us-east-1): LMI $0.20/M requests, m7g.large $0.0816/h
+ 15%; VPC interface endpoint $0.01/h per AZ, NAT gateway $0.045/h.
"""

from __future__ import annotations

import pytest

from cdk_sklearn.cost.lmi import UnpricedError, lmi_floor, lmi_option
from tests.unit.cdk_sklearn.cost.worked import APPROX, bare


def test_lmi_below_its_floor_bills_three_instances_endpoints_and_requests() -> None:
    # 3 x $0.0816/h x 1.15 x 730 h = $205.5096; endpoints 3 x $0.01 x 730 = $21.90;
    # 10,000,000 x $0.20/1M = $2.00
    w = bare(requests_per_month=10e6, memory_mb=2048, duration_ms=10)
    assert lmi_option(w).monthly_usd(10e6) == pytest.approx(205.5096 + 21.90 + 2.00, **APPROX)


def test_lmi_above_its_floor_buys_cpu_seconds_at_70_percent() -> None:
    # Floor: 3 instances x 2 vCPU x 3600 s x 730 h x 0.7 = 11,037,600 CPU-s / 0.010 s = 1,103,760,000 req.
    # Beyond: (2e9 - 1,103,760,000) x 0.010 s / (2 x 3600 x 0.7) x $0.0816 x 1.15 = $166.8718...
    w = bare(requests_per_month=2e9, memory_mb=2048, duration_ms=10)
    beyond = (2e9 - 1_103_760_000) * 0.010 / (2 * 3600 * 0.7) * 0.0816 * 1.15
    expected = 205.5096 + beyond + 21.90 + 2e9 * 0.20 / 1e6
    assert lmi_option(w).monthly_usd(2e9) == pytest.approx(expected, **APPROX)


def test_lmi_with_a_nat_gateway_bills_it_all_month() -> None:
    # $0.045/h x 730 h = $32.85 instead of the endpoints' $21.90
    w = bare(requests_per_month=0, memory_mb=2048, duration_ms=10, lmi_vpc="nat")
    assert lmi_option(w).monthly_usd(0) == pytest.approx(205.5096 + 32.85, **APPROX)


def test_fails_on_an_unknown_lmi_instance_type() -> None:
    with pytest.raises(ValueError, match="LMI instance type"):
        bare(requests_per_month=1, memory_mb=2048, duration_ms=1, lmi_instance_type="t2.micro")


# --- lmi_floor: what a configuration costs before its first request --------------------------------

M7G_LARGE_MONTH = 0.0816 * 1.15 * 730  # $68.5032: EC2 on-demand + the 15% management fee, 730 h


def test_floor_of_three_environments_is_three_instances_and_the_logs_endpoint() -> None:
    # 3 x $68.5032 = $205.5096; one interface endpoint in 3 zones: 3 x $0.01 x 730 = $21.90
    floor = lmi_floor(min_environments=3, memory_mb=4096, memory_gib_per_vcpu=4.0, architecture="arm64")
    assert (floor.instance_type, floor.instances) == ("m7g.large", 3)
    assert floor.total_usd == pytest.approx(205.5096 + 21.90, **APPROX)


def test_floor_packs_environments_that_share_an_instance() -> None:
    # 8 environments of 1 vCPU and 4 GiB: two fit an m7g.large (2 vCPU, 8 GiB), so 4 instances.
    floor = lmi_floor(
        min_environments=8,
        memory_mb=4096,
        memory_gib_per_vcpu=4.0,
        architecture="arm64",
        interface_endpoints=0,
    )
    assert floor.instances == 4
    assert floor.total_usd == pytest.approx(4 * M7G_LARGE_MONTH, **APPROX)


def test_floor_takes_the_larger_type_when_an_environment_needs_it() -> None:
    # 12 GiB at 4 GiB per vCPU: 3 vCPUs, more than an m7g.large has; an m7g.xlarge ($0.1632/h) holds one.
    floor = lmi_floor(
        min_environments=3,
        memory_mb=12288,
        memory_gib_per_vcpu=4.0,
        architecture="arm64",
        interface_endpoints=0,
    )
    assert (floor.instance_type, floor.instances) == ("m7g.xlarge", 3)
    assert floor.total_usd == pytest.approx(3 * 0.1632 * 1.15 * 730, **APPROX)


def test_floor_of_a_nat_gateway_replaces_the_endpoints() -> None:
    # $0.045/h x 730 h = $32.85
    floor = lmi_floor(
        min_environments=3,
        memory_mb=4096,
        memory_gib_per_vcpu=4.0,
        architecture="arm64",
        interface_endpoints=0,
        nat_gateways=1,
    )
    assert floor.network_usd == pytest.approx(32.85, **APPROX)


def test_floor_describes_itself_in_one_line() -> None:
    floor = lmi_floor(min_environments=3, memory_mb=4096, memory_gib_per_vcpu=4.0, architecture="arm64")
    assert floor.describe() == "floor ~$227/month (3 x m7g.large, EC2 + 15% fee; VPC $22)"


def test_fails_to_price_an_architecture_the_table_has_no_instance_of() -> None:
    with pytest.raises(UnpricedError, match="no price for an x86_64 instance type"):
        lmi_floor(min_environments=3, memory_mb=4096, memory_gib_per_vcpu=4.0, architecture="x86_64")


def test_fails_to_price_an_environment_no_priced_type_holds() -> None:
    with pytest.raises(UnpricedError, match="32768 MB environment"):
        lmi_floor(min_environments=3, memory_mb=32768, memory_gib_per_vcpu=2.0, architecture="arm64")
