"""``cdk-sklearn cost`` on Lambda Managed Instances: an environment's configuration priced as the construct
deploys it (the synth line's floor), flags over it, and "what if" for an on-demand environment (issue 24).

Figures are worked out here from the price table's list prices: m7g.large $0.0816/h + 15% fee, an
interface endpoint $0.01/h per zone, CloudWatch Logs $0.50/GB, LMI requests $0.20/M, HTTP API $1.00/M,
Lambda arm64 $0.0000133334 per GB-s."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cdk_sklearn.cli import main

BARE = [
    "--duration-ms",
    "10",
    "--cold-start-rate",
    "0",
    "--custom-metrics",
    "0",
    "--log-bytes-per-request",
    "0",
]
INSTANCES = 3 * 0.0816 * 1.15 * 730  # $205.5096: 3 x m7g.large, EC2 + 15% fee, 730 h
ENDPOINT_2_AZ = 2 * 0.01 * 730  # $14.60: the Logs endpoint in the 2 zones of an environment-agnostic stack
FLOW_LOGS = 5 * 10 * 730 * 6 * 130 / 1024**3 * 0.50  # 5 interfaces, 10 flows per 600-s window, 130 B each


@pytest.fixture(scope="module")
def app_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.helpers import models

    folder = tmp_path_factory.mktemp("app")
    (folder / "models").mkdir()
    models.save(models.logistic(), folder / "models" / "m.joblib")
    model = {"model_path": "models/m.joblib", "monitoring": False}
    environments = {
        "mi": {
            **model,
            "compute": "managed_instances",
            "memory_size": 4096,
            "managed_instances": {"max_environments": 12, "instance_types": ["m7g.large", "m7g.xlarge"]},
        },
        "mi-x86": {
            **model,
            "compute": "managed_instances",
            "memory_size": 4096,
            "architecture": "x86_64",
            "managed_instances": {},
        },
        "od": {**model, "memory_size": 2048, "architecture": "x86_64"},
    }
    (folder / "cdk.json").write_text(
        json.dumps({"app": "python app.py", "context": {"environments": environments}})
    )
    return folder


def _run(capsys: pytest.CaptureFixture[str], folder: Path, *argv: str) -> tuple[int, str, str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        code = main(["cost", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _json(capsys: pytest.CaptureFixture[str], folder: Path, *argv: str) -> dict:
    code, out, err = _run(capsys, folder, "--requests-per-month", "1M", "--json", *BARE, *argv)
    assert code == 0, err
    return json.loads(out)


def test_env_on_managed_instances_prices_its_floor_requests_and_front_door(
    app_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # floor $205.5096 + $14.60 + flow logs $0.0133; 1M requests x $0.20/M; HTTP API 1M x $1.00/M
    doc = _json(capsys, app_folder, "--env", "mi")
    assert doc["this_endpoint"]["option"] == "managed instances+http_api"
    assert doc["this_endpoint"]["compute"] == "managed_instances"
    costs = {o["name"]: o["monthly_cost_usd"] for o in doc["options"]}
    expected = INSTANCES + ENDPOINT_2_AZ + FLOW_LOGS + 0.20 + 1.00
    assert costs["managed instances+http_api"] == pytest.approx(expected, rel=1e-9)


def test_env_on_managed_instances_reads_its_section_through_the_props(
    app_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capacity = _json(capsys, app_folder, "--env", "mi")["this_endpoint"]["managed_instances"]
    assert capacity["memory_mb"] == 4096
    assert capacity["max_environments"] == 12
    assert capacity["instance_types"] == ["m7g.large", "m7g.xlarge"]
    assert (capacity["interface_endpoints"], capacity["availability_zones"]) == (1, 2)


def test_summary_of_an_env_on_managed_instances_gives_the_on_demand_break_even(
    app_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Floor $220.1229 a month; per million requests $1.20 against on-demand Lambda's $0.20 +
    # 4 GB x 0.010 s x $13.3334 + $1.00 = $1.733336: on demand costs less below $220.1229 / $0.533336/M
    # = 413M. 12 environments of 1 vCPU serve 12 x 3600 x 0.7 x 730 / 0.010 s = 2.21 billion at most.
    code, out, _ = _run(capsys, app_folder, "--env", "mi", *BARE)
    lines = out.splitlines()
    assert code == 0
    assert lines[0].startswith(
        "This endpoint (cdk.json environment mi): Lambda Managed Instances 4096 MB arm64, 4 GiB/vCPU, "
        "3 environments at least (3 x m7g.large always on) + HTTP API"
    )
    assert "  on-demand lambda+http_api costs less below 413M requests/month" in lines
    assert any("serve at most 2.21B requests/month at 70% CPU" in line for line in lines)


def test_flags_override_the_environments_managed_instances(
    app_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 8 environments of 1 vCPU, two per m7g.large: 4 instances, 4 x $68.5032
    doc = _json(capsys, app_folder, "--env", "mi", "--min-environments", "8")
    (option,) = (o for o in doc["options"] if o["name"] == "managed instances+http_api")
    items = {i["name"]: i["usd"] for i in option["line_items"]}
    assert items["LMI floor: 4 x m7g.large (EC2 + 15% fee), 730 h"] == pytest.approx(4 * 68.5032, rel=1e-9)
    assert doc["this_endpoint"]["source"] == "cdk.json environment mi, with the flags given"


def test_compute_flag_answers_what_if_for_an_on_demand_env(
    app_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = _json(
        capsys,
        app_folder,
        "--env",
        "od",
        "--compute",
        "managed_instances",
        "--architecture",
        "arm64",
        "--memory-gib-per-vcpu",
        "2",
    )
    assert doc["this_endpoint"]["option"] == "managed instances+http_api"
    assert doc["this_endpoint"]["managed_instances"]["memory_mb"] == 2048


def test_fails_with_exit_2_on_what_if_memory_managed_instances_cannot_run(
    app_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, app_folder, "--env", "od", "--compute", "managed_instances")
    assert code == 2
    assert "from 4096 to 32768 MB at 4 GiB per vCPU" in err
    assert "pass --memory-mb 4096, or --memory-gib-per-vcpu 2" in err


def test_fails_with_exit_2_on_an_env_the_price_table_has_no_instance_for(
    app_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, app_folder, "--env", "mi-x86")
    assert code == 2
    assert "Lambda Managed Instances not priced: no price for an x86_64 instance type" in err


def test_compute_flag_without_env_prices_the_least_memory_managed_instances_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # The construct's default memory, 1,024 MB, is below managed instances' 4,096 at 4 GiB per vCPU.
    doc = _json(capsys, tmp_path, "--compute", "managed_instances")
    assert doc["this_endpoint"]["managed_instances"]["memory_mb"] == 4096


def test_memory_above_10240_prices_on_demand_at_its_largest(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = _run(capsys, tmp_path, "--compute", "managed_instances", "--memory-mb", "16384", *BARE)
    assert code == 0
    assert "(on-demand Lambda priced at its largest, 10240 MB)" in out.splitlines()[0]


def test_an_on_demand_endpoint_prices_managed_instances_with_the_flags_given(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # The alternative on m7g.xlarge only: 3 x $0.1632/h x 1.15 x 730 h
    doc = _json(capsys, tmp_path, "--instance-type", "m7g.xlarge", "--memory-mb", "4096")
    assert doc["this_endpoint"]["option"] == "lambda+http_api"
    (option,) = (o for o in doc["options"] if o["name"] == "managed instances+http_api")
    items = {i["name"]: i["usd"] for i in option["line_items"]}
    assert items["LMI floor: 3 x m7g.xlarge (EC2 + 15% fee), 730 h"] == pytest.approx(
        3 * 0.1632 * 1.15 * 730, rel=1e-9
    )
