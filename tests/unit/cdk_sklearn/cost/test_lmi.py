"""Lambda Managed Instances against bills worked out by hand.

Prices written out (cdk_sklearn/cost/prices.py, us-east-1): LMI $0.20/M requests, m7g.large $0.0816/h and
m7g.xlarge $0.1632/h, + 15% management fee; VPC interface endpoint $0.01/h per AZ, NAT gateway $0.045/h;
CloudWatch Logs $0.50/GB ingested; HTTP API $1.00/M; an alarm metric $0.10 a month.
"""

from __future__ import annotations

import pytest

from cdk_sklearn.cost.lmi import Capacity, UnpricedError, lmi_ceiling, lmi_floor, lmi_option
from tests.unit.cdk_sklearn.cost.worked import APPROX, bare

M7G_LARGE_MONTH = 0.0816 * 1.15 * 730  # $68.5032: EC2 on-demand + the 15% management fee, 730 h
LOGS_ENDPOINT_3_AZ = 3 * 0.01 * 730  # $21.90: one interface endpoint in 3 zones


def capacity(**fields: object) -> Capacity:
    """A configuration without flow logs (their estimate has a test of its own)."""
    return Capacity(**{"memory_mb": 4096, "flow_logs": False, **fields})  # type: ignore[arg-type]


# --- lmi_floor: what a configuration costs before its first request --------------------------------


def test_floor_of_three_environments_is_three_instances_and_the_logs_endpoint() -> None:
    # 3 x $68.5032 = $205.5096; one interface endpoint in 3 zones $21.90
    floor = lmi_floor(capacity())
    assert (floor.instance_type, floor.instances) == ("m7g.large", 3)
    assert floor.total_usd == pytest.approx(205.5096 + 21.90, **APPROX)


def test_floor_packs_environments_that_share_an_instance() -> None:
    # 8 environments of 1 vCPU and 4 GiB: two fit an m7g.large (2 vCPU, 8 GiB), so 4 instances.
    floor = lmi_floor(capacity(min_environments=8, interface_endpoints=0))
    assert floor.instances == 4
    assert floor.total_usd == pytest.approx(4 * M7G_LARGE_MONTH, **APPROX)


def test_floor_takes_the_larger_type_when_an_environment_needs_it() -> None:
    # 12 GiB at 4 GiB per vCPU: 3 vCPUs, more than an m7g.large has; an m7g.xlarge ($0.1632/h) holds one.
    floor = lmi_floor(capacity(memory_mb=12288, interface_endpoints=0))
    assert (floor.instance_type, floor.instances) == ("m7g.xlarge", 3)
    assert floor.total_usd == pytest.approx(3 * 0.1632 * 1.15 * 730, **APPROX)


def test_floor_prices_the_cheapest_of_the_allowed_types() -> None:
    # 3 environments of 1 vCPU: 3 x m7g.large ($0.2448/h) against 3 x m7g.xlarge ($0.4896/h).
    floor = lmi_floor(capacity(instance_types=("m7g.xlarge", "m7g.large"), interface_endpoints=0))
    assert floor.instance_type == "m7g.large"


def test_floor_of_a_nat_gateway_replaces_the_endpoints() -> None:
    # $0.045/h x 730 h = $32.85
    floor = lmi_floor(capacity(interface_endpoints=0, nat_gateways=1))
    assert floor.network_usd == pytest.approx(32.85, **APPROX)


def test_floor_bills_the_endpoints_in_each_zone_of_the_vpc() -> None:
    # Logs and X-Ray endpoints in 2 zones: 2 x 2 x $0.01 x 730 h = $29.20
    floor = lmi_floor(capacity(interface_endpoints=2, availability_zones=2))
    assert floor.network_usd == pytest.approx(29.20, **APPROX)


def test_floor_counts_flow_logs_of_every_interface() -> None:
    # 3 instances + 1 endpoint x 3 zones = 6 interfaces, 10 flows each per 600-s window (6 an hour,
    # 4,380 a month), 130 bytes a record: 34,164,000 bytes = 0.0318178 GB x $0.50
    floor = lmi_floor(capacity(flow_logs=True))
    flow_logs = 6 * 10 * 730 * 6 * 130 / 1024**3 * 0.50
    assert floor.network_usd == pytest.approx(21.90 + flow_logs, **APPROX)


def test_floor_describes_itself_in_one_line() -> None:
    assert lmi_floor(capacity()).describe() == "floor ~$227/month (3 x m7g.large, EC2 + 15% fee; VPC $22)"


def test_fails_to_price_an_architecture_the_table_has_no_instance_of() -> None:
    with pytest.raises(UnpricedError, match="no price for an x86_64 instance type"):
        lmi_floor(capacity(architecture="x86_64"))


def test_fails_to_price_instance_types_the_table_does_not_hold() -> None:
    with pytest.raises(UnpricedError, match=r"no price for c7g\.large holding a 4096 MB environment"):
        lmi_floor(capacity(instance_types=("c7g.large",)))


def test_fails_to_price_an_environment_no_priced_type_holds() -> None:
    # 32 GiB at 2 GiB per vCPU: 16 vCPUs, more than an m7g.xlarge's 4.
    with pytest.raises(UnpricedError, match="32768 MB environment"):
        lmi_floor(capacity(memory_mb=32768, memory_gib_per_vcpu=2.0))


# --- Capacity: the construct's rules, for what-if questions ------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"memory_mb": 2048}, "from 4096 to 32768 MB at 4 GiB per vCPU .*pass --memory-mb 4096, or --memory"),
        ({"memory_mb": 40960}, "from 4096 to 32768 MB"),
        ({"min_environments": 4, "max_environments": 3}, "at least min_environments \\(4\\), got 3"),
        ({"min_environments": 0}, "min_environments must be a whole number >= 1"),
    ],
)
def test_fails_on_a_configuration_the_construct_refuses(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        capacity(**fields)


# --- lmi_option: the floor, then what traffic adds -------------------------------------------------


def test_below_its_floor_it_bills_the_floor_requests_and_the_front_door() -> None:
    # floor $205.5096 + $21.90; 10,000,000 x $0.20/1M = $2.00 requests; HTTP API 10M x $1.00/1M = $10.00
    w = bare(requests_per_month=10e6, memory_mb=2048, duration_ms=10)
    option = lmi_option(w, capacity(memory_mb=2048, memory_gib_per_vcpu=2.0), "http_api")
    assert option.name == "managed instances+http_api"
    assert option.monthly_usd(10e6) == pytest.approx(205.5096 + 21.90 + 2.00 + 10.00, **APPROX)


def test_above_its_floor_it_buys_environments_at_70_percent_cpu() -> None:
    # Environments of 1 vCPU (2 GiB at 2:1), two per m7g.large: the floor's 3 instances hold 6, serving
    # 6 x 3600 s x 0.7 x 730 h / 0.010 s = 1,103,760,000 requests. Beyond: each request takes 0.010 s of
    # an environment's 2,520 CPU-s an hour, at half an instance-hour's $0.09384.
    w = bare(requests_per_month=2e9, memory_mb=2048, duration_ms=10)
    option = lmi_option(w, capacity(memory_mb=2048, memory_gib_per_vcpu=2.0), "function_url")
    beyond = (2e9 - 1_103_760_000) * 0.010 / 2520 * (0.0816 * 1.15 / 2)
    expected = 205.5096 + 21.90 + beyond + 2e9 * 0.20 / 1e6
    assert option.monthly_usd(2e9) == pytest.approx(expected, **APPROX)


def test_on_managed_instances_the_capacity_alarm_is_counted() -> None:
    # The construct's 5 alarm metrics + the capacity provider's CPU alarm: 6 x $0.10
    w = bare(requests_per_month=0, memory_mb=4096, duration_ms=10, monitoring=True)
    items = lmi_option(w, capacity(), "http_api").breakdown(0)
    assert items["CloudWatch alarms (6 alarm metrics)"] == pytest.approx(0.60, **APPROX)


def test_the_option_says_what_is_always_on() -> None:
    w = bare(requests_per_month=0, memory_mb=4096, duration_ms=10)
    assert lmi_option(w, capacity(), "http_api").detail == "3 x m7g.large always on"


# --- lmi_ceiling: what the scaling bounds serve ----------------------------------------------------


def test_max_environments_caps_the_requests_served() -> None:
    # 12 environments x 1 vCPU x 3600 s x 0.7 x 730 h / 0.010 s = 2,207,520,000
    assert lmi_ceiling(capacity(max_environments=12), 10) == pytest.approx(2_207_520_000, **APPROX)


def test_max_vcpus_caps_the_requests_served() -> None:
    # 12 vCPUs = 6 m7g.large; environments of 2 vCPU (8 GiB at 4:1) one each: 6 x 2 x 3600 x 0.7 x 730 / 0.01
    ceiling = lmi_ceiling(capacity(memory_mb=8192, max_vcpus=12), 10)
    assert ceiling == pytest.approx(6 * 2 * 3600 * 0.7 * 730 / 0.010, **APPROX)


def test_no_bound_no_ceiling() -> None:
    assert lmi_ceiling(capacity(), 10) is None
